//! The v2 `downloadbill` file (payments.md §6): a header row, detail rows whose every field starts
//! with a backtick, then a summary header and a summary row. Amounts are yuan. Columns are found
//! by name, so a column added by WeChat does not shift what we read. The summary row must agree
//! with the detail rows (their count, and the sums of 应结订单金额 and 退款金额): a file cut short
//! is an error, never a shorter day.

use crate::beijing;
use crate::statement::{StatementError, StatementKind, StatementRow};
use kiosk_core::{money::MilliFen, Fen};

/// The columns of a `bill_type=ALL` file, in WeChat's order (the simulator writes them; the
/// parser reads columns by position).
#[cfg(feature = "sim")]
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

/// Parses a downloadbill file as received: gzip'd (`tar_type=GZIP`) or plain UTF-8 text;
/// empty for a day without trades.
pub fn parse_file(bytes: &[u8]) -> Result<Vec<StatementRow>, StatementError> {
    let unpacked;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        unpacked = gunzip(bytes)?;
        unpacked.as_slice()
    } else {
        bytes
    };
    let text = std::str::from_utf8(bytes).map_err(|_| malformed(1, "the bill is not UTF-8"))?;
    parse(text)
}

/// A gzip'd bill unpacked, bounded: a file cut short is an error, never a shorter day.
fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, StatementError> {
    use std::io::Read;
    let archive = |detail: String| StatementError::Archive { channel: CHANNEL, detail };
    let limit = crate::transport::MAX_STATEMENT_BYTES;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| archive(format!("the gzip'd bill does not unpack: {e}")))?;
    if out.len() > limit {
        return Err(archive("the bill is larger than any day's bill can be".into()));
    }
    Ok(out)
}

/// Parses a downloadbill file into statement rows.
pub fn parse(text: &str) -> Result<Vec<StatementRow>, StatementError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((header_index, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let header_line = header_index + 1;
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
    // SUCCESS, or PROCESSING / CHANGE / REFUNDCLOSE for a refund that has not (or will not)
    // reach the customer: only a SUCCESS row is evidence of money returned (§1.8).
    let refund_status = column("退款状态").ok();
    // 手续费, to 0.00001 yuan; absent from old-format bills.
    let fee_column = column("手续费").ok();
    let mut fees = MilliFen::ZERO;

    let settle = column("应结订单金额")?;
    let mut rows = Vec::new();
    let (mut settled, mut refunded) = (Fen::ZERO, Fen::ZERO);
    let mut summary = None;
    let mut detail_rows = 0usize;
    for (index, line) in lines.by_ref() {
        let number = index + 1;
        if line.starts_with(SUMMARY_HEADER) {
            summary = Some((number, line));
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
        let add = |sum: Fen, i: usize| -> Result<Fen, StatementError> {
            sum.checked_add(yuan(i)?).ok_or_else(|| malformed(number, "sum out of range"))
        };
        let fee = match fee_column.map(|i| cells[i]) {
            None | Some("") => None,
            Some(cell) => {
                Some(MilliFen::parse_yuan(cell).map_err(|e| malformed(number, format!("手续费: {e}")))?)
            }
        };
        if let Some(fee) = fee {
            fees = fees.checked_add(fee).ok_or_else(|| malformed(number, "sum out of range"))?;
        }
        settled = add(settled, settle)?;
        refunded = add(refunded, refund_amount)?;
        detail_rows += 1;
        let arrived = refund_status.is_none_or(|i| matches!(cells[i], "SUCCESS" | ""));
        if kind == StatementKind::Refund && !arrived {
            // Counted in the summary's sums, but not (yet) money back to the customer.
            continue;
        }
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
            fee,
        });
    }
    // The summary row must count and add up the detail rows: a file cut short is an error, never a
    // shorter day.
    let Some((summary_line, summary_header)) = summary else {
        return Err(malformed(header_line, "no summary: the file is cut short"));
    };
    let names: Vec<&str> = summary_header.split(',').map(str::trim).collect();
    let Some((values_line, values)) = lines.next() else {
        return Err(malformed(summary_line, "a summary header without its row"));
    };
    let values_line = values_line + 1;
    let values: Vec<&str> = values.split(',').map(|c| c.trim().trim_start_matches('`')).collect();
    let value = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| values.get(i).copied())
            .ok_or_else(|| malformed(values_line, format!("summary: no {name}")))
    };
    let count: usize =
        value(SUMMARY_HEADER)?.parse().map_err(|_| malformed(values_line, "summary: bad 总交易单数"))?;
    let sum = |name: &str| -> Result<Fen, StatementError> {
        Fen::parse_yuan(value(name)?).map_err(|e| malformed(values_line, format!("summary {name}: {e}")))
    };
    let (said_settled, said_refunded) = (sum("应结订单总金额")?, sum("退款总金额")?);
    if fee_column.is_some() {
        let cell = value("手续费总金额")?;
        let said = MilliFen::parse_yuan(cell)
            .map_err(|e| malformed(values_line, format!("summary 手续费总金额: {e}")))?;
        if said != fees {
            return Err(malformed(
                values_line,
                format!(
                    "summary says 手续费 {}; the rows add up to {}",
                    said.to_yuan_string(),
                    fees.to_yuan_string()
                ),
            ));
        }
    }
    if (count, said_settled, said_refunded) != (detail_rows, settled, refunded) {
        return Err(malformed(
            values_line,
            format!(
                "summary says {count} rows, {} settled, {} refunded; the file has {}, {}, {}",
                said_settled.to_yuan_string(),
                said_refunded.to_yuan_string(),
                detail_rows,
                settled.to_yuan_string(),
                refunded.to_yuan_string()
            ),
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(order: &str, state: &str, settle: &str, refund: &str) -> String {
        let mut cells = vec![String::new(); COLUMNS.len()];
        let mut set = |name: &str, value: &str| {
            let i = COLUMNS.iter().position(|c| *c == name).unwrap();
            cells[i] = value.to_string();
        };
        set("交易时间", "2026-11-23 10:00:00");
        set("微信订单号", "4200000001");
        set("商户订单号", order);
        set("交易状态", state);
        set("应结订单金额", settle);
        set("订单金额", settle);
        set("退款金额", refund);
        set("商户退款单号", if state == "REFUND" { "R1" } else { "" });
        cells.iter().map(|c| format!("`{c}")).collect::<Vec<_>>().join(",")
    }

    fn file(rows: &[String], count: usize, settled: &str, refunded: &str) -> String {
        let mut out = COLUMNS.join(",") + "\r\n";
        for r in rows {
            out.push_str(r);
            out.push_str("\r\n");
        }
        out.push_str(&format!("{SUMMARY_HEADER},应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"));
        out.push_str(&format!("`{count},`{settled},`{refunded},`0.00,`0.00,`{settled},`{refunded}\r\n"));
        out
    }

    #[test]
    fn only_a_refund_whose_status_is_success_is_money_returned() {
        let with_status = |status: &str| {
            let mut cells: Vec<String> =
                row("A1", "REFUND", "0.00", "10.00").split(',').map(String::from).collect();
            cells[COLUMNS.iter().position(|c| *c == "退款状态").unwrap()] = format!("`{status}");
            cells.join(",")
        };
        for status in ["PROCESSING", "CHANGE", "REFUNDCLOSE"] {
            let rows = [row("A1", "SUCCESS", "31.50", "0.00"), with_status(status)];
            let parsed = parse(&file(&rows, 2, "31.50", "10.00")).unwrap();
            assert_eq!(parsed.len(), 1, "{status}: only the payment is evidence");
            assert_eq!(parsed[0].kind, StatementKind::Payment);
        }
        let rows = [row("A1", "SUCCESS", "31.50", "0.00"), with_status("SUCCESS")];
        let parsed = parse(&file(&rows, 2, "31.50", "10.00")).unwrap();
        assert_eq!(parsed[1].refund_no.as_deref(), Some("R1"));
    }

    #[test]
    fn the_summary_must_count_and_add_up_the_rows() {
        let rows = [row("A1", "SUCCESS", "31.50", "0.00"), row("A1", "REFUND", "0.00", "10.00")];
        assert_eq!(parse(&file(&rows, 2, "31.50", "10.00")).unwrap().len(), 2);
        let error = parse(&file(&rows[..1], 2, "31.50", "10.00")).unwrap_err();
        assert!(error.to_string().contains("summary says 2 rows"), "{error}");
        let no_summary = COLUMNS.join(",") + "\r\n" + &rows[0] + "\r\n";
        assert!(parse(&no_summary).unwrap_err().to_string().contains("cut short"));
    }

    #[test]
    fn each_fee_is_read_to_a_thousandth_of_a_fen_and_the_fees_must_add_up() {
        let fee = COLUMNS.iter().position(|c| *c == "手续费").unwrap();
        let mut cells: Vec<String> =
            row("A1", "SUCCESS", "31.50", "0.00").split(',').map(String::from).collect();
        cells[fee] = "`0.18900".into();
        let with_fee = cells.join(",");
        let said = |total: &str| {
            file(std::slice::from_ref(&with_fee), 1, "31.50", "0.00")
                .replace("`0.00,`31.50", &format!("`{total},`31.50"))
        };
        let rows = parse(&said("0.18900")).unwrap();
        assert_eq!(rows[0].fee, Some(MilliFen(18_900)));
        let error = parse(&said("0.00")).unwrap_err();
        assert!(error.to_string().contains("summary says 手续费 0.00000"), "{error}");
    }

    #[test]
    fn a_gzipd_bill_reads_as_the_plain_one_and_a_cut_one_is_an_error() {
        use std::io::Write;
        let text = file(&[row("A1", "SUCCESS", "31.50", "0.00")], 1, "31.50", "0.00");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        let gzipped = encoder.finish().unwrap();
        assert_eq!(parse_file(&gzipped).unwrap(), parse_file(text.as_bytes()).unwrap());
        assert_eq!(parse_file(&gzipped).unwrap().len(), 1);
        assert!(parse_file(&gzipped[..gzipped.len() / 2]).is_err());
        assert_eq!(parse_file(b"").unwrap(), vec![]);
    }
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
