//! The last lines the kiosk logged, kept in memory for the hub's diagnostics command: an operator
//! asking why a hut's kiosk misbehaves sees what it said lately without a visit. The log's
//! writer (`redact::RedactingWriter`) hands each line over after scrubbing it, so they hold no
//! more than the log itself; journald keeps the rest.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Lines kept; older ones are dropped.
const KEPT_LINES: usize = 200;
/// A longer line is cut here (a runaway debug dump must not crowd out the rest).
const MAX_LINE_CHARS: usize = 300;

static RECENT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

/// Keeps each line of `text` (one formatted event).
pub fn keep(text: &str) {
    let Ok(mut recent) = RECENT.lock() else { return };
    for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        let mut kept: String = line.chars().take(MAX_LINE_CHARS).collect();
        if kept.len() < line.len() {
            kept.push('…');
        }
        if recent.len() == KEPT_LINES {
            recent.pop_front();
        }
        recent.push_back(kept);
    }
}

/// The newest `n` lines, oldest first.
pub fn last(n: usize) -> Vec<String> {
    let Ok(recent) = RECENT.lock() else { return Vec::new() };
    recent.iter().skip(recent.len().saturating_sub(n)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test owns the process-wide buffer (tests in this binary run in parallel).
    #[test]
    fn keeps_the_newest_lines_scrubbed_and_cut_to_a_sensible_length() {
        use std::io::Write;
        let mut out = Vec::new();
        let mut writer = crate::redact::RedactingWriter::new(&mut out);
        for i in 0..(KEPT_LINES + 5) {
            writer.write_all(format!("INFO line {i}\n").as_bytes()).unwrap();
        }
        writer.write_all(b"INFO paying account=3100000011\n").unwrap();
        writer.write_all(format!("WARN {}\n", "界".repeat(MAX_LINE_CHARS + 10)).as_bytes()).unwrap();
        assert!(String::from_utf8(out).unwrap().starts_with("INFO line 0\n"), "passed on whole");
        let lines = last(3);
        assert_eq!(lines[0], format!("INFO line {}", KEPT_LINES + 4));
        assert_eq!(lines[1], "INFO paying account=31****0011", "kept as scrubbed");
        assert_eq!(lines[2].chars().count(), MAX_LINE_CHARS + 1);
        assert!(lines[2].ends_with('…'));
        assert_eq!(last(1000).len(), KEPT_LINES, "older lines are dropped");
    }
}
