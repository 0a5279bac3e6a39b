//! [`CashConfig`]: the `[devices.cash]` entry of `kiosk.toml`.
//!
//! ```toml
//! [devices.cash]
//! accepted_yuan = [10, 20, 50, 100]   # the notes taken; Shanghai kiosks commonly take 10–100
//! poll_ms = 200                        # status request interval while a payment takes cash
//! [devices.cash.serial]
//! path = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART-if00-port0"
//! baud = 9600
//! parity = "even"                      # ID-003 runs at 9600 8E1 and nothing else
//! command_timeout_ms = 500             # the head answers in milliseconds; each poll is tried 3 times
//! ```

use device::reconnect::BackoffPolicy;
use device::serial::{Parity, SerialConfig};
use device::{Timing, TransportError};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// The notes of the 2015 and 2019 series a kiosk can be told to take, in yuan.
pub const CNY_NOTES: [u32; 6] = [1, 5, 10, 20, 50, 100];

/// The banknote acceptor's entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CashConfig {
    /// The acceptor's serial line: 9600 bit/s, 8 data bits, even parity, 1 stop bit (the
    /// default when the table leaves them out).
    #[serde(default = "default_serial")]
    pub serial: SerialConfig,
    /// The notes taken, in yuan; each one of [`CNY_NOTES`].
    #[serde(default = "default_accepted")]
    pub accepted_yuan: Vec<u32>,
    /// Status request interval while a payment takes cash (ms).
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// The kiosk may not open without it.
    #[serde(default)]
    pub required: bool,
}

/// 9600 8E1 on no port yet, with the short command timeout of [`CashConfig::new`].
fn default_serial() -> SerialConfig {
    CashConfig::new("").serial
}

fn default_accepted() -> Vec<u32> {
    vec![10, 20, 50, 100]
}

fn default_poll_ms() -> u64 {
    200
}

impl CashConfig {
    /// The entry for an acceptor on `path`, at 9600 8E1, taking 10–100 yuan.
    pub fn new(path: impl Into<std::path::PathBuf>) -> CashConfig {
        let mut serial = SerialConfig::new(path);
        serial.baud = 9600;
        serial.parity = Parity::Even;
        // A head answers within milliseconds; a dead one must not hold a payment for 3 × 2 s.
        serial.command_timeout_ms = 500;
        CashConfig { serial, accepted_yuan: default_accepted(), poll_ms: default_poll_ms(), required: false }
    }

    /// The same entry on another port (a simulator's pty).
    pub fn with_port(mut self, path: &Path) -> CashConfig {
        self.serial.path = path.to_path_buf();
        self
    }

    /// Checks the entry; the message names the key.
    pub fn validate(&self) -> Result<(), TransportError> {
        let bad = |m: String| Err(TransportError::Config(m));
        self.serial.validate()?;
        let s = &self.serial;
        if (s.baud, s.data_bits, s.parity, s.stop_bits) != (9600, 8, Parity::Even, 1) {
            return bad(
                "cash serial: ID-003 runs at baud = 9600, data_bits = 8, parity = \"even\", stop_bits = 1"
                    .into(),
            );
        }
        if self.accepted_yuan.is_empty() {
            return bad("cash accepted_yuan: name at least one note".into());
        }
        if let Some(odd) = self.accepted_yuan.iter().find(|y| !CNY_NOTES.contains(y)) {
            return bad(format!("cash accepted_yuan: {odd} is not a yuan note (1, 5, 10, 20, 50, 100)"));
        }
        if !(50..=2000).contains(&self.poll_ms) {
            return bad("cash poll_ms: between 50 and 2000".into());
        }
        Ok(())
    }

    /// Per-exchange timing.
    pub fn timing(&self) -> Timing {
        self.serial.timing()
    }

    /// Reconnect backoff.
    pub fn backoff(&self) -> BackoffPolicy {
        self.serial.backoff()
    }

    /// The poll interval.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_parses_and_validates() {
        let cfg: CashConfig = toml::from_str(
            r#"
            accepted_yuan = [20, 50, 100]
            [serial]
            path = "/dev/serial/by-id/usb-jcm"
            baud = 9600
            parity = "even"
            "#,
        )
        .unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.accepted_yuan, [20, 50, 100]);
        assert_eq!(cfg.poll_interval(), Duration::from_millis(200));
    }

    #[test]
    fn a_wrong_line_or_note_is_refused_by_name() {
        let mut cfg = CashConfig::new("/dev/ttyS0");
        cfg.validate().unwrap();
        cfg.serial.parity = Parity::None;
        assert!(cfg.validate().unwrap_err().to_string().contains("parity"));
        let mut cfg = CashConfig::new("/dev/ttyS0");
        cfg.accepted_yuan = vec![10, 30];
        assert!(cfg.validate().unwrap_err().to_string().contains("30 is not a yuan note"));
        let cfg: Result<CashConfig, _> = toml::from_str("acepted_yuan = [10]\n[serial]\npath = \"/dev/x\"");
        assert!(cfg.is_err(), "a misspelt key is refused");
    }
}
