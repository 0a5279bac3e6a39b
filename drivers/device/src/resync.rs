//! Resynchronising on a noisy line: drop the garbage in front of the next frame start.
//!
//! Decoders call these before parsing, so a burst of line noise or the tail of an earlier,
//! abandoned reply never turns into a mis-parsed frame. They return how many bytes were dropped;
//! the caller logs the count (never the bytes: they may be part of a payment code).

use bytes::{Buf, BytesMut};

/// Drops bytes until `buf` starts with `start`, or until only a possible partial `start` remains
/// at its end. Returns the number of bytes dropped. An empty `start` drops nothing.
pub fn skip_until(buf: &mut BytesMut, start: &[u8]) -> usize {
    if start.is_empty() {
        return 0;
    }
    if let Some(at) = buf.windows(start.len()).position(|w| w == start) {
        buf.advance(at);
        return at;
    }
    // Keep the longest suffix that is a prefix of `start`: the frame may be arriving.
    let keep =
        (1..start.len()).rev().find(|&k| k <= buf.len() && buf[buf.len() - k..] == start[..k]).unwrap_or(0);
    let dropped = buf.len() - keep;
    buf.advance(dropped);
    dropped
}

/// Drops bytes until the first byte for which `is_start` holds. Returns the number dropped.
pub fn skip_while_not(buf: &mut BytesMut, is_start: impl Fn(u8) -> bool) -> usize {
    let at = buf.iter().position(|&b| is_start(b)).unwrap_or(buf.len());
    buf.advance(at);
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn garbage_before_a_frame_start_is_dropped() {
        // hardware.md §1.2: an ID reader frame starts AA AA AA 96 69; two noise bytes precede it.
        let mut buf = BytesMut::from(&[0x00, 0xFF, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00][..]);
        assert_eq!(skip_until(&mut buf, &[0xAA, 0xAA, 0xAA, 0x96, 0x69]), 2);
        assert_eq!(&buf[..], &[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00]);
    }

    #[test]
    fn a_partial_start_at_the_end_is_kept() {
        let mut buf = BytesMut::from(&[0x01, 0x02, 0xAA, 0xAA][..]);
        assert_eq!(skip_until(&mut buf, &[0xAA, 0xAA, 0xAA, 0x96, 0x69]), 2);
        assert_eq!(&buf[..], &[0xAA, 0xAA]);
    }

    #[test]
    fn no_start_at_all_drops_everything() {
        let mut buf = BytesMut::from(&[0x01, 0x02, 0x03][..]);
        assert_eq!(skip_until(&mut buf, &[0xF2]), 3);
        assert!(buf.is_empty());
    }

    #[test]
    fn skip_while_not_stops_at_the_start_byte() {
        // hardware.md §2.1: CRT-591 frames start with F2.
        let mut buf = BytesMut::from(&[0x31, 0x32, 0xF2, 0x00][..]);
        assert_eq!(skip_while_not(&mut buf, |b| b == 0xF2), 2);
        assert_eq!(buf[0], 0xF2);
    }

    proptest! {
        #[test]
        fn skip_until_never_panics_and_never_drops_a_start(data in proptest::collection::vec(any::<u8>(), 0..64),
                                                          start in proptest::collection::vec(any::<u8>(), 0..4)) {
            let mut buf = BytesMut::from(&data[..]);
            let dropped = skip_until(&mut buf, &start);
            prop_assert_eq!(dropped + buf.len(), data.len());
            if !start.is_empty() && data.windows(start.len()).any(|w| w == &start[..]) {
                prop_assert!(buf.starts_with(&start));
            }
        }
    }
}
