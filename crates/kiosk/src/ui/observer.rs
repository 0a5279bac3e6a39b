//! The payment machine's progress, as the customer's screen shows it.

use super::News;
use kiosk_core::payment::RefundStatus;
use kiosk_core::receipt::Receipt;
use kiosk_core::session::{Input, MethodChoice, Notice, Outcome, OutcomeKind, PayPhase};
use kiosk_core::{Payment, State};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

/// Hears the runtime: every journaled transition becomes a [`PayPhase`] on screen.
pub struct UiObserver {
    tx: Sender<News>,
    method: Option<MethodChoice>,
    printed: AtomicBool,
    print_failed: AtomicBool,
}

impl UiObserver {
    pub fn new(tx: Sender<News>, method: Option<MethodChoice>) -> UiObserver {
        UiObserver { tx, method, printed: AtomicBool::new(false), print_failed: AtomicBool::new(false) }
    }

    /// A receipt or slip came out during the payment.
    pub fn printed(&self) -> bool {
        self.printed.load(Ordering::SeqCst) && !self.print_failed.load(Ordering::SeqCst)
    }
}

impl crate::runtime::Observer for UiObserver {
    fn transition(&self, payment: &Payment, _from: &str, _event: &str) {
        if let Some(phase) = phase_of(&payment.state, self.method) {
            let _ = self.tx.send(News::Input(Input::Progress(phase)));
        }
    }

    fn receipt(&self, _payment: &Payment, _receipt: &Receipt, _qr: Option<&str>) {
        self.printed.store(true, Ordering::SeqCst);
    }

    /// The customer chooses on the result screen (打印凭条 / 不要凭条); slips always print.
    fn wants_receipt(&self, _payment: &Payment) -> bool {
        false
    }

    fn bank_card_kept(&self, _payment: Option<&Payment>) {
        let notice = Notice::error(
            "您的银行卡没有取走，已被本机保管。请持凭条和身份证找工作人员领取。",
            "Your bank card was not taken and the kiosk has kept it safe. Ask staff for it with the slip and your ID.",
        );
        let _ = self.tx.send(News::Input(Input::StaffNews(notice)));
    }

    fn print_failed(&self, _payment: &Payment, _reason: &str) {
        self.print_failed.store(true, Ordering::SeqCst);
    }
}

/// What the customer is told while the payment is in `state`.
pub fn phase_of(state: &State, method: Option<MethodChoice>) -> Option<PayPhase> {
    let card = method == Some(MethodChoice::BankCard);
    Some(match state {
        State::Ordered | State::PaySent if card => PayPhase::WaitingForCardPin,
        State::Ordered | State::PaySent => PayPhase::Sending,
        State::PayPending { .. } if card => PayPhase::WaitingForCardPin,
        State::PayPending { .. } => PayPhase::WaitingForPin,
        State::Reversing { .. } => PayPhase::Cancelling,
        State::Paid | State::WriteOffSent | State::WrittenOff => PayPhase::WritingOff,
        State::CardWriting { .. } => PayPhase::WritingCard,
        State::Refunding => PayPhase::Refunding,
        _ => return None,
    })
}

/// How the payment ended, for the result screen.
pub fn outcome_of(payment: &Payment, slip_printed: bool) -> Outcome {
    let refunded_some = payment.refunds.iter().any(|r| r.status == RefundStatus::Refunded);
    let kind = match &payment.state {
        State::Done if refunded_some => OutcomeKind::PartlyRefunded,
        State::Done => OutcomeKind::Paid,
        State::Refunded | State::Reversed { refunded: true } => OutcomeKind::Refunded,
        State::Reversed { refunded: false } | State::PayFailed { .. } | State::Abandoned => {
            OutcomeKind::NotCharged
        }
        State::AwaitCardWrite { .. } => OutcomeKind::CardNotWritten,
        // Anything not settled is said as not settled, with the slip's reference.
        _ => OutcomeKind::Suspense,
    };
    Outcome { kind, order_ref: payment.id().to_string(), amount: payment.order.total(), slip_printed }
}
