//! The runtime: a thin shell around the pure payment machine. It feeds events in, journals every
//! change (fsync) *before* carrying out the effects it asks for, and turns each effect into one
//! call whose reply is the next event (ARCHITECTURE.md rules 1–2, payments.md R1).
//!
//! One payment at a time takes new money (R5, F12): [`Runtime::pay_order`] refuses while another
//! payment is in flight in this process or unsettled in the journal.

mod bank_card_slot;
mod card_reversals;
pub mod cash;
mod cash_collection;
mod cash_words;
pub mod crash_point;
mod drive;
mod effects;
mod gas;
pub mod help_call;
mod household;
pub mod journaling;
pub mod observer;
mod scan;
mod slips;
mod write_off_again;
pub use write_off_again::WriteOffAgain;

pub use bank_card_slot::card_kept_note;
pub use cash::{CashCustomer, CashNews, CashUnavailable, IdleCustomer};
pub use cash_collection::{collection_slip, Collected};
pub use gas::{GasError, Rewritten};
pub use household::{AccountKind, HouseholdAccount, HouseholdError};
pub use observer::{CustomerGone, Observer, Quiet};
pub use scan::ScanProblem;

use crate::clock;
use journal::Journal;
use kiosk_core::receipt::{self, Receipt, ReceiptContext};
use kiosk_core::{
    AccountNo, Bill, Channel, Event, JointBill, Order, OrderRef, Payment, PaymentCode, Policy, Utility,
};
use tokio::sync::Mutex;

/// How the customer pays.
#[derive(Debug)]
pub enum PayMethod {
    /// A WeChat, Alipay or UnionPay payment code, scanned or typed.
    Code(PaymentCode),
    /// A bank card in the certified payment terminal (the kiosk never sees the card number).
    BankCard,
}

/// Who this kiosk is, for orders and receipts.
#[derive(Clone, Debug)]
pub struct Identity {
    pub kiosk_id: String,
    /// The registered kiosk number every order number carries.
    pub number: String,
    pub service_phone: String,
    /// The most one payment may take, whatever is due (`kiosk.max_payment_fen`).
    pub max_payment: kiosk_core::Fen,
}

pub struct Runtime {
    pub journal: Journal,
    pub channels: payments::ChannelClients,
    pub billers: billers::Billers,
    pub policy: Policy,
    pub identity: Identity,
    pub devices: crate::devices::Devices,
    /// Signs the QR proof on every receipt; without it receipts carry no QR.
    pub signing_key: Option<printer::proof::SigningKey>,
    /// Held while a payment takes money; a second one is refused, never queued (F12).
    sales: Mutex<()>,
    /// Set when the journal was found changed behind the running kiosk: no money moves again in
    /// this process (staff see why; a restart re-checks the whole journal).
    journal_fault: std::sync::Mutex<Option<String>>,
    /// Why an operator took the kiosk out of service (a hub command), if one did: no new sale
    /// starts, a customer already paying finishes.
    service_hold: std::sync::Mutex<Option<String>>,
    /// The whole chain, checked once per process before its first money moves (start-up checks
    /// only the rows after the last verified checkpoint).
    whole_chain: tokio::sync::OnceCell<Result<u64, String>>,
    order_clock: crate::ids::OrderClock,
    /// An in-process power cut for `yizhan soak`; never armed otherwise.
    pub(crate) simulated_cut: crash_point::SimulatedCut,
    /// The cash box was last seen out of its place (its alarm is raised once per removal).
    cash_box_out: std::sync::atomic::AtomicBool,
    /// When the payment-code channels were last probed, and how many probes in a row found
    /// none; the lock is held only by the one probe under way.
    channel_probe: tokio::sync::Mutex<Option<(std::time::Instant, u32)>>,
    /// The last probe's answer, for callers that come while a probe is under way.
    channels_reachable: std::sync::atomic::AtomicBool,
    /// The customer's call for staff, until staff sign in here (the heartbeat carries it).
    pub help: help_call::HelpCall,
}

/// How long a probe of the payment-code channels stands: the status is asked every few seconds,
/// and a probe of a network that is down waits for its connect timeout.
const CHANNEL_PROBE_STANDS: std::time::Duration = std::time::Duration::from_secs(30);

/// What [`Runtime::into_parts`] keeps across an in-process restart.
pub(crate) struct RestartParts {
    channels: payments::ChannelClients,
    billers: billers::Billers,
    policy: Policy,
    identity: Identity,
    devices: crate::devices::Devices,
    /// The bank card drivers' configuration, to open them again on the new journal.
    bank_card: Option<bankcard::BankCardConfig>,
    signing_key: Option<printer::proof::SigningKey>,
}

/// Whether a receipt can be promised before the customer pays (checked before money moves).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptAvailability {
    Ready,
    /// Ready, but staff should load paper soon.
    NearEnd,
    /// No receipt now; the customer may still pay without one.
    Unavailable(String),
    NoPrinter,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("another payment is in progress at this kiosk; wait for it to finish")]
    Busy,
    #[error("payment {0} is not settled yet; it is resumed before any new payment")]
    Unsettled(String),
    #[error("{0} (or joint)")]
    Utility(#[from] kiosk_core::utility::UnknownUtility),
    #[error("the account number is not valid: {0}")]
    Account(#[from] kiosk_core::utility::AccountError),
    #[error("the biller could not be asked: {0}")]
    Biller(#[from] billers::BillerError),
    #[error("this kiosk does not offer the joint bill (no [billers.joint] in the configuration)")]
    NoJointBill,
    #[error("{0}")]
    Order(#[from] kiosk_core::order::OrderError),
    #[error("{amount} is more than this kiosk takes in one payment ({max}, kiosk.max_payment_fen); nothing was charged")]
    AboveCeiling { amount: kiosk_core::Fen, max: kiosk_core::Fen },
    #[error("the journal failed: {0}")]
    Journal(#[from] journal::JournalError),
    /// `yizhan soak` cut the power here (see [`crash_point::SimulatedCut`]).
    #[error("simulated power cut")]
    PowerCut,
    #[error(transparent)]
    Snapshot(#[from] journaling::BadSnapshot),
    #[error("no cash now: {0}")]
    Cash(#[from] CashUnavailable),
    #[error("the banknote acceptor failed: {0}")]
    CashDevice(String),
    #[error("this kiosk has no bank card terminal")]
    NoBankCardTerminal,
    #[error("no bank card was inserted")]
    NoBankCard,
    #[error("the bank card slot failed: {0}")]
    BankCardSlot(String),
    #[error("payment {0} is stuck in {1} with nothing to wait for")]
    Stuck(String, &'static str),
    #[error("no payment {0} in the journal")]
    NotFound(String),
    #[error("{0} is {1}, not waiting for staff")]
    NotParked(String, &'static str),
    #[error("refused: it contradicts what the kiosk itself saw for {0}; nothing changed")]
    ResolutionRefused(String),
    #[error("{0}: nothing was sent")]
    NoWriteOffToAskAbout(String),
    #[error("the journal cannot be trusted, so this kiosk takes no money: {0}")]
    JournalUntrusted(String),
    #[error("the kiosk was taken out of service by the operator: {0}")]
    OutOfService(String),
}

impl RuntimeError {
    /// The customer or the command asked for something the kiosk refuses before any money moves
    /// (CLI exit code 2), as opposed to a failure of the kiosk itself (1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            RuntimeError::Account(_)
                | RuntimeError::Utility(_)
                | RuntimeError::Order(_)
                | RuntimeError::AboveCeiling { .. }
                | RuntimeError::NotFound(_)
                | RuntimeError::NotParked(..)
                | RuntimeError::ResolutionRefused(_)
                | RuntimeError::NoWriteOffToAskAbout(_)
        )
    }

    /// The CLI's exit code for this refusal (README, "Exit codes"): 2 bad input, 5 the journal
    /// cannot be trusted, 6 the biller does not know the account or card, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            RuntimeError::JournalUntrusted(_) => 5,
            RuntimeError::Biller(
                billers::BillerError::UnknownAccount | billers::BillerError::UnknownCard,
            ) => 6,
            error if error.is_bad_input() => 2,
            _ => 1,
        }
    }
}

impl Runtime {
    pub fn new(
        journal: Journal,
        channels: payments::ChannelClients,
        billers: billers::Billers,
        policy: Policy,
        identity: Identity,
    ) -> Runtime {
        Runtime {
            journal,
            channels,
            billers,
            policy,
            identity,
            devices: Default::default(),
            signing_key: None,
            sales: Mutex::new(()),
            journal_fault: std::sync::Mutex::new(None),
            service_hold: std::sync::Mutex::new(None),
            whole_chain: tokio::sync::OnceCell::new(),
            order_clock: Default::default(),
            simulated_cut: Default::default(),
            cash_box_out: Default::default(),
            channel_probe: Default::default(),
            channels_reachable: std::sync::atomic::AtomicBool::new(true),
            help: Default::default(),
        }
    }

    /// Everything but the journal and this process's memory: what a restart inside the same
    /// process (`crate::backend::Backend::restart`) keeps.
    /// The bank card drivers are closed here, so that nothing but the returned journal holds it.
    pub(crate) fn into_parts(self) -> (Journal, RestartParts) {
        let mut devices = self.devices;
        let bank_card = devices.close_bank_card();
        let parts = RestartParts {
            channels: self.channels,
            billers: self.billers,
            policy: self.policy,
            identity: self.identity,
            devices,
            bank_card,
            signing_key: self.signing_key,
        };
        (self.journal, parts)
    }

    /// A runtime on a journal opened again, with the parts of the one before it and the bank
    /// card drivers (closed with the old journal) opened afresh on the new one.
    pub(crate) async fn from_parts(
        journal: Journal,
        mut parts: RestartParts,
    ) -> Result<Runtime, RuntimeError> {
        let reopened = parts.devices.reopen_bank_card(parts.bank_card, &journal);
        reopened.map_err(|e| RuntimeError::BankCardSlot(e.to_string()))?;
        let runtime = Runtime::new(journal, parts.channels, parts.billers, parts.policy, parts.identity)
            .with_devices(parts.devices, parts.signing_key);
        runtime.start_order_clock().await?;
        runtime.reopen_help_call().await;
        Ok(runtime)
    }

    /// Order numbers are the time to the millisecond: after a start they must come after every
    /// order the journal holds, even if the clock stepped back meanwhile (an NTP step, a reset
    /// real-time clock), or a customer would be refused for a clashing number.
    pub async fn start_order_clock(&self) -> Result<(), RuntimeError> {
        let number = &self.identity.number;
        let greatest = self
            .journal
            .greatest_payment_id(&crate::ids::order_prefix(number), crate::ids::order_len(number))
            .await?;
        if let Some(at) = greatest.and_then(|id| crate::ids::order_time(number, &id)) {
            self.order_clock.start_after(at);
        }
        Ok(())
    }

    /// The kiosk's devices and receipt key.
    pub fn with_devices(
        mut self,
        devices: crate::devices::Devices,
        signing_key: Option<printer::proof::SigningKey>,
    ) -> Runtime {
        self.devices = devices;
        self.signing_key = signing_key;
        self
    }

    /// Asks the printer, before any money moves, whether a receipt can be promised.
    pub async fn receipt_availability(&self) -> ReceiptAvailability {
        let Some(printer) = &self.devices.printer else {
            return ReceiptAvailability::NoPrinter;
        };
        let status = printer.driver.lock().await.status().await;
        if !status.can_print_receipt() {
            ReceiptAvailability::Unavailable(describe_printer(&status).to_string())
        } else if status.paper_near_end() {
            ReceiptAvailability::NearEnd
        } else {
            ReceiptAvailability::Ready
        }
    }

    /// Checks the account number against the utility's rule, then asks its biller.
    pub async fn fetch_bill(&self, utility: Utility, account: &str) -> Result<Bill, RuntimeError> {
        let client = self.billers.get(utility);
        let account = client.account_rule().check(utility, account)?;
        Ok(client.fetch_bill(&account).await?)
    }

    pub async fn fetch_joint_bill(&self, account: &str) -> Result<JointBill, RuntimeError> {
        let client = self.billers.joint().ok_or(RuntimeError::NoJointBill)?;
        let account: AccountNo = client.account_rule().check(Utility::Power, account)?;
        Ok(client.fetch_joint_bill(&account).await?)
    }

    /// A new order number for this kiosk.
    pub fn new_order_ref(&self) -> OrderRef {
        let at = self.order_clock.next(clock::now());
        crate::ids::order_ref_at(&self.identity.number, clock::local(at))
    }

    /// Journals the confirmed order, sends the pay request with `code`, and drives the payment to
    /// a terminal or parked state. Refuses while another payment holds the kiosk.
    pub async fn pay_order(
        &self,
        order: Order,
        code: PaymentCode,
        observer: &dyn Observer,
    ) -> Result<Payment, RuntimeError> {
        self.pay_order_with(order, PayMethod::Code(code), observer).await
    }

    /// [`Runtime::pay_order`] with any way of paying: a scanned code or the bank card terminal.
    pub async fn pay_order_with(
        &self,
        order: Order,
        method: PayMethod,
        observer: &dyn Observer,
    ) -> Result<Payment, RuntimeError> {
        // Bounded before anything is journaled: an absurd amount never becomes an order.
        self.within_limits(&order)?;
        let _sale = self.sales.try_lock().map_err(|_| RuntimeError::Busy)?;
        self.nothing_unsettled().await?;
        let bank_card = matches!(method, PayMethod::BankCard);
        if bank_card {
            self.clear_card_reversals_before_a_sale().await?;
            self.take_bank_card_in(observer).await?;
        }
        let result = self.journal_and_drive(order, method, observer).await;
        // Whatever happened — paid, refused, or the journal failed before anything was sent —
        // the card goes back to the customer (or, abandoned at the gate, into the bin). Not
        // after a simulated power cut: a dead kiosk gives nothing back, and the next start
        // presents the card left inside.
        if bank_card && !matches!(result, Err(RuntimeError::PowerCut)) {
            self.give_bank_card_back(result.as_ref().ok(), observer).await;
        }
        result
    }

    /// Bounded before anything is journaled: an absurd amount never becomes an order.
    pub(super) fn within_limits(&self, order: &Order) -> Result<(), RuntimeError> {
        let total = order.total();
        if total <= kiosk_core::Fen::ZERO {
            return Err(kiosk_core::order::OrderError::NothingDue(total).into());
        }
        if total > self.identity.max_payment {
            return Err(RuntimeError::AboveCeiling { amount: total, max: self.identity.max_payment });
        }
        Ok(())
    }

    /// A new sale starts only on a verified journal with nothing left to finish.
    pub(super) async fn nothing_unsettled(&self) -> Result<(), RuntimeError> {
        if let Some(why) = self.service_hold() {
            return Err(RuntimeError::OutOfService(why));
        }
        self.verify_whole_journal().await?;
        if let Some(row) = self.journal.load_unfinished().await?.into_iter().next() {
            return Err(RuntimeError::Unsettled(row.id));
        }
        Ok(())
    }

    async fn journal_and_drive(
        &self,
        order: Order,
        method: PayMethod,
        observer: &dyn Observer,
    ) -> Result<Payment, RuntimeError> {
        let payment = Payment::new(order);
        let new = journaling::new_payment(&payment, "order confirmed", &[]);
        self.journal.create_payment(&new).await.map_err(|error| self.journal_failed(error))?;
        self.cut_if_due(true)?;
        observer.transition(&payment, "", "order confirmed");
        let (first, code) = match method {
            PayMethod::Code(code) => {
                (Event::PayWith { channel: code.channel(), code_digest: code.digest() }, Some(code))
            }
            PayMethod::BankCard => (
                Event::PayWith { channel: Channel::BankCard, code_digest: "bank card terminal".into() },
                None,
            ),
        };
        self.drive(payment, code, first, observer).await
    }

    /// Resumes every payment that may have money in flight, oldest first (R5), then every parked
    /// payment whose next check is due (a refund on its way, suspense). Call at start-up before
    /// taking new money.
    pub async fn recover(&self, observer: &dyn Observer) -> Result<Vec<Payment>, RuntimeError> {
        let _sale = self.sales.lock().await;
        self.settle_locked(observer).await
    }

    /// The running kiosk's background settler, between customers: what [`Runtime::recover`] does
    /// at start-up, so a payment left unfinished by a failed UI job (a journal write error, a
    /// crashed task) is resumed without a restart, and suspense and accepted refunds are checked
    /// on their journaled schedule. Does nothing while a customer is paying.
    pub async fn settle_due(&self, observer: &dyn Observer) -> Result<Vec<Payment>, RuntimeError> {
        let Ok(_sale) = self.sales.try_lock() else { return Ok(Vec::new()) };
        if self.journal_fault().is_some() {
            return Ok(Vec::new());
        }
        self.settle_locked(observer).await
    }

    /// Checks the whole journal once per process (later calls return the first answer), and
    /// refuses money for good when it does not hold. The running kiosk's settler calls it right
    /// after start, so a customer seldom waits for it.
    pub async fn verify_whole_journal(&self) -> Result<(), RuntimeError> {
        // A database that could not be read this time (busy, I/O) is an error of this call, not
        // a verdict: only a verdict is kept.
        let checked = self
            .whole_chain
            .get_or_try_init(|| async {
                let rows = journaling::row_check();
                match self.journal.verify_whole(&rows).await {
                    Ok(rows) => Ok(Ok(rows)),
                    Err(journal::Distrust::Journal(error)) => Err(error),
                    Err(distrust) => Ok(Err(distrust.to_string())),
                }
            })
            .await?;
        match checked {
            Ok(rows) => tracing::debug!(rows, "whole journal verified"),
            Err(why) if self.journal_fault().is_none() => self.distrust_journal(why.clone()),
            Err(_) => {}
        }
        match self.journal_fault() {
            Some(fault) => Err(RuntimeError::JournalUntrusted(fault)),
            None => Ok(()),
        }
    }

    async fn settle_locked(&self, observer: &dyn Observer) -> Result<Vec<Payment>, RuntimeError> {
        self.verify_whole_journal().await?;
        // Cash first: an intake left open becomes (or finds) its payment, resumed here.
        // Boxed, as in pay_cash: the cash recovery pays orders, a large future to nest.
        let mut settled = Box::pin(self.recover_cash(observer)).await?;
        for row in self.journal.load_unfinished().await? {
            let payment = journaling::restore(&row)?;
            tracing::info!(order = %row.id, state = %row.state, "resuming an unfinished payment");
            settled.push(self.drive(payment, None, Event::Resume, observer).await?);
        }
        let now = clock::now().0;
        for row in self.journal.load_parked().await? {
            if row.next_deadline.is_some_and(|at| at <= now) {
                let payment = journaling::restore(&row)?;
                tracing::info!(order = %row.id, state = %row.state, "checking a parked payment");
                // Its slip came out when it parked: a check that parks it again, or settles it,
                // is journaled, not printed into a tray nobody may be watching (slips the power
                // cut left unprinted come out below).
                let gone = CustomerGone(observer);
                settled.push(self.drive(payment, None, Event::Tick, &gone).await?);
            }
        }
        self.settle_card_reversals().await?;
        self.print_missing_slips(observer).await?;
        Ok(settled)
    }

    /// Whether a payment code can be paid now as far as the network goes: some configured
    /// channel can be reached. Probed at most every [`CHANNEL_PROBE_STANDS`] (a sixth of it after
    /// a first failure), withdrawn after two failures in a row; a caller that comes while a probe
    /// waits on a dead network gets the last answer rather than waiting too.
    pub async fn code_channels_reachable(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let Ok(mut last) = self.channel_probe.try_lock() else {
            return self.channels_reachable.load(Relaxed);
        };
        if let Some((at, failed)) = *last {
            // A first failure is checked again soon rather than believed.
            let stands = if failed == 1 { CHANNEL_PROBE_STANDS / 6 } else { CHANNEL_PROBE_STANDS };
            if at.elapsed() < stands {
                return self.channels_reachable.load(Relaxed);
            }
        }
        let failed_before = last.map_or(0, |(_, failed)| failed);
        let failed = match self.channels.any_reachable().await {
            true => 0,
            false => failed_before + 1,
        };
        // Withdrawn after two failed probes in a row: one lost connection is not a network down.
        let reachable = failed < 2;
        if failed == 2 {
            tracing::warn!(
                "no payment-code channel can be reached: payment codes withdrawn, cash offered first"
            );
        }
        *last = Some((std::time::Instant::now(), failed));
        self.channels_reachable.store(reachable, Relaxed);
        reachable
    }

    /// Why an operator took the kiosk out of service, if one did.
    pub fn service_hold(&self) -> Option<String> {
        self.service_hold.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Takes the kiosk out of service (`Some(reason)`) or back into it (`None`). The screens
    /// follow between customers (the session changes screen only when idle); a sale under way
    /// finishes.
    pub fn set_service_hold(&self, reason: Option<String>) {
        *self.service_hold.lock().unwrap_or_else(|p| p.into_inner()) = reason;
    }

    /// Why the journal stopped being trusted while the kiosk ran, if it did.
    pub fn journal_fault(&self) -> Option<String> {
        self.journal_fault.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Arms an in-process power cut (see [`crash_point::SimulatedCut`]): the power-cut tests
    /// of the cash box and `yizhan soak`. Only with the `sim` feature.
    #[cfg(feature = "sim")]
    pub fn arm_power_cut(&self, cut: crash_point::Cut) {
        self.simulated_cut.arm(cut);
    }

    /// Falls the simulated power cut if it is due after this commit (`commit`) or answered call.
    pub(crate) fn cut_if_due(&self, commit: bool) -> Result<(), RuntimeError> {
        if self.simulated_cut.falls_after(commit) {
            return Err(RuntimeError::PowerCut);
        }
        Ok(())
    }

    /// A journal write failed: when the journal changed behind the kiosk, no money moves again
    /// in this process.
    pub(crate) fn journal_failed(&self, error: journal::JournalError) -> RuntimeError {
        if matches!(error, journal::JournalError::TailChanged { .. }) {
            self.distrust_journal(error.to_string());
        }
        error.into()
    }

    /// Journals, as a staff action of the kiosk itself (staff "kiosk"), what staff must know of:
    /// an alarm, a slip printed for the counter, a card kept or rewritten.
    async fn record_kiosk_action(
        &self,
        action: &str,
        payment_id: Option<String>,
        detail: String,
    ) -> Result<i64, journal::JournalError> {
        self.record_kiosk_action_at(clock::now().0, action, payment_id, detail).await
    }

    /// [`Runtime::record_kiosk_action`] at a time the caller already holds (ms).
    async fn record_kiosk_action_at(
        &self,
        at: i64,
        action: &str,
        payment_id: Option<String>,
        detail: String,
    ) -> Result<i64, journal::JournalError> {
        let action =
            journal::StaffAction { at, staff_id: "kiosk".into(), action: action.into(), payment_id, detail };
        self.journal.record_staff_action(&action).await
    }

    /// Stops all money for this process: the journal changed behind it.
    pub(crate) fn distrust_journal(&self, why: String) {
        tracing::error!(%why, "the journal changed behind the kiosk: no more money is taken");
        *self.journal_fault.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }

    /// Waits until no sale and no settling is under way, and keeps new ones out while the guard
    /// lives: for what may only happen between customers (a pushed configuration taken up).
    pub async fn between_customers(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.sales.lock().await
    }

    /// Whether a sale or a settling is under way right now (the heartbeat's loop asks before it
    /// settles for the hub, so as never to wait behind a customer).
    pub fn customer_paying_now(&self) -> bool {
        self.sales.try_lock().is_err()
    }

    /// Staff settle a parked payment from what they know (the statements, a call to the
    /// channel): the resolution is a journaled transition, and who and why a staff action
    /// beside it. A resolution that contradicts what the kiosk itself saw changes nothing.
    pub async fn resolve_parked(
        &self,
        id: &str,
        staff_id: &str,
        outcome: kiosk_core::StaffOutcome,
        reason: &str,
        observer: &dyn Observer,
    ) -> Result<Payment, RuntimeError> {
        let payment = self.load(id).await?;
        if !payment.state.is_parked() {
            return Err(RuntimeError::NotParked(id.to_string(), payment.state.label()));
        }
        let before = payment.state.label();
        let event =
            Event::StaffResolved { staff_id: staff_id.to_string(), outcome, reason: reason.to_string() };
        let after = self.settle_externally(payment, event, observer).await?;
        if after.state.label() == before {
            return Err(RuntimeError::ResolutionRefused(id.to_string()));
        }
        let action = journal::StaffAction {
            at: clock::now().0,
            staff_id: staff_id.to_string(),
            action: "resolve_suspense".into(),
            payment_id: Some(id.to_string()),
            detail: format!("{}: {reason}", outcome.code()),
        };
        if let Err(error) = self.journal.record_staff_action(&action).await {
            // The resolution itself is journaled; only who and why is missing.
            tracing::error!(%error, "a staff resolution's record failed");
            return Err(self.journal_failed(error));
        }
        Ok(after)
    }

    /// Applies an outcome learned outside the kiosk's own calls (the day's statements) to a
    /// payment, journaled like any transition. The payment is read again once the sales are
    /// ours: what the caller read may have moved on since, and the event is fed to the payment
    /// as the journal holds it now.
    pub async fn settle_externally(
        &self,
        payment: Payment,
        event: Event,
        observer: &dyn Observer,
    ) -> Result<Payment, RuntimeError> {
        let _sale = self.sales.lock().await;
        self.verify_whole_journal().await?;
        let payment = self.load(payment.id()).await?;
        self.drive(payment, None, event, observer).await
    }

    pub async fn load(&self, id: &str) -> Result<Payment, RuntimeError> {
        let row = self.journal.get(id).await?.ok_or_else(|| RuntimeError::NotFound(id.to_string()))?;
        Ok(journaling::restore(&row)?)
    }

    /// The QR proof for a payment's receipt, when the kiosk has a signing key.
    pub fn receipt_payload(&self, payment: &Payment) -> Option<String> {
        crate::proof::payload_for(payment, &self.identity.kiosk_id, self.signing_key.as_ref())
    }

    /// The receipt (or slip) of a payment as the journal holds it, for printing or reprinting.
    pub async fn receipt(&self, payment: &Payment) -> Receipt {
        self.receipt_printed(payment, false).await
    }

    /// The receipt as printed now; `reprint`: paper for it came out before (marked 补打).
    pub async fn receipt_printed(&self, payment: &Payment, reprint: bool) -> Receipt {
        let ctx = ReceiptContext {
            kiosk_id: self.identity.kiosk_id.clone(),
            journal_seq: Some(self.journal.committed_seq()).filter(|seq| *seq > 0),
            paid_at: clock::format_local(payment.pay_sent_at.unwrap_or(payment.order.created_at)),
            printed_at: clock::format_local(clock::now()),
            reprint,
            service_phone: self.identity.service_phone.clone(),
            card_tail: self.card_tail(payment).await,
        };
        receipt::build(payment, &ctx)
    }

    /// The last four digits of a bank card payment's card, as the terminal's approval gave them.
    /// A memory that cannot be read now prints the receipt without them.
    async fn card_tail(&self, payment: &Payment) -> Option<String> {
        if payment.channel != Some(kiosk_core::Channel::BankCard) {
            return None;
        }
        match self.journal.card_terminal().purchase(payment.id()).await {
            Ok(purchase) => purchase.and_then(|p| p.card_tail),
            Err(error) => {
                tracing::warn!(order = %payment.id(), %error, "the card's last digits could not be read");
                None
            }
        }
    }
}

/// What a person should hear about a printer that cannot print now.
pub fn describe_printer(status: &printer::PrinterStatus) -> kiosk_core::session::Text {
    use kiosk_core::session::Text;
    use printer::Paper;
    if !status.reachable {
        Text::new("the printer does not answer")
    } else if status.paper == Paper::Out {
        Text::new("the printer is out of paper")
    } else if status.cover_open {
        Text::new("the printer cover is open")
    } else if status.cutter_error {
        Text::new("the printer's cutter is jammed")
    } else if status.offline {
        Text::new("the printer is offline")
    } else {
        Text::new("the printer reports an error")
    }
}
