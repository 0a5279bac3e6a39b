//! The bank-card slot's CRT-310 commands (hardware.md §2.2): a subset of
//! [`device::crt310::Command`], where the frames, the handshake and the reading of replies live.
//!
//! The subset is small on purpose: the bank-card slot never powers or reads a chip (the
//! certified terminal does), so it has four commands and cannot express the others.

/// `30 3x` reset: the shared one, since the bank slot may capture (`32`, to the rear) as well.
pub use device::crt310::ResetMode;
use device::crt310::{self, Command};

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
        Command::from(self).text()
    }

    /// Reads a command text (the simulator's side), byte by byte from hardware.md §2.2.
    pub fn from_text(text: &[u8]) -> Option<SlotCommand> {
        Some(match text {
            [0x30, 0x30] => SlotCommand::Reset(ResetMode::Keep),
            [0x30, 0x31] => SlotCommand::Reset(ResetMode::EjectFront),
            [0x30, 0x32] => SlotCommand::Reset(ResetMode::EjectRear),
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
        Command::from(self).encode()
    }
}

impl From<SlotCommand> for Command {
    fn from(c: SlotCommand) -> Command {
        match c {
            SlotCommand::Reset(mode) => Command::Reset(mode),
            SlotCommand::Status => Command::Status,
            SlotCommand::CardIn(FrontEntry::Forbid) => {
                Command::CardIn { front: crt310::FrontEntry::Forbidden, rear_allowed: false }
            }
            SlotCommand::CardIn(FrontEntry::Switch) => {
                Command::CardIn { front: crt310::FrontEntry::Switch, rear_allowed: false }
            }
            SlotCommand::Move(MoveTo::EjectFront) => Command::Move(crt310::MoveTo::FrontNoHold),
            SlotCommand::Move(MoveTo::Gate) => Command::Move(crt310::MoveTo::Gate),
            SlotCommand::Move(MoveTo::Capture) => Command::Move(crt310::MoveTo::Capture),
        }
    }
}

/// The shared CRT-310 card position, reply and error byte.
pub use device::crt310::{CardPosition, ErrorCode, Reply};
