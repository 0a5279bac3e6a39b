//! What the simulated SAM sends, written from hardware.md §1.2 and §1.4 and not with the driver's
//! codec: the simulator is a second opinion, so a misread length, checksum or status byte in the
//! driver cannot be mirrored here and go unseen.

use crate::frame::Sw3;

/// A reply frame: `AA AA AA 96 69`, the length (big-endian: SW1 SW2 SW3, the data and the
/// checksum), `00 00` SW3, the data, and the XOR of every byte from the length on.
pub(super) fn reply(sw3: Sw3, data: &[u8]) -> Vec<u8> {
    let len = 3 + data.len() + 1;
    let mut out =
        vec![0xAA, 0xAA, 0xAA, 0x96, 0x69, (len >> 8) as u8, (len & 0xFF) as u8, 0x00, 0x00, status(sw3)];
    out.extend_from_slice(data);
    let check = out[5..].iter().fold(0u8, |x, b| x ^ b);
    out.push(check);
    out
}

/// §1.4's table, by name.
fn status(sw3: Sw3) -> u8 {
    match sw3 {
        Sw3::Success => 0x90,
        Sw3::NoContent => 0x91,
        Sw3::FindOk => 0x9F,
        Sw3::HostChecksum => 0x10,
        Sw3::HostLength => 0x11,
        Sw3::BadCommand => 0x21,
        Sw3::Unauthorised => 0x23,
        Sw3::Unrecognised => 0x24,
        Sw3::CardAuthFailed => 0x31,
        Sw3::SamAuthFailed => 0x32,
        Sw3::InfoVerifyFailed => 0x33,
        Sw3::FingerprintError => 0x37,
        Sw3::InfoLength => 0x3F,
        Sw3::UnknownCardType => 0x40,
        Sw3::ReadFailed => 0x41,
        Sw3::RandomFailed => 0x47,
        Sw3::SelfTestFailed => 0x60,
        Sw3::SamNotAuthorised => 0x66,
        Sw3::FindFailed => 0x80,
        Sw3::SelectFailed => 0x81,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §1.4's canonical frames, as printed there.
    #[test]
    fn the_canonical_status_frames() {
        let head = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
        for (sw3, tail) in [
            (Sw3::FindFailed, [0x00, 0x04, 0x00, 0x00, 0x80, 0x84]),
            (Sw3::SelectFailed, [0x00, 0x04, 0x00, 0x00, 0x81, 0x85]),
            (Sw3::ReadFailed, [0x00, 0x04, 0x00, 0x00, 0x41, 0x45]),
            (Sw3::HostChecksum, [0x00, 0x04, 0x00, 0x00, 0x10, 0x14]),
            (Sw3::SelfTestFailed, [0x00, 0x04, 0x00, 0x00, 0x60, 0x64]),
            (Sw3::Success, [0x00, 0x04, 0x00, 0x00, 0x90, 0x94]),
        ] {
            assert_eq!(reply(sw3, &[]), [&head[..], &tail[..]].concat(), "{sw3:?}");
        }
    }
}
