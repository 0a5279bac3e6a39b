//! Time as a value. The core never reads a clock: every event carries `now`, and every deadline
//! is an absolute timestamp that the journal stores (rule R4), so a restart continues the same timer.

use serde::{Deserialize, Serialize};
use std::ops::Add;
use std::time::Duration;

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
