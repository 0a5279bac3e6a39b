//! The acquirer's daily file (txnType 76) as the simulator writes it from its ledger: the ZM
//! detail file, fixed-width GBK, zipped, deflated (zlib) and Base64-encoded into the reply's
//! `fileContent`. Written here field by field with the widths spelled out, not with the
//! client's table, so a misread width fails a test.
//!
//! The real acquirer's settlement day turns at 23:00 Beijing time (a payment at 23:30 is in the
//! next day's file), which reconciliation covers by reading each order's day and the next. The
//! simulator cuts at midnight, so that tests of a day's file do not depend on the hour they run.

use super::alipay_bill::stored_zip;
use crate::beijing;
use chrono::NaiveDate;
use kiosk_core::{Fen, Ts};

/// One transaction as the file lists it.
pub(crate) struct ZmRow {
    /// `01` consume, `31` cancel, `04` refund.
    pub txn_type: &'static str,
    /// The transaction's own `orderId`.
    pub own_order: String,
    /// For a cancel or refund, the consume's `orderId`.
    pub orig_order: String,
    pub query_id: String,
    pub amount: Fen,
    /// The merchant's fee in fen: positive paid (`D`), negative given back (`C`).
    pub fee: i64,
    pub at: Ts,
}

/// The settlement day of a transaction at `at` (see the module's note on the cut-off).
pub(crate) fn settle_date_of(at: Ts) -> NaiveDate {
    beijing::from_ts(at).date_naive()
}

/// The zip's name and the `fileContent` of `rows` for merchant `mer_id` on `date`.
pub(crate) fn file_content(rows: &[ZmRow], mer_id: &str, date: NaiveDate) -> (String, String) {
    use base64::Engine;
    use std::io::Write;
    let mut zm = Vec::new();
    for row in rows {
        zm.extend(line(row, mer_id));
    }
    let yymmdd = date.format("%y%m%d");
    let zip = stored_zip(&[
        (format!("INN{yymmdd}88ZM_{mer_id}").into_bytes(), zm),
        (format!("INN{yymmdd}88ZME_{mer_id}").into_bytes(), Vec::new()),
    ]);
    let mut deflater = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = deflater.write_all(&zip);
    let deflated = deflater.finish().unwrap_or_default();
    (
        format!("{mer_id}_{}.zip", date.format("%Y%m%d")),
        base64::engine::general_purpose::STANDARD.encode(deflated),
    )
}

/// One line: 42 fields, a space between them, CRLF.
fn line(row: &ZmRow, mer_id: &str) -> Vec<u8> {
    let time = beijing::from_ts(row.at).format("%m%d%H%M%S").to_string();
    let amount = format!("{:012}", row.amount.0);
    let fee = format!("{}{:012}", if row.fee < 0 { 'C' } else { 'D' }, row.fee.abs());
    let settled = format!("C{:012}", row.amount.0 - row.fee);
    let trace = format!("{:06}", row.query_id.bytes().map(u64::from).sum::<u64>() % 1_000_000);
    // 二级商户简称, GBK: each character two bytes of the field's 32.
    let short_name = encoding_rs::GBK.encode("水电煤缴费").0.into_owned();
    let fields: [(Vec<u8>, usize); 42] = [
        (b"S22".to_vec(), 3),
        (b"00049992900".to_vec(), 11),
        (b"00049992900".to_vec(), 11),
        (trace.into_bytes(), 6),
        (time.into_bytes(), 10),
        (b"6216***********0018".to_vec(), 19),
        (amount.into_bytes(), 12),
        (b"4900".to_vec(), 4),
        (b"07".to_vec(), 2),
        (row.query_id.clone().into_bytes(), 21),
        (Vec::new(), 2),
        (row.own_order.clone().into_bytes(), 32),
        (b"01".to_vec(), 2),
        (Vec::new(), 6),
        (Vec::new(), 10),
        (fee.into_bytes(), 13),
        (settled.into_bytes(), 13),
        (b"0000".to_vec(), 4),
        (Vec::new(), 15),
        (row.txn_type.as_bytes().to_vec(), 2),
        (b"06".to_vec(), 2),
        (b"000000".to_vec(), 6),
        (b"01".to_vec(), 2),
        (Vec::new(), 4),
        (Vec::new(), 32),
        (b"1".to_vec(), 1),
        (Vec::new(), 21),
        (mer_id.as_bytes().to_vec(), 15),
        (b"0".to_vec(), 1),
        (Vec::new(), 15),
        (short_name, 32),
        (Vec::new(), 13),
        (Vec::new(), 13),
        (b"SIM00001".to_vec(), 8),
        (Vec::new(), 32),
        (Vec::new(), 13),
        (Vec::new(), 13),
        (Vec::new(), 12),
        (Vec::new(), 2),
        (b"0".to_vec(), 1),
        (row.orig_order.clone().into_bytes(), 32),
        (Vec::new(), 98),
    ];
    let mut out = Vec::with_capacity(520);
    for (index, (value, width)) in fields.iter().enumerate() {
        if index > 0 {
            out.push(b' ');
        }
        let value = &value[..value.len().min(*width)];
        out.extend_from_slice(value);
        out.resize(out.len() + width - value.len(), b' ');
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_607_bytes_before_its_crlf() {
        let row = ZmRow {
            txn_type: "01",
            own_order: "YZ1".into(),
            orig_order: String::new(),
            query_id: "Q1".into(),
            amount: Fen(3150),
            fee: 12,
            at: Ts(0),
        };
        let bytes = line(&row, "777290058110048");
        // 566 bytes of 42 fields, 41 separators, CRLF.
        assert_eq!(bytes.len(), 566 + 41 + 2);
        assert!(bytes.ends_with(b"\r\n"));
    }
}
