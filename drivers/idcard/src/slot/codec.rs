//! The ID slot's CRT-310 commands (hardware.md §2.2): a subset of [`device::crt310::Command`],
//! where the frames, the handshake and the reading of replies live.
//!
//! **An ID card is never captured** (hardware.md §1.8): [`SlotCommand`] has no variant that moves
//! a card to the rear (`32 32`, `32 33`) or resets with rear eject (`30 32`), so no code path in
//! this crate can put those bytes on the wire. A call such as `SlotCommand::Capture` does not
//! compile:
//!
//! ```compile_fail
//! let _ = idcard::slot::SlotCommand::Capture;
//! ```
//! ```compile_fail
//! let _ = idcard::slot::Position::Rear;
//! ```

use device::crt310::{self, Command, FrontEntry, MoveTo};

/// Where a card may be moved. Only front and in-reader positions exist: no rear, no capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Position {
    /// `32 2E`: inside, over the RF antenna (where the SAM reads the ID card).
    Rf,
    /// `32 2F`: inside, IC contacts engaged.
    IcContacts,
    /// `32 30`: out of the front, not held (the card can fall into the hand).
    FrontNoHold,
    /// `32 31`: at the front gate, held: the customer pulls it out.
    Gate,
}

/// What to do with a card found inside on reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResetMode {
    /// `30 30`: leave it where it is.
    Keep,
    /// `30 31`: eject it to the front.
    EjectFront,
}

/// Whether a card may be inserted from the front (`2F Pm1 Pm2`; rear entry is always forbidden).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entry {
    /// `2F 33 31`: front entry on the insertion switch, rear forbidden.
    Allow,
    /// `2F 31 31`: no entry.
    Forbid,
}

/// Every command this crate sends to the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotCommand {
    /// `30 30` / `30 31`: initialise.
    Reset(ResetMode),
    /// `31 30`: reader status (S1 S2 S3).
    Status,
    /// `2F Pm1 Pm2`: card entry control.
    Entry(Entry),
    /// `32 xx`: move the card.
    Move(Position),
}

impl From<SlotCommand> for Command {
    fn from(c: SlotCommand) -> Command {
        match c {
            SlotCommand::Reset(ResetMode::Keep) => Command::Reset(crt310::ResetMode::Keep),
            SlotCommand::Reset(ResetMode::EjectFront) => Command::Reset(crt310::ResetMode::EjectFront),
            SlotCommand::Status => Command::Status,
            SlotCommand::Entry(Entry::Allow) => {
                Command::CardIn { front: FrontEntry::Switch, rear_allowed: false }
            }
            SlotCommand::Entry(Entry::Forbid) => {
                Command::CardIn { front: FrontEntry::Forbidden, rear_allowed: false }
            }
            SlotCommand::Move(Position::Rf) => Command::Move(MoveTo::Rf),
            SlotCommand::Move(Position::IcContacts) => Command::Move(MoveTo::IcContacts),
            SlotCommand::Move(Position::FrontNoHold) => Command::Move(MoveTo::FrontNoHold),
            SlotCommand::Move(Position::Gate) => Command::Move(MoveTo::Gate),
        }
    }
}

impl SlotCommand {
    /// CM, PM and data bytes.
    pub fn text(self) -> Vec<u8> {
        Command::from(self).text()
    }
}

/// The frame of `cmd`: `02 LEN CM PM data 03 BCC`.
pub fn encode(cmd: SlotCommand) -> Vec<u8> {
    Command::from(cmd).encode()
}

/// The shared CRT-310 card position, operation byte, reply and error byte.
pub use device::crt310::{CardPosition, ErrorCode, Operation, Reply};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_keep() {
        let f = [
            0x02, // STX
            0x00, 0x02, // LEN 2
            0x30, 0x30, // CM PM: reset, no eject
            0x03, // ETX
            0x03, // BCC = 02^00^02^30^30^03
        ];
        assert_eq!(encode(SlotCommand::Reset(ResetMode::Keep)), f);
    }

    #[test]
    fn entry_allow_and_forbid() {
        // STX, LEN 00 03, CM 2F, Pm1 33 switch / 31 forbidden, Pm2 31 rear forbidden, ETX, BCC.
        assert_eq!(
            encode(SlotCommand::Entry(Entry::Allow)),
            [0x02, 0x00, 0x03, 0x2F, 0x33, 0x31, 0x03, 0x2F]
        );
        assert_eq!(
            encode(SlotCommand::Entry(Entry::Forbid)),
            [0x02, 0x00, 0x03, 0x2F, 0x31, 0x31, 0x03, 0x2D]
        );
    }

    #[test]
    fn move_to_rf_contacts_front_and_gate() {
        // hardware.md §2.1 worked frames; RF 2E: BCC = 02^00^02^32^2E^03 = 1F.
        let rf = [0x02, 0x00, 0x02, 0x32, /* to RF */ 0x2E, 0x03, /* BCC */ 0x1F];
        assert_eq!(encode(SlotCommand::Move(Position::Rf)), rf);
        let ic = [0x02, 0x00, 0x02, /* move */ 0x32, /* to IC */ 0x2F, 0x03, /* BCC */ 0x1E];
        assert_eq!(encode(SlotCommand::Move(Position::IcContacts)), ic);
        let front = [0x02, 0x00, 0x02, 0x32, /* front no hold */ 0x30, 0x03, /* BCC */ 0x01];
        assert_eq!(encode(SlotCommand::Move(Position::FrontNoHold)), front);
        let gate = [0x02, 0x00, 0x02, 0x32, /* gate, held */ 0x31, 0x03, /* BCC */ 0x00];
        assert_eq!(encode(SlotCommand::Move(Position::Gate)), gate);
    }

    #[test]
    fn no_command_can_capture() {
        let all = [
            SlotCommand::Reset(ResetMode::Keep),
            SlotCommand::Reset(ResetMode::EjectFront),
            SlotCommand::Status,
            SlotCommand::Entry(Entry::Allow),
            SlotCommand::Entry(Entry::Forbid),
            SlotCommand::Move(Position::Rf),
            SlotCommand::Move(Position::IcContacts),
            SlotCommand::Move(Position::FrontNoHold),
            SlotCommand::Move(Position::Gate),
        ];
        for c in all {
            let t = c.text();
            // 32 32 / 32 33 move to the rear (capture); 30 32 resets with rear eject.
            assert!(!matches!(t.as_slice(), [0x32, 0x32 | 0x33] | [0x30, 0x32]), "{c:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn slot_decoders_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            crate::fuzz::slot_reply(&data);
            crate::fuzz::slot_host(&data);
        }
    }
}
