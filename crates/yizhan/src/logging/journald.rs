//! Logging straight into the systemd journal with structured fields (`format = "journald"`):
//! each event, formatted as JSON and already scrubbed by the redact writer, is sent over the
//! journal's native protocol (one datagram to /run/systemd/journal/socket) as `MESSAGE`,
//! `PRIORITY`, `TARGET` and one field per event field (`ORDER=…`, `STATE=…`), so that
//! `journalctl -u yizhan ORDER=YZK…` finds a payment's lines. Nothing is rotated by us: the
//! journal keeps and ages it.

use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::Path;

/// Where journald listens.
pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

/// A writer that hands each JSON event to journald.
pub struct JournaldWriter {
    socket: UnixDatagram,
}

impl JournaldWriter {
    /// Connected to journald's socket at `path`.
    pub fn connect(path: &Path) -> io::Result<JournaldWriter> {
        let socket = UnixDatagram::unbound()?;
        socket.connect(path)?;
        Ok(JournaldWriter { socket })
    }
}

/// A journal field name from an event field's: upper case, letters, digits and `_`, not
/// starting with `_` or a digit (journald's rule), at most 64 characters.
fn field_name(key: &str) -> Option<String> {
    let name: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect::<String>()
        .trim_start_matches(|c: char| c == '_' || c.is_ascii_digit())
        .chars()
        .take(64)
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Appends one field in the native protocol: `NAME=value\n`, or, for a value with a newline,
/// the name, a newline, the value's length (64-bit little-endian) and the value.
fn push_field(out: &mut Vec<u8>, name: &str, value: &str) {
    if value.contains('\n') {
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        out.extend_from_slice(value.as_bytes());
    } else {
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
    }
    out.push(b'\n');
}

/// syslog's priority for a tracing level.
fn priority(level: &str) -> &'static str {
    match level {
        "ERROR" => "3",
        "WARN" => "4",
        "INFO" => "6",
        _ => "7",
    }
}

/// The datagram for one JSON event line (as `tracing_subscriber`'s JSON format writes it); a line
/// that is not such an event goes as the message itself.
pub fn datagram(line: &str) -> Vec<u8> {
    let mut out = Vec::new();
    push_field(&mut out, "SYSLOG_IDENTIFIER", "yizhan");
    let event: serde_json::Value = match serde_json::from_str(line.trim()) {
        Ok(event @ serde_json::Value::Object(_)) => event,
        _ => {
            push_field(&mut out, "MESSAGE", line.trim_end());
            return out;
        }
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    push_field(&mut out, "PRIORITY", priority(event["level"].as_str().unwrap_or("INFO")));
    if let Some(target) = event.get("target") {
        push_field(&mut out, "TARGET", &text(target));
    }
    let empty = serde_json::Map::new();
    let fields = event.get("fields").and_then(|f| f.as_object()).unwrap_or(&empty);
    push_field(&mut out, "MESSAGE", &fields.get("message").map(text).unwrap_or_default());
    for (key, value) in fields.iter().filter(|(k, _)| k.as_str() != "message") {
        if let Some(name) = field_name(key).filter(|n| !matches!(n.as_str(), "MESSAGE" | "PRIORITY")) {
            push_field(&mut out, &name, &text(value));
        }
    }
    out
}

impl Write for JournaldWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        if line.trim().is_empty() {
            return Ok(buf.len());
        }
        match self.socket.send(&datagram(&line)) {
            // Larger than a datagram may be: its start, said to be cut, rather than nothing.
            Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                let start: String = line.chars().take(16 * 1024).collect();
                self.socket.send(&datagram(&format!("{start} …(cut: the event was too large)")))?;
            }
            sent => {
                sent?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::RedactingWriter;

    fn fields(datagram: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(datagram).lines().map(str::to_string).collect()
    }

    #[test]
    fn an_event_becomes_journal_fields_scrubbed_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.socket");
        let journal = UnixDatagram::bind(&path).unwrap();
        let mut writer = RedactingWriter::new(JournaldWriter::connect(&path).unwrap());
        let event = r#"{"timestamp":"t","level":"WARN","fields":{"message":"paying","account":"3100000011","order":"YZK1261123104205123","amount":3150},"target":"yizhan::runtime"}"#;
        writer.write_all(format!("{event}\n").as_bytes()).unwrap();
        let mut buf = [0; 4096];
        let n = journal.recv(&mut buf).unwrap();
        let got = fields(&buf[..n]);
        for want in [
            "SYSLOG_IDENTIFIER=yizhan",
            "PRIORITY=4",
            "TARGET=yizhan::runtime",
            "MESSAGE=paying",
            "ORDER=YZK1261123104205123",
            "AMOUNT=3150",
        ] {
            assert!(got.iter().any(|f| f == want), "{want} not in {got:?}");
        }
        let account = got.iter().find(|f| f.starts_with("ACCOUNT=")).unwrap();
        assert!(!account.contains("3100000011"), "the account is masked before it leaves: {account}");
    }

    #[test]
    fn odd_lines_and_names_are_still_sent_whole() {
        assert_eq!(fields(&datagram("not json\n")), ["SYSLOG_IDENTIFIER=yizhan", "MESSAGE=not json"]);
        let multi =
            datagram(r#"{"level":"ERROR","fields":{"message":"a\nb","_x-y":1,"9lives":2,"priority":"x"}}"#);
        let mut expected = b"SYSLOG_IDENTIFIER=yizhan\nPRIORITY=3\nMESSAGE\n".to_vec();
        expected.extend_from_slice(&3u64.to_le_bytes());
        // (fields in the JSON map's order: by name)
        expected.extend_from_slice(b"a\nb\nLIVES=2\nX_Y=1\n");
        assert_eq!(multi, expected);
    }
}
