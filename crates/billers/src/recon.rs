//! The biller's daily reconciliation file (对账文件, payments.md §6, water-company style).
//!
//! UTF-8 text, one record per line (`\n` or `\r\n`):
//!
//! ```text
//! 2|8130
//! 2026-11-23|000001|YZ0001261123000001-1|310000003|3150|wechat|pay
//! 2026-11-23|000002|YZ0001261123000002-1|3200000006|4980|alipay|prepaid
//! ```
//!
//! The first line is the summary `count|total_fen`; each further line is
//! `date|serial|reference|account|amount_fen|channel|type`. The six-field layout payments.md §4.2
//! gives (`date|serial|customer no.|amount|sub-channel|type`) is read too: its serial is the
//! one number the biller keeps for the write-off, the reference it was sent under, so it is the
//! key. Dates are `2026-11-23` or `20261123`. The file is the biller's final word on what it
//! credited, so the parser is strict: anything it cannot account for is an error, never a
//! guess, and no input makes it panic.

use kiosk_core::{AccountNo, Fen};
use std::fmt;

/// What a line of the file records.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReconKind {
    /// A postpaid bill written off (`pay`).
    Pay,
    /// A prepaid card purchase (`prepaid`).
    Prepaid,
    /// A type this kiosk does not issue (a counter cancellation, say), kept for staff.
    Other(String),
}

impl ReconKind {
    pub fn code(&self) -> &str {
        match self {
            ReconKind::Pay => "pay",
            ReconKind::Prepaid => "prepaid",
            ReconKind::Other(code) => code,
        }
    }

    fn parse(text: &str) -> ReconKind {
        match text {
            "pay" => ReconKind::Pay,
            "prepaid" => ReconKind::Prepaid,
            other => ReconKind::Other(other.to_string()),
        }
    }
}

/// One credited payment in the biller's file. `Debug` masks the account (see `AccountNo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconRow {
    /// ISO date, "2026-11-23".
    pub date: String,
    /// The biller's own serial number.
    pub serial: String,
    /// Our write-off reference (`OrderLine.biller_ref`): the key recon matches on.
    pub reference: String,
    pub account: AccountNo,
    pub amount: Fen,
    pub channel: String,
    pub kind: ReconKind,
}

/// A file line as the core's matching reads it: a `pay` or `prepaid` line credits its reference;
/// any other kind (a counter cancellation) does not.
impl From<ReconRow> for kiosk_core::recon::BillerRow {
    fn from(row: ReconRow) -> Self {
        let credited = match row.kind {
            ReconKind::Pay | ReconKind::Prepaid => true,
            ReconKind::Other(_) => false,
        };
        kiosk_core::recon::BillerRow { reference: row.reference, amount: row.amount, credited }
    }
}

/// A whole file: the summary line and the detail lines, already checked against each other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconFile {
    pub count: usize,
    pub total: Fen,
    pub rows: Vec<ReconRow>,
}

/// Why a file was refused; `line` is 1-based.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReconError {
    #[error("the reconciliation file is empty")]
    Empty,
    #[error("line {line}: expected {expected} fields separated by '|', found {found}")]
    FieldCount { line: usize, expected: usize, found: usize },
    #[error("line {line}: field `{field}` {problem}")]
    BadField { line: usize, field: &'static str, problem: &'static str },
    #[error("the summary says {expected} lines but the file has {found}")]
    CountMismatch { expected: usize, found: usize },
    #[error("the summary says {expected} but the lines add up to {found}")]
    TotalMismatch { expected: Fen, found: Fen },
}

const DETAIL_FIELDS: usize = 7;
/// payments.md §4.2's layout, without our reference.
const SPEC_DETAIL_FIELDS: usize = 6;

/// Parses a whole file, checking the summary against the lines.
pub fn parse(text: &str) -> Result<ReconFile, ReconError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
    let (summary_no, summary) = lines.next().ok_or(ReconError::Empty)?;
    let (count, total) = parse_summary(summary_no, summary)?;
    let rows = lines.map(|(no, line)| parse_row(no, line)).collect::<Result<Vec<_>, _>>()?;
    if rows.len() != count {
        return Err(ReconError::CountMismatch { expected: count, found: rows.len() });
    }
    let found = Fen::sum(rows.iter().map(|r| r.amount)).ok_or(ReconError::BadField {
        line: summary_no,
        field: "total_fen",
        problem: "overflows",
    })?;
    if found != total {
        return Err(ReconError::TotalMismatch { expected: total, found });
    }
    Ok(ReconFile { count, total, rows })
}

/// Writes a file in the format [`parse`] reads (for tests; the simulators write theirs
/// independently).
pub fn render(rows: &[ReconRow]) -> String {
    let total = Fen::sum(rows.iter().map(|r| r.amount)).unwrap_or_default();
    let mut out = format!("{}|{}\n", rows.len(), total.0);
    for row in rows {
        out.push_str(&format!(
            "{}|{}|{}|{}|{}|{}|{}\n",
            row.date,
            row.serial,
            row.reference,
            row.account.as_str(),
            row.amount.0,
            row.channel,
            row.kind.code()
        ));
    }
    out
}

fn parse_summary(line_no: usize, line: &str) -> Result<(usize, Fen), ReconError> {
    let fields = split(line_no, line, 2)?;
    let count = fields[0].parse::<usize>().map_err(|_| bad(line_no, "count", "is not a whole number"))?;
    let total = parse_fen(line_no, "total_fen", fields[1])?;
    Ok((count, total))
}

fn parse_row(line_no: usize, line: &str) -> Result<ReconRow, ReconError> {
    let mut f = fields(line);
    match f.len() {
        DETAIL_FIELDS => {}
        // No reference column: the serial is the reference.
        SPEC_DETAIL_FIELDS => f.insert(2, f[1]),
        found => return Err(ReconError::FieldCount { line: line_no, expected: DETAIL_FIELDS, found }),
    }
    let date = parse_date(f[0]).ok_or_else(|| bad(line_no, "date", "is not a date like 2026-11-23"))?;
    let serial = non_empty(line_no, "serial", f[1])?;
    let reference = non_empty(line_no, "reference", f[2])?;
    if f[3].is_empty() || !f[3].bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(line_no, "account", "is not an account number"));
    }
    let amount = parse_fen(line_no, "amount_fen", f[4])?;
    let channel = non_empty(line_no, "channel", f[5])?;
    let kind = non_empty(line_no, "type", f[6])?;
    Ok(ReconRow {
        date,
        serial,
        reference,
        account: AccountNo::from_trusted(f[3]),
        amount,
        channel,
        kind: ReconKind::parse(&kind),
    })
}

/// `2026-11-23` or `20261123`, as an ISO date.
fn parse_date(text: &str) -> Option<String> {
    let format = match text.len() {
        10 => "%Y-%m-%d",
        8 if text.bytes().all(|b| b.is_ascii_digit()) => "%Y%m%d",
        _ => return None,
    };
    let date = chrono::NaiveDate::parse_from_str(text, format).ok()?;
    Some(date.format("%Y-%m-%d").to_string())
}

fn fields(line: &str) -> Vec<&str> {
    line.trim_end_matches('\r').split('|').map(str::trim).collect()
}

fn split(line_no: usize, line: &str, expected: usize) -> Result<Vec<&str>, ReconError> {
    let fields = fields(line);
    if fields.len() != expected {
        return Err(ReconError::FieldCount { line: line_no, expected, found: fields.len() });
    }
    Ok(fields)
}

/// A non-negative integer amount of fen: digits only, no sign, no decimals.
fn parse_fen(line_no: usize, field: &'static str, text: &str) -> Result<Fen, ReconError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(line_no, field, "is not a whole number of fen"));
    }
    text.parse::<i64>().map(Fen).map_err(|_| bad(line_no, field, "is too large"))
}

fn non_empty(line_no: usize, field: &'static str, text: &str) -> Result<String, ReconError> {
    if text.is_empty() {
        return Err(bad(line_no, field, "is empty"));
    }
    Ok(text.to_string())
}

fn bad(line: usize, field: &'static str, problem: &'static str) -> ReconError {
    ReconError::BadField { line, field, problem }
}

impl fmt::Display for ReconKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "2|8130\n\
        2026-11-23|000001|YZ0001261123000001-1|310000003|3150|wechat|pay\r\n\
        2026-11-23|000002|YZ0001261123000002-1|3200000006|4980|alipay|prepaid\n";

    #[test]
    fn parses_the_documented_example() {
        let file = parse(FILE).unwrap();
        assert_eq!(file.count, 2);
        assert_eq!(file.total, Fen(8130));
        assert_eq!(file.rows[0].reference, "YZ0001261123000001-1");
        assert_eq!(file.rows[0].account.as_str(), "310000003");
        assert_eq!(file.rows[1].kind, ReconKind::Prepaid);
        assert_eq!(parse(&render(&file.rows)), Ok(file));
    }

    #[test]
    fn parses_the_six_field_layout_of_the_spec_with_compact_dates() {
        // payments.md §4.2: `count|total`, then `date|serial|customer no.|amount|sub-channel|type`.
        let file = parse(
            "2|8130\n20261123|YZ0001261123000001-1|310000003|3150|wechat|pay\n\
            2026-11-23|YZ0001261123000002-1|3200000006|4980|alipay|prepaid\n",
        )
        .unwrap();
        assert_eq!(file.rows[0].reference, "YZ0001261123000001-1", "the serial is the key");
        assert_eq!(file.rows[0].serial, "YZ0001261123000001-1");
        assert_eq!(file.rows[0].date, "2026-11-23");
        assert_eq!((file.rows[1].amount, file.rows[1].kind.clone()), (Fen(4980), ReconKind::Prepaid));
        assert!(matches!(
            parse("1|1\n20261323|S1|310000003|1|wechat|pay\n"),
            Err(ReconError::BadField { field: "date", .. })
        ));
    }

    #[test]
    fn an_empty_day_is_a_zero_summary() {
        assert_eq!(parse("0|0\n"), Ok(ReconFile { count: 0, total: Fen(0), rows: vec![] }));
        assert_eq!(render(&[]), "0|0\n");
    }

    #[test]
    fn inconsistent_files_are_refused() {
        assert_eq!(parse(""), Err(ReconError::Empty));
        assert!(matches!(parse("3|8130\n"), Err(ReconError::CountMismatch { expected: 3, found: 0 })));
        let wrong_total = FILE.replacen("8130", "8131", 1);
        assert!(matches!(parse(&wrong_total), Err(ReconError::TotalMismatch { .. })));
        let negative = FILE.replacen("|3150|", "|-3150|", 1);
        assert!(matches!(parse(&negative), Err(ReconError::BadField { line: 2, field: "amount_fen", .. })));
        let short = "1|1\n2026-11-23|1|310000003|1|wechat\n";
        assert!(matches!(parse(short), Err(ReconError::FieldCount { line: 2, expected: 7, found: 5 })));
        let bad_date = "1|1\n2026-13-23|1|R|310000003|1|wechat|pay\n";
        assert!(matches!(parse(bad_date), Err(ReconError::BadField { field: "date", .. })));
        let overflow = format!("2|0\n{0}\n{0}\n", format_args!("2026-11-23|1|R|1|{}|wechat|pay", i64::MAX));
        assert!(parse(&overflow).is_err());
    }
}
