//! The motorised bank-card slot around a card payment: take the card in before anything is
//! journaled, give it back afterwards, and capture it only when the customer leaves it at the
//! gate — then say so on screen and on paper, so nobody wonders where their card went.

use super::{Observer, Runtime, RuntimeError};
use bankcard::{CardReturn, Insertion};
use journal::{PrintKind, PrintRecord};
use kiosk_core::Payment;

/// What the slip says when the slot keeps a card.
pub fn card_kept_note() -> String {
    catalogue::bilingual("Your bank card was kept: collect it at the counter with this slip", " / ")
}

impl Runtime {
    /// Checks there is a terminal and, with a slot, waits for the card (before any money moves).
    /// A card left inside by a power cut is presented at the gate first, never charged to the next
    /// customer; if taking the card in fails, whatever is inside goes back out.
    pub(super) async fn take_bank_card_in(&self, observer: &dyn Observer) -> Result<(), RuntimeError> {
        let device = self.devices.bankcard.as_ref().ok_or(RuntimeError::NoBankCardTerminal)?;
        let Some(slot) = &device.slot else {
            return Ok(()); // the terminal's own card reader takes the card
        };
        let taken = {
            let mut slot = slot.lock().await;
            match slot.init().await {
                Ok(_) => slot.accept_card().await,
                Err(error) => Err(error),
            }
        };
        match taken {
            Ok(Insertion::Inserted) => Ok(()),
            Ok(Insertion::TimedOut) => Err(RuntimeError::NoBankCard),
            Err(error) => {
                self.give_bank_card_back(None, observer).await;
                Err(RuntimeError::BankCardSlot(error.to_string()))
            }
        }
    }

    /// Presents the card at the gate; a card left there is captured, reported on screen, put on a
    /// slip (when there is a payment to print) and always journaled for staff.
    pub(super) async fn give_bank_card_back(&self, payment: Option<&Payment>, observer: &dyn Observer) {
        let Some(slot) = self.devices.bankcard.as_ref().and_then(|d| d.slot.as_ref()) else {
            return;
        };
        let returned = slot.lock().await.return_card().await;
        match returned {
            Ok(CardReturn::Captured { .. }) => self.bank_card_kept(payment, observer).await,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "the bank card slot did not return the card"),
        }
    }

    async fn bank_card_kept(&self, payment: Option<&Payment>, observer: &dyn Observer) {
        tracing::warn!(order = payment.map(Payment::id), "bank card left at the gate and captured");
        observer.bank_card_kept(payment);
        let id = payment.map(|p| p.id().to_string());
        let detail = "left at the gate; in the capture bin".into();
        if let Err(error) = self.record_kiosk_action("bank-card-kept", id, detail).await {
            tracing::warn!(%error, "the kept card was not journaled");
        }
        if let Some(p) = payment {
            let outcome = self.print_with_note(p, Some(&card_kept_note()), observer).await;
            let record = PrintRecord {
                payment_id: p.id().to_string(),
                at: crate::clock::now().0,
                kind: PrintKind::Slip,
                outcome: format!("card kept; {outcome}"),
            };
            if let Err(error) = self.journal.record_print(&record).await {
                tracing::warn!(%error, "the kept-card slip was not journaled");
            }
        }
    }
}
