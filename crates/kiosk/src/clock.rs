//! The runtime's only clock: the core gets time as a value from here.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use kiosk_core::Ts;

/// Shanghai local time (UTC+8, no daylight saving).
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!("+08:00 is a valid offset"))
}

pub fn now() -> Ts {
    Ts(Utc::now().timestamp_millis())
}

pub fn local(ts: Ts) -> DateTime<FixedOffset> {
    Utc.timestamp_millis_opt(ts.0).single().unwrap_or_default().with_timezone(&beijing())
}

/// "2026-11-23 10:42:05", for receipts and the journal listing.
pub fn format_local(ts: Ts) -> String {
    local(ts).format("%Y-%m-%d %H:%M:%S").to_string()
}
