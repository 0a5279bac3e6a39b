//! Every decoder over arbitrary bytes: no panic, and every call either waits for more bytes
//! without consuming any, or makes progress. A quick proptest run by default; the `#[ignore]`d
//! test pushes over a million inputs through each decoder
//! (`cargo test -p iccard --release --test decoders_never_panic -- --ignored`).

use bytes::BytesMut;
use device::crt310::{decode_inbound, parse_reply, take_frame, Command};
use device::sle4442::MemoryOp;
use iccard::ccid::apdu::MemoryApdu;
use iccard::ccid::codec::{decode_pc_to_rdr, decode_rdr_to_pc};
use iccard::ccid::usb::parse_class_descriptor;
use iccard::gas;
use proptest::prelude::*;
use simkit::rng::SplitMix64;

/// Drains `bytes` through a streaming decoder, checking progress; returns frames decoded.
fn drain<T, E>(bytes: &[u8], mut decode: impl FnMut(&mut BytesMut) -> Result<Option<T>, E>) -> usize {
    let mut buf = BytesMut::from(bytes);
    let mut frames = 0;
    loop {
        let before = buf.len();
        match decode(&mut buf) {
            Ok(Some(_)) => {
                frames += 1;
                assert!(buf.len() < before, "a frame consumes bytes");
            }
            Ok(None) => return frames,
            Err(_) => assert!(buf.len() < before, "an error consumes bytes"),
        }
    }
}

fn all_decoders(bytes: &[u8]) {
    drain(bytes, decode_inbound);
    drain(bytes, |buf| take_frame(buf).map(|text| text.map(|t| (parse_reply(&t), Command::from_text(&t)))));
    drain(bytes, decode_rdr_to_pc);
    drain(bytes, decode_pc_to_rdr);
    let _ = MemoryApdu::decode(bytes);
    let _ = parse_class_descriptor(bytes);
    let _ = gas::parse_image(bytes);
    if bytes.len() >= gas::SLOT_LEN {
        let _ = gas::parse_slot(0, bytes);
    }
    let _ = gas::decode_card_no(bytes);
    let _ = gas::decode_user_no(bytes);
}

/// Seeds that look like real traffic, for mutation.
fn seeds() -> Vec<Vec<u8>> {
    let mut v = vec![
        Command::Status.encode(),
        Command::from(MemoryOp::UpdateMain { addr: 0x40, data: vec![0xA5; 20] }).encode(),
        vec![0x02, 0x00, 0x05, 0x31, 0x30, 0x4B, 0x4A, 0x4E, 0x03, 0x4A],
        vec![0x80, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0x3B, 0x04, 0xA2, 0x13, 0x10, 0x91],
        vec![0x6F, 0x05, 0, 0, 0, 0, 1, 0, 0, 0, 0xFF, 0xB0, 0x00, 0x20, 0x40],
        vec![0x06, 0x15, 0x04, 0x05],
    ];
    let mut img = vec![0u8; gas::IMAGE_LEN];
    img[0] = gas::USER_CARD;
    v.push(img);
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        all_decoders(&bytes);
    }

    #[test]
    fn mutated_real_frames(seed in 0usize..7, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
                           cut in any::<usize>()) {
        let mut bytes = seeds()[seed].clone();
        for (at, x) in flips {
            let n = bytes.len();
            bytes[at % n] ^= x;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        all_decoders(&bytes);
    }
}

#[test]
#[ignore = "long: over a million inputs per decoder; run with --ignored (release recommended)"]
fn a_million_inputs_through_every_decoder() {
    // Seeded: a failure repeats.
    let mut rng = SplitMix64::new(0x1CCA_2D00);
    let seeds = seeds();
    let mut inputs = 0u64;
    let mut buf = Vec::with_capacity(512);
    while inputs < 1_200_000 {
        buf.clear();
        if rng.next_u64() & 1 == 0 {
            let len = (rng.next_u64() % 300) as usize;
            buf.extend((0..len).map(|_| rng.next_u64() as u8));
        } else {
            buf.extend_from_slice(&seeds[(rng.next_u64() % seeds.len() as u64) as usize]);
            for _ in 0..rng.next_u64() % 5 {
                let at = (rng.next_u64() as usize) % buf.len();
                buf[at] ^= rng.next_u64() as u8;
            }
            let keep = (rng.next_u64() as usize) % (buf.len() + 1);
            buf.truncate(keep);
        }
        all_decoders(&buf);
        inputs += 1;
    }
    assert!(inputs >= 1_000_000);
}
