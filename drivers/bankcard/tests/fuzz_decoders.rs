//! Every decoder over arbitrary bytes: never a panic, always progress (an error consumes bytes,
//! "need more" consumes none). A quick proptest run by default; a million inputs with
//! `cargo test -p bankcard --release --test fuzz_decoders -- --ignored million`.

use bankcard::codec::{decode_frame, encode_frame, Frame, Request, Response, REQUEST_LEN, RESPONSE_LEN};
use bankcard::frame::{MaskedPan, RespCode, TransType};
use bytes::BytesMut;
use device::crt310::{decode_inbound, take_frame};
use proptest::prelude::*;

/// Runs every decoder over `bytes` and checks the progress rule.
fn exercise(bytes: &[u8]) {
    let mut buf = BytesMut::from(bytes);
    loop {
        let before = buf.len();
        match decode_frame(&mut buf) {
            Ok(None) => {
                assert_eq!(buf.len(), before, "need-more consumes nothing");
                break;
            }
            Ok(Some(Frame::Data(rec))) => {
                assert!(buf.len() < before);
                let _ = Request::decode(&rec);
                let _ = Response::decode(&rec);
            }
            Ok(Some(_)) | Err(_) => assert!(buf.len() < before, "progress"),
        }
    }
    let _ = Request::decode(bytes);
    let _ = Response::decode(bytes);
    for decode in [slot_reply as fn(&mut BytesMut) -> bool, slot_host] {
        let mut buf = BytesMut::from(bytes);
        while decode(&mut buf) {}
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Some(p) = MaskedPan::new(text) {
            assert!(p.as_receipt_text().bytes().filter(u8::is_ascii_digit).count() <= 10);
        }
    }
    if bytes.len() >= 2 {
        let code = [bytes[0], bytes[1]];
        let _ = RespCode(code).verdict();
        let _ = TransType::try_from(code);
    }
}

fn slot_reply(buf: &mut BytesMut) -> bool {
    let before = buf.len();
    match decode_inbound(buf) {
        Ok(None) => false,
        _ => {
            assert!(buf.len() < before, "slot reply decoder progress");
            true
        }
    }
}

fn slot_host(buf: &mut BytesMut) -> bool {
    let before = buf.len();
    match take_frame(buf).map(|t| t.map(|t| bankcard::slot::codec::SlotCommand::from_text(&t))) {
        Ok(None) if buf.len() == before => false,
        _ => {
            assert!(buf.len() < before, "slot host decoder progress");
            true
        }
    }
}

/// A well-framed record of a real record length with random, mostly printable contents, so the
/// field parsers (not just the framing) see odd input.
fn framed_record(len: usize, noise: impl Iterator<Item = u8>) -> Vec<u8> {
    let rec: Vec<u8> = noise.take(len).collect();
    encode_frame(&rec).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn framed_random_records_never_panic(
        seed in proptest::collection::vec(prop_oneof![Just(b' '), Just(b'0'), 0x20u8..0x7F, any::<u8>()], RESPONSE_LEN),
        request in any::<bool>(),
        prefix in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let len = if request { REQUEST_LEN } else { RESPONSE_LEN };
        let mut bytes = prefix;
        bytes.extend(framed_record(len, seed.into_iter()));
        exercise(&bytes);
    }

    #[test]
    fn any_record_survives_framing_behind_garbage(
        rec in proptest::collection::vec(any::<u8>(), 0..300),
        noise in proptest::collection::vec(any::<u8>().prop_filter("not a frame start", |b| ![0x02, 0x06, 0x15].contains(b)), 0..16),
    ) {
        let mut bytes = noise.clone();
        bytes.extend(encode_frame(&rec).unwrap());
        let mut buf = BytesMut::from(&bytes[..]);
        if !noise.is_empty() {
            prop_assert!(decode_frame(&mut buf).is_err());
        }
        prop_assert_eq!(decode_frame(&mut buf), Ok(Some(Frame::Data(rec))));
    }
}

/// A million inputs: a third raw noise, a third framed request-length records, a third framed
/// response-length records (slow in debug: use `--release`).
#[test]
#[ignore]
fn a_million_random_inputs() {
    let mut rng = simkit::rng::SplitMix64::new(0x0123_4567_89AB_CDEF);
    let mut next = move || rng.next_u64();
    for i in 0..1_000_000u32 {
        let bytes = match i % 3 {
            0 => {
                let len = (next() % 320) as usize;
                (0..len).map(|_| next() as u8).collect::<Vec<u8>>()
            }
            k => {
                let len = if k == 1 { REQUEST_LEN } else { RESPONSE_LEN };
                let noise: Vec<u8> = (0..len)
                    .map(|_| match next() % 8 {
                        0 => next() as u8,
                        1..=3 => b' ',
                        4..=5 => b'0' + (next() % 10) as u8,
                        _ => 0x20 + (next() % 95) as u8,
                    })
                    .collect();
                framed_record(len, noise.into_iter())
            }
        };
        exercise(&bytes);
    }
}
