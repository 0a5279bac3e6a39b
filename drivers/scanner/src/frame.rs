//! Typed values on the scanner's serial line (hardware.md §5.2): what the host sends ([`Command`])
//! and what the engine sends back ([`Reply`]). No bytes here: [`crate::codec`] does the bytes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which command set the engine speaks. The reply shapes of all of them are told apart by the
/// decoder without this (so a mis-configured vendor still decodes scans); only the commands the
/// host sends depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Vendor {
    /// Honeywell Xenon/Granit/HF/N3680: `SYN T CR` trigger, `SYN U CR` untrigger, `SYN M CR` menu.
    Honeywell,
    /// Newland EM/FM/NLS, legacy ASCII protocol: `ESC 1` trigger, `NLS…;` settings, bare `ACK`.
    Newland,
    /// Newland "unified" frames: `7E 01 30 30 30 30 … 3B 03` out, `02 01 30 30 30 30 … 3B 03` back.
    NewlandUnified,
    /// An engine in presentation (auto-sense) mode that takes no commands: the host only listens.
    Passive,
}

impl Vendor {
    /// The stable name used in configuration files.
    pub fn code(self) -> &'static str {
        match self {
            Vendor::Honeywell => "honeywell",
            Vendor::Newland => "newland",
            Vendor::NewlandUnified => "newland-unified",
            Vendor::Passive => "passive",
        }
    }

    /// Whether the host can start and stop a scan (everything but [`Vendor::Passive`]).
    pub fn can_trigger(self) -> bool {
        !matches!(self, Vendor::Passive)
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Whether a setting survives a power cycle. Honeywell: `.` saves, `!` is temporary; Newland
/// unified: `@` saves, `#` is temporary. Legacy Newland `NLS…;` codes carry no such flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Persistence {
    /// Lost at power-off: what the driver uses, so a kiosk never rewrites flash on every start.
    Temporary,
    /// Written to the engine's flash.
    Saved,
}

/// A command from the host to the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Start a scan (illumination on, decoding until a read or the engine's own timeout).
    Trigger,
    /// Stop scanning.
    Untrigger,
    /// A configuration setting in the vendor's own words, e.g. Honeywell `TRGMOD0` or
    /// `SUFBK2990D`, Newland legacy `NLS0006010`, Newland unified `SCNTRG1`. The codec adds the
    /// vendor's prefix and terminator; `setting` must be printable ASCII without terminators.
    Setting { setting: String, persistence: Persistence },
}

/// The engine's verdict on a command: Honeywell and Newland both use the ASCII control bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `06` ACK: accepted.
    Ack,
    /// `05` ENQ: Honeywell "invalid tag or sub-tag".
    Enq,
    /// `15` NAK: Honeywell "value out of range"; Newland "failed".
    Nak,
}

impl Status {
    pub const ACK: u8 = 0x06;
    pub const ENQ: u8 = 0x05;
    pub const NAK: u8 = 0x15;

    /// The status for a byte, if it is one.
    pub fn from_byte(b: u8) -> Option<Status> {
        match b {
            Status::ACK => Some(Status::Ack),
            Status::ENQ => Some(Status::Enq),
            Status::NAK => Some(Status::Nak),
            _ => None,
        }
    }

    pub fn byte(self) -> u8 {
        match self {
            Status::Ack => Status::ACK,
            Status::Enq => Status::ENQ,
            Status::Nak => Status::NAK,
        }
    }

    pub fn is_ack(self) -> bool {
        self == Status::Ack
    }
}

/// The bytes of one decoded symbol, as the engine sent them minus the CR/LF suffix.
///
/// A scan may be a payment code, which is a bearer token: `Debug` shows only its length, and the
/// bytes are reachable only through [`ScanData::expose`], which the classifier calls.
#[derive(Clone, PartialEq, Eq)]
pub struct ScanData(Vec<u8>);

impl ScanData {
    pub fn new(bytes: impl Into<Vec<u8>>) -> ScanData {
        ScanData(bytes.into())
    }

    /// The raw bytes: for the classifier, never for a log line.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ScanData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScanData({} bytes)", self.0.len())
    }
}

/// A message from the engine to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// A decoded symbol (CR-terminated, or ended by the idle timeout).
    Scan(ScanData),
    /// A bare status byte: Newland legacy's answer to `NLS…;` (and to nothing else).
    Status(Status),
    /// Honeywell menu reply: the echoed setting(s) and the status of the last one, e.g.
    /// `SUFBK2990D` `06` `.`. For a query (`REVINF.`) `text` holds the answer.
    Menu { text: String, status: Status, persistence: Persistence },
    /// Newland unified reply `02 01 30 30 30 30` + echo + status + `3B 03`.
    Unified { text: String, status: Status },
}

impl Reply {
    /// The status a command reply carries, `None` for a scan.
    pub fn status(&self) -> Option<Status> {
        match self {
            Reply::Scan(_) => None,
            Reply::Status(s) | Reply::Menu { status: s, .. } | Reply::Unified { status: s, .. } => Some(*s),
        }
    }
}
