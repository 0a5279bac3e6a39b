//! Property tests: any bytes, in any split, never panic a decoder, and errors always consume.
//!
//! Default 4096 cases per property; a long run (the issue asks for ≥ 1 M inputs):
//! `PROPTEST_CASES=1000000 cargo test -p scanner --release --test codec_props`.

use bytes::BytesMut;
use proptest::prelude::*;
use scanner::codec::{decode_host, Decoder, MAX_FRAME};
use scanner::Reply;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(4096)
}

/// Bytes biased towards the protocol's own alphabet, so the interesting paths are reached.
fn wire_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        any::<u8>(),
        Just(0x0D),
        Just(0x0A),
        Just(0x06),
        Just(0x15),
        Just(0x05),
        Just(0x02),
        Just(0x03),
        Just(b';'),
        Just(b'.'),
        Just(b'!'),
        Just(0x16),
        Just(0x1B),
        Just(0x7E),
        (b'0'..=b'9'),
    ];
    prop::collection::vec(byte, 0..300)
}

/// Feeds `bytes` in chunks, decoding until `Ok(None)` after each, and checks the contract.
fn drive(bytes: &[u8], chunk: usize, awaiting_menu: bool) {
    let mut d = Decoder::new();
    if awaiting_menu {
        d.expect_menu_reply();
    }
    let mut buf = BytesMut::new();
    for part in bytes.chunks(chunk.max(1)) {
        buf.extend_from_slice(part);
        loop {
            let before = buf.len();
            match d.decode(&mut buf) {
                Ok(None) => break,
                Ok(Some(Reply::Scan(data))) => {
                    assert!(buf.len() < before);
                    assert!(data.len() <= MAX_FRAME);
                    assert!(!data.expose().contains(&0x0D));
                }
                Ok(Some(_)) => assert!(buf.len() < before),
                Err(e) => assert_eq!(before - buf.len(), e.dropped(), "errors consume what they report"),
            }
        }
        assert!(buf.len() <= MAX_FRAME + chunk, "the buffer stays bounded");
    }
    let _ = d.decode_idle(&mut buf);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn reply_decoder_never_panics(bytes in wire_bytes(), chunk in 1usize..40, menu in any::<bool>()) {
        drive(&bytes, chunk, menu);
    }

    #[test]
    fn reply_decoder_on_raw_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        drive(&bytes, bytes.len().max(1), false);
    }

    #[test]
    fn host_decoder_never_panics(bytes in wire_bytes(), chunk in 1usize..40) {
        let mut buf = BytesMut::new();
        for part in bytes.chunks(chunk) {
            buf.extend_from_slice(part);
            loop {
                let before = buf.len();
                match decode_host(&mut buf) {
                    Ok(None) => break,
                    Ok(Some(_)) => prop_assert!(buf.len() < before),
                    Err(e) => prop_assert_eq!(before - buf.len(), e.dropped()),
                }
            }
        }
    }

    #[test]
    fn a_scan_survives_any_garbage_before_it(noise in prop::collection::vec(0u8..0x20, 0..50)) {
        // Noise made only of control bytes (no CR/LF, which would end a frame of their own,
        // and no STX/status bytes, which start a reply): the code after it always comes out whole.
        let noise: Vec<u8> = noise.into_iter().filter(|b| ![0x0D, 0x0A, 0x02, 0x05, 0x06, 0x09].contains(b)).collect();
        let mut buf = BytesMut::from(&noise[..]);
        buf.extend_from_slice(b"134567890123456789\r");
        let mut d = Decoder::new();
        let mut got = None;
        for _ in 0..100 {
            match d.decode(&mut buf) {
                Ok(Some(Reply::Scan(data))) => { got = Some(data); break; }
                Ok(None) => break,
                _ => {}
            }
        }
        prop_assert_eq!(got.map(|d| d.expose().to_vec()), Some(b"134567890123456789".to_vec()));
    }
}
