//! Seeing wipes happen: a process-wide observer told how many bytes each wipe zeroed.

use std::sync::RwLock;

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
