//! The one reading of a CRT-310 reply's text (hardware.md §2.1, §2.2), for every driver built on
//! the reader, and the codes inside replies: the error byte E, the card position S1, the reader
//! status S1 S2 S3 and the operation byte P.
//!
//! ```text
//! positive   CM PM data…      the command's CM and PM echoed, then the reply data
//!                             (no leading 'P': the first text byte is the echoed CM)
//! negative   'N'(4E) CM E     exactly three bytes; E is one error byte
//! ```
//!
//! No CRT-310 command has CM = 4E, so the first text byte tells the two apart. There is no
//! reply *encoder* here on purpose: simulators write the bytes they send themselves, so a
//! misreading on this side cannot be mirrored on theirs and go unnoticed.

/// Card position S1 of a CRT-310 status reply (hardware.md §2.2), the same for every slot
/// built on the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CardPosition {
    /// `46`: a card too long is inside.
    LongCard,
    /// `47`: a card too short is inside.
    ShortCard,
    /// `48`: at the front, not held.
    FrontNoHold,
    /// `49`: at the gate, held.
    Gate,
    /// `4A`: inside.
    Inside,
    /// `4B`: inside, IC contacts engaged.
    InsideContacts,
    /// `4C`: at the rear, held.
    RearHold,
    /// `4D`: at the rear, not held (captured).
    Captured,
    /// `4E`: no card.
    NoCard,
}

impl TryFrom<u8> for CardPosition {
    type Error = u8;
    fn try_from(b: u8) -> Result<Self, u8> {
        Ok(match b {
            0x46 => CardPosition::LongCard,
            0x47 => CardPosition::ShortCard,
            0x48 => CardPosition::FrontNoHold,
            0x49 => CardPosition::Gate,
            0x4A => CardPosition::Inside,
            0x4B => CardPosition::InsideContacts,
            0x4C => CardPosition::RearHold,
            0x4D => CardPosition::Captured,
            0x4E => CardPosition::NoCard,
            other => return Err(other),
        })
    }
}

impl CardPosition {
    /// True when the card is in the reader, where the SAM can read it.
    pub fn is_inside(self) -> bool {
        matches!(self, CardPosition::Inside | CardPosition::InsideContacts)
    }
}

/// First text byte of a negative reply: `'N'`.
pub const NEGATIVE: u8 = 0x4E;

/// The error byte E of a negative reply `4E CM E` (hardware.md §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ErrorCode {
    /// `00`: undefined command.
    #[error("undefined command (E=00)")]
    BadCommand,
    /// `01`: bad parameter.
    #[error("bad parameter (E=01)")]
    BadParameter,
    /// `02`: cannot be executed (the feature is absent).
    #[error("command cannot be executed (E=02)")]
    CannotExecute,
    /// `04`: bad command data.
    #[error("bad command data (E=04)")]
    BadData,
    /// `05`: supply voltage outside 10.8–14.5 V.
    #[error("supply voltage out of range (E=05)")]
    SupplyVoltage,
    /// `06`: an abnormal (too long, too short, damaged) card is inside.
    #[error("abnormal card inside (E=06)")]
    AbnormalCard,
    /// `07`: main power lost, running on the backup supply.
    #[error("main power lost, running on backup (E=07)")]
    MainPowerLost,
    /// A code hardware.md does not list.
    #[error("unlisted error code {0:#04x}")]
    Unknown(u8),
}

impl ErrorCode {
    /// From the E byte: binary (`00`…`07`, hardware.md §2.2) or the same code as an ASCII
    /// digit (`30`…`37`: §2 says the family's "status and error codes are ASCII digits").
    pub const fn from_byte(b: u8) -> Self {
        match b {
            0x00 | 0x30 => ErrorCode::BadCommand,
            0x01 | 0x31 => ErrorCode::BadParameter,
            0x02 | 0x32 => ErrorCode::CannotExecute,
            0x04 | 0x34 => ErrorCode::BadData,
            0x05 | 0x35 => ErrorCode::SupplyVoltage,
            0x06 | 0x36 => ErrorCode::AbnormalCard,
            0x07 | 0x37 => ErrorCode::MainPowerLost,
            other => ErrorCode::Unknown(other),
        }
    }

    /// The E byte.
    pub const fn byte(self) -> u8 {
        match self {
            ErrorCode::BadCommand => 0x00,
            ErrorCode::BadParameter => 0x01,
            ErrorCode::CannotExecute => 0x02,
            ErrorCode::BadData => 0x04,
            ErrorCode::SupplyVoltage => 0x05,
            ErrorCode::AbnormalCard => 0x06,
            ErrorCode::MainPowerLost => 0x07,
            ErrorCode::Unknown(b) => b,
        }
    }

    /// True for faults only staff can clear: power, an abnormal card stuck inside.
    pub const fn needs_staff(self) -> bool {
        matches!(self, ErrorCode::SupplyVoltage | ErrorCode::AbnormalCard | ErrorCode::MainPowerLost)
    }
}

/// A reply frame's text, read.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Reply {
    /// `CM PM data…`.
    Positive {
        /// Echoed CM.
        cm: u8,
        /// Echoed PM.
        pm: u8,
        /// Reply data: status bytes, the operation byte P, a version text, card memory…
        data: Vec<u8>,
    },
    /// `4E CM E`.
    Negative {
        /// Echoed CM.
        cm: u8,
        /// Why.
        error: ErrorCode,
    },
}

impl std::fmt::Debug for Reply {
    // Reply data may be card memory: its length reaches a log, its bytes do not.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Positive { cm, pm, data } => {
                write!(f, "Positive {{ cm: {cm:#04x}, pm: {pm:#04x}, data_len: {} }}", data.len())
            }
            Reply::Negative { cm, error } => write!(f, "Negative {{ cm: {cm:#04x}, error: {error:?} }}"),
        }
    }
}

impl Reply {
    /// The echoed CM.
    pub fn cm(&self) -> u8 {
        match self {
            Reply::Positive { cm, .. } | Reply::Negative { cm, .. } => *cm,
        }
    }

    /// True when this reply answers the command whose text is `command` (`CM PM data`): a
    /// positive reply echoes its CM and PM, a negative one its CM.
    pub fn answers(&self, command: &[u8]) -> bool {
        match (self, command) {
            (Reply::Positive { cm, pm, .. }, [c, p, ..]) => cm == c && pm == p,
            (Reply::Negative { cm, .. }, [c, ..]) => cm == c,
            _ => false,
        }
    }
}

/// Why a good frame's text is not a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// Fewer than the two bytes CM PM of a positive reply.
    #[error("reply text of {0} byte(s) is too short")]
    TooShort(usize),
    /// Starts with `4E` but is not the three bytes `4E CM E`.
    #[error("negative reply of {0} text byte(s), 3 expected")]
    BadNegative(usize),
}

/// Reads a reply frame's text (what [`take_frame`] returns): `4E CM E` is negative, anything
/// else of at least two bytes is positive `CM PM data`. Whether it answers the command sent is
/// the caller's check ([`Reply::answers`]).
pub fn parse_reply(text: &[u8]) -> Result<Reply, ReplyError> {
    match text {
        [NEGATIVE, cm, e] => Ok(Reply::Negative { cm: *cm, error: ErrorCode::from_byte(*e) }),
        [NEGATIVE, ..] => Err(ReplyError::BadNegative(text.len())),
        [cm, pm, data @ ..] => Ok(Reply::Positive { cm: *cm, pm: *pm, data: data.to_vec() }),
        _ => Err(ReplyError::TooShort(text.len())),
    }
}

/// The operation byte P that opens the data of a positive reply to a move, an IC power switch or
/// a memory-card command (hardware.md §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `59` 'Y': done.
    Success,
    /// `4E` 'N': failed.
    Failure,
    /// `45` 'E': no card.
    NoCard,
    /// `57` 'W': the card is not where the command can work on it.
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

/// The reader status `31 30` answers: S1 S2 S3 (hardware.md §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReaderStatus {
    /// S1: where the card is.
    pub position: CardPosition,
    /// S2: the front entry mode byte (`49` mag, `4A` switch, `4B` mag-signal, `4E` forbidden).
    pub front_entry: u8,
    /// S3: `4A` when a card may enter from the rear (`4E` forbidden).
    pub rear_entry_allowed: bool,
}

impl ReaderStatus {
    /// From a status reply's data; `None` when it is shorter than three bytes or S1 is unlisted.
    pub fn from_data(data: &[u8]) -> Option<Self> {
        match data {
            [s1, s2, s3, ..] => Some(ReaderStatus {
                position: CardPosition::try_from(*s1).ok()?,
                front_entry: *s2,
                rear_entry_allowed: *s3 == 0x4A,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crt310::frame::take_frame;
    use bytes::BytesMut;

    /// The text of the one frame in `bytes`, through the real framing decoder.
    fn text_of(bytes: &[u8]) -> Vec<u8> {
        let mut buf = BytesMut::from(bytes);
        let text = take_frame(&mut buf).unwrap().unwrap();
        assert!(buf.is_empty());
        text
    }

    #[test]
    fn a_positive_status_reply_is_cm_pm_then_s1_s2_s3() {
        let bytes = [
            0x02, // STX
            0x00, // LENH
            0x05, // LENL: 5 text bytes
            0x31, // CM echoed: status (the first text byte; no 'P' in front)
            0x30, // PM echoed: reader status
            0x4A, // S1: card inside
            0x4E, // S2: front entry forbidden
            0x4E, // S3: rear entry forbidden
            0x03, // ETX
            0x4F, // BCC = 02^00^05^31^30^4A^4E^4E^03
        ];
        let r = parse_reply(&text_of(&bytes)).unwrap();
        assert_eq!(r, Reply::Positive { cm: 0x31, pm: 0x30, data: vec![0x4A, 0x4E, 0x4E] });
        assert!(r.answers(&[0x31, 0x30]));
        assert_eq!(CardPosition::try_from(0x4A), Ok(CardPosition::Inside));
    }

    #[test]
    fn a_positive_move_reply_carries_the_operation_byte() {
        let bytes = [
            0x02, // STX
            0x00, // LENH
            0x03, // LENL
            0x32, // CM echoed: move card
            0x31, // PM echoed: to the gate, held
            0x59, // P: 'Y' success
            0x03, // ETX
            0x58, // BCC = 02^00^03^32^31^59^03
        ];
        let r = parse_reply(&text_of(&bytes)).unwrap();
        assert_eq!(r, Reply::Positive { cm: 0x32, pm: 0x31, data: vec![0x59] });
        assert!(r.answers(&[0x32, 0x31]));
        assert!(!r.answers(&[0x32, 0x2E]), "a reply to another move");
    }

    #[test]
    fn a_positive_reset_reply_carries_the_version() {
        let bytes = [
            0x02, // STX
            0x00, // LENH
            0x0E, // LENL: 14 = CM PM + 12 version bytes
            0x30, // CM echoed: reset
            0x30, // PM echoed: no eject
            0x43, 0x52, 0x54, 0x20, // "CRT "
            0x33, 0x31, 0x30, 0x20, // "310 "
            0x56, 0x33, 0x2E, 0x30, // "V3.0"
            0x03, // ETX
            0x03, // BCC = XOR of STX..ETX
        ];
        let r = parse_reply(&text_of(&bytes)).unwrap();
        assert_eq!(r, Reply::Positive { cm: 0x30, pm: 0x30, data: b"CRT 310 V3.0".to_vec() });
    }

    #[test]
    fn a_negative_reply_is_4e_cm_e() {
        let bytes = [
            0x02, // STX
            0x00, // LENH
            0x03, // LENL
            0x4E, // 'N': negative
            0x32, // CM echoed: move card
            0x06, // E: abnormal card inside
            0x03, // ETX
            0x78, // BCC = 02^00^03^4E^32^06^03
        ];
        let r = parse_reply(&text_of(&bytes)).unwrap();
        assert_eq!(r, Reply::Negative { cm: 0x32, error: ErrorCode::AbnormalCard });
        assert!(r.answers(&[0x32, 0x31]), "a negative reply echoes the CM only");
        assert!(!r.answers(&[0x31, 0x30]));
        assert!(ErrorCode::AbnormalCard.needs_staff());
    }

    #[test]
    fn every_listed_error_byte_reads_and_others_are_kept() {
        // hardware.md §2.2: 00 bad CM, 01 bad PM, 02 cannot execute, 04 bad data,
        // 05 supply voltage, 06 abnormal card, 07 main power lost.
        let listed = [
            (0x00, ErrorCode::BadCommand),
            (0x01, ErrorCode::BadParameter),
            (0x02, ErrorCode::CannotExecute),
            (0x04, ErrorCode::BadData),
            (0x05, ErrorCode::SupplyVoltage),
            (0x06, ErrorCode::AbnormalCard),
            (0x07, ErrorCode::MainPowerLost),
        ];
        for (e, code) in listed {
            assert_eq!(parse_reply(&[0x4E, 0x30, e]), Ok(Reply::Negative { cm: 0x30, error: code }));
            assert_eq!(code.byte(), e);
            // The same code as an ASCII digit (§2: "error codes are ASCII digits").
            assert_eq!(ErrorCode::from_byte(e + 0x30), code);
        }
        assert_eq!(ErrorCode::from_byte(0x33), ErrorCode::Unknown(0x33));
        assert_eq!(
            parse_reply(&[0x4E, 0x30, 0x03]),
            Ok(Reply::Negative { cm: 0x30, error: ErrorCode::Unknown(0x03) })
        );
    }

    #[test]
    fn a_p_in_front_is_not_stripped() {
        // The shape of CRT-591/ICT3Q8 replies ('P' CM PM …) is not the CRT-310's: read as a
        // CRT-310 reply, the 'P' is the CM, and the reply answers no status command.
        let bytes = [
            0x02, // STX
            0x00, // LENH
            0x06, // LENL
            0x50, // 'P'
            0x31, // status CM, in the PM place
            0x30, // PM, now in the data
            0x4A, // S1
            0x4E, // S2
            0x4E, // S3
            0x03, // ETX
            0x1C, // BCC = 02^00^06^50^31^30^4A^4E^4E^03
        ];
        let r = parse_reply(&text_of(&bytes)).unwrap();
        assert_ne!(r, Reply::Positive { cm: 0x31, pm: 0x30, data: vec![0x4A, 0x4E, 0x4E] });
        assert_eq!(r, Reply::Positive { cm: 0x50, pm: 0x31, data: vec![0x30, 0x4A, 0x4E, 0x4E] });
        assert!(!r.answers(&[0x31, 0x30]));
    }

    #[test]
    fn short_and_misshapen_texts_are_refused() {
        assert_eq!(parse_reply(&[]), Err(ReplyError::TooShort(0)));
        assert_eq!(parse_reply(&[0x31]), Err(ReplyError::TooShort(1)));
        assert_eq!(parse_reply(&[0x4E, 0x32]), Err(ReplyError::BadNegative(2)));
        assert_eq!(parse_reply(&[0x4E, 0x32, 0x06, 0x00]), Err(ReplyError::BadNegative(4)));
        // A positive reply needs no data to be read (the caller decides what it needed).
        assert_eq!(parse_reply(&[0x31, 0x30]), Ok(Reply::Positive { cm: 0x31, pm: 0x30, data: vec![] }));
    }

    #[test]
    fn an_sle_reset_reply_carries_p_then_the_atr() {
        let bytes = [
            0x02, // STX
            0x00, 0x07, // LEN 7
            0x38, 0x30, // echo: SLE4442 reset
            0x59, // P 'Y'
            0xA2, 0x13, 0x10, 0x91, // SLE4442 ATR (hardware.md §3.2)
            0x03, // ETX
            0x67, // BCC
        ];
        let r = parse_reply(&text_of(&bytes)).unwrap();
        assert_eq!(r, Reply::Positive { cm: 0x38, pm: 0x30, data: vec![0x59, 0xA2, 0x13, 0x10, 0x91] });
    }

    #[test]
    fn status_data_reads_s1_s2_s3_and_refuses_an_unlisted_position() {
        // S1 4C rear held, S2 4A front entry on the switch, S3 4A rear entry allowed.
        let s = ReaderStatus::from_data(&[0x4C, 0x4A, 0x4A]).unwrap();
        assert_eq!(
            s,
            ReaderStatus { position: CardPosition::RearHold, front_entry: 0x4A, rear_entry_allowed: true }
        );
        assert_eq!(ReaderStatus::from_data(&[0x4E, 0x4E, 0x4E]).map(|s| s.rear_entry_allowed), Some(false));
        assert_eq!(ReaderStatus::from_data(&[0x45, 0x4E, 0x4E]), None, "45 is no S1 value");
        assert_eq!(ReaderStatus::from_data(&[0x4A, 0x4E]), None);
    }

    #[test]
    fn operation_bytes_read_both_ways() {
        // P: 59 'Y' success, 4E 'N' failure, 45 'E' no card, 57 'W' not in position.
        for (b, op) in [
            (0x59, Operation::Success),
            (0x4E, Operation::Failure),
            (0x45, Operation::NoCard),
            (0x57, Operation::WrongPosition),
        ] {
            assert_eq!(Operation::try_from(b), Ok(op));
        }
        assert_eq!(Operation::try_from(0x5A), Err(0x5A));
    }

    #[test]
    fn reply_debug_shows_the_data_length_only() {
        let r = Reply::Positive { cm: 0x38, pm: 0x31, data: vec![0x59, 0xAB, 0xCD] };
        assert_eq!(format!("{r:?}"), "Positive { cm: 0x38, pm: 0x31, data_len: 3 }");
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_reply_never_panics_and_reads_4e_as_negative_only(
                text in proptest::collection::vec(any::<u8>(), 0..300)
            ) {
                match parse_reply(&text) {
                    Ok(Reply::Negative { .. }) => prop_assert!(text.len() == 3 && text[0] == NEGATIVE),
                    Ok(Reply::Positive { cm, pm, data }) => {
                        prop_assert!(text[0] != NEGATIVE);
                        prop_assert_eq!([cm, pm], [text[0], text[1]]);
                        prop_assert_eq!(&data[..], &text[2..]);
                    }
                    Err(_) => prop_assert!(text.len() < 2 || text[0] == NEGATIVE),
                }
            }
        }
    }
}
