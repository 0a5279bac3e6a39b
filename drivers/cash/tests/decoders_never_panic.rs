//! Any bytes at all from the line: the frame reader and the reply parser never panic, never
//! loop, and every frame they return carries a CRC that held. A long run:
//! `PROPTEST_CASES=1000000 cargo test -p cash --release --test decoders_never_panic`.

use bytes::BytesMut;
use cash::frame::{encode, take_frame};
use cash::reply::parse;
use proptest::prelude::*;

proptest! {
    #[test]
    fn arbitrary_bytes_are_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut buf = BytesMut::from(&bytes[..]);
        // Each call consumes at least one byte or waits for more: the loop ends.
        for _ in 0..=bytes.len() {
            match take_frame(&mut buf) {
                Some(frame) => {
                    let _ = parse(&frame);
                }
                None => break,
            }
        }
    }

    #[test]
    fn a_frame_survives_noise_around_it(
        noise in proptest::collection::vec(any::<u8>().prop_filter("not SYNC", |b| *b != 0xFC), 0..40),
        cmd in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..20),
    ) {
        let mut bytes = noise.clone();
        bytes.extend(encode(cmd, &data));
        let mut buf = BytesMut::from(&bytes[..]);
        let frame = take_frame(&mut buf).unwrap();
        prop_assert_eq!((frame.cmd, frame.data), (cmd, data));
    }

    #[test]
    fn one_flipped_bit_is_caught_by_the_crc(
        cmd in any::<u8>(),
        // No SYNC inside: a frame hidden in the data could hold by chance.
        data in proptest::collection::vec(any::<u8>().prop_filter("not SYNC", |b| *b != 0xFC), 0..8),
        pick in any::<u16>(),
    ) {
        let mut bytes = encode(cmd, &data);
        // A bit of CMD, DATA or the CRC (a damaged SYNC or LNG only changes where a frame is).
        let bits = (bytes.len() - 2) * 8;
        let bit = usize::from(pick) % bits;
        bytes[2 + bit / 8] ^= 1 << (bit % 8);
        let mut buf = BytesMut::from(&bytes[..]);
        prop_assert_eq!(take_frame(&mut buf), None, "a damaged frame was taken");
    }
}
