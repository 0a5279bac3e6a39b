//! The cash box in staff's hands. 清机: staff empty the box; the journal's count of what it
//! should hold since the last collection is recorded (durably) as a collection, printed on a
//! slip for staff to count the notes against, and journaled as a staff action with who did it.
//! A box taken out with no collection raises an alarm; cash held for staff gets a slip.

use super::{Runtime, RuntimeError};
use crate::clock;
use catalogue::bilingual;
use journal::{BoxCount, Collection, StaffAction};
use kiosk_core::cash::CashTotals;
use kiosk_core::receipt::{Receipt, ReceiptKind, Row};
use kiosk_core::{Fen, Ts};

/// A collection, its slip, and what became of the paper.
pub struct Collected {
    pub collection: Collection,
    pub slip: Receipt,
    /// "printed", "no printer" or why not.
    pub printed: String,
}

impl Runtime {
    /// What the journal says the box holds since the last collection (the staff panel's count).
    pub async fn cash_in_the_box(&self) -> Result<BoxCount, RuntimeError> {
        Ok(self.journal.cash_box().in_the_box().await?)
    }

    /// Records a collection by `staff_id` (signed in with their PIN), prints its slip and
    /// journals who did it. Refused while a customer pays.
    pub async fn collect_cash(&self, staff_id: &str) -> Result<Collected, RuntimeError> {
        let _sale = self.sales.try_lock().map_err(|_| RuntimeError::Busy)?;
        // A customer's notes still moving (a power cut mid-payment) are settled first: recovery
        // closes the intake, then the box can be counted.
        if let Some(open) = self.journal.cash_box().open_intakes().await?.into_iter().next() {
            return Err(RuntimeError::Unsettled(open.order_ref));
        }
        let collection = self
            .journal
            .cash_box()
            .collect(staff_id, clock::now().0)
            .await
            .map_err(|e| self.journal_failed(e))?;
        let count = &collection.count;
        let action = StaffAction {
            at: collection.at,
            staff_id: staff_id.to_string(),
            action: "cash-collection".into(),
            payment_id: None,
            detail: format!(
                "collection {}: {} notes, {} ({} unknown, {} held for staff)",
                collection.id,
                count.notes,
                Fen(count.sum_fen),
                count.unknown,
                count.uncertain
            ),
        };
        if let Err(error) = self.journal.record_staff_action(&action).await {
            // The collection itself is journaled; only the staff action beside it is missing.
            tracing::error!(%error, "the collection's staff action was not journaled");
        }
        let slip = collection_slip(&collection, &self.identity.kiosk_id);
        let printed = self.print_staff_slip(&slip).await;
        Ok(Collected { collection, slip, printed })
    }

    /// Prints a slip with no payment behind it; what became of the paper ("printed", "no
    /// printer" or why not), for the staff action that records it.
    async fn print_staff_slip(&self, slip: &Receipt) -> String {
        match &self.devices.printer {
            None => "no printer".to_string(),
            Some(printer) => match printer.driver.lock().await.print_receipt(slip, None).await {
                Ok(_) => "printed".into(),
                Err(error) => format!("failed: {error}"),
            },
        }
    }

    /// A box out of its place while the journal says it holds notes no collection counted:
    /// an alarm for staff, journaled once per removal.
    pub(super) async fn note_box_removal(&self, status: cash::Status) {
        use std::sync::atomic::Ordering;
        if status != cash::Status::StackerOpen {
            self.cash_box_out.store(false, Ordering::Relaxed);
            return;
        }
        if self.cash_box_out.swap(true, Ordering::Relaxed) {
            return;
        }
        let held = match self.journal.cash_box().in_the_box().await {
            Ok(count) => count.notes,
            Err(error) => {
                tracing::warn!(%error, "the cash box count could not be read");
                return;
            }
        };
        if held == 0 {
            return;
        }
        tracing::error!(notes = held, "ALARM: the cash box was removed without a collection");
        let detail = format!("{held} notes on record not collected");
        let recorded = self.record_kiosk_action("cash-box-removed-without-collection", None, detail).await;
        if let Err(error) = recorded {
            tracing::warn!(%error, "the cash box alarm was not journaled");
        }
    }

    /// Cash of a customer that no payment holds (a note stuck or in doubt, nothing credited):
    /// a slip with the order number and the amount, for the counter.
    pub(super) async fn held_cash_slip(&self, order: &kiosk_core::Order, totals: &CashTotals) {
        let held = super::cash_words::held_amount(totals);
        let slip = held_cash_slip(order, &held, &self.identity.kiosk_id);
        let printed = self.print_staff_slip(&slip).await;
        let detail = format!("order {}: {held} held for staff; slip {printed}", order.reference);
        if let Err(error) = self.record_kiosk_action("cash-held-slip", None, detail).await {
            tracing::warn!(%error, "the held cash slip was not journaled");
        }
    }
}

/// The slip of cash held for staff with no payment: what the customer shows at the counter.
fn held_cash_slip(order: &kiosk_core::Order, held: &str, kiosk_id: &str) -> Receipt {
    let row = |label: String, value: String| Row { label, value };
    Receipt {
        kind: ReceiptKind::Slip,
        title: bilingual("Cash held for staff", " / "),
        header: vec![
            row(bilingual("Kiosk", " "), kiosk_id.to_string()),
            row(bilingual("Order no.", " "), order.reference.to_string()),
            row(bilingual("Time", " "), clock::format_local(clock::now())),
        ],
        lines: Vec::new(),
        totals: vec![row(bilingual("Held", " "), held.to_string())],
        outcome: bilingual("Not paid: your note is held in the kiosk", " / "),
        footer: vec![bilingual("Keep this slip and show it at the counter", " / ")],
    }
}

/// The collection slip: what the box should hold, by note, for staff to count against.
pub fn collection_slip(collection: &Collection, kiosk_id: &str) -> Receipt {
    // Each label is written out in `bilingual(…)`, where the catalogue check finds it.
    let row = |label: String, value: String| Row { label, value };
    let count = &collection.count;
    let lines = count
        .by_value
        .iter()
        .rev()
        .map(|(&value, &notes)| {
            vec![Row {
                label: Fen(value).to_string(),
                value: format!("× {notes} = {}", Fen(value * i64::from(notes))),
            }]
        })
        .collect();
    let mut footer = vec![bilingual("Count the notes against this slip; report any difference", " / ")];
    if count.unknown > 0 {
        footer.push(format!("{}: {}", bilingual("Notes of unknown value", " "), count.unknown));
    }
    if count.uncertain > 0 {
        footer.push(format!(
            "{}: {}",
            bilingual("Notes held for staff (jam or power cut)", " "),
            count.uncertain
        ));
    }
    Receipt {
        kind: ReceiptKind::Slip,
        title: bilingual("Cash collection", " / "),
        header: vec![
            row(bilingual("Kiosk", " "), kiosk_id.to_string()),
            row(bilingual("Collection no.", " "), collection.id.to_string()),
            row(bilingual("Collected at", " "), clock::format_local(Ts(collection.at))),
            row(bilingual("Staff", " "), collection.staff_id.clone()),
        ],
        lines,
        totals: vec![
            row(bilingual("Notes", " "), count.notes.to_string()),
            row(bilingual("Total", " "), Fen(count.sum_fen).to_string()),
        ],
        outcome: String::new(),
        footer,
    }
}
