//! Between the pure payment and the journal's rows: a payment is journaled as its state label,
//! flags, next deadline and a JSON snapshot, and read back from that snapshot.

use journal::{NewKey, NewPayment, PaymentRow, TransitionRecord};
use kiosk_core::{Effect, Payment, Ts};

#[derive(Debug, thiserror::Error)]
#[error("journal row {id} holds a snapshot this version cannot read: {source}")]
pub struct BadSnapshot {
    pub id: String,
    pub source: serde_json::Error,
}

pub fn snapshot(payment: &Payment) -> String {
    // A Payment is plain data (strings, numbers, enums): serialising it cannot fail.
    serde_json::to_string(payment).unwrap_or_else(|e| unreachable!("payment serialises: {e}"))
}

pub fn restore(row: &PaymentRow) -> Result<Payment, BadSnapshot> {
    serde_json::from_str(&row.snapshot).map_err(|source| BadSnapshot { id: row.id.clone(), source })
}

fn effects_summary(effects: &[Effect]) -> String {
    effects.iter().map(Effect::summary).collect::<Vec<_>>().join(", ")
}

pub fn new_payment(payment: &Payment, event: &str, effects: &[Effect]) -> NewPayment {
    NewPayment {
        id: payment.id().to_string(),
        kiosk_id: payment.order.kiosk_id.clone(),
        created_at: payment.order.created_at.0,
        total_fen: payment.order.total().0,
        channel: payment.channel.map(|c| c.code().to_string()),
        state: payment.state.label().to_string(),
        terminal: payment.state.is_terminal(),
        parked: payment.state.is_parked(),
        next_deadline: payment.next_deadline().map(|t| t.0),
        snapshot: snapshot(payment),
        event: event.to_string(),
        effects: effects_summary(effects),
        keys: payment
            .order
            .idempotency_keys()
            .into_iter()
            .map(|(key, purpose)| NewKey::new(key, purpose))
            .collect(),
    }
}

/// The record of a step from state `from` (the label the runtime held): refused by the journal
/// if the payment was moved meanwhile by another writer.
pub fn transition(
    payment: &Payment,
    from: &str,
    at: Ts,
    event: &str,
    effects: &[Effect],
) -> TransitionRecord {
    TransitionRecord {
        payment_id: payment.id().to_string(),
        expected_from: Some(from.to_string()),
        expected_seq: None,
        at: at.0,
        to_state: payment.state.label().to_string(),
        terminal: payment.state.is_terminal(),
        parked: payment.state.is_parked(),
        next_deadline: payment.next_deadline().map(|t| t.0),
        channel: payment.channel.map(|c| c.code().to_string()),
        snapshot: snapshot(payment),
        event: event.to_string(),
        effects: effects_summary(effects),
        // Every key of the order was journaled with it (Order::idempotency_keys).
        keys: Vec::new(),
    }
}

/// How the journal checks its `payments` rows against the chained snapshots (see
/// `journal::RowCheck`): the flags of a state label, and the columns a snapshot implies.
pub fn row_check() -> journal::RowCheck<'static> {
    journal::RowCheck { flags_of: &kiosk_core::State::flags_of_label, derive: &derive_row }
}

fn derive_row(snapshot: &str) -> Result<journal::DerivedRow, String> {
    let payment: Payment = serde_json::from_str(snapshot).map_err(|e| e.to_string())?;
    Ok(journal::DerivedRow {
        kiosk_id: payment.order.kiosk_id.clone(),
        created_at: payment.order.created_at.0,
        total_fen: payment.order.total().0,
        channel: payment.channel.map(|c| c.code().to_string()),
        state: payment.state.label().to_string(),
    })
}
