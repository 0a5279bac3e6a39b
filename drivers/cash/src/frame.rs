//! ID-003 frames (hardware.md §9): `SYNC FC · LNG · CMD · DATA… · CRC_L CRC_H`.
//!
//! LNG counts the whole frame, SYNC and CRC included, so the shortest frame (no data) is five
//! bytes. The CRC is CRC-16/CCITT in its reflected "Kermit" form (polynomial 0x1021 reflected,
//! initial value 0, no final XOR) over SYNC … DATA, sent low byte first. Both directions use the
//! same frame; the host polls and the acceptor only answers.

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

/// Why a frame was dropped. The decoder has already skipped past it: the next call reads on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// LNG is shorter than a frame can be.
    #[error("frame length {0} is shorter than the 5-byte minimum")]
    BadLength(u8),
    /// The CRC does not match: a damaged frame, or a SYNC byte inside noise.
    #[error("frame CRC {got:04X}, computed {want:04X}")]
    BadCrc {
        /// CRC carried by the frame.
        got: u16,
        /// CRC computed over it.
        want: u16,
    },
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

/// Takes the next frame from `buf`. Bytes before a SYNC are dropped; `Ok(None)` until a whole
/// frame has arrived. A frame with an impossible length or a bad CRC is reported after only its
/// SYNC byte is dropped, so a real frame that starts inside it is still found.
pub fn take_frame(buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
    let dropped = device::resync::skip_until(buf, &[SYNC]);
    if dropped > 0 {
        tracing::debug!(dropped, "bytes before an ID-003 SYNC dropped");
    }
    let Some(&len) = buf.get(1) else { return Ok(None) };
    if usize::from(len) < MIN_LEN {
        buf.advance(1);
        return Err(FrameError::BadLength(len));
    }
    let len = usize::from(len);
    if buf.len() < len {
        return Ok(None);
    }
    let want = crc16(&buf[..len - 2]);
    let got = u16::from_le_bytes([buf[len - 2], buf[len - 1]]);
    if got != want {
        buf.advance(1);
        return Err(FrameError::BadCrc { got, want });
    }
    let frame = Frame { cmd: buf[2], data: buf[3..len - 2].to_vec() };
    buf.advance(len);
    Ok(Some(frame))
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
        // high byte damaged, then a good STACKED (FC 05 16 98 22).
        let mut buf = BytesMut::from(
            &[0x00, 0xFC, 0x00, 0xFC, 0x05, 0x15, 0x03, 0x11, 0xFC, 0x05, 0x16, 0x98, 0x22][..],
        );
        assert_eq!(take_frame(&mut buf), Err(FrameError::BadLength(0x00)));
        assert!(matches!(take_frame(&mut buf), Err(FrameError::BadCrc { got: 0x1103, want: 0x1003 })));
        assert_eq!(take_frame(&mut buf), Ok(Some(Frame { cmd: 0x16, data: vec![] })));
        assert!(buf.is_empty());
    }

    #[test]
    fn a_frame_in_two_pieces_waits_for_the_second() {
        // ESCROW with escrow code 0x63: FC 06 13 63 A2 D8.
        let mut buf = BytesMut::from(&[0xFC, 0x06, 0x13][..]);
        assert_eq!(take_frame(&mut buf), Ok(None));
        buf.extend_from_slice(&[0x63, 0xA2, 0xD8]);
        assert_eq!(take_frame(&mut buf), Ok(Some(Frame { cmd: 0x13, data: vec![0x63] })));
    }
}
