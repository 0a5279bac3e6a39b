//! One configuration entry for "serial or USB", and a connector for either.
//!
//! A device entry in `kiosk.toml` names exactly one of the two tables; the driver then holds a
//! [`crate::Reconnecting`]`<`[`AnyConnector`]`>` and never cares which it got:
//!
//! ```toml
//! [devices.printer.serial]          # or: [devices.printer.usb]
//! path = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
//! ```

use crate::error::TransportError;
use crate::link::Timing;
use crate::reconnect::{BackoffPolicy, Connector};
use crate::serial::{SerialConfig, SerialConnector};
use crate::usb::{UsbConfig, UsbConnector};
use serde::{Deserialize, Serialize};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio_serial::SerialStream;

/// Where a device is attached: exactly one of `serial` and `usb`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PortConfig {
    /// A serial port (RS-232, USB-serial adapter, CDC-ACM, or a simulator's pty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<SerialConfig>,
    /// A USB device with bulk endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usb: Option<UsbConfig>,
}

impl PortConfig {
    /// A serial port entry.
    pub fn serial(cfg: SerialConfig) -> Self {
        PortConfig { serial: Some(cfg), usb: None }
    }

    /// The connector for this entry; `prefer_class` picks the USB interface class (ignored for
    /// serial). Refuses entries with none or both.
    pub fn connector(&self, prefer_class: Option<u8>) -> Result<AnyConnector, TransportError> {
        match (&self.serial, &self.usb) {
            (Some(s), None) => {
                s.validate()?;
                Ok(AnyConnector::Serial(SerialConnector::new(s.clone())))
            }
            (None, Some(u)) => Ok(AnyConnector::Usb(UsbConnector::new(u.clone(), prefer_class))),
            _ => Err(TransportError::Config("give exactly one of `serial` and `usb`".into())),
        }
    }

    /// Per-command timing: the serial settings', or the USB timeout with an 80 ms gap (a USB
    /// transfer arrives whole, so the gap only bounds a device that splits its answer).
    pub fn timing(&self) -> Timing {
        match (&self.serial, &self.usb) {
            (Some(s), _) => s.timing(),
            (None, Some(u)) => Timing::new(Duration::from_millis(u.timeout_ms), Duration::from_millis(80)),
            _ => Timing::default(),
        }
    }

    /// Reconnect backoff: the serial settings', or the default.
    pub fn backoff(&self) -> BackoffPolicy {
        self.serial.as_ref().map_or_else(BackoffPolicy::default, SerialConfig::backoff)
    }
}

/// A serial or USB connector.
#[derive(Clone, Debug)]
pub enum AnyConnector {
    /// Serial.
    Serial(SerialConnector),
    /// USB bulk pipe as a stream.
    Usb(UsbConnector),
}

/// The stream an [`AnyConnector`] opens.
#[derive(Debug)]
pub enum AnyIo {
    /// A serial port.
    Serial(SerialStream),
    /// A USB bulk pipe.
    Usb(DuplexStream),
}

impl Connector for AnyConnector {
    type Io = AnyIo;

    async fn connect(&self) -> Result<AnyIo, TransportError> {
        match self {
            AnyConnector::Serial(c) => c.connect().await.map(AnyIo::Serial),
            AnyConnector::Usb(c) => c.connect().await.map(AnyIo::Usb),
        }
    }

    fn describe(&self) -> String {
        match self {
            AnyConnector::Serial(c) => c.describe(),
            AnyConnector::Usb(c) => c.describe(),
        }
    }
}

impl AsyncRead for AnyIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AnyIo::Serial(s) => Pin::new(s).poll_read(cx, buf),
            AnyIo::Usb(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for AnyIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            AnyIo::Serial(s) => Pin::new(s).poll_write(cx, data),
            AnyIo::Usb(s) => Pin::new(s).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AnyIo::Serial(s) => Pin::new(s).poll_flush(cx),
            AnyIo::Usb(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AnyIo::Serial(s) => Pin::new(s).poll_shutdown(cx),
            AnyIo::Usb(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_transport_is_required() {
        let none = PortConfig::default();
        assert!(none.connector(None).is_err());
        let both: PortConfig = toml::from_str(
            "[serial]\npath = \"/dev/ttyS0\"\n[usb]\nvendor_id = 0x0416\nproduct_id = 0x5011\n",
        )
        .unwrap();
        assert!(both.connector(None).is_err());
        let serial: PortConfig = toml::from_str("[serial]\npath = \"/dev/ttyS0\"\n").unwrap();
        assert!(matches!(serial.connector(None), Ok(AnyConnector::Serial(_))));
        assert!(toml::from_str::<PortConfig>("[bluetooth]\nx = 1\n").is_err());
    }
}
