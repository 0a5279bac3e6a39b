//! The ID slot's CRT-310 command set (hardware.md §2.1, §2.2); framing and the reading of replies
//! are the shared ones of [`device::crt310`].
//!
//! Host → reader: `STX 02 | LEN (2, BE) | CM PM data | ETX 03 | BCC` with BCC = XOR of STX..ETX.
//! Reader → host: a single control byte (`ACK 06`, `NAK 15`, `EOT 04`) or a frame whose text is
//! `CM PM data` (positive: CM and PM echoed, no 'P' in front) or `'N'(4E) CM E` (negative,
//! E = error code), read by [`device::crt310::parse_reply`].
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

use bytes::BytesMut;
use device::crt310::{self, FrameError, ReplyError, Unit};
/// Start of text, end of text, EOT (cancels the pending command; the reader answers EOT),
/// ENQ ("execute the command you acknowledged"), ACK, NAK (bad BCC: resend). Shared CRT-310
/// bytes, [`device::crt310`].
pub use device::crt310::{ACK, ENQ, EOT, ETX, NAK, STX};

/// Longest text we accept in a frame (CRT-310: CM PM + 264 data bytes).
pub const MAX_TEXT: usize = crt310::MAX_DATA + 2;

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

impl Position {
    fn pm(self) -> u8 {
        match self {
            Position::Rf => 0x2E,
            Position::IcContacts => 0x2F,
            Position::FrontNoHold => 0x30,
            Position::Gate => 0x31,
        }
    }
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

impl SlotCommand {
    /// CM, PM and data bytes.
    pub fn text(self) -> Vec<u8> {
        match self {
            SlotCommand::Reset(ResetMode::Keep) => vec![0x30, 0x30],
            SlotCommand::Reset(ResetMode::EjectFront) => vec![0x30, 0x31],
            SlotCommand::Status => vec![0x31, 0x30],
            SlotCommand::Entry(Entry::Allow) => vec![0x2F, 0x33, 0x31],
            SlotCommand::Entry(Entry::Forbid) => vec![0x2F, 0x31, 0x31],
            SlotCommand::Move(p) => vec![0x32, p.pm()],
        }
    }
}

/// The frame of `cmd`: `02 LEN CM PM data 03 BCC`.
pub fn encode(cmd: SlotCommand) -> Vec<u8> {
    crt310::encode(&cmd.text())
}

/// Card position S1 of the status reply: the shared CRT-310 one.
pub use device::crt310::CardPosition;

/// Result byte P of an operation (§2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `59` 'Y': done.
    Success,
    /// `4E` 'N': failed.
    Failure,
    /// `45` 'E': no card.
    NoCard,
    /// `57` 'W': card not in an operable position.
    WrongPosition,
}

impl TryFrom<u8> for Operation {
    type Error = u8;
    fn try_from(b: u8) -> Result<Self, u8> {
        Ok(match b {
            0x59 => Operation::Success,
            0x4E => Operation::Failure,
            0x45 => Operation::NoCard,
            0x57 => Operation::WrongPosition,
            other => return Err(other),
        })
    }
}

impl Operation {
    /// The P byte.
    pub fn code(self) -> u8 {
        match self {
            Operation::Success => 0x59,
            Operation::Failure => 0x4E,
            Operation::NoCard => 0x45,
            Operation::WrongPosition => 0x57,
        }
    }
}

/// A reply read by the shared CRT-310 codec: positive `CM PM data`, negative `4E CM E`.
pub use device::crt310::{ErrorCode, Reply};

/// One thing the reader sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotInbound {
    /// `06`.
    Ack,
    /// `15`.
    Nak,
    /// `04`: the pending command was cancelled.
    Eot,
    /// A framed reply.
    Reply(Reply),
}

/// Why bytes from the slot are not a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotDecodeError {
    /// BCC mismatch.
    #[error("slot frame bad BCC: computed {expected:#04x}, got {actual:#04x}")]
    BadChecksum {
        /// Computed.
        expected: u8,
        /// Received.
        actual: u8,
    },
    /// LEN out of range, or ETX missing where LEN says it is.
    #[error("slot frame bad length or framing")]
    BadFraming,
    /// A good frame whose text is not a reply (too short, or a misshapen negative reply).
    #[error("slot reply: {0}")]
    BadReply(#[from] ReplyError),
}

/// Decodes one item the slot sent. Bytes other than ACK/NAK/EOT/STX in front are dropped.
pub fn decode(buf: &mut BytesMut) -> Result<Option<SlotInbound>, SlotDecodeError> {
    const CONTROLS: [u8; 3] = [ACK, NAK, EOT];
    let dropped = crt310::resync(buf, &CONTROLS);
    if dropped > 0 {
        tracing::debug!(dropped, "id slot: dropped stray bytes");
    }
    let text = match crt310::take_unit(buf, &CONTROLS, 1..=MAX_TEXT).map_err(frame_error)? {
        None => return Ok(None),
        Some(Unit::Control(ACK)) => return Ok(Some(SlotInbound::Ack)),
        Some(Unit::Control(NAK)) => return Ok(Some(SlotInbound::Nak)),
        Some(Unit::Control(_)) => return Ok(Some(SlotInbound::Eot)),
        Some(Unit::Text(t)) => t,
    };
    Ok(Some(SlotInbound::Reply(crt310::parse_reply(&text)?)))
}

fn frame_error(e: FrameError) -> SlotDecodeError {
    match e {
        FrameError::BadBcc { expected, actual } => SlotDecodeError::BadChecksum { expected, actual },
        _ => SlotDecodeError::BadFraming,
    }
}

/// What the host sent (the simulator's side).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostInbound {
    /// `05`: execute.
    Enq,
    /// `04`: cancel.
    Eot,
    /// A command frame with a good BCC: its text (CM PM data), whatever the command.
    Command(Vec<u8>),
    /// A frame with a bad BCC or framing: the reader answers NAK.
    Corrupt,
}

/// Decodes one item the host sent (used by the simulator). Never errors: garbage is dropped,
/// broken frames are [`HostInbound::Corrupt`].
pub fn decode_host(buf: &mut BytesMut) -> Option<HostInbound> {
    const CONTROLS: [u8; 2] = [ENQ, EOT];
    crt310::resync(buf, &CONTROLS);
    match crt310::take_unit(buf, &CONTROLS, 1..=MAX_TEXT) {
        Ok(Some(Unit::Control(ENQ))) => Some(HostInbound::Enq),
        Ok(Some(Unit::Control(_))) => Some(HostInbound::Eot),
        Ok(Some(Unit::Text(t))) => Some(HostInbound::Command(t)),
        Ok(None) => None,
        Err(_) => Some(HostInbound::Corrupt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    fn status() {
        let f = [
            0x02, /* LEN */ 0x00, 0x02, /* CM PM */ 0x31, 0x30, /* ETX */ 0x03,
            /* BCC */ 0x02,
        ];
        assert_eq!(encode(SlotCommand::Status), f);
    }

    #[test]
    fn move_to_contacts_front_and_gate() {
        // hardware.md §2.1 worked frames.
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

    #[test]
    fn control_bytes_and_replies_decode() {
        let mut buf = BytesMut::from(&[0x06, 0x15, 0x04][..]);
        assert_eq!(decode(&mut buf), Ok(Some(SlotInbound::Ack)));
        assert_eq!(decode(&mut buf), Ok(Some(SlotInbound::Nak)));
        assert_eq!(decode(&mut buf), Ok(Some(SlotInbound::Eot)));
        let status = [
            0x02, // STX
            0x00, 0x05, // LEN 5
            0x31, // CM echoed: status (first text byte; no 'P')
            0x30, // PM echoed
            0x4A, // S1: inside
            0x4A, // S2: front entry on the switch
            0x4E, // S3: rear entry forbidden
            0x03, // ETX
            0x4B, // BCC = 02^00^05^31^30^4A^4A^4E^03
        ];
        let r = decode(&mut BytesMut::from(&status[..])).unwrap().unwrap();
        assert_eq!(
            r,
            SlotInbound::Reply(Reply::Positive { cm: 0x31, pm: 0x30, data: vec![0x4A, 0x4A, 0x4E] })
        );
        let negative = [
            0x02, // STX
            0x00, 0x03, // LEN 3
            0x4E, // 'N'
            0x32, // CM echoed: move
            0x06, // E: abnormal card inside
            0x03, // ETX
            0x78, // BCC = 02^00^03^4E^32^06^03
        ];
        let r = decode(&mut BytesMut::from(&negative[..])).unwrap().unwrap();
        assert_eq!(r, SlotInbound::Reply(Reply::Negative { cm: 0x32, error: ErrorCode::AbnormalCard }));
    }

    #[test]
    fn a_p_in_front_of_a_reply_is_not_stripped() {
        // The old, wrong reading of this crate: 'P' 31 30 S1 S2 S3. Read correctly, the 'P'
        // is the CM: this is no answer to the status command.
        let p_status = [
            0x02, // STX
            0x00, 0x06, // LEN 6
            0x50, // 'P'
            0x31, 0x30, // status CM PM, one place late
            0x4A, 0x4E, 0x4E, // S1 S2 S3
            0x03, // ETX
            0x1C, // BCC = 02^00^06^50^31^30^4A^4E^4E^03
        ];
        let Some(SlotInbound::Reply(r)) = decode(&mut BytesMut::from(&p_status[..])).unwrap() else {
            panic!("not a reply")
        };
        assert_eq!(r, Reply::Positive { cm: 0x50, pm: 0x31, data: vec![0x30, 0x4A, 0x4E, 0x4E] });
        assert!(!r.answers(&SlotCommand::Status.text()));
    }

    #[test]
    fn bad_bcc_and_partial_frames() {
        let mut f = [
            0x02, // STX
            0x00, 0x03, // LEN 3
            0x32, 0x31, // CM PM echoed: move to the gate
            0x59, // P 'Y'
            0x03, // ETX
            0x58, // BCC = 02^00^03^32^31^59^03
        ];
        let mut partial = BytesMut::from(&f[..4]);
        assert_eq!(decode(&mut partial), Ok(None));
        f[7] ^= 0xFF;
        assert!(matches!(decode(&mut BytesMut::from(&f[..])), Err(SlotDecodeError::BadChecksum { .. })));
        let mut host = BytesMut::from(&f[..]);
        assert_eq!(decode_host(&mut host), Some(HostInbound::Corrupt));
    }

    #[test]
    fn host_side_decodes_commands_enq_and_eot() {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&encode(SlotCommand::Move(Position::Gate)));
        buf.extend_from_slice(&[ENQ, EOT]);
        assert_eq!(decode_host(&mut buf), Some(HostInbound::Command(vec![0x32, 0x31])));
        assert_eq!(decode_host(&mut buf), Some(HostInbound::Enq));
        assert_eq!(decode_host(&mut buf), Some(HostInbound::Eot));
        assert_eq!(decode_host(&mut buf), None);
    }

    proptest! {
        #[test]
        fn slot_decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            crate::fuzz::slot_reply(&data);
            crate::fuzz::slot_host(&data);
        }
    }
}
