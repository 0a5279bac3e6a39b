//! CRT-310 bytes ⇄ frames (hardware.md §2.1): `STX LENH LENL text ETX BCC`, where LEN counts
//! the text (`CM PM data`) and BCC is the XOR of every byte from STX to ETX.
//!
//! Plain functions, used by the driver (through [`device::Link`]) and the tests; the simulator
//! reads the host's commands with them but writes its replies itself. A reply's text is read by
//! the shared [`device::crt310::parse_reply`] (positive `CM PM data`, negative `4E CM E`).
//! Decoders follow the house contract: `Ok(None)` = need more bytes (buffer untouched apart from
//! dropped garbage), `Err` = the bad bytes have been consumed, never a panic.

use super::frame::*;
use crate::error::DecodeError;
use bytes::{Buf, BytesMut};
/// XOR of all bytes (the shared CRT-310 BCC).
pub use device::crt310::bcc;
use device::crt310::{self, FrameError, ReplyError, Unit};
use device::resync;

/// Frames `text` (`CM PM data`).
pub fn frame(text: &[u8]) -> Vec<u8> {
    crt310::encode(text)
}

fn frame_error(e: FrameError) -> DecodeError {
    match e {
        FrameError::BadBcc { expected, actual } => DecodeError::BadChecksum { expected, actual },
        FrameError::BadLength(len) => DecodeError::BadLength(len),
        _ => DecodeError::MissingEtx,
    }
}

/// The text of a command.
pub fn command_text(cmd: &Command) -> Vec<u8> {
    let mut t = vec![cmd.cm(), cmd.pm()];
    match cmd {
        Command::CardInControl { rear_allowed, .. } => t.push(if *rear_allowed { 0x30 } else { 0x31 }),
        Command::Sle(SleCommand::ReadMain { addr, len }) => t.extend_from_slice(&[*addr, *len]),
        Command::Sle(SleCommand::VerifyPsc(psc)) => t.extend_from_slice(psc),
        Command::Sle(SleCommand::UpdateMain { addr, data }) => {
            t.push(*addr);
            t.push(data.len().min(255) as u8);
            t.extend_from_slice(&data[..data.len().min(255)]);
        }
        _ => {}
    }
    t
}

/// Encodes a command frame.
pub fn encode_command(cmd: &Command) -> Vec<u8> {
    frame(&command_text(cmd))
}

/// Takes one frame's text off the front of `buf`, dropping garbage before STX.
pub fn decode_text(buf: &mut BytesMut) -> Result<Option<Vec<u8>>, DecodeError> {
    crt310::take_frame(buf, 2..=MAX_TEXT).map_err(frame_error)
}

/// Decodes one reply frame.
pub fn decode_reply(buf: &mut BytesMut) -> Result<Option<Reply>, DecodeError> {
    let Some(text) = decode_text(buf)? else { return Ok(None) };
    reply_from_text(&text).map(Some)
}

/// A reply from its text (the shared reading, [`device::crt310::parse_reply`]).
pub fn reply_from_text(text: &[u8]) -> Result<Reply, DecodeError> {
    crt310::parse_reply(text).map_err(|e| match e {
        ReplyError::TooShort(len) => DecodeError::BadLength(len),
        _ => DecodeError::Malformed("negative reply"),
    })
}

/// A command from its text (the simulator's side).
pub fn command_from_text(text: &[u8]) -> Result<Command, DecodeError> {
    let bad_pm = |_| DecodeError::Malformed("parameter");
    let cmd = match text {
        [0x30, pm] => Command::Reset(ResetMode::from_pm(*pm).ok_or(()).map_err(bad_pm)?),
        [0x2F, pm1, pm2] => Command::CardInControl {
            front: FrontEntry::from_pm(*pm1).ok_or(()).map_err(bad_pm)?,
            rear_allowed: match pm2 {
                0x30 => true,
                0x31 => false,
                _ => return Err(DecodeError::Malformed("parameter")),
            },
        },
        [0x31, 0x30] => Command::Status,
        [0x31, 0x31] => Command::DetectIcType,
        [0x32, pm] => Command::Move(MoveTo::from_pm(*pm).ok_or(()).map_err(bad_pm)?),
        [0x33, 0x30] => Command::IcPower(true),
        [0x33, 0x31] => Command::IcPower(false),
        [0x38, 0x30] => Command::Sle(SleCommand::Reset),
        [0x38, 0x31, addr, len] if (1..=MAX_READ).contains(len) => {
            Command::Sle(SleCommand::ReadMain { addr: *addr, len: *len })
        }
        [0x38, 0x32] => Command::Sle(SleCommand::ReadProtection),
        [0x38, 0x33] => Command::Sle(SleCommand::ReadSecurity),
        [0x38, 0x34, a, b, c] => Command::Sle(SleCommand::VerifyPsc([*a, *b, *c])),
        [0x38, 0x35, addr, len, data @ ..] if *len > 0 && usize::from(*len) == data.len() => {
            Command::Sle(SleCommand::UpdateMain { addr: *addr, data: data.to_vec() })
        }
        [0x2F..=0x33 | 0x38, ..] => return Err(DecodeError::Malformed("command")),
        [cm, ..] => return Err(DecodeError::UnknownCode(*cm)),
        [] => return Err(DecodeError::BadLength(0)),
    };
    Ok(cmd)
}

/// What the host sends, as the simulator sees it: a control byte or a command frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostMessage {
    /// ENQ, EOT, ACK or NAK.
    Control(Handshake),
    /// A command frame.
    Command(Command),
}

/// Decodes the next thing the host sent. Bytes that are neither a control byte nor STX are
/// dropped (line noise).
pub fn decode_host(buf: &mut BytesMut) -> Result<Option<HostMessage>, DecodeError> {
    const CONTROLS: [u8; 4] = [ACK, NAK, EOT, ENQ];
    let dropped = crt310::resync(buf, &CONTROLS);
    if dropped > 0 {
        tracing::debug!(dropped, "crt310 sim: dropped noise");
    }
    match crt310::take_unit(buf, &CONTROLS, 2..=MAX_TEXT).map_err(frame_error)? {
        None => Ok(None),
        Some(Unit::Control(b)) => Ok(Handshake::from_byte(b).map(HostMessage::Control)),
        Some(Unit::Text(text)) => command_from_text(&text).map(|c| Some(HostMessage::Command(c))),
    }
}

/// Decodes the reader's one-byte handshake answer; other bytes are dropped.
pub fn decode_handshake(buf: &mut BytesMut) -> Result<Option<Handshake>, DecodeError> {
    let dropped = resync::skip_while_not(buf, |b| matches!(b, ACK | NAK | EOT));
    if dropped > 0 {
        tracing::debug!(dropped, "crt310: dropped bytes while waiting for ACK");
    }
    match buf.first().copied().and_then(Handshake::from_byte) {
        Some(h) => {
            buf.advance(1);
            Ok(Some(h))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(bytes: &[u8]) -> Result<Option<Reply>, DecodeError> {
        decode_reply(&mut BytesMut::from(bytes))
    }

    // Every worked frame of hardware.md §2.1, encoded from the typed command.

    #[test]
    fn reset_stay() {
        let want = [
            0x02, // STX
            0x00, 0x02, // LEN = 2 (CM PM)
            0x30, // CM reset
            0x30, // PM: leave a card where it is
            0x03, // ETX
            0x03, // BCC = 02^00^02^30^30^03
        ];
        assert_eq!(encode_command(&Command::Reset(ResetMode::Stay)), want);
    }

    #[test]
    fn status() {
        // STX, LEN 00 02, CM 31 PM 30 (reader status), ETX, BCC 02.
        let want = [0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02];
        assert_eq!(encode_command(&Command::Status), want);
    }

    #[test]
    fn move_to_ic_contacts() {
        // STX, LEN 00 02, CM 32 move, PM 2F IC contact position, ETX, BCC 1E.
        let want = [0x02, 0x00, 0x02, 0x32, 0x2F, 0x03, 0x1E];
        assert_eq!(encode_command(&Command::Move(MoveTo::IcContacts)), want);
    }

    #[test]
    fn eject_front_no_hold() {
        // STX, LEN 00 02, CM 32 move, PM 30 front no-hold, ETX, BCC 01.
        let want = [0x02, 0x00, 0x02, 0x32, 0x30, 0x03, 0x01];
        assert_eq!(encode_command(&Command::Move(MoveTo::FrontNoHold)), want);
    }

    #[test]
    fn hold_at_gate() {
        // STX, LEN 00 02, CM 32 move, PM 31 hold at gate, ETX, BCC 00.
        let want = [0x02, 0x00, 0x02, 0x32, 0x31, 0x03, 0x00];
        assert_eq!(encode_command(&Command::Move(MoveTo::Gate)), want);
    }

    #[test]
    fn capture_to_rear() {
        // STX, LEN 00 02, CM 32 move, PM 33 rear no-hold (capture), ETX, BCC 02.
        let want = [0x02, 0x00, 0x02, 0x32, 0x33, 0x03, 0x02];
        assert_eq!(encode_command(&Command::Move(MoveTo::Capture)), want);
    }

    #[test]
    fn ic_power_on() {
        // STX, LEN 00 02, CM 33 IC contacts, PM 30 power on, ETX, BCC 00.
        let want = [0x02, 0x00, 0x02, 0x33, 0x30, 0x03, 0x00];
        assert_eq!(encode_command(&Command::IcPower(true)), want);
    }

    #[test]
    fn ic_power_off() {
        // STX, LEN 00 02, CM 33, PM 31 power off, ETX, BCC 01 (02^02^33^31^03).
        let want = [0x02, 0x00, 0x02, 0x33, 0x31, 0x03, 0x01];
        assert_eq!(encode_command(&Command::IcPower(false)), want);
    }

    #[test]
    fn detect_ic_type() {
        // STX, LEN 00 02, CM 31 PM 31 auto-detect IC type, ETX, BCC 03.
        let want = [0x02, 0x00, 0x02, 0x31, 0x31, 0x03, 0x03];
        assert_eq!(encode_command(&Command::DetectIcType), want);
    }

    #[test]
    fn card_in_control_switch_front_rear_forbidden() {
        // STX, LEN 00 03, CM 2F, Pm1 33 front by switch, Pm2 31 rear forbidden, ETX, BCC.
        let want = [0x02, 0x00, 0x03, 0x2F, 0x33, 0x31, 0x03, 0x2F];
        let cmd = Command::CardInControl { front: FrontEntry::Switch, rear_allowed: false };
        assert_eq!(encode_command(&cmd), want);
        assert_eq!(bcc(&want[..7]), 0x2F);
    }

    #[test]
    fn sle_read_main() {
        let want = [
            0x02, // STX
            0x00, 0x04, // LEN 4
            0x38, 0x31, // SLE4442 read main
            0x20, // address 0x20
            0x80, // 128 bytes
            0x03, // ETX
            0xAC, // BCC
        ];
        let cmd = Command::Sle(SleCommand::ReadMain { addr: 0x20, len: 0x80 });
        assert_eq!(encode_command(&cmd), want);
        assert_eq!(bcc(&want[..8]), 0xAC);
    }

    #[test]
    fn sle_verify_psc() {
        let want = [
            0x02, // STX
            0x00, 0x05, // LEN 5
            0x38, 0x34, // SLE4442 verify PSC
            0xFF, 0xFF, 0xFF, // transport PSC FF FF FF (§3.2)
            0x03, // ETX
            0xF7, // BCC
        ];
        assert_eq!(encode_command(&Command::Sle(SleCommand::VerifyPsc([0xFF; 3]))), want);
        assert_eq!(bcc(&want[..9]), 0xF7);
    }

    #[test]
    fn sle_update_main() {
        let want = [
            0x02, // STX
            0x00, 0x05, // LEN 5
            0x38, 0x35, // SLE4442 update main
            0x40, // address
            0x01, // one byte
            0xA5, // data
            0x03, // ETX
            0xED, // BCC
        ];
        let cmd = Command::Sle(SleCommand::UpdateMain { addr: 0x40, data: vec![0xA5] });
        assert_eq!(encode_command(&cmd), want);
        assert_eq!(bcc(&want[..9]), 0xED);
        let mut buf = BytesMut::from(&want[..]);
        assert_eq!(decode_host(&mut buf), Ok(Some(HostMessage::Command(cmd))));
    }

    #[test]
    fn positive_status_reply() {
        let bytes = [
            0x02, // STX
            0x00, 0x05, // LEN 5
            0x31, 0x30, // echo: reader status
            0x4B, // S1: inside, IC contacts engaged
            0x4A, // S2: front entry by switch
            0x4E, // S3: rear entry forbidden
            0x03, // ETX
            0x4A, // BCC
        ];
        let r = dec(&bytes).unwrap().unwrap();
        let Reply::Positive { cm: 0x31, pm: 0x30, data } = r else { panic!("{r:?}") };
        let s = ReaderStatus::from_data(&data).unwrap();
        assert_eq!(s.position, CardPosition::AtContacts);
        assert!(!s.rear_allowed);
        assert_eq!(bcc(&bytes[..9]), 0x4A);
    }

    #[test]
    fn negative_reply() {
        let bytes = [
            0x02, // STX
            0x00, 0x03, // LEN 3
            0x4E, // 'N' negative
            0x32, // CM move
            0x06, // E: abnormal card inside
            0x03, // ETX
            0x78, // BCC
        ];
        assert_eq!(bcc(&bytes[..7]), 0x78);
        assert_eq!(dec(&bytes), Ok(Some(Reply::Negative { cm: 0x32, error: ErrorCode::AbnormalCard })));
    }

    #[test]
    fn sle_reset_reply_with_atr() {
        let bytes = [
            0x02, // STX
            0x00, 0x07, // LEN 7
            0x38, 0x30, // echo: SLE4442 reset
            0x59, // P 'Y'
            0xA2, 0x13, 0x10, 0x91, // SLE4442 ATR (§3.2)
            0x03, // ETX
            0x67, // BCC
        ];
        assert_eq!(bcc(&bytes[..11]), 0x67);
        let reply = Reply::Positive { cm: 0x38, pm: 0x30, data: vec![0x59, 0xA2, 0x13, 0x10, 0x91] };
        assert_eq!(dec(&bytes), Ok(Some(reply)));
    }

    #[test]
    fn a_p_in_front_of_a_reply_is_not_stripped() {
        let bytes = [
            0x02, // STX
            0x00, 0x06, // LEN 6
            0x50, // 'P': not a CRT-310 reply byte
            0x31, 0x30, // status CM PM, one place late
            0x4B, 0x4A, 0x4E, // S1 S2 S3
            0x03, // ETX
            0x19, // BCC = 02^00^06^50^31^30^4B^4A^4E^03
        ];
        assert_eq!(bcc(&bytes[..10]), 0x19);
        let r = dec(&bytes).unwrap().unwrap();
        assert_eq!(r, Reply::Positive { cm: 0x50, pm: 0x31, data: vec![0x30, 0x4B, 0x4A, 0x4E] });
        assert!(!r.answers(&command_text(&Command::Status)));
    }

    #[test]
    fn a_negative_reply_is_exactly_three_bytes() {
        let bytes = [
            0x02, // STX
            0x00, 0x04, // LEN 4
            0x4E, 0x32, 0x06, // 'N' CM E
            0x00, // one byte too many
            0x03, // ETX
            0x7F, // BCC = 02^00^04^4E^32^06^00^03
        ];
        assert_eq!(bcc(&bytes[..8]), 0x7F);
        assert_eq!(dec(&bytes), Err(DecodeError::Malformed("negative reply")));
    }

    #[test]
    fn a_partial_frame_needs_more_and_is_left_alone() {
        let full = [0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02];
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            assert_eq!(decode_reply(&mut buf), Ok(None));
            assert_eq!(buf.len(), cut);
        }
    }

    #[test]
    fn garbage_before_stx_is_dropped() {
        let mut buf = BytesMut::from(&[0xFF, 0x13, 0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02][..]);
        assert!(matches!(decode_reply(&mut buf), Ok(Some(Reply::Positive { cm: 0x31, .. }))));
        assert!(buf.is_empty());
    }

    #[test]
    fn a_bad_bcc_is_reported_and_consumed() {
        let mut buf = BytesMut::from(&[0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0xFD][..]);
        assert_eq!(decode_reply(&mut buf), Err(DecodeError::BadChecksum { expected: 0x02, actual: 0xFD }));
        assert!(buf.is_empty());
    }

    #[test]
    fn a_missing_etx_drops_the_stx_only() {
        let mut buf = BytesMut::from(&[0x02, 0x00, 0x02, 0x31, 0x30, 0x00, 0x02][..]);
        assert_eq!(decode_reply(&mut buf), Err(DecodeError::MissingEtx));
        assert_eq!(buf.len(), 6);
    }

    #[test]
    fn an_absurd_length_is_refused_at_once() {
        let mut buf = BytesMut::from(&[0x02, 0xFF, 0xFF][..]);
        assert_eq!(decode_reply(&mut buf), Err(DecodeError::BadLength(0xFFFF)));
    }

    #[test]
    fn handshake_bytes() {
        let mut buf = BytesMut::from(&[0x00, 0x06, 0x15][..]);
        assert_eq!(decode_handshake(&mut buf), Ok(Some(Handshake::Ack)));
        assert_eq!(decode_handshake(&mut buf), Ok(Some(Handshake::Nak)));
        assert_eq!(decode_handshake(&mut buf), Ok(None));
        let mut buf = BytesMut::from(&[0x05, 0x04][..]);
        assert_eq!(decode_host(&mut buf), Ok(Some(HostMessage::Control(Handshake::Enq))));
        assert_eq!(decode_host(&mut buf), Ok(Some(HostMessage::Control(Handshake::Eot))));
    }

    #[test]
    fn every_command_round_trips_through_the_simulator_decoder() {
        let cmds = [
            Command::Reset(ResetMode::EjectFront),
            Command::CardInControl { front: FrontEntry::Forbidden, rear_allowed: true },
            Command::Status,
            Command::DetectIcType,
            Command::Move(MoveTo::Rf),
            Command::IcPower(true),
            Command::Sle(SleCommand::Reset),
            Command::Sle(SleCommand::ReadProtection),
            Command::Sle(SleCommand::ReadSecurity),
            Command::Sle(SleCommand::ReadMain { addr: 0, len: 1 }),
            Command::Sle(SleCommand::UpdateMain { addr: 0xFF, data: vec![0; 64] }),
        ];
        for c in cmds {
            let mut buf = BytesMut::from(&encode_command(&c)[..]);
            assert_eq!(decode_host(&mut buf), Ok(Some(HostMessage::Command(c))));
        }
    }
}
