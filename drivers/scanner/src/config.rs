//! The scanner's entry in `kiosk.toml`.
//!
//! ```toml
//! [devices.scanner]
//! vendor = "honeywell"        # honeywell | newland | newland-unified | passive
//! terminator = "cr"           # cr: frames end at CR (LF optional); idle: frames end after idle_gap_ms of silence
//! idle_gap_ms = 50            # only for terminator = "idle"
//! max_window_s = 60           # longest scan window (WeChat codes refresh every minute)
//! setting_timeout_ms = 1000   # wait for a menu/setting reply
//! settings = ["TRGMOD0", "SUFBK2990D"]  # sent as temporary settings on every connect
//!
//! [devices.scanner.serial]    # device::SerialConfig
//! path = "/dev/serial/by-id/usb-Honeywell_Imaging___Mobility_1900-if00"
//! baud = 115200
//! inter_byte_ms = 100         # a started frame that stalls longer than this is dropped
//!
//! [devices.scanner.bills]     # optional: classify::ClassifierConfig
//! bare_accounts = true
//! [devices.scanner.bills.accounts.water]
//! min_len = 9
//! max_len = 9
//! check_digit = "luhn"
//! ```
//!
//! Unknown keys are refused, so a typo fails at start-up.

use crate::classify::ClassifierConfig;
use crate::frame::Vendor;
use device::SerialConfig;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How the engine ends a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Terminator {
    /// CR suffix (Honeywell `SUFBK2990D`), optional LF: the recommended configuration.
    #[default]
    Cr,
    /// No suffix: a frame ends after `idle_gap_ms` of silence.
    Idle,
}

/// One scan engine on a serial (or USB CDC) port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerConfig {
    /// The engine's port; left out only where something sets it ([`ScannerConfig::with_port`]).
    #[serde(default)]
    pub serial: SerialConfig,
    pub vendor: Vendor,
    #[serde(default)]
    pub terminator: Terminator,
    #[serde(default = "defaults::idle_gap_ms")]
    pub idle_gap_ms: u64,
    #[serde(default = "defaults::max_window_s")]
    pub max_window_s: u64,
    #[serde(default = "defaults::setting_timeout_ms")]
    pub setting_timeout_ms: u64,
    /// Vendor settings sent (temporary) on each connect, e.g. Honeywell `TRGMOD0` (manual/serial
    /// trigger) and `SUFBK2990D` (CR suffix); Newland `NLS0006010`, `NLS0302000`.
    #[serde(default)]
    pub settings: Vec<String>,
    #[serde(default)]
    pub bills: ClassifierConfig,
}

mod defaults {
    pub(super) fn idle_gap_ms() -> u64 {
        50
    }
    pub(super) fn max_window_s() -> u64 {
        60
    }
    pub(super) fn setting_timeout_ms() -> u64 {
        1_000
    }
}

/// The hard ceiling on a scan window (hardware.md §5.2: WeChat codes refresh every minute).
pub const MAX_WINDOW: Duration = Duration::from_secs(60);

impl ScannerConfig {
    /// The same engine on another port (a simulator's pty).
    pub fn with_port(mut self, path: impl Into<std::path::PathBuf>) -> ScannerConfig {
        self.serial.path = path.into();
        self
    }

    /// Defaults for `path` and `vendor`: CR frames, 60 s window, 100 ms inter-byte timeout.
    pub fn new(serial: SerialConfig, vendor: Vendor) -> ScannerConfig {
        let mut serial = serial;
        serial.inter_byte_ms = 100;
        ScannerConfig {
            serial,
            vendor,
            terminator: Terminator::Cr,
            idle_gap_ms: defaults::idle_gap_ms(),
            max_window_s: defaults::max_window_s(),
            setting_timeout_ms: defaults::setting_timeout_ms(),
            settings: Vec::new(),
            bills: ClassifierConfig::default(),
        }
    }

    /// The longest window a scan may wait: the configured one, never above [`MAX_WINDOW`].
    pub fn max_window(&self) -> Duration {
        Duration::from_secs(self.max_window_s).min(MAX_WINDOW)
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        self.serial.validate().map_err(|e| e.to_string())?;
        if self.max_window_s == 0 || self.idle_gap_ms == 0 || self.setting_timeout_ms == 0 {
            return Err("scanner timeouts must be positive".into());
        }
        if !self.settings.is_empty() && !self.vendor.can_trigger() {
            return Err("a passive scanner takes no settings".into());
        }
        Ok(())
    }
}
