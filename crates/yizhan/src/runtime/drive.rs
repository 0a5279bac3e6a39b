//! The run loop of one payment (str0m style): feed one event → journal the change → carry out
//! the effects, queueing their replies as events → when nothing is queued, sleep until the
//! machine's next deadline and feed a tick. Ends when the payment is terminal or parked.

use super::{journaling, Observer, Runtime, RuntimeError};
use crate::clock;
use kiosk_core::{Event, Payment, PaymentCode};
use std::collections::VecDeque;
use std::time::Duration;

impl Runtime {
    pub(super) async fn drive(
        &self,
        mut payment: Payment,
        mut code: Option<PaymentCode>,
        first: Event,
        observer: &dyn Observer,
    ) -> Result<Payment, RuntimeError> {
        let mut events = VecDeque::from([first]);
        let mut resumed_in_place = false;
        loop {
            while let Some(event) = events.pop_front() {
                let now = clock::now();
                let from = payment.state.label();
                let summary = event.summary();
                let log_summary = event.log_summary();
                let stepped = payment.step(event, now, &self.policy);
                if stepped.changed {
                    // Journal first (R1): nothing below may run unless this commit is durable.
                    let record = journaling::transition(&payment, from, now, &summary, &stepped.effects);
                    if let Err(error) = self.journal.record_transition(&record).await {
                        return Err(self.journal_failed(error));
                    }
                    self.cut_if_due(true)?;
                    tracing::info!(order = %payment.id(), from, to = payment.state.label(), event = %log_summary, "transition");
                    observer.transition(&payment, from, &summary);
                }
                for effect in &stepped.effects {
                    if let Some(reply) = self.carry_out(&payment, effect, &mut code, observer).await? {
                        events.push_back(reply);
                    }
                }
            }
            if payment.state.is_terminal() || payment.state.is_parked() {
                return Ok(payment);
            }
            let Some(deadline) = payment.next_deadline() else {
                // Every non-final state with nothing in flight has a deadline; if not, a reply
                // was lost inside this process. Resuming asks the other side, as after a restart.
                if resumed_in_place {
                    return Err(RuntimeError::Stuck(payment.id().to_string(), payment.state.label()));
                }
                tracing::warn!(order = %payment.id(), state = payment.state.label(), "no deadline; resuming");
                resumed_in_place = true;
                events.push_back(Event::Resume);
                continue;
            };
            resumed_in_place = false;
            let wait = u64::try_from(deadline.0 - clock::now().0).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            events.push_back(Event::Tick);
        }
    }
}
