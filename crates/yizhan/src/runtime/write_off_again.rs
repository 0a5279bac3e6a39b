//! A write-off the biller's files lack (`NOT_AT_BILLER`), asked about again at the operator's
//! command. The journal holds the line as written off (the biller said so); the biller's final
//! files do not list it. The biller is asked first (销账结果查询, under our reference); only when
//! it says it never had it is the same write-off sent again — the same reference, so a biller
//! that did keep it cannot take it twice. Nothing here moves the customer's money: the payment
//! stays as it is, and what was found is journaled as a staff action.

use billers::WriteOffExpectation;
use kiosk_core::order::LineKind;
use kiosk_core::payment::LineState;
use kiosk_core::{WriteOffReply, WriteOffStatus};

use super::{Runtime, RuntimeError};

/// The staff action's name in the journal.
const ACTION: &str = "write-off-again";
/// Journaled (and synced) before the write-off is sent again, as every call that can move
/// money is (payments.md R1): a crash in the call leaves the intent on record.
const SENDING: &str = "write-off-again-sending";

/// What became of a write-off asked about again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOffAgain {
    /// The biller has it (its file was late or wrong): its transaction id.
    BillerHasIt { biller_txn: String },
    /// The biller never had it; sent again, now written off.
    WrittenOffAgain { biller_txn: String },
    /// The biller refuses it now: the line's money is for staff to give back or credit.
    Refused { detail: String },
    /// No definite answer: ask again later.
    Unknown { detail: String },
}

impl WriteOffAgain {
    /// Whether the biller now holds the write-off.
    pub fn written_off(&self) -> bool {
        matches!(self, WriteOffAgain::BillerHasIt { .. } | WriteOffAgain::WrittenOffAgain { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            WriteOffAgain::BillerHasIt { biller_txn } => {
                format!("the biller holds the write-off ({biller_txn}): its file was late or wrong")
            }
            WriteOffAgain::WrittenOffAgain { biller_txn } => {
                format!("the biller never had it; sent again and written off ({biller_txn})")
            }
            WriteOffAgain::Refused { detail } => {
                format!("the biller refuses it now ({detail}): the line's money is for staff")
            }
            WriteOffAgain::Unknown { detail } => format!("no definite answer ({detail}): ask again later"),
        }
    }
}

impl Runtime {
    /// Asks the biller about the write-off `reference` of `order_ref`, and sends it again only
    /// if the biller never had it. `staff_id` is journaled with what was found. Refused when the
    /// journal does not hold that line as written off (its payment's own machine deals with it).
    pub async fn write_off_again(
        &self,
        order_ref: &str,
        reference: &str,
        staff_id: &str,
    ) -> Result<WriteOffAgain, RuntimeError> {
        // No customer's payment moves while this one's line is looked at.
        let _sale = self.sales.lock().await;
        let payment = self.load(order_ref).await?;
        if payment.state != kiosk_core::State::Done {
            return Err(RuntimeError::NoWriteOffToAskAbout(format!(
                "{order_ref} is {}, not done: its own machine is still at it",
                payment.state.label()
            )));
        }
        let Some(line) = payment.order.lines.iter().position(|l| l.biller_ref == reference) else {
            return Err(RuntimeError::NoWriteOffToAskAbout(format!("{order_ref} has no line {reference}")));
        };
        if !matches!(payment.lines.get(line), Some(LineState::WrittenOff { .. })) {
            return Err(RuntimeError::NoWriteOffToAskAbout(format!(
                "{order_ref}: the journal does not hold {reference} as written off"
            )));
        }
        // Staff declared it delivered: credited by hand under the counter's own reference (or,
        // after a reverse, R7 forbids any write-off). Ours sent now would credit it twice.
        if payment.lines[line].written_off_by_staff() {
            return Err(RuntimeError::NoWriteOffToAskAbout(format!(
                "{order_ref}: staff settled {reference} by hand; the biller is not asked again"
            )));
        }
        let Some(channel) = payment.channel else {
            return Err(RuntimeError::NoWriteOffToAskAbout(format!(
                "{order_ref} was paid through no channel"
            )));
        };
        let order_line = &payment.order.lines[line];
        // A card purchase sent again would be a second purchase for the meter (the card holds
        // the first): that is for staff at the counter, never a button.
        if !matches!(order_line.kind, LineKind::Bill { .. }) {
            return Err(RuntimeError::NoWriteOffToAskAbout(format!(
                "{reference} is a card top-up: staff settle it with the gas company"
            )));
        }
        let client = self.billers.get(order_line.utility);
        let status = client.write_off_status(&WriteOffExpectation::for_line(order_line)).await;
        let found = match status {
            WriteOffStatus::WrittenOff { biller_txn, .. } => WriteOffAgain::BillerHasIt { biller_txn },
            WriteOffStatus::NotFound => {
                self.record_write_off_again(
                    staff_id,
                    SENDING,
                    order_ref,
                    format!("{reference}: not at the biller; sending it again under the same reference"),
                )
                .await?;
                match self.write_off(&payment, line, channel).await {
                    WriteOffReply::WrittenOff { biller_txn, .. } => {
                        WriteOffAgain::WrittenOffAgain { biller_txn }
                    }
                    WriteOffReply::Rejected { code, message } => {
                        WriteOffAgain::Refused { detail: format!("{code} {message}") }
                    }
                    WriteOffReply::Unknown { detail } => WriteOffAgain::Unknown { detail },
                }
            }
            WriteOffStatus::Rejected { code, message } => {
                WriteOffAgain::Refused { detail: format!("{code} {message}") }
            }
            WriteOffStatus::Unknown { detail } => WriteOffAgain::Unknown { detail },
        };
        self.record_write_off_again(
            staff_id,
            ACTION,
            order_ref,
            format!("{reference}: {}", found.describe()),
        )
        .await?;
        Ok(found)
    }

    async fn record_write_off_again(
        &self,
        staff_id: &str,
        action: &str,
        order_ref: &str,
        detail: String,
    ) -> Result<(), RuntimeError> {
        let record = journal::StaffAction {
            at: chrono::Utc::now().timestamp_millis(),
            staff_id: staff_id.to_string(),
            action: action.to_string(),
            payment_id: Some(order_ref.to_string()),
            detail,
        };
        self.journal.record_staff_action(&record).await?;
        Ok(())
    }
}
