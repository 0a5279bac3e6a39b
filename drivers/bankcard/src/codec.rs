//! Bytes ⇄ frames ⇄ records of the ECR link. Pure: no I/O, no clock; the transport, the
//! simulator and the tests call these functions synchronously.
//!
//! # Frame (hardware.md §6.4, our serial framing [I])
//!
//! ```text
//! STX(02) LEN(2 bytes BCD, record length) record ETX(03) LRC      LRC = XOR of LEN..ETX
//! ACK(06)   NAK(15)                                               one byte, between frames
//! ```
//!
//! Every data frame is answered with ACK (good) or NAK (bad LRC, bad length, truncated); the
//! sender retransmits on NAK or on no answer within the ACK timeout.
//!
//! # Request record, 159 bytes (§6.4 MIS-POS request)
//!
//! | offset | width | field |
//! |---|---|---|
//! | 0 | 8 | POS no. (ANS) |
//! | 8 | 8 | operator |
//! | 16 | 2 | trans type ([`TransType`]) |
//! | 18 | 12 | amount in fen, zero-padded |
//! | 30 | 8 | original date YYYYMMDD (refunds) |
//! | 38 | 12 | original reference no. (refunds) |
//! | 50 | 6 | original voucher no. (voids) |
//! | 56 | 3 | record LRC: XOR of bytes 0..56 as three decimal digits `000`–`255` [I] |
//! | 59 | 100 | industry info: our references ([`IndustryInfo`]) |
//!
//! # Response record, 252 bytes (§6.4 MIS-POS response plus our 4-byte extension)
//!
//! | offset | width | field |
//! |---|---|---|
//! | 0 | 2 | response code ([`RespCode`]) |
//! | 2 | 4 | issuer bank |
//! | 6 | 20 | masked PAN ([`MaskedPan`]) |
//! | 26 | 6 | voucher no. (凭证号) |
//! | 32 | 12 | amount in fen |
//! | 44 | 40 | message, GBK Chinese |
//! | 84 | 15 | merchant id |
//! | 99 | 8 | terminal id |
//! | 107 | 6 | batch no. |
//! | 113 | 4 | date MMDD |
//! | 117 | 6 | time hhmmss |
//! | 123 | 12 | reference no. (检索参考号) |
//! | 135 | 6 | auth code |
//! | 141 | 4 | settlement date MMDD |
//! | 145 | 3 | record LRC: XOR of bytes 0..145, three decimal digits [I] |
//! | 148 | 2 | reply-to: the type of the request this answers [I] |
//! | 150 | 2 | trans: the type of the transaction described (QUERY_LAST: the last one; blank if none) [I] |
//! | 152 | 100 | industry info, echoed |
//!
//! Text fields are left-aligned and space-padded; numeric fields are digits or all spaces.

use crate::frame::{IndustryInfo, MaskedPan, RespCode, TransType};
use bytes::{Buf, BytesMut};
use kiosk_core::Fen;

/// Start of a data frame.
pub const STX: u8 = 0x02;
/// End of the record.
pub const ETX: u8 = 0x03;
/// Frame received.
pub const ACK: u8 = 0x06;
/// Frame damaged: send it again.
pub const NAK: u8 = 0x15;
/// Length of a request record.
pub const REQUEST_LEN: usize = 159;
/// Length of a response record.
pub const RESPONSE_LEN: usize = 252;
/// Length of the response record as hardware.md §6.4 lists it (code … settlement date, LRC),
/// without our reply-to, transaction type and echoed industry info.
pub const SHORT_RESPONSE_LEN: usize = 148;
/// The longest record accepted; anything longer is line noise that happened to look like a length.
pub const MAX_RECORD: usize = 1024;
/// Largest amount the 12-digit field holds.
pub const MAX_AMOUNT: i64 = 999_999_999_999;

/// One unit on the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// `06`.
    Ack,
    /// `15`.
    Nak,
    /// A data frame with a good LRC; the record bytes.
    Data(Vec<u8>),
}

/// Why bytes were dropped from the receive buffer. Every variant has consumed the bytes it
/// names, so decoding simply continues; the ones that ended a started frame ask for a NAK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Bytes before the next STX / ACK / NAK.
    #[error("dropped {dropped} byte(s) of garbage to resynchronise")]
    Garbage {
        /// Bytes dropped.
        dropped: usize,
    },
    /// STX followed by a length that is not BCD or is over [`MAX_RECORD`]; the STX is dropped.
    #[error("frame length is not BCD or too long")]
    BadLength,
    /// No ETX where the length says; the STX is dropped.
    #[error("no ETX at the end of a {len}-byte record")]
    MissingEtx {
        /// The announced record length.
        len: usize,
    },
    /// The frame is whole but its LRC is wrong; the frame is dropped.
    #[error("bad LRC: expected {expected:#04x}, got {actual:#04x}")]
    BadLrc {
        /// LRC computed over the frame.
        expected: u8,
        /// LRC the frame carried.
        actual: u8,
    },
}

impl FrameError {
    /// True when a frame had started: the sender should get a NAK.
    pub fn wants_nak(self) -> bool {
        !matches!(self, FrameError::Garbage { .. })
    }
}

/// Why a record cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record is not the length of its kind.
    #[error("record is {actual} bytes, expected {expected}")]
    Length {
        /// Expected length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// A field holds bytes it may not (or a value that does not fit, when encoding).
    #[error("field {0} is invalid")]
    Field(&'static str),
    /// The record's own 3-digit LRC does not match.
    #[error("record check {actual:?} does not match {expected:03}")]
    Check {
        /// Computed.
        expected: u8,
        /// Carried (three characters).
        actual: [u8; 3],
    },
    /// A transaction type we do not know.
    #[error("unknown transaction type {0:?}")]
    UnknownType([u8; 2]),
}

/// XOR of `bytes`.
pub fn lrc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

fn bcd2(n: usize) -> Option<[u8; 2]> {
    if n > 9999 {
        return None;
    }
    let d = |k: usize| ((n / k) % 10) as u8;
    Some([(d(1000) << 4) | d(100), (d(10) << 4) | d(1)])
}

fn from_bcd2(b: [u8; 2]) -> Option<usize> {
    let mut n = 0usize;
    for nibble in [b[0] >> 4, b[0] & 0x0F, b[1] >> 4, b[1] & 0x0F] {
        if nibble > 9 {
            return None;
        }
        n = n * 10 + nibble as usize;
    }
    Some(n)
}

/// Wraps a record in a data frame.
pub fn encode_frame(record: &[u8]) -> Result<Vec<u8>, RecordError> {
    let len = bcd2(record.len())
        .filter(|_| record.len() <= MAX_RECORD)
        .ok_or(RecordError::Length { expected: MAX_RECORD, actual: record.len() })?;
    let mut out = Vec::with_capacity(record.len() + 5);
    out.push(STX);
    out.extend_from_slice(&len);
    out.extend_from_slice(record);
    out.push(ETX);
    out.push(lrc(&out[1..]));
    Ok(out)
}

/// Decodes one frame from the front of `buf`. `Ok(None)`: need more bytes (nothing consumed).
pub fn decode_frame(buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
    let Some(&first) = buf.first() else { return Ok(None) };
    match first {
        ACK => {
            buf.advance(1);
            return Ok(Some(Frame::Ack));
        }
        NAK => {
            buf.advance(1);
            return Ok(Some(Frame::Nak));
        }
        STX => {}
        _ => {
            let dropped = device::resync::skip_while_not(buf, |b| matches!(b, STX | ACK | NAK));
            return Err(FrameError::Garbage { dropped });
        }
    }
    if buf.len() < 3 {
        return Ok(None);
    }
    let Some(len) = from_bcd2([buf[1], buf[2]]).filter(|&n| n <= MAX_RECORD) else {
        buf.advance(1);
        return Err(FrameError::BadLength);
    };
    let total = len + 5;
    if buf.len() < total {
        return Ok(None);
    }
    if buf[3 + len] != ETX {
        buf.advance(1);
        return Err(FrameError::MissingEtx { len });
    }
    let expected = lrc(&buf[1..total - 1]);
    let actual = buf[total - 1];
    if expected != actual {
        buf.advance(total);
        return Err(FrameError::BadLrc { expected, actual });
    }
    let record = buf[3..3 + len].to_vec();
    buf.advance(total);
    Ok(Some(Frame::Data(record)))
}

/// A request from the kiosk (the Sale system) to the terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// POS number, up to 8 printable ASCII.
    pub pos_no: String,
    /// Operator, up to 8 printable ASCII.
    pub operator: String,
    /// What to do.
    pub trans: TransType,
    /// Amount (sale, void, refund, reversal); zero for QUERY_LAST.
    pub amount: Fen,
    /// Original date `YYYYMMDD` (refunds) or empty.
    pub orig_date: String,
    /// Original reference no. (refunds) or empty.
    pub orig_ref_no: String,
    /// Original voucher no. (voids) or empty.
    pub orig_voucher: String,
    /// Our references.
    pub info: IndustryInfo,
}

/// The terminal's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Response code.
    pub code: RespCode,
    /// Issuer bank code.
    pub issuer: String,
    /// Masked card number; `None` when absent or when the terminal sent one that was not masked.
    pub pan: Option<MaskedPan>,
    /// Voucher no.
    pub voucher: String,
    /// Amount.
    pub amount: Fen,
    /// Message for the customer (decoded from GBK).
    pub message: String,
    /// Merchant id.
    pub merchant_id: String,
    /// Terminal id.
    pub terminal_id: String,
    /// Batch no.
    pub batch: String,
    /// Date MMDD.
    pub date: String,
    /// Time hhmmss.
    pub time: String,
    /// Reference no. (the acquirer's retrieval reference).
    pub ref_no: String,
    /// Authorisation code.
    pub auth_code: String,
    /// Settlement date MMDD.
    pub settle_date: String,
    /// The request type this answers.
    pub reply_to: TransType,
    /// The transaction described (for QUERY_LAST, the last one; `None` when there is none, or
    /// it is of a type the kiosk never sends, such as the terminal's daily sign-in).
    pub trans: Option<TransType>,
    /// Our references, echoed.
    pub info: IndustryInfo,
}

impl Response {
    /// An empty answer to `reply_to` with `code` (the simulator fills the rest).
    pub fn bare(code: RespCode, reply_to: TransType) -> Self {
        Response {
            code,
            issuer: String::new(),
            pan: None,
            voucher: String::new(),
            amount: Fen::ZERO,
            message: String::new(),
            merchant_id: String::new(),
            terminal_id: String::new(),
            batch: String::new(),
            date: String::new(),
            time: String::new(),
            ref_no: String::new(),
            auth_code: String::new(),
            settle_date: String::new(),
            reply_to,
            trans: None,
            info: IndustryInfo::default(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Printable ASCII, left-aligned.
    Text,
    /// Digits, exactly the width, or empty (all spaces).
    Digits,
}

fn ok_text(b: u8) -> bool {
    (0x20..=0x7E).contains(&b)
}

fn put(
    out: &mut Vec<u8>,
    name: &'static str,
    value: &str,
    width: usize,
    kind: Kind,
) -> Result<(), RecordError> {
    let v = value.as_bytes();
    let fits = match kind {
        Kind::Text => v.len() <= width && v.iter().all(|&b| ok_text(b)),
        Kind::Digits => v.is_empty() || (v.len() == width && v.iter().all(u8::is_ascii_digit)),
    };
    if !fits {
        return Err(RecordError::Field(name));
    }
    out.extend_from_slice(v);
    out.resize(out.len() + width - v.len(), b' ');
    Ok(())
}

fn put_amount(out: &mut Vec<u8>, amount: Fen) -> Result<(), RecordError> {
    if !(0..=MAX_AMOUNT).contains(&amount.0) {
        return Err(RecordError::Field("amount"));
    }
    out.extend_from_slice(format!("{:012}", amount.0).as_bytes());
    Ok(())
}

fn put_info(out: &mut Vec<u8>, info: &IndustryInfo) -> Result<(), RecordError> {
    for (name, r) in [("info.reference", &info.reference), ("info.original", &info.original)] {
        if !IndustryInfo::valid_ref(r) {
            return Err(RecordError::Field(name));
        }
        put(out, name, r, IndustryInfo::REF_WIDTH, Kind::Text)?;
    }
    out.resize(out.len() + 100 - 2 * IndustryInfo::REF_WIDTH, b' ');
    Ok(())
}

fn put_check(out: &mut Vec<u8>) {
    let c = lrc(out);
    out.extend_from_slice(format!("{c:03}").as_bytes());
}

/// Reads fixed-width fields left to right.
struct Reader<'a> {
    rec: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `rec` from its start, if the record is exactly `len` bytes long.
    fn of_length(rec: &'a [u8], len: usize) -> Result<Reader<'a>, RecordError> {
        if rec.len() != len {
            return Err(RecordError::Length { expected: len, actual: rec.len() });
        }
        Ok(Reader { rec, at: 0 })
    }

    fn raw(&mut self, width: usize) -> &'a [u8] {
        // Callers check the record length first, so this never goes past the end; `get` keeps
        // it panic-free even if they did not.
        let s = self.rec.get(self.at..self.at + width).unwrap_or(&[]);
        self.at += width;
        s
    }

    fn field(&mut self, name: &'static str, width: usize, kind: Kind) -> Result<String, RecordError> {
        let raw = self.raw(width);
        let trimmed = trim_end(raw);
        let ok = match kind {
            Kind::Text => raw.iter().all(|&b| ok_text(b)),
            Kind::Digits => {
                trimmed.is_empty() || (trimmed.len() == width && trimmed.iter().all(u8::is_ascii_digit))
            }
        };
        if !ok || raw.len() != width {
            return Err(RecordError::Field(name));
        }
        Ok(String::from_utf8_lossy(trimmed).into_owned())
    }

    fn amount(&mut self) -> Result<Fen, RecordError> {
        let s = self.field("amount", 12, Kind::Digits)?;
        Ok(Fen(if s.is_empty() { 0 } else { s.parse().map_err(|_| RecordError::Field("amount"))? }))
    }

    fn code2(&mut self) -> [u8; 2] {
        let r = self.raw(2);
        [r.first().copied().unwrap_or(0), r.get(1).copied().unwrap_or(0)]
    }

    fn trans(&mut self) -> Result<TransType, RecordError> {
        let c = self.code2();
        TransType::try_from(c).map_err(RecordError::UnknownType)
    }

    fn check(&mut self) -> Result<(), RecordError> {
        let expected = lrc(&self.rec[..self.at.min(self.rec.len())]);
        let raw = self.raw(3);
        let actual = [
            raw.first().copied().unwrap_or(0),
            raw.get(1).copied().unwrap_or(0),
            raw.get(2).copied().unwrap_or(0),
        ];
        if actual != *format!("{expected:03}").as_bytes() {
            return Err(RecordError::Check { expected, actual });
        }
        Ok(())
    }

    fn info(&mut self) -> Result<IndustryInfo, RecordError> {
        let reference = self.field("info.reference", IndustryInfo::REF_WIDTH, Kind::Text)?;
        let original = self.field("info.original", IndustryInfo::REF_WIDTH, Kind::Text)?;
        let rest = self.raw(100 - 2 * IndustryInfo::REF_WIDTH);
        if !IndustryInfo::valid_ref(&reference) || !IndustryInfo::valid_ref(&original) {
            return Err(RecordError::Field("info"));
        }
        if !rest.iter().all(|&b| ok_text(b)) {
            return Err(RecordError::Field("info.reserved"));
        }
        Ok(IndustryInfo { reference, original })
    }
}

fn trim_end(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    &b[..end]
}

/// GBK text → exactly `width` bytes, cut at a character boundary, space-padded.
fn gbk_field(text: &str, width: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width);
    let mut buf = [0u8; 4];
    for ch in text.chars() {
        let (bytes, _, _) = encoding_rs::GBK.encode(ch.encode_utf8(&mut buf));
        if out.len() + bytes.len() > width {
            break;
        }
        out.extend_from_slice(&bytes);
    }
    out.resize(width, b' ');
    out
}

impl Request {
    /// The 159-byte record.
    pub fn encode(&self) -> Result<Vec<u8>, RecordError> {
        let mut out = Vec::with_capacity(REQUEST_LEN);
        put(&mut out, "pos_no", &self.pos_no, 8, Kind::Text)?;
        put(&mut out, "operator", &self.operator, 8, Kind::Text)?;
        out.extend_from_slice(&self.trans.code());
        put_amount(&mut out, self.amount)?;
        put(&mut out, "orig_date", &self.orig_date, 8, Kind::Digits)?;
        put(&mut out, "orig_ref_no", &self.orig_ref_no, 12, Kind::Digits)?;
        put(&mut out, "orig_voucher", &self.orig_voucher, 6, Kind::Digits)?;
        put_check(&mut out);
        put_info(&mut out, &self.info)?;
        debug_assert_eq!(out.len(), REQUEST_LEN);
        Ok(out)
    }

    /// Reads a request record (the simulator's side). Never panics.
    pub fn decode(rec: &[u8]) -> Result<Request, RecordError> {
        let mut r = Reader::of_length(rec, REQUEST_LEN)?;
        let pos_no = r.field("pos_no", 8, Kind::Text)?;
        let operator = r.field("operator", 8, Kind::Text)?;
        let trans = r.trans()?;
        let amount = r.amount()?;
        let orig_date = r.field("orig_date", 8, Kind::Digits)?;
        let orig_ref_no = r.field("orig_ref_no", 12, Kind::Digits)?;
        let orig_voucher = r.field("orig_voucher", 6, Kind::Digits)?;
        r.check()?;
        let info = r.info()?;
        Ok(Request { pos_no, operator, trans, amount, orig_date, orig_ref_no, orig_voucher, info })
    }
}

impl Response {
    /// The 252-byte record (tests build records with it; the simulator writes its own). The
    /// message is encoded in GBK and cut to 40 bytes at a character boundary.
    pub fn encode(&self) -> Result<Vec<u8>, RecordError> {
        let mut out = Vec::with_capacity(RESPONSE_LEN);
        out.extend_from_slice(&self.code.0);
        put(&mut out, "issuer", &self.issuer, 4, Kind::Text)?;
        let pan = self.pan.as_ref().map_or("", MaskedPan::as_receipt_text);
        put(&mut out, "pan", pan, 20, Kind::Text)?;
        put(&mut out, "voucher", &self.voucher, 6, Kind::Digits)?;
        put_amount(&mut out, self.amount)?;
        out.extend_from_slice(&gbk_field(&self.message, 40));
        put(&mut out, "merchant_id", &self.merchant_id, 15, Kind::Text)?;
        put(&mut out, "terminal_id", &self.terminal_id, 8, Kind::Text)?;
        put(&mut out, "batch", &self.batch, 6, Kind::Digits)?;
        put(&mut out, "date", &self.date, 4, Kind::Digits)?;
        put(&mut out, "time", &self.time, 6, Kind::Digits)?;
        put(&mut out, "ref_no", &self.ref_no, 12, Kind::Digits)?;
        put(&mut out, "auth_code", &self.auth_code, 6, Kind::Text)?;
        put(&mut out, "settle_date", &self.settle_date, 4, Kind::Digits)?;
        put_check(&mut out);
        out.extend_from_slice(&self.reply_to.code());
        out.extend_from_slice(&self.trans.map_or(*b"  ", TransType::code));
        put_info(&mut out, &self.info)?;
        debug_assert_eq!(out.len(), RESPONSE_LEN);
        Ok(out)
    }

    /// Reads a response record field by field. Never panics. A card number that is not masked
    /// is dropped (`pan: None`) and logged as such, without its digits.
    pub fn decode(rec: &[u8]) -> Result<Response, RecordError> {
        let mut r = Reader::of_length(rec, RESPONSE_LEN)?;
        let mut response = Response::decode_listed(&mut r)?;
        response.reply_to = r.trans()?;
        response.trans = match r.code2() {
            [b' ', b' '] => None,
            c if !c.iter().all(|&b| ok_text(b)) => return Err(RecordError::UnknownType(c)),
            // A type the kiosk never sends (`05` sign-in, `06` settlement, `03` balance: §6.4)
            // as the terminal's last transaction: about none of our orders.
            c => TransType::try_from(c).ok(),
        };
        response.info = r.info()?;
        Ok(response)
    }

    /// Reads the answer to `request`: our full record, or the short one hardware.md §6.4 lists.
    /// The short record names no type and echoes none of our references; it is taken as the
    /// answer to the request just sent (the link carries one at a time) only if it carries that
    /// request's amount: a late answer to an earlier request (a sale's approval arriving during
    /// its reversal, say) would otherwise pass for this one's. Of a QUERY_LAST it cannot say
    /// which order the last transaction was for, so it is about none (`trans: None`).
    pub fn decode_answer(rec: &[u8], request: &Request) -> Result<Response, RecordError> {
        if rec.len() != SHORT_RESPONSE_LEN {
            return Response::decode(rec);
        }
        let mut r = Reader { rec, at: 0 };
        let mut response = Response::decode_listed(&mut r)?;
        if request.trans != TransType::QueryLast && response.amount != request.amount {
            return Err(RecordError::Field("amount"));
        }
        response.reply_to = request.trans;
        if request.trans != TransType::QueryLast {
            response.trans = Some(request.trans);
            response.info = request.info.clone();
        }
        Ok(response)
    }

    /// The fields §6.4 lists, code to the record check; the rest bare.
    fn decode_listed(r: &mut Reader<'_>) -> Result<Response, RecordError> {
        let code = RespCode(r.code2());
        if !code.0.iter().all(|&b| ok_text(b)) {
            return Err(RecordError::Field("code"));
        }
        let issuer = r.field("issuer", 4, Kind::Text)?;
        let pan_text = r.field("pan", 20, Kind::Text)?;
        let pan = MaskedPan::new(&pan_text);
        if pan.is_none() && !pan_text.is_empty() {
            tracing::warn!("terminal sent a card number that is not masked; dropped");
        }
        drop(pan_text);
        let voucher = r.field("voucher", 6, Kind::Digits)?;
        let amount = r.amount()?;
        let (message, _) = encoding_rs::GBK.decode_without_bom_handling(trim_end(r.raw(40)));
        let message = message.trim_end().to_string();
        let merchant_id = r.field("merchant_id", 15, Kind::Text)?;
        let terminal_id = r.field("terminal_id", 8, Kind::Text)?;
        let batch = r.field("batch", 6, Kind::Digits)?;
        let date = r.field("date", 4, Kind::Digits)?;
        let time = r.field("time", 6, Kind::Digits)?;
        let ref_no = r.field("ref_no", 12, Kind::Digits)?;
        let auth_code = r.field("auth_code", 6, Kind::Text)?;
        let settle_date = r.field("settle_date", 4, Kind::Digits)?;
        r.check()?;
        Ok(Response {
            code,
            issuer,
            pan,
            voucher,
            amount,
            message,
            merchant_id,
            terminal_id,
            batch,
            date,
            time,
            ref_no,
            auth_code,
            settle_date,
            reply_to: TransType::QueryLast,
            trans: None,
            info: IndustryInfo::default(),
        })
    }
}
