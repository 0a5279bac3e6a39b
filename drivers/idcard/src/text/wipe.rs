//! Seeing wipes happen: a process-wide observer told how many bytes each wipe zeroed.

use std::sync::RwLock;
use zeroize::Zeroize;

/// What a wipe did: how many bytes were overwritten and whether they all read back as zero.
/// Carries no data; given to the observer of [`set_wipe_observer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WipeReport {
    /// Bytes of personal data overwritten (text fields and photo).
    pub bytes: usize,
    /// Every overwritten byte read back as zero before the memory was released.
    pub all_zero: bool,
}

pub(super) static WIPE_OBSERVER: RwLock<Option<fn(WipeReport)>> = RwLock::new(None);

/// Calls `f` after each [`IdCard`] wipe (drop or [`IdCard::wipe`]); `None` removes it. Meant
/// for tests and for the runtime's "session data wiped" audit line. Process-wide.
pub fn set_wipe_observer(f: Option<fn(WipeReport)>) {
    *WIPE_OBSERVER.write().unwrap_or_else(|e| e.into_inner()) = f;
}

/// Overwrites `bytes` with zeros (volatile writes, `zeroize`), checks they read back as zero, and
/// releases them: (bytes wiped, whether all read zero).
pub(super) fn wipe_bytes(bytes: &mut Vec<u8>) -> (usize, bool) {
    let n = bytes.len();
    bytes.as_mut_slice().zeroize();
    let clean = bytes.iter().all(|&b| b == 0);
    bytes.zeroize();
    (n, clean)
}
