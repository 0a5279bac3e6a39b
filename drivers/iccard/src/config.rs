//! The IC card reader entry in `kiosk.toml`.
//!
//! ```toml
//! [devices.iccard]
//! reader = "crt310"          # "crt310" (motorised, serial) or "ccid" (USB contact reader);
//!                            # default: crt310 with [serial], ccid with [usb]
//! required = false           # `yizhan devices` fails when a required device is not ready
//! psc = "FFFFFF"             # PSC of the synthetic gas layout (never logged); real cards: vendor
//! slot = 0                   # CCID slot
//! motion_timeout_ms = 10000  # CRT-310 moves and resets
//! insert_timeout_ms = 30000  # how long "insert your card" waits
//!
//! [devices.iccard.serial]    # CRT-310: 9600 8N1 by default on the reader
//! path = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0"
//! baud = 9600
//!
//! # or, for a CCID reader (stop pcscd first, see `ccid::usb`):
//! # [devices.iccard.usb]
//! # vendor_id = 0x072F
//! # product_id = 0x90CC
//! ```

use device::serial::SerialConfig;
use device::usb::UsbConfig;
use device::{PortConfig, TransportError};
use serde::{Deserialize, Serialize};

use crate::reader::Psc;

/// Which protocol the reader speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReaderKind {
    /// Creator CRT-310 motorised reader (hardware.md §2).
    Crt310,
    /// USB CCID contact reader with ACR38-style memory-card APDUs (hardware.md §3.1).
    Ccid,
}

/// The PSC as configured: hex, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PscSetting(String);

impl PscSetting {
    /// The PSC.
    pub fn psc(&self) -> Option<Psc> {
        Psc::from_hex(&self.0)
    }
}

impl std::fmt::Debug for PscSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PscSetting(<redacted>)")
    }
}

impl Default for PscSetting {
    fn default() -> Self {
        PscSetting("FFFFFF".into())
    }
}

/// Settings of the IC card reader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcCardConfig {
    /// The protocol; default from the attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<ReaderKind>,
    /// Must be ready for the kiosk to offer gas top-ups.
    #[serde(default)]
    pub required: bool,
    /// PSC of the gas layout, hex.
    #[serde(default)]
    pub psc: PscSetting,
    /// CCID slot number.
    #[serde(default)]
    pub slot: u8,
    /// Deadline of CRT-310 moves and resets, in milliseconds.
    #[serde(default = "default_motion")]
    pub motion_timeout_ms: u64,
    /// How long to wait for the customer to insert a card, in milliseconds.
    #[serde(default = "default_insert")]
    pub insert_timeout_ms: u64,
    /// Serial attachment (a CRT-310: 9600 8N1 unless set).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "device::crt310::settings::deserialize_optional_serial"
    )]
    pub serial: Option<SerialConfig>,
    /// USB attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usb: Option<UsbConfig>,
}

fn default_motion() -> u64 {
    10_000
}

fn default_insert() -> u64 {
    30_000
}

impl IcCardConfig {
    /// A CRT-310 on `path` at its factory 9600 8N1.
    pub fn crt310(path: impl Into<std::path::PathBuf>) -> Self {
        IcCardConfig::on(ReaderKind::Crt310, Some(device::crt310::settings::serial(path)), None)
    }

    /// A CCID reader behind a serial-like stream (the simulator's pty).
    pub fn ccid_serial(path: impl Into<std::path::PathBuf>) -> Self {
        IcCardConfig::on(ReaderKind::Ccid, Some(SerialConfig::new(path)), None)
    }

    /// The same slot as a CRT-310 on another port (a simulator's pty).
    pub fn with_port(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.reader = Some(ReaderKind::Crt310);
        self.serial =
            Some(self.serial.unwrap_or_else(device::crt310::settings::default_serial).with_path(path));
        self
    }

    fn on(kind: ReaderKind, serial: Option<SerialConfig>, usb: Option<UsbConfig>) -> Self {
        IcCardConfig {
            reader: Some(kind),
            required: false,
            psc: PscSetting::default(),
            slot: 0,
            motion_timeout_ms: default_motion(),
            insert_timeout_ms: default_insert(),
            serial,
            usb,
        }
    }

    /// The protocol in effect.
    pub fn kind(&self) -> ReaderKind {
        self.reader.unwrap_or(if self.usb.is_some() { ReaderKind::Ccid } else { ReaderKind::Crt310 })
    }

    /// The attachment, which also gives the per-command timing and the reconnect backoff.
    pub fn port(&self) -> PortConfig {
        PortConfig { serial: self.serial.clone(), usb: self.usb.clone() }
    }

    /// Checks the entry.
    pub fn validate(&self) -> Result<(), TransportError> {
        if self.psc.psc().is_none() {
            return Err(TransportError::Config("iccard psc must be 6 hex digits".into()));
        }
        if self.motion_timeout_ms == 0 || self.insert_timeout_ms == 0 {
            return Err(TransportError::Config("iccard timeouts must be positive".into()));
        }
        self.port().connector(None).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crt310_entry_parses() {
        let cfg: IcCardConfig = toml::from_str(
            r#"
            reader = "crt310"
            psc = "123456"
            [serial]
            path = "/dev/serial/by-id/usb-crt310"
            baud = 9600
            "#,
        )
        .unwrap();
        assert_eq!(cfg.kind(), ReaderKind::Crt310);
        assert_eq!(cfg.psc.psc(), Some(Psc::new([0x12, 0x34, 0x56])));
        cfg.validate().unwrap();
        assert!(!format!("{cfg:?}").contains("123456"), "the PSC never shows in Debug");
    }

    #[test]
    fn a_crt310_entry_without_baud_is_9600() {
        let cfg: IcCardConfig = toml::from_str("[serial]\npath = \"/dev/ttyS2\"\n").unwrap();
        assert_eq!(cfg.serial.unwrap().baud, 9600, "hardware.md §2.1: CRT-310 9600 8N1");
        let usb: IcCardConfig = toml::from_str("[usb]\nvendor_id = 0x072F\nproduct_id = 0x90CC\n").unwrap();
        assert_eq!(usb.with_port("/dev/pts/4").serial.unwrap().baud, 9600);
    }

    #[test]
    fn a_usb_entry_defaults_to_ccid() {
        let cfg: IcCardConfig = toml::from_str("[usb]\nvendor_id = 0x072F\nproduct_id = 0x90CC\n").unwrap();
        assert_eq!(cfg.kind(), ReaderKind::Ccid);
        cfg.validate().unwrap();
    }

    #[test]
    fn typos_bad_pscs_and_missing_ports_are_refused() {
        assert!(toml::from_str::<IcCardConfig>("readr = \"ccid\"").is_err());
        let mut cfg = IcCardConfig::crt310("/dev/ttyS1");
        cfg.psc = PscSetting("12345".into());
        assert!(cfg.validate().is_err());
        let cfg: IcCardConfig = toml::from_str("required = true").unwrap();
        assert!(cfg.validate().is_err());
    }
}
