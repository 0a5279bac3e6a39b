//! The last line of defence for privacy in logs. Account numbers, payment codes and names reach
//! log calls only through masked types, by construction; this scrubber also masks, in every
//! formatted log line, any free-standing run of 9–24 digits (the lengths of 户号 and of payment
//! codes) and any `name=`/`holder=` field value, in case a value slips through some day.
//!
//! Runs glued to letters (order numbers such as `YZ…`) and longer runs (channel transaction ids,
//! 28 digits) are left alone: staff need them, and they identify a payment, not a person.

use std::borrow::Cow;
use std::io::{self, Write};

/// Masks what looks like personal data in one formatted log line.
pub fn redact_line(line: &str) -> Cow<'_, str> {
    let masked_digits = mask_digit_runs(line);
    let masked_names = mask_named_fields(&masked_digits);
    if masked_names == line {
        Cow::Borrowed(line)
    } else {
        Cow::Owned(masked_names)
    }
}

fn mask_digit_runs(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        // Glued to letters (order numbers) or the fraction of a decimal number (timings).
        let glued_before = start > 0 && (chars[start - 1].is_ascii_alphabetic() || chars[start - 1] == '.');
        let glued_after = i < chars.len() && chars[i].is_ascii_alphabetic();
        let run: String = chars[start..i].iter().collect();
        if (9..=24).contains(&run.len()) && !glued_before && !glued_after {
            out.push_str(&kiosk_core::utility::mask_middle(&run, 2, 4));
        } else {
            out.push_str(&run);
        }
    }
    out
}

/// `name=张三`, `holder="张三"`, `"name":"张三"` → the value starred out.
fn mask_named_fields(line: &str) -> String {
    let mut out = line.to_string();
    for key in ["name", "holder", "holder_name"] {
        for pattern in [format!("{key}="), format!("\"{key}\":")] {
            let mut search_from = 0;
            while let Some(found) = out[search_from..].find(&pattern) {
                let value_start = search_from + found + pattern.len();
                let preceded_by_word = value_start > pattern.len()
                    && out[..value_start - pattern.len()]
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_');
                let rest = &out[value_start..];
                let quoted = rest.starts_with('"');
                let body_start = value_start + usize::from(quoted);
                let body_len = out[body_start..]
                    .char_indices()
                    .find(|&(_, c)| if quoted { c == '"' } else { c.is_whitespace() || c == ',' || c == '}' })
                    .map_or(out.len() - body_start, |(i, _)| i);
                if !preceded_by_word && body_len > 0 {
                    let stars = "*".repeat(out[body_start..body_start + body_len].chars().count());
                    out.replace_range(body_start..body_start + body_len, &stars);
                }
                search_from = body_start + body_len.max(1).min(out.len() - body_start);
                if search_from >= out.len() {
                    break;
                }
            }
        }
    }
    out
}

/// A writer for `tracing_subscriber` that scrubs each line before it reaches the terminal or
/// file, and keeps the scrubbed line among the recent ones (`logging::recent`) for the hub's
/// diagnostics.
pub struct RedactingWriter<W: Write> {
    inner: W,
}

impl<W: Write> RedactingWriter<W> {
    pub fn new(inner: W) -> Self {
        RedactingWriter { inner }
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // The formatter hands over whole events; a non-UTF-8 event is written as it is.
        match std::str::from_utf8(buf) {
            Ok(text) => {
                let scrubbed = redact_line(text);
                crate::logging::recent::keep(&scrubbed);
                self.inner.write_all(scrubbed.as_bytes())?
            }
            // Not text: not kept (a diagnostics report is text), passed on as it is.
            Err(_) => self.inner.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_accounts_and_payment_codes_but_not_order_numbers_or_txn_ids() {
        let line = "paying account=3100000011 code=134567890123456789 order=YZK1261123104205123 \
                    txn=4200001234202611231234567890 amount=3150";
        let out = redact_line(line);
        assert!(out.contains("account=31****0011"), "{out}");
        assert!(out.contains("code=13************6789"), "{out}");
        assert!(out.contains("order=YZK1261123104205123"), "{out}");
        assert!(out.contains("txn=4200001234202611231234567890"), "{out}");
        assert!(out.contains("amount=3150"), "{out}");
        assert_eq!(redact_line("elapsed_secs=0.019488465"), "elapsed_secs=0.019488465");
    }

    #[test]
    fn masks_name_fields_in_text_and_json() {
        assert_eq!(redact_line("holder=张三丰 ok"), "holder=*** ok");
        assert_eq!(redact_line(r#"{"name":"王小明","x":1}"#), r#"{"name":"***","x":1}"#);
        assert_eq!(redact_line("filename=a.txt"), "filename=a.txt");
    }
}
