//! Checks on records before they reach the database, so a bad record fails with a precise
//! typed error instead of a constraint message, and nothing half-valid is ever journaled.

use crate::error::JournalError;
use crate::model::{NewKey, NewPayment, TransitionRecord};

/// Upper bound for the `event` and `effects` summaries. They are meant to be short, redacted
/// labels; a long one is a sign that a whole request (possibly with personal data) leaked in.
pub const MAX_SUMMARY_BYTES: usize = 1024;

fn invalid(reason: &'static str) -> JournalError {
    JournalError::InvalidRecord { reason }
}

pub(crate) fn new_payment(p: &NewPayment) -> Result<(), JournalError> {
    if p.id.is_empty() {
        return Err(invalid("payment id is empty"));
    }
    if p.kiosk_id.is_empty() {
        return Err(invalid("kiosk id is empty"));
    }
    if p.total_fen < 0 {
        return Err(invalid("total is negative"));
    }
    state(&p.state, p.terminal, p.parked)?;
    summaries(&p.event, &p.effects)?;
    snapshot(&p.snapshot)?;
    keys(&p.keys)
}

pub(crate) fn transition(t: &TransitionRecord) -> Result<(), JournalError> {
    state(&t.to_state, t.terminal, t.parked)?;
    summaries(&t.event, &t.effects)?;
    snapshot(&t.snapshot)?;
    keys(&t.keys)
}

pub(crate) fn keys(keys: &[NewKey]) -> Result<(), JournalError> {
    if keys.iter().any(|k| k.key.is_empty()) {
        return Err(invalid("idempotency key is empty"));
    }
    if keys.iter().any(|k| k.purpose.is_empty()) {
        return Err(invalid("idempotency key purpose is empty"));
    }
    Ok(())
}

fn state(label: &str, terminal: bool, parked: bool) -> Result<(), JournalError> {
    if label.is_empty() {
        return Err(invalid("state label is empty"));
    }
    if terminal && parked {
        return Err(invalid("a state cannot be both terminal and parked"));
    }
    Ok(())
}

fn summaries(event: &str, effects: &str) -> Result<(), JournalError> {
    if event.len() > MAX_SUMMARY_BYTES || effects.len() > MAX_SUMMARY_BYTES {
        return Err(invalid("event or effects summary is longer than MAX_SUMMARY_BYTES"));
    }
    Ok(())
}

fn snapshot(json: &str) -> Result<(), JournalError> {
    serde_json::from_str::<serde::de::IgnoredAny>(json).map(|_| ()).map_err(JournalError::InvalidSnapshot)
}
