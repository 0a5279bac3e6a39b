//! Who hears about a payment's progress: the CLI prints it, the UI (later) renders it.

use kiosk_core::receipt::Receipt;
use kiosk_core::Payment;

pub trait Observer: Send + Sync {
    /// A transition was journaled: `from` → `payment.state`, caused by `event` (a redacted summary).
    fn transition(&self, _payment: &Payment, _from: &str, _event: &str) {}
    /// A receipt or slip is ready for the customer, with its signed QR payload if any.
    fn receipt(&self, _payment: &Payment, _receipt: &Receipt, _qr: Option<&str>) {}
    /// Whether to print the receipt of a finished payment (the customer's "receipt yes/no").
    /// Slips for payments in suspense are printed whenever anything is.
    fn wants_receipt(&self, _payment: &Payment) -> bool {
        true
    }
    /// Whether anyone is at the kiosk to take paper: not for the scheduled check of a parked
    /// payment, nor when the hub moves a payment days after its customer left (see
    /// [`CustomerGone`]; the journal keeps what changed).
    fn someone_to_print_for(&self) -> bool {
        true
    }
    /// The customer left their bank card at the gate and the slot kept it (say so on screen).
    fn bank_card_kept(&self, _payment: Option<&Payment>) {}
    /// The printer failed or ran out of paper while printing; a reprint is possible.
    fn print_failed(&self, _payment: &Payment, _reason: &str) {}
    /// A cash customer's notes after a poll: the amount in and still due, and what to say.
    fn cash(&self, _intake: &kiosk_core::cash::Intake, _news: super::cash::CashNews) {}
}

/// Hears nothing (paper is still printed): for recovery at start-up and for tests that only
/// read the journal.
pub struct Quiet;

impl Observer for Quiet {}

/// Another observer, for a payment whose customer has gone: it hears all that observer hears,
/// but nothing is printed (a receipt or slip would go to whoever stands there next; the journal
/// keeps what changed, and staff reprint at the counter). For the scheduled checks of parked
/// payments, whose slip came out when they parked, and for a payment moved at the hub's command.
pub struct CustomerGone<'a>(pub &'a dyn Observer);

impl Observer for CustomerGone<'_> {
    fn transition(&self, payment: &Payment, from: &str, event: &str) {
        self.0.transition(payment, from, event)
    }
    fn receipt(&self, payment: &Payment, receipt: &Receipt, qr: Option<&str>) {
        self.0.receipt(payment, receipt, qr)
    }
    fn wants_receipt(&self, payment: &Payment) -> bool {
        self.0.wants_receipt(payment)
    }
    fn someone_to_print_for(&self) -> bool {
        false
    }
    fn bank_card_kept(&self, payment: Option<&Payment>) {
        self.0.bank_card_kept(payment)
    }
    fn print_failed(&self, payment: &Payment, reason: &str) {
        self.0.print_failed(payment, reason)
    }
    fn cash(&self, intake: &kiosk_core::cash::Intake, news: super::cash::CashNews) {
        self.0.cash(intake, news)
    }
}
