//! The raw ESC/POS commands escpos-rs 0.20 lacks (hardware.md §4.1, §4.3), as documented byte
//! strings. Everything else (init, alignment, bold, size, text, QR) goes through the escpos
//! crate's `Printer`; see [`crate::job`].

/// `FS &` (`1C 26`): select Chinese (double-byte) mode, so GB18030 byte pairs print as Hanzi.
/// Power-on default on most Chinese printers, sent anyway (§4.1 [C] P10–P12).
pub const CHINESE_MODE_ON: [u8; 2] = [0x1C, 0x26];

/// `FS .` (`1C 2E`): cancel Chinese mode.
pub const CHINESE_MODE_OFF: [u8; 2] = [0x1C, 0x2E];

/// `GS V 66 0` (`1D 56 42 00`): feed to the cutter and cut partially (§4.1 cut note: the form
/// the driver sends; escpos-rs's `partial_cut` is really a full cut on Epson-compatibles).
pub const PARTIAL_CUT: [u8; 4] = [0x1D, 0x56, 0x42, 0x00];

/// `GS r 1` (`1D 72 01`): non-real-time paper sensor status, answered after buffered data.
pub const PAPER_STATUS: [u8; 3] = [0x1D, 0x72, 0x01];

/// Code 128 height in dots (`GS h n`).
pub const CODE128_HEIGHT: u8 = 60;

/// Why a barcode cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// Code 128 set B carries printable ASCII only.
    #[error("code 128 data must be printable ASCII")]
    NotAscii,
    /// Empty or over the one-byte length field.
    #[error("code 128 data must be 1..=253 bytes")]
    BadLength,
}

/// `GS k 73 n {B data` (`1D 6B 49 n 7B 42 …`), with height `GS h`, module width `GS w 2` and
/// human-readable text below (`GS H 2`) first. Numeric data of even length uses code set C
/// (`{C`, one byte per digit pair: half the bars) (§4.1 [C] E5).
pub fn code128(data: &str) -> Result<Vec<u8>, CommandError> {
    if !data.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
        return Err(CommandError::NotAscii);
    }
    let body: Vec<u8> =
        if !data.is_empty() && data.len().is_multiple_of(2) && data.bytes().all(|b| b.is_ascii_digit()) {
            let mut v = vec![b'{', b'C'];
            v.extend(data.as_bytes().chunks(2).map(|p| (p[0] - b'0') * 10 + (p[1] - b'0')));
            v
        } else {
            // In code set B a `{` starts a code-set switch, so a literal one is sent as `{{`.
            let mut v = vec![b'{', b'B'];
            for &b in data.as_bytes() {
                if b == b'{' {
                    v.push(b'{');
                }
                v.push(b);
            }
            v
        };
    if data.is_empty() || body.len() > 255 {
        return Err(CommandError::BadLength);
    }
    let mut cmd = vec![0x1D, 0x68, CODE128_HEIGHT, 0x1D, 0x77, 0x02, 0x1D, 0x48, 0x02, 0x1D, 0x6B, 0x49];
    cmd.push(body.len() as u8);
    cmd.extend(body);
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_mode_and_partial_cut_bytes() {
        assert_eq!(CHINESE_MODE_ON, [0x1C, 0x26]); // §4.1 FS & select Chinese mode
        assert_eq!(CHINESE_MODE_OFF, [0x1C, 0x2E]); // §4.1 FS . cancel
        assert_eq!(PARTIAL_CUT, [0x1D, 0x56, 0x42, 0x00]); // §4.1 GS V 66 n=0: partial cut
        assert_eq!(PAPER_STATUS, [0x1D, 0x72, 0x01]); // §4.1 GS r 1
    }

    #[test]
    fn code128_set_b() {
        let cmd = code128("YZK-1").unwrap();
        assert_eq!(
            cmd,
            vec![
                0x1D, 0x68, 60, // GS h 60: bar height
                0x1D, 0x77, 0x02, // GS w 2: module width
                0x1D, 0x48, 0x02, // GS H 2: HRI text below
                0x1D, 0x6B, 0x49, // GS k 73: CODE128, length-prefixed
                0x07, // n = 2 ("{B") + 5 data bytes
                0x7B, 0x42, // "{B": code set B
                b'Y', b'Z', b'K', b'-', b'1',
            ]
        );
    }

    #[test]
    fn code128_numeric_uses_set_c_pairs() {
        let cmd = code128("310042").unwrap();
        assert_eq!(&cmd[9..], &[0x1D, 0x6B, 0x49, 0x05, 0x7B, 0x43, 31, 0, 42]);
        // "{C" + pairs 31 00 42
    }

    #[test]
    fn code128_sends_a_literal_brace_as_two() {
        let cmd = code128("A{B").unwrap();
        assert_eq!(&cmd[cmd.len() - 7..], &[0x06, b'{', b'B', b'A', b'{', b'{', b'B']);
    }

    #[test]
    fn code128_refuses_what_it_cannot_carry() {
        assert_eq!(code128(""), Err(CommandError::BadLength));
        assert_eq!(code128("户号"), Err(CommandError::NotAscii));
        assert_eq!(code128(&"A".repeat(254)), Err(CommandError::BadLength));
    }
}
