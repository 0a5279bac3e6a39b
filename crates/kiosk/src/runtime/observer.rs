//! Who hears about a payment's progress: the CLI prints it, the UI (later) renders it.

use kiosk_core::receipt::Receipt;
use kiosk_core::Payment;

pub trait Observer: Send + Sync {
    /// A transition was journaled: `from` → `payment.state`, caused by `event` (a redacted summary).
    fn transition(&self, _payment: &Payment, _from: &str, _event: &str) {}
    /// A receipt or slip is ready for the customer.
    fn receipt(&self, _payment: &Payment, _receipt: &Receipt) {}
}

/// Hears nothing: for recovery at start-up and for tests that only read the journal.
pub struct Quiet;

impl Observer for Quiet {}
