//! The SLE4442 memory card's own operations (hardware.md §3.2), named once. Both readers that
//! carry them send this one set, each in its own bytes: the CRT-310 as `38 3x` pass-through
//! commands (`crt310::SleCommand`), a CCID reader as ACR38-style pseudo-APDUs (`iccard`'s
//! `MemoryApdu`). Each reader adds only the step that opens the card (`38 30` reset; select
//! card type).

/// An operation on the card's memories, after the card is open.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum MemoryOp {
    /// Read `len` bytes of main memory from `addr` (the CRT-310 reads at most
    /// [`crate::crt310::MAX_READ`] at once).
    ReadMain {
        /// First address.
        addr: u8,
        /// Bytes to read.
        len: u8,
    },
    /// Read the protection memory.
    ReadProtection,
    /// Read the security memory (error counter + 3 hidden PSC bytes).
    ReadSecurity,
    /// Present the PSC.
    VerifyPsc([u8; 3]),
    /// Update main memory from `addr` (needs a verified PSC; at most 255 bytes).
    UpdateMain {
        /// First address.
        addr: u8,
        /// Bytes to write.
        data: Vec<u8>,
    },
}

impl MemoryOp {
    /// True for the reads: doing one twice does no harm. Presenting the PSC spends an attempt
    /// and a write changes the card, so those are checked by reading instead.
    pub const fn is_read(&self) -> bool {
        matches!(self, MemoryOp::ReadMain { .. } | MemoryOp::ReadProtection | MemoryOp::ReadSecurity)
    }

    /// The main-memory address a write starts at (to name it when the write fails).
    pub const fn write_addr(&self) -> Option<u8> {
        match self {
            MemoryOp::UpdateMain { addr, .. } => Some(*addr),
            _ => None,
        }
    }
}

impl std::fmt::Debug for MemoryOp {
    // The PSC and the card's data never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemoryOp::ReadMain { addr, len } => write!(f, "ReadMain {{ addr: {addr:#04x}, len: {len} }}"),
            MemoryOp::ReadProtection => f.write_str("ReadProtection"),
            MemoryOp::ReadSecurity => f.write_str("ReadSecurity"),
            MemoryOp::VerifyPsc(_) => f.write_str("VerifyPsc(<redacted>)"),
            MemoryOp::UpdateMain { addr, data } => {
                write!(f, "UpdateMain {{ addr: {addr:#04x}, len: {} }}", data.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_psc_and_written_data_stay_out_of_logs() {
        let psc = format!("{:?}", MemoryOp::VerifyPsc([0x12, 0x34, 0x56]));
        assert_eq!(psc, "VerifyPsc(<redacted>)");
        let write = format!("{:?}", MemoryOp::UpdateMain { addr: 0x40, data: vec![0xA5, 0x5A] });
        assert_eq!(write, "UpdateMain { addr: 0x40, len: 2 }");
    }

    #[test]
    fn only_reads_may_be_asked_twice() {
        assert!(MemoryOp::ReadMain { addr: 0, len: 1 }.is_read());
        assert!(MemoryOp::ReadSecurity.is_read());
        assert!(!MemoryOp::VerifyPsc([0; 3]).is_read());
        assert!(!MemoryOp::UpdateMain { addr: 0x20, data: vec![1] }.is_read());
    }
}
