//! # printer: the kiosk's ESC/POS receipt printer
//!
//! Three layers (architecture rule 4) plus the proof and the simulator:
//!
//! | Module | Job |
//! |---|---|
//! | [`status`] | `DLE EOT 1..4` replies (hardware.md §4.2) → [`PrinterStatus`] → device model |
//! | [`commands`] | raw commands escpos-rs lacks: Chinese mode, Code 128, partial cut, `GS r 1` |
//! | [`layout`] | [`kiosk_core::receipt::Receipt`] → lines for 58 mm (32 col) / 80 mm (48 col), Hanzi double width |
//! | [`job`] | lines → ESC/POS bytes through the escpos crate (GB18030 text, QR model 2) |
//! | [`driver`] | [`ReceiptPrinter`]: `status()`, `print_receipt()` over [`device`]'s transports |
//! | [`proof`] | the signed QR payload: [`proof::sign`], [`proof::verify`], key loading |
//! | [`config`] | [`PrinterConfig`], the `kiosk.toml` entry |
//! | [`sim`] | [`sim::PrinterSim`]: the same bytes over a pty, transcripts, faults, PNG rendering |
//!
//! Text mode, not raster: a Chinese receipt is ~1–2 KB as GB18030 text but ~50–90 KB as a
//! raster image, which is a minute at 9600 baud (hardware.md §4.4; `cargo bench -p printer`).
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod commands;
pub mod config;
pub mod driver;
pub mod job;
pub mod layout;
pub mod proof;
#[cfg(feature = "sim")]
pub mod sim;
pub mod status;

pub use config::PrinterConfig;
pub use driver::{PrintError, PrintReport, ReceiptPrinter};
pub use layout::PaperWidth;
pub use proof::{ClaimOutcome, ReceiptClaim, VerifyError};
pub use status::{Paper, PrinterStatus};
