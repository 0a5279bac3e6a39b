//! ID-003 frames (hardware.md §9): `SYNC FC · LNG · CMD · DATA… · CRC_L CRC_H`.
//!
//! LNG counts the whole frame, SYNC and CRC included, so the shortest frame (no data) is five
//! bytes. The CRC is CRC-16/CCITT in its reflected "Kermit" form (polynomial 0x1021 reflected,
//! initial value 0, no final XOR) over SYNC … DATA, sent low byte first. Both directions use the
//! same frame; the host polls and the acceptor only answers.
//!
//! A damaged frame is dropped without a word to the caller: the exchange then times out and
//! a harmless command is sent again ([`crate::acceptor`]).

use bytes::{Buf, BytesMut};

/// First byte of every frame.
pub const SYNC: u8 = 0xFC;
/// SYNC, LNG, CMD and the two CRC bytes: the frame without data.
pub const MIN_LEN: usize = 5;

const KERMIT: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT);

/// CRC-16/Kermit of `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    KERMIT.checksum(bytes)
}

/// One frame's command byte and data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// CMD: a command (host → acceptor) or a status or echo (acceptor → host).
    pub cmd: u8,
    /// DATA, possibly empty.
    pub data: Vec<u8>,
}

/// The frame of `cmd` and `data`. ID-003 frames never carry more than 250 data bytes; the
/// commands this crate builds carry at most two.
pub fn encode(cmd: u8, data: &[u8]) -> Vec<u8> {
    let len = u8::try_from(MIN_LEN + data.len()).expect("an ID-003 frame is at most 255 bytes");
    let mut out = Vec::with_capacity(usize::from(len));
    out.extend_from_slice(&[SYNC, len, cmd]);
    out.extend_from_slice(data);
    let crc = crc16(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Takes the next whole frame with a good CRC from `buf`; `None` until one has arrived.
///
/// Every SYNC byte in the buffer starts a candidate. Noise before the first candidate, and
/// candidates that are whole but damaged (a length shorter than a frame, a CRC that does not
/// hold), are dropped. A candidate still waiting for its bytes does not hide a good frame after
/// it: a stray SYNC in noise whose "length" reaches past the real reply must not stall the read
/// until the inter-byte timeout, nor make the exchange fail with the good frame unread.
pub fn take_frame(buf: &mut BytesMut) -> Option<Frame> {
    let mut damaged = 0usize;
    let mut first_waiting = None;
    let mut at = 0;
    while let Some(offset) = buf[at..].iter().position(|&b| b == SYNC) {
        let start = at + offset;
        at = start + 1;
        match candidate(&buf[start..]) {
            Candidate::Good(frame, len) => {
                if damaged > 0 || start > 0 {
                    tracing::debug!(dropped = start, damaged, "ID-003 noise or damaged frames dropped");
                }
                buf.advance(start + len);
                return Some(frame);
            }
            Candidate::Waiting => {
                first_waiting.get_or_insert(start);
            }
            Candidate::Damaged => damaged += 1,
        }
    }
    // Nothing good yet: keep only what may still become a frame.
    let keep_from = first_waiting.unwrap_or(buf.len());
    buf.advance(keep_from);
    None
}

enum Candidate {
    /// A whole frame with a good CRC, and its length.
    Good(Frame, usize),
    /// Too short yet to tell.
    Waiting,
    /// Whole and wrong.
    Damaged,
}

/// What the bytes from one SYNC byte on are.
fn candidate(bytes: &[u8]) -> Candidate {
    let Some(&len) = bytes.get(1) else { return Candidate::Waiting };
    let len = usize::from(len);
    if len < MIN_LEN {
        return Candidate::Damaged;
    }
    if bytes.len() < len {
        return Candidate::Waiting;
    }
    let crc = u16::from_le_bytes([bytes[len - 2], bytes[len - 1]]);
    if crc != crc16(&bytes[..len - 2]) {
        return Candidate::Damaged;
    }
    Candidate::Good(Frame { cmd: bytes[2], data: bytes[3..len - 2].to_vec() }, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_request_frame() {
        // The frame every ID-003 host sends most: status request.
        let want = [
            0xFC, // SYNC
            0x05, // LNG: the whole frame, five bytes
            0x11, // CMD: status request
            0x27, // CRC-16/Kermit of FC 05 11 = 0x5627, low byte first
            0x56, // CRC high byte
        ];
        assert_eq!(encode(0x11, &[]), want);
    }

    #[test]
    fn the_kermit_check_value() {
        // The catalogue check value of CRC-16/KERMIT: "123456789" → 0x2189.
        assert_eq!(crc16(b"123456789"), 0x2189);
    }

    #[test]
    fn a_frame_with_data() {
        // Inhibit on: SYNC, LNG 06, CMD C3, DATA 01, CRC C78D sent 8D C7.
        assert_eq!(encode(0xC3, &[0x01]), [0xFC, 0x06, 0xC3, 0x01, 0x8D, 0xC7]);
    }

    #[test]
    fn noise_and_a_damaged_frame_are_skipped_and_the_next_frame_is_read() {
        // Noise 00 FC (a stray SYNC whose "length" is 0x00), a VEND VALID with its CRC's
        // high byte damaged (FC 05 15 03 11, should be 03 10), then a good STACKED
        // (FC 05 16 98 22).
        let mut buf = BytesMut::from(
            &[0x00, 0xFC, 0x00, 0xFC, 0x05, 0x15, 0x03, 0x11, 0xFC, 0x05, 0x16, 0x98, 0x22][..],
        );
        assert_eq!(take_frame(&mut buf), Some(Frame { cmd: 0x16, data: vec![] }));
        assert!(buf.is_empty());
    }

    #[test]
    fn a_stray_sync_with_a_long_length_does_not_hide_the_reply_behind_it() {
        // Noise FC F0 (a "frame" of 240 bytes that will never come), then ENABLE FC 05 11 27 56.
        let mut buf = BytesMut::from(&[0xFC, 0xF0, 0xFC, 0x05, 0x11, 0x27, 0x56][..]);
        assert_eq!(take_frame(&mut buf), Some(Frame { cmd: 0x11, data: vec![] }));
    }

    #[test]
    fn a_damaged_frame_alone_leaves_nothing_to_wait_for() {
        // VEND VALID with a damaged CRC and nothing after it.
        let mut buf = BytesMut::from(&[0xFC, 0x05, 0x15, 0x03, 0x11][..]);
        assert_eq!(take_frame(&mut buf), None);
        assert!(buf.is_empty(), "nothing in it can still become a frame");
    }

    #[test]
    fn a_frame_in_two_pieces_waits_for_the_second() {
        // ESCROW with escrow code 0x63: FC 06 13 63 A2 D8.
        let mut buf = BytesMut::from(&[0xFC, 0x06, 0x13][..]);
        assert_eq!(take_frame(&mut buf), None);
        buf.extend_from_slice(&[0x63, 0xA2, 0xD8]);
        assert_eq!(take_frame(&mut buf), Some(Frame { cmd: 0x13, data: vec![0x63] }));
    }
}
