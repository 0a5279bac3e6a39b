//! A printer entry in `kiosk.toml`.
//!
//! ```toml
//! [devices.printer]
//! paper = "80mm"        # or "58mm"
//! required = false      # `yizhan devices` exits non-zero when a required device is not ready
//! chunk_bytes = 256     # paper is checked between chunks of this size
//!
//! [devices.printer.serial]
//! path = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
//! baud = 115200
//! # ...every key of device::SerialConfig
//!
//! # or, for a USB printer:
//! # [devices.printer.usb]
//! # vendor_id = 0x0416
//! # product_id = 0x5011
//! ```

use crate::layout::PaperWidth;
use device::serial::SerialConfig;
use device::usb::UsbConfig;
use device::{PortConfig, TransportError};
use serde::{Deserialize, Serialize};

/// Settings of the receipt printer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterConfig {
    /// Roll width.
    #[serde(default)]
    pub paper: PaperWidth,
    /// Must be ready for the kiosk to take payments with a receipt promised.
    #[serde(default)]
    pub required: bool,
    /// Print data is sent in chunks of about this many bytes, with a paper check after each.
    #[serde(default = "default_chunk")]
    pub chunk_bytes: usize,
    /// Serial attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<SerialConfig>,
    /// USB attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usb: Option<UsbConfig>,
}

fn default_chunk() -> usize {
    256
}

impl PrinterConfig {
    /// A serial printer on `path` with default settings.
    pub fn serial(path: impl Into<std::path::PathBuf>) -> Self {
        PrinterConfig {
            paper: PaperWidth::default(),
            required: false,
            chunk_bytes: default_chunk(),
            serial: Some(SerialConfig::new(path)),
            usb: None,
        }
    }

    /// The attachment, which also gives the per-command timing and the reconnect backoff.
    pub fn port(&self) -> PortConfig {
        PortConfig { serial: self.serial.clone(), usb: self.usb.clone() }
    }

    /// Checks the entry.
    pub fn validate(&self) -> Result<(), TransportError> {
        if self.chunk_bytes < 16 {
            return Err(TransportError::Config("chunk_bytes must be at least 16".into()));
        }
        self.port().connector(None).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printer_entry_parses() {
        let cfg: PrinterConfig = toml::from_str(
            r#"
            paper = "58mm"
            required = true
            [serial]
            path = "/dev/serial/by-id/usb-printer"
            baud = 9600
            "#,
        )
        .unwrap();
        assert_eq!(cfg.paper, PaperWidth::Mm58);
        assert_eq!(cfg.serial.as_ref().unwrap().baud, 9600);
        cfg.validate().unwrap();
    }

    #[test]
    fn typos_and_missing_ports_are_refused() {
        assert!(toml::from_str::<PrinterConfig>("papr = \"80mm\"").is_err());
        let cfg: PrinterConfig = toml::from_str("paper = \"80mm\"").unwrap();
        assert!(cfg.validate().is_err());
    }
}
