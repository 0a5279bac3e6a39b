//! The scratch pool (缓冲池) of reconciliation, after roncoo-pay's: a difference that a later day
//! may still explain is held back and checked again before anyone is told of it.
//!
//! Around the midnight cut-off the books disagree for a while without anything being wrong: a
//! charge booked by the channel just after midnight is in tomorrow's file; a kiosk whose journal
//! reaches the hub late looks, until then, like money nobody sent; a write-off is in the
//! biller's file of the next day. Such differences ([`holds_back`]) wait in the pool. Each run
//! checks every held difference again by matching its own day afresh (with what is known now)
//! and lets go of those that are gone; one still there after [`HOLD_DAYS`] is reported, with the
//! day it was first seen. Differences that no later file can explain (another amount, a payment
//! in suspense) are reported at once.

use crate::recon::{Day, Flag};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Days a difference is held before it is reported: the next day's files (D+1) and one more
/// run for a journal that reaches the hub late.
pub const HOLD_DAYS: i64 = 2;

/// A difference in the pool: what was found, and on which accounting day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub key: String,
    pub day: Day,
}

/// A difference reported after the pool: the flag, and the day it was first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    pub flag: Flag,
    pub first_seen: Day,
}

/// Whether a later day's files or journal may still explain `flag`.
pub fn holds_back(flag: &Flag) -> bool {
    match flag {
        Flag::ChannelOnly { .. }
        | Flag::LocalOnly { .. }
        | Flag::BillerOnly { .. }
        | Flag::NotAtBiller { .. }
        | Flag::RefundChannelOnly { .. }
        | Flag::RefundNotAtChannel { .. } => true,
        Flag::Matched { .. }
        | Flag::AmountDiffers { .. }
        | Flag::FeeDiffers { .. }
        | Flag::WrittenOffTwice { .. }
        | Flag::InSuspense { .. }
        | Flag::Unverified { .. }
        | Flag::NotCovered { .. }
        | Flag::CashDiffers { .. } => false,
    }
}

/// The pool between runs (kept by the caller: the hub keeps it in its database).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScratchPool {
    pub held: Vec<Held>,
}

impl ScratchPool {
    /// One run for `today`: `today_flags` are `match_day(today, …)`'s; `rematch(day)` matches an
    /// earlier day afresh with what is known now (its files, the journal as it stands). Returns
    /// what to report: today's differences that cannot wait, and held ones still there after
    /// [`HOLD_DAYS`]. Today's waiting differences join the pool.
    pub fn run(
        &mut self,
        today: Day,
        today_flags: Vec<Flag>,
        mut rematch: impl FnMut(Day) -> Vec<Flag>,
    ) -> Vec<Reported> {
        let mut report = Vec::new();
        // Each earlier day matched afresh once per run, whatever it holds.
        let mut afresh: BTreeMap<Day, Vec<Flag>> = BTreeMap::new();
        let mut still_held = Vec::new();
        for held in std::mem::take(&mut self.held) {
            let flags = afresh.entry(held.day).or_insert_with(|| rematch(held.day));
            let Some(flag) = flags.iter().find(|f| key_of(f) == held.key) else {
                // Explained since: a late journal, the next day's file.
                continue;
            };
            if today.0 - held.day.0 >= HOLD_DAYS {
                report.push(Reported { flag: flag.clone(), first_seen: held.day });
            } else {
                still_held.push(held);
            }
        }
        for flag in today_flags.into_iter().filter(Flag::is_exception) {
            if holds_back(&flag) {
                // The same day run again: held once, from when it was first seen.
                let key = key_of(&flag);
                if !still_held.iter().any(|h| h.key == key) {
                    still_held.push(Held { key, day: today });
                }
            } else {
                report.push(Reported { flag, first_seen: today });
            }
        }
        self.held = still_held;
        report
    }
}

/// What identifies a difference from one run to the next: its description, which names the
/// order, line or refund, the amount and the kind.
fn key_of(flag: &Flag) -> String {
    flag.describe()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Fen;
    use crate::recon::{Source, StatementKind};

    fn channel_only(order: &str) -> Flag {
        Flag::ChannelOnly {
            source: Source::WeChatBill,
            order: order.into(),
            kind: StatementKind::Payment,
            amount: Fen(3150),
        }
    }

    #[test]
    fn a_difference_explained_the_next_day_is_never_reported() {
        let mut pool = ScratchPool::default();
        let d = Day(20_000);
        // Day D: the channel booked an order whose kiosk's journal has not reached the hub.
        let reported = pool.run(d, vec![channel_only("YZ1")], |_| unreachable!("nothing held yet"));
        assert!(reported.is_empty());
        assert_eq!(pool.held, [Held { key: channel_only("YZ1").describe(), day: d }]);
        // Day D+1: the journal arrived; D matched afresh no longer shows it.
        let reported = pool.run(d.next(), vec![], |day| {
            assert_eq!(day, d);
            vec![Flag::Matched { order: "YZ1".into() }]
        });
        assert!(reported.is_empty() && pool.held.is_empty());
    }

    #[test]
    fn a_difference_still_there_after_the_hold_is_reported_with_its_first_day() {
        let mut pool = ScratchPool::default();
        let d = Day(20_000);
        pool.run(d, vec![channel_only("YZ2")], |_| vec![]);
        // D+1: still unexplained, still held.
        assert!(pool.run(d.next(), vec![], |_| vec![channel_only("YZ2")]).is_empty());
        // D+2: reported, first seen on D.
        let reported = pool.run(d.next().next(), vec![], |_| vec![channel_only("YZ2")]);
        assert_eq!(reported, [Reported { flag: channel_only("YZ2"), first_seen: d }]);
        assert!(pool.held.is_empty());
    }

    #[test]
    fn what_no_later_file_can_explain_is_reported_at_once() {
        let mut pool = ScratchPool::default();
        let d = Day(20_000);
        let amount = Flag::AmountDiffers { key: "YZ3".into(), local: Fen(3150), external: Fen(3149) };
        let suspense = Flag::InSuspense { order: "YZ4".into() };
        let today = vec![
            amount.clone(),
            suspense.clone(),
            Flag::Matched { order: "YZ5".into() },
            channel_only("YZ6"),
        ];
        let reported = pool.run(d, today, |_| vec![]);
        assert_eq!(
            reported,
            [Reported { flag: amount, first_seen: d }, Reported { flag: suspense, first_seen: d }]
        );
        assert_eq!(pool.held.len(), 1, "the channel-only row waits");
    }
}
