//! CRT-310 frames on the wire (hardware.md §2.1): building one, finding and checking one at the
//! front of a buffer (with resynchronisation on garbage), and the one-byte control characters.
//!
//! ```text
//! STX(02) LENH LENL text ETX(03) BCC      LEN = bytes of text (CM PM data), big-endian
//!                                         BCC = XOR of every byte from STX to ETX
//! ACK(06) NAK(15) ENQ(05) EOT(04)         one-byte handshake / control characters
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
/// Most text bytes of a frame: CM PM and [`MAX_DATA`] data bytes. The one length rule of every
/// CRT-310 frame, both directions.
pub const MAX_TEXT: usize = MAX_DATA + 2;
/// LEN values a frame may carry: at least CM PM, at most [`MAX_TEXT`].
pub const TEXT_LEN: RangeInclusive<usize> = 2..=MAX_TEXT;

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
/// A LEN outside [`TEXT_LEN`] is a [`FrameError::BadLength`].
pub fn take_frame(buf: &mut BytesMut) -> Result<Option<Vec<u8>>, FrameError> {
    let dropped = resync(buf, &[]);
    if dropped > 0 {
        tracing::debug!(dropped, "crt310: dropped bytes before STX");
    }
    if buf.len() < 3 {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([buf[1], buf[2]]));
    if !TEXT_LEN.contains(&len) {
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
pub fn take_unit(buf: &mut BytesMut, controls: &[u8]) -> Result<Option<Unit>, FrameError> {
    let Some(&first) = buf.first() else { return Ok(None) };
    if controls.contains(&first) {
        buf.advance(1);
        return Ok(Some(Unit::Control(first)));
    }
    Ok(take_frame(buf)?.map(Unit::Text))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The other worked frames of hardware.md §2.1, laid out like the one above: STX, LEN 00 02,
    /// CM, PM, ETX, then BCC (the XOR of everything before it, worked out in each comment).
    #[test]
    fn the_other_worked_frames() {
        let worked: [(&str, [u8; 2], [u8; 7]); 4] = [
            // CM 31 status, PM 30 reader status; BCC 02 = 02^00^02^31^30^03.
            ("status", [0x31, 0x30], [0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02]),
            // CM 32 move card, PM 2F IC contact position; BCC 1E = 02^00^02^32^2F^03.
            ("move to IC", [0x32, 0x2F], [0x02, 0x00, 0x02, 0x32, 0x2F, 0x03, 0x1E]),
            // CM 32 move card, PM 33 rear, no hold; BCC 02 = 02^00^02^32^33^03.
            ("to rear (capture)", [0x32, 0x33], [0x02, 0x00, 0x02, 0x32, 0x33, 0x03, 0x02]),
            // CM 37 CPU card, PM 30 cold reset; BCC 04 = 02^00^02^37^30^03.
            ("CPU cold reset", [0x37, 0x30], [0x02, 0x00, 0x02, 0x37, 0x30, 0x03, 0x04]),
        ];
        for (name, text, want) in worked {
            assert_eq!(encode(&text), want, "{name}");
        }
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
        assert_eq!(take_frame(&mut buf), Ok(Some(vec![0x4E, 0x32, 0x06])));
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
        assert_eq!(take_frame(&mut buf), Ok(Some(vec![0x31, 0x30])));
        assert!(buf.is_empty());
    }

    #[test]
    fn a_partial_frame_needs_more_and_is_left_alone() {
        let full = [0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02];
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            assert_eq!(take_frame(&mut buf), Ok(None));
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
        assert_eq!(take_frame(&mut buf), Err(FrameError::BadBcc { expected: 0x02, actual: 0xFD }));
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
        assert_eq!(take_frame(&mut buf), Err(FrameError::MissingEtx));
        assert_eq!(buf.len(), 6);
        let mut buf = BytesMut::from(&[0x02, /* LEN */ 0x01, 0x0B][..]);
        assert_eq!(take_frame(&mut buf), Err(FrameError::BadLength(0x010B)));
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
            match take_unit(&mut buf, &controls) {
                Ok(Some(u)) => units.push(u),
                Ok(None) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(units, [Unit::Control(ACK), Unit::Text(vec![0x32, 0x31]), Unit::Control(EOT)]);
    }
}
