//! Paying with cash: the acceptor's loop around one customer's notes, journal first
//! (`kiosk_core::cash` has the rules, `drivers/cash` the bytes).
//!
//! poll the head → step the intake → if it changed, journal it (the intake and a custody row per
//! note, fsync) → carry out the effects (STACK, RETURN, ACK, RESET, the notes it may take) → tell
//! the customer (only what is on record).
//! When the intake closes (paid, or the customer left) the credited cash becomes a payment of
//! [`Order::for_cash`] through [`Channel::Cash`], written off like any other; the intake is
//! marked closed only once that payment is journaled, so a power cut in between is picked up by
//! [`Runtime::recover_cash`] at the next start.

use super::cash_words::news;
use super::{journaling, Observer, Runtime, RuntimeError};
use crate::clock;
use journal::{IntakeRecord, NoteCustody, NoteRecord, PrintKind, PrintRecord, StoredIntake};
use kiosk_core::cash::{CashEffect, Head, Intake, NoteState, Overpay};
use kiosk_core::{Channel, Event, Fen, Order, Payment};
use std::time::Duration;

pub use super::cash_words::advice;

/// Polls without an answer after which the head is taken for dead during a payment: the
/// customer's notes so far are written off and a note in hand is held for staff.
const DEAD_AFTER_POLLS: u32 = 25;
/// Polls a recovery (or a customer who left) waits for a note in hand to come to rest.
const SETTLE_POLLS: u32 = 40;

/// What the customer does at the acceptor, asked at every poll.
pub trait CashCustomer: Send + Sync {
    /// The customer has left, or pressed 结束投币: the notes so far are written off.
    fn has_left(&self, intake: &Intake) -> bool;
}

/// A customer who is gone after `idle` without a note going in (a real kiosk's walk-away).
pub struct IdleCustomer {
    pub idle: Duration,
    last_note: std::sync::Mutex<(usize, std::time::Instant)>,
}

impl IdleCustomer {
    pub fn new(idle: Duration) -> IdleCustomer {
        IdleCustomer { idle, last_note: std::sync::Mutex::new((0, std::time::Instant::now())) }
    }
}

impl CashCustomer for IdleCustomer {
    fn has_left(&self, intake: &Intake) -> bool {
        let mut last = self.last_note.lock().unwrap_or_else(|p| p.into_inner());
        if intake.notes.len() != last.0 {
            *last = (intake.notes.len(), std::time::Instant::now());
        }
        last.1.elapsed() >= self.idle
    }
}

/// What the customer should hear after a poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CashNews {
    /// Nothing new.
    Nothing,
    /// A note was credited: the amount in and still due change.
    Credited(Fen),
    /// A note came back: its reason, for the screen ("请将纸币展平后重新放入").
    Returned(kiosk_core::session::Text),
    /// The head is jammed or the box is unavailable: staff are needed.
    NeedsStaff(kiosk_core::session::Text),
}

/// Why the kiosk takes no cash now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CashUnavailable {
    #[error("this kiosk has no banknote acceptor")]
    NoAcceptor,
    #[error("the banknote acceptor does not answer")]
    Offline,
    #[error("the cash box is full")]
    BoxFull,
    #[error("the cash box is open or removed")]
    BoxOpen,
    #[error("the banknote acceptor needs staff: {0}")]
    NeedsStaff(String),
    /// The last customer's note is still in the head (it is being given back): try again.
    #[error("the banknote acceptor still holds a note; it is being given back")]
    NoteInHand,
    #[error("a cash record in the journal does not read back: {0}")]
    BadRecord(String),
    /// No change is given and the biller takes only the exact amount, which notes cannot make.
    #[error("{due} cannot be paid exactly in notes of {smallest} or more, and the biller takes no prepayment: pay by code or card, or at the counter")]
    NotExact { due: Fen, smallest: Fen },
}

impl Runtime {
    /// Whether the acceptor can take notes now; cash only is out of service when not.
    pub async fn cash_available(&self) -> Result<(), CashUnavailable> {
        let device = self.devices.cash.as_ref().ok_or(CashUnavailable::NoAcceptor)?;
        let mut driver = device.driver.lock().await;
        self.cash_state(&mut driver).await
    }

    /// [`Runtime::cash_available`] unless a customer's notes hold the acceptor now (`None`: in
    /// use, so working): a status check never waits behind a payment.
    pub async fn cash_available_now(&self) -> Option<Result<(), CashUnavailable>> {
        let Some(device) = &self.devices.cash else { return Some(Err(CashUnavailable::NoAcceptor)) };
        let mut driver = device.driver.try_lock().ok()?;
        Some(self.cash_state(&mut driver).await)
    }

    async fn cash_state(&self, driver: &mut cash::BillAcceptor) -> Result<(), CashUnavailable> {
        let status = driver.status().await.map_err(|_| CashUnavailable::Offline)?;
        self.note_box_removal(status).await;
        match status {
            cash::Status::StackerFull => Err(CashUnavailable::BoxFull),
            cash::Status::StackerOpen => Err(CashUnavailable::BoxOpen),
            s if s.needs_staff() => Err(CashUnavailable::NeedsStaff(super::cash_words::fault(s).into())),
            _ => Ok(()),
        }
    }

    /// Before a new customer's first note: the head holds none. A note left in escrow (a RETURN
    /// that never arrived) goes back now, never credited to this customer.
    async fn head_free_for_a_customer(&self, driver: &mut cash::BillAcceptor) -> Result<(), RuntimeError> {
        let status = driver.status().await.map_err(|e| RuntimeError::CashDevice(e.to_string()))?;
        match driver.head(status) {
            Head::Idle | Head::Stacked | Head::PowerUp(_) => Ok(()),
            Head::Escrow(_) => {
                if let Err(error) = driver.carry_out(CashEffect::Return).await {
                    tracing::warn!(%error, "the banknote acceptor did not take RETURN");
                }
                Err(CashUnavailable::NoteInHand.into())
            }
            _ => Err(CashUnavailable::NoteInHand.into()),
        }
    }

    /// Takes cash for `order` until it is paid or the customer leaves, then pays the order (or
    /// the part paid) with the credited cash. `Ok(None)`: no note was credited, nothing to pay.
    pub async fn pay_cash(
        &self,
        order: Order,
        customer: &dyn CashCustomer,
        observer: &dyn Observer,
    ) -> Result<Option<Payment>, RuntimeError> {
        self.within_limits(&order)?;
        let _sale = self.sales.try_lock().map_err(|_| RuntimeError::Busy)?;
        self.nothing_unsettled().await?;
        if let Some(open) = self.journal.cash_box().open_intakes().await?.into_iter().next() {
            return Err(RuntimeError::Unsettled(open.order_ref));
        }
        self.cash_available().await.map_err(RuntimeError::Cash)?;
        if let Some(device) = &self.devices.cash {
            self.head_free_for_a_customer(&mut *device.driver.lock().await).await?;
        }
        let overpay = Overpay::of(&order);
        let total = order.total();
        self.payable_in_notes(total, overpay)?;
        let mut intake = Intake::new(total, overpay);
        let order_json = serde_json::to_string(&order).map_err(|e| RuntimeError::Cash(bad_json(e)))?;
        let mut log = IntakeLog { order: &order, order_json: &order_json, written: None };
        self.record_intake(&mut log, &intake, true).await?;
        // Boxed: the note loop and the payment after it are large futures, and nested in a
        // caller's own (a soak day, a UI job) they overflowed a worker thread's stack in debug.
        Box::pin(self.take_notes(&mut log, &mut intake, customer, observer)).await?;
        Box::pin(self.close_intake(&mut log, intake, observer)).await
    }

    /// Without prepayment the notes must make the amount due exactly (no change is given):
    /// refused before the first note, never after the customer has put money in.
    fn payable_in_notes(&self, due: Fen, overpay: Overpay) -> Result<(), RuntimeError> {
        let Some(device) = &self.devices.cash else {
            return Err(CashUnavailable::NoAcceptor.into());
        };
        let smallest = device.accepted.first().copied().unwrap_or(Fen(100));
        if overpay == Overpay::Refused && due.0 % smallest.0 != 0 {
            return Err(CashUnavailable::NotExact { due, smallest }.into());
        }
        Ok(())
    }

    /// The loop of one customer's notes, from the first limit to paid or walked away.
    async fn take_notes(
        &self,
        log: &mut IntakeLog<'_>,
        intake: &mut Intake,
        customer: &dyn CashCustomer,
        observer: &dyn Observer,
    ) -> Result<(), RuntimeError> {
        let device = self.devices.cash.as_ref().ok_or(RuntimeError::Cash(CashUnavailable::NoAcceptor))?;
        let mut driver = device.driver.lock().await;
        if driver.notes_taken().is_empty() {
            // The escrow codes' values come from the head itself, never from a table of ours.
            driver.read_currency_assignment().await.map_err(|e| RuntimeError::CashDevice(e.to_string()))?;
        }
        // The head as it is now: a power-up is RESET (a note it stacked with nothing on record
        // is counted for staff); a ready head is told which notes to take.
        let now = driver.status().await.map_err(|e| RuntimeError::CashDevice(e.to_string()))?;
        let first = intake.step(driver.head(now));
        self.apply(log, intake, &first, &mut driver).await?;
        let mut silent = 0;
        let mut settling = 0;
        // Told once per change: a jam or a returning note lasts many polls, said once.
        let mut last_told = CashNews::Nothing;
        loop {
            tokio::time::sleep(device.poll).await;
            let status = match driver.status().await {
                Ok(status) => {
                    silent = 0;
                    status
                }
                Err(error) => {
                    silent += 1;
                    tracing::warn!(%error, silent, "no answer from the banknote acceptor");
                    if silent < DEAD_AFTER_POLLS {
                        continue;
                    }
                    // A dead head: a note in escrow is held in doubt, the rest written off.
                    // Nothing can be sent to it.
                    intake.give_up();
                    self.record_intake(log, intake, true).await?;
                    observer.cash(intake, CashNews::Nothing);
                    return Ok(());
                }
            };
            let head = driver.head(status);
            if head == Head::BoxUnavailable {
                self.note_box_removal(status).await;
            }
            let credited = intake.credited();
            let effects = intake.step(head);
            self.apply(log, intake, &effects, &mut driver).await?;
            // Told only once it is on record: "credited" is never said of a note the journal
            // does not hold.
            let told = news(status, head, credited, intake);
            if told != last_told || matches!(told, CashNews::Credited(_)) {
                observer.cash(intake, told.clone());
            }
            last_told = told;
            if intake.closed() {
                // Paid, or the customer left: wait for a note still in hand to come to rest.
                // One that never does is held in doubt, never left escrowed on a closed intake.
                settling += 1;
                if head.at_rest() {
                    return Ok(());
                }
                if settling >= SETTLE_POLLS {
                    intake.give_up();
                    self.record_intake(log, intake, true).await?;
                    observer.cash(intake, CashNews::Nothing);
                    return Ok(());
                }
                continue;
            }
            if customer.has_left(intake) {
                let effects = intake.walk_away();
                self.apply(log, intake, &effects, &mut driver).await?;
            }
        }
    }

    /// Journals the intake if it changed since it was last written (a note's fate can change
    /// with no command to send), then carries out `effects`.
    async fn apply(
        &self,
        log: &mut IntakeLog<'_>,
        intake: &Intake,
        effects: &[CashEffect],
        driver: &mut cash::BillAcceptor,
    ) -> Result<(), RuntimeError> {
        // Journal first: a note is on record before STACK, its credit before the ACK.
        self.record_intake(log, intake, true).await?;
        for &effect in effects {
            if let Err(error) = driver.carry_out(effect).await {
                // Nothing is lost: the next poll says where the note is, and the rules decide.
                tracing::warn!(?effect, %error, "the banknote acceptor did not take a command");
            }
        }
        Ok(())
    }

    /// Writes the intake and its notes' custody rows (one durable transaction), unless it is
    /// open and unchanged since it was last written.
    async fn record_intake(
        &self,
        log: &mut IntakeLog<'_>,
        intake: &Intake,
        open: bool,
    ) -> Result<(), RuntimeError> {
        if open && log.written.as_ref() == Some(intake) {
            return Ok(());
        }
        let intake_json = serde_json::to_string(intake).map_err(|e| RuntimeError::Cash(bad_json(e)))?;
        let notes = custody(intake);
        let record = IntakeRecord {
            order_ref: log.order.reference.as_str(),
            order_json: log.order_json,
            intake_json: &intake_json,
            open,
            notes: &notes,
            at: clock::now().0,
        };
        self.journal.cash_box().record_intake(&record).await.map_err(|e| self.journal_failed(e))?;
        log.written = Some(intake.clone());
        self.cut_if_due(true)?;
        Ok(())
    }

    /// The intake is over: its credited cash becomes a payment (journaled), then the intake is
    /// closed, then the payment is driven to its end.
    async fn close_intake(
        &self,
        log: &mut IntakeLog<'_>,
        intake: Intake,
        observer: &dyn Observer,
    ) -> Result<Option<Payment>, RuntimeError> {
        let order = log.order;
        let totals = intake.totals();
        let split = order.for_cash(totals.credited);
        if totals.holds_any() || intake.anomalies > 0 || split.owed.is_positive() {
            self.held_for_staff(order, &intake, split.owed).await;
        }
        let Some(cash_order) = split.order else {
            self.record_intake(log, &intake, false).await?;
            if totals.holds_any() {
                // No payment to print, but the customer's notes are in the kiosk's hands.
                self.held_cash_slip(order, &totals).await;
            }
            return Ok(None);
        };
        let payment = match self.journal.get(order.reference.as_str()).await? {
            Some(row) => journaling::restore(&row)?,
            None => {
                let payment = Payment::for_cash(cash_order);
                let new = journaling::new_payment(&payment, "cash credited", &[]);
                self.journal.create_payment(&new).await.map_err(|error| self.journal_failed(error))?;
                self.cut_if_due(true)?;
                observer.transition(&payment, "", "cash credited");
                payment
            }
        };
        self.record_intake(log, &intake, false).await?;
        let notes = intake.notes.iter().filter(|n| n.state == NoteState::Credited).count();
        let first = if payment.state == kiosk_core::State::Ordered {
            Event::PayWith { channel: Channel::Cash, code_digest: format!("{notes} notes in the cash box") }
        } else {
            Event::Resume
        };
        let Some(note) = super::cash_words::slip_note(&intake, split.owed) else {
            return self.drive(payment, None, first, observer).await.map(Some);
        };
        // Paid in part, or cash held for staff: one slip says so (no receipt is waited for).
        let paid = self.drive(payment, None, first, &NoReceipt(observer)).await?;
        if !paid.state.is_parked() {
            self.cash_slip(&paid, &note, observer).await;
        }
        Ok(Some(paid))
    }

    /// The slip of a cash payment that needs words beside its receipt (paid in part, cash held
    /// for staff). A payment parked for staff has printed its own slip.
    async fn cash_slip(&self, payment: &Payment, note: &str, observer: &dyn Observer) {
        let outcome = self.print_with_note(payment, Some(note), observer).await;
        let record = PrintRecord {
            payment_id: payment.id().to_string(),
            at: clock::now().0,
            kind: PrintKind::Slip,
            outcome: format!("cash slip; {outcome}"),
        };
        if let Err(error) = self.journal.record_print(&record).await {
            tracing::warn!(%error, "the part payment slip was not journaled");
        }
    }

    /// Notes stuck, in doubt or found with nothing on record: staff settle them at the
    /// collection count.
    async fn held_for_staff(&self, order: &Order, intake: &Intake, owed: Fen) {
        let totals = intake.totals();
        tracing::warn!(order = %order.reference, held = %totals.held, held_unknown = totals.held_unknown, %owed, anomalies = intake.anomalies, "cash held for staff");
        let detail = format!(
            "order {}: {} held (stuck or in doubt) and {} notes of unknown value, {} credited beyond the bills (owed), {} unknown notes in the box",
            order.reference, totals.held, totals.held_unknown, owed, intake.anomalies
        );
        if let Err(error) = self.record_kiosk_action("cash-held-for-staff", None, detail).await {
            tracing::warn!(%error, "the held cash was not journaled");
        }
    }

    /// At start-up, before any payment is resumed: an intake left open by a power cut. Its
    /// customer is gone; the head says where the last note went (a power-up status), the rules
    /// decide, and the credited cash is paid as for a customer who walked away. An intake whose
    /// payment exists already is only closed: its credit is the payment's, and stepping it again
    /// could credit a note no payment includes.
    pub(super) async fn recover_cash(&self, observer: &dyn Observer) -> Result<Vec<Payment>, RuntimeError> {
        let mut paid = Vec::new();
        for stored in self.journal.cash_box().open_intakes().await? {
            tracing::info!(order = %stored.order_ref, "recovering an open cash intake");
            let (order, mut intake) = restore(&stored)?;
            let mut log =
                IntakeLog { order: &order, order_json: &stored.order_json, written: Some(intake.clone()) };
            if self.journal.get(&stored.order_ref).await?.is_none() {
                self.settle_after_cut(&mut log, &mut intake).await?;
            }
            if let Some(payment) = self.close_intake(&mut log, intake, observer).await? {
                paid.push(payment);
            }
        }
        Ok(paid)
    }

    /// Polls the head until the note it held is at rest, stepping the intake of a customer who
    /// is gone (a note still in escrow goes back), then closes it.
    async fn settle_after_cut(
        &self,
        log: &mut IntakeLog<'_>,
        intake: &mut Intake,
    ) -> Result<(), RuntimeError> {
        if !intake.closed() {
            // What the head is told comes with the first status (RESET, the inhibit).
            intake.walk_away();
        }
        if let Some(device) = &self.devices.cash {
            let mut driver = device.driver.lock().await;
            if driver.notes_taken().is_empty() {
                let _ = driver.read_currency_assignment().await;
            }
            for _ in 0..SETTLE_POLLS {
                let Ok(status) = driver.status().await else {
                    tokio::time::sleep(device.poll).await;
                    continue;
                };
                let head = driver.head(status);
                let effects = intake.step(head);
                self.apply(log, intake, &effects, &mut driver).await?;
                if head.at_rest() {
                    return Ok(());
                }
                tokio::time::sleep(device.poll).await;
            }
        }
        // No head to ask (or it never came to rest): a note in escrow is held in doubt; nothing
        // can be sent.
        intake.give_up();
        self.record_intake(log, intake, true).await
    }
}

/// One intake as it is journaled: its order, and the intake as last written (only a change is
/// written again).
struct IntakeLog<'a> {
    order: &'a Order,
    order_json: &'a str,
    written: Option<Intake>,
}

/// The observer of a customer who walked away: no receipt (the part payment slip says it).
struct NoReceipt<'a>(&'a dyn Observer);

impl Observer for NoReceipt<'_> {
    fn transition(&self, payment: &Payment, from: &str, event: &str) {
        self.0.transition(payment, from, event)
    }
    fn receipt(&self, payment: &Payment, receipt: &kiosk_core::receipt::Receipt, qr: Option<&str>) {
        self.0.receipt(payment, receipt, qr)
    }
    fn wants_receipt(&self, _payment: &Payment) -> bool {
        false
    }
    fn print_failed(&self, payment: &Payment, reason: &str) {
        self.0.print_failed(payment, reason)
    }
}

/// The custody rows of an intake: one per note in order, one per anomaly (negative `seq`).
fn custody(intake: &Intake) -> Vec<NoteRecord> {
    let notes = intake.notes.iter().enumerate().map(|(seq, note)| NoteRecord {
        seq: seq as i64,
        value_fen: note.value.map(|v| v.0),
        state: match note.state {
            NoteState::Escrowed => NoteCustody::Escrowed,
            NoteState::Credited => NoteCustody::Credited,
            NoteState::Returned => NoteCustody::Returned,
            NoteState::Stuck => NoteCustody::Stuck,
            NoteState::InDoubt => NoteCustody::InDoubt,
        },
    });
    let anomalies = (1..=i64::from(intake.anomalies)).map(|n| NoteRecord {
        seq: -n,
        value_fen: None,
        state: NoteCustody::Anomaly,
    });
    notes.chain(anomalies).collect()
}

fn restore(stored: &StoredIntake) -> Result<(Order, Intake), RuntimeError> {
    let order = serde_json::from_str(&stored.order_json).map_err(|e| RuntimeError::Cash(bad_json(e)))?;
    let intake = serde_json::from_str(&stored.intake_json).map_err(|e| RuntimeError::Cash(bad_json(e)))?;
    Ok((order, intake))
}

fn bad_json(error: serde_json::Error) -> CashUnavailable {
    CashUnavailable::BadRecord(error.to_string())
}
