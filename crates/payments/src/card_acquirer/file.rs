//! The card acquirer's settlement file (POS 对账单) of one merchant and day: the bank-card sales
//! of the merchant's certified terminals, their voids and refunds, as the acquirer settled them.
//!
//! There is no public standard for this file; each acquirer publishes its own. Ours follows the
//! columns of Allinpay's POS 对账单, which carries the order number an integrated (MIS-POS)
//! terminal was given by its cash register beside the terminal's own references:
//!
//! ```text
//! 商户号,终端号,交易日期,交易时间,交易类型,批次号,凭证号,参考号,卡号,交易金额,手续费,结算金额,订单号,原订单号
//! 898310048990001,10000001,20261204,101502,消费,000001,000012,310000000012,622202******0018,31.50,0.12,31.38,YZ…,
//! 合计,1,31.50,0.12,31.38
//! ```
//!
//! GBK text, CRLF or LF. Amounts are yuan with exactly two decimals; 交易金额 is always
//! positive, 手续费 and 结算金额 are negative where money went back. 交易类型 is 消费 (a sale),
//! 消费撤销 (a same-day void) or 退货 (a refund). 订单号 is the reference the kiosk gave the
//! terminal (the order number of a sale or void, our refund number of a refund); 原订单号 is a
//! refund's order. A reversed (冲正) sale never settles, so it is in no file. The last line,
//! 合计, counts the rows and adds up the three amount columns: the file is read only when it
//! agrees with its rows.

use crate::beijing;
use crate::statement::{StatementError, StatementKind, StatementRow};
use chrono::{NaiveDate, NaiveDateTime};
use kiosk_core::{money::MilliFen, Fen};

const CHANNEL: &str = "card-acquirer";

/// The header, column for column.
pub const HEADER: [&str; 14] = [
    "商户号",
    "终端号",
    "交易日期",
    "交易时间",
    "交易类型",
    "批次号",
    "凭证号",
    "参考号",
    "卡号",
    "交易金额",
    "手续费",
    "结算金额",
    "订单号",
    "原订单号",
];

/// What the acquirer says of one settled card transaction, beyond what matching needs: the
/// terminal's references, for staff and the exception desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardRow {
    pub terminal_id: String,
    pub batch: String,
    pub voucher: String,
    /// 检索参考号.
    pub ref_no: String,
    /// The row as reconciliation matches it.
    pub row: StatementRow,
}

fn malformed(line: usize, detail: impl Into<String>) -> StatementError {
    StatementError::Malformed { channel: CHANNEL, line, detail: detail.into() }
}

/// Reads the file of `merchant` for `date` into statement rows.
pub fn parse(bytes: &[u8], merchant: &str, date: NaiveDate) -> Result<Vec<StatementRow>, StatementError> {
    Ok(parse_detailed(bytes, merchant, date)?.into_iter().map(|r| r.row).collect())
}

/// Reads the file with each row's terminal references. No bytes at all is no file yet (the
/// client's answer for a day not over, [`super::CardAcquirerClient::fetch_statement`]): no
/// rows; a file the portal sent always has its header.
pub fn parse_detailed(bytes: &[u8], merchant: &str, date: NaiveDate) -> Result<Vec<CardRow>, StatementError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let (text, _, bad) = encoding_rs::GBK.decode(bytes);
    if bad {
        return Err(StatementError::Archive { channel: CHANNEL, detail: "not GBK text".into() });
    }
    let lines: Vec<(usize, &str)> =
        text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r'))).collect();
    let Some(((_, header), body)) = lines.split_first() else {
        return Err(malformed(1, "no header"));
    };
    if !header.split(',').eq(HEADER) {
        return Err(malformed(1, format!("not the settlement file's header: {header:?}")));
    }
    let mut rows = Vec::new();
    let mut sums = [0i64; 3];
    for (index, &(n, line)) in body.iter().enumerate() {
        if let Some(totals) = line.strip_prefix("合计,") {
            check_totals(n, totals, rows.len(), sums)?;
            if let Some((n, extra)) = body[index + 1..].iter().find(|(_, l)| !l.is_empty()) {
                return Err(malformed(*n, format!("a line after the totals: {extra:?}")));
            }
            return Ok(rows);
        }
        let row = parse_row(n, line, merchant, date)?;
        let (amount, fee, settled) = row.1;
        for (sum, value) in sums.iter_mut().zip([amount, fee, settled]) {
            *sum = sum.checked_add(value).ok_or_else(|| malformed(n, "the amounts overflow"))?;
        }
        rows.push(row.0);
    }
    Err(malformed(0, "no 合计 line: the file is cut short"))
}

fn check_totals(n: usize, totals: &str, count: usize, sums: [i64; 3]) -> Result<(), StatementError> {
    let fields: Vec<&str> = totals.split(',').collect();
    let [stated_count, amount, fee, settled] = fields[..] else {
        return Err(malformed(n, "合计 needs a count and three sums"));
    };
    if stated_count.parse::<usize>().ok() != Some(count) {
        return Err(malformed(n, format!("合计 says {stated_count} rows, the file has {count}")));
    }
    for (name, stated, sum) in
        [("交易金额", amount, sums[0]), ("手续费", fee, sums[1]), ("结算金额", settled, sums[2])]
    {
        let stated =
            yuan(stated).ok_or_else(|| malformed(n, format!("合计 {name} {stated:?} is not an amount")))?;
        if stated != sum {
            return Err(malformed(n, format!("合计 {name} is {stated} fen, the rows add up to {sum}")));
        }
    }
    Ok(())
}

/// One detail line: the row, and its (交易金额, 手续费, 结算金额) in fen as written.
fn parse_row(
    n: usize,
    line: &str,
    merchant: &str,
    date: NaiveDate,
) -> Result<(CardRow, (i64, i64, i64)), StatementError> {
    let fields: Vec<&str> = line.split(',').collect();
    let [mer, terminal, day, time, kind, batch, voucher, ref_no, _pan, amount, fee, settled, order, original] =
        fields[..]
    else {
        return Err(malformed(n, format!("{} columns, not {}", fields.len(), HEADER.len())));
    };
    if mer != merchant {
        return Err(malformed(n, format!("a row of merchant {mer:?} in the file of {merchant:?}")));
    }
    let digits = |value: &str, width: usize, name: &str| {
        (value.len() == width && value.bytes().all(|b| b.is_ascii_digit()))
            .then_some(())
            .ok_or_else(|| malformed(n, format!("{name} {value:?} is not {width} digits")))
    };
    digits(terminal, 8, "终端号")?;
    digits(batch, 6, "批次号")?;
    digits(voucher, 6, "凭证号")?;
    digits(ref_no, 12, "参考号")?;
    let at = NaiveDateTime::parse_from_str(&format!("{day}{time}"), "%Y%m%d%H%M%S")
        .map_err(|_| malformed(n, format!("交易日期/时间 {day:?} {time:?}")))?;
    // The acquirer's day may turn before midnight (a late sale of the day before in this
    // day's file), never after it.
    if !(0..=1).contains(&(date - at.date()).num_days()) {
        return Err(malformed(n, format!("a transaction of {} in the file of {date}", at.date())));
    }
    let money =
        |value: &str, name: &str| yuan(value).ok_or_else(|| malformed(n, format!("{name} {value:?}")));
    let (amount, fee, settled) =
        (money(amount, "交易金额")?, money(fee, "手续费")?, money(settled, "结算金额")?);
    if amount <= 0 {
        return Err(malformed(n, "交易金额 must be positive"));
    }
    let reference = |value: &str| {
        (value.len() <= 32 && value.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| value.to_string())
            .ok_or_else(|| malformed(n, format!("order number {value:?}")))
    };
    let (order, original) = (reference(order)?, reference(original)?);
    let kind_word = kind;
    let (kind, out_trade_no, refund_no, sign) = match kind {
        "消费" => (StatementKind::Payment, order, None, 1),
        "消费撤销" => (StatementKind::Reversed, order, None, -1),
        "退货" => (StatementKind::Refund, original, Some(order).filter(|o| !o.is_empty()), -1),
        other => return Err(malformed(n, format!("交易类型 {other:?}"))),
    };
    // Money in is net of the fee; money back carries the fee given back (or none).
    if sign * fee < 0 {
        return Err(malformed(n, format!("手续费 {fee} has the wrong sign for a {kind_word}")));
    }
    if settled != sign * amount - fee {
        return Err(malformed(n, format!("结算金额 {settled} is not 交易金额 less 手续费")));
    }
    // A sale the terminal was given no order number for is still the merchant's money: it is
    // named by its reference no., so that reconciliation reports it as one nobody knows.
    let out_trade_no = if out_trade_no.is_empty() { format!("RRN{ref_no}") } else { out_trade_no };
    let row = StatementRow {
        out_trade_no,
        channel_txn: ref_no.to_string(),
        amount: Fen(amount),
        kind,
        refund_no,
        time: beijing::to_ts(at).ok_or_else(|| malformed(n, "交易时间 out of range"))?,
        // As the file states it: negative where the fee went back.
        fee: Some(MilliFen(fee.saturating_mul(1_000))),
    };
    let detailed = CardRow {
        terminal_id: terminal.into(),
        batch: batch.into(),
        voucher: voucher.into(),
        ref_no: ref_no.into(),
        row,
    };
    Ok((detailed, (amount, fee, settled)))
}

/// Yuan with exactly two decimals, optionally negative, in fen.
fn yuan(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, cents) = digits.split_once('.')?;
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !plain(whole) || cents.len() != 2 || !plain(cents) || whole.len() > 12 {
        return None;
    }
    let fen = whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents.parse::<i64>().ok()?)?;
    Some(if negative { -fen } else { fen })
}

#[cfg(test)]
mod tests {
    use super::yuan;

    #[test]
    fn yuan_takes_exactly_two_decimals() {
        assert_eq!(yuan("31.50"), Some(3150));
        assert_eq!(yuan("-0.12"), Some(-12));
        assert_eq!(yuan("0.00"), Some(0));
        for bad in ["31.5", "31", ".50", "31.500", "+1.00", "1,00", "", "-", "1.0a", "9999999999999.00"] {
            assert_eq!(yuan(bad), None, "{bad:?}");
        }
    }
}
