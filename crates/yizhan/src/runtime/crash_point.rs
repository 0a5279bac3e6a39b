//! Crash injection between a call and its journal entry, for the power-cut tests.
//!
//! The journal can kill the process right after a commit (`YIZHAN_CRASH_AFTER_COMMIT`): the
//! state is durable but its call has not gone out. This is the other worst moment: with
//! `YIZHAN_CRASH_AFTER_CALL=N`, the process dies by SIGKILL right after the N-th call to a
//! channel or biller has been answered, before the answer is journaled — the other side acted,
//! the kiosk does not know (payments.md F7). Unset, nothing happens.
//!
//! Both cuts exist only with the `sim` feature; without it [`after_call`] is empty and a
//! [`SimulatedCut`] never falls.

#[cfg(feature = "sim")]
pub const CRASH_AFTER_CALL_ENV: &str = "YIZHAN_CRASH_AFTER_CALL";

/// Counts one answered call and, if it is the armed one, cuts the power.
#[cfg(feature = "sim")]
pub fn after_call() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static CALLS: AtomicU64 = AtomicU64::new(0);
    static ARMED: OnceLock<Option<u64>> = OnceLock::new();
    let armed = *ARMED
        .get_or_init(|| std::env::var(CRASH_AFTER_CALL_ENV).ok()?.trim().parse().ok().filter(|n| *n > 0));
    let n = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    if armed == Some(n) {
        journal::power_cut();
    }
}

/// No crash injection in a production build.
#[cfg(not(feature = "sim"))]
#[inline(always)]
pub fn after_call() {}

/// Where an in-process power cut (`yizhan soak`) falls: right after the n-th journal commit, or
/// right after the n-th answered call, counted from when it is armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Cut {
    AfterCommit(u32),
    AfterCall(u32),
}

/// An in-process power cut, for the seeded whole-kiosk simulation: when it falls, the payment
/// being driven stops at once with [`super::RuntimeError::PowerCut`] — its in-memory state is
/// dropped, the journal holds exactly what was committed, the other side may have acted — and
/// the caller then "restarts" by recovering from the journal. Unlike the SIGKILL of the
/// power-cut test it keeps the page cache (the journal's crash test drops unsynced writes).
#[derive(Debug, Default)]
pub struct SimulatedCut {
    armed: std::sync::Mutex<Option<Cut>>,
}

impl SimulatedCut {
    #[cfg(feature = "sim")]
    pub fn arm(&self, cut: Cut) {
        *self.armed.lock().unwrap_or_else(|p| p.into_inner()) = Some(cut);
    }

    #[cfg(feature = "sim")]
    pub fn disarm(&self) {
        *self.armed.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Counts one commit (`commit`) or one answered call; true when the cut falls here. It can
    /// only be armed by `yizhan soak` (the `sim` feature).
    pub(super) fn falls_after(&self, commit: bool) -> bool {
        if cfg!(not(feature = "sim")) {
            return false;
        }
        let mut armed = self.armed.lock().unwrap_or_else(|p| p.into_inner());
        let falls = match armed.as_mut() {
            Some(Cut::AfterCommit(n)) if commit => {
                *n -= 1;
                *n == 0
            }
            Some(Cut::AfterCall(n)) if !commit => {
                *n -= 1;
                *n == 0
            }
            _ => false,
        };
        if falls {
            *armed = None;
        }
        falls
    }
}
