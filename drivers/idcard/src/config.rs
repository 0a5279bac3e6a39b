//! The ID reader entry in `kiosk.toml`: the SAM, the motorised slot, the forced-eject button.
//!
//! ```toml
//! [devices.idcard]
//! required = false          # `yizhan devices` fails when a required device is not ready
//! find_interval_ms = 500    # §1.7: poll `20 01` every 300–1000 ms
//! read_timeout_ms = 5000    # deadline of `30 01` (RF + crypto take 0.5–1 s)
//! insert_poll_ms = 200      # slot status polling while waiting for a card
//!
//! [devices.idcard.serial]   # the SAM module (GA/T 467), 115200 8N1
//! path = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
//! baud = 115200
//! command_timeout_ms = 2000
//!
//! [devices.idcard.slot]     # the motorised slot (CRT-310 family), 9600 8N1
//! ack_timeout_ms = 300
//! move_timeout_ms = 5000
//! reset_timeout_ms = 10000
//! [devices.idcard.slot.serial]
//! path = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1-if00-port0"
//! baud = 9600
//!
//! [devices.idcard.button]   # the red "hold 3 s" button
//! input = "modem"           # "modem": a modem-status line; "lines": `BTN 1`/`BTN 0` text
//! line = "cts"              # cts | dsr | dcd | ri (modem only)
//! active_low = false        # true for a normally-closed contact
//! poll_ms = 20
//! debounce_ms = 50
//! hold_ms = 3000
//! [devices.idcard.button.serial]
//! path = "/dev/serial/by-id/usb-Prolific_PL2303-if00-port0"
//! ```
//!
//! Every table refuses unknown keys. The slot and button tables are optional (a counter-top
//! reader has neither); a button without a slot is refused.

use crate::button::{ButtonTiming, ModemLine};
use crate::slot::SlotTiming;
use device::link::Timing;
use device::reconnect::BackoffPolicy;
use device::serial::SerialConfig;
use device::usb::UsbConfig;
use device::{PortConfig, TransportError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The whole ID reader entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdReaderConfig {
    /// The kiosk may not run ID flows without it.
    #[serde(default)]
    pub required: bool,
    /// Interval between find-card polls.
    #[serde(default = "d::find_interval")]
    pub find_interval_ms: u64,
    /// Deadline of the read command.
    #[serde(default = "d::read_timeout")]
    pub read_timeout_ms: u64,
    /// Slot polling interval while waiting for a card.
    #[serde(default = "d::insert_poll")]
    pub insert_poll_ms: u64,
    /// SAM on a serial port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<SerialConfig>,
    /// SAM on USB bulk pipes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usb: Option<UsbConfig>,
    /// The motorised slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<SlotConfig>,
    /// The forced-eject button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<ButtonConfig>,
}

/// The motorised slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotConfig {
    /// Wait for ACK before resending.
    #[serde(default = "d::ack")]
    pub ack_timeout_ms: u64,
    /// Deadline of a card move.
    #[serde(default = "d::moving")]
    pub move_timeout_ms: u64,
    /// Deadline of a reset (which may eject).
    #[serde(default = "d::reset")]
    pub reset_timeout_ms: u64,
    /// The slot's port (CRT-310 default 9600 8N1).
    #[serde(
        default = "device::crt310::settings::default_serial",
        deserialize_with = "device::crt310::settings::deserialize_serial"
    )]
    pub serial: SerialConfig,
}

/// How the button is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ButtonKind {
    /// A modem-status line (the real wiring).
    #[default]
    Modem,
    /// `BTN 1` / `BTN 0` text lines (simulator, text IO boards).
    Lines,
}

/// The forced-eject button.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonConfig {
    /// Modem line or text lines.
    #[serde(default)]
    pub input: ButtonKind,
    /// Which modem line (modem only).
    #[serde(default)]
    pub line: ModemLine,
    /// Pressed when the line is deasserted.
    #[serde(default)]
    pub active_low: bool,
    /// Sampling period of a modem line.
    #[serde(default = "d::poll")]
    pub poll_ms: u64,
    /// Debounce.
    #[serde(default = "d::debounce")]
    pub debounce_ms: u64,
    /// Hold time that ejects.
    #[serde(default = "d::hold")]
    pub hold_ms: u64,
    /// The port.
    #[serde(default)]
    pub serial: SerialConfig,
}

mod d {
    pub(super) fn find_interval() -> u64 {
        500
    }
    pub(super) fn read_timeout() -> u64 {
        5_000
    }
    pub(super) fn insert_poll() -> u64 {
        200
    }
    pub(super) fn ack() -> u64 {
        300
    }
    pub(super) fn moving() -> u64 {
        5_000
    }
    pub(super) fn reset() -> u64 {
        10_000
    }
    pub(super) fn poll() -> u64 {
        20
    }
    pub(super) fn debounce() -> u64 {
        50
    }
    pub(super) fn hold() -> u64 {
        3_000
    }
}

impl IdReaderConfig {
    /// A SAM on serial `path`, no slot, no button.
    pub fn serial(path: impl Into<std::path::PathBuf>) -> Self {
        IdReaderConfig {
            required: false,
            find_interval_ms: d::find_interval(),
            read_timeout_ms: d::read_timeout(),
            insert_poll_ms: d::insert_poll(),
            serial: Some(SerialConfig::new(path)),
            usb: None,
            slot: None,
            button: None,
        }
    }

    /// The same reader with its SAM, slot and button on other ports (a simulator's three ptys):
    /// a slot and a button are added at their defaults where the entry has none, and the button
    /// reads `BTN 1` / `BTN 0` lines.
    pub fn with_ports(
        mut self,
        sam: &std::path::Path,
        slot: &std::path::Path,
        button: &std::path::Path,
    ) -> Self {
        self.serial = Some(self.serial.unwrap_or_default().with_path(sam));
        let mut slot_config =
            self.slot.or_else(device::serial::serde_defaults).expect("every slot setting has a default");
        slot_config.serial.path = slot.to_path_buf();
        self.slot = Some(slot_config);
        let mut button_config =
            self.button.or_else(device::serial::serde_defaults).expect("every button setting has a default");
        button_config.serial.path = button.to_path_buf();
        button_config.input = ButtonKind::Lines;
        self.button = Some(button_config);
        self
    }

    /// The SAM's attachment.
    pub fn port(&self) -> PortConfig {
        PortConfig { serial: self.serial.clone(), usb: self.usb.clone() }
    }

    /// Timing of ordinary SAM commands.
    pub fn command_timing(&self) -> Timing {
        self.port().timing()
    }

    /// Timing of the read command.
    pub fn read_timing(&self) -> Timing {
        Timing { deadline: Duration::from_millis(self.read_timeout_ms), ..self.command_timing() }
    }

    /// SAM reconnect backoff.
    pub fn backoff(&self) -> BackoffPolicy {
        self.port().backoff()
    }

    /// Checks the entry.
    pub fn validate(&self) -> Result<(), TransportError> {
        let bad = |m: &str| Err(TransportError::Config(m.into()));
        if self.find_interval_ms == 0 || self.read_timeout_ms == 0 || self.insert_poll_ms == 0 {
            return bad("idcard intervals and timeouts must be positive");
        }
        if let Some(s) = &self.slot {
            s.serial.validate()?;
            if s.ack_timeout_ms == 0 || s.move_timeout_ms == 0 || s.reset_timeout_ms == 0 {
                return bad("idcard slot timeouts must be positive");
            }
        }
        if let Some(b) = &self.button {
            if self.slot.is_none() {
                return bad("idcard button needs a slot to eject from");
            }
            b.serial.validate()?;
            if b.poll_ms == 0 || b.debounce_ms == 0 || b.hold_ms < 2 * b.debounce_ms {
                return bad(
                    "idcard button: poll and debounce must be positive, hold at least twice debounce",
                );
            }
        }
        self.port().connector(None).map(|_| ())
    }
}

impl SlotConfig {
    /// Slot timings.
    pub fn timing(&self) -> SlotTiming {
        SlotTiming {
            ack: Duration::from_millis(self.ack_timeout_ms),
            command: Duration::from_millis(self.serial.command_timeout_ms),
            moving: Duration::from_millis(self.move_timeout_ms),
            reset: Duration::from_millis(self.reset_timeout_ms),
            inter_byte: Duration::from_millis(self.serial.inter_byte_ms),
        }
    }

    /// A slot on `path` with CRT-310 defaults (9600 8N1).
    pub fn serial(path: impl Into<std::path::PathBuf>) -> Self {
        let serial = device::crt310::settings::serial(path);
        SlotConfig {
            ack_timeout_ms: d::ack(),
            move_timeout_ms: d::moving(),
            reset_timeout_ms: d::reset(),
            serial,
        }
    }
}

impl ButtonConfig {
    /// Debounce and hold.
    pub fn timing(&self) -> ButtonTiming {
        ButtonTiming {
            debounce: Duration::from_millis(self.debounce_ms),
            hold: Duration::from_millis(self.hold_ms),
        }
    }

    /// A text-line button on `path` (the simulator's pty).
    pub fn lines(path: impl Into<std::path::PathBuf>) -> Self {
        ButtonConfig {
            input: ButtonKind::Lines,
            line: ModemLine::Cts,
            active_low: false,
            poll_ms: d::poll(),
            debounce_ms: d::debounce(),
            hold_ms: d::hold(),
            serial: SerialConfig::new(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulator_ports_add_a_slot_and_a_lines_button_and_keep_what_was_written() {
        use std::path::Path;
        let bare: IdReaderConfig = toml::from_str("required = true").unwrap();
        let sim = bare.with_ports(Path::new("/dev/pts/1"), Path::new("/dev/pts/2"), Path::new("/dev/pts/3"));
        assert_eq!(sim.serial.as_ref().map(|s| s.path.as_path()), Some(Path::new("/dev/pts/1")));
        let slot = sim.slot.as_ref().unwrap();
        assert_eq!(slot.serial.path, Path::new("/dev/pts/2"));
        assert_eq!(slot.move_timeout_ms, d::moving(), "a slot at its defaults");
        let button = sim.button.as_ref().unwrap();
        assert_eq!(
            (button.serial.path.as_path(), button.input),
            (Path::new("/dev/pts/3"), ButtonKind::Lines)
        );
        assert!(sim.required);
        sim.validate().unwrap();
        let written: IdReaderConfig =
            toml::from_str("[slot]\nmove_timeout_ms = 7000\n[slot.serial]\nbaud = 9600").unwrap();
        let sim =
            written.with_ports(Path::new("/dev/pts/1"), Path::new("/dev/pts/2"), Path::new("/dev/pts/3"));
        let slot = sim.slot.unwrap();
        assert_eq!((slot.move_timeout_ms, slot.serial.baud), (7000, 9600));
        // hardware.md §2.1: the slot's reader is 9600 8N1 unless the entry says otherwise; the
        // SAM reader beside it is 115200 (§1.1).
        let written: IdReaderConfig =
            toml::from_str("[serial]\npath = \"/dev/ttyS0\"\n[slot.serial]\npath = \"/dev/ttyS1\"").unwrap();
        assert_eq!(written.slot.unwrap().serial.baud, 9600);
        assert_eq!(written.serial.unwrap().baud, 115_200);
    }

    #[test]
    fn the_documented_entry_parses() {
        let src = include_str!("config.rs");
        let toml_text: String = src
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        #[derive(Deserialize)]
        struct Devices {
            idcard: IdReaderConfig,
        }
        #[derive(Deserialize)]
        struct Root {
            devices: Devices,
        }
        let root: Root = toml::from_str(&toml_text).unwrap();
        let cfg = root.devices.idcard;
        cfg.validate().unwrap();
        assert_eq!(cfg.slot.as_ref().unwrap().serial.baud, 9600);
        let b = cfg.button.as_ref().unwrap();
        assert_eq!(
            (b.input, b.line, b.hold_ms, b.debounce_ms),
            (ButtonKind::Modem, ModemLine::Cts, 3000, 50)
        );
    }

    #[test]
    fn typos_and_a_button_without_slot_are_refused() {
        assert!(
            toml::from_str::<IdReaderConfig>("find_intervall_ms = 3\n[serial]\npath = \"/dev/x\"").is_err()
        );
        let mut cfg = IdReaderConfig::serial("/dev/x");
        cfg.button = Some(ButtonConfig::lines("/dev/y"));
        assert!(cfg.validate().is_err());
        cfg.slot = Some(SlotConfig::serial("/dev/z"));
        cfg.validate().unwrap();
    }
}
