//! The runtime's only clock: the core gets time as a value from here.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use kiosk_core::Ts;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Shanghai local time (UTC+8, no daylight saving).
pub fn beijing() -> FixedOffset {
    kiosk_core::time::beijing()
}

pub fn now() -> Ts {
    Ts(Utc::now().timestamp_millis() + STEPPED.try_with(|by| by.load(Ordering::Relaxed)).unwrap_or(0))
}

tokio::task_local! {
    /// How far the clock of this task has been stepped, in ms (`yizhan soak`'s clock jumps: an
    /// NTP step, a real-time clock reset). Outside [`steppable`] the clock is the system's.
    static STEPPED: Arc<AtomicI64>;
}

/// Runs `task` with a clock that `by` steps (each seed of `yizhan soak` has its own). Tasks it
/// spawns keep the system's clock.
pub async fn steppable<F: std::future::Future>(by: Arc<AtomicI64>, task: F) -> F::Output {
    STEPPED.scope(by, task).await
}

pub fn local(ts: Ts) -> DateTime<FixedOffset> {
    Utc.timestamp_millis_opt(ts.0).single().unwrap_or_default().with_timezone(&beijing())
}

/// "2026-11-23 10:42:05", for receipts and the journal listing.
pub fn format_local(ts: Ts) -> String {
    local(ts).format("%Y-%m-%d %H:%M:%S").to_string()
}
