//! The Alipay trade bill (payments.md §6), as the simulator serves it at `bill_download_url`:
//! UTF-8 CSV, `#` comment lines around a header row and detail rows; amounts in yuan, refunds
//! negative. (The real file is a GBK CSV inside a zip; unpacking it belongs before this parser.)

use crate::beijing;
use crate::statement::{StatementError, StatementKind, StatementRow};
use kiosk_core::Fen;

/// Columns the simulator writes, named as in Alipay's file.
pub const COLUMNS: &[&str] = &[
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "终端号",
    "订单金额（元）",
    "商家实收（元）",
    "退款批次号/请求号",
    "备注",
];

const CHANNEL: &str = "alipay";

fn malformed(line: usize, detail: impl Into<String>) -> StatementError {
    StatementError::Malformed { channel: CHANNEL, line, detail: detail.into() }
}

/// Parses the bill CSV into statement rows. A `退款` row without a refund number is the refund
/// of a cancelled (reversed) payment.
pub fn parse(text: &str) -> Result<Vec<StatementRow>, StatementError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}').trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((header_line, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let header: Vec<&str> = header.split(',').map(str::trim).collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| malformed(header_line, format!("no column {name}")))
    };
    let txn = column("支付宝交易号")?;
    let order = column("商户订单号")?;
    let kind = column("业务类型")?;
    let time = column("完成时间")?;
    let amount = column("订单金额（元）")?;
    let refund_no = column("退款批次号/请求号")?;

    let mut rows = Vec::new();
    for (number, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != header.len() {
            return Err(malformed(number, format!("{} cells, header has {}", cells.len(), header.len())));
        }
        let yuan = Fen::parse_yuan(cells[amount].trim_start_matches('-'))
            .map_err(|e| malformed(number, e.to_string()))?;
        let refund = (!cells[refund_no].is_empty()).then(|| cells[refund_no].to_string());
        let row_kind = match (cells[kind], &refund) {
            ("交易", _) => StatementKind::Payment,
            ("退款", Some(_)) => StatementKind::Refund,
            ("退款", None) => StatementKind::Reversed,
            (other, _) => return Err(malformed(number, format!("unknown 业务类型 {other:?}"))),
        };
        let at = beijing::parse_local(cells[time])
            .ok_or_else(|| malformed(number, format!("bad 完成时间 {:?}", cells[time])))?;
        rows.push(StatementRow {
            out_trade_no: cells[order].to_string(),
            channel_txn: cells[txn].to_string(),
            amount: yuan,
            kind: row_kind,
            refund_no: refund,
            time: at,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3_000, ..ProptestConfig::default() })]

        #[test]
        fn parsing_arbitrary_statements_never_panics(
            text in prop_oneof![any::<String>(), "(#?[a-zA-Z0-9,.:\\- ]{0,40}\n){0,6}"]
        ) {
            let _ = super::parse(&text);
        }
    }
}
