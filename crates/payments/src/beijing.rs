//! Channel wire formats carry Beijing wall-clock time (UTC+8, no daylight saving); the kiosk core
//! keeps UTC milliseconds ([`Ts`]). Conversions live here so no other module guesses an offset.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use kiosk_core::Ts;

fn offset() -> FixedOffset {
    kiosk_core::time::beijing()
}

/// Now, as Beijing wall-clock time.
pub(crate) fn now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&offset())
}

/// Now as [`Ts`] (UTC ms).
#[cfg(feature = "sim")]
pub(crate) fn now_ts() -> Ts {
    Ts(Utc::now().timestamp_millis())
}

/// `Ts` as Beijing wall-clock time.
pub(crate) fn from_ts(ts: Ts) -> DateTime<FixedOffset> {
    DateTime::from_timestamp_millis(ts.0).unwrap_or_default().with_timezone(&offset())
}

/// A Beijing wall-clock time read from a channel file, as `Ts`.
pub(crate) fn to_ts(local: NaiveDateTime) -> Option<Ts> {
    offset().from_local_datetime(&local).single().map(|t| Ts(t.timestamp_millis()))
}

/// Parses the time formats the channels use: `yyyy-MM-dd HH:mm:ss` and `yyyyMMddHHmmss`.
pub(crate) fn parse_local(text: &str) -> Option<Ts> {
    let text = text.trim();
    ["%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .and_then(to_ts)
}

/// The Beijing calendar day of `ts`.
#[cfg(feature = "sim")]
pub(crate) fn date_of(ts: Ts) -> chrono::NaiveDate {
    from_ts(ts).date_naive()
}
