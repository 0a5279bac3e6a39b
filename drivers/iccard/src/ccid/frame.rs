//! USB CCID bulk messages (hardware.md §3.1) as typed values.
//!
//! Every message starts with the same 10-byte header (multi-byte fields little-endian):
//! `bMessageType dwLength(4) bSlot bSeq` + 3 message-specific bytes, then `dwLength` bytes.

/// Length of the header.
pub const HEADER_LEN: usize = 10;
/// Longest `abData` this driver accepts (short and extended APDUs fit; more is garbage).
pub const MAX_DATA: usize = 65_544;

/// `PC_to_RDR_IccPowerOn`.
pub const PC_TO_RDR_ICC_POWER_ON: u8 = 0x62;
/// `PC_to_RDR_IccPowerOff`.
pub const PC_TO_RDR_ICC_POWER_OFF: u8 = 0x63;
/// `PC_to_RDR_GetSlotStatus`.
pub const PC_TO_RDR_GET_SLOT_STATUS: u8 = 0x65;
/// `PC_to_RDR_XfrBlock`.
pub const PC_TO_RDR_XFR_BLOCK: u8 = 0x6F;
/// `PC_to_RDR_Abort`.
pub const PC_TO_RDR_ABORT: u8 = 0x72;
/// `RDR_to_PC_DataBlock`.
pub const RDR_TO_PC_DATA_BLOCK: u8 = 0x80;
/// `RDR_to_PC_SlotStatus`.
pub const RDR_TO_PC_SLOT_STATUS: u8 = 0x81;
/// `RDR_to_PC_Parameters`.
pub const RDR_TO_PC_PARAMETERS: u8 = 0x82;
/// `RDR_to_PC_Escape`.
pub const RDR_TO_PC_ESCAPE: u8 = 0x83;
/// `RDR_to_PC_DataRateAndClockFrequency`.
pub const RDR_TO_PC_DATA_RATE: u8 = 0x84;
/// `RDR_to_PC_NotifySlotChange` (interrupt IN).
pub const RDR_TO_PC_NOTIFY_SLOT_CHANGE: u8 = 0x50;
/// `RDR_to_PC_HardwareError` (interrupt IN).
pub const RDR_TO_PC_HARDWARE_ERROR: u8 = 0x51;

/// `bError` when the card is mute or absent.
pub const ERR_ICC_MUTE: u8 = 0xFE;
/// `bError` when the command was aborted.
pub const ERR_CMD_ABORTED: u8 = 0xFF;
/// `bError` "hardware error".
pub const ERR_HW_ERROR: u8 = 0xFB;
/// `bError` "command not supported".
pub const ERR_CMD_NOT_SUPPORTED: u8 = 0x00;

/// `bPowerSelect` of IccPowerOn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PowerSelect {
    /// `00`: the reader chooses.
    Auto,
    /// `01`: 5 V (memory cards such as SLE4442).
    V5,
    /// `02`: 3 V.
    V3,
    /// `03`: 1.8 V.
    V1_8,
}

impl PowerSelect {
    /// The byte.
    pub const fn byte(self) -> u8 {
        match self {
            PowerSelect::Auto => 0,
            PowerSelect::V5 => 1,
            PowerSelect::V3 => 2,
            PowerSelect::V1_8 => 3,
        }
    }

    /// From the byte.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(PowerSelect::Auto),
            1 => Some(PowerSelect::V5),
            2 => Some(PowerSelect::V3),
            3 => Some(PowerSelect::V1_8),
            _ => None,
        }
    }
}

/// A host → reader message.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum PcToRdr {
    /// `62`: power the card, get its ATR.
    IccPowerOn {
        /// Slot.
        slot: u8,
        /// Sequence number.
        seq: u8,
        /// Voltage.
        power: PowerSelect,
    },
    /// `63`: power the card off.
    IccPowerOff {
        /// Slot.
        slot: u8,
        /// Sequence number.
        seq: u8,
    },
    /// `65`: is a card there, is it powered?
    GetSlotStatus {
        /// Slot.
        slot: u8,
        /// Sequence number.
        seq: u8,
    },
    /// `6F`: send bytes (an APDU, here an ACR38-style pseudo-APDU) to the card.
    XfrBlock {
        /// Slot.
        slot: u8,
        /// Sequence number.
        seq: u8,
        /// Block waiting time multiplier.
        bwi: u8,
        /// `wLevelParameter`.
        level: u16,
        /// The bytes.
        data: Vec<u8>,
    },
    /// `72`: abort.
    Abort {
        /// Slot.
        slot: u8,
        /// Sequence number.
        seq: u8,
    },
}

impl std::fmt::Debug for PcToRdr {
    // An XfrBlock may carry a PSC: only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PcToRdr::IccPowerOn { slot, seq, power } => {
                write!(f, "IccPowerOn {{ slot: {slot}, seq: {seq}, power: {power:?} }}")
            }
            PcToRdr::IccPowerOff { slot, seq } => write!(f, "IccPowerOff {{ slot: {slot}, seq: {seq} }}"),
            PcToRdr::GetSlotStatus { slot, seq } => write!(f, "GetSlotStatus {{ slot: {slot}, seq: {seq} }}"),
            PcToRdr::XfrBlock { slot, seq, data, .. } => {
                write!(f, "XfrBlock {{ slot: {slot}, seq: {seq}, len: {} }}", data.len())
            }
            PcToRdr::Abort { slot, seq } => write!(f, "Abort {{ slot: {slot}, seq: {seq} }}"),
        }
    }
}

impl PcToRdr {
    /// The sequence number.
    pub fn seq(&self) -> u8 {
        match self {
            PcToRdr::IccPowerOn { seq, .. }
            | PcToRdr::IccPowerOff { seq, .. }
            | PcToRdr::GetSlotStatus { seq, .. }
            | PcToRdr::XfrBlock { seq, .. }
            | PcToRdr::Abort { seq, .. } => *seq,
        }
    }

    /// The slot.
    pub fn slot(&self) -> u8 {
        match self {
            PcToRdr::IccPowerOn { slot, .. }
            | PcToRdr::IccPowerOff { slot, .. }
            | PcToRdr::GetSlotStatus { slot, .. }
            | PcToRdr::XfrBlock { slot, .. }
            | PcToRdr::Abort { slot, .. } => *slot,
        }
    }
}

/// `bmICCStatus` (bits 0–1 of `bStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IccStatus {
    /// 0: present and active (powered).
    PresentActive,
    /// 1: present, not powered.
    PresentInactive,
    /// 2: no card.
    Absent,
    /// 3: reserved.
    Reserved,
}

/// `bmCommandStatus` (bits 6–7 of `bStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandStatus {
    /// 0: done.
    Ok,
    /// 1: failed, see `bError`.
    Failed,
    /// 2: time extension requested; keep reading.
    TimeExtension,
    /// 3: reserved.
    Reserved,
}

/// `bStatus`, split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotState {
    /// Card presence.
    pub icc: IccStatus,
    /// Command result.
    pub command: CommandStatus,
}

impl SlotState {
    /// From `bStatus` (bits 2–5 are reserved and ignored).
    pub const fn from_byte(b: u8) -> Self {
        let icc = match b & 0x03 {
            0 => IccStatus::PresentActive,
            1 => IccStatus::PresentInactive,
            2 => IccStatus::Absent,
            _ => IccStatus::Reserved,
        };
        let command = match (b >> 6) & 0x03 {
            0 => CommandStatus::Ok,
            1 => CommandStatus::Failed,
            2 => CommandStatus::TimeExtension,
            _ => CommandStatus::Reserved,
        };
        SlotState { icc, command }
    }

    /// `bStatus`.
    pub const fn byte(self) -> u8 {
        let icc = match self.icc {
            IccStatus::PresentActive => 0,
            IccStatus::PresentInactive => 1,
            IccStatus::Absent => 2,
            IccStatus::Reserved => 3,
        };
        let cmd = match self.command {
            CommandStatus::Ok => 0,
            CommandStatus::Failed => 1,
            CommandStatus::TimeExtension => 2,
            CommandStatus::Reserved => 3,
        };
        icc | (cmd << 6)
    }
}

/// A reader → host message.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum RdrToPc {
    /// `80`: data (ATR after power-on, response after XfrBlock).
    DataBlock {
        /// Slot.
        slot: u8,
        /// Echoed sequence number.
        seq: u8,
        /// `bStatus`.
        state: SlotState,
        /// `bError`.
        error: u8,
        /// `bChainParameter`.
        chain: u8,
        /// The data.
        data: Vec<u8>,
    },
    /// `81`: slot status.
    SlotStatus {
        /// Slot.
        slot: u8,
        /// Echoed sequence number.
        seq: u8,
        /// `bStatus`.
        state: SlotState,
        /// `bError`.
        error: u8,
        /// `bClockStatus`.
        clock: u8,
    },
    /// `82`, `83`, `84`: parameters, escape, data rate: kept raw.
    Other {
        /// Message type.
        kind: u8,
        /// Slot.
        slot: u8,
        /// Echoed sequence number.
        seq: u8,
        /// `bStatus`.
        state: SlotState,
        /// `bError`.
        error: u8,
        /// Byte 9.
        param: u8,
        /// The data.
        data: Vec<u8>,
    },
}

impl std::fmt::Debug for RdrToPc {
    // Card data is never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RdrToPc::DataBlock { slot, seq, state, error, data, .. } => write!(
                f,
                "DataBlock {{ slot: {slot}, seq: {seq}, {state:?}, error: {error:#04x}, len: {} }}",
                data.len()
            ),
            RdrToPc::SlotStatus { slot, seq, state, error, .. } => {
                write!(f, "SlotStatus {{ slot: {slot}, seq: {seq}, {state:?}, error: {error:#04x} }}")
            }
            RdrToPc::Other { kind, seq, .. } => write!(f, "Other {{ kind: {kind:#04x}, seq: {seq} }}"),
        }
    }
}

impl RdrToPc {
    /// Echoed sequence number.
    pub fn seq(&self) -> u8 {
        match self {
            RdrToPc::DataBlock { seq, .. } | RdrToPc::SlotStatus { seq, .. } | RdrToPc::Other { seq, .. } => {
                *seq
            }
        }
    }

    /// Slot.
    pub fn slot(&self) -> u8 {
        match self {
            RdrToPc::DataBlock { slot, .. }
            | RdrToPc::SlotStatus { slot, .. }
            | RdrToPc::Other { slot, .. } => *slot,
        }
    }

    /// `bStatus`.
    pub fn state(&self) -> SlotState {
        match self {
            RdrToPc::DataBlock { state, .. }
            | RdrToPc::SlotStatus { state, .. }
            | RdrToPc::Other { state, .. } => *state,
        }
    }

    /// `bError`.
    pub fn error(&self) -> u8 {
        match self {
            RdrToPc::DataBlock { error, .. }
            | RdrToPc::SlotStatus { error, .. }
            | RdrToPc::Other { error, .. } => *error,
        }
    }
}
