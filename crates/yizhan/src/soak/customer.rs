//! One customer of a seed's day: their bill put in the billers' books, the faults waiting for
//! them at the simulators and on the serial lines, the power cut, full disk or clock step armed,
//! and the payment itself; then, after recovery, their gas card back.

use super::gas::GasHousehold;
use super::schedule::{Bill, CashVisit, Customer, NoteTrouble, Rng, TerminalTrouble};
use crate::backend::{Backend, EmbeddedSims};
use crate::runtime::{CashUnavailable, PayMethod, Quiet, RuntimeError};
use kiosk_core::{route_payment_code, utility::luhn_check_digit, Channel, Order, PaymentCode, Utility};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// What cut a customer's payment short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupted {
    No,
    PowerCut,
    /// A journal write failed for want of space: the payment stopped there, nothing after it ran.
    DiskFull,
}

/// What a day carries from customer to customer.
pub struct Day {
    pub seed: u64,
    /// Payment codes, from their own generator so that the schedule does not depend on them.
    pub codes: Rng,
    pub household: GasHousehold,
    /// How far the kiosk's clock has been stepped (see `crate::clock::steppable`).
    pub clock: Arc<AtomicI64>,
    /// Tasks acting for the present customer (inserting a bank card, stepping the clock): they
    /// end when the customer leaves.
    pub helpers: Vec<JoinHandle<()>>,
    /// The orders customers paid in notes, for the cash checks at the end of the day.
    pub cash_orders: Vec<String>,
}

/// The embedded simulators (the soak always starts with them).
pub fn sims(backend: &Backend) -> Result<&EmbeddedSims, String> {
    backend.sims.as_ref().ok_or_else(|| "the soak needs the embedded back end".into())
}

/// The customer pays; returns what cut the payment short.
pub async fn serve(
    backend: &Backend,
    day: &mut Day,
    index: usize,
    c: &Customer,
) -> Result<Interrupted, String> {
    let runtime = &backend.runtime;
    let order = match c.bill {
        Bill::GasTopUp { .. } => {
            // Since the last visit the card went into the meter at home.
            day.household.load_meter(backend);
            day.household.insert(backend, c.card_pulled_after)?;
            None
        }
        _ => Some(order_for(backend, day.seed, index, c).await?),
    };
    inject_faults(backend, c)?;
    let method = match c.channel {
        // Notes at the acceptor, below.
        Channel::Cash => None,
        Channel::BankCard => {
            // The customer inserts a card when the slot asks and takes it back when offered.
            day.helpers.extend(crate::commands::customer::bank_card_customer_task(backend, true));
            Some(PayMethod::BankCard)
        }
        channel => Some(PayMethod::Code(payment_code(channel, &mut day.codes))),
    };
    if let Some(jump) = c.clock_jump {
        // The kiosk's clock is stepped while the customer pays (and stays stepped).
        let clock = Arc::clone(&day.clock);
        day.helpers.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(jump.after_ms)).await;
            clock.fetch_add(jump.by_ms, Ordering::Relaxed);
        }));
    }
    if let Some(cut) = c.cut {
        runtime.simulated_cut.arm(cut);
    }
    if c.disk_full {
        runtime.journal.simulate_full_disk(true).await.map_err(|e| e.to_string())?;
    }
    let cut_short = match (order, &c.bill, method) {
        (Some(order), _, Some(method)) => match runtime.pay_order_with(order, method, &Quiet).await {
            Ok(_) => None,
            Err(error) if refused_before_money(&error) => None,
            Err(error) => Some(error),
        },
        (None, Bill::GasTopUp { amount_fen }, Some(method)) => {
            day.household.top_up(backend, *amount_fen, method).await?
        }
        (order, bill, None) => {
            let visit = c.cash.as_ref().ok_or("a cash customer without notes")?;
            let order = match (order, bill) {
                (Some(order), _) => Ok(order),
                (None, Bill::GasTopUp { amount_fen }) => {
                    day.household.top_up_order(backend, *amount_fen).await
                }
                (None, _) => unreachable!("only a top-up has no bill to fetch"),
            };
            match order {
                Ok(order) => pay_in_notes(backend, day, order, visit).await?,
                Err(stopped) => stopped?,
            }
        }
        (None, _, Some(_)) => unreachable!("only a top-up has no bill to fetch"),
    };
    runtime.simulated_cut.disarm();
    if c.disk_full {
        // Staff free space; the kiosk goes on in the same process.
        runtime.journal.simulate_full_disk(false).await.map_err(|e| e.to_string())?;
    }
    match cut_short {
        None => Ok(Interrupted::No),
        Some(RuntimeError::PowerCut) => Ok(Interrupted::PowerCut),
        Some(RuntimeError::Journal(error)) if c.disk_full && error.is_disk_full() => {
            Ok(Interrupted::DiskFull)
        }
        Some(error) => Err(format!("customer {index}: {}", crate::backend::causes(&error))),
    }
}

/// The kiosk refused the order before any money moved (the customer is told why): nothing to
/// check. Any other error ends the seed.
pub fn refused_before_money(error: &RuntimeError) -> bool {
    match error {
        // No bank card inserted in time: the customer walked away before paying.
        RuntimeError::Order(_) | RuntimeError::AboveCeiling { .. } | RuntimeError::NoBankCard => true,
        // No cash now (a jam staff have not cleared, the box full), or notes cannot make the bill
        // exactly: said before the first note.
        RuntimeError::Cash(why) => !matches!(why, CashUnavailable::BadRecord(_)),
        _ => false,
    }
}

/// The customer puts their notes into the acceptor (the trouble waiting for one of them) and
/// leaves once the head has dealt with every one; the kiosk takes them for `order`.
async fn pay_in_notes(
    backend: &Backend,
    day: &mut Day,
    order: Order,
    visit: &CashVisit,
) -> Result<Option<RuntimeError>, String> {
    let sim = acceptor(backend)?;
    day.cash_orders.push(order.reference.to_string());
    for (i, &yuan) in visit.notes.iter().enumerate() {
        if let (Some(NoteTrouble::Suspect(reason)), true) = (visit.trouble, i + 1 == visit.notes.len()) {
            sim.insert_suspect(reason);
        }
        sim.insert(yuan);
    }
    match visit.trouble {
        Some(NoteTrouble::JamInStacker) => sim.jam_next_stack(),
        Some(NoteTrouble::JamInAcceptor) => sim.jam_next_read(),
        Some(NoteTrouble::AckLost) => sim.lose_next_ack(),
        Some(NoteTrouble::Cheat) => sim.cheat_next(),
        Some(NoteTrouble::Suspect(_)) | None => {}
    }
    // Gone once every note is dealt with: credited, given back, or stuck.
    let customer = crate::commands::customer::cash_customer(backend, &[])?;
    match backend.runtime.pay_cash(order, customer.as_ref(), &Quiet).await {
        Ok(_) => Ok(None),
        // The head stopped answering mid-payment: the intake is on record, open, and the
        // recovery after the customer settles it from the head's status.
        Err(RuntimeError::CashDevice(error)) => {
            tracing::info!(%error, "soak: the acceptor failed mid-payment; recovery settles the notes");
            Ok(None)
        }
        Err(error) if refused_before_money(&error) => Ok(None),
        Err(error) => Ok(Some(error)),
    }
}

/// The simulated banknote acceptor.
pub fn acceptor(backend: &Backend) -> Result<&std::sync::Arc<cash::sim::AcceptorSim>, String> {
    backend.runtime.devices.sims.cash.as_ref().ok_or_else(|| "the soak needs the simulated acceptor".into())
}

/// The power fails for the whole kiosk: the acceptor's head powers down with it (a note on its
/// way into the box finishes going in) and reports where its note was at the next poll.
pub fn acceptor_loses_power(backend: &Backend) {
    if let Some(sim) = &backend.runtime.devices.sims.cash {
        sim.power_cut();
    }
}

/// After the customer and the recovery: the faults cleared, a gas card's 补写卡 if the customer
/// asks now, the card back; the customer's helpers end.
pub async fn after_customer(backend: &Backend, c: &Customer, day: &mut Day) -> Result<(), String> {
    clear_faults(backend);
    if let Some(sim) = &backend.runtime.devices.sims.cash {
        // Notes never pushed in go back into the purse.
        sim.take_back_queued();
        // A jam or a cheat: staff open the head, take out what is stuck (held for them on
        // record) and switch it off and on.
        if matches!(backend.runtime.cash_available().await, Err(CashUnavailable::NeedsStaff(_))) {
            sim.clear_jam();
            sim.power_cut();
        }
    }
    for helper in day.helpers.drain(..) {
        helper.abort();
    }
    // A bank card the kiosk still holds (a cut before it was given back) goes back with its owner.
    if let Some(slot) = &backend.runtime.devices.sims.bankcard_slot {
        slot.take_card();
    }
    if matches!(c.bill, Bill::GasTopUp { .. }) {
        // A card write that failed waits for 补写卡: now, or at the customer's next visit.
        day.household.rewrite_and_leave(backend, c.rewrites_at_once).await?;
    }
    Ok(())
}

/// The customer's bill, put in the billers' books, fetched and made an order; someone pays part
/// of it at the counter meanwhile when the schedule says so (F17).
async fn order_for(backend: &Backend, seed: u64, index: usize, c: &Customer) -> Result<Order, String> {
    let runtime = &backend.runtime;
    let sims = sims(backend)?;
    // A cash customer's accounts may take another amount than the one due (预存, part payment).
    let prepayment = c.cash.as_ref().is_some_and(|visit| visit.prepayment);
    match &c.bill {
        Bill::One { utility, due_fen } => {
            let account = account_of(*utility, seed, index);
            put_account(sims, *utility, &account, *due_fen, prepayment)?;
            let bill = runtime.fetch_bill(*utility, &account).await.map_err(|e| e.to_string())?;
            if let Some(fen) = c.paid_elsewhere_fen {
                sims.billers.get(*utility).sim.pay_elsewhere(&account, fen);
            }
            Order::for_bill(runtime.new_order_ref(), &runtime.identity.kiosk_id, crate::clock::now(), &bill)
        }
        Bill::Joint { water, power, gas } => {
            // The household's joint account: a power-style number of its own range.
            let joint = account_of(Utility::Power, seed, JOINT_ACCOUNTS + index);
            let (w, p, g) = (
                account_of(Utility::Water, seed, index),
                account_of(Utility::Power, seed, index),
                account_of(Utility::Gas, seed, index),
            );
            put_account(sims, Utility::Water, &w, *water, prepayment)?;
            put_account(sims, Utility::Power, &p, *power, prepayment)?;
            put_account(sims, Utility::Gas, &g, *gas, prepayment)?;
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

/// Customer indexes from here on number joint accounts (a day has far fewer customers).
const JOINT_ACCOUNTS: usize = 1_000_000;

/// Puts the customer's faults in wait: at the HTTP simulators, at the bank card terminal, on
/// the serial line to the card device they use, and the channel's next refund's ending.
fn inject_faults(backend: &Backend, c: &Customer) -> Result<(), String> {
    let sims = sims(backend)?;
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
        plan.inject(&f.endpoint, f.fault.clone(), f.times);
    }
    let devices = &backend.runtime.devices.sims;
    if let (Some(trouble), Some(terminal)) = (c.terminal, &devices.bankcard) {
        terminal.push_fault(match trouble {
            TerminalTrouble::AnswerLost => bankcard::sim::TerminalFault::DropResponse,
            TerminalTrouble::RequestLost => bankcard::sim::TerminalFault::LoseRequest,
            TerminalTrouble::Slow(polls) => bankcard::sim::TerminalFault::InProgress { polls },
        });
    }
    if let Some(seed) = c.line_noise {
        let noise = || {
            device::fault::FaultPlan::flaky_cable().with_odds(device::fault::Fault::Duplicate, 50).seed(seed)
        };
        match (c.channel, &c.bill) {
            (Channel::Cash, _) => devices.cash.iter().for_each(|acceptor| acceptor.set_faults(noise())),
            (_, Bill::GasTopUp { .. }) => devices.iccard.iter().for_each(|slot| slot.set_faults(noise())),
            _ => devices.bankcard.iter().for_each(|terminal| terminal.set_fault_plan(noise())),
        }
    }
    Ok(())
}

/// Every fault gone: the lines good again, the simulators answering straight.
pub fn clear_faults(backend: &Backend) {
    let devices = &backend.runtime.devices.sims;
    devices.iccard.iter().for_each(|slot| slot.set_faults(device::fault::FaultPlan::none()));
    devices.cash.iter().for_each(|acceptor| acceptor.set_faults(device::fault::FaultPlan::none()));
    if let Some(terminal) = &devices.bankcard {
        terminal.set_fault_plan(device::fault::FaultPlan::none());
        terminal.clear_faults();
    }
    if let Some(sims) = &backend.sims {
        for channel in [&sims.channels.wechat, &sims.channels.alipay, &sims.channels.unionpay] {
            channel.faults().clear();
        }
        sims.channels.wechat.end_next_refund(payments::sim::RefundEnding::Success);
        sims.channels.unionpay.end_next_refund(payments::sim::RefundEnding::Success);
        for utility in [Utility::Water, Utility::Power, Utility::Gas] {
            sims.billers.get(utility).sim.faults().clear();
        }
    }
}

fn put_account(
    sims: &EmbeddedSims,
    utility: Utility,
    account: &str,
    due_fen: i64,
    prepayment: bool,
) -> Result<(), String> {
    let seed = serde_json::json!({ "account": account, "amount_due_fen": due_fen, "prepayment": prepayment });
    let seed: billers::sim::AccountSeed = serde_json::from_value(seed).map_err(|e| e.to_string())?;
    sims.billers.get(utility).sim.put_account(seed);
    Ok(())
}

/// An account number of `utility` for customer `index` of `seed`, valid by its check digit.
pub fn account_of(utility: Utility, seed: u64, index: usize) -> String {
    let (prefix, len) = match utility {
        Utility::Water => ("7", 9u32),
        Utility::Power => ("8", 10),
        Utility::Gas => ("9", 10),
    };
    let serial = seed.wrapping_mul(10_007).wrapping_add(index as u64) % 10u64.pow(len - 2);
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
