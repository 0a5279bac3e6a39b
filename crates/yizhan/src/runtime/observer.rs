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
    /// Whether anyone is at the kiosk to take paper: not when the hub's finance moves a payment
    /// days after its customer left (the journal keeps what changed).
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

/// Hears nothing: for recovery at start-up and for tests that only read the journal.
pub struct Quiet;

impl Observer for Quiet {}

/// Hears nothing and prints nothing: a payment moved at the hub's command, its customer long
/// gone (a receipt or slip would go to whoever stands there next).
pub struct Unattended;

impl Observer for Unattended {
    fn someone_to_print_for(&self) -> bool {
        false
    }
}
