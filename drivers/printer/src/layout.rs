//! Receipt layout in text mode for 58 mm (32 columns) and 80 mm (48 columns) paper.
//!
//! In Chinese mode a printer prints every double-byte GB18030 character at twice the width of
//! an ASCII one (24 vs 12 dots in font A), so widths here are counted the printer's way: ASCII
//! is 1 column, everything else 2. Text is first made printable: `¥` (not in GBK) becomes the
//! full-width `￥`, control characters go, and characters outside GBK — which the printer's
//! resident font would not have — become `?`, so the stream never carries 4-byte GB18030.

use kiosk_core::receipt::{Receipt, Row};
use serde::{Deserialize, Serialize};

/// Roll width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum PaperWidth {
    /// 58 mm roll, 384-dot head, 32 columns of font A.
    #[serde(rename = "58mm")]
    Mm58,
    /// 80 mm roll, 576-dot head, 48 columns of font A.
    #[default]
    #[serde(rename = "80mm")]
    Mm80,
}

impl PaperWidth {
    /// Columns of 12-dot ASCII characters per line.
    pub fn columns(self) -> usize {
        match self {
            PaperWidth::Mm58 => 32,
            PaperWidth::Mm80 => 48,
        }
    }

    /// Printable dots per line.
    pub fn dots(self) -> usize {
        self.columns() * 12
    }

    /// QR module size (`GS ( k … 43 n`) so the receipt's QR stays well inside the paper.
    pub fn qr_module(self) -> u8 {
        match self {
            PaperWidth::Mm58 => 4,
            PaperWidth::Mm80 => 5,
        }
    }
}

/// Horizontal alignment (`ESC a n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Align {
    /// n = 0.
    Left,
    /// n = 1.
    Center,
    /// n = 2.
    Right,
}

/// One printed line of text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Printable text, at most one paper width wide.
    pub text: String,
    /// Alignment.
    pub align: Align,
    /// Emphasis (`ESC E 1`).
    pub bold: bool,
}

/// One element of a laid-out receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A line of text.
    Line(Line),
    /// A QR code (model 2) holding this text.
    Qr(String),
    /// A Code 128 barcode.
    Code128(String),
}

/// Printer columns taken by `s`: 1 per ASCII character, 2 per other character.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    if c.is_ascii() {
        1
    } else {
        2
    }
}

/// Makes `s` printable in Chinese mode with a GBK resident font (see the module docs).
pub fn printable(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '¥' => Some('￥'),
            '\t' => Some(' '),
            c if c.is_control() => None,
            c if c.is_ascii() => Some(c),
            c => {
                let mut buf = [0u8; 4];
                let (_, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
                Some(if unmappable { '?' } else { c })
            }
        })
        .collect()
}

/// Splits `s` into lines of at most `cols` columns, breaking at spaces between ASCII words when
/// it can and anywhere between Hanzi.
pub fn wrap(s: &str, cols: usize) -> Vec<String> {
    let cols = cols.max(2);
    let mut lines = Vec::new();
    let mut line = String::new();
    // Tokens: an ASCII word with its trailing spaces, or one non-ASCII character.
    let mut tokens: Vec<String> = Vec::new();
    for c in s.chars() {
        let glue = tokens.last().is_some_and(|t| {
            t.chars().last().is_some_and(|l| l.is_ascii() && (l != ' ' || c == ' ')) && c.is_ascii()
        });
        if glue {
            tokens.last_mut().expect("checked").push(c);
        } else {
            tokens.push(c.to_string());
        }
    }
    for token in tokens {
        if width(&line) + width(token.trim_end()) > cols && !line.is_empty() {
            lines.push(line.trim_end().to_string());
            line.clear();
        }
        for c in token.chars() {
            if width(&line) + char_width(c) > cols {
                lines.push(line.trim_end().to_string());
                line.clear();
            }
            if !(line.is_empty() && c == ' ') {
                line.push(c);
            }
        }
    }
    if !line.trim_end().is_empty() || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

fn text(s: &str, align: Align, bold: bool, cols: usize) -> impl Iterator<Item = Block> {
    wrap(&printable(s), cols).into_iter().map(move |t| Block::Line(Line { text: t, align, bold }))
}

fn row(r: &Row, bold: bool, cols: usize) -> Vec<Block> {
    let (label, value) = (printable(&r.label), printable(&r.value));
    let used = width(&label) + 1 + width(&value);
    if used <= cols {
        let pad = " ".repeat(cols - used + 1);
        return vec![Block::Line(Line { text: format!("{label}{pad}{value}"), align: Align::Left, bold })];
    }
    let mut out: Vec<Block> = text(&label, Align::Left, bold, cols).collect();
    out.extend(text(&value, Align::Right, bold, cols));
    out
}

/// Splits "中文 / English" texts into their two halves, so each starts on its own line.
fn halves(s: &str) -> impl Iterator<Item = &str> {
    s.split(" / ").map(str::trim).filter(|h| !h.is_empty())
}

/// Lays out `receipt` for `paper`: title, header rows, one block per order line, totals, the
/// outcome, the footer, then the QR proof (when given) and a Code 128 of the order reference
/// (when it fits the paper) for counter staff.
pub fn lay_out(receipt: &Receipt, paper: PaperWidth, qr: Option<&str>) -> Vec<Block> {
    let cols = paper.columns();
    let rule = || Block::Line(Line { text: "-".repeat(cols), align: Align::Left, bold: false });
    let mut out: Vec<Block> = Vec::new();
    for half in halves(&receipt.title) {
        out.extend(text(half, Align::Center, true, cols));
    }
    out.push(rule());
    for r in &receipt.header {
        out.extend(row(r, false, cols));
    }
    for block in &receipt.lines {
        out.push(rule());
        for r in block {
            out.extend(row(r, false, cols));
        }
    }
    out.push(rule());
    for r in &receipt.totals {
        out.extend(row(r, true, cols));
    }
    out.push(rule());
    for half in halves(&receipt.outcome) {
        out.extend(text(half, Align::Left, true, cols));
    }
    for f in &receipt.footer {
        out.extend(text(f, Align::Left, false, cols));
    }
    if let Some(payload) = qr {
        out.push(Block::Qr(payload.to_string()));
        out.extend(text(&catalogue::bilingual("Scan to verify", " "), Align::Center, false, cols));
    }
    let order = receipt.header.iter().find(|r| r.label.contains("Order")).map(|r| r.value.clone());
    if let Some(order) = order.filter(|o| code128_fits(o, paper)) {
        out.push(Block::Code128(order));
    }
    out
}

/// Code 128 set B needs 11 modules per symbol (start, data, check) + 13 for stop and quiet
/// edges; at module width 2 dots it must fit the head.
fn code128_fits(data: &str, paper: PaperWidth) -> bool {
    let modules = 11 * (data.len() + 2) + 13;
    data.is_ascii() && modules * 2 <= paper.dots()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_hanzi_double() {
        assert_eq!(width("Paid"), 4);
        assert_eq!(width("缴费成功"), 8);
        assert_eq!(width("合计 Total: ￥79.50"), 4 + 1 + 6 + 1 + 2 + 5);
    }

    #[test]
    fn printable_swaps_yen_and_drops_what_gbk_lacks() {
        assert_eq!(printable("¥79.50\u{7}"), "￥79.50");
        assert_eq!(printable("水费 😀"), "水费 ?");
    }

    #[test]
    fn wrap_keeps_every_line_within_the_paper() {
        let s = "结果待确认：请持此凭条到柜台办理或致电客服 Not yet confirmed: take this slip to the counter";
        for cols in [32, 48] {
            let lines = wrap(s, cols);
            assert!(lines.iter().all(|l| width(l) <= cols), "{lines:?}");
            assert_eq!(lines.concat().replace(' ', ""), s.replace(' ', ""));
        }
    }

    #[test]
    fn wrap_breaks_english_at_spaces() {
        assert_eq!(wrap("take this slip to the counter", 12), vec!["take this", "slip to the", "counter"]);
    }

    #[test]
    fn a_row_right_aligns_its_value() {
        let r = Row { label: "合计 Total".into(), value: "¥79.50".into() };
        let Block::Line(l) = &row(&r, true, 32)[0] else { panic!() };
        assert_eq!(width(&l.text), 32);
        assert!(l.text.starts_with("合计 Total") && l.text.ends_with("￥79.50"));
    }

    #[test]
    fn code128_fits_80mm_but_not_a_long_ref_on_58mm() {
        assert!(code128_fits("YZK1261123000042", PaperWidth::Mm80));
        assert!(!code128_fits("YZK1261123000042", PaperWidth::Mm58));
    }
}
