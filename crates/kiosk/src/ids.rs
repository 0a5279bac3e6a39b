//! Order numbers: `YZ` + a short kiosk tag + local date and time to the millisecond, e.g.
//! `YZSHPD0001261123104205731` (≤ 25 upper-case letters and digits; WeChat allows 32).
//!
//! The runtime issues them strictly increasing (see `OrderClock`), so two orders of one kiosk
//! never share a number even in the same millisecond. Should the clock ever step back past an
//! earlier order, the journal's unique key refuses the clash before anything is sent.

use chrono::{DateTime, FixedOffset};
use kiosk_core::{OrderRef, Ts};
use std::sync::atomic::{AtomicI64, Ordering};

/// The kiosk id reduced to what an order number may hold: letters and digits, the last 8.
pub fn kiosk_tag(kiosk_id: &str) -> String {
    let tag: String =
        kiosk_id.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    let start = tag.len().saturating_sub(8);
    tag[start..].to_string()
}

pub fn order_ref_at(kiosk_id: &str, local: DateTime<FixedOffset>) -> OrderRef {
    let text = format!("YZ{}{}", kiosk_tag(kiosk_id), local.format("%y%m%d%H%M%S%3f"));
    // Letters and digits only, 17 to 25 characters: always a valid order number.
    OrderRef::new(text).unwrap_or_else(|bad| panic!("order number shape is wrong: {bad}"))
}

/// Hands out strictly increasing millisecond timestamps for order numbers.
#[derive(Debug, Default)]
pub struct OrderClock {
    last: AtomicI64,
}

impl OrderClock {
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
    fn order_numbers_are_valid_and_tagged() {
        let local = DateTime::parse_from_rfc3339("2026-11-23T10:42:05.731+08:00").unwrap();
        let reference = order_ref_at("SH-PD-0001", local);
        assert_eq!(reference.as_str(), "YZSHPD0001261123104205731");
        assert_eq!(kiosk_tag("a-very-long-kiosk-name-9"), "OSKNAME9");
    }

    #[test]
    fn the_order_clock_never_repeats_a_millisecond() {
        let clock = OrderClock::default();
        let now = Ts(1_700_000_000_000);
        let issued: Vec<Ts> = (0..5).map(|_| clock.next(now)).collect();
        assert_eq!(issued, (0..5).map(|i| Ts(now.0 + i)).collect::<Vec<_>>());
        assert_eq!(clock.next(Ts(now.0 + 100)), Ts(now.0 + 100));
    }
}
