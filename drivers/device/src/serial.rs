//! Serial ports: settings from the kiosk configuration, opened with `serialport` (through
//! `tokio-serial`, which gives the port `AsyncRead + AsyncWrite`).
//!
//! A printer entry in `kiosk.toml` carries one of these:
//!
//! ```toml
//! [devices.printer.serial]
//! path = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"  # stable across reboots and replugs
//! baud = 115200
//! data_bits = 8            # 5..8
//! parity = "none"          # none | odd | even
//! stop_bits = 1            # 1 | 2
//! flow_control = "none"    # none | software | hardware
//! command_timeout_ms = 2000
//! inter_byte_ms = 80
//! reconnect_min_ms = 500
//! reconnect_max_ms = 10000
//! ```
//!
//! Unknown keys are refused, so a typo (`baudrate`) fails at start-up instead of silently using a
//! default. Use `/dev/serial/by-id/...` paths: `ttyUSB0` numbers change when adapters are
//! replugged. The path is opened anew on every (re)connect, so a by-id symlink that disappears
//! and comes back (or is re-pointed) is followed.

use crate::error::TransportError;
use crate::link::Timing;
use crate::reconnect::{BackoffPolicy, Connector};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use tokio_serial::{SerialPortBuilderExt, SerialStream};

/// Parity bit setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    /// No parity bit (8N1 and friends).
    #[default]
    None,
    /// Odd parity.
    Odd,
    /// Even parity (Sankyo ICT3Q8 uses 8E1, hardware.md §2.1).
    Even,
}

/// Flow control setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FlowControl {
    /// No flow control.
    #[default]
    None,
    /// XON/XOFF.
    Software,
    /// RTS/CTS.
    Hardware,
}

/// Settings of one serial device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialConfig {
    /// Device path; prefer `/dev/serial/by-id/...`. Left out, it is empty: refused by
    /// [`SerialConfig::validate`] unless something sets it first (a simulator's pty, through a
    /// driver config's `with_port`).
    #[serde(default)]
    pub path: PathBuf,
    /// Bits per second. A pty ignores it, but it is still set (and readable back).
    #[serde(default = "defaults::baud")]
    pub baud: u32,
    /// Data bits, 5 to 8.
    #[serde(default = "defaults::data_bits")]
    pub data_bits: u8,
    /// Parity.
    #[serde(default)]
    pub parity: Parity,
    /// Stop bits, 1 or 2.
    #[serde(default = "defaults::stop_bits")]
    pub stop_bits: u8,
    /// Flow control.
    #[serde(default)]
    pub flow_control: FlowControl,
    /// Overall deadline of one command, in milliseconds.
    #[serde(default = "defaults::command_timeout_ms")]
    pub command_timeout_ms: u64,
    /// Longest silence inside a reply, in milliseconds (50–100 on real lines).
    #[serde(default = "defaults::inter_byte_ms")]
    pub inter_byte_ms: u64,
    /// First wait before reopening a lost port, in milliseconds; doubles up to the maximum.
    #[serde(default = "defaults::reconnect_min_ms")]
    pub reconnect_min_ms: u64,
    /// Longest wait between reopen attempts, in milliseconds.
    #[serde(default = "defaults::reconnect_max_ms")]
    pub reconnect_max_ms: u64,
}

impl Default for SerialConfig {
    /// Every setting at its default, on no port yet.
    fn default() -> Self {
        SerialConfig::new(PathBuf::new())
    }
}

/// A configuration with every field at its serde default, as if its table were written empty:
/// the one place those defaults are written stays the `#[serde(default = …)]` attributes.
/// `None` when some field has no default.
pub fn serde_defaults<T: serde::de::DeserializeOwned>() -> Option<T> {
    let empty = serde::de::value::MapDeserializer::<_, serde::de::value::Error>::new(std::iter::empty::<(
        String,
        String,
    )>());
    T::deserialize(empty).ok()
}

mod defaults {
    pub(super) fn baud() -> u32 {
        115_200
    }
    pub(super) fn data_bits() -> u8 {
        8
    }
    pub(super) fn stop_bits() -> u8 {
        1
    }
    pub(super) fn command_timeout_ms() -> u64 {
        2_000
    }
    pub(super) fn inter_byte_ms() -> u64 {
        80
    }
    pub(super) fn reconnect_min_ms() -> u64 {
        500
    }
    pub(super) fn reconnect_max_ms() -> u64 {
        10_000
    }
}

impl SerialConfig {
    /// 115200 8N1, no flow control, 2 s per command, 80 ms inter-byte: the defaults for `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SerialConfig {
            path: path.into(),
            baud: defaults::baud(),
            data_bits: defaults::data_bits(),
            parity: Parity::None,
            stop_bits: defaults::stop_bits(),
            flow_control: FlowControl::None,
            command_timeout_ms: defaults::command_timeout_ms(),
            inter_byte_ms: defaults::inter_byte_ms(),
            reconnect_min_ms: defaults::reconnect_min_ms(),
            reconnect_max_ms: defaults::reconnect_max_ms(),
        }
    }

    /// The same settings on another port.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = path.into();
        self
    }

    /// Checks what serde cannot: value ranges.
    pub fn validate(&self) -> Result<(), TransportError> {
        let bad = |m: String| Err(TransportError::Config(m));
        if self.path.as_os_str().is_empty() {
            return bad("serial.path is missing: the device's port, such as /dev/serial/by-id/…".into());
        }
        if self.baud == 0 {
            return bad("baud must be positive".into());
        }
        if !(5..=8).contains(&self.data_bits) {
            return bad(format!("data_bits {} is not 5..8", self.data_bits));
        }
        if !(1..=2).contains(&self.stop_bits) {
            return bad(format!("stop_bits {} is not 1 or 2", self.stop_bits));
        }
        if self.command_timeout_ms == 0 || self.inter_byte_ms == 0 {
            return bad("timeouts must be positive".into());
        }
        if self.reconnect_min_ms == 0 || self.reconnect_max_ms < self.reconnect_min_ms {
            return bad("reconnect_min_ms must be positive and ≤ reconnect_max_ms".into());
        }
        Ok(())
    }

    /// The per-command timing these settings give.
    pub fn timing(&self) -> Timing {
        Timing::new(Duration::from_millis(self.command_timeout_ms), Duration::from_millis(self.inter_byte_ms))
    }

    /// The reconnect backoff these settings give.
    pub fn backoff(&self) -> BackoffPolicy {
        BackoffPolicy::new(
            Duration::from_millis(self.reconnect_min_ms),
            Duration::from_millis(self.reconnect_max_ms),
        )
    }

    fn builder(&self) -> tokio_serial::SerialPortBuilder {
        let data_bits = match self.data_bits {
            5 => tokio_serial::DataBits::Five,
            6 => tokio_serial::DataBits::Six,
            7 => tokio_serial::DataBits::Seven,
            _ => tokio_serial::DataBits::Eight,
        };
        let parity = match self.parity {
            Parity::None => tokio_serial::Parity::None,
            Parity::Odd => tokio_serial::Parity::Odd,
            Parity::Even => tokio_serial::Parity::Even,
        };
        let stop_bits =
            if self.stop_bits == 2 { tokio_serial::StopBits::Two } else { tokio_serial::StopBits::One };
        let flow = match self.flow_control {
            FlowControl::None => tokio_serial::FlowControl::None,
            FlowControl::Software => tokio_serial::FlowControl::Software,
            FlowControl::Hardware => tokio_serial::FlowControl::Hardware,
        };
        tokio_serial::new(self.path.to_string_lossy(), self.baud)
            .data_bits(data_bits)
            .parity(parity)
            .stop_bits(stop_bits)
            .flow_control(flow)
    }
}

/// Opens the port with these settings. Must run inside a tokio runtime.
pub fn open(cfg: &SerialConfig) -> Result<SerialStream, TransportError> {
    cfg.validate()?;
    let port = cfg.path.display().to_string();
    cfg.builder().open_native_async().map_err(|e| TransportError::Open { port, source: e.into() })
}

/// A [`Connector`] that opens a serial port from its [`SerialConfig`].
#[derive(Clone, Debug)]
pub struct SerialConnector {
    cfg: SerialConfig,
}

impl SerialConnector {
    /// A connector for these settings.
    pub fn new(cfg: SerialConfig) -> Self {
        SerialConnector { cfg }
    }

    /// The settings.
    pub fn config(&self) -> &SerialConfig {
        &self.cfg
    }
}

impl Connector for SerialConnector {
    type Io = SerialStream;

    async fn connect(&self) -> Result<SerialStream, TransportError> {
        open(&self.cfg)
    }

    fn describe(&self) -> String {
        self.cfg.path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_left_out_path_is_refused_until_a_port_is_given() {
        let cfg: SerialConfig = toml::from_str("baud = 9600").unwrap();
        assert!(cfg.validate().unwrap_err().to_string().contains("serial.path is missing"));
        let cfg = cfg.with_path("/dev/pts/7");
        cfg.validate().unwrap();
        assert_eq!(cfg.baud, 9600, "the other settings stay");
        assert_eq!(serde_defaults::<SerialConfig>(), Some(SerialConfig::default()));
    }

    #[test]
    fn a_minimal_entry_gets_8n1_defaults() {
        let cfg: SerialConfig = toml::from_str(r#"path = "/dev/serial/by-id/usb-x""#).unwrap();
        assert_eq!(cfg, SerialConfig::new("/dev/serial/by-id/usb-x"));
        assert_eq!(cfg.timing(), Timing::new(Duration::from_secs(2), Duration::from_millis(80)));
        cfg.validate().unwrap();
    }

    #[test]
    fn a_full_entry_parses() {
        let cfg: SerialConfig = toml::from_str(
            r#"
            path = "/dev/ttyS1"
            baud = 38400
            data_bits = 8
            parity = "even"
            stop_bits = 1
            flow_control = "hardware"
            command_timeout_ms = 5000
            inter_byte_ms = 50
            "#,
        )
        .unwrap();
        assert_eq!((cfg.baud, cfg.parity, cfg.flow_control), (38400, Parity::Even, FlowControl::Hardware));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<SerialConfig>("path = \"/dev/x\"\nbaudrate = 9600").unwrap_err();
        assert!(err.to_string().contains("baudrate"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let mut cfg = SerialConfig::new("/dev/x");
        cfg.data_bits = 9;
        assert!(cfg.validate().is_err());
        cfg.data_bits = 8;
        cfg.stop_bits = 3;
        assert!(cfg.validate().is_err());
    }
}
