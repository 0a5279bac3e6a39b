//! Crash injection between a call and its journal entry, for the power-cut tests.
//!
//! The journal can kill the process right after a commit (`YIZHAN_CRASH_AFTER_COMMIT`): the
//! state is durable but its call has not gone out. This is the other worst moment: with
//! `YIZHAN_CRASH_AFTER_CALL=N`, the process dies by SIGKILL right after the N-th call to a
//! channel or biller has been answered, before the answer is journaled — the other side acted,
//! the kiosk does not know (payments.md F7). Unset, nothing happens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub const CRASH_AFTER_CALL_ENV: &str = "YIZHAN_CRASH_AFTER_CALL";

static CALLS: AtomicU64 = AtomicU64::new(0);

fn armed() -> Option<u64> {
    static ARMED: OnceLock<Option<u64>> = OnceLock::new();
    *ARMED.get_or_init(|| std::env::var(CRASH_AFTER_CALL_ENV).ok()?.trim().parse().ok().filter(|n| *n > 0))
}

/// Counts one answered call and, if it is the armed one, cuts the power.
pub fn after_call() {
    let n = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    if armed() == Some(n) {
        journal::power_cut();
    }
}
