//! The invariants every seed must keep, checked against the simulators' own books (not the
//! kiosk's word): never charged twice, never written off twice, every fen charged written off or
//! returned — or, for a payment still parked, in suspense with a slip — and a journal whose whole
//! chain verifies with nothing left unfinished.

use crate::backend::Backend;
use crate::runtime::journaling;
use kiosk_core::payment::State;
use kiosk_core::{Fen, Payment};
use payments::sim::LedgerKind;

/// What the books say about one payment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Books {
    pub charges: Vec<Fen>,
    pub returned: Fen,
    pub written_off: Fen,
    /// The most times any one line was written off.
    pub most_write_offs: usize,
}

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub order: String,
    pub what: String,
    /// Money left the customer and went nowhere (`lost`) or moved twice (`doubled`).
    pub lost: bool,
    pub doubled: bool,
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
    with_write_offs(sims, p, books)
}

/// Adds what the billers' books say about `p`'s lines.
fn with_write_offs(sims: &crate::backend::EmbeddedSims, p: &Payment, mut books: Books) -> Books {
    for line in &p.order.lines {
        let written = sims.billers.get(line.utility).sim.ledger();
        // A bill's line is written off; a gas top-up's is the gas company's purchase.
        let times = written.write_offs.iter().filter(|w| w.reference == line.biller_ref).count()
            + written.purchases.iter().filter(|p| p.reference == line.biller_ref).count();
        books.most_write_offs = books.most_write_offs.max(times);
        if times > 0 {
            books.written_off = books.written_off + line.amount;
        }
    }
    books
}

/// Checks one payment as the journal holds it against the books.
pub async fn payment(backend: &Backend, p: &Payment) -> Vec<Violation> {
    let books = books(backend, p);
    let mut found = Vec::new();
    let mut broken = |what: String, lost: bool, doubled: bool| {
        found.push(Violation { order: p.id().to_string(), what, lost, doubled });
    };
    if books.charges.len() > 1 {
        broken(format!("charged {} times", books.charges.len()), false, true);
    }
    if books.most_write_offs > 1 {
        broken(format!("a line written off {} times", books.most_write_offs), false, true);
    }
    let charged = books.charges.iter().fold(Fen::ZERO, |sum, fen| sum + *fen);
    let accounted = books.written_off + books.returned;
    if accounted > charged {
        broken(format!("{charged} charged, {accounted} written off or returned"), false, true);
    }
    let settled = p.state.is_terminal();
    if settled && accounted < charged {
        broken(
            format!("ended {} with {charged} charged and only {accounted} accounted for", p.state.label()),
            true,
            false,
        );
    }
    if !settled && accounted < charged {
        // Still open money: only in suspense (with a slip in the customer's hand), with a refund
        // on its way, or waiting for a card write.
        let slip = backend
            .runtime
            .journal
            .prints(p.id())
            .await
            .is_ok_and(|rows| rows.iter().any(|r| r.kind == "slip" && r.outcome == "printed"));
        let parked_with_word = match p.state {
            State::Suspense { .. } => slip,
            State::RefundPending | State::AwaitCardWrite { .. } => true,
            _ => false,
        };
        if !parked_with_word {
            broken(
                format!("left {} with {charged} charged and {accounted} accounted for", p.state.label()),
                true,
                false,
            );
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
    let unfinished = runtime.journal.load_unfinished().await.map_err(|e| e.to_string())?;
    for row in unfinished {
        found.push(Violation {
            order: row.id.clone(),
            what: format!("recovery did not converge: still {}", row.state),
            lost: false,
            doubled: false,
        });
    }
    if let Err(distrust) = runtime.journal.verify_whole(&journaling::row_check()).await {
        found.push(Violation { order: "-".into(), what: distrust.to_string(), lost: false, doubled: false });
    }
    Ok(found)
}

/// Money the simulators moved under an order number the journal does not hold: never allowed.
fn unknown_orders(backend: &Backend, rows: &[journal::PaymentRow]) -> Vec<Violation> {
    let Some(sims) = &backend.sims else { return Vec::new() };
    let known: std::collections::HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
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
        .map(|order| Violation {
            what: "money moved under an order number the journal does not hold".into(),
            order,
            lost: true,
            doubled: false,
        })
        .collect()
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
