//! A print job: the ESC/POS byte stream of a laid-out receipt, built with the escpos crate.
//!
//! escpos-rs writes each command through a `Driver`; ours ([`Capture`]) only records the bytes,
//! one segment per command, so building a job is pure and testable byte for byte, and the driver
//! can send it in chunks that end on command boundaries (a real-time status query must never
//! land inside a QR data block). What escpos lacks is sent with `custom` from
//! [`crate::commands`]: Chinese mode, Code 128, the partial cut. Text goes through escpos's
//! encoder set to GB18030 (after [`crate::layout::printable`], so only its GBK part is used).

use crate::commands::{code128, CommandError, CHINESE_MODE_ON, PARTIAL_CUT};
use crate::layout::{Align, Block, PaperWidth};
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{Encoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};
use std::cell::RefCell;
use std::rc::Rc;

/// Why a job cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The escpos crate refused a command (QR data too long, unencodable text).
    #[error("escpos: {0}")]
    Escpos(#[from] escpos::errors::PrinterError),
    /// A raw command could not be built.
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// An escpos `Driver` that records what would be sent, one segment per command.
#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<Vec<u8>>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".into()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().push(data.to_vec());
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// The bytes of one receipt, in command-aligned segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    segments: Vec<Vec<u8>>,
}

impl Job {
    /// The whole stream.
    pub fn bytes(&self) -> Vec<u8> {
        self.segments.concat()
    }

    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        self.segments.iter().map(Vec::len).sum()
    }

    /// True for an empty job.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stream cut into chunks of about `size` bytes, each ending on a command boundary.
    pub fn chunks(&self, size: usize) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut cur = Vec::new();
        for s in &self.segments {
            if !cur.is_empty() && cur.len() + s.len() > size {
                out.push(std::mem::take(&mut cur));
            }
            cur.extend_from_slice(s);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }
}

fn justify(a: Align) -> JustifyMode {
    match a {
        Align::Left => JustifyMode::LEFT,
        Align::Center => JustifyMode::CENTER,
        Align::Right => JustifyMode::RIGHT,
    }
}

/// Builds the job for `blocks`: `ESC @`, `FS &`, the lines (alignment and emphasis sent only
/// when they change), QR model 2 at level M, Code 128, three feeds and a partial cut.
pub fn build(blocks: &[Block], paper: PaperWidth) -> Result<Job, JobError> {
    let capture = Capture::default();
    let protocol = Protocol::new(Encoder::new(encoding_rs::GB18030));
    let mut p = Printer::new(capture.clone(), protocol, None);
    p.init()?.custom(&CHINESE_MODE_ON)?;
    let (mut align, mut bold) = (Align::Left, false);
    for block in blocks {
        match block {
            Block::Line(l) => {
                if l.align != align {
                    p.justify(justify(l.align))?;
                    align = l.align;
                }
                if l.bold != bold {
                    p.bold(l.bold)?;
                    bold = l.bold;
                }
                p.writeln(&l.text)?;
            }
            Block::Qr(data) => {
                if align != Align::Center {
                    p.justify(JustifyMode::CENTER)?;
                    align = Align::Center;
                }
                let option =
                    QRCodeOption::new(QRCodeModel::Model2, paper.qr_module(), QRCodeCorrectionLevel::M);
                p.qrcode_option(data, option)?.feed()?;
            }
            Block::Code128(data) => {
                if align != Align::Center {
                    p.justify(JustifyMode::CENTER)?;
                    align = Align::Center;
                }
                p.custom(&code128(data)?)?.feed()?;
            }
        }
    }
    p.feeds(3)?.custom(&PARTIAL_CUT)?.print()?;
    let segments = capture.0.take();
    Ok(Job { segments })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Line;

    fn line(text: &str, align: Align, bold: bool) -> Block {
        Block::Line(Line { text: text.into(), align, bold })
    }

    #[test]
    fn a_small_job_is_byte_exact() {
        let blocks =
            [line("缴费", Align::Center, true), line("Paid", Align::Left, false), Block::Qr("YZR1.x".into())];
        let job = build(&blocks, PaperWidth::Mm80).unwrap();
        let expected: Vec<u8> = [
            &[0x1B, 0x40][..],         // §4.1 ESC @ initialise
            &[0x1C, 0x26],             // §4.1 FS & Chinese mode
            &[0x1B, 0x61, 0x01],       // §4.1 ESC a 1 centre
            &[0x1B, 0x45, 0x01],       // §4.1 ESC E 1 bold
            &[0xBD, 0xC9, 0xB7, 0xD1], // "缴费" in GB18030 (BDC9 B7D1)
            &[0x1B, 0x64, 0x01],       // ESC d 1: print and feed one line (escpos-rs writeln)
            &[0x1B, 0x61, 0x00],       // ESC a 0 left
            &[0x1B, 0x45, 0x00],       // ESC E 0 bold off
            b"Paid",
            &[0x1B, 0x64, 0x01],
            &[0x1B, 0x61, 0x01],                                     // centre the QR
            &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00], // §4.1 QR model: 50 = model 2
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x05],       // §4.1 QR module size 5
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31],       // §4.1 QR error level 49 = M
            &[0x1D, 0x28, 0x6B, 0x09, 0x00, 0x31, 0x50, 0x30],       // §4.1 QR store, pL pH = 6 + 3
            b"YZR1.x",
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30], // §4.1 QR print
            &[0x1B, 0x64, 0x01],                               // feed after the symbol
            &[0x1B, 0x64, 0x03],                               // §4.1 ESC d 3 feed three lines
            &[0x1D, 0x56, 0x42, 0x00],                         // §4.1 GS V 66 0 partial cut
        ]
        .concat();
        assert_eq!(job.bytes(), expected);
    }

    #[test]
    fn chunks_end_on_command_boundaries() {
        let blocks: Vec<Block> = (0..40).map(|i| line(&format!("line {i}"), Align::Left, false)).collect();
        let job = build(&blocks, PaperWidth::Mm58).unwrap();
        let chunks = job.chunks(64);
        assert!(chunks.len() > 3);
        assert_eq!(chunks.concat(), job.bytes());
        assert!(chunks.iter().all(|c| c.len() <= 64));
    }
}
