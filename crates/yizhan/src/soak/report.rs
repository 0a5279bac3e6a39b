//! What a seed did, and all seeds together for the closing line.

use super::checks::{Harm, Violation};
use std::time::Duration;

/// The day's figures, for one seed or all seeds together.
#[derive(Clone, Debug, Default)]
pub struct DayCounts {
    pub customers: u64,
    /// Power cuts that fell (during a payment or during the recovery after one).
    pub kills: u64,
    /// Payments a full disk stopped.
    pub disk_full: u64,
    /// Payments that ended (or stayed) in suspense or with a refund on its way.
    pub parked: u64,
    /// Gas purchases the household's meter credited.
    pub gas_credited: u64,
    /// Notes in the cash box when staff emptied it at the end of the day.
    pub notes_in_box: u64,
    /// Suspense staff settled from the statements at the end of the day.
    pub staff_resolved: u64,
}

impl DayCounts {
    fn add(&mut self, other: &DayCounts) {
        self.customers += other.customers;
        self.kills += other.kills;
        self.disk_full += other.disk_full;
        self.parked += other.parked;
        self.gas_credited += other.gas_credited;
        self.notes_in_box += other.notes_in_box;
        self.staff_resolved += other.staff_resolved;
    }
}

/// What one seed did.
#[derive(Clone, Debug, Default)]
pub struct SeedReport {
    pub seed: u64,
    pub counts: DayCounts,
    /// Wall time of the seed.
    pub took: Duration,
    /// One line a customer: who they were, what waited for them, how long they took.
    pub story: Vec<String>,
    /// Each payment's end, in the order the journal took them: its state and what the
    /// simulators' books hold for it (order numbers left out: they carry the time).
    pub outcomes: Vec<String>,
    /// Whether the day races a timer (see `Customer::races_a_timer`): its outcomes may then
    /// differ between runs, its invariants may not.
    pub races_a_timer: bool,
    pub violations: Vec<Violation>,
}

/// All seeds together.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub seeds: u64,
    pub counts: DayCounts,
    /// The slowest seed and its wall time.
    pub slowest: Option<(u64, Duration)>,
    pub lost: u64,
    pub doubled: u64,
    /// Other violations: the kiosk's account or the journal wrong, recovery not converging.
    pub wrong: u64,
    pub failed_seeds: Vec<u64>,
}

impl Totals {
    pub fn add(&mut self, report: &SeedReport) {
        self.seeds += 1;
        self.counts.add(&report.counts);
        if self.slowest.is_none_or(|(_, took)| report.took > took) {
            self.slowest = Some((report.seed, report.took));
        }
        let count = |harm| report.violations.iter().filter(|v| v.harm == harm).count() as u64;
        self.lost += count(Harm::Lost);
        self.doubled += count(Harm::Doubled);
        self.wrong += count(Harm::Wrong);
        if !report.violations.is_empty() {
            self.failed_seeds.push(report.seed);
        }
    }

    /// `N seeds, C customers, K kills, 0 lost, 0 doubled`, then the rest of the day's figures.
    pub fn line(&self) -> String {
        format!(
            "{} seeds, {} customers, {} kills, {} lost, {} doubled ({} other violations; {} payments \
             stopped by a full disk, {} gas purchases credited by the meters, {} notes collected from \
             the cash boxes, {} suspense settled by staff, {} left parked)",
            self.seeds,
            self.counts.customers,
            self.counts.kills,
            self.lost,
            self.doubled,
            self.wrong,
            self.counts.disk_full,
            self.counts.gas_credited,
            self.counts.notes_in_box,
            self.counts.staff_resolved,
            self.counts.parked
        )
    }
}
