//! The simulated printer's state: paper, cover, faults, and the receipts it printed.

use super::parser::{Event, Parsed};
use super::transcript::{Item, Transcript};
use crate::layout::Align;
use crate::status::Paper;
use device::fault::{FaultPlan, Outgoing};

/// Everything the simulator knows; shared between its task and the test's handle.
#[derive(Debug)]
pub struct SimState {
    /// Paper supply.
    pub paper: Paper,
    /// Cover open.
    pub cover_open: bool,
    /// Autocutter jammed.
    pub cutter_error: bool,
    /// Powered off: no replies, nothing printed.
    pub silent: bool,
    /// Faults applied to replies.
    pub faults: FaultPlan,
    paper_out_after: Option<u64>,
    print_bytes: u64,
    line: String,
    align: Align,
    bold: bool,
    qr: Option<String>,
    current: Transcript,
    receipts: Vec<Transcript>,
    /// Status requests answered.
    pub status_requests: u64,
    /// Unknown bytes or commands seen.
    pub unknown: u64,
}

impl Default for SimState {
    fn default() -> Self {
        SimState {
            paper: Paper::Ok,
            cover_open: false,
            cutter_error: false,
            silent: false,
            faults: FaultPlan::none(),
            paper_out_after: None,
            print_bytes: 0,
            line: String::new(),
            align: Align::Left,
            bold: false,
            qr: None,
            current: Transcript::default(),
            receipts: Vec::new(),
            status_requests: 0,
            unknown: 0,
        }
    }
}

impl SimState {
    /// Paper runs out once `bytes` more bytes of print data have arrived.
    pub fn run_out_after(&mut self, bytes: u64) {
        self.paper_out_after = Some(self.print_bytes + bytes);
    }

    /// Receipts printed so far (cut ones, and torn ones left behind by a re-initialise).
    pub fn receipts(&self) -> &[Transcript] {
        &self.receipts
    }

    /// The receipt being printed (not cut yet).
    pub fn current(&self) -> &Transcript {
        &self.current
    }

    fn can_print(&self) -> bool {
        self.paper != Paper::Out && !self.cover_open && !self.cutter_error
    }

    /// The `DLE EOT n` reply (hardware.md §4.2).
    pub fn status_byte(&self, n: u8) -> Option<u8> {
        let out = self.paper == Paper::Out;
        let set = |cond: bool, bits: u8| if cond { bits } else { 0 };
        Some(match n {
            1 => 0x12 | set(!self.can_print(), 0x08),
            2 => 0x12 | set(self.cover_open, 0x04) | set(out, 0x20) | set(self.cutter_error, 0x40),
            3 => 0x12 | set(self.cutter_error, 0x08),
            4 => 0x12 | set(self.paper == Paper::NearEnd, 0x0C) | set(out, 0x60),
            _ => return None,
        })
    }

    fn gs_r_byte(&self) -> u8 {
        match self.paper {
            Paper::Ok => 0x00,
            Paper::NearEnd => 0x03,
            Paper::Out => 0x0F,
        }
    }

    fn end_line(&mut self) {
        let text = std::mem::take(&mut self.line);
        self.current.items.push(Item::Line { text, align: self.align, bold: self.bold });
    }

    /// Applies one parsed command; returns the reply to send, if any.
    pub fn apply(&mut self, parsed: Parsed) -> Option<Outgoing> {
        if self.silent {
            return None;
        }
        let Parsed { event, len } = parsed;
        if !event.is_real_time() {
            self.print_bytes += len as u64;
            if self.paper_out_after.is_some_and(|k| self.print_bytes > k) {
                self.paper_out_after = None;
                self.paper = Paper::Out;
                self.current.torn = true;
                tracing::info!("simulated printer ran out of paper mid-receipt");
            }
        }
        let reply = |s: &mut Self, b: u8| Some(s.faults.apply(vec![b]));
        match event {
            Event::StatusRequest(n) => {
                self.status_requests += 1;
                let b = self.status_byte(n)?;
                return reply(self, b);
            }
            Event::PaperStatusRequest => {
                let b = self.gs_r_byte();
                return reply(self, b);
            }
            Event::Init => {
                if !self.current.is_empty() || !self.line.is_empty() {
                    if !self.line.is_empty() {
                        self.end_line();
                    }
                    self.current.torn = true;
                    self.receipts.push(std::mem::take(&mut self.current));
                }
                self.align = Align::Left;
                self.bold = false;
                self.qr = None;
                return None;
            }
            Event::Unknown(_) => self.unknown += 1,
            _ => {}
        }
        if !self.can_print() {
            if !matches!(event, Event::Ignored | Event::ChineseMode(_)) {
                self.current.torn = true;
            }
            return None;
        }
        match event {
            Event::Align(a) => self.align = a,
            Event::Bold(b) => self.bold = b,
            Event::Text(t) => self.line.push_str(&t),
            Event::NewLine => self.end_line(),
            Event::Feed(n) => {
                self.end_line();
                for _ in 1..n {
                    self.end_line();
                }
            }
            Event::QrStore(d) => self.qr = Some(String::from_utf8_lossy(&d).into_owned()),
            Event::QrPrint => {
                if let Some(q) = self.qr.clone() {
                    self.current.items.push(Item::Qr(q));
                }
            }
            Event::Barcode { data, .. } => self.current.items.push(Item::Barcode(data)),
            Event::Raster { width_bytes, height } => self
                .current
                .items
                .push(Item::Raster { width: u32::from(width_bytes) * 8, height: u32::from(height) }),
            Event::Cut => {
                if !self.line.is_empty() {
                    self.end_line();
                }
                self.current.cut = true;
                self.receipts.push(std::mem::take(&mut self.current));
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::parser::Parser;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_streams_never_panic_the_simulator(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut parser = Parser::new();
            let mut state = SimState::default();
            for p in parser.feed(&bytes) {
                if let Some(out) = state.apply(p) {
                    prop_assert_eq!(out.bytes.len(), 1);
                }
            }
        }
    }

    /// A million random inputs through parser + simulator + status decoder (slow: run with
    /// `cargo test -p printer --release -- --ignored million`).
    #[test]
    #[ignore]
    fn a_million_random_inputs() {
        let mut seed = 0x1234_5678_9ABC_DEF0u64;
        let mut next = || {
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z ^ (z >> 27)
        };
        for _ in 0..1_000_000 {
            let len = (next() % 48) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let mut parser = Parser::new();
            let mut state = SimState::default();
            for p in parser.feed(&bytes) {
                let _ = state.apply(p);
            }
            let r = [next() as u8, next() as u8, next() as u8, next() as u8];
            let _ = crate::status::PrinterStatus::from_replies(r);
        }
    }

    #[test]
    fn status_bytes_follow_section_4_2() {
        let mut s = SimState::default();
        assert_eq!([1, 2, 3, 4].map(|n| s.status_byte(n).unwrap()), [0x12, 0x12, 0x12, 0x12]); // all OK
        s.paper = Paper::NearEnd;
        assert_eq!(s.status_byte(4), Some(0x1E)); // near-end
        s.paper = Paper::Out;
        assert_eq!([1, 2, 4].map(|n| s.status_byte(n).unwrap()), [0x1A, 0x32, 0x72]); // offline, paper end
        s.paper = Paper::Ok;
        s.cover_open = true;
        assert_eq!(s.status_byte(2), Some(0x16)); // cover open
        s.cover_open = false;
        s.cutter_error = true;
        assert_eq!([2, 3].map(|n| s.status_byte(n).unwrap()), [0x52, 0x1A]); // error, cutter
        assert_eq!(s.status_byte(7), None);
    }
}
