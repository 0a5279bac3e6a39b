//! Which conditions a heartbeat shows, and when a condition becomes an alert or stops being one:
//! pure code, no database.
//!
//! Hysteresis is counted in observations (one heartbeat every 30 s): a condition must be seen
//! `raise_after` times in a row to open an alert and be gone `clear_after` times in a row to clear
//! it. A paper sensor that flickers at the edge of "near end", or a reader that drops out for one
//! poll, therefore raises nothing; paper that is out raises at once. lamassu's operators got five to
//! ten false "machine down" messages a day from alerts without this.

use fleet::wire::{DeviceHealth, Heartbeat, Paper};

/// The kinds of alert, as stored (`alerts.kind`).
pub mod kind {
    pub const SILENT: &str = "silent";
    pub const PAPER_OUT: &str = "paper_out";
    pub const PAPER_NEAR_END: &str = "paper_near_end";
    pub const DEVICE_FAULT: &str = "device_fault";
    pub const SUSPENSE_OLD: &str = "suspense_old";
    pub const CASH_BOX_FULL: &str = "cash_box_full";
    pub const CASH_BOX_REMOVED: &str = "cash_box_removed";
    pub const DISK_LOW: &str = "disk_low";
    /// A customer pressed 呼叫工作人员 and no staff member has signed in at the kiosk since.
    pub const HELP_CALLED: &str = "help_called";
    pub const CHAIN_GAP: &str = "chain_gap";
    pub const CHAIN_BREAK: &str = "chain_break";
    pub const CHAIN_FORK: &str = "chain_fork";
    pub const ROLLBACK: &str = "rollback";
    pub const JOURNAL_REPLACED: &str = "journal_replaced";

    /// Kinds a heartbeat observes (and so may clear). The chain's kinds are raised by the
    /// journal's ingest and stay open until an operator has looked; `silent` by the sweeper.
    pub const OBSERVED: [&str; 8] = [
        PAPER_OUT,
        PAPER_NEAR_END,
        DEVICE_FAULT,
        SUSPENSE_OLD,
        CASH_BOX_FULL,
        CASH_BOX_REMOVED,
        DISK_LOW,
        HELP_CALLED,
    ];
}

/// Observations in a row needed to raise and to clear an alert of a kind.
pub fn thresholds(kind: &str) -> (u32, u32) {
    match kind {
        kind::PAPER_OUT | kind::SUSPENSE_OLD | kind::CASH_BOX_FULL => (1, 2),
        // A person is waiting: at once. The kiosk stops reporting it only when staff signed in
        // there, so one beat without it is the answer.
        kind::HELP_CALLED => (1, 1),
        // Staff open the box to collect: a minute out is normal, longer is not.
        kind::CASH_BOX_REMOVED => (3, 1),
        // The first heartbeat after a silence clears nothing: the second does.
        kind::SILENT => (1, 2),
        _ => (2, 2),
    }
}

/// Settings of the rules.
#[derive(Clone, Debug)]
pub struct Rules {
    /// A suspense payment older than this raises an alert.
    pub suspense_age_ms: i64,
    /// Less free disk than this raises an alert.
    pub disk_low_bytes: u64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { suspense_age_ms: 24 * 3600 * 1000, disk_low_bytes: 512 * 1024 * 1024 }
    }
}

/// A condition one heartbeat shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub kind: &'static str,
    pub subject: String,
    pub detail: String,
}

/// Every condition `beat` shows, at hub time `now_ms`.
pub fn observe(beat: &Heartbeat, rules: &Rules, now_ms: i64) -> Vec<Observation> {
    let mut seen = Vec::new();
    let mut see = |kind, subject: &str, detail: String| {
        seen.push(Observation { kind, subject: subject.into(), detail })
    };
    match beat.paper {
        Paper::Out => see(kind::PAPER_OUT, "", "the receipt printer is out of paper".into()),
        Paper::NearEnd => see(kind::PAPER_NEAR_END, "", "the receipt paper is near its end".into()),
        Paper::Ok | Paper::Unknown => {}
    }
    for device in &beat.devices {
        if device.health == DeviceHealth::Fault {
            see(kind::DEVICE_FAULT, &device.device, format!("{}: {}", device.device, device.detail));
        }
    }
    for payment in &beat.suspense {
        let age_ms = now_ms - payment.since_ms;
        if age_ms > rules.suspense_age_ms {
            let hours = age_ms / 3_600_000;
            see(
                kind::SUSPENSE_OLD,
                &payment.order_ref,
                format!(
                    "payment {} ({} fen) has been in suspense ({}) for {hours} h",
                    payment.order_ref, payment.amount_fen, payment.state
                ),
            );
        }
    }
    if let Some(cash) = &beat.cash_box {
        if !cash.present {
            see(kind::CASH_BOX_REMOVED, "", "the banknote box is out of its place".into());
        } else if cash.full {
            see(kind::CASH_BOX_FULL, "", format!("the banknote box is full ({} notes)", cash.notes));
        }
    }
    if beat.disk_free_bytes < rules.disk_low_bytes {
        see(kind::DISK_LOW, "", format!("{} MiB of disk left", beat.disk_free_bytes / (1024 * 1024)));
    }
    if let Some(at_ms) = beat.help_called_at_ms {
        // One alert per call, its time (the kiosk's clock) as the subject: a new call soon after
        // an answered one is a new alert, notified again. The detail gives the time in Shanghai,
        // not "minutes ago", which would stand still (a detail is written when the alert opens).
        let at = crate::console::html::shanghai_ms(at_ms);
        see(
            kind::HELP_CALLED,
            &at_ms.to_string(),
            format!("a customer called for staff at {at}; answered when staff sign in at the kiosk"),
        );
    }
    seen
}

/// How many observations in a row found a condition, or found it gone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Streak {
    pub bad: u32,
    pub good: u32,
}

/// What one observation does to an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Open,
    Clear,
    Nothing,
}

/// The next streak after one observation, and whether it opens or clears the alert.
pub fn step(kind: &str, before: Streak, seen: bool, open: bool) -> (Streak, Step) {
    let (raise_after, clear_after) = thresholds(kind);
    if seen {
        let streak = Streak { bad: before.bad.saturating_add(1), good: 0 };
        let step = if !open && streak.bad >= raise_after { Step::Open } else { Step::Nothing };
        (streak, step)
    } else {
        let streak = Streak { bad: 0, good: before.good.saturating_add(1) };
        let step = if open && streak.good >= clear_after { Step::Clear } else { Step::Nothing };
        (streak, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet::wire::{CashBoxReport, DeviceReport, Head, SuspenseReport};

    fn beat() -> Heartbeat {
        let start = Head { seq: 0, hash: journal::GENESIS.into() };
        Heartbeat {
            journal_bytes: 0,
            disk_free_bytes: 10 << 30,
            devices: vec![],
            ..fleet::testing::healthy_heartbeat(start, 0)
        }
    }

    /// Feeds `seen` observations in turn; returns the steps that did something.
    fn run(kind: &str, seen: &[bool]) -> Vec<(usize, Step)> {
        let (mut streak, mut open, mut steps) = (Streak::default(), false, vec![]);
        for (i, &s) in seen.iter().enumerate() {
            let (next, step) = step(kind, streak, s, open);
            streak = next;
            match step {
                Step::Open => open = true,
                Step::Clear => open = false,
                Step::Nothing => continue,
            }
            steps.push((i, step));
        }
        steps
    }

    #[test]
    fn a_flickering_near_end_sensor_raises_nothing_and_a_steady_one_raises_once() {
        let flicker = [true, false, true, false, true, false, true, false];
        assert_eq!(run(kind::PAPER_NEAR_END, &flicker), vec![]);
        let steady = [true, true, true, true, true];
        assert_eq!(run(kind::PAPER_NEAR_END, &steady), vec![(1, Step::Open)]);
    }

    #[test]
    fn paper_out_raises_at_once_and_clears_only_after_two_good_beats() {
        let seen = [true, false, true, false, false, false];
        assert_eq!(run(kind::PAPER_OUT, &seen), vec![(0, Step::Open), (4, Step::Clear)]);
    }

    #[test]
    fn a_box_out_for_one_collection_raises_nothing() {
        assert_eq!(run(kind::CASH_BOX_REMOVED, &[true, true, false, true, true, false]), vec![]);
        assert_eq!(
            run(kind::CASH_BOX_REMOVED, &[true, true, true, false]),
            vec![(2, Step::Open), (3, Step::Clear)]
        );
    }

    #[test]
    fn a_heartbeat_shows_each_condition_and_nothing_on_a_healthy_kiosk() {
        assert_eq!(observe(&beat(), &Rules::default(), 0), vec![]);
        let now = 3 * 24 * 3_600_000;
        let mut b = beat();
        b.paper = Paper::NearEnd;
        b.devices = vec![
            DeviceReport {
                device: "scanner".into(),
                health: DeviceHealth::Fault,
                detail: "no answer".into(),
            },
            DeviceReport {
                device: "printer".into(),
                health: DeviceHealth::Warning,
                detail: "paper near end".into(),
            },
        ];
        b.cash_box = Some(CashBoxReport { present: true, full: true, notes: 600, total_fen: 3_000_000 });
        b.suspense = vec![
            SuspenseReport {
                order_ref: "K1-000007".into(),
                amount_fen: 12_800,
                state: "Unknown".into(),
                since_ms: 0,
            },
            SuspenseReport {
                order_ref: "K1-000009".into(),
                amount_fen: 500,
                state: "Unknown".into(),
                since_ms: now - 60_000,
            },
        ];
        b.disk_free_bytes = 100 << 20;
        let kinds: Vec<_> =
            observe(&b, &Rules::default(), now).into_iter().map(|o| (o.kind, o.subject)).collect();
        assert_eq!(
            kinds,
            vec![
                (kind::PAPER_NEAR_END, String::new()),
                (kind::DEVICE_FAULT, "scanner".into()),
                (kind::SUSPENSE_OLD, "K1-000007".into()),
                (kind::CASH_BOX_FULL, String::new()),
                (kind::DISK_LOW, String::new()),
            ]
        );
    }

    /// Item 51: a customer's call for staff is an alert from the first beat that carries it,
    /// one per call (its time is the subject), says when it was made, and ends with the first
    /// beat without it (staff signed in at the kiosk).
    #[test]
    fn a_call_for_staff_raises_at_once_and_ends_when_staff_arrive() {
        let mut b = beat();
        // 2026-12-07 06:02:03 UTC is 14:02:03 in Shanghai.
        b.help_called_at_ms = Some(1_796_623_323_000);
        let seen = observe(&b, &Rules::default(), 0);
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!((seen[0].kind, seen[0].subject.as_str()), (kind::HELP_CALLED, "1796623323000"));
        assert!(seen[0].detail.contains("at 2026-12-07 14:02:03"), "{}", seen[0].detail);
        assert_eq!(run(kind::HELP_CALLED, &[true, true, false]), vec![(0, Step::Open), (2, Step::Clear)]);
    }
}
