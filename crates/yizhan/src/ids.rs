//! Order numbers: `YZ` + the kiosk's registered number + local date and time to the millisecond,
//! e.g. `YZ0001261123104205731` (≤ 25 upper-case letters and digits; WeChat allows 32).
//!
//! Unique under a merchant account by construction: the kiosk number is registered with the
//! operator (4–8 digits, validated at start, see `config.rs`), so no two kiosks share a prefix —
//! unlike a suffix of a free-text kiosk id, where `HALL1-KIOSK-0001` and `HALL2-KIOSK-0001`
//! collided. Within one kiosk the runtime issues them strictly increasing (see `OrderClock`), so
//! two orders never share a number even in the same millisecond. Should the clock ever step back
//! past an earlier order, the journal's unique key refuses the clash before anything is sent.

use chrono::{DateTime, FixedOffset};
use kiosk_core::{OrderRef, Ts};
use std::sync::atomic::{AtomicI64, Ordering};

/// What every order number of the kiosk registered as `number` starts with.
pub fn order_prefix(number: &str) -> String {
    format!("YZ{number}")
}

/// How long an order number of the kiosk registered as `number` is (the time takes 15 digits).
pub fn order_len(number: &str) -> usize {
    order_prefix(number).len() + 15
}

/// The time an order number of the kiosk registered as `number` carries (see [`order_ref_at`]),
/// if `id` is one.
pub fn order_time(number: &str, id: &str) -> Option<Ts> {
    let stamp = id.strip_prefix("YZ")?.strip_prefix(number)?;
    let local = chrono::NaiveDateTime::parse_from_str(stamp, "%y%m%d%H%M%S%3f").ok()?;
    let at = local.and_local_timezone(crate::clock::beijing()).single()?;
    Some(Ts(at.timestamp_millis()))
}

/// The order number of an order made at `local` by the kiosk registered as `number` (4–8
/// digits, checked when the configuration is loaded).
pub fn order_ref_at(number: &str, local: DateTime<FixedOffset>) -> OrderRef {
    let text = format!("YZ{}{}", number, local.format("%y%m%d%H%M%S%3f"));
    // Digits after "YZ", 21 to 25 characters: always a valid order number.
    OrderRef::new(text).unwrap_or_else(|bad| panic!("order number shape is wrong: {bad}"))
}

/// Hands out strictly increasing millisecond timestamps for order numbers.
#[derive(Debug, Default)]
pub struct OrderClock {
    last: AtomicI64,
}

impl OrderClock {
    /// From now on, hands out only times after `ts` (the newest order the journal holds).
    pub fn start_after(&self, ts: Ts) {
        self.last.fetch_max(ts.0, Ordering::Relaxed);
    }

    pub fn next(&self, now: Ts) -> Ts {
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = now.0.max(last + 1);
            match self.last.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ts(next),
                Err(seen) => last = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_carry_the_registered_kiosk_number() {
        let local = DateTime::parse_from_rfc3339("2026-11-23T10:42:05.731+08:00").unwrap();
        assert_eq!(order_ref_at("0001", local).as_str(), "YZ0001261123104205731");
        // Two kiosks whose free-text ids end alike (HALL1-KIOSK-0001, HALL2-KIOSK-0001) have
        // different registered numbers, so the same millisecond gives different order numbers.
        assert_ne!(order_ref_at("110001", local), order_ref_at("120001", local));
        assert_eq!(order_ref_at("12345678", local).as_str().len(), 25);
    }

    #[test]
    fn the_order_clock_never_repeats_a_millisecond() {
        let clock = OrderClock::default();
        let now = Ts(1_700_000_000_000);
        let issued: Vec<Ts> = (0..5).map(|_| clock.next(now)).collect();
        assert_eq!(issued, (0..5).map(|i| Ts(now.0 + i)).collect::<Vec<_>>());
        assert_eq!(clock.next(Ts(now.0 + 100)), Ts(now.0 + 100));
    }

    /// After a restart with the clock stepped back, numbers continue after the greatest one the
    /// journal holds, never through it again.
    #[test]
    fn a_restarted_clock_continues_after_the_greatest_order_number_even_when_time_stepped_back() {
        let local = DateTime::parse_from_rfc3339("2026-11-23T10:42:05.731+08:00").unwrap();
        let last = order_ref_at("0001", local);
        let at = order_time("0001", last.as_str()).unwrap();
        assert_eq!(at, Ts(local.timestamp_millis()));
        assert_eq!(order_time("0002", last.as_str()), None, "another kiosk's number");
        assert_eq!((order_prefix("0001"), order_len("0001")), ("YZ0001".to_string(), last.as_str().len()));
        let clock = OrderClock::default();
        clock.start_after(at);
        let stepped_back = Ts(at.0 - 2_000);
        assert_eq!(clock.next(stepped_back), Ts(at.0 + 1));
    }
}
