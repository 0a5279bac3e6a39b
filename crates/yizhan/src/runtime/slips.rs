//! The slip of a payment that is not settled (SUSPENSE, or paid and waiting for its card write)
//! is the customer's reference for the counter: a payment may enter such a state and the power
//! fail before the slip is printed (the effect runs after the commit). Recovery prints every
//! slip whose print was never even tried, so no fen is left in suspense without paper.

use super::{journaling, Observer, Runtime, RuntimeError};
use journal::PrintKind;

impl Runtime {
    /// Prints the slip of each parked payment that should have one and has no slip print
    /// journaled at all. A print that was tried and failed is not tried again here, every
    /// round: staff reprint it (`yizhan journal reprint ORDER`).
    pub(super) async fn print_missing_slips(&self, observer: &dyn Observer) -> Result<(), RuntimeError> {
        for row in self.journal.load_parked().await? {
            if !matches!(row.state.as_str(), "SUSPENSE" | "AWAIT_CARD_WRITE") {
                continue;
            }
            if self.journal.prints(&row.id).await?.iter().any(|print| print.kind == "slip") {
                continue;
            }
            let payment = journaling::restore(&row)?;
            tracing::warn!(order = %row.id, state = %row.state, "printing a slip the power cut left unprinted");
            if let Err(error) = self.print_and_record(&payment, PrintKind::Slip, observer).await {
                tracing::warn!(order = %row.id, %error, "the slip could not be journaled");
            }
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use crate::backend::Backend;
    use crate::runtime::crash_point::Cut;
    use crate::runtime::{PayMethod, Quiet, RuntimeError};
    use kiosk_core::{route_payment_code, Order, State, Utility};
    use std::time::Duration;

    /// Found by `yizhan soak` (seed 26225 of the long run): a refund that failed for good put a
    /// payment in SUSPENSE, and the power failed right after that commit, before the slip was
    /// printed; recovery resumed nothing (the payment is parked) and no slip ever came out.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cut_between_suspense_and_its_slip_is_mended_by_recovery() {
        let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sim-keys");
        let data = tempfile::tempdir().unwrap();
        let backend = Backend::start_embedded(&keys, data.path(), crate::soak::DIVISOR, true).await.unwrap();
        let sims = backend.sims.as_ref().unwrap();
        let account = crate::soak::customer::account_of(Utility::Water, 7, 0);
        let seed = serde_json::json!({ "account": account, "amount_due_fen": 22197 });
        sims.billers.water.sim.put_account(serde_json::from_value(seed).unwrap());
        let runtime = &backend.runtime;
        let bill = runtime.fetch_bill(Utility::Water, &account).await.unwrap();
        // Paid at the counter meanwhile: the write-off is refused, the refund accepted — and it
        // will fail for good (REFUNDCLOSE).
        sims.billers.water.sim.pay_elsewhere(&account, 73);
        sims.channels.wechat.end_next_refund(payments::sim::RefundEnding::RefundClose);
        let order =
            Order::for_bill(runtime.new_order_ref(), "SH-TEST-0001", crate::clock::now(), &bill).unwrap();
        let code = route_payment_code("134567890123456789").unwrap();
        let payment = runtime.pay_order_with(order, PayMethod::Code(code), &Quiet).await.unwrap();
        assert_eq!(payment.state, State::RefundPending);
        // The refund check: a tick, then SUSPENSE — and the power fails right after that commit.
        runtime.simulated_cut.arm(Cut::AfterCommit(2));
        let mut cut = false;
        for _ in 0..100 {
            match runtime.settle_due(&Quiet).await {
                Err(RuntimeError::PowerCut) => {
                    cut = true;
                    break;
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(error) => panic!("{error}"),
            }
        }
        assert!(cut, "the cut fell");
        let id = payment.id().to_string();
        assert!(runtime.journal.prints(&id).await.unwrap().iter().all(|p| p.kind != "slip"), "no slip yet");
        let backend = backend.restart().await.unwrap();
        backend.runtime.recover(&Quiet).await.unwrap();
        let prints = backend.runtime.journal.prints(&id).await.unwrap();
        assert!(prints.iter().any(|p| p.kind == "slip" && p.outcome == "printed"), "{prints:?}");
        let stored = backend.runtime.load(&id).await.unwrap();
        assert!(matches!(stored.state, State::Suspense { .. }), "{:?}", stored.state);
    }
}
