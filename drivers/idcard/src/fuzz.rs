//! Harnesses that push arbitrary bytes through every decoder of this crate and check that each
//! call either waits for more bytes or consumes some (no panic, no endless loop). Used by the
//! property tests and by the million-input test in `tests/fuzz.rs`.

use bytes::BytesMut;

fn drain<T, E>(data: &[u8], mut decode: impl FnMut(&mut BytesMut) -> Result<Option<T>, E>) -> usize {
    // Fed whole and in two halves, as a serial line delivers it.
    let mut items = 0;
    for split in [data.len(), data.len() / 2] {
        let mut buf = BytesMut::new();
        for part in [&data[..split], &data[split..]] {
            buf.extend_from_slice(part);
            loop {
                let before = buf.len();
                match decode(&mut buf) {
                    Ok(None) => break,
                    Ok(Some(_)) | Err(_) => {
                        assert!(buf.len() < before, "decoder made no progress");
                        items += 1;
                    }
                }
            }
        }
    }
    items
}

/// SAM replies.
pub fn sam_reply(data: &[u8]) -> usize {
    drain(data, crate::codec::decode)
}

/// SAM requests (the simulator's decoder).
pub fn sam_request(data: &[u8]) -> usize {
    drain(data, crate::codec::decode_request)
}

/// Slot replies (the shared CRT-310 decoder).
pub fn slot_reply(data: &[u8]) -> usize {
    drain(data, device::crt310::decode_inbound)
}

/// Slot host frames, as the simulator reads them: a frame, then its command text.
pub fn slot_host(data: &[u8]) -> usize {
    drain(data, |b: &mut BytesMut| {
        device::crt310::take_frame(b).map(|text| text.map(|t| device::crt310::Command::from_text(&t)))
    })
}

/// Button lines.
pub fn button_lines(data: &[u8]) -> usize {
    drain(data, crate::button::decode_line)
}

/// The text block parser (the first 256 bytes, zero-padded).
pub fn text_block(data: &[u8]) -> bool {
    let mut block = [0u8; crate::text::TEXT_LEN];
    let n = data.len().min(block.len());
    block[..n].copy_from_slice(&data[..n]);
    crate::text::IdCard::from_block(&block, Vec::new()).is_ok()
}
