//! Time as a value. The core never reads a clock: every event carries `now`, and every deadline
//! is an absolute timestamp that the journal stores (rule R4), so a restart continues the same timer.

use serde::{Deserialize, Serialize};
use std::ops::Add;
use std::time::Duration;

/// Beijing time is UTC+8 all year (no daylight saving): the channels' and billers' wall clock
/// and accounting day, and the kiosk's. The one place the offset is written.
pub const BEIJING_OFFSET_SECS: i32 = 8 * 3600;

/// UTC+8 as a chrono offset, for the crates that format or parse wall-clock times.
pub fn beijing() -> chrono::FixedOffset {
    // Within the ±24 h chrono accepts, so never None.
    chrono::FixedOffset::east_opt(BEIJING_OFFSET_SECS)
        .unwrap_or_else(|| unreachable!("+08:00 is a valid offset"))
}

/// Milliseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ts(pub i64);

impl Ts {
    pub fn millis(self) -> i64 {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Ts) -> Duration {
        Duration::from_millis(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }
}

impl Add<Duration> for Ts {
    type Output = Ts;
    fn add(self, d: Duration) -> Ts {
        Ts(self.0.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    }
}
