//! Staff at the end of the day: each payment left in suspense is asked about again ("check
//! now"), and what is still in suspense is settled from the statements — here the simulators'
//! books, which is what the channel's and the billers' files would say. Staff resolve only what
//! the statements show whole (all charged money written off, or all of it returned, or nothing
//! charged); anything else stays for the counter.

use super::checks;
use super::schedule::Rng;
use crate::backend::Backend;
use crate::runtime::{journaling, Quiet, RuntimeError};
use kiosk_core::{Event, Fen, StaffOutcome, State};

/// What staff did with the day's suspense.
#[derive(Clone, Copy, Debug, Default)]
pub struct StaffDay {
    pub rechecked: u64,
    pub resolved: u64,
}

pub async fn settle_suspense(backend: &Backend, rng: &mut Rng) -> Result<StaffDay, String> {
    let runtime = &backend.runtime;
    let mut day = StaffDay::default();
    for row in runtime.journal.load_parked().await.map_err(|e| e.to_string())? {
        let mut payment = journaling::restore(&row).map_err(|e| e.to_string())?;
        if !matches!(payment.state, State::Suspense { .. }) {
            continue;
        }
        if rng.chance(50) {
            day.rechecked += 1;
            payment = runtime
                .settle_externally(payment, Event::Recheck, &Quiet)
                .await
                .map_err(|e| e.to_string())?;
            if !matches!(payment.state, State::Suspense { .. }) {
                continue;
            }
        }
        let Some(outcome) = from_the_statements(&checks::books(backend, &payment)) else { continue };
        match runtime
            .resolve_parked(payment.id(), "S0001", outcome, "from the day's statements", &Quiet)
            .await
        {
            Ok(_) => day.resolved += 1,
            // The kiosk saw otherwise: it keeps the payment for the counter; the books still decide.
            Err(RuntimeError::ResolutionRefused(_)) => {}
            Err(error) => return Err(format!("staff resolving {}: {error}", payment.id())),
        }
    }
    Ok(day)
}

/// The outcome the statements show whole, if any.
fn from_the_statements(books: &checks::Books) -> Option<StaffOutcome> {
    let charged = books.charges.iter().fold(Fen::ZERO, |sum, fen| sum + *fen);
    if charged == Fen::ZERO && books.written_off == Fen::ZERO {
        Some(StaffOutcome::NotCharged)
    } else if books.written_off == charged && books.returned == Fen::ZERO {
        Some(StaffOutcome::Delivered)
    } else if books.returned == charged && books.written_off == Fen::ZERO {
        Some(StaffOutcome::Returned)
    } else {
        None
    }
}
