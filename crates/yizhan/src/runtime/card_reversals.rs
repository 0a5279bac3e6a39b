//! Armed bank card reversals and the payments they belong to.
//!
//! The terminal keeps a reversal record per card sale in the journal (`crate::card_memory`),
//! and while one is armed it sends no new sale (`REVERSAL_PENDING`, nothing charged). The armed
//! reversal of order A goes out only through A's own payment machine — `query(A)` / `reverse(A)`
//! when A is resumed at start-up or by the background settler, when A's SUSPENSE check comes
//! due, or, like a POS terminal sending its pending reversal first (payments.md §3.2, F15),
//! right before the next card sale — so its answer is journaled as A's transitions. This module
//! does the last of those, and handles what A's machine no longer can: a payment the journal
//! already settled (staff, the statements) while its reversal was still armed. Its record is
//! closed as `settled`, bound to A, with A's final state as the reason, and the reversal is
//! **not** sent: the journal decided, and sending it after staff said "delivered" or "returned"
//! could take the customer's money back twice or claw back a bill already credited.

use super::{journaling, CustomerGone, Quiet, Runtime, RuntimeError};
use crate::clock;
use journal::CardReversalState;
use kiosk_core::{Event, State};

impl Runtime {
    /// Closes every armed card reversal whose payment is final in the journal, without sending
    /// it. Payments still unfinished or parked keep theirs: their own machine resolves it.
    pub(super) async fn settle_card_reversals(&self) -> Result<(), RuntimeError> {
        self.go_through_armed_reversals(false).await
    }

    /// Before a card sale: [`Runtime::settle_card_reversals`], and also checks every parked
    /// payment whose card reversal is still armed, now, so its reversal goes out first
    /// (payments.md §3.2: "sent automatically before the next online transaction"; F15). Each
    /// check is that payment's own SUSPENSE check — one reverse, journaled as its transitions —
    /// never part of the new sale's call. If the terminal still does not answer, the payment
    /// parks again and the sale is refused before anything is charged, as before. The new
    /// customer hears nothing of it and no paper comes out: the parked payment's slip was
    /// printed when it parked.
    pub(super) async fn clear_card_reversals_before_a_sale(&self) -> Result<(), RuntimeError> {
        self.go_through_armed_reversals(true).await
    }

    /// One pass over the armed reversals: a final payment's is closed unsent; with
    /// `send_parked`, a parked payment's goes out through its own SUSPENSE check.
    async fn go_through_armed_reversals(&self, send_parked: bool) -> Result<(), RuntimeError> {
        let card = self.journal.card_terminal();
        for armed in card.armed().await? {
            let Some(row) = self.journal.get(&armed.payment_id).await? else { continue };
            if row.terminal {
                let detail = format!("not sent: the payment is {} in the journal", row.state);
                if card.close(&armed.payment_id, CardReversalState::Settled, &detail, clock::now().0).await? {
                    tracing::warn!(
                        order = %armed.payment_id,
                        state = %row.state,
                        "armed card reversal of a settled payment closed without sending it"
                    );
                }
                continue;
            }
            let payment = journaling::restore(&row)?;
            if !send_parked || !matches!(payment.state, State::Suspense { .. }) {
                continue;
            }
            tracing::info!(order = %armed.payment_id, "sending a parked card payment's armed reversal before the next sale");
            let after = self.drive(payment, None, Event::Recheck, &CustomerGone(&Quiet)).await?;
            tracing::info!(order = %armed.payment_id, state = after.state.label(), "parked card payment checked");
        }
        Ok(())
    }
}
