//! The v2 `downloadbill` file (payments.md §6): a header row, detail rows whose every field starts
//! with a backtick, then a summary header and a summary row. Amounts are yuan. Columns are found
//! by name, so a column added by WeChat does not shift what we read.

use crate::beijing;
use crate::statement::{StatementError, StatementKind, StatementRow};
use kiosk_core::Fen;

/// The columns of a `bill_type=ALL` file, in WeChat's order.
pub const COLUMNS: &[&str] = &[
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];

/// First cell of the summary header: the detail rows end here.
pub const SUMMARY_HEADER: &str = "总交易单数";

const CHANNEL: &str = "wechat";

fn malformed(line: usize, detail: impl Into<String>) -> StatementError {
    StatementError::Malformed { channel: CHANNEL, line, detail: detail.into() }
}

/// Parses a downloadbill file into statement rows.
pub fn parse(text: &str) -> Result<Vec<StatementRow>, StatementError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let header: Vec<&str> = header.trim_start_matches('\u{feff}').split(',').map(str::trim).collect();
    let column = |name: &str| {
        header.iter().position(|h| *h == name).ok_or_else(|| malformed(1, format!("no column {name}")))
    };
    let time = column("交易时间")?;
    let txn = column("微信订单号")?;
    let order = column("商户订单号")?;
    let state = column("交易状态")?;
    let total = column("订单金额").or_else(|_| column("应结订单金额"))?;
    let refund_no = column("商户退款单号")?;
    let refund_amount = column("退款金额")?;
    let refund_id = column("微信退款单号")?;

    let mut rows = Vec::new();
    for (index, line) in lines {
        let number = index + 1;
        if line.starts_with(SUMMARY_HEADER) {
            break;
        }
        let cells: Vec<&str> = line.split(',').map(|c| c.trim().trim_start_matches('`')).collect();
        if cells.len() != header.len() {
            return Err(malformed(number, format!("{} cells, header has {}", cells.len(), header.len())));
        }
        let yuan = |i: usize| Fen::parse_yuan(cells[i]).map_err(|e| malformed(number, e.to_string()));
        let (kind, amount, refund) = match cells[state] {
            "SUCCESS" => (StatementKind::Payment, yuan(total)?, None),
            "REFUND" => (StatementKind::Refund, yuan(refund_amount)?, Some(cells[refund_no].to_string())),
            "REVOKED" => (StatementKind::Reversed, yuan(total)?, None),
            other => return Err(malformed(number, format!("unknown 交易状态 {other:?}"))),
        };
        // A refund row's own id is its 微信退款单号.
        let channel_txn = match (&kind, cells[refund_id]) {
            (StatementKind::Refund, id) if !id.is_empty() => id,
            _ => cells[txn],
        };
        let time = beijing::parse_local(cells[time])
            .ok_or_else(|| malformed(number, format!("bad 交易时间 {:?}", cells[time])))?;
        rows.push(StatementRow {
            out_trade_no: cells[order].to_string(),
            channel_txn: channel_txn.to_string(),
            amount,
            kind,
            refund_no: refund,
            time,
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
            text in prop_oneof![any::<String>(), "([`a-zA-Z0-9,.:\\- ]{0,40}\n){0,6}"]
        ) {
            let _ = super::parse(&text);
        }
    }
}
