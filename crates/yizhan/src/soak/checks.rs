//! The invariants every seed must keep, checked against the simulators' own books (not the
//! kiosk's word): never charged twice, never written off or sold twice, every fen charged
//! written off or returned — or, for a payment still parked, in suspense with a slip — what the
//! kiosk says it delivered and returned is what the books hold, no money or gas moved under a
//! reference the journal does not hold, and a journal whose whole chain verifies with nothing
//! left unfinished. For cash ([`cash`]): the notes in the simulated box are the ones the journal
//! credited, no payment spends more cash than was credited to it, and cash no payment took is
//! held for staff on record.

use crate::backend::Backend;
use crate::runtime::journaling;
use journal::NoteCustody;
use kiosk_core::payment::State;
use kiosk_core::{Fen, Payment};
use payments::sim::LedgerKind;
use std::collections::{BTreeMap, HashSet};

/// What the books say about one payment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Books {
    /// Each charge the channels or the terminal took under the payment's order number.
    pub charges: Vec<Fen>,
    pub returned: Fen,
    /// What the billers booked under the payment's line references, in their own amounts.
    pub written_off: Fen,
    /// The gas company sold a purchase under the payment's line reference.
    pub sold_gas: bool,
}

impl Books {
    pub fn charged(&self) -> Fen {
        self.charges.iter().fold(Fen::ZERO, |sum, fen| sum + *fen)
    }
}

/// What a broken invariant did to the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Harm {
    /// Money left the customer and went nowhere.
    Lost,
    /// Money (or gas) moved twice.
    Doubled,
    /// The kiosk's account of it is wrong, or the journal is.
    Wrong,
}

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub order: String,
    pub what: String,
    pub harm: Harm,
}

impl Violation {
    pub fn new(order: &str, what: String, harm: Harm) -> Violation {
        Violation { order: order.to_string(), what, harm }
    }
}

/// Reads the channel's and the billers' books for `p`.
pub fn books(backend: &Backend, p: &Payment) -> Books {
    let Some(sims) = &backend.sims else { return Books::default() };
    let mut books = Books::default();
    // Every channel's books, whatever the journal says the channel was: a pay sent before it
    // was journaled, or to the wrong channel, must show up too.
    for channel in [&sims.channels.wechat, &sims.channels.alipay, &sims.channels.unionpay] {
        for entry in channel.ledger().iter().filter(|e| e.out_trade_no == p.id()) {
            match entry.kind {
                LedgerKind::Charge => books.charges.push(entry.amount),
                LedgerKind::Refund | LedgerKind::Reversal => books.returned = books.returned + entry.amount,
                LedgerKind::Closed => {}
            }
        }
    }
    if let Some(terminal) = &backend.runtime.devices.sims.bankcard {
        let entry = terminal.entry(p.id());
        if entry.charges > 0 {
            // The terminal books the sum of its approvals: one entry per approval, the first
            // carrying the whole sum (what matters is how many, and how much in all).
            books.charges.push(entry.approved);
            books.charges.extend((1..entry.charges).map(|_| Fen::ZERO));
        }
        books.returned = books.returned + entry.voided + entry.reversed + entry.refunded;
    }
    if p.is_cash() {
        // The notes are the charge: the payment spends its order's total of them ([`cash`]
        // holds that against what the journal credited and the box holds). Cash staff paid out
        // at the counter has no book but the kiosk's.
        books.charges.push(p.order.total());
        books.returned = books.returned + p.settlement().returned;
    }
    // The billers book each reference once (a repeat gets the first answer), so a double
    // shows as more written off than charged.
    for line in &p.order.lines {
        let ledger = sims.billers.get(line.utility).sim.ledger();
        let bills = ledger.write_offs.iter().filter(|w| w.reference == line.biller_ref).map(|w| w.amount_fen);
        let gas: Vec<i64> = ledger
            .purchases
            .iter()
            .filter(|g| g.reference == line.biller_ref)
            .map(|g| g.amount_fen)
            .collect();
        books.sold_gas |= !gas.is_empty();
        books.written_off = books.written_off + Fen(bills.chain(gas).sum());
    }
    books
}

/// Checks one payment as the journal holds it against the books.
pub async fn payment(backend: &Backend, p: &Payment) -> Vec<Violation> {
    let books = books(backend, p);
    let mut found = Vec::new();
    let mut broken = |what: String, harm: Harm| found.push(Violation::new(p.id(), what, harm));
    if books.charges.len() > 1 {
        broken(format!("charged {} times", books.charges.len()), Harm::Doubled);
    }
    let charged = books.charged();
    let accounted = books.written_off + books.returned;
    if accounted > charged {
        broken(format!("{charged} charged, {accounted} written off or returned"), Harm::Doubled);
    }
    if p.state.is_terminal() {
        if accounted < charged {
            let state = p.state.label();
            broken(
                format!("ended {state} with {charged} charged and only {accounted} accounted for"),
                Harm::Lost,
            );
        }
        // What the receipt says is what happened. A reverse that closed the order "with any
        // amount taken returned" (WeChat's 撤销 does not say whether it had been paid) claims
        // nothing taken: then nothing may have been delivered.
        let said = p.settlement();
        let unknown_whether_taken = matches!(p.state, State::Reversed { refunded: None });
        let as_said = if unknown_whether_taken {
            books.written_off == Fen::ZERO
        } else {
            (said.taken, said.delivered, said.returned) == (charged, books.written_off, books.returned)
        };
        if !as_said {
            broken(
                format!(
                    "ended {} saying {} taken, {} delivered, {} returned; the books: {charged}, {}, {}",
                    p.state.label(),
                    said.taken,
                    said.delivered,
                    said.returned,
                    books.written_off,
                    books.returned
                ),
                Harm::Wrong,
            );
        }
        return found;
    }
    if matches!(p.state, State::AwaitCardWrite { .. }) && !books.sold_gas {
        broken("waits for a card write of gas nobody sold".into(), Harm::Wrong);
    }
    if accounted < charged {
        // Still open money: only in suspense (with a slip in the customer's hand), with a refund
        // on its way, or waiting for a card write of gas the gas company sold.
        let slip = backend
            .runtime
            .journal
            .prints(p.id())
            .await
            .is_ok_and(|rows| rows.iter().any(|r| r.kind == "slip" && r.outcome == "printed"));
        let parked_with_word = match p.state {
            State::Suspense { .. } => slip,
            State::RefundPending => true,
            State::AwaitCardWrite { .. } => books.sold_gas,
            _ => false,
        };
        if !parked_with_word {
            let state = p.state.label();
            broken(format!("left {state} with {charged} charged and {accounted} accounted for"), Harm::Lost);
        }
    }
    found
}

/// Checks the whole journal: every payment, the chain, nothing unfinished.
pub async fn journal(backend: &Backend) -> Result<Vec<Violation>, String> {
    let runtime = &backend.runtime;
    let mut found = Vec::new();
    let rows = runtime.journal.list(10_000, 0).await.map_err(|e| e.to_string())?;
    for row in &rows {
        let p = journaling::restore(row).map_err(|e| e.to_string())?;
        found.extend(payment(backend, &p).await);
    }
    found.extend(unknown_orders(backend, &rows));
    found.extend(unknown_references(backend, &rows)?);
    let unfinished = runtime.journal.load_unfinished().await.map_err(|e| e.to_string())?;
    for row in unfinished {
        found.push(Violation::new(
            &row.id,
            format!("recovery did not converge: still {}", row.state),
            Harm::Wrong,
        ));
    }
    if let Err(distrust) = runtime.journal.verify_whole(&journaling::row_check()).await {
        found.push(Violation::new("-", distrust.to_string(), Harm::Wrong));
    }
    Ok(found)
}

/// Money the simulators moved under an order number the journal does not hold: never allowed.
fn unknown_orders(backend: &Backend, rows: &[journal::PaymentRow]) -> Vec<Violation> {
    let Some(sims) = &backend.sims else { return Vec::new() };
    let known: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut moved: Vec<String> = Vec::new();
    for channel in [&sims.channels.wechat, &sims.channels.alipay, &sims.channels.unionpay] {
        moved.extend(
            channel.ledger().into_iter().filter(|e| e.kind != LedgerKind::Closed).map(|e| e.out_trade_no),
        );
    }
    if let Some(terminal) = &backend.runtime.devices.sims.bankcard {
        moved.extend(terminal.ledger().into_iter().filter(|(_, e)| e.charges > 0).map(|(order, _)| order));
    }
    moved.sort();
    moved.dedup();
    moved
        .into_iter()
        .filter(|order| !known.contains(order.as_str()))
        .map(|order| {
            Violation::new(
                &order,
                "money moved under an order number the journal does not hold".into(),
                Harm::Lost,
            )
        })
        .collect()
}

/// Bills written off or gas sold under a reference no journaled payment holds: value given for
/// no money. Never allowed.
fn unknown_references(backend: &Backend, rows: &[journal::PaymentRow]) -> Result<Vec<Violation>, String> {
    let Some(sims) = &backend.sims else { return Ok(Vec::new()) };
    let mut known = HashSet::new();
    for row in rows {
        let p = journaling::restore(row).map_err(|e| e.to_string())?;
        known.extend(p.order.lines.iter().map(|l| l.biller_ref.clone()));
    }
    let mut found = Vec::new();
    for utility in [kiosk_core::Utility::Water, kiosk_core::Utility::Power, kiosk_core::Utility::Gas] {
        let ledger = sims.billers.get(utility).sim.ledger();
        let booked = ledger
            .write_offs
            .iter()
            .map(|w| &w.reference)
            .chain(ledger.purchases.iter().map(|g| &g.reference));
        for reference in booked.filter(|r| !known.contains(*r)) {
            found.push(Violation::new(
                reference,
                format!("{utility} booked under a reference the journal does not hold"),
                Harm::Doubled,
            ));
        }
    }
    Ok(found)
}

/// Each payment's end, in the order the journal took them: state, and the books' charges,
/// returns and write-offs — what a replay of the seed must reproduce.
pub async fn outcomes(backend: &Backend) -> Result<Vec<String>, String> {
    let journal = &backend.runtime.journal;
    let mut ended = Vec::new();
    for row in journal.list(10_000, 0).await.map_err(|e| e.to_string())? {
        let first =
            journal.transitions(&row.id).await.map_err(|e| e.to_string())?.first().map_or(0, |t| t.seq);
        let p = journaling::restore(&row).map_err(|e| e.to_string())?;
        let books = books(backend, &p);
        let charged: Vec<String> = books.charges.iter().map(Fen::to_string).collect();
        let outcome = format!(
            "{} {}: charged [{}], returned {}, written off {}",
            p.order.total(),
            p.state.label(),
            charged.join(" "),
            books.returned,
            books.written_off
        );
        ended.push((first, outcome));
    }
    ended.sort();
    Ok(ended.into_iter().map(|(_, outcome)| outcome).collect())
}

/// What the cash checks found, and the notes staff took out of the box.
#[derive(Debug, Default)]
pub struct CashDay {
    pub violations: Vec<Violation>,
    pub notes_in_box: u64,
}

/// The day's cash, at its end: each of `orders` (paid in notes) spends no more cash than the
/// journal credited to it, and what it did not spend (owed beside the bills, stuck, in doubt)
/// is held for staff on record; then staff empty the box (清机) and the collection's count is
/// held against the notes really in the simulated box — every note there credited or held for
/// staff, no note credited that is not there, every jammed note on record.
pub async fn cash(backend: &Backend, orders: &[String]) -> Result<CashDay, String> {
    let runtime = &backend.runtime;
    let Some(sim) = &runtime.devices.sims.cash else { return Ok(CashDay::default()) };
    let err = |e: journal::JournalError| e.to_string();
    let cash_box = runtime.journal.cash_box();
    let mut found = Vec::new();
    let told_staff = runtime.journal.staff_actions(10_000, 0).await.map_err(err)?;
    for order in orders {
        let notes = cash_box.notes_of(order).await.map_err(err)?;
        let credited = notes
            .iter()
            .filter(|n| n.state == NoteCustody::Credited)
            .fold(Fen::ZERO, |sum, n| sum + Fen(n.value_fen.unwrap_or(0)));
        let held = notes.iter().any(|n| matches!(n.state, NoteCustody::Stuck | NoteCustody::InDoubt));
        if notes.iter().any(|n| n.state == NoteCustody::Escrowed) {
            found.push(Violation::new(
                order,
                "a note left in escrow at the end of the day".into(),
                Harm::Wrong,
            ));
        }
        let spent = match runtime.journal.get(order).await.map_err(err)? {
            Some(row) => journaling::restore(&row).map_err(|e| e.to_string())?.order.total(),
            None => Fen::ZERO,
        };
        if spent > credited {
            let what = format!("pays {spent} with {credited} of notes credited");
            found.push(Violation::new(order, what, Harm::Doubled));
        }
        let for_staff =
            told_staff.iter().any(|a| a.action == "cash-held-for-staff" && a.detail.contains(order));
        if (credited > spent || held) && !for_staff {
            let what = format!("{credited} credited, {spent} paid, the rest held with no word to staff");
            found.push(Violation::new(order, what, Harm::Lost));
        }
    }
    let count = match runtime.collect_cash("S0001").await {
        Ok(collected) => collected.collection.count,
        Err(error) => {
            found.push(Violation::new(
                "-",
                format!("the cash box could not be collected: {error}"),
                Harm::Wrong,
            ));
            return Ok(CashDay { violations: found, notes_in_box: 0 });
        }
    };
    let jammed = sim.log().jammed as u32;
    let in_box = sim.collect();
    let mut boxed: BTreeMap<i64, u32> = BTreeMap::new();
    for yuan in &in_box {
        *boxed.entry(i64::from(*yuan) * 100).or_default() += 1;
    }
    for (&value, &journaled) in &count.by_value {
        let there = boxed.get(&value).copied().unwrap_or(0);
        if there < journaled {
            let what = format!("{journaled} notes of {} credited, {there} in the box", Fen(value));
            found.push(Violation::new("cash box", what, Harm::Doubled));
        }
    }
    let credited: u32 = count.by_value.values().sum();
    let unrecorded = (in_box.len() as u32).saturating_sub(credited);
    if unrecorded > count.unknown + count.uncertain {
        let what = format!(
            "{unrecorded} notes in the box not credited, {} held for staff, {} unknown",
            count.uncertain, count.unknown
        );
        found.push(Violation::new("cash box", what, Harm::Lost));
    }
    if jammed > count.uncertain {
        let what = format!("{jammed} notes jammed, {} held for staff", count.uncertain);
        found.push(Violation::new("cash box", what, Harm::Lost));
    }
    Ok(CashDay { violations: found, notes_in_box: in_box.len() as u64 })
}
