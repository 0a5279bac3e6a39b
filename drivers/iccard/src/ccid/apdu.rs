//! ACR38-style pseudo-APDUs for SLE4442 memory cards (hardware.md §3.2, CCID/PC-SC column),
//! carried inside `PC_to_RDR_XfrBlock`. Builders for the driver, a parser for the simulator,
//! and the status-word rules.

use device::sle4442::MemoryOp;

/// `90 00`: done.
pub const SW_OK: u16 = 0x9000;
/// PSC verify answer when all three attempts remain afterwards: the PSC was right.
pub const SW_PSC_OK: u16 = 0x9007;
/// Wrong length / bad parameters.
pub const SW_WRONG_PARAMS: u16 = 0x6A86;
/// Operation failed on the card (write refused).
pub const SW_FAILED: u16 = 0x6281;
/// Security status not satisfied (write without a verified PSC).
pub const SW_SECURITY: u16 = 0x6982;
/// Instruction not supported.
pub const SW_INS_NOT_SUPPORTED: u16 = 0x6D00;

/// Card type byte of "select card type" for SLE4432/4442/4428-style 2-wire cards.
pub const CARD_TYPE_SLE4442: u8 = 0x06;

/// A pseudo-APDU the driver sends: selecting the card type, then the card's own operations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MemoryApdu {
    /// `FF A4 00 00 01 06`: select card type SLE4442.
    SelectSle4442,
    /// `FF B0 00 addr len` read, `FF B2 00 00 04` protection bits, `FF B1 00 00 04` security
    /// memory, `FF 20 00 00 03 p1 p2 p3` PSC, `FF D0 00 addr len data` update.
    Memory(MemoryOp),
}

impl From<MemoryOp> for MemoryApdu {
    fn from(op: MemoryOp) -> Self {
        MemoryApdu::Memory(op)
    }
}

impl MemoryApdu {
    /// The APDU's bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            MemoryApdu::SelectSle4442 => vec![0xFF, 0xA4, 0x00, 0x00, 0x01, CARD_TYPE_SLE4442],
            MemoryApdu::Memory(MemoryOp::ReadMain { addr, len }) => vec![0xFF, 0xB0, 0x00, *addr, *len],
            MemoryApdu::Memory(MemoryOp::ReadProtection) => vec![0xFF, 0xB2, 0x00, 0x00, 0x04],
            MemoryApdu::Memory(MemoryOp::ReadSecurity) => vec![0xFF, 0xB1, 0x00, 0x00, 0x04],
            MemoryApdu::Memory(MemoryOp::VerifyPsc(p)) => {
                vec![0xFF, 0x20, 0x00, 0x00, 0x03, p[0], p[1], p[2]]
            }
            MemoryApdu::Memory(MemoryOp::UpdateMain { addr, data }) => {
                let n = data.len().min(255);
                let mut v = vec![0xFF, 0xD0, 0x00, *addr, n as u8];
                v.extend_from_slice(&data[..n]);
                v
            }
        }
    }

    /// Parses an APDU (the simulator's side); `None` for anything else.
    pub fn decode(apdu: &[u8]) -> Option<Self> {
        Some(match apdu {
            [0xFF, 0xA4, 0x00, 0x00, 0x01, CARD_TYPE_SLE4442] => MemoryApdu::SelectSle4442,
            [0xFF, 0xB0, 0x00, addr, len] if *len > 0 => MemoryOp::ReadMain { addr: *addr, len: *len }.into(),
            [0xFF, 0xB2, 0x00, 0x00, 0x04] => MemoryOp::ReadProtection.into(),
            [0xFF, 0xB1, 0x00, 0x00, 0x04] => MemoryOp::ReadSecurity.into(),
            [0xFF, 0x20, 0x00, 0x00, 0x03, a, b, c] => MemoryOp::VerifyPsc([*a, *b, *c]).into(),
            [0xFF, 0xD0, 0x00, addr, len, data @ ..] if *len > 0 && usize::from(*len) == data.len() => {
                MemoryOp::UpdateMain { addr: *addr, data: data.to_vec() }.into()
            }
            _ => return None,
        })
    }
}

/// Splits a response into data and status word; `None` when shorter than 2 bytes.
pub fn split_sw(resp: &[u8]) -> Option<(&[u8], u16)> {
    let n = resp.len().checked_sub(2)?;
    Some((&resp[..n], u16::from_be_bytes([resp[n], resp[n + 1]])))
}

/// What a PSC verify answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VerifyAnswer {
    /// `90 07`: verified.
    Verified,
    /// `90 00`: the card is locked.
    Locked,
    /// `90 0x`: wrong; the error counter bitmap left.
    Wrong(u8),
    /// Any other status word.
    Other(u16),
}

impl VerifyAnswer {
    /// Interprets the status word of a verify.
    pub const fn from_sw(sw: u16) -> Self {
        match sw {
            SW_PSC_OK => VerifyAnswer::Verified,
            SW_OK => VerifyAnswer::Locked,
            0x9001..=0x9006 => VerifyAnswer::Wrong((sw & 0x07) as u8),
            other => VerifyAnswer::Other(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_pseudo_apdus() {
        // CLA FF, INS A4 select card type, P1 P2 00 00, Lc 01, type 06 (SLE4432/4442).
        assert_eq!(MemoryApdu::SelectSle4442.encode(), [0xFF, 0xA4, 0x00, 0x00, 0x01, 0x06]);
        // CLA FF, INS B0 read, P1 00, P2 = address 0x20, Le 0x80.
        assert_eq!(
            MemoryApdu::from(MemoryOp::ReadMain { addr: 0x20, len: 0x80 }).encode(),
            [0xFF, 0xB0, 0x00, 0x20, 0x80]
        );
        // CLA FF, INS B1 read security memory, 00 00, Le 4.
        assert_eq!(MemoryApdu::from(MemoryOp::ReadSecurity).encode(), [0xFF, 0xB1, 0x00, 0x00, 0x04]);
        // CLA FF, INS B2 read protection bits, 00 00, Le 4.
        assert_eq!(MemoryApdu::from(MemoryOp::ReadProtection).encode(), [0xFF, 0xB2, 0x00, 0x00, 0x04]);
        // CLA FF, INS 20 verify, 00 00, Lc 3, PSC FF FF FF.
        assert_eq!(
            MemoryApdu::from(MemoryOp::VerifyPsc([0xFF; 3])).encode(),
            [0xFF, 0x20, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0xFF]
        );
        // CLA FF, INS D0 update, P1 00, P2 address 0x40, Lc 2, data A5 01.
        let up = MemoryApdu::from(MemoryOp::UpdateMain { addr: 0x40, data: vec![0xA5, 0x01] });
        assert_eq!(up.encode(), [0xFF, 0xD0, 0x00, 0x40, 0x02, 0xA5, 0x01]);
        assert_eq!(MemoryApdu::decode(&up.encode()), Some(up));
    }

    #[test]
    fn verify_status_words() {
        assert_eq!(VerifyAnswer::from_sw(0x9007), VerifyAnswer::Verified);
        assert_eq!(VerifyAnswer::from_sw(0x9000), VerifyAnswer::Locked);
        assert_eq!(VerifyAnswer::from_sw(0x9003), VerifyAnswer::Wrong(0x03));
        assert_eq!(VerifyAnswer::from_sw(0x9004), VerifyAnswer::Wrong(0x04));
        assert_eq!(VerifyAnswer::from_sw(0x6A86), VerifyAnswer::Other(0x6A86));
        assert_eq!(split_sw(&[0x01, 0x90, 0x07]), Some((&[0x01][..], 0x9007)));
        assert_eq!(split_sw(&[0x90]), None);
    }
}
