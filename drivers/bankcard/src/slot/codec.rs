//! Bytes ⇄ frames of the CRT-310 motorised reader (hardware.md §2.1–§2.2), just the part a
//! bank-card slot needs: reset, status, card-in control, move (gate, eject, capture).
//!
//! ```text
//! host → reader   STX(02) LENH LENL CM PM data ETX(03) BCC      LEN = bytes of CM PM data (BE)
//! reader → host   ACK(06) | NAK(15, bad BCC)                    BCC = XOR of STX..ETX
//! host → reader   ENQ(05)                                       "execute"
//! reader → host   STX LENH LENL CM PM data ETX BCC              positive
//!                 STX LENH LENL 'N'(4E) CM E ETX BCC            negative, E = error byte
//! ```
//!
//! The command set is kept small and separate from `drivers/iccard`'s on purpose: the bank-card
//! slot never powers or reads a chip (the certified terminal does), so it needs four commands.
//! Framing and the reading of replies are the ones every CRT-310 driver shares
//! ([`device::crt310`], [`device::crt310::parse_reply`]).

use bytes::BytesMut;
use device::crt310::{self, ReplyError, Unit};
/// Start of frame, "execute" after an ACK, command received, command damaged
/// (shared CRT-310 bytes, [`device::crt310`]).
pub use device::crt310::{ACK, ENQ, ETX, NAK, STX};

/// Longest text (CM PM + 264 data bytes).
pub const MAX_TEXT: usize = crt310::MAX_DATA + 2;

/// `30 3x` reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetMode {
    /// `30`: keep a card where it is.
    Keep,
    /// `31`: eject a card to the front.
    EjectFront,
}

/// Where to move the card (`32 xx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveTo {
    /// `30`: out of the front, not held.
    EjectFront,
    /// `31`: held at the front gate: "take your card".
    Gate,
    /// `33`: out of the rear, not held: captured into the bin.
    Capture,
}

/// Front entry mode of card-in control (`2F Pm1 Pm2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrontEntry {
    /// `31`: no card may enter.
    Forbid,
    /// `33`: any card, on the entry switch.
    Switch,
}

/// A command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotCommand {
    /// Reset.
    Reset(ResetMode),
    /// Reader status `31 30` → S1 S2 S3.
    Status,
    /// Card-in control; the rear entry is always forbidden.
    CardIn(FrontEntry),
    /// Move the card.
    Move(MoveTo),
}

impl SlotCommand {
    /// CM, PM and data.
    pub fn text(self) -> Vec<u8> {
        match self {
            SlotCommand::Reset(ResetMode::Keep) => vec![0x30, 0x30],
            SlotCommand::Reset(ResetMode::EjectFront) => vec![0x30, 0x31],
            SlotCommand::Status => vec![0x31, 0x30],
            SlotCommand::CardIn(FrontEntry::Forbid) => vec![0x2F, 0x31, 0x31],
            SlotCommand::CardIn(FrontEntry::Switch) => vec![0x2F, 0x33, 0x31],
            SlotCommand::Move(MoveTo::EjectFront) => vec![0x32, 0x30],
            SlotCommand::Move(MoveTo::Gate) => vec![0x32, 0x31],
            SlotCommand::Move(MoveTo::Capture) => vec![0x32, 0x33],
        }
    }

    /// Reads a command text (the simulator's side).
    pub fn from_text(text: &[u8]) -> Option<SlotCommand> {
        Some(match text {
            [0x30, 0x30] => SlotCommand::Reset(ResetMode::Keep),
            [0x30, 0x31] => SlotCommand::Reset(ResetMode::EjectFront),
            [0x31, 0x30] => SlotCommand::Status,
            [0x2F, 0x31, 0x31] => SlotCommand::CardIn(FrontEntry::Forbid),
            [0x2F, 0x33, 0x31] => SlotCommand::CardIn(FrontEntry::Switch),
            [0x32, 0x30] => SlotCommand::Move(MoveTo::EjectFront),
            [0x32, 0x31] => SlotCommand::Move(MoveTo::Gate),
            [0x32, 0x33] => SlotCommand::Move(MoveTo::Capture),
            _ => return None,
        })
    }

    /// The whole frame.
    pub fn encode(self) -> Vec<u8> {
        encode_text(&self.text())
    }
}

/// Frames `text` (CM PM data).
pub fn encode_text(text: &[u8]) -> Vec<u8> {
    crt310::encode(&text[..text.len().min(MAX_TEXT)])
}

/// S1, the card position in a status reply: the shared CRT-310 one.
pub use device::crt310::CardPosition;

/// A reply read by the shared CRT-310 codec: positive `CM PM data`, negative `4E CM E`.
pub use device::crt310::{ErrorCode, Reply};

/// One unit from the reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotReply {
    /// `06`.
    Ack,
    /// `15`.
    Nak,
    /// A reply frame: positive (CM PM echoed, then data) or negative (`4E CM E`).
    Reply(Reply),
}

/// Why bytes were dropped; they are gone from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotDecodeError {
    /// Bytes before the next STX/ACK/NAK.
    #[error("dropped {dropped} byte(s) of garbage")]
    Garbage {
        /// Bytes dropped.
        dropped: usize,
    },
    /// Length over [`MAX_TEXT`], too short, or no ETX where it says: the STX is dropped.
    #[error("malformed frame")]
    Malformed,
    /// Bad BCC: the frame is dropped.
    #[error("bad BCC: expected {expected:#04x}, got {actual:#04x}")]
    BadBcc {
        /// Computed.
        expected: u8,
        /// Carried.
        actual: u8,
    },
    /// A good frame whose text is not a reply (a misshapen negative reply).
    #[error("reply: {0}")]
    BadReply(#[from] ReplyError),
}

/// Reads one unit from the front of `buf`. `Ok(None)`: need more.
pub fn decode_reply(buf: &mut BytesMut) -> Result<Option<SlotReply>, SlotDecodeError> {
    let Some(text) = decode_common(buf, true)? else { return Ok(None) };
    match text {
        Unit::Control(ACK) => Ok(Some(SlotReply::Ack)),
        Unit::Control(NAK) => Ok(Some(SlotReply::Nak)),
        Unit::Control(_) => Ok(None),
        Unit::Text(t) => Ok(Some(SlotReply::Reply(crt310::parse_reply(&t)?))),
    }
}

/// What the simulator reads from the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostUnit {
    /// A command frame (text may be an unknown command).
    Command(Vec<u8>),
    /// `05` execute.
    Enq,
    /// `06` (some hosts ACK a reply).
    Ack,
}

/// Reads one unit the host sent. `Ok(None)`: need more.
pub fn decode_host(buf: &mut BytesMut) -> Result<Option<HostUnit>, SlotDecodeError> {
    Ok(decode_common(buf, false)?.and_then(|u| match u {
        Unit::Text(t) => Some(HostUnit::Command(t)),
        Unit::Control(ENQ) => Some(HostUnit::Enq),
        Unit::Control(ACK) => Some(HostUnit::Ack),
        Unit::Control(_) => None,
    }))
}

fn decode_common(buf: &mut BytesMut, from_reader: bool) -> Result<Option<Unit>, SlotDecodeError> {
    let controls: &[u8] = if from_reader { &[ACK, NAK] } else { &[ACK, NAK, ENQ] };
    let dropped = crt310::resync(buf, controls);
    if dropped > 0 {
        return Err(SlotDecodeError::Garbage { dropped });
    }
    crt310::take_unit(buf, controls, 2..=MAX_TEXT).map_err(|e| match e {
        crt310::FrameError::BadBcc { expected, actual } => SlotDecodeError::BadBcc { expected, actual },
        _ => SlotDecodeError::Malformed,
    })
}
