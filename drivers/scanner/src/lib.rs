//! # scanner: how a code gets into the Yizhan kiosk
//!
//! A customer's payment code (付款码) or a bill's barcode reaches us through a 2D scan engine on a
//! USB-serial (CDC) or RS-232 line, or through a camera. This crate reads both and says what was
//! read. Architecture rule 4's layers:
//!
//! | Module | Job |
//! |---|---|
//! | [`frame`] | typed values: [`Vendor`], [`Command`], [`Reply`], [`ScanData`] (masked `Debug`) |
//! | [`codec`] | bytes ⇄ frames for Honeywell, Newland (legacy and unified); resync on garbage |
//! | [`driver`] | [`Scanner::scan`]: trigger, wait ≤ 60 s for one code, untrigger, classify |
//! | [`classify`] | [`classify()`]: payment code / bill barcode / garbage with a zh/en reason |
//! | [`bill`] | our own bill barcode format, YZB v1 (below) |
//! | [`camera`] | image files and V4L2 frames decoded with rqrr behind a preprocessing ladder |
//! | [`sim`] | [`SimScanner`]: the engine's bytes on a pty, with faults, for tests and the demo |
//! | [`config`] | [`ScannerConfig`], the `kiosk.toml` entry |
//!
//! ## Payment codes are bearer tokens
//!
//! Whoever holds a payment code for its minute of life can spend from the customer's wallet.
//! Nothing here logs one: [`ScanData`] and `kiosk_core::PaymentCode` mask their `Debug`, log lines
//! carry lengths and kinds only, and [`classify::GarbageReason`] never carries the text.
//!
//! ## Serial engines
//!
//! Configure the engine for USB CDC (Honeywell `TRMUSB130`), manual/serial trigger (`TRGMOD0`;
//! Newland `NLS0302000`) and a CR suffix (`SUFBK2990D`). The driver triggers only while a screen
//! wants a code and discards anything that arrived before (a code must never pay for a screen it
//! was not shown to). Frames end at CR (LF stripped) or, for engines without a suffix, after an
//! idle gap (`terminator = "idle"`). See [`config`] for the TOML.
//!
//! ## Classification
//!
//! Payment codes are routed by `kiosk_core::route_payment_code` (the one copy of the WeChat /
//! Alipay / UnionPay prefix rules). Then bill barcodes, then garbage, whose reason reads
//! e.g. "这是收款码，不能用来付款" / "This is a code for receiving money, not for paying" when a
//! customer shows a merchant's collection code. Garbage never starts a payment.
//!
//! ## Bill barcode format: YZB v1 (ours, until a biller gives theirs — hardware.md §5.4)
//!
//! `YZB` + utility digit (`1` water, `2` power, `3` gas) + the account number (户号, checked by
//! that utility's configurable `AccountRule`: by default water 9 digits, power and gas 10, each
//! ending in a Luhn digit) + one Luhn check digit over utility digit and account. Printed as Code
//! 128 (set B for `YZB`, set C for the digits). Example: power account `3100000011` →
//! `YZB231000000118`. A barcode holding only the account number is accepted too when it fits
//! exactly one utility's rule (utility known) or several (utility `None`: the screen asks).
//! Details in [`bill`].
//!
//! ## Camera
//!
//! [`camera::GrayFrame`] comes from PNG/JPEG files (the `image` crate), raw luma or YUYV buffers.
//! [`camera::QrDecoder`] runs a ladder of binarisations (local mean, rqrr's own, Otsu, tight local,
//! full resolution, 2× upscale, inverted) around rqrr, and re-reads every located grid from the grey
//! image with 9-sample module averaging (see `camera/resample.rs`). `benches/camera_decode.rs`
//! compares it with plain rqrr on a seeded hard synthetic set.
//!
//! V4L2 capture is behind the **`v4l2`** cargo feature (off by default), using the pure-Rust
//! `linuxvideo` crate: the usual `v4l` crate needs `bindgen` and libclang, which the build
//! machines do not have. The file and frame paths always build.
//!
//! ## Fuzzing
//!
//! `tests/codec_props.rs` feeds arbitrary bytes to both decoders. A long run:
//! `PROPTEST_CASES=1000000 cargo test -p scanner --release --test codec_props`.

pub mod bill;
pub mod camera;
pub mod classify;
pub mod codec;
pub mod config;
pub mod driver;
pub mod frame;
#[cfg(feature = "sim")]
pub mod sim;

pub use classify::{classify, Classifier, ClassifierConfig, GarbageReason, PairingText, Scanned};
pub use config::{ScannerConfig, Terminator};
pub use driver::{Scan, ScanError, Scanner, ScannerDetail};
pub use frame::{Command, Persistence, Reply, ScanData, Status, Vendor};
#[cfg(feature = "sim")]
pub use sim::{SimOptions, SimScanner};
