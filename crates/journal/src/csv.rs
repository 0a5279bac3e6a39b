//! CSV export of the transitions, for staff and reconciliation (对账) tools.
//!
//! RFC 4180 quoting: a field holding a comma, a quote, CR or LF is wrapped in quotes, inner
//! quotes doubled. Because staff open these files in spreadsheet programs, a field starting with
//! `=`, `+`, `-`, `@`, TAB or CR is also prefixed with `'` (OWASP's CSV-injection advice), so it is
//! shown as text and never run as a formula. Only the exported text changes; the journal and the
//! exported `hash` column are untouched, so verify against the journal, not against the file.

use std::borrow::Cow;
use std::io::Write;

use chrono::{DateTime, SecondsFormat};

use crate::model::TransitionRow;

/// Column names, in order.
pub(crate) const HEADER: [&str; 7] = ["payment_id", "seq", "at", "from_state", "to_state", "event", "hash"];

/// Writes one CSV record terminated by CRLF.
pub(crate) fn write_record<W: Write>(w: &mut W, fields: &[&str]) -> std::io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        w.write_all(escape(field).as_bytes())?;
    }
    w.write_all(b"\r\n")
}

/// Writes one transition as a CSV record.
pub(crate) fn write_transition<W: Write>(w: &mut W, t: &TransitionRow) -> std::io::Result<()> {
    let seq = t.seq.to_string();
    let at = iso_millis(t.at);
    write_record(w, &[&t.payment_id, &seq, &at, &t.from_state, &t.to_state, &t.event, &t.hash])
}

/// `2024-05-01T08:00:00.123Z`; the raw number if it is outside chrono's range.
pub(crate) fn iso_millis(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

fn escape(field: &str) -> Cow<'_, str> {
    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = formula || field.contains([',', '"', '\r', '\n']);
    if !needs_quotes {
        return Cow::Borrowed(field);
    }
    let mut out = String::with_capacity(field.len() + 4);
    out.push('"');
    if formula {
        out.push('\'');
    }
    for c in field.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_fields_are_left_alone() {
        assert_eq!(escape("PAY_SENT"), "PAY_SENT");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn special_characters_are_quoted() {
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(escape("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(escape("=1+1"), "\"'=1+1\"");
        assert_eq!(escape("-5"), "\"'-5\"");
    }

    #[test]
    fn iso_time_is_utc_with_millis() {
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(1_714_550_400_123), "2024-05-01T08:00:00.123Z");
    }
}
