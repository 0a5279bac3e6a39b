//! The framing layer of the Creator CRT-310 motorised card reader (hardware.md §2.1), shared by
//! every driver that talks to one (`bankcard`, `idcard`, `iccard`).
//!
//! ```text
//! STX(02) LENH LENL text ETX(03) BCC      LEN = bytes of text, big-endian
//!                                         BCC = XOR of every byte from STX to ETX
//! ACK(06) NAK(15) ENQ(05) EOT(04)         one-byte handshake / control characters
//! ```
//!
//! Here: building a frame, finding and checking one at the front of a buffer (with
//! resynchronisation on garbage), the control bytes, and the one reading of a reply's text
//! ([`parse_reply`]: positive `CM PM data…`, negative `4E CM E`, hardware.md §2.2) with its error
//! byte ([`ErrorCode`]) and the card position S1 ([`CardPosition`]). Command sets stay with each
//! driver, so a driver can keep a command set that cannot express what it must never do.
//!
//! ```text
//! reply text   CM PM data…        positive: CM and PM echoed (no 'P' byte in front)
//!              4E CM E            negative: 'N', CM echoed, one error byte
//! ```
//!
//! Decoders follow the house contract: `Ok(None)` = need more bytes (the buffer is untouched
//! apart from dropped garbage), `Err` = the bad bytes have been consumed, never a panic.

use bytes::{Buf, BytesMut};
use std::ops::RangeInclusive;

/// Start of text.
pub const STX: u8 = 0x02;
/// End of text.
pub const ETX: u8 = 0x03;
/// End of transmission: the host cancels ("discontinue"); the reader answers with EOT.
pub const EOT: u8 = 0x04;
/// Enquiry: the host tells the reader to execute the acknowledged command.
pub const ENQ: u8 = 0x05;
/// Positive acknowledgement of a command frame.
pub const ACK: u8 = 0x06;
/// Negative acknowledgement (BCC error): the host resends.
pub const NAK: u8 = 0x15;
/// Most data bytes one frame carries after its command bytes (hardware.md §2.1: 264).
pub const MAX_DATA: usize = 264;

/// BCC: the XOR of all `bytes` (for a frame: STX up to and including ETX).
pub fn bcc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

/// Frames `text`: `STX LENH LENL text ETX BCC`. A text longer than `u16::MAX` is cut there.
pub fn encode(text: &[u8]) -> Vec<u8> {
    let len = text.len().min(usize::from(u16::MAX)) as u16;
    let mut out = Vec::with_capacity(usize::from(len) + 5);
    out.push(STX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&text[..usize::from(len)]);
    out.push(ETX);
    out.push(bcc(&out));
    out
}

/// Why the bytes at the front of a buffer are not a good frame. The bad bytes are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// LEN outside the range the caller allows: the STX is dropped.
    #[error("bad length {0}")]
    BadLength(usize),
    /// The byte where ETX belongs is something else: the STX is dropped.
    #[error("no ETX where the length says it is")]
    MissingEtx,
    /// The BCC does not match: the whole frame is dropped.
    #[error("bad BCC: expected {expected:#04x}, got {actual:#04x}")]
    BadBcc {
        /// Computed from the frame.
        expected: u8,
        /// Carried by the frame.
        actual: u8,
    },
}

/// Drops bytes in front of the next STX or one of `controls`. Returns how many were dropped.
pub fn resync(buf: &mut BytesMut, controls: &[u8]) -> usize {
    crate::resync::skip_while_not(buf, |b| b == STX || controls.contains(&b))
}

/// Takes one frame off the front of `buf` and returns its text, dropping garbage before STX.
/// `text_len` is the range of LEN values the caller accepts.
pub fn take_frame(
    buf: &mut BytesMut,
    text_len: RangeInclusive<usize>,
) -> Result<Option<Vec<u8>>, FrameError> {
    let dropped = resync(buf, &[]);
    if dropped > 0 {
        tracing::debug!(dropped, "crt310: dropped bytes before STX");
    }
    if buf.len() < 3 {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([buf[1], buf[2]]));
    if !text_len.contains(&len) {
        buf.advance(1);
        return Err(FrameError::BadLength(len));
    }
    let total = len + 5;
    if buf.len() < total {
        return Ok(None);
    }
    if buf[3 + len] != ETX {
        buf.advance(1);
        return Err(FrameError::MissingEtx);
    }
    let expected = bcc(&buf[..total - 1]);
    let actual = buf[total - 1];
    if expected != actual {
        buf.advance(total);
        return Err(FrameError::BadBcc { expected, actual });
    }
    let text = buf[3..3 + len].to_vec();
    buf.advance(total);
    Ok(Some(text))
}

/// One unit on the line: a control byte or a frame's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// One of the control bytes the caller listed.
    Control(u8),
    /// The text of a frame with good framing and BCC.
    Text(Vec<u8>),
}

/// Takes one unit off the front of `buf`: a byte of `controls`, or a frame (see [`take_frame`]).
/// Call [`resync`] with the same `controls` first: any other leading bytes are dropped here as
/// garbage before STX.
pub fn take_unit(
    buf: &mut BytesMut,
    controls: &[u8],
    text_len: RangeInclusive<usize>,
) -> Result<Option<Unit>, FrameError> {
    let Some(&first) = buf.first() else { return Ok(None) };
    if controls.contains(&first) {
        buf.advance(1);
        return Ok(Some(Unit::Control(first)));
    }
    Ok(take_frame(buf, text_len)?.map(Unit::Text))
}

/// Card position S1 of a CRT-310 status reply (hardware.md §2.2), the same for every slot
/// built on the reader (ID, bank card).
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
    /// The S1 byte.
    pub fn code(self) -> u8 {
        match self {
            CardPosition::LongCard => 0x46,
            CardPosition::ShortCard => 0x47,
            CardPosition::FrontNoHold => 0x48,
            CardPosition::Gate => 0x49,
            CardPosition::Inside => 0x4A,
            CardPosition::InsideContacts => 0x4B,
            CardPosition::RearHold => 0x4C,
            CardPosition::Captured => 0x4D,
            CardPosition::NoCard => 0x4E,
        }
    }

    /// True when the card is in the reader, where the SAM can read it.
    pub fn is_inside(self) -> bool {
        matches!(self, CardPosition::Inside | CardPosition::InsideContacts)
    }
}

// ---- Replies (hardware.md §2.1, §2.2) ------------------------------------------------------
//
// The one reading of a CRT-310 reply text, used by every driver built on the reader:
//
//   positive   CM PM data…      the command's CM and PM echoed, then the reply data
//                               (no leading 'P': the first text byte is the echoed CM)
//   negative   'N'(4E) CM E     exactly three bytes; E is one error byte
//
// No CRT-310 command has CM = 4E, so the first text byte tells the two apart. There is no
// reply *encoder* here on purpose: simulators write the bytes they send themselves, so a
// misreading on this side cannot be mirrored on theirs and go unnoticed.

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
    /// From the E byte.
    pub const fn from_byte(b: u8) -> Self {
        match b {
            0x00 => ErrorCode::BadCommand,
            0x01 => ErrorCode::BadParameter,
            0x02 => ErrorCode::CannotExecute,
            0x04 => ErrorCode::BadData,
            0x05 => ErrorCode::SupplyVoltage,
            0x06 => ErrorCode::AbnormalCard,
            0x07 => ErrorCode::MainPowerLost,
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

#[cfg(test)]
mod tests {
    use super::*;

    const CRT310: RangeInclusive<usize> = 2..=MAX_DATA + 2;

    #[test]
    fn reset_no_eject() {
        // hardware.md §2.1 worked frame "reset (no eject)": 02 00 02 30 30 03 03.
        let want = [
            0x02, // STX
            0x00, // LENH
            0x02, // LENL: 2 text bytes
            0x30, // CM: reset
            0x30, // PM: no eject
            0x03, // ETX
            0x03, // BCC = 02^00^02^30^30^03
        ];
        assert_eq!(encode(&[0x30, 0x30]), want);
        assert_eq!(bcc(&want[..6]), 0x03);
    }

    #[test]
    fn status() {
        // hardware.md §2.1 worked frame "status": 02 00 02 31 30 03 02.
        let want = [
            0x02, // STX
            0x00, // LENH
            0x02, // LENL
            0x31, // CM: status
            0x30, // PM: reader status
            0x03, // ETX
            0x02, // BCC = 02^00^02^31^30^03
        ];
        assert_eq!(encode(&[0x31, 0x30]), want);
    }

    #[test]
    fn move_to_ic_contacts() {
        // hardware.md §2.1 worked frame "move to IC": 02 00 02 32 2F 03 1E.
        let want = [
            0x02, // STX
            0x00, // LENH
            0x02, // LENL
            0x32, // CM: move card
            0x2F, // PM: IC contact position
            0x03, // ETX
            0x1E, // BCC = 02^00^02^32^2F^03
        ];
        assert_eq!(encode(&[0x32, 0x2F]), want);
    }

    #[test]
    fn capture_to_rear() {
        // hardware.md §2.1 worked frame "to rear (capture)": 02 00 02 32 33 03 02.
        let want = [
            0x02, // STX
            0x00, // LENH
            0x02, // LENL
            0x32, // CM: move card
            0x33, // PM: rear, no hold
            0x03, // ETX
            0x02, // BCC = 02^00^02^32^33^03
        ];
        assert_eq!(encode(&[0x32, 0x33]), want);
    }

    #[test]
    fn cpu_cold_reset() {
        // hardware.md §2.1 worked frame "CPU cold reset": 02 00 02 37 30 03 04.
        let want = [
            0x02, // STX
            0x00, // LENH
            0x02, // LENL
            0x37, // CM: CPU card
            0x30, // PM: cold reset
            0x03, // ETX
            0x04, // BCC = 02^00^02^37^30^03
        ];
        assert_eq!(encode(&[0x37, 0x30]), want);
    }

    #[test]
    fn control_bytes() {
        // hardware.md §2.1 handshake: ACK 06, NAK 15 on BCC error, host ENQ 05, EOT 04 cancels.
        assert_eq!([ACK, NAK, ENQ, EOT, STX, ETX], [0x06, 0x15, 0x05, 0x04, 0x02, 0x03]);
    }

    #[test]
    fn a_frame_decodes_to_its_text() {
        let bytes = [
            0x02, // STX
            0x00, // LENH
            0x03, // LENL: 3 text bytes
            0x4E, // 'N': negative reply (hardware.md §2.2)
            0x32, // CM: move card
            0x06, // E: abnormal card inside
            0x03, // ETX
            0x78, // BCC = 02^00^03^4E^32^06^03
        ];
        let mut buf = BytesMut::from(&bytes[..]);
        assert_eq!(take_frame(&mut buf, CRT310), Ok(Some(vec![0x4E, 0x32, 0x06])));
        assert!(buf.is_empty());
    }

    #[test]
    fn garbage_before_stx_is_dropped() {
        let bytes = [
            0xFF, // noise
            0x13, // noise
            0x02, // STX
            0x00, // LENH
            0x02, // LENL
            0x31, // CM: status
            0x30, // PM
            0x03, // ETX
            0x02, // BCC
        ];
        let mut buf = BytesMut::from(&bytes[..]);
        assert_eq!(take_frame(&mut buf, CRT310), Ok(Some(vec![0x31, 0x30])));
        assert!(buf.is_empty());
    }

    #[test]
    fn a_partial_frame_needs_more_and_is_left_alone() {
        let full = [0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02];
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            assert_eq!(take_frame(&mut buf, CRT310), Ok(None));
            assert_eq!(buf.len(), cut);
        }
    }

    #[test]
    fn a_bad_bcc_drops_the_frame() {
        let bytes = [
            0x02, // STX
            0x00, // LENH
            0x02, // LENL
            0x31, // CM: status
            0x30, // PM
            0x03, // ETX
            0xFD, // BCC: wrong, 02 expected
            0x06, // ACK after the frame stays
        ];
        let mut buf = BytesMut::from(&bytes[..]);
        assert_eq!(take_frame(&mut buf, CRT310), Err(FrameError::BadBcc { expected: 0x02, actual: 0xFD }));
        assert_eq!(&buf[..], &[0x06]);
    }

    #[test]
    fn a_missing_etx_or_a_bad_length_drops_the_stx_only() {
        let bytes = [
            0x02, // STX
            0x00, // LENH
            0x02, // LENL
            0x31, // CM
            0x30, // PM
            0x00, // not ETX
            0x02, // BCC
        ];
        let mut buf = BytesMut::from(&bytes[..]);
        assert_eq!(take_frame(&mut buf, CRT310), Err(FrameError::MissingEtx));
        assert_eq!(buf.len(), 6);
        let mut buf = BytesMut::from(&[0x02, /* LEN */ 0x01, 0x0B][..]);
        assert_eq!(take_frame(&mut buf, CRT310), Err(FrameError::BadLength(0x010B)));
        assert_eq!(&buf[..], &[0x01, 0x0B]);
    }

    #[test]
    fn units_resynchronise_on_controls_and_stx() {
        let bytes = [
            0x31, // noise
            0x06, // ACK
            0x00, // noise
            0x02, // STX
            0x00, // LENH
            0x02, // LENL
            0x32, // CM: move card
            0x31, // PM: hold at gate
            0x03, // ETX
            0x00, // BCC = 02^00^02^32^31^03
            0x04, // EOT
        ];
        let controls = [ACK, NAK, EOT];
        let mut buf = BytesMut::from(&bytes[..]);
        let mut units = Vec::new();
        loop {
            resync(&mut buf, &controls);
            match take_unit(&mut buf, &controls, CRT310) {
                Ok(Some(u)) => units.push(u),
                Ok(None) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(units, [Unit::Control(ACK), Unit::Text(vec![0x32, 0x31]), Unit::Control(EOT)]);
    }

    // ---- replies: literal frames from hardware.md §2.1/§2.2, BCC worked out by hand ----------

    /// The text of the one frame in `bytes`, through the real framing decoder.
    fn text_of(bytes: &[u8]) -> Vec<u8> {
        let mut buf = BytesMut::from(bytes);
        let text = take_frame(&mut buf, CRT310).unwrap().unwrap();
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
        }
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
