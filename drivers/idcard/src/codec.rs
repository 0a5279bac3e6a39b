//! Bytes ⇄ SAM frames (hardware.md §1.2): `AA AA AA 96 69`, a big-endian length counting every
//! byte after it (checksum included), the body, and an XOR checksum over length + body.
//!
//! [`decode`] (SAM → host) and [`decode_request`] (host → SAM, for the simulator) follow the
//! contract of `design/EXAMPLES.md` ("How this maps", item 2): `Ok(None)` means "need more bytes";
//! garbage before a preamble is dropped (counted, logged as a count only); a frame with a bad
//! checksum, an impossible length or an unknown status is consumed and reported as a typed
//! error. No input makes them panic (property tests in this file and `tests/fuzz.rs`).
//!
//! The bytes of a decoded frame are wiped from the receive buffer: a 1295-byte `30 01` reply
//! holds a name and an ID number.

use crate::frame::{Command, Payload, Reply, Sw3, PREAMBLE};
use bytes::{Buf, BytesMut};
use zeroize::Zeroize;

/// Bytes before the body: preamble + 2 length bytes.
pub const HEADER_LEN: usize = 7;

/// Longest reply length field we accept: `30 10` with a 1024-byte fingerprint is `09 0A` (2314);
/// anything beyond 4096 is noise, not a frame.
pub const MAX_REPLY_LEN: usize = 4096;

/// Longest request length field the SAM accepts (our longest command, `61 FF nn`, has 4).
pub const MAX_REQUEST_LEN: usize = 64;

/// Why bytes from the SAM are not a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The XOR over length and body does not match the checksum byte.
    #[error("bad checksum: computed {expected:#04x}, frame carries {actual:#04x}")]
    BadChecksum {
        /// XOR computed over the received bytes.
        expected: u8,
        /// The checksum byte received.
        actual: u8,
    },
    /// The length field cannot be a reply (under 4 or over [`MAX_REPLY_LEN`]).
    #[error("impossible length field {0}")]
    BadLength(u16),
    /// SW3 is not a code of hardware.md §1.4.
    #[error("unknown SW3 status {0:#04x}")]
    UnknownStatus(u8),
}

/// Why bytes from the host are not a command (what the SAM answers instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Bad XOR: the SAM answers `10`.
    #[error("bad checksum: computed {expected:#04x}, frame carries {actual:#04x}")]
    BadChecksum {
        /// XOR computed over the received bytes.
        expected: u8,
        /// The checksum byte received.
        actual: u8,
    },
    /// Length field too short or too long for any command: the SAM answers `11`.
    #[error("bad length field {0}")]
    BadLength(u16),
    /// A well-formed frame with an unknown CMD/Para: the SAM answers `21`.
    #[error("unknown command {cmd:#04x} {para:#04x}")]
    UnknownCommand {
        /// CMD byte.
        cmd: u8,
        /// Para byte.
        para: u8,
    },
}

impl RequestError {
    /// The status the SAM replies with.
    pub fn sw3(self) -> Sw3 {
        match self {
            RequestError::BadChecksum { .. } => Sw3::HostChecksum,
            RequestError::BadLength(_) => Sw3::HostLength,
            RequestError::UnknownCommand { .. } => Sw3::BadCommand,
        }
    }
}

/// XOR of `bytes` (the checksum of §1.2 when given length + body).
pub fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let len = (body.len() + 1) as u16;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + 1);
    out.extend_from_slice(&PREAMBLE);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    let chk = xor(&out[PREAMBLE.len()..]);
    out.push(chk);
    out
}

/// The request frame of `cmd` (hardware.md §1.3).
pub fn encode(cmd: Command) -> Vec<u8> {
    let (c, p) = cmd.cmd_para();
    let mut body = vec![c, p];
    body.extend(cmd.data());
    frame(&body)
}

/// A reply frame with SW1 = SW2 = `00` (what the simulator sends).
pub fn encode_reply(sw3: Sw3, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(3 + data.len());
    body.extend_from_slice(&[0x00, 0x00, sw3.code()]);
    body.extend_from_slice(data);
    let out = frame(&body);
    body.zeroize();
    out
}

/// Outcome of finding one frame in a buffer.
enum Raw {
    /// Need more bytes.
    Partial,
    /// Length field out of range; the preamble was dropped so the search goes on behind it.
    BadLength(u16),
    /// A whole frame whose checksum does not match; consumed.
    BadChecksum { expected: u8, actual: u8 },
    /// A whole frame; the body (between length and checksum), already removed from the buffer.
    Body(Vec<u8>),
}

/// `min_len` must be at least 1 (the checksum byte).
fn raw_frame(buf: &mut BytesMut, min_len: usize, max_len: usize) -> Raw {
    let min_len = min_len.max(1);
    let dropped = device::resync::skip_until(buf, &PREAMBLE);
    if dropped > 0 {
        tracing::debug!(dropped, "id reader: dropped bytes before a frame start");
    }
    if buf.len() < HEADER_LEN {
        return Raw::Partial;
    }
    let len_field = u16::from_be_bytes([buf[5], buf[6]]);
    let len = usize::from(len_field);
    if len < min_len || len > max_len {
        buf.advance(PREAMBLE.len());
        return Raw::BadLength(len_field);
    }
    if buf.len() < HEADER_LEN + len {
        return Raw::Partial;
    }
    let mut whole = buf.split_to(HEADER_LEN + len);
    let expected = xor(&whole[PREAMBLE.len()..HEADER_LEN + len - 1]);
    let actual = whole[HEADER_LEN + len - 1];
    let out = if expected == actual {
        Raw::Body(whole[HEADER_LEN..HEADER_LEN + len - 1].to_vec())
    } else {
        Raw::BadChecksum { expected, actual }
    };
    // The frame may carry a name and an ID number: leave no copy in the receive buffer.
    whole.as_mut().zeroize();
    out
}

/// Decodes one SAM reply from the front of `buf`.
///
/// `Ok(None)`: not a whole frame yet (garbage before a preamble is dropped meanwhile).
/// `Err`: the offending bytes were consumed; call again for what follows.
pub fn decode(buf: &mut BytesMut) -> Result<Option<Reply>, DecodeError> {
    // SW1 SW2 SW3 CHK at least.
    match raw_frame(buf, 4, MAX_REPLY_LEN) {
        Raw::Partial => Ok(None),
        Raw::BadLength(n) => Err(DecodeError::BadLength(n)),
        Raw::BadChecksum { expected, actual } => Err(DecodeError::BadChecksum { expected, actual }),
        Raw::Body(mut body) => {
            let sw3 = match Sw3::try_from(body[2]) {
                Ok(s) => s,
                Err(code) => {
                    body.zeroize();
                    return Err(DecodeError::UnknownStatus(code));
                }
            };
            let (sw1, sw2) = (body[0], body[1]);
            let data = body[3..].to_vec();
            body.zeroize();
            Ok(Some(Reply { sw1, sw2, sw3, data: Payload::new(data) }))
        }
    }
}

/// Decodes one host request from the front of `buf` (the simulator's side).
pub fn decode_request(buf: &mut BytesMut) -> Result<Option<Command>, RequestError> {
    // A length under 3 (CMD Para CHK) or over the longest command is what the SAM calls "bad
    // length" (`11`); we still need the bytes it announced, up to MAX_REQUEST_LEN, to drop them.
    match raw_frame(buf, 1, MAX_REQUEST_LEN) {
        Raw::Partial => Ok(None),
        Raw::BadLength(n) => Err(RequestError::BadLength(n)),
        Raw::BadChecksum { expected, actual } => Err(RequestError::BadChecksum { expected, actual }),
        Raw::Body(body) if body.len() < 2 => Err(RequestError::BadLength(body.len() as u16 + 1)),
        Raw::Body(body) => Command::from_parts(body[0], body[1], &body[2..])
            .map(Some)
            .ok_or(RequestError::UnknownCommand { cmd: body[0], para: body[1] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Baud;
    use proptest::prelude::*;

    // ---- Requests: every frame of hardware.md §1.3, byte for byte. ----

    #[test]
    fn reset_sam() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, // preamble
            0x00, 0x03, // length 3 = CMD + Para + CHK
            0x10, // CMD reset
            0xFF, // Para
            0xEC, // CHK = 00^03^10^FF
        ];
        assert_eq!(encode(Command::ResetSam), f);
    }

    #[test]
    fn sam_status() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x03, /* CMD */ 0x11,
            /* Para */ 0xFF, /* CHK */ 0xED,
        ];
        assert_eq!(encode(Command::SamStatus), f);
    }

    #[test]
    fn read_sam_id() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x03, /* CMD */ 0x12,
            /* Para */ 0xFF, /* CHK */ 0xEE,
        ];
        assert_eq!(encode(Command::ReadSamId), f);
    }

    #[test]
    fn find_card() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x03, /* CMD */ 0x20,
            /* Para */ 0x01, /* CHK */ 0x22,
        ];
        assert_eq!(encode(Command::FindCard), f);
    }

    #[test]
    fn select_card() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x03, /* CMD */ 0x20,
            /* Para */ 0x02, /* CHK */ 0x21,
        ];
        assert_eq!(encode(Command::SelectCard), f);
    }

    #[test]
    fn read_text_photo() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x03, /* CMD */ 0x30,
            /* Para */ 0x01, /* CHK */ 0x32,
        ];
        assert_eq!(encode(Command::ReadTextPhoto), f);
    }

    #[test]
    fn read_text_photo_fingerprint() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x03, /* CMD */ 0x30,
            /* Para */ 0x10, /* CHK */ 0x23,
        ];
        assert_eq!(encode(Command::ReadTextPhotoFingerprint), f);
    }

    #[test]
    fn read_appended_address() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x03, /* CMD */ 0x30,
            /* Para */ 0x03, /* CHK */ 0x30,
        ];
        assert_eq!(encode(Command::ReadAppendedAddress), f);
    }

    #[test]
    fn set_baud() {
        // 60 00 = 115200.
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x03, /* CMD */ 0x60,
            /* Para */ 0x00, /* CHK */ 0x63,
        ];
        assert_eq!(encode(Command::SetBaud(Baud::B115200)), f);
    }

    #[test]
    fn set_max_rf_bytes() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, // preamble
            0x00, 0x04, // length 4: CMD Para Data CHK
            0x61, // CMD
            0xFF, // Para
            0x50, // Data: 80 bytes
            0xCA, // CHK = 00^04^61^FF^50
        ];
        assert_eq!(encode(Command::SetMaxRfBytes(0x50)), f);
    }

    // ---- Replies: the canonical frames of §1.4 and §1.5. ----

    fn one(bytes: &[u8]) -> Result<Option<Reply>, DecodeError> {
        decode(&mut BytesMut::from(bytes))
    }

    #[test]
    fn reply_ok_status() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, // preamble
            0x00, 0x04, // length: SW1 SW2 SW3 CHK
            0x00, // SW1
            0x00, // SW2
            0x90, // SW3 success
            0x94, // CHK = 00^04^00^00^90
        ];
        let r = one(&f).unwrap().unwrap();
        assert_eq!((r.sw1, r.sw2, r.sw3, r.data.len()), (0, 0, Sw3::Success, 0));
        assert_eq!(encode_reply(Sw3::Success, &[]), f);
    }

    #[test]
    fn reply_no_card() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x04, /* SW1 SW2 */ 0x00, 0x00,
            /* SW3 */ 0x80, /* CHK */ 0x84,
        ];
        assert_eq!(one(&f).unwrap().unwrap().sw3, Sw3::FindFailed);
    }

    #[test]
    fn reply_select_failed_read_failed_checksum_selftest() {
        for (sw3, chk, want) in [
            (0x81, 0x85, Sw3::SelectFailed),
            (0x41, 0x45, Sw3::ReadFailed),
            (0x10, 0x14, Sw3::HostChecksum),
            (0x60, 0x64, Sw3::SelfTestFailed),
        ] {
            let f = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, sw3, chk];
            assert_eq!(one(&f).unwrap().unwrap().sw3, want);
        }
    }

    #[test]
    fn reply_find_ok() {
        let f = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, // preamble
            0x00, 0x08, // length 8
            0x00, 0x00, // SW1 SW2
            0x9F, // SW3 find OK
            0x00, 0x00, 0x00, 0x00, // 4 bytes management info
            0x97, // CHK = 00^08^9F
        ];
        let r = one(&f).unwrap().unwrap();
        assert_eq!((r.sw3, r.data.as_bytes()), (Sw3::FindOk, &[0u8; 4][..]));
    }

    #[test]
    fn reply_select_ok() {
        let mut f =
            vec![0xAA, 0xAA, 0xAA, 0x96, 0x69, /* len */ 0x00, 0x0C, /* SW */ 0x00, 0x00, 0x90];
        f.extend([0u8; 8]); // card serial, zeros in practice
        f.push(0x9C); // CHK = 00^0C^90
        let r = one(&f).unwrap().unwrap();
        assert_eq!((r.sw3, r.data.len()), (Sw3::Success, 8));
    }

    #[test]
    fn reply_read_text_photo_is_1295_bytes() {
        let text = [0x20u8; 256];
        let photo = [0x5Au8; 1024];
        let mut data = vec![0x01, 0x00, 0x04, 0x00]; // textLen 256, photoLen 1024
        data.extend_from_slice(&text);
        data.extend_from_slice(&photo);
        let f = encode_reply(Sw3::Success, &data);
        assert_eq!(f.len(), 1295);
        // §1.5: header AA AA AA 96 69 05 08 00 00 90 01 00 04 00, text at 14, CHK at 1294.
        assert_eq!(
            &f[..14],
            &[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x05, 0x08, 0x00, 0x00, 0x90, 0x01, 0x00, 0x04, 0x00]
        );
        let r = one(&f).unwrap().unwrap();
        assert_eq!(r.data.as_bytes(), &data[..]);
    }

    #[test]
    fn a_partial_frame_needs_more_and_is_left_alone() {
        let f = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00];
        let mut buf = BytesMut::from(&f[..]);
        assert_eq!(decode(&mut buf), Ok(None));
        assert_eq!(&buf[..], &f[..]);
    }

    #[test]
    fn garbage_before_a_frame_is_dropped() {
        let f = [0x13, 0x37, 0xAA, 0x00, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x94];
        let mut buf = BytesMut::from(&f[..]);
        assert_eq!(decode(&mut buf).unwrap().unwrap().sw3, Sw3::Success);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_bad_checksum_is_reported_and_consumed() {
        let f = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x6B];
        let mut buf = BytesMut::from(&f[..]);
        assert_eq!(decode(&mut buf), Err(DecodeError::BadChecksum { expected: 0x94, actual: 0x6B }));
        assert!(buf.is_empty());
    }

    #[test]
    fn impossible_lengths_and_unknown_status_are_errors() {
        let short = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x02, 0x00, 0x02];
        assert_eq!(one(&short), Err(DecodeError::BadLength(2)));
        let huge = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF];
        assert_eq!(one(&huge), Err(DecodeError::BadLength(0xFFFF)));
        let unknown = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x55, 0x51];
        assert_eq!(one(&unknown), Err(DecodeError::UnknownStatus(0x55)));
    }

    #[test]
    fn requests_decode_and_faulty_requests_map_to_sam_codes() {
        let mut buf = BytesMut::from(&encode(Command::FindCard)[..]);
        assert_eq!(decode_request(&mut buf), Ok(Some(Command::FindCard)));
        // Bad XOR → 10.
        let mut bad = BytesMut::from(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x23][..]);
        assert_eq!(decode_request(&mut bad).unwrap_err().sw3(), Sw3::HostChecksum);
        // Length 0 (found by the fuzz test: it used to slice backwards) → 11.
        let mut zero = BytesMut::from(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x00][..]);
        assert_eq!(decode_request(&mut zero).unwrap_err().sw3(), Sw3::HostLength);
        // Length 1 → 11.
        let mut short = BytesMut::from(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x01, 0x01][..]);
        assert_eq!(decode_request(&mut short).unwrap_err().sw3(), Sw3::HostLength);
        // 01 FF → 21.
        let mut unknown = BytesMut::from(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x01, 0xFF, 0xFD][..]);
        assert_eq!(decode_request(&mut unknown).unwrap_err().sw3(), Sw3::BadCommand);
    }

    proptest! {
        #[test]
        fn decoders_never_panic_and_always_progress(data in proptest::collection::vec(any::<u8>(), 0..1400)) {
            crate::fuzz::sam_reply(&data);
            crate::fuzz::sam_request(&data);
        }

        #[test]
        fn encoded_replies_decode_to_themselves(sw3 in proptest::sample::select(Sw3::ALL.to_vec()),
                                                data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let r = decode(&mut BytesMut::from(&encode_reply(sw3, &data)[..])).unwrap().unwrap();
            prop_assert_eq!(r.sw3, sw3);
            prop_assert_eq!(r.data.as_bytes(), &data[..]);
        }
    }
}
