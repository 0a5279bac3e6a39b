//! The payment machine's progress, as the customer's screen shows it.

use super::News;
use kiosk_core::payment::RefundStatus;
use kiosk_core::receipt::Receipt;
use kiosk_core::session::{CashHeard, CashProgress, Input, MethodChoice, Outcome, OutcomeKind, PayPhase};
use kiosk_core::{Fen, Payment, State};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Mutex;

/// Hears the runtime: every journaled transition becomes a [`PayPhase`] on screen.
pub struct UiObserver {
    tx: Sender<News>,
    generation: u64,
    method: Option<MethodChoice>,
    printed: AtomicBool,
    print_failed: AtomicBool,
    card_kept: AtomicBool,
    /// The order once journaled (its number and total): from then on money may move.
    order: Mutex<Option<(String, Fen)>>,
    /// Cash: a note went into the acceptor (from then on money may have moved), the order the
    /// notes are for, and the customer's cash as last told.
    cash_seen: AtomicBool,
    cash_order: Mutex<Option<String>>,
    cash_so_far: Mutex<CashSoFar>,
}

/// A cash customer's money as last told: credited, and held for staff if any note is (the sum
/// of the held notes of known value).
#[derive(Clone, Copy, Debug, Default)]
pub struct CashSoFar {
    pub credited: Fen,
    pub held: Option<Fen>,
}

impl UiObserver {
    pub fn new(tx: Sender<News>, generation: u64, method: Option<MethodChoice>) -> UiObserver {
        UiObserver {
            tx,
            generation,
            method,
            printed: AtomicBool::new(false),
            print_failed: AtomicBool::new(false),
            card_kept: AtomicBool::new(false),
            order: Mutex::new(None),
            cash_seen: AtomicBool::new(false),
            cash_order: Mutex::new(None),
            cash_so_far: Mutex::new(CashSoFar::default()),
        }
    }

    /// A note went into the acceptor during this payment.
    pub fn cash_seen(&self) -> bool {
        self.cash_seen.load(Ordering::SeqCst)
    }

    /// The customer's cash as last told.
    pub fn cash_so_far(&self) -> CashSoFar {
        self.cash_so_far.lock().map(|so_far| *so_far).unwrap_or_default()
    }

    /// The order the customer's notes are for, once the intake may start.
    pub fn set_cash_order(&self, order_ref: &str) {
        if let Ok(mut order) = self.cash_order.lock() {
            *order = Some(order_ref.to_string());
        }
    }

    pub fn cash_order(&self) -> Option<String> {
        self.cash_order.lock().ok().and_then(|order| order.clone())
    }

    /// The journaled order (number, total), if the payment got that far.
    pub fn order(&self) -> Option<(String, Fen)> {
        self.order.lock().ok().and_then(|o| o.clone())
    }

    /// How the customer pays (None for a reprint).
    pub fn method(&self) -> MethodChoice {
        self.method.unwrap_or(MethodChoice::Code)
    }

    /// Hands the finished payment to the UI, for the receipt the customer may ask for.
    pub fn keep(&self, payment: Payment) {
        let _ = self.tx.send(News::Payment(self.generation, Box::new(payment)));
    }

    pub fn card_kept(&self) -> bool {
        self.card_kept.load(Ordering::SeqCst)
    }

    fn send(&self, input: Input) {
        let _ = self.tx.send(News::Input(self.generation, input));
    }

    /// A receipt or slip came out during the payment.
    pub fn printed(&self) -> bool {
        self.printed.load(Ordering::SeqCst) && !self.print_failed.load(Ordering::SeqCst)
    }
}

impl crate::runtime::Observer for UiObserver {
    fn transition(&self, payment: &Payment, _from: &str, _event: &str) {
        if let Ok(mut order) = self.order.lock() {
            order.get_or_insert_with(|| (payment.id().to_string(), payment.order.total()));
        }
        if let Some(phase) = phase_of(&payment.state, self.method) {
            self.send(Input::Progress(phase));
        }
    }

    fn receipt(&self, _payment: &Payment, _receipt: &Receipt, _qr: Option<&str>) {
        self.printed.store(true, Ordering::SeqCst);
    }

    /// The customer chooses on the result screen (打印凭条 / 不要凭条); slips always print.
    fn wants_receipt(&self, _payment: &Payment) -> bool {
        false
    }

    /// Said on the result screen (`Outcome::card_kept`), where it stays.
    fn bank_card_kept(&self, _payment: Option<&Payment>) {
        self.card_kept.store(true, Ordering::SeqCst);
    }

    fn print_failed(&self, _payment: &Payment, _reason: &str) {
        self.print_failed.store(true, Ordering::SeqCst);
    }

    /// The acceptor's news, journaled already: the amounts and what to say.
    fn cash(&self, intake: &kiosk_core::cash::Intake, news: crate::runtime::CashNews) {
        use crate::runtime::CashNews;
        if !intake.notes.is_empty() {
            self.cash_seen.store(true, Ordering::SeqCst);
        }
        if let Ok(mut so_far) = self.cash_so_far.lock() {
            let totals = intake.totals();
            *so_far =
                CashSoFar { credited: totals.credited, held: totals.holds_any().then_some(totals.held) };
        }
        let heard = match news {
            CashNews::Nothing => CashHeard::Nothing,
            CashNews::Credited(note) => CashHeard::Credited(note),
            CashNews::Returned(why) => CashHeard::Returned(why),
            CashNews::NeedsStaff(why) => CashHeard::NeedsStaff(why),
        };
        // What is shown adds up: in + still due = due (a note in escrow is neither yet).
        let inserted = intake.credited();
        let still_due = Fen((intake.due.0 - inserted.0).max(0));
        let progress = CashProgress { inserted, still_due, heard };
        self.send(Input::Cash(progress));
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
pub fn outcome_of(payment: &Payment, slip_printed: bool, card_kept: bool) -> Outcome {
    let refunded_some = payment.refunds.iter().any(|r| r.status == RefundStatus::Refunded);
    let kind = match &payment.state {
        State::Done if refunded_some => OutcomeKind::PartlyRefunded,
        State::Done => OutcomeKind::Paid,
        State::Refunded | State::Reversed { refunded: Some(true) } => OutcomeKind::Refunded,
        State::Reversed { refunded: Some(false) } | State::PayFailed { .. } | State::Abandoned => {
            OutcomeKind::NotCharged
        }
        // The channel closed the order without saying whether it had taken money first.
        State::Reversed { refunded: None } => OutcomeKind::ReturnedIfTaken,
        State::RefundPending => OutcomeKind::RefundAccepted,
        State::AwaitCardWrite { .. } => OutcomeKind::CardNotWritten,
        // Anything not settled is said as not settled, with the slip's reference.
        _ => OutcomeKind::Suspense,
    };
    Outcome {
        kind,
        order_ref: payment.id().to_string(),
        amount: payment.order.total(),
        slip_printed,
        card_kept,
    }
}
