//! "We could not talk to the device": the one error type of every transport.
//!
//! Kept apart from "the device answered no" (a decoded refusal, a jam), which each driver types
//! itself. Messages name ports and byte counts only, never the bytes, so no payment code or ID
//! number can reach a log through them.

use std::io;
use std::time::Duration;

/// Why a transport could not complete an exchange.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The port could not be opened (absent, busy, no permission).
    #[error("cannot open {port}: {source}")]
    Open {
        /// The configured path or USB id.
        port: String,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// Reading or writing failed: the port vanished (cable pulled, pty closed, adapter reset).
    #[error("device link lost: {0}")]
    Io(#[from] io::Error),
    /// The other side closed the link (end of file on a read).
    #[error("device link closed")]
    Closed,
    /// Nothing complete arrived before the command's overall deadline.
    #[error("no complete reply within {waited:?} ({received} bytes received)")]
    Timeout {
        /// The overall deadline that ran out.
        waited: Duration,
        /// Bytes received during the exchange (a truncated frame shows here).
        received: usize,
    },
    /// The reply started but then stopped for longer than the inter-byte timeout.
    #[error("reply stopped after {received} bytes (silent for over {gap:?})")]
    InterByteTimeout {
        /// The inter-byte timeout.
        gap: Duration,
        /// Bytes received before the gap.
        received: usize,
    },
    /// The link is down and the next reconnect attempt is not due yet.
    #[error("device offline; next reconnect attempt in {retry_in:?}")]
    Offline {
        /// Time until the next attempt.
        retry_in: Duration,
    },
    /// The configuration cannot work (bad data bits, no path...).
    #[error("bad device configuration: {0}")]
    Config(String),
    /// libusb reported an error.
    #[error("usb: {0}")]
    Usb(#[from] rusb::Error),
    /// No USB device matched the configured vendor/product id (and serial number).
    #[error("no usb device {vendor_id:04x}:{product_id:04x}")]
    UsbNotFound {
        /// Configured vendor id.
        vendor_id: u16,
        /// Configured product id.
        product_id: u16,
    },
    /// The USB device has no interface with a bulk IN and a bulk OUT endpoint.
    #[error("usb device has no bulk in/out endpoint pair")]
    UsbNoEndpoints,
}

impl TransportError {
    /// True when the link itself is gone, so the port must be closed and reopened: I/O errors,
    /// end of file, a USB device that left the bus. A timeout is not: a silent device on a live
    /// port is a device problem, reopening would not help.
    pub fn is_link_lost(&self) -> bool {
        matches!(
            self,
            TransportError::Io(_)
                | TransportError::Closed
                | TransportError::Usb(rusb::Error::NoDevice | rusb::Error::Io | rusb::Error::Pipe)
        )
    }

    /// True when the device could not be reached at all (lost, offline, not found): the driver
    /// reports [`crate::DeviceState::Offline`].
    pub fn is_offline(&self) -> bool {
        self.is_link_lost()
            || matches!(
                self,
                TransportError::Open { .. }
                    | TransportError::Offline { .. }
                    | TransportError::UsbNotFound { .. }
            )
    }
}
