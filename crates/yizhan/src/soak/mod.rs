//! `yizhan soak`: seeded simulations of the whole kiosk runtime — the real payment machine, the
//! real journal on a real file, the real channel and biller clients over loopback HTTP to the
//! simulators, the real drivers over pty simulators — with a seeded day of customers, the faults
//! of payments.md §10 waiting at the simulators, noisy serial lines, power cuts at any journal
//! commit or after any answered call (each followed by a restart from the journal), a full disk
//! and clock steps. After every seed the simulators' books are held against the invariants (see
//! [`checks`]); a violation names its seed and the command that replays it. The idea is
//! TigerBeetle's VOPR and FoundationDB's simulation, within what a kiosk with real sockets
//! allows: the schedule and faults come from the seed; timing is real (scaled down by the timing
//! divisor), so a seed replays the same customers, faults and cuts, and its invariants must hold
//! however the timing falls.
//!
//! - [`schedule`]: the seed's customers and faults; [`customer`]: serving one;
//! - [`gas`]: the household's gas card and meter; [`staff`]: staff settling the day's suspense;
//! - [`checks`]: the invariants (and [`checks::cash`] for the notes); [`report`]: what a seed
//!   did.

pub mod checks;
pub mod customer;
pub mod gas;
pub mod report;
pub mod schedule;
pub mod staff;

pub use report::{SeedReport, Totals};

use crate::backend::Backend;
use crate::runtime::crash_point::Cut;
use crate::runtime::{Quiet, RuntimeError};
use customer::{Day, Interrupted};
use gas::GasHousehold;
use schedule::{Customer, Rng};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Timers run this many times faster than the channels' own (45 s to reverse becomes 0.15 s).
pub const DIVISOR: u32 = 300;

/// Runs `seeds`, `at_once` at a time (a seed is mostly waiting), handing each outcome to
/// `done` as it ends; stops starting new seeds once `done` returns false.
pub async fn run_many(
    seeds: impl IntoIterator<Item = u64>,
    at_once: usize,
    keys_dir: &Path,
    work: &Path,
    max_customers: u64,
    mut done: impl FnMut(u64, Result<SeedReport, String>) -> bool,
) {
    let mut pending = seeds.into_iter();
    let mut running = tokio::task::JoinSet::new();
    let mut seed_of = std::collections::HashMap::new();
    let mut go_on = true;
    loop {
        while go_on && running.len() < at_once.max(1) {
            let Some(seed) = pending.next() else { break };
            let (keys, work) = (keys_dir.to_path_buf(), work.to_path_buf());
            let task = running.spawn(async move { run_seed(seed, &keys, &work, max_customers).await });
            seed_of.insert(task.id(), seed);
        }
        let Some(joined) = running.join_next_with_id().await else { return };
        let (seed, outcome) = match joined {
            Ok((id, outcome)) => (seed_of.remove(&id).unwrap_or_default(), outcome),
            Err(panicked) => {
                (seed_of.remove(&panicked.id()).unwrap_or_default(), Err(format!("panicked: {panicked}")))
            }
        };
        go_on &= done(seed, outcome);
    }
}

/// Runs one seed in a fresh data folder under `work` and checks it. The folder stays when the
/// seed fails, for a look at its journal, with the day played (`day.json`, see [`PinnedDay`]).
pub async fn run_seed(
    seed: u64,
    keys_dir: &Path,
    work: &Path,
    max_customers: u64,
) -> Result<SeedReport, String> {
    run_day(&PinnedDay::drawn(seed, max_customers), keys_dir, work).await
}

/// A day written down: a seed's customers as its schedule drew them, kept when the day failed,
/// so that it replays as it was however the schedule changes later (`yizhan soak --day FILE`,
/// and the regression days in `crates/yizhan/tests/soak-days/`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedDay {
    pub seed: u64,
    /// What it found.
    #[serde(default)]
    pub why: String,
    pub customers: Vec<Customer>,
}

impl PinnedDay {
    /// Seed `seed`'s day as today's schedule draws it.
    pub fn drawn(seed: u64, max_customers: u64) -> PinnedDay {
        PinnedDay { seed, why: String::new(), customers: schedule::customers(seed, max_customers) }
    }

    pub fn read(path: &Path) -> Result<PinnedDay, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Plays `day` in a fresh data folder under `work` and checks it.
pub async fn run_day(day: &PinnedDay, keys_dir: &Path, work: &Path) -> Result<SeedReport, String> {
    let started = Instant::now();
    let data = work.join(format!("seed-{}", day.seed));
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let written = serde_json::to_string_pretty(day).map_err(|e| e.to_string())?;
    std::fs::write(data.join("day.json"), written).map_err(|e| e.to_string())?;
    let clock = Arc::new(AtomicI64::new(0));
    // Boxed, like the customer and the recovery inside: a whole day's future nested by value
    // overflowed a worker thread's 2 MiB stack in debug builds.
    let played = crate::clock::steppable(Arc::clone(&clock), Box::pin(play_day(day, keys_dir, &data, clock)));
    let mut report = played.await?;
    if report.violations.is_empty() {
        let _ = std::fs::remove_dir_all(&data);
    }
    report.took = started.elapsed();
    Ok(report)
}

async fn play_day(
    pinned: &PinnedDay,
    keys_dir: &Path,
    data: &Path,
    clock: Arc<AtomicI64>,
) -> Result<SeedReport, String> {
    let seed = pinned.seed;
    // With devices: the bank card terminal and its slot, the IC card slot, on pseudo-terminals.
    let mut backend =
        Backend::start_embedded(keys_dir, data, DIVISOR, true).await.map_err(|e| e.to_string())?;
    let mut report = SeedReport { seed, ..Default::default() };
    let household = GasHousehold::new(&backend, seed)?;
    let codes = Rng::new(seed.wrapping_mul(31).wrapping_add(7));
    let mut day = Day { seed, codes, household, clock, helpers: Vec::new(), cash_orders: Vec::new() };
    let customers = &pinned.customers;
    report.races_a_timer = customers.iter().any(Customer::races_a_timer);
    for (index, c) in customers.iter().enumerate() {
        report.counts.customers += 1;
        let served = Instant::now();
        let interrupted = Box::pin(customer::serve(&backend, &mut day, index, c)).await?;
        report.counts.disk_full += u64::from(interrupted == Interrupted::DiskFull);
        let kills_before = report.counts.kills;
        if interrupted == Interrupted::PowerCut {
            report.counts.kills += 1;
            customer::acceptor_loses_power(&backend);
            // The kiosk starts again: from its journal, with every start-up check.
            backend = backend.restart().await.map_err(|e| format!("restart after customer {index}: {e}"))?;
        }
        backend = Box::pin(recover_until_quiet(backend, c.recovery_cut, &mut report.counts.kills)).await?;
        customer::after_customer(&backend, c, &mut day).await?;
        let interruption = match (interrupted, report.counts.kills - kills_before) {
            (Interrupted::DiskFull, _) => ", disk full",
            (_, 2) => ", power cut, and again during recovery",
            (Interrupted::PowerCut, _) => ", power cut",
            (_, 1) => ", power cut during recovery",
            _ => "",
        };
        report
            .story
            .push(format!("customer {index}: {c:?} — {:.1} s{interruption}", served.elapsed().as_secs_f64()));
    }
    settle_the_day(&backend).await?;
    day.household.end_of_day(&backend).await?;
    // Checked before staff act too: staff resolving a payment must not hide how the kiosk left
    // it; the gas meter against the day as the kiosk left it (staff may settle a sold purchase
    // that never reached the card: 补写卡 from the gas company's list is then the customer's).
    report.violations = checks::journal(&backend).await?;
    report.violations.extend(day.household.check(&backend).await?);
    // Staff empty the cash box: the journal's count against the notes really in it.
    let cash = checks::cash(&backend, &day.cash_orders).await?;
    report.violations.extend(cash.violations);
    report.counts.notes_in_box = cash.notes_in_box;
    let mut staff_rng = Rng::new(seed.wrapping_mul(13).wrapping_add(5));
    if staff_rng.chance(70) {
        report.counts.staff_resolved = staff::settle_suspense(&backend, &mut staff_rng).await?.resolved;
        report.violations.extend(checks::journal(&backend).await?);
    }
    let mut seen = std::collections::HashSet::new();
    report.violations.retain(|v| seen.insert((v.order.clone(), v.what.clone())));
    report.outcomes = checks::outcomes(&backend).await?;
    report.counts.gas_credited = day.household.meter.loads().len() as u64;
    let rows = backend.runtime.journal.list(10_000, 0).await.map_err(|e| e.to_string())?;
    report.counts.parked = rows.iter().filter(|r| r.parked).count() as u64;
    Ok(report)
}

/// Rounds of recovery allowed before it counts as not converging.
const RECOVERY_ROUNDS: usize = 20;

/// Recovery, as after a restart and as the kiosk's settler does between customers, until
/// nothing is unfinished (a fault left over can cut a round short: a few rounds). `cut`: the
/// power fails again during it, and the kiosk restarts once more. Counts cuts in `kills`.
/// What is still unfinished after the rounds is reported by the end-of-day checks.
async fn recover_until_quiet(
    mut backend: Backend,
    cut: Option<Cut>,
    kills: &mut u64,
) -> Result<Backend, String> {
    // The terminal's trouble was for this customer's sale; a cut before the sale went out must
    // not leave it waiting for the recovery's reversal.
    if let Some(terminal) = &backend.runtime.devices.sims.bankcard {
        terminal.clear_faults();
    }
    if let Some(cut) = cut {
        backend.runtime.simulated_cut.arm(cut);
    }
    for _ in 0..RECOVERY_ROUNDS {
        match Box::pin(backend.runtime.recover(&Quiet)).await {
            Ok(_) => {}
            Err(RuntimeError::PowerCut) => {
                *kills += 1;
                customer::acceptor_loses_power(&backend);
                backend = backend.restart().await.map_err(|e| format!("restart during recovery: {e}"))?;
                continue;
            }
            Err(error) => return Err(format!("recovery: {}", crate::backend::causes(&error))),
        }
        if backend.runtime.journal.load_unfinished().await.map_err(|e| e.to_string())?.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    backend.runtime.simulated_cut.disarm();
    Ok(backend)
}

/// How long the end of the day may take to settle refunds and re-checks (their backoffs are
/// scaled down): long enough that a busy machine does not change how a day ends.
const SETTLING: Duration = Duration::from_secs(5);

/// The end of the day: faults cleared, the settler runs while refunds and re-checks fall due.
async fn settle_the_day(backend: &Backend) -> Result<(), String> {
    customer::clear_faults(backend);
    let until = Instant::now() + SETTLING;
    let journal = &backend.runtime.journal;
    while Instant::now() < until {
        backend.runtime.settle_due(&Quiet).await.map_err(|e| format!("settling the day: {e}"))?;
        let refunds_pending = journal
            .load_parked()
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .any(|r| r.state == "REFUND_PENDING");
        if !refunds_pending && journal.load_unfinished().await.map_err(|e| e.to_string())?.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Where seeds run: a folder of its own under the system's temporary folder.
pub fn work_dir() -> PathBuf {
    std::env::temp_dir().join(format!("yizhan-soak-{}", std::process::id()))
}
