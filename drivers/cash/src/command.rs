//! What the host sends (hardware.md §9): the status request, the operation commands the
//! acceptor answers with ACK, the settings it echoes, and the requests it answers with data.

use crate::frame;

/// How the acceptor answers a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// With its current status.
    Status,
    /// With ACK (`50`), or INVALID COMMAND (`4B`) when the command does not fit its state.
    Ack,
    /// With the same command and data echoed.
    Echo,
    /// With the same command code and the data asked for.
    Data,
    /// Not at all: the host's ACK of VEND VALID.
    Nothing,
}

/// Which notes the acceptor may take: `C0 d1 d2`, one bit per escrow code, a set bit refusing
/// the note. [I] The bit order (escrow codes `61`…`68` as bits 0…7 of d1, d2 sent 00) is our
/// reading: the public drivers only ever send `C0 00 00` (everything taken). Check it on a real
/// head; the money rules never rely on it alone — a note larger than is due that the head puts
/// in escrow anyway is returned, never credited (`kiosk_core::cash`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DenominationMask {
    refused: u8,
}

/// The first escrow code, bit 0 of the mask.
pub const FIRST_ESCROW_CODE: u8 = 0x61;

impl DenominationMask {
    /// Every note taken.
    pub const ALL: DenominationMask = DenominationMask { refused: 0 };

    /// Only the notes of these escrow codes taken; codes outside `61`…`68` are ignored.
    pub fn only(codes: impl IntoIterator<Item = u8>) -> DenominationMask {
        let taken = codes
            .into_iter()
            .filter_map(|code| code.checked_sub(FIRST_ESCROW_CODE).filter(|bit| *bit < 8))
            .fold(0u8, |mask, bit| mask | (1 << bit));
        DenominationMask { refused: !taken }
    }

    /// Whether the note of `code` is taken.
    pub fn takes(self, code: u8) -> bool {
        match code.checked_sub(FIRST_ESCROW_CODE).filter(|bit| *bit < 8) {
            Some(bit) => self.refused & (1 << bit) == 0,
            None => false,
        }
    }

    /// The two data bytes of `C0`.
    pub fn bytes(self) -> [u8; 2] {
        [self.refused, 0x00]
    }
}

/// A host command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `11`: status request (the poll).
    StatusRequest,
    /// `40`: reset; the acceptor initialises and returns any note it holds.
    Reset,
    /// `41`: stack the note in escrow into the box.
    Stack1,
    /// `42`: stack, the second variant (some heads report VEND VALID at a different point).
    Stack2,
    /// `43`: give the note in escrow back.
    Return,
    /// `44`: keep the note in escrow longer (the escrow timer restarts).
    Hold,
    /// `45`: wait.
    Wait,
    /// `50`: the host's ACK of VEND VALID; unanswered.
    Ack,
    /// `C0 d1 d2`: the notes taken.
    Denominations(DenominationMask),
    /// `C1 d1 d2`: security level per denomination, as the head's manual gives it.
    Security([u8; 2]),
    /// `C3 d`: `01` inhibits (no note accepted), `00` enables.
    Inhibit(bool),
    /// `C4 d`: the note directions taken, as a bit mask.
    Direction(u8),
    /// `C5 d1 d2`: optional functions.
    OptionalFunctions([u8; 2]),
    /// `88`: the software version, ASCII.
    VersionRequest,
    /// `8A`: which escrow code means which note ([`crate::Assignment`]).
    CurrencyAssignmentRequest,
}

impl Command {
    /// The CMD byte.
    pub fn code(self) -> u8 {
        match self {
            Command::StatusRequest => 0x11,
            Command::Reset => 0x40,
            Command::Stack1 => 0x41,
            Command::Stack2 => 0x42,
            Command::Return => 0x43,
            Command::Hold => 0x44,
            Command::Wait => 0x45,
            Command::Ack => 0x50,
            Command::Denominations(_) => 0xC0,
            Command::Security(_) => 0xC1,
            Command::Inhibit(_) => 0xC3,
            Command::Direction(_) => 0xC4,
            Command::OptionalFunctions(_) => 0xC5,
            Command::VersionRequest => 0x88,
            Command::CurrencyAssignmentRequest => 0x8A,
        }
    }

    /// The DATA bytes.
    pub fn data(self) -> Vec<u8> {
        match self {
            Command::Denominations(mask) => mask.bytes().to_vec(),
            Command::Security(d) | Command::OptionalFunctions(d) => d.to_vec(),
            Command::Inhibit(on) => vec![u8::from(on)],
            Command::Direction(d) => vec![d],
            _ => Vec::new(),
        }
    }

    /// How the acceptor answers it.
    pub fn answer(self) -> Answer {
        match self {
            Command::StatusRequest => Answer::Status,
            Command::Reset
            | Command::Stack1
            | Command::Stack2
            | Command::Return
            | Command::Hold
            | Command::Wait => Answer::Ack,
            Command::Ack => Answer::Nothing,
            Command::Denominations(_)
            | Command::Security(_)
            | Command::Inhibit(_)
            | Command::Direction(_)
            | Command::OptionalFunctions(_) => Answer::Echo,
            Command::VersionRequest | Command::CurrencyAssignmentRequest => Answer::Data,
        }
    }

    /// The whole frame.
    pub fn encode(self) -> Vec<u8> {
        frame::encode(self.code(), &self.data())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_frames() {
        // Each: SYNC FC, LNG 05, CMD, CRC-16/Kermit low byte, high byte.
        assert_eq!(Command::Reset.encode(), [0xFC, 0x05, 0x40, 0x2B, 0x15]);
        assert_eq!(Command::Stack1.encode(), [0xFC, 0x05, 0x41, 0xA2, 0x04]);
        assert_eq!(Command::Return.encode(), [0xFC, 0x05, 0x43, 0xB0, 0x27]);
        assert_eq!(Command::Ack.encode(), [0xFC, 0x05, 0x50, 0xAA, 0x05]);
    }

    #[test]
    fn setting_frames() {
        // Enable every note: SYNC, LNG 07, CMD C0, d1 00 (no bit set: nothing refused), d2 00,
        // CRC B52D sent 2D B5.
        assert_eq!(
            Command::Denominations(DenominationMask::ALL).encode(),
            [0xFC, 0x07, 0xC0, 0x00, 0x00, 0x2D, 0xB5]
        );
        // Inhibit off: SYNC, LNG 06, CMD C3, d 00, CRC D604 sent 04 D6.
        assert_eq!(Command::Inhibit(false).encode(), [0xFC, 0x06, 0xC3, 0x00, 0x04, 0xD6]);
    }

    #[test]
    fn request_frames() {
        // Version request FC 05 88, CRC 5F6F; currency assignment FC 05 8A, CRC 7C7D.
        assert_eq!(Command::VersionRequest.encode(), [0xFC, 0x05, 0x88, 0x6F, 0x5F]);
        assert_eq!(Command::CurrencyAssignmentRequest.encode(), [0xFC, 0x05, 0x8A, 0x7D, 0x7C]);
    }

    #[test]
    fn a_mask_refuses_what_it_does_not_name() {
        // Take escrow codes 63 and 65 only: bits 2 and 4 clear, every other bit set.
        let mask = DenominationMask::only([0x63, 0x65, 0x99]);
        assert_eq!(mask.bytes(), [0b1110_1011, 0x00]);
        assert!(mask.takes(0x63) && mask.takes(0x65));
        assert!(!mask.takes(0x61) && !mask.takes(0x68) && !mask.takes(0x99));
        assert!(DenominationMask::ALL.takes(0x68));
    }
}
