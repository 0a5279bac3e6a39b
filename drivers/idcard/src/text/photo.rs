//! The card's photo, as the SAM returns it (WLT), wiped with the card.

use std::fmt;

/// The 1024-byte photo (WLT, proprietary compression) passed through untouched; wiped on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Photo(Vec<u8>);

impl Photo {
    /// Holds `bytes`.
    pub fn new(bytes: Vec<u8>) -> Photo {
        Photo(bytes)
    }

    /// The raw WLT bytes (decode them with the licensed library, never in tests).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(super) fn wipe(&mut self) -> (usize, bool) {
        super::wipe::wipe_bytes(&mut self.0)
    }
}

impl fmt::Debug for Photo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Photo({} bytes)", self.0.len())
    }
}
