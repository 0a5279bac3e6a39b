//! Every decoder against arbitrary bytes, a million inputs, no panic (`issues show 4`).
//!
//! ```sh
//! cargo test -p idcard --test fuzz -- --ignored   # 1,000,000 inputs per decoder
//! ```
//! The default run (`cargo test -p idcard`) does 20,000. Inputs are half uniform noise and half
//! "almost frames" (a real preamble or STX, a plausible length, random body), so the deep paths
//! (checksum, status, text block) are reached, not only resync.

use idcard::fuzz;
use simkit::rng::SplitMix64;

fn input(rng: &mut SplitMix64, out: &mut Vec<u8>) {
    out.clear();
    let len = rng.below(320) as usize;
    match rng.below(4) {
        0 | 1 => out.extend((0..len).map(|_| rng.next_u64() as u8)),
        2 => {
            // SAM-shaped: preamble, length near the body, SW1 SW2 SW3 from the real set or not.
            out.extend_from_slice(&[0xAA, 0xAA, 0xAA, 0x96, 0x69]);
            let body = len.min(300);
            let field = (body as i64 + rng.below(5) as i64 - 2).max(0) as u16;
            out.extend_from_slice(&field.to_be_bytes());
            out.extend((0..body).map(|_| rng.next_u64() as u8));
            if rng.below(2) == 0 && out.len() > 7 {
                let chk = out[5..out.len() - 1].iter().fold(0, |a, b| a ^ b);
                *out.last_mut().unwrap() = chk;
            }
        }
        _ => {
            // Slot-shaped: control bytes and STX frames; button-shaped text.
            for _ in 0..1 + rng.below(4) as usize {
                match rng.below(4) {
                    0 => out.push([0x02, 0x04, 0x05, 0x06, 0x15][rng.below(5) as usize]),
                    1 => out.extend_from_slice(b"BTN 1\r\n"),
                    _ => {
                        let text = 1 + rng.below(12) as usize;
                        out.push(0x02);
                        out.extend_from_slice(&(text as u16).to_be_bytes());
                        out.push([0x50, 0x4E][rng.below(2) as usize]);
                        out.extend((1..text).map(|_| rng.next_u64() as u8));
                        out.push(0x03);
                        let bcc = out.iter().rev().take(text + 4).fold(0, |a, b| a ^ b);
                        out.push(bcc);
                    }
                }
            }
        }
    }
}

fn run(n: u64, seed: u64) {
    let mut rng = SplitMix64::new(seed);
    let mut buf = Vec::with_capacity(400);
    let mut items = 0usize;
    for _ in 0..n {
        input(&mut rng, &mut buf);
        items += fuzz::sam_reply(&buf);
        items += fuzz::sam_request(&buf);
        items += fuzz::slot_reply(&buf);
        items += fuzz::slot_host(&buf);
        items += fuzz::button_lines(&buf);
        fuzz::text_block(&buf);
    }
    assert!(items > 0, "the generator reached the decoders' frame paths");
}

#[test]
fn twenty_thousand_inputs_through_every_decoder() {
    run(20_000, 1);
}

#[test]
#[ignore = "long: cargo test -p idcard --test fuzz -- --ignored"]
fn million_inputs_through_every_decoder() {
    run(1_000_000, 0x1D_CA8D);
}
