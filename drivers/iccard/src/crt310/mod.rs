//! The gas-card reader on a Creator CRT-310 (hardware.md §2.1–2.2, §3.2): [`Crt310Reader`], the
//! [`ContactReader`](crate::reader::ContactReader) built on the one CRT-310 protocol of
//! [`device::crt310`] (frames, commands, replies, the ACK → ENQ handshake), and the contact IC
//! type the reader detects.

pub mod driver;

pub use device::crt310::{
    CardPosition, Command, ErrorCode, FrontEntry, MoveTo, Operation, ReaderStatus, Reply, ResetMode,
    SleCommand,
};
pub use device::sle4442::MemoryOp;
pub use driver::{Crt310Reader, Crt310Timing};

/// The contact IC type (`31 31` → S1 S2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IcType {
    /// `'0' '0'`: a contactless card.
    Rf,
    /// `'1' '0'`: T=0 CPU card.
    CpuT0,
    /// `'1' '1'`: T=1 CPU card.
    CpuT1,
    /// `'3' '0'`: SLE4442 memory card.
    Sle4442,
    /// `'N' '0'`: no card (or none recognised).
    NoCard,
    /// Any other pair (SLE4428, 24Cxx...).
    Other(u8, u8),
}

impl IcType {
    /// From S1 S2.
    pub const fn from_bytes(s1: u8, s2: u8) -> Self {
        match (s1, s2) {
            (b'0', b'0') => IcType::Rf,
            (b'1', b'0') => IcType::CpuT0,
            (b'1', b'1') => IcType::CpuT1,
            (b'3', b'0') => IcType::Sle4442,
            (b'N', b'0') => IcType::NoCard,
            (a, b) => IcType::Other(a, b),
        }
    }

    /// S1 S2.
    pub const fn bytes(self) -> [u8; 2] {
        match self {
            IcType::Rf => [b'0', b'0'],
            IcType::CpuT0 => [b'1', b'0'],
            IcType::CpuT1 => [b'1', b'1'],
            IcType::Sle4442 => [b'3', b'0'],
            IcType::NoCard => [b'N', b'0'],
            IcType::Other(a, b) => [a, b],
        }
    }
}
