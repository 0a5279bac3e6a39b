//! The acquirer's daily file (ACP 文件传输, txnType 76, fileType 00): the reply's `fileContent` is
//! Base64 of a zlib-deflated zip, which holds the merchant's 一般交易明细 file (`INN…ZM_<merId>`)
//! beside its error file (`…ZME_…`).
//!
//! The ZM file is fixed-width GBK text: 42 fields, one space between them, no header and no
//! totals (so unlike the wallets' bills there is nothing to add up against; a line of the wrong
//! length is an error, never a skipped row). Widths count *bytes*: a Chinese name takes two per
//! character. Times carry no year (`MMDDhhmmss`); the settlement date asked for supplies it.
//!
//! Rows are told apart by their transaction type (field 20: `01` consume, `31` 消费撤销, `04`
//! 退货); a cancel or refund is filed under its own order id (field 12) and names the consume's
//! by 原始交易订单号 (field 41).

use crate::beijing;
use crate::statement::{StatementError, StatementKind, StatementRow};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use kiosk_core::{money::MilliFen, Fen};
use std::io::Read;

const CHANNEL: &str = "unionpay";

/// The ZM fields' widths in bytes, in order (全渠道 文件接口 §6.1).
const WIDTHS: [usize; 42] = [
    3, 11, 11, 6, 10, 19, 12, 4, 2, 21, 2, 32, 2, 6, 10, 13, 13, 4, 15, 2, 2, 6, 2, 4, 32, 1, 21, 15, 1, 15,
    32, 13, 13, 8, 32, 13, 13, 12, 2, 1, 32, 98,
];

/// The fields read (1-based, as the specification numbers them).
mod field {
    pub const TXN_TIME: usize = 5;
    pub const AMOUNT: usize = 7;
    pub const QUERY_ID: usize = 10;
    pub const ORDER_ID: usize = 12;
    pub const MERCHANT_FEE: usize = 16;
    pub const TXN_TYPE: usize = 20;
    pub const MER_ID: usize = 28;
    pub const ORIG_ORDER_ID: usize = 41;
}

fn malformed(line: usize, detail: impl Into<String>) -> StatementError {
    StatementError::Malformed { channel: CHANNEL, line, detail: detail.into() }
}

fn archive_error(detail: impl Into<String>) -> StatementError {
    StatementError::Archive { channel: CHANNEL, detail: detail.into() }
}

/// Reads a `fileContent` as received: empty (no file yet) is no rows.
pub fn parse_received(
    content: &[u8],
    settle_date: NaiveDate,
    mer_id: &str,
) -> Result<Vec<StatementRow>, StatementError> {
    if content.is_empty() {
        return Ok(Vec::new());
    }
    let text = std::str::from_utf8(content).map_err(|_| archive_error("fileContent is not Base64 text"))?;
    parse_file_content(text, settle_date, mer_id)
}

/// Reads a `fileContent` value: Base64, zlib, zip; the rows of its ZM file.
pub fn parse_file_content(
    content: &str,
    settle_date: NaiveDate,
    mer_id: &str,
) -> Result<Vec<StatementRow>, StatementError> {
    use base64::Engine;
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .map_err(|e| archive_error(format!("fileContent is not Base64: {e}")))?;
    let mut zip_bytes = Vec::new();
    flate2::read::ZlibDecoder::new(deflated.as_slice())
        .take(crate::transport::MAX_STATEMENT_BYTES as u64 + 1)
        .read_to_end(&mut zip_bytes)
        .map_err(|e| archive_error(format!("fileContent does not inflate: {e}")))?;
    if zip_bytes.len() > crate::transport::MAX_STATEMENT_BYTES {
        return Err(archive_error("the file is larger than any day's file can be"));
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes))
        .map_err(|e| archive_error(format!("not a zip: {e}")))?;
    // The merchant's detail file of that day: `INN<yymmdd>..ZM_<merId>`, never another's.
    let yymmdd = settle_date.format("%y%m%d").to_string();
    let ours =
        |name: &str| name.starts_with(&format!("INN{yymmdd}")) && name.ends_with(&format!("ZM_{mer_id}"));
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    let detail_name = names.iter().find(|name| ours(name)).cloned().ok_or_else(|| {
        archive_error(format!("no ZM file of {yymmdd} for {mer_id} in the zip ({names:?})"))
    })?;
    let mut detail = Vec::new();
    archive
        .by_name(&detail_name)
        .map_err(|e| archive_error(e.to_string()))?
        .take(crate::transport::MAX_STATEMENT_BYTES as u64 + 1)
        .read_to_end(&mut detail)
        .map_err(|e| archive_error(format!("{detail_name}: {e}")))?;
    // Cut at the bound, the last line could still parse: the file has no totals to tell.
    if detail.len() > crate::transport::MAX_STATEMENT_BYTES {
        return Err(archive_error(format!("{detail_name}: larger than any day's file can be")));
    }
    parse_zm(&detail, settle_date, mer_id)
}

/// Parses a ZM file of `settle_date` for merchant `mer_id`.
pub fn parse_zm(
    bytes: &[u8],
    settle_date: NaiveDate,
    mer_id: &str,
) -> Result<Vec<StatementRow>, StatementError> {
    let full: usize = WIDTHS.iter().sum::<usize>() + WIDTHS.len() - 1;
    // Some files leave out the reserved last field (or its padding); every other byte is there,
    // so a line cut short is an error, never a row read without its tail.
    let shortest = full - WIDTHS[WIDTHS.len() - 1] - 1;
    let mut rows = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if !(shortest..=full).contains(&line.len()) {
            return Err(malformed(number, format!("{} bytes, a ZM line has {full}", line.len())));
        }
        // A space between every two fields: a field that ran long would shift the rest.
        if !separators_in_place(line) {
            return Err(malformed(number, "fields out of place (no space between two fields)"));
        }
        let fields = split(line);
        let text = |n: usize| -> Result<String, StatementError> {
            let (decoded, _, bad) = encoding_rs::GBK.decode(fields[n - 1]);
            if bad {
                return Err(malformed(number, format!("field {n} is not GBK")));
            }
            Ok(decoded.trim().to_string())
        };
        if text(field::MER_ID)? != mer_id {
            return Err(malformed(number, format!("a row of merchant {:?}", text(field::MER_ID)?)));
        }
        let amount =
            digits(&text(field::AMOUNT)?).map(Fen).ok_or_else(|| malformed(number, "bad 交易金额"))?;
        let fee =
            signed_fee(&text(field::MERCHANT_FEE)?).ok_or_else(|| malformed(number, "bad 商户手续费"))?;
        let time = txn_time(&text(field::TXN_TIME)?, settle_date)
            .ok_or_else(|| malformed(number, "bad 交易传输时间"))?;
        let own_order = text(field::ORDER_ID)?;
        let (kind, out_trade_no, refund_no) = match text(field::TXN_TYPE)?.as_str() {
            "01" => (StatementKind::Payment, own_order, None),
            "31" => (StatementKind::Reversed, text(field::ORIG_ORDER_ID)?, None),
            "04" => (StatementKind::Refund, text(field::ORIG_ORDER_ID)?, Some(own_order)),
            other => return Err(malformed(number, format!("unknown 交易类型 {other:?}"))),
        };
        if out_trade_no.is_empty() {
            return Err(malformed(number, "no order id"));
        }
        rows.push(StatementRow {
            out_trade_no,
            channel_txn: text(field::QUERY_ID)?,
            amount,
            kind,
            refund_no,
            time,
            fee: Some(fee),
        });
    }
    Ok(rows)
}

/// Whether the byte after each field (but the last) is the space that separates it.
fn separators_in_place(line: &[u8]) -> bool {
    let mut at = 0;
    for width in &WIDTHS[..WIDTHS.len() - 1] {
        at += width;
        match line.get(at) {
            Some(b' ') => at += 1,
            // The reserved last field (and the space before it) may be left out.
            None => return at == line.len(),
            Some(_) => return false,
        }
    }
    true
}

/// The line's fields by their widths; the last may be short.
fn split(line: &[u8]) -> Vec<&[u8]> {
    let mut fields = Vec::with_capacity(WIDTHS.len());
    let mut at = 0;
    for width in WIDTHS {
        let end = (at + width).min(line.len());
        fields.push(&line[at.min(end)..end]);
        at = end + 1;
    }
    fields
}

fn digits(text: &str) -> Option<i64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// `D000000000019` (the merchant pays 19 fen) or `C…` (a fee given back, on a refund).
fn signed_fee(text: &str) -> Option<MilliFen> {
    let (sign, rest) = text.split_at_checked(1)?;
    let fen = digits(rest)?;
    let fee = MilliFen::of(Fen(fen));
    match sign {
        "D" => Some(fee),
        "C" => Some(MilliFen(-fee.0)),
        _ => None,
    }
}

/// `MMDDhhmmss` in the file of `settle_date`: the year is the settlement date's, or the one
/// before for a December transaction in January's file.
fn txn_time(text: &str, settle_date: NaiveDate) -> Option<kiosk_core::Ts> {
    if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month: u32 = text[..2].parse().ok()?;
    let year = if month > settle_date.month() { settle_date.year() - 1 } else { settle_date.year() };
    let local = NaiveDateTime::parse_from_str(&format!("{year}{text}"), "%Y%m%d%H%M%S").ok()?;
    beijing::to_ts(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One ZM line, written out field by field as the specification lays it out.
    fn line(txn_type: &str, order: &str, orig_order: &str, amount: &str, fee: &str, mer: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut put = |value: &[u8], width: usize| {
            out.extend_from_slice(value);
            out.extend(std::iter::repeat_n(b' ', width - value.len()));
            out.push(b' ');
        };
        put(b"S22", 3);
        put(b"00049992900", 11);
        put(b"00049992900", 11);
        put(b"000123", 6);
        put(b"1123120000", 10);
        put(b"6216***********0018", 19);
        put(amount.as_bytes(), 12);
        put(b"4900", 4);
        put(b"07", 2);
        put(b"112312000000000000001", 21);
        put(b"", 2);
        put(order.as_bytes(), 32);
        put(b"01", 2);
        put(b"", 6);
        put(b"", 10);
        put(fee.as_bytes(), 13);
        put(b"C000000003131", 13);
        put(b"", 4);
        put(b"", 15);
        put(txn_type.as_bytes(), 2);
        put(b"06", 2);
        put(b"000000", 6);
        put(b"01", 2);
        put(b"", 4);
        put(b"", 32);
        put(b"1", 1);
        put(b"", 21);
        put(mer.as_bytes(), 15);
        put(b"0", 1);
        put(b"", 15);
        // 二级商户简称 in GBK: four characters, eight bytes.
        put(&[0xCB, 0xAE, 0xB5, 0xE7, 0xC3, 0xBA, 0xB7, 0xD1], 32);
        put(b"", 13);
        put(b"", 13);
        put(b"K0000001", 8);
        put(b"", 32);
        put(b"", 13);
        put(b"", 13);
        put(b"", 12);
        put(b"", 2);
        put(b"0", 1);
        put(orig_order.as_bytes(), 32);
        put(b"", 98);
        out.pop();
        out.extend_from_slice(b"\r\n");
        out
    }

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    const MER: &str = "777290058110048";

    #[test]
    fn reads_a_consume_a_cancel_and_a_refund_with_their_fees() {
        let mut file = line("01", "YZ0000000000000001", "", "000000003150", "D000000000019", MER);
        file.extend(line(
            "31",
            "YZ0000000000000002C",
            "YZ0000000000000002",
            "000000001000",
            "C000000000006",
            MER,
        ));
        file.extend(line(
            "04",
            "YZ0000000000000003R1",
            "YZ0000000000000003",
            "000000000500",
            "C000000000003",
            MER,
        ));
        let rows = parse_zm(&file, date(), MER).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].out_trade_no, "YZ0000000000000001");
        assert_eq!(rows[0].kind, StatementKind::Payment);
        assert_eq!(rows[0].amount, Fen(3150));
        assert_eq!(rows[0].fee, Some(MilliFen(19_000)));
        assert_eq!(rows[0].channel_txn, "112312000000000000001");
        assert_eq!(rows[0].time, beijing::parse_local("2026-11-23 12:00:00").unwrap());
        assert_eq!(
            (rows[1].kind, rows[1].out_trade_no.as_str()),
            (StatementKind::Reversed, "YZ0000000000000002")
        );
        assert_eq!(rows[2].kind, StatementKind::Refund);
        assert_eq!(rows[2].out_trade_no, "YZ0000000000000003");
        assert_eq!(rows[2].refund_no.as_deref(), Some("YZ0000000000000003R1"));
        assert_eq!(rows[2].fee, Some(MilliFen(-3_000)));
    }

    #[test]
    fn a_december_time_in_a_january_file_is_of_the_year_before() {
        let january = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(txn_time("1231233000", january), beijing::parse_local("2026-12-31 23:30:00"));
        assert_eq!(txn_time("0101000500", january), beijing::parse_local("2027-01-01 00:05:00"));
        assert_eq!(txn_time("1331000000", january), None);
        assert_eq!(txn_time("12312330", january), None);
    }

    #[test]
    fn a_short_line_another_merchant_or_an_unknown_type_is_an_error() {
        let good = line("01", "YZ0000000000000001", "", "000000003150", "D000000000019", MER);
        let cut = &good[..400];
        assert!(matches!(parse_zm(cut, date(), MER), Err(StatementError::Malformed { line: 1, .. })));
        let other = line("01", "YZ0000000000000001", "", "000000003150", "D000000000019", "777290058110099");
        assert!(parse_zm(&other, date(), MER).is_err());
        let unknown = line("71", "YZ0000000000000001", "", "000000003150", "D000000000019", MER);
        assert!(parse_zm(&unknown, date(), MER).is_err());
        let bad_fee = line("01", "YZ0000000000000001", "", "000000003150", "X000000000019", MER);
        assert!(parse_zm(&bad_fee, date(), MER).is_err());
        // A field one byte too long shifts the rest: refused, though the length would pass.
        let mut shifted = good.clone();
        let order_at = 3 + 11 + 11 + 6 + 10 + 19 + 12 + 4 + 2 + 21 + 2 + 11;
        shifted.insert(order_at, b'X');
        shifted.remove(shifted.len() - 3);
        assert_eq!(shifted.len(), good.len());
        assert!(parse_zm(&shifted, date(), MER).is_err());
        // Without the reserved field: still read; one byte less is a line cut short.
        let without_reserved = &good[..good.len() - 2 - 99];
        assert_eq!(parse_zm(without_reserved, date(), MER).unwrap().len(), 1);
        let shorter = &without_reserved[..without_reserved.len() - 1];
        assert!(parse_zm(shorter, date(), MER).is_err());
        assert_eq!(parse_zm(b"\r\n\r\n", date(), MER).unwrap(), []);
    }

    proptest::proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..900)) {
            let _ = parse_zm(&bytes, date(), MER);
            let _ = parse_file_content(&String::from_utf8_lossy(&bytes), date(), MER);
        }
    }
}
