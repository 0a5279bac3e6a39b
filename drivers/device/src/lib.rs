//! # device: what every Yizhan device driver is built on
//!
//! Architecture rules 3 and 4 (`design/ARCHITECTURE.md`): every device shows the rest of the program
//! the same shape, and every driver is built in three layers, `codec → transport → driver`, with a
//! simulator speaking the same bytes over a pseudo-terminal. This crate holds the parts those layers
//! share:
//!
//! | Module | Job |
//! |---|---|
//! | [`crt310`] | the CRT-310 card reader, written once: frames, the command set, replies, the ACK → ENQ → reply exchange with EOT, and the reader side of it for simulators (hardware.md §2.1–§2.2) |
//! | [`sle4442`] | [`sle4442::MemoryOp`]: the SLE4442 memory card's operations, named once for both readers that carry them (the CRT-310's `38 3x`, a CCID reader's pseudo-APDUs) |
//! | [`model`] | [`DeviceStatus`], [`DeviceEvent`]: the device model, named after XFS4IoT |
//! | [`link`] | [`Link`]: request/response over any `AsyncRead + AsyncWrite`, with [`Timing`] (overall deadline + inter-byte timeout), stale-input discard |
//! | [`resync`] | dropping garbage in front of a frame start |
//! | [`serial`] | [`SerialConfig`] (serde, unknown keys refused) and opening a port with `serialport` via `tokio-serial` |
//! | [`reconnect`] | [`Reconnecting`]: reopen a vanished port with backoff, report offline meanwhile |
//! | [`port`] | [`PortConfig`] (`serial` or `usb` table) and [`AnyConnector`] for either |
//! | [`usb`] | rusb: find by vendor/product id, pick bulk endpoints, claim, hot-unplug → link lost |
//! | [`pty`] | pseudo-terminal pairs for simulators, and [`StableLink`], a `/dev/serial/by-id`-style symlink tests can remove and re-point |
//! | [`fault`] | [`FaultPlan`]: seeded, named fault injection for serial simulators |
//! | [`sim`] | [`sim::Served`]: a simulator's pty, its serving task and its end on drop, for every serial simulator |
//!
//! `pty`, `fault`, `sim` and `crt310::sim` exist only with the `sim` feature: the production
//! build carries no simulator.
//!
//! ## Async choice
//!
//! Transports are **async (tokio) and generic over `AsyncRead + AsyncWrite + Unpin`**, as in
//! tokio-modbus: the same driver code runs on a real serial port (`tokio_serial::SerialStream`,
//! which wraps the `serialport` crate), on a simulator's pty, on `tokio::io::duplex` in unit tests,
//! and on a USB bulk pipe adapted to a byte stream ([`usb::UsbConnector`]). Blocking libusb calls run
//! on tokio's blocking pool. Every read is cancel-safe: dropping a pending [`Link::read_frame`] loses
//! no received bytes.
//!
//! ## Writing a driver on top
//!
//! ```no_run
//! # async fn demo() -> Result<(), device::TransportError> {
//! use device::{Reconnecting, SerialConfig, SerialConnector, Timing};
//! let cfg: SerialConfig = toml::from_str(r#"path = "/dev/serial/by-id/usb-printer-if00""#).unwrap();
//! let mut port = Reconnecting::new(SerialConnector::new(cfg.clone()), cfg.backoff());
//! // Ask, then decode one reply byte; a lost port is reopened on a later call.
//! let reply = port
//!     .request(&[0x10, 0x04, 0x01], |buf| Ok::<_, std::convert::Infallible>(device::take(buf, 1)), cfg.timing())
//!     .await?;
//! # let _ = reply; Ok(()) }
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod crt310;
pub mod error;
#[cfg(feature = "sim")]
pub mod fault;
pub mod link;
pub mod model;
pub mod port;
#[cfg(feature = "sim")]
pub mod pty;
pub mod reconnect;
pub mod resync;
pub mod serial;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sle4442;
pub mod usb;

pub use error::TransportError;
#[cfg(feature = "sim")]
pub use fault::{Fault, FaultPlan};
pub use link::{take, Link, Timing};
pub use model::{DeviceEvent, DeviceState, DeviceStatus, MediaState, StatusTracker};
pub use port::{AnyConnector, AnyIo, PortConfig};
#[cfg(feature = "sim")]
pub use pty::{Pty, PtyMaster, StableLink};
pub use reconnect::{BackoffPolicy, Connector, LinkState, Reconnecting};
pub use serial::{SerialConfig, SerialConnector};
