//! What the acceptor answers (hardware.md §9): its status, ACK, INVALID COMMAND, a setting
//! echoed, or the data asked for (version, currency assignment).

use crate::frame::Frame;
use kiosk_core::Fen;

/// The acceptor's state, as the answer to a status request gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `11`: idle, taking notes.
    Enable,
    /// `12`: a note is being drawn in and read.
    Accepting,
    /// `13 code`: a note is held in escrow; `code` says which ([`Assignment`]).
    Escrow(u8),
    /// `14`: the note is on its way into the box.
    Stacking,
    /// `15`: the note is past the point of return: **the credit point**. Repeated until the host
    /// ACKs it.
    VendValid,
    /// `16`: the note is in the box.
    Stacked,
    /// `17 reason`: the note is refused and being given back.
    Rejecting(RejectReason),
    /// `18`: the note in escrow is being given back (after RETURN).
    Returning,
    /// `19`: the note is held in escrow on HOLD.
    Holding,
    /// `1A`: inhibited, taking no note.
    Disable,
    /// `1B`: initialising after a reset.
    Initialize,
    /// `40`: powered up; waits for RESET.
    PowerUp,
    /// `41`: powered up with a note in the acceptor (not yet in the box).
    PowerUpBillInAcceptor,
    /// `42`: powered up with a note in the stacker (on its way into the box).
    PowerUpBillInStacker,
    /// `43`: the box is full.
    StackerFull,
    /// `44`: the box is open or removed.
    StackerOpen,
    /// `45`: a note is stuck in the acceptor.
    AcceptorJam,
    /// `46`: a note is stuck in the stacker.
    StackerJam,
    /// `47`: a second note was pushed in while one was being taken.
    Pause,
    /// `48`: the head saw a note being pulled back (a string, a tape).
    Cheated,
    /// `49 code`: a failure of the head; `code` as its manual lists it.
    Failure(u8),
    /// `4A`: the head saw a damaged frame from the host.
    CommunicationError,
}

impl Status {
    /// Whether the acceptor cannot take notes until staff act (box full or open, jam, cheat,
    /// failure).
    pub fn needs_staff(self) -> bool {
        matches!(
            self,
            Status::StackerFull
                | Status::StackerOpen
                | Status::AcceptorJam
                | Status::StackerJam
                | Status::Cheated
                | Status::Failure(_)
        )
    }

    /// Whether a note is in the head's hands (being read, in escrow, going in or coming back).
    pub fn note_in_hand(self) -> bool {
        matches!(
            self,
            Status::Accepting
                | Status::Escrow(_)
                | Status::Holding
                | Status::Stacking
                | Status::VendValid
                | Status::Stacked
                | Status::Rejecting(_)
                | Status::Returning
        )
    }

    /// Whether this is one of the three power-up statuses, which wait for RESET.
    pub fn is_power_up(self) -> bool {
        matches!(self, Status::PowerUp | Status::PowerUpBillInAcceptor | Status::PowerUpBillInStacker)
    }
}

/// Why a note was refused (`17` data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// `71`: inserted badly (skewed, two at once).
    Insertion,
    /// `72`: magnetic pattern.
    Magnetic,
    /// `73`: a note left in the head.
    ResidualBill,
    /// `74`: calibration.
    Calibration,
    /// `75`: conveying.
    Conveying,
    /// `76`: the denomination could not be told.
    Discrimination,
    /// `77`, `7E`: photo pattern.
    PhotoPattern,
    /// `78`: photo level.
    PhotoLevel,
    /// `79`: inhibited or masked by the host, put in the wrong way round, or left in escrow
    /// unanswered too long.
    Inhibited,
    /// `7B`: an operation error.
    Operation,
    /// `7C`: given back by the stacker.
    Stacker,
    /// `7D`: length.
    Length,
    /// Any other code.
    Other(u8),
}

impl RejectReason {
    /// From the reason byte.
    pub fn from_byte(b: u8) -> RejectReason {
        match b {
            0x71 => RejectReason::Insertion,
            0x72 => RejectReason::Magnetic,
            0x73 => RejectReason::ResidualBill,
            0x74 => RejectReason::Calibration,
            0x75 => RejectReason::Conveying,
            0x76 => RejectReason::Discrimination,
            0x77 | 0x7E => RejectReason::PhotoPattern,
            0x78 => RejectReason::PhotoLevel,
            0x79 => RejectReason::Inhibited,
            0x7B => RejectReason::Operation,
            0x7C => RejectReason::Stacker,
            0x7D => RejectReason::Length,
            other => RejectReason::Other(other),
        }
    }
}

/// One line of the currency assignment (`8A`): escrow code, country code, and the note's value
/// as an integer and a power of ten (`64 xx 0A 01` = 10 × 10¹ = 100).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Assignment {
    /// The escrow code the head reports for this note.
    pub escrow_code: u8,
    /// The head's country code byte.
    pub country: u8,
    /// The note's value in fen.
    pub value: Fen,
}

/// A reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The status, to a status request.
    Status(Status),
    /// `50`: an operation command was taken.
    Ack,
    /// `4B`: the command does not fit the acceptor's state.
    InvalidCommand,
    /// A setting echoed: its CMD and DATA.
    Echo {
        /// The setting's CMD.
        cmd: u8,
        /// Its DATA as the head holds it now.
        data: Vec<u8>,
    },
    /// `88`: the software version.
    Version(String),
    /// `8A`: which escrow code means which note; lines of value 0 (unused codes) left out.
    Currency(Vec<Assignment>),
}

/// A reply frame that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// A status that needs a data byte (escrow, rejecting) came without one.
    #[error("status {0:02X} without its data byte")]
    MissingData(u8),
    /// The currency assignment is not whole 4-byte lines, or a value overflows.
    #[error("currency assignment of {0} bytes cannot be read")]
    BadCurrency(usize),
    /// A CMD no acceptor sends.
    #[error("unknown reply {0:02X}")]
    Unknown(u8),
}

/// Reads a reply frame. Only the data a status needs is read; more is ignored, as later heads
/// append bytes.
pub fn parse(frame: &Frame) -> Result<Reply, ReplyError> {
    let first = frame.data.first().copied();
    let status = |s| Ok(Reply::Status(s));
    match frame.cmd {
        0x11 => status(Status::Enable),
        0x12 => status(Status::Accepting),
        0x13 => first.map(|c| Reply::Status(Status::Escrow(c))).ok_or(ReplyError::MissingData(0x13)),
        0x14 => status(Status::Stacking),
        0x15 => status(Status::VendValid),
        0x16 => status(Status::Stacked),
        0x17 => first
            .map(|r| Reply::Status(Status::Rejecting(RejectReason::from_byte(r))))
            .ok_or(ReplyError::MissingData(0x17)),
        0x18 => status(Status::Returning),
        0x19 => status(Status::Holding),
        0x1A => status(Status::Disable),
        0x1B => status(Status::Initialize),
        0x40 => status(Status::PowerUp),
        0x41 => status(Status::PowerUpBillInAcceptor),
        0x42 => status(Status::PowerUpBillInStacker),
        0x43 => status(Status::StackerFull),
        0x44 => status(Status::StackerOpen),
        0x45 => status(Status::AcceptorJam),
        0x46 => status(Status::StackerJam),
        0x47 => status(Status::Pause),
        0x48 => status(Status::Cheated),
        0x49 => status(Status::Failure(first.unwrap_or(0))),
        0x4A => status(Status::CommunicationError),
        0x4B => Ok(Reply::InvalidCommand),
        0x50 => Ok(Reply::Ack),
        0x88 => Ok(Reply::Version(frame.data.iter().map(|&b| char::from(b)).collect())),
        0x8A => currency(&frame.data).map(Reply::Currency),
        cmd @ (0x80..=0x85 | 0xC0..=0xC5) => Ok(Reply::Echo { cmd, data: frame.data.clone() }),
        other => Err(ReplyError::Unknown(other)),
    }
}

fn currency(data: &[u8]) -> Result<Vec<Assignment>, ReplyError> {
    let chunks = data.chunks_exact(4);
    if !chunks.remainder().is_empty() {
        return Err(ReplyError::BadCurrency(data.len()));
    }
    let mut lines = Vec::new();
    for line in chunks {
        let [escrow_code, country, integer, exponent] = [line[0], line[1], line[2], line[3]];
        if integer == 0 {
            continue;
        }
        let yuan = 10i64
            .checked_pow(u32::from(exponent))
            .and_then(|scale| scale.checked_mul(i64::from(integer)))
            .and_then(|yuan| yuan.checked_mul(100))
            .ok_or(ReplyError::BadCurrency(data.len()))?;
        lines.push(Assignment { escrow_code, country, value: Fen(yuan) });
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(cmd: u8, data: &[u8]) -> Frame {
        Frame { cmd, data: data.to_vec() }
    }

    #[test]
    fn statuses_with_data() {
        assert_eq!(parse(&frame(0x13, &[0x63])), Ok(Reply::Status(Status::Escrow(0x63))));
        assert_eq!(
            parse(&frame(0x17, &[0x79])),
            Ok(Reply::Status(Status::Rejecting(RejectReason::Inhibited)))
        );
        assert_eq!(parse(&frame(0x13, &[])), Err(ReplyError::MissingData(0x13)));
    }

    #[test]
    fn every_status_code_of_hardware_md_9() {
        let table: [(u8, Status); 22] = [
            (0x11, Status::Enable),
            (0x12, Status::Accepting),
            (0x14, Status::Stacking),
            (0x15, Status::VendValid),
            (0x16, Status::Stacked),
            (0x18, Status::Returning),
            (0x19, Status::Holding),
            (0x1A, Status::Disable),
            (0x1B, Status::Initialize),
            (0x40, Status::PowerUp),
            (0x41, Status::PowerUpBillInAcceptor),
            (0x42, Status::PowerUpBillInStacker),
            (0x43, Status::StackerFull),
            (0x44, Status::StackerOpen),
            (0x45, Status::AcceptorJam),
            (0x46, Status::StackerJam),
            (0x47, Status::Pause),
            (0x48, Status::Cheated),
            (0x4A, Status::CommunicationError),
            (0x49, Status::Failure(0)),
            (0x13, Status::Escrow(0x66)),
            (0x17, Status::Rejecting(RejectReason::Insertion)),
        ];
        for (code, want) in table {
            let data: &[u8] = match code {
                0x13 => &[0x66],
                0x17 => &[0x71],
                _ => &[],
            };
            assert_eq!(parse(&frame(code, data)), Ok(Reply::Status(want)), "{code:02X}");
        }
        assert_eq!(parse(&frame(0x4B, &[])), Ok(Reply::InvalidCommand));
        assert_eq!(parse(&frame(0x50, &[])), Ok(Reply::Ack));
        assert_eq!(parse(&frame(0xC3, &[0x01])), Ok(Reply::Echo { cmd: 0xC3, data: vec![0x01] }));
        assert_eq!(parse(&frame(0x99, &[])), Err(ReplyError::Unknown(0x99)));
    }

    #[test]
    fn every_reject_reason() {
        let table = [
            (0x71, RejectReason::Insertion),
            (0x72, RejectReason::Magnetic),
            (0x73, RejectReason::ResidualBill),
            (0x74, RejectReason::Calibration),
            (0x75, RejectReason::Conveying),
            (0x76, RejectReason::Discrimination),
            (0x77, RejectReason::PhotoPattern),
            (0x78, RejectReason::PhotoLevel),
            (0x79, RejectReason::Inhibited),
            (0x7B, RejectReason::Operation),
            (0x7C, RejectReason::Stacker),
            (0x7D, RejectReason::Length),
            (0x7E, RejectReason::PhotoPattern),
            (0x7A, RejectReason::Other(0x7A)),
        ];
        for (byte, want) in table {
            assert_eq!(RejectReason::from_byte(byte), want, "{byte:02X}");
        }
    }

    #[test]
    fn a_currency_assignment() {
        // Two lines: code 61 = 1 × 10⁰ yuan, code 66 = 10 × 10¹ = 100 yuan; code 67 unused (0).
        let data = [0x61, 0xA0, 0x01, 0x00, 0x66, 0xA0, 0x0A, 0x01, 0x67, 0xA0, 0x00, 0x00];
        let Ok(Reply::Currency(lines)) = parse(&frame(0x8A, &data)) else { panic!() };
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].escrow_code, lines[0].value), (0x61, Fen(100)));
        assert_eq!((lines[1].escrow_code, lines[1].value), (0x66, Fen(10_000)));
        assert_eq!(parse(&frame(0x8A, &[0x61, 0xA0, 0x01])), Err(ReplyError::BadCurrency(3)));
        assert_eq!(parse(&frame(0x8A, &[0x61, 0xA0, 0xFF, 0xFF])), Err(ReplyError::BadCurrency(4)));
    }
}
