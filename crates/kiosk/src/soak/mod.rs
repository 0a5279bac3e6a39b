//! `yizhan soak`: seeded simulations of the whole kiosk runtime — the real payment machine, the
//! real journal on a real file, the real channel and biller clients over loopback HTTP to the
//! simulators, the real drivers over pty simulators — with a seeded day of customers, the faults
//! of payments.md §10 waiting at the simulators, and power cuts at any journal commit or after
//! any answered call, each followed by recovery. After every seed the simulators' books are held
//! against the invariants (see [`checks`]); a violation names its seed and the command that
//! replays it. The idea is TigerBeetle's VOPR and FoundationDB's simulation, within what a kiosk
//! with real sockets allows: the schedule and faults come from the seed; timing is real (scaled
//! down by the timing divisor), so a seed replays the same customers, faults and cuts, and its
//! invariants must hold however the timing falls.

pub mod checks;
pub mod gas;
pub mod schedule;
pub mod staff;

use crate::backend::Backend;
use crate::runtime::crash_point::Cut;
use crate::runtime::{PayMethod, Quiet, RuntimeError};
use checks::Violation;
use gas::GasHousehold;
use kiosk_core::{route_payment_code, utility::luhn_check_digit, Channel, Order, PaymentCode, Utility};
use schedule::{Bill, Customer, Rng, TerminalTrouble};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Timers run this many times faster than the channels' own (45 s to reverse becomes 0.15 s).
pub const DIVISOR: u32 = 300;

/// What one seed did.
#[derive(Clone, Debug, Default)]
pub struct SeedReport {
    pub seed: u64,
    pub customers: u64,
    pub kills: u64,
    /// Payments that ended (or stayed) in suspense or with a refund on its way.
    pub parked: u64,
    /// Gas purchases the household's meter credited.
    pub gas_credited: u64,
    /// Suspense staff settled from the statements at the end of the day.
    pub staff_resolved: u64,
    /// Payments a full disk stopped.
    pub disk_full: u64,
    /// Wall time of the seed.
    pub took: Duration,
    /// One line a customer: who they were, what waited for them, how long they took.
    pub story: Vec<String>,
    /// Each payment's end, in the order the journal took them: its state and what the
    /// simulators' books hold for it (order numbers left out: they carry the time).
    pub outcomes: Vec<String>,
    /// Whether the day races a timer (see [`Customer::races_a_timer`]): its outcomes may then
    /// differ between runs, its invariants may not.
    pub races_a_timer: bool,
    pub violations: Vec<Violation>,
}

/// All seeds together, for the closing line.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub seeds: u64,
    pub customers: u64,
    pub kills: u64,
    pub parked: u64,
    pub gas_credited: u64,
    pub staff_resolved: u64,
    pub disk_full: u64,
    /// The slowest seed and its wall time.
    pub slowest: Option<(u64, Duration)>,
    pub lost: u64,
    pub doubled: u64,
    pub failed_seeds: Vec<u64>,
}

impl Totals {
    pub fn add(&mut self, report: &SeedReport) {
        self.seeds += 1;
        self.customers += report.customers;
        self.kills += report.kills;
        self.parked += report.parked;
        self.gas_credited += report.gas_credited;
        self.staff_resolved += report.staff_resolved;
        self.disk_full += report.disk_full;
        if self.slowest.is_none_or(|(_, took)| report.took > took) {
            self.slowest = Some((report.seed, report.took));
        }
        self.lost += report.violations.iter().filter(|v| v.lost).count() as u64;
        self.doubled += report.violations.iter().filter(|v| v.doubled).count() as u64;
        if !report.violations.is_empty() {
            self.failed_seeds.push(report.seed);
        }
    }

    /// `N seeds, C customers, K kills, 0 lost, 0 doubled`.
    pub fn line(&self) -> String {
        format!(
            "{} seeds, {} customers, {} kills, {} lost, {} doubled ({} payments stopped by a full disk, {} gas purchases credited by the meters, {} suspense settled by staff, {} left parked)",
            self.seeds,
            self.customers,
            self.kills,
            self.lost,
            self.doubled,
            self.disk_full,
            self.gas_credited,
            self.staff_resolved,
            self.parked
        )
    }
}

/// Runs one seed in a fresh data folder under `work` and checks it.
pub async fn run_seed(
    seed: u64,
    keys_dir: &Path,
    work: &Path,
    max_customers: u64,
) -> Result<SeedReport, String> {
    let started = Instant::now();
    let data = work.join(format!("seed-{seed}"));
    let clock = Arc::new(AtomicI64::new(0));
    let played =
        crate::clock::steppable(Arc::clone(&clock), play_day(seed, keys_dir, &data, max_customers, clock));
    let report = played.await;
    let _ = std::fs::remove_dir_all(&data);
    let mut report = report?;
    report.took = started.elapsed();
    Ok(report)
}

/// What a seed's day carries from customer to customer.
struct Day {
    seed: u64,
    /// Payment codes, from their own generator so that the schedule does not depend on them.
    codes: Rng,
    household: GasHousehold,
    /// How far the kiosk's clock has been stepped.
    clock: Arc<AtomicI64>,
}

async fn play_day(
    seed: u64,
    keys_dir: &Path,
    data: &Path,
    max_customers: u64,
    clock: Arc<AtomicI64>,
) -> Result<SeedReport, String> {
    // With devices: the bank card terminal and its slot, the IC card slot, on pseudo-terminals.
    let mut backend =
        Backend::start_embedded(keys_dir, data, DIVISOR, true).await.map_err(|e| e.to_string())?;
    let mut report = SeedReport { seed, ..Default::default() };
    let household = GasHousehold::new(&backend, seed)?;
    let mut day = Day { seed, codes: Rng::new(seed.wrapping_mul(31).wrapping_add(7)), household, clock };
    let customers = schedule::customers(seed, max_customers);
    report.races_a_timer = customers.iter().any(Customer::races_a_timer);
    for (index, customer) in customers.into_iter().enumerate() {
        report.customers += 1;
        let served = Instant::now();
        let interrupted = serve(&backend, &mut day, index, &customer).await?;
        let killed = interrupted == Interrupted::PowerCut;
        report.disk_full += u64::from(interrupted == Interrupted::DiskFull);
        report.kills += u64::from(killed);
        if killed {
            // The kiosk starts again: from its journal, with every start-up check.
            backend = backend.restart().await.map_err(|e| format!("restart after customer {index}: {e}"))?;
        }
        let kills_before = report.kills;
        backend = recover_until_quiet(backend, customer.recovery_cut, &mut report.kills).await?;
        after_customer(&backend, &customer, &mut day.household).await?;
        report.story.push(format!(
            "customer {index}: {customer:?} — {:.1} s{}{}",
            served.elapsed().as_secs_f64(),
            match interrupted {
                Interrupted::No => "",
                Interrupted::PowerCut => ", power cut",
                Interrupted::DiskFull => ", disk full",
            },
            if report.kills > kills_before { ", power cut during recovery" } else { "" }
        ));
    }
    settle_the_day(&backend).await;
    day.household.end_of_day(&backend).await?;
    let mut staff_rng = Rng::new(seed.wrapping_mul(13).wrapping_add(5));
    if staff_rng.chance(70) {
        report.staff_resolved = staff::settle_suspense(&backend, &mut staff_rng).await?.resolved;
    }
    report.violations = checks::journal(&backend).await?;
    report.outcomes = checks::outcomes(&backend).await?;
    report.violations.extend(day.household.check(&backend).await?);
    report.gas_credited = day.household.meter.loads().len() as u64;
    let rows = backend.runtime.journal.list(10_000, 0).await.map_err(|e| e.to_string())?;
    report.parked = rows.iter().filter(|r| r.parked).count() as u64;
    Ok(report)
}

/// One customer: the bill, the faults, the payment; and what cut it short.
async fn serve(backend: &Backend, day: &mut Day, index: usize, c: &Customer) -> Result<Interrupted, String> {
    let runtime = &backend.runtime;
    let (seed, household) = (day.seed, &mut day.household);
    let order = match c.bill {
        Bill::GasTopUp { .. } => {
            // Since the last visit the card went into the meter at home.
            household.load_meter(backend);
            household.insert(backend, c.card_pulled_after)?;
            None
        }
        _ => Some(order_for(backend, seed, index, c).await?),
    };
    inject_faults(backend, c)?;
    if let Some(seed) = c.line_noise {
        let noise = || {
            device::fault::FaultPlan::flaky_cable().with_odds(device::fault::Fault::Duplicate, 50).seed(seed)
        };
        match (&c.bill, &runtime.devices.sims) {
            (Bill::GasTopUp { .. }, sims) => sims.iccard.iter().for_each(|slot| slot.set_faults(noise())),
            (_, sims) => sims.bankcard.iter().for_each(|terminal| terminal.set_fault_plan(noise())),
        }
    }
    if let Some(cut) = c.cut {
        runtime.simulated_cut.arm(cut);
    }
    let method = if c.channel == Channel::BankCard {
        // The customer inserts a card when the slot asks and takes it back when offered.
        crate::commands::customer::bank_card_customer(backend, true);
        if let (Some(trouble), Some(terminal)) = (c.terminal, &runtime.devices.sims.bankcard) {
            terminal.push_fault(match trouble {
                TerminalTrouble::AnswerLost => bankcard::sim::TerminalFault::DropResponse,
                TerminalTrouble::RequestLost => bankcard::sim::TerminalFault::LoseRequest,
                TerminalTrouble::Slow(polls) => bankcard::sim::TerminalFault::InProgress { polls },
            });
        }
        PayMethod::BankCard
    } else {
        PayMethod::Code(payment_code(c.channel, &mut day.codes))
    };
    if let Some(jump) = c.clock_jump {
        // The kiosk's clock is stepped while the customer pays (and stays stepped).
        let clock = Arc::clone(&day.clock);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(jump.after_ms)).await;
            clock.fetch_add(jump.by_ms, Ordering::Relaxed);
        });
    }
    if c.disk_full {
        runtime.journal.simulate_full_disk(true).await.map_err(|e| e.to_string())?;
    }
    let cut_short = match (order, &c.bill) {
        (Some(order), _) => match runtime.pay_order_with(order, method, &Quiet).await {
            Ok(_) => None,
            // Refused before money moved (a bill changed to nothing due…): nothing to check.
            Err(error) if error.exit_code() == 2 => None,
            Err(error) => Some(error),
        },
        (None, Bill::GasTopUp { amount_fen }) => household.top_up(backend, *amount_fen, method).await?,
        (None, _) => unreachable!("only a top-up has no bill to fetch"),
    };
    runtime.simulated_cut.disarm();
    if c.disk_full {
        // Staff free space; the kiosk goes on in the same process.
        runtime.journal.simulate_full_disk(false).await.map_err(|e| e.to_string())?;
    }
    match cut_short {
        None => Ok(Interrupted::No),
        Some(RuntimeError::PowerCut) => Ok(Interrupted::PowerCut),
        Some(RuntimeError::Journal(_)) if c.disk_full => Ok(Interrupted::DiskFull),
        Some(error) => Err(format!("customer {index}: {}", crate::backend::causes(&error))),
    }
}

/// What cut a customer's payment short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Interrupted {
    No,
    PowerCut,
    /// A journal write failed for want of space: the payment stopped there, nothing after it ran.
    DiskFull,
}

/// After the customer and the recovery: a gas card's 补写卡 if the customer asks now, and the
/// card back.
async fn after_customer(backend: &Backend, c: &Customer, household: &mut GasHousehold) -> Result<(), String> {
    clear_faults(backend);
    if matches!(c.bill, Bill::GasTopUp { .. }) {
        // A card write that failed waits for 补写卡: now, or at the customer's next visit.
        household.rewrite_and_leave(backend, c.rewrites_at_once).await?;
    }
    Ok(())
}

/// The customer's bill, put in the billers' books, fetched and made an order; someone pays part
/// of it at the counter meanwhile when the schedule says so (F17).
async fn order_for(backend: &Backend, seed: u64, index: usize, c: &Customer) -> Result<Order, String> {
    let runtime = &backend.runtime;
    let sims = backend.sims.as_ref().ok_or("the soak needs the embedded back end")?;
    match &c.bill {
        Bill::One { utility, due_fen } => {
            let account = account_of(*utility, seed, index);
            put_account(backend, *utility, &account, *due_fen)?;
            let bill = runtime.fetch_bill(*utility, &account).await.map_err(|e| e.to_string())?;
            if let Some(fen) = c.paid_elsewhere_fen {
                sims.billers.get(*utility).sim.pay_elsewhere(&account, fen);
            }
            Order::for_bill(runtime.new_order_ref(), &runtime.identity.kiosk_id, crate::clock::now(), &bill)
        }
        Bill::Joint { water, power, gas } => {
            let joint = account_of(Utility::Power, seed, 1_000 + index);
            let (w, p, g) = (
                account_of(Utility::Water, seed, index),
                account_of(Utility::Power, seed, index),
                account_of(Utility::Gas, seed, index),
            );
            put_account(backend, Utility::Water, &w, *water)?;
            put_account(backend, Utility::Power, &p, *power)?;
            put_account(backend, Utility::Gas, &g, *gas)?;
            let household: billers::sim::Household = serde_json::from_value(serde_json::json!({
                "joint_account": joint, "holder_masked": "李*", "water": w, "power": p, "gas": g,
            }))
            .map_err(|e| e.to_string())?;
            sims.billers.joint.sim.put_household(household);
            let bill = runtime.fetch_joint_bill(&joint).await.map_err(|e| e.to_string())?;
            Order::for_joint_bill(
                runtime.new_order_ref(),
                &runtime.identity.kiosk_id,
                crate::clock::now(),
                &bill,
            )
        }
        Bill::GasTopUp { .. } => return Err("a gas top-up has no bill to fetch".into()),
    }
    .map_err(|e| e.to_string())
}

/// Puts the customer's faults in wait at the simulators.
fn inject_faults(backend: &Backend, c: &Customer) -> Result<(), String> {
    let sims = backend.sims.as_ref().ok_or("the soak needs the embedded back end")?;
    if let Some(ending) = c.refund_fails {
        match c.channel {
            Channel::WeChat => sims.channels.wechat.end_next_refund(ending),
            _ => sims.channels.unionpay.end_next_refund(ending),
        }
    }
    for f in &c.faults {
        let plan = match f.sim.as_str() {
            "wechat" => sims.channels.wechat.faults(),
            "alipay" => sims.channels.alipay.faults(),
            "unionpay" => sims.channels.unionpay.faults(),
            utility => {
                sims.billers.get(utility.parse().map_err(|_| format!("no simulator {utility}"))?).sim.faults()
            }
        };
        plan.inject(f.endpoint, f.fault.clone(), f.times);
    }
    Ok(())
}

/// Recovery, as after a restart and as the kiosk's settler does between customers, until
/// nothing is unfinished (a fault left over can cut a round short: a few rounds). `cut`: the
/// power fails again during it, and the kiosk restarts once more. Counts cuts in `kills`.
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
    for _ in 0..20 {
        match backend.runtime.recover(&Quiet).await {
            Ok(_) => {}
            Err(RuntimeError::PowerCut) => {
                *kills += 1;
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

/// The end of the day: faults cleared, the settler runs while refunds and re-checks fall due
/// (their backoffs are scaled down), for a bounded time.
async fn settle_the_day(backend: &Backend) {
    clear_faults(backend);
    let until = Instant::now() + Duration::from_millis(1_500);
    while Instant::now() < until {
        let _ = backend.runtime.settle_due(&Quiet).await;
        let rows = backend.runtime.journal.load_parked().await.unwrap_or_default();
        if rows.iter().all(|r| r.state != "REFUND_PENDING")
            && backend.runtime.journal.load_unfinished().await.unwrap_or_default().is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn clear_faults(backend: &Backend) {
    let devices = &backend.runtime.devices.sims;
    devices.iccard.iter().for_each(|slot| slot.set_faults(device::fault::FaultPlan::none()));
    devices.bankcard.iter().for_each(|terminal| terminal.set_fault_plan(device::fault::FaultPlan::none()));
    if let Some(sims) = &backend.sims {
        sims.channels.wechat.faults().clear();
        sims.channels.alipay.faults().clear();
        sims.channels.unionpay.faults().clear();
        sims.channels.wechat.end_next_refund(payments::sim::RefundEnding::Success);
        sims.channels.unionpay.end_next_refund(payments::sim::RefundEnding::Success);
        for utility in [Utility::Water, Utility::Power, Utility::Gas] {
            sims.billers.get(utility).sim.faults().clear();
        }
    }
}

fn put_account(backend: &Backend, utility: Utility, account: &str, due_fen: i64) -> Result<(), String> {
    let sims = backend.sims.as_ref().ok_or("the soak needs the embedded back end")?;
    let seed: billers::sim::AccountSeed =
        serde_json::from_value(serde_json::json!({ "account": account, "amount_due_fen": due_fen }))
            .map_err(|e| e.to_string())?;
    sims.billers.get(utility).sim.put_account(seed);
    Ok(())
}

/// An account number of `utility` for customer `index` of `seed`, valid by its check digit.
pub(crate) fn account_of(utility: Utility, seed: u64, index: usize) -> String {
    let (prefix, len) = match utility {
        Utility::Water => ("7", 9u32),
        Utility::Power => ("8", 10),
        Utility::Gas => ("9", 10),
    };
    let serial = (seed.wrapping_mul(10_007) + index as u64) % 10u64.pow(len - 2);
    let body = format!("{prefix}{serial:0width$}", width = (len - 2) as usize);
    let check = luhn_check_digit(&body).unwrap_or(0);
    format!("{body}{check}")
}

/// A fresh payment code of `channel`, from the seed.
fn payment_code(channel: Channel, rng: &mut Rng) -> PaymentCode {
    let text = match channel {
        Channel::WeChat => format!("13{:016}", rng.below(10u64.pow(16))),
        Channel::Alipay => format!("28{:016}", rng.below(10u64.pow(16))),
        _ => format!("62{:017}", rng.below(10u64.pow(17))),
    };
    route_payment_code(&text).unwrap_or_else(|_| unreachable!("{text} has the channel's shape"))
}

/// Where seeds run: a folder of its own under the system's temporary folder.
pub fn work_dir() -> PathBuf {
    std::env::temp_dir().join(format!("yizhan-soak-{}", std::process::id()))
}
