//! Crash injection for power-cut tests.
//!
//! If the environment variable [`CRASH_ENV`] holds a positive integer `N` when a journal is
//! opened, the process kills itself with SIGKILL right after the `N`-th successful journal commit
//! of this process, counting [`crate::Journal::create_payment`] and
//! [`crate::Journal::record_transition`] commits and the bank card terminal's memory writes
//! ([`crate::CardTerminalJournal`]: arming and closing a reversal, recording a purchase) — those
//! are the recovery points; prints, staff actions and extra keys are not counted. The commit has been fsync'd by then, so this is the
//! worst moment for the runtime: the state is durable but no effect has been carried out yet.
//! Tests run the kiosk (or a small writer) in a child process, then reopen the journal and check
//! that recovery does the right thing. When the variable is unset or not a positive integer,
//! nothing happens.
//!
//! All of it exists only with the `sim` feature (tests, the demo, `yizhan soak`). Without it the
//! two hooks the journal calls are empty and inlined away: a production kiosk reads no crash
//! variable and has no code that kills itself.

#[cfg(feature = "sim")]
pub use armed::*;

/// The hooks without the `sim` feature: never armed, nothing counted.
#[cfg(not(feature = "sim"))]
mod disarmed {
    #[inline(always)]
    pub(crate) fn crash_after_from_env() -> Option<u64> {
        None
    }

    #[inline(always)]
    pub(crate) fn after_commit(_crash_after: Option<u64>) {}
}

#[cfg(not(feature = "sim"))]
pub(crate) use disarmed::*;

#[cfg(feature = "sim")]
mod armed {
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Name of the environment variable read by [`crate::Journal::open`].
    pub const CRASH_ENV: &str = "YIZHAN_CRASH_AFTER_COMMIT";

    /// Counted commits of all journals in this process.
    static COMMITS: AtomicU64 = AtomicU64::new(0);

    /// Number of counted commits made by every journal of this process so far.
    pub fn commits_in_this_process() -> u64 {
        COMMITS.load(Ordering::SeqCst)
    }

    /// Reads [`CRASH_ENV`] once; `None` disables crash injection.
    pub(crate) fn crash_after_from_env() -> Option<u64> {
        let n = std::env::var(CRASH_ENV).ok()?.trim().parse::<u64>().ok().filter(|n| *n > 0)?;
        tracing::warn!(n, "journal crash injection armed: the process will SIGKILL itself after commit {n}");
        Some(n)
    }

    /// Counts one successful commit and, if it is the armed one, kills the process.
    pub(crate) fn after_commit(crash_after: Option<u64>) {
        let n = COMMITS.fetch_add(1, Ordering::SeqCst) + 1;
        if crash_after == Some(n) {
            power_cut();
        }
    }

    /// Kills this process at once, like a power cut: for crash-injection points elsewhere too.
    #[cfg(unix)]
    pub fn power_cut() {
        // SIGKILL cannot be caught, so no Rust code (destructors, WAL checkpoint on close) runs
        // afterwards, exactly like a power cut after the fsync.
        let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        // kill(2) to ourselves does not return when it works; if it ever failed, die all the same.
        std::process::abort();
    }

    #[cfg(not(unix))]
    pub fn power_cut() {
        std::process::abort();
    }
}
