//! A sans-IO ESC/POS parser: bytes in, [`Event`]s out. The simulator's half of the codec.
//!
//! It knows the commands of hardware.md §4.1 and skips every other common ESC/GS/FS command by
//! its documented length, so an unknown printer command never desynchronises the text. It keeps
//! incomplete commands (and half a GB18030 character) until the next bytes arrive, and never
//! panics on any input (property-tested): raster data, whose declared size can reach 4 GB, is
//! skipped by counting rather than buffered.

use crate::layout::Align;

/// What a command means to the simulator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `ESC @`.
    Init,
    /// `FS &` (true) / `FS .` (false).
    ChineseMode(bool),
    /// `ESC a n`.
    Align(Align),
    /// `ESC E n`.
    Bold(bool),
    /// Printable text, decoded to UTF-8 (GB18030 in Chinese mode).
    Text(String),
    /// `LF`: print the line.
    NewLine,
    /// `ESC d n`: print the line and feed `n` lines in all.
    Feed(u8),
    /// `GS ( k … 31 50 30 d…`: QR data stored.
    QrStore(Vec<u8>),
    /// `GS ( k 03 00 31 51 30`: QR printed.
    QrPrint,
    /// `GS k m …`: a 1-D barcode with its human-readable data.
    Barcode {
        /// Symbology `m` (73 = Code 128).
        kind: u8,
        /// Data (code-set prefixes removed, `{C` pairs as digits).
        data: String,
    },
    /// Any form of `GS V` (the simulator accepts all, §4.1 cut note).
    Cut,
    /// `DLE EOT n`: real-time status request.
    StatusRequest(u8),
    /// `GS r 1`: paper sensor status request.
    PaperStatusRequest,
    /// `GS v 0`: raster image of `width_bytes` × `height` (data skipped).
    Raster {
        /// Bytes per row.
        width_bytes: u16,
        /// Rows.
        height: u16,
    },
    /// A known command without effect on the transcript (styles, sizes, spacing...).
    Ignored,
    /// A byte or command the parser does not know (counted by the simulator).
    Unknown(u8),
}

impl Event {
    /// Real-time commands are executed on receipt, not printed: they do not use paper.
    pub fn is_real_time(&self) -> bool {
        matches!(self, Event::StatusRequest(_))
    }
}

/// One parsed event and how many bytes it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The event.
    pub event: Event,
    /// Bytes it consumed.
    pub len: usize,
}

/// The parser state: bytes not yet parsed and raster data still to skip.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    skip: u64,
    chinese: bool,
}

enum Step {
    Need,
    Done(Event, usize),
    /// Event, header bytes consumed, then this many data bytes to skip.
    Skip(Event, usize, u64),
}

impl Parser {
    /// A parser in Chinese mode (the power-on default of Chinese printers).
    pub fn new() -> Self {
        Parser { buf: Vec::new(), skip: 0, chinese: true }
    }

    /// Feeds bytes; returns every event they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Parsed> {
        let mut out = Vec::new();
        let mut input = bytes;
        if self.skip > 0 {
            let n = usize::try_from(self.skip).unwrap_or(usize::MAX).min(input.len());
            self.skip -= n as u64;
            input = &input[n..];
        }
        self.buf.extend_from_slice(input);
        let mut at = 0;
        while at < self.buf.len() {
            match parse_one(&self.buf[at..], self.chinese) {
                Step::Need => break,
                Step::Done(event, len) => {
                    if let Event::ChineseMode(on) = event {
                        self.chinese = on;
                    }
                    at += len;
                    out.push(Parsed { event, len });
                }
                Step::Skip(event, len, data) => {
                    at += len;
                    let here = (self.buf.len() - at) as u64;
                    let now = data.min(here);
                    at += now as usize;
                    self.skip = data - now;
                    out.push(Parsed { event, len: len + now as usize });
                    if self.skip > 0 {
                        break;
                    }
                }
            }
        }
        self.buf.drain(..at.min(self.buf.len()));
        out
    }
}

fn get(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

/// A command of fixed length `n`: `Done(event, n)` once `n` bytes are there.
fn fixed(b: &[u8], n: usize, event: impl FnOnce(&[u8]) -> Event) -> Step {
    if b.len() < n {
        Step::Need
    } else {
        Step::Done(event(&b[..n]), n)
    }
}

fn parse_one(b: &[u8], chinese: bool) -> Step {
    let Some(first) = get(b, 0) else { return Step::Need };
    match first {
        0x0A => Step::Done(Event::NewLine, 1),
        0x00 | 0x0D | 0x0C => Step::Done(Event::Ignored, 1),
        0x09 => Step::Done(Event::Text(" ".into()), 1),
        0x10 => dle(b),
        0x1B => esc(b),
        0x1C => fs(b),
        0x1D => gs(b),
        0x01..=0x1F | 0x7F => Step::Done(Event::Unknown(first), 1),
        _ => text(b, chinese),
    }
}

fn dle(b: &[u8]) -> Step {
    let Some(cmd) = get(b, 1) else { return Step::Need };
    match cmd {
        0x04 => fixed(b, 3, |c| Event::StatusRequest(c[2])),
        0x05 => fixed(b, 3, |_| Event::Ignored),
        0x14 => fixed(b, 5, |_| Event::Ignored),
        _ => Step::Done(Event::Unknown(0x10), 1),
    }
}

fn esc(b: &[u8]) -> Step {
    let Some(cmd) = get(b, 1) else { return Step::Need };
    match cmd {
        b'@' => Step::Done(Event::Init, 2),
        b'a' => fixed(b, 3, |c| {
            Event::Align(match c[2] {
                1 | b'1' => Align::Center,
                2 | b'2' => Align::Right,
                _ => Align::Left,
            })
        }),
        b'E' => fixed(b, 3, |c| Event::Bold(c[2] & 1 == 1)),
        b'd' => fixed(b, 3, |c| Event::Feed(c[2])),
        b'2' => Step::Done(Event::Ignored, 2),
        b'!' | b'-' | b'3' | b'J' | b'M' | b't' | b'G' | b'V' | b'{' | b'R' | b' ' | b'c' | b'U' | b'r' => {
            fixed(b, 3, |_| Event::Ignored)
        }
        b'$' | b'\\' => fixed(b, 4, |_| Event::Ignored),
        b'p' => fixed(b, 5, |_| Event::Ignored),
        b'*' => {
            if b.len() < 5 {
                return Step::Need;
            }
            let dots = u64::from(b[3]) + 256 * u64::from(b[4]);
            let per = if b[2] <= 1 { 1 } else { 3 };
            Step::Skip(Event::Ignored, 5, dots * per)
        }
        _ => Step::Done(Event::Unknown(0x1B), 2),
    }
}

fn fs(b: &[u8]) -> Step {
    let Some(cmd) = get(b, 1) else { return Step::Need };
    match cmd {
        b'&' => Step::Done(Event::ChineseMode(true), 2),
        b'.' => Step::Done(Event::ChineseMode(false), 2),
        b'!' | b'-' | b'W' => fixed(b, 3, |_| Event::Ignored),
        b'p' => fixed(b, 4, |_| Event::Ignored),
        _ => Step::Done(Event::Unknown(0x1C), 2),
    }
}

fn gs(b: &[u8]) -> Step {
    let Some(cmd) = get(b, 1) else { return Step::Need };
    match cmd {
        b'V' => {
            let Some(m) = get(b, 2) else { return Step::Need };
            match m {
                0 | 1 | 48 | 49 => Step::Done(Event::Cut, 3),
                65 | 66 | 97 | 98 | 103 | 104 => fixed(b, 4, |_| Event::Cut),
                _ => Step::Done(Event::Unknown(0x1D), 3),
            }
        }
        b'(' => {
            if b.len() < 5 {
                return Step::Need;
            }
            let len = usize::from(b[3]) + 256 * usize::from(b[4]);
            fixed(b, 5 + len, |c| {
                let data = &c[5..];
                match (c[2], data.first(), data.get(1)) {
                    (b'k', Some(0x31), Some(0x50)) => Event::QrStore(data.get(3..).unwrap_or(&[]).to_vec()),
                    (b'k', Some(0x31), Some(0x51)) => Event::QrPrint,
                    _ => Event::Ignored,
                }
            })
        }
        b'k' => barcode(b),
        b'r' => {
            fixed(b, 3, |c| if matches!(c[2], 1 | 49) { Event::PaperStatusRequest } else { Event::Ignored })
        }
        b'!' | b'h' | b'w' | b'H' | b'f' | b'a' | b'b' | b'B' | b'I' => fixed(b, 3, |_| Event::Ignored),
        b'L' | b'W' | b'P' => fixed(b, 4, |_| Event::Ignored),
        b'v' => {
            if b.len() < 8 {
                return Step::Need;
            }
            let x = u16::from(b[4]) | u16::from(b[5]) << 8;
            let y = u16::from(b[6]) | u16::from(b[7]) << 8;
            Step::Skip(Event::Raster { width_bytes: x, height: y }, 8, u64::from(x) * u64::from(y))
        }
        _ => Step::Done(Event::Unknown(0x1D), 2),
    }
}

fn barcode(b: &[u8]) -> Step {
    let Some(m) = get(b, 2) else { return Step::Need };
    if m <= 6 {
        // Function A: data ends with NUL.
        return match b[3..].iter().position(|&x| x == 0) {
            Some(end) => Step::Done(
                Event::Barcode { kind: m, data: String::from_utf8_lossy(&b[3..3 + end]).into_owned() },
                3 + end + 1,
            ),
            None if b.len() > 3 + 255 => Step::Done(Event::Unknown(0x1D), 3),
            None => Step::Need,
        };
    }
    let Some(n) = get(b, 3) else { return Step::Need };
    fixed(b, 4 + usize::from(n), |c| {
        let data = &c[4..];
        let text = if m == 73 { code128_text(data) } else { String::from_utf8_lossy(data).into_owned() };
        Event::Barcode { kind: m, data: text }
    })
}

/// Code 128 data as a person reads it: `{A`/`{B`/`{C` switch code sets; in set C each byte is
/// a digit pair.
fn code128_text(data: &[u8]) -> String {
    let mut out = String::new();
    let mut set_c = false;
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'{' && i + 1 < data.len() {
            match data[i + 1] {
                b'C' => set_c = true,
                b'A' | b'B' => set_c = false,
                b'{' => out.push('{'),
                _ => {}
            }
            i += 2;
            continue;
        }
        if set_c {
            out.push_str(&format!("{:02}", data[i] % 100));
        } else {
            out.push(char::from(data[i]));
        }
        i += 1;
    }
    out
}

/// A run of text up to the next control byte; multi-byte GB18030 characters are kept whole.
fn text(b: &[u8], chinese: bool) -> Step {
    let mut end = 0;
    while end < b.len() {
        let c = b[end];
        if c < 0x20 || c == 0x7F {
            break;
        }
        if c < 0x80 || !chinese {
            end += 1;
            continue;
        }
        let len = match (c, get(b, end + 1)) {
            (0x81..=0xFE, None) => return if end == 0 { Step::Need } else { decode(b, end) },
            (0x81..=0xFE, Some(0x40..=0x7E | 0x80..=0xFE)) => 2,
            (0x81..=0xFE, Some(0x30..=0x39)) => {
                if b.len() < end + 4 {
                    return if end == 0 { Step::Need } else { decode(b, end) };
                }
                4
            }
            _ => 1, // not a valid lead/trail: decodes to U+FFFD
        };
        end += len;
    }
    decode(b, end)
}

fn decode(b: &[u8], end: usize) -> Step {
    let (s, _) = encoding_rs::GB18030.decode_without_bom_handling(&b[..end]);
    Step::Done(Event::Text(s.into_owned()), end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn events(bytes: &[u8]) -> Vec<Event> {
        Parser::new().feed(bytes).into_iter().map(|p| p.event).collect()
    }

    #[test]
    fn status_requests_and_escpos_rs_trailing_nul() {
        // §4.3: escpos-rs sends 10 04 n 00; the NUL is a no-op.
        assert_eq!(events(&[0x10, 0x04, 0x04, 0x00]), vec![Event::StatusRequest(4), Event::Ignored]);
        assert_eq!(events(&[0x1D, 0x72, 0x01]), vec![Event::PaperStatusRequest]);
        // §4.1 GS r 1
    }

    #[test]
    fn gb18030_text_in_chinese_mode() {
        // FS &, then "缴费" (BD C9 B7 D1), LF.
        let e = events(&[0x1C, 0x26, 0xBD, 0xC9, 0xB7, 0xD1, 0x0A]);
        assert_eq!(e, vec![Event::ChineseMode(true), Event::Text("缴费".into()), Event::NewLine]);
    }

    #[test]
    fn a_character_split_across_reads_is_kept_whole() {
        let mut p = Parser::new();
        assert!(p.feed(&[0xBD]).is_empty());
        assert_eq!(p.feed(&[0xC9, 0x0A])[0].event, Event::Text("缴".into()));
    }

    #[test]
    fn qr_store_and_print() {
        let mut bytes = vec![0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30]; // §4.1 store, pL = 3 + 3
        bytes.extend_from_slice(b"abc");
        bytes.extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]); // §4.1 print
        assert_eq!(events(&bytes), vec![Event::QrStore(b"abc".to_vec()), Event::QrPrint]);
    }

    #[test]
    fn every_cut_form_is_a_cut() {
        for cut in [
            &[0x1D, 0x56, 0x00][..],
            &[0x1D, 0x56, 0x31],
            &[0x1D, 0x56, 0x41, 0x00],
            &[0x1D, 0x56, 0x42, 0x00],
        ] {
            assert_eq!(events(cut), vec![Event::Cut], "{cut:02X?}");
        }
    }

    #[test]
    fn code128_set_c_reads_as_digits() {
        let e = events(&[0x1D, 0x6B, 0x49, 0x05, 0x7B, 0x43, 31, 0, 42]);
        assert_eq!(e, vec![Event::Barcode { kind: 73, data: "310042".into() }]);
    }

    #[test]
    fn raster_data_is_skipped_across_reads() {
        let mut p = Parser::new();
        // GS v 0 m=0, 2 bytes × 3 rows = 6 data bytes, then "A".
        let first = p.feed(&[0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x03, 0x00, 0xFF, 0xFF]);
        assert_eq!(first[0].event, Event::Raster { width_bytes: 2, height: 3 });
        let rest = p.feed(&[0x0A, 0x1B, 0x40, 0x0A, b'A']);
        assert_eq!(rest.iter().map(|p| &p.event).collect::<Vec<_>>(), vec![&Event::Text("A".into())]);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
            let mut p = Parser::new();
            for c in &chunks {
                let _ = p.feed(c);
            }
        }
    }
}
