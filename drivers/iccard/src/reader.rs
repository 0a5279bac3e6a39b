//! [`ContactReader`]: the one interface the SLE4442 and gas-card logic runs over, whatever the
//! reader (CRT-310 motorised over serial, USB CCID through rusb, or a simulator on a pty).

use crate::error::CardError;
use serde::{Deserialize, Serialize};
use std::future::Future;
use zeroize::Zeroize;

/// The card's PIN-like Programmable Security Code (3 bytes). Never printed, wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Psc([u8; 3]);

impl Psc {
    /// A PSC from its bytes.
    pub const fn new(bytes: [u8; 3]) -> Self {
        Psc(bytes)
    }

    /// From 6 hex digits (`"FFFFFF"`), as in the configuration.
    pub fn from_hex(s: &str) -> Option<Self> {
        let v = hex::decode(s.trim()).ok()?;
        let b: [u8; 3] = v.as_slice().try_into().ok()?;
        Some(Psc(b))
    }

    /// The bytes, for the wire.
    pub fn bytes(&self) -> [u8; 3] {
        self.0
    }
}

impl std::fmt::Debug for Psc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Psc(<redacted>)")
    }
}

impl Drop for Psc {
    fn drop(&mut self) {
        // zeroize writes volatile, so the wipe is not optimised away as a dead store.
        self.0.zeroize();
    }
}

/// Where the card is, as far as the reader can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardPresence {
    /// No card.
    Absent,
    /// Inside the reader (or in a CCID slot).
    Inside,
    /// Presented at the gate; the customer can take it.
    AtGate,
    /// Captured into the bin.
    Captured,
    /// A card the reader calls abnormal (too long, too short) or a jam: staff.
    Abnormal,
}

/// What the reader answered to a PSC presentation. The SLE4442 layer does not trust it alone: it
/// reads the error counter afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PscAnswer {
    /// The reader says the PSC was accepted.
    Accepted,
    /// The reader says the PSC was refused.
    Refused,
    /// The reader said something else, or its answer was lost.
    Unknown,
}

/// Low-level access to a contact memory card in some reader. Implemented by
/// [`crate::crt310::Crt310Reader`], [`crate::ccid::CcidReader`] and [`crate::AnyReader`].
///
/// Memory reads and writes are at most [`ContactReader::MAX_CHUNK`] bytes; the SLE4442 layer
/// splits larger ones.
pub trait ContactReader: Send {
    /// Longest read or write one call may ask for.
    const MAX_CHUNK: usize = 64;

    /// A short name for logs ("crt310", "ccid").
    fn kind(&self) -> &'static str;

    /// Where the card is.
    fn presence(&mut self) -> impl Future<Output = Result<CardPresence, CardError>> + Send;

    /// Brings the card to the contacts, powers it, and checks that it is an SLE4442 memory card
    /// ([`CardError::WrongCardType`] otherwise, [`CardError::NoCard`] when there is none).
    fn open_memory_card(&mut self) -> impl Future<Output = Result<(), CardError>> + Send;

    /// Reads `len` (1..=64) bytes of main memory from `addr`.
    fn read_main(&mut self, addr: u8, len: u8) -> impl Future<Output = Result<Vec<u8>, CardError>> + Send;

    /// Reads the 4-byte security memory: the error counter, then the (hidden) PSC.
    fn read_security(&mut self) -> impl Future<Output = Result<[u8; 4], CardError>> + Send;

    /// Presents the PSC. Callers must have checked the error counter first (see
    /// [`crate::sle4442::unlock`]); this does not.
    fn present_psc(&mut self, psc: &Psc) -> impl Future<Output = Result<PscAnswer, CardError>> + Send;

    /// Updates main memory at `addr` with `data` (1..=64 bytes). Needs a verified PSC in this
    /// power session. No read-back here: see [`crate::sle4442::write_verified`].
    fn update_main(&mut self, addr: u8, data: &[u8]) -> impl Future<Output = Result<(), CardError>> + Send;

    /// Powers the contacts off (a later write needs the PSC again).
    fn close_card(&mut self) -> impl Future<Output = Result<(), CardError>> + Send;

    /// Lets cards in through the front (or forbids it). A CCID slot cannot forbid: no-op.
    fn set_entry(&mut self, allow: bool) -> impl Future<Output = Result<(), CardError>> + Send;

    /// Gives the card back: held at the gate on a motorised reader; nothing to do on a CCID slot
    /// (the customer pulls the card).
    fn eject(&mut self) -> impl Future<Output = Result<(), CardError>> + Send;

    /// Keeps the card (abandoned at the gate). Unsupported on a CCID slot.
    fn capture(&mut self) -> impl Future<Output = Result<(), CardError>> + Send;
}
