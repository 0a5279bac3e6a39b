//! The bank-card entry in `kiosk.toml`: the payment terminal and the motorised card slot.
//!
//! ```toml
//! [devices.bankcard]
//! required = false                          # `yizhan devices` fails when a required device is not ready
//!
//! [devices.bankcard.terminal]
//! pos_no = "00000001"                       # MIS-POS POS no. (8)
//! operator = "01"                           # MIS-POS operator (8)
//! transaction_timeout_ms = 90000            # card + PIN + bank; then the sale's outcome is unknown
//! query_timeout_ms = 5000                   # QUERY_LAST, void, refund, reversal
//! ack_timeout_ms = 1000                     # ACK/NAK after each frame
//! max_sends = 3                             # sends of one frame (NAK or no ACK → send again)
//!
//! [devices.bankcard.terminal.serial]
//! path = "/dev/serial/by-id/usb-FTDI_FT232R_POS-if00-port0"
//! baud = 9600
//!
//! [devices.bankcard.slot]                   # optional: the motorised reader (CRT-310 family)
//! insert_timeout_ms = 30000                 # waiting for the customer to insert the card
//! take_timeout_ms = 30000                   # "take your card": then, and only then, capture
//! poll_ms = 200
//! move_timeout_ms = 5000
//!
//! [devices.bankcard.slot.serial]
//! path = "/dev/serial/by-id/usb-Prolific_CRT310-if00-port0"
//! baud = 9600
//! ```

use crate::transport::LinkTiming;
use device::serial::SerialConfig;
use device::TransportError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// `[devices.bankcard]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankCardConfig {
    /// Must be ready for the kiosk to offer bank-card payment.
    #[serde(default)]
    pub required: bool,
    /// The payment terminal (every setting has a default; only its port must be given).
    #[serde(default)]
    pub terminal: TerminalConfig,
    /// The motorised card slot, when the kiosk has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<SlotConfig>,
}

impl BankCardConfig {
    /// The same terminal, and slot if the entry has one, on other ports (simulators' ptys).
    pub fn with_ports(mut self, terminal: impl Into<PathBuf>, slot: Option<&std::path::Path>) -> Self {
        self.terminal.serial.path = terminal.into();
        if let (Some(entry), Some(path)) = (self.slot.as_mut(), slot) {
            entry.serial.path = path.to_path_buf();
        }
        self
    }
}

/// `[devices.bankcard.terminal]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalConfig {
    /// No longer used: the armed reversal and approved purchases live in the kiosk's journal
    /// (see [`crate::store`]). Accepted so that an older `kiosk.toml` still loads; the kiosk
    /// refuses to start while an armed reversal file of an older version is left in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// POS no., up to 8 printable ASCII.
    #[serde(default = "defaults::pos_no")]
    pub pos_no: String,
    /// Operator, up to 8 printable ASCII.
    #[serde(default = "defaults::operator")]
    pub operator: String,
    /// Wait for a sale's response.
    #[serde(default = "defaults::transaction_timeout_ms")]
    pub transaction_timeout_ms: u64,
    /// Wait for the response of a query, void, refund or reversal.
    #[serde(default = "defaults::query_timeout_ms")]
    pub query_timeout_ms: u64,
    /// Wait for ACK/NAK.
    #[serde(default = "defaults::ack_timeout_ms")]
    pub ack_timeout_ms: u64,
    /// Sends of one frame.
    #[serde(default = "defaults::max_sends")]
    pub max_sends: u8,
    /// The serial port.
    #[serde(default)]
    pub serial: SerialConfig,
}

impl Default for TerminalConfig {
    /// Every setting at its default, on no port yet.
    fn default() -> Self {
        device::serial::serde_defaults().expect("every terminal setting has a default")
    }
}

/// `[devices.bankcard.slot]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotConfig {
    /// Wait for a card to be inserted.
    #[serde(default = "defaults::insert_timeout_ms")]
    pub insert_timeout_ms: u64,
    /// Wait for a presented card to be taken before capturing it.
    #[serde(default = "defaults::take_timeout_ms")]
    pub take_timeout_ms: u64,
    /// Status poll interval.
    #[serde(default = "defaults::poll_ms")]
    pub poll_ms: u64,
    /// Deadline of one mechanical command.
    #[serde(default = "defaults::move_timeout_ms")]
    pub move_timeout_ms: u64,
    /// The serial port (a CRT-310: 9600 8N1 unless set).
    #[serde(
        default = "device::crt310::settings::default_serial",
        deserialize_with = "device::crt310::settings::deserialize_serial"
    )]
    pub serial: SerialConfig,
}

mod defaults {
    pub(super) fn pos_no() -> String {
        "00000001".into()
    }
    pub(super) fn operator() -> String {
        "01".into()
    }
    pub(super) fn transaction_timeout_ms() -> u64 {
        90_000
    }
    pub(super) fn query_timeout_ms() -> u64 {
        5_000
    }
    pub(super) fn ack_timeout_ms() -> u64 {
        1_000
    }
    pub(super) fn max_sends() -> u8 {
        3
    }
    pub(super) fn insert_timeout_ms() -> u64 {
        30_000
    }
    pub(super) fn take_timeout_ms() -> u64 {
        30_000
    }
    pub(super) fn poll_ms() -> u64 {
        200
    }
    pub(super) fn move_timeout_ms() -> u64 {
        5_000
    }
}

fn bad(m: &str) -> Result<(), TransportError> {
    Err(TransportError::Config(m.into()))
}

impl TerminalConfig {
    /// Defaults for a terminal on `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TerminalConfig {
            data_dir: None,
            pos_no: defaults::pos_no(),
            operator: defaults::operator(),
            transaction_timeout_ms: defaults::transaction_timeout_ms(),
            query_timeout_ms: defaults::query_timeout_ms(),
            ack_timeout_ms: defaults::ack_timeout_ms(),
            max_sends: defaults::max_sends(),
            serial: SerialConfig::new(path),
        }
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), TransportError> {
        self.serial.validate()?;
        let ascii8 = |s: &str| s.len() <= 8 && s.bytes().all(|b| (0x20..=0x7E).contains(&b));
        if !ascii8(&self.pos_no) || !ascii8(&self.operator) {
            return bad("pos_no and operator are at most 8 printable ASCII characters");
        }
        if self.transaction_timeout_ms == 0 || self.query_timeout_ms == 0 || self.ack_timeout_ms == 0 {
            return bad("terminal timeouts must be positive");
        }
        if self.max_sends == 0 {
            return bad("max_sends must be at least 1");
        }
        Ok(())
    }

    /// The link protocol's timing.
    pub fn link_timing(&self) -> LinkTiming {
        LinkTiming {
            ack_timeout: Duration::from_millis(self.ack_timeout_ms),
            max_sends: self.max_sends,
            max_naks: 3,
            inter_byte: Duration::from_millis(self.serial.inter_byte_ms),
        }
    }
}

impl SlotConfig {
    /// Defaults for a slot on `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SlotConfig {
            insert_timeout_ms: defaults::insert_timeout_ms(),
            take_timeout_ms: defaults::take_timeout_ms(),
            poll_ms: defaults::poll_ms(),
            move_timeout_ms: defaults::move_timeout_ms(),
            serial: device::crt310::settings::serial(path),
        }
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), TransportError> {
        self.serial.validate()?;
        if self.poll_ms == 0 || self.move_timeout_ms == 0 || self.take_timeout_ms == 0 {
            return bad("slot timeouts must be positive");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulator_ports_replace_the_ports_and_add_no_slot() {
        let bare: BankCardConfig = toml::from_str("required = true").unwrap();
        assert!(bare.terminal.validate().is_err(), "no port yet");
        let sim = bare.with_ports("/dev/pts/4", Some(std::path::Path::new("/dev/pts/5")));
        assert_eq!(sim.terminal.serial.path, std::path::Path::new("/dev/pts/4"));
        assert!(sim.slot.is_none(), "a slot only where the entry has one");
        sim.terminal.validate().unwrap();
        let with_slot: BankCardConfig = toml::from_str("[slot]\ntake_timeout_ms = 30000").unwrap();
        let sim = with_slot.with_ports("/dev/pts/4", Some(std::path::Path::new("/dev/pts/5")));
        assert_eq!(sim.slot.unwrap().serial.path, std::path::Path::new("/dev/pts/5"));
    }

    #[test]
    fn the_slot_is_9600_unless_the_entry_says_otherwise() {
        let cfg: BankCardConfig = toml::from_str("[slot.serial]\npath = \"/dev/ttyS3\"\n").unwrap();
        assert_eq!(cfg.slot.unwrap().serial.baud, 9600, "hardware.md §2.1: CRT-310 9600 8N1");
        assert_eq!(SlotConfig::new("/dev/ttyS3").serial.baud, 9600);
    }

    #[test]
    fn the_documented_entry_parses() {
        let text = include_str!("config.rs")
            .lines()
            .skip_while(|l| !l.starts_with("//! [devices.bankcard]"))
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start())
            .collect::<Vec<_>>()
            .join("\n")
            .replace("[devices.bankcard]", "")
            .replace("[devices.bankcard.", "[");
        let cfg: BankCardConfig = toml::from_str(&text).unwrap();
        cfg.terminal.validate().unwrap();
        let slot = cfg.slot.unwrap();
        slot.validate().unwrap();
        assert_eq!(cfg.terminal.serial.baud, 9600);
        assert_eq!(slot.take_timeout_ms, 30_000);
    }

    #[test]
    fn typos_are_refused() {
        let err = toml::from_str::<TerminalConfig>(
            "data_dir = \"/tmp/x\"\ntransaction_timout_ms = 5\n[serial]\npath = \"/dev/x\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("transaction_timout_ms"), "{err}");
    }
}
