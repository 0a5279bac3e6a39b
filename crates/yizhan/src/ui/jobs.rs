//! The session's commands carried out: speech at once, everything that waits on a device, a
//! biller or a channel as a tokio job whose result comes back as an [`Input`].

use super::observer::{outcome_of, UiObserver};
use super::{KioskUi, News};
use crate::backend::Backend;
use crate::clock;
use crate::commands::customer;
use crate::runtime::{
    AccountKind, CashCustomer, CashUnavailable, GasError, IdleCustomer, PayMethod, RuntimeError,
};
use journal::PrintKind;
use kiosk_core::session::{
    Command, Found, GasCardInfo, Input, MethodChoice, Notice, Outcome, OutcomeKind, Service, StaffCommand,
    Text,
};
use kiosk_core::utility::mask_middle;
use kiosk_core::{Fen, Order, Utility};
use std::sync::Arc;
use std::time::Duration;

/// How long the scanner waits for a paper bill's barcode.
const BILL_SCAN_WINDOW: Duration = Duration::from_secs(30);
/// How long the ID slot waits for a card.
const ID_CARD_WINDOW: Duration = Duration::from_secs(30);

impl KioskUi {
    pub(super) fn run(&mut self, command: Command) {
        if self.demo_customer {
            self.play_customer(&command);
        }
        let lang = self.session.lang;
        match command {
            Command::Speak(lines) => self.speaker.say(&lines, lang),
            Command::StopSpeech => self.speaker.stop(),
            Command::SetVolume { gain_db } => self.speaker.set_gain(gain_db),
            Command::RouteSpeech { headset } => self.speaker.route(headset),
            Command::FetchBill { service, account } => self.spawn(move |b| fetch_bill(b, service, account)),
            Command::ScanBill => self.spawn(scan_bill),
            Command::ReadIdCard => self.spawn(read_id_card),
            Command::ReadGasCard => self.spawn(read_gas_card),
            Command::ReturnGasCard => {
                let backend = self.backend.clone();
                self.tokio.spawn(async move { backend.runtime.return_gas_card().await });
            }
            Command::Pay { method: MethodChoice::Cash } => self.pay_cash(),
            Command::Pay { method } => self.pay(method),
            Command::StopCash => self.stop_cash.store(true, std::sync::atomic::Ordering::SeqCst),
            Command::StopScanning => {
                if let Some(stop) = self.stop_scan.take() {
                    let _ = stop.send(());
                }
            }
            Command::PrintReceipt => self.print_receipt(),
            Command::CheckStaffPin { pin } => {
                // argon2 is slow on purpose: never on the UI thread.
                let (staff, news, generation) = (self.staff.clone(), self.news_tx.clone(), self.generation);
                self.tokio.spawn_blocking(move || {
                    let input = match staff.check(&pin) {
                        Some(id) => Input::StaffSignedIn { staff_id: id.to_string() },
                        None => Input::StaffSignInFailed,
                    };
                    let _ = news.send(News::Input(generation, input));
                });
            }
            Command::Staff { staff_id, action } => self.staff_action(staff_id, action),
            Command::CallStaff => {
                let backend = self.backend.clone();
                self.tokio.spawn(async move { backend.runtime.call_for_help().await });
            }
            Command::WipePersonalData => {
                self.last_payment = None;
                self.generation += 1;
                if let Some(stop) = self.stop_scan.take() {
                    let _ = stop.send(());
                }
                // Between customers: what the payment freed goes back to the kernel.
                super::heap::give_back_freed();
            }
            Command::RefreshAvailability => self.refresh_status(),
        }
    }

    /// The simulated customer of the demo: does what the screen asks of a person.
    fn play_customer(&self, command: &Command) {
        let _inside = self.tokio.enter();
        let backend = &self.backend;
        match command {
            Command::Pay { method: MethodChoice::Code } => customer::show_demo_payment_code(backend),
            Command::Pay { method: MethodChoice::BankCard } => customer::bank_card_customer(backend, true),
            Command::Pay { method: MethodChoice::Cash } => {
                customer::insert_demo_notes(backend, self.session.amount().unwrap_or_default())
            }
            Command::ReadIdCard => customer::insert_id_card_when_allowed(backend),
            Command::ReadGasCard => {
                customer::insert_demo_gas_card(backend);
            }
            _ => {}
        }
    }

    /// Runs `job` on tokio and sends back the input it returns.
    fn spawn<F, Fut>(&self, job: F)
    where
        F: FnOnce(Arc<Backend>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Input> + Send + 'static,
    {
        let (backend, tx, generation) = (self.backend.clone(), self.news_tx.clone(), self.generation);
        self.tokio.spawn(async move {
            let input = job(backend).await;
            let _ = tx.send(News::Input(generation, input));
        });
    }

    /// What the paying stage pays: the bills found (and a gas card's amount). Without one the
    /// payment is refused at once, with the way back.
    fn what_is_paid(&self) -> Option<(Found, Option<Fen>)> {
        let order = self.session.stage.order();
        if order.is_none() {
            let notice = Notice::error(Text::new("Please look the bill up again."));
            let _ = self.news_tx.send(News::Input(self.generation, Input::PayRefused(notice)));
        }
        order.map(|o| (o.found.clone(), o.top_up))
    }

    /// Takes the money in a job, watched: whatever becomes of the job — even a panic — the
    /// session hears how the payment ended, so the screen can never hang on "paying".
    fn pay(&mut self, method: MethodChoice) {
        let generation = self.generation;
        let Some((found, amount)) = self.what_is_paid() else { return };
        // The same window the screen counts down (the scanner caps it at its own ceiling).
        let window = self.session.timing().code_window;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        self.stop_scan = Some(stop_tx);
        let backend = self.backend.clone();
        let observer = Arc::new(UiObserver::new(self.news_tx.clone(), generation, Some(method)));
        let watched = observer.clone();
        let job = self
            .tokio
            .spawn(async move { take_money(&backend, found, amount, window, stop_rx, &observer).await });
        self.watch(job, watched);
    }

    /// Sends back how a payment job ended. A job that failed (even a panic) is said as not
    /// settled once money may have moved, never as "not charged", so the screen can never hang
    /// on "paying".
    fn watch(&self, job: tokio::task::JoinHandle<Input>, observer: Arc<UiObserver>) {
        let (backend, tx, generation) = (self.backend.clone(), self.news_tx.clone(), self.generation);
        self.tokio.spawn(async move {
            let input = match job.await {
                Ok(input) => input,
                Err(error) => {
                    tracing::error!(%error, "ui: the payment job failed");
                    job_stopped(&backend, &observer, "the payment job failed").await
                }
            };
            let _ = tx.send(News::Input(generation, input));
        });
    }

    /// Takes cash in a job, watched like [`KioskUi::pay`]: the acceptor's news comes back as
    /// it is journaled, and 结束投币 (or a customer gone quiet) ends the intake.
    fn pay_cash(&mut self) {
        let generation = self.generation;
        let Some((found, amount)) = self.what_is_paid() else { return };
        self.stop_cash = Default::default();
        let customer = UiCashCustomer { stop: self.stop_cash.clone(), idle: IdleCustomer::new(CASH_IDLE) };
        let backend = self.backend.clone();
        let observer = Arc::new(UiObserver::new(self.news_tx.clone(), generation, Some(MethodChoice::Cash)));
        let watched = observer.clone();
        let job =
            self.tokio.spawn(async move { take_cash(&backend, found, amount, &customer, &observer).await });
        self.watch(job, watched);
    }

    fn print_receipt(&self) {
        let Some(payment) = self.last_payment.clone() else {
            let _ = self.news_tx.send(News::Input(self.generation, Input::ReceiptFailed));
            return;
        };
        let (backend, tx, generation) = (self.backend.clone(), self.news_tx.clone(), self.generation);
        self.tokio.spawn(async move {
            let observer = UiObserver::new(tx.clone(), generation, None);
            let printed = backend.runtime.print_and_record(&payment, PrintKind::Receipt, &observer).await;
            let input =
                if matches!(printed, Ok(true)) { Input::ReceiptPrinted } else { Input::ReceiptFailed };
            let _ = tx.send(News::Input(generation, input));
        });
    }

    fn staff_action(&mut self, staff_id: String, action: StaffCommand) {
        if staff_id.is_empty() {
            return;
        }
        if action == StaffCommand::ToggleLayout {
            self.facts.portrait = !self.facts.portrait;
        }
        let (backend, tx) = (self.backend.clone(), self.news_tx.clone());
        let portrait = self.facts.portrait;
        let generation = self.generation;
        let last = self.last_payment.as_ref().map(|p| p.id().to_string());
        let hub = self.hub.clone();
        self.tokio.spawn(async move {
            let (name, payment_id, detail, news) = match &action {
                StaffCommand::SignedIn => ("sign-in", None, String::new(), None),
                StaffCommand::SignedOut => ("sign-out", None, String::new(), None),
                StaffCommand::OpenPanel => ("open-panel", None, String::new(), None),
                StaffCommand::ToggleLayout => {
                    ("layout", None, if portrait { "portrait" } else { "landscape" }.to_string(), None)
                }
                StaffCommand::BlankMirror(on) => ("blank-mirror", None, on.to_string(), None),
                StaffCommand::Reprint => {
                    let (id, notice) = super::staff::reprint(&backend, last).await;
                    ("reprint", id, String::new(), Some(notice))
                }
                StaffCommand::RewriteCard => {
                    let (id, notice) = super::staff::rewrite_card(&backend).await;
                    ("rewrite-card", id, String::new(), Some(notice))
                }
                StaffCommand::PairHub => {
                    let (kiosk_id, notice) =
                        super::staff::pair_with_hub(&backend, hub, &tx, generation).await;
                    ("pair-hub", None, kiosk_id.unwrap_or_default(), Some(notice))
                }
                // The collection journals its own staff action (with the count).
                StaffCommand::CollectCash => {
                    let notice = super::staff::collect_cash(&backend, &staff_id).await;
                    let _ = tx.send(News::Input(generation, Input::StaffNews(notice)));
                    return;
                }
            };
            super::staff::journal(&backend, &staff_id, name, payment_id, detail).await;
            if action == StaffCommand::SignedIn {
                // Staff at the kiosk answer the customer's call for help, if one is open.
                backend.runtime.staff_arrived(&staff_id).await;
            }
            if let Some(notice) = news {
                let _ = tx.send(News::Input(generation, Input::StaffNews(notice)));
            }
        });
    }
}

async fn fetch_bill(backend: Arc<Backend>, service: Service, account: String) -> Input {
    let runtime = &backend.runtime;
    let found = match service.utility() {
        Some(utility) => runtime.fetch_bill(utility, &account).await.map(Found::Bill),
        None => runtime.fetch_joint_bill(&account).await.map(Found::Joint),
    };
    match found {
        Ok(found) => Input::Found(found),
        Err(error) => Input::LookupFailed(lookup_notice(&error)),
    }
}

/// The customer-facing words for a failed look-up; the details go to the log for staff.
fn lookup_notice(error: &RuntimeError) -> Notice {
    tracing::info!(%error, "ui: bill look-up failed");
    match error {
        RuntimeError::Account(_) => {
            Notice::error(Text::new("That account number is not right; check it against your bill."))
        }
        RuntimeError::Biller(error) => {
            Notice::error(Text::with("{} Nothing was charged.", [error.message()]))
        }
        RuntimeError::NoJointBill => {
            Notice::error(Text::new("This kiosk cannot take joint bills; pay each bill alone."))
        }
        _ => Notice::error(Text::new(
            "The bill cannot be fetched now. Try later or ask staff. Nothing was charged.",
        )),
    }
}

async fn scan_bill(backend: Arc<Backend>) -> Input {
    match backend.runtime.scan_bill(BILL_SCAN_WINDOW).await {
        Ok((utility, account)) => Input::ScannedAccount {
            utility: utility.filter(|u| Utility::ALL.contains(u)),
            account: account.as_str().into(),
        },
        Err(problem) => Input::LookupFailed(Notice::error(problem.words())),
    }
}

async fn read_id_card(backend: Arc<Backend>) -> Input {
    let deadline = tokio::time::Instant::now() + ID_CARD_WINDOW;
    match backend.runtime.find_household(deadline).await {
        Ok(accounts) => match accounts.iter().find(|a| a.kind == AccountKind::Joint) {
            Some(joint) => Input::ScannedAccount { utility: None, account: joint.account.as_str().into() },
            None => Input::LookupFailed(Notice::error(Text::new(
                "There is no joint account for this ID card; please type the account number.",
            ))),
        },
        Err(error) => Input::LookupFailed(Notice::error(error.message())),
    }
}

async fn read_gas_card(backend: Arc<Backend>) -> Input {
    let runtime = &backend.runtime;
    let card = match runtime.read_gas_card().await {
        Ok(card) => card,
        Err(error) => return Input::LookupFailed(gas_notice(&error)),
    };
    match runtime.billers.get(Utility::Gas).prepaid_card(&card.card_no).await {
        Ok(known) => Input::Found(Found::GasCard(GasCardInfo {
            card_masked: mask_middle(&card.card_no, 2, 2),
            account: known.account,
            purchase_count: card.purchase_count,
        })),
        Err(error) => Input::LookupFailed(gas_notice(&GasError::UnknownCard(error.to_string()))),
    }
}

fn gas_notice(error: &GasError) -> Notice {
    tracing::info!(%error, "ui: gas card problem");
    match error {
        GasError::LastPurchaseNotLoaded => Notice::error(Text::new("The last purchase is not on the meter yet. Insert the card into your gas meter first, then top up.")),
        GasError::RewriteFirst => Notice::error(Text::new("A paid purchase is still waiting to be written to this card; ask staff to rewrite the card.")),
        GasError::UnknownCard(_) => Notice::error(Text::new("The gas company does not know this card; please go to the counter.")),
        _ => Notice::error(Text::new("The gas card could not be read. Insert it chip side up, then tap \"Read gas card\" again.")),
    }
}

/// A backstop only. The screen itself ends the intake after its inactivity limit (60 s, 120 s
/// in 长辈模式, restarted by every note and by 继续办理, warned 30 s ahead: the session's
/// `taking_cash`), as 结束投币 does; this ends it should the screen never say so (a stalled UI).
const CASH_IDLE: Duration = Duration::from_secs(15 * 60);

/// The customer at the acceptor, as the screen knows them: gone when they tap 结束投币, when the
/// screen's limit passes without a note, or (backstop) after [`CASH_IDLE`] without one.
struct UiCashCustomer {
    stop: Arc<std::sync::atomic::AtomicBool>,
    idle: IdleCustomer,
}

impl CashCustomer for UiCashCustomer {
    fn has_left(&self, intake: &kiosk_core::cash::Intake) -> bool {
        self.stop.load(std::sync::atomic::Ordering::SeqCst) || self.idle.has_left(intake)
    }
}

/// Takes cash for the order on screen (a bill, a joint bill or a gas card's amount) and reports
/// how it ended. Nothing here decides money.
async fn take_cash(
    backend: &Backend,
    found: Found,
    top_up: Option<Fen>,
    customer: &UiCashCustomer,
    observer: &UiObserver,
) -> Input {
    let runtime = &backend.runtime;
    let order = match found {
        Found::GasCard(_) => {
            let Some(amount) = top_up else {
                return Input::PayRefused(Notice::error(Text::new("Choose an amount first.")));
            };
            match runtime.gas_top_up_order(amount).await {
                Ok(order) => order,
                Err(GasError::Runtime(e)) => return Input::PayRefused(refused(&e)),
                Err(other) => return Input::PayRefused(gas_notice(&other)),
            }
        }
        Found::Bill(bill) => {
            match Order::for_bill(runtime.new_order_ref(), &runtime.identity.kiosk_id, clock::now(), &bill) {
                Ok(order) => order,
                Err(e) => return Input::PayRefused(refused(&RuntimeError::Order(e))),
            }
        }
        Found::Joint(joint) => {
            let kiosk = &runtime.identity.kiosk_id;
            match Order::for_joint_bill(runtime.new_order_ref(), kiosk, clock::now(), &joint) {
                Ok(order) => order,
                Err(e) => return Input::PayRefused(refused(&RuntimeError::Order(e))),
            }
        }
    };
    let (order_ref, total) = (order.reference.to_string(), order.total());
    observer.set_cash_order(&order_ref);
    match runtime.pay_cash(order, customer, observer).await {
        Ok(Some(payment)) => {
            let mut outcome = outcome_of(&payment, observer.printed(), false);
            // The customer finished or left before the amount was in: never said as "paid".
            if outcome.kind == OutcomeKind::Paid && payment.order.total() < total {
                outcome.kind = OutcomeKind::PaidInPart;
            }
            observer.keep(payment);
            Input::Finished(outcome)
        }
        // No note credited. Notes held for staff (stuck, in doubt) have a slip with this
        // number; otherwise every note went back.
        Ok(None) => match observer.cash_so_far().held {
            Some(held) => Input::Finished(Outcome {
                kind: OutcomeKind::Suspense,
                order_ref,
                amount: held,
                slip_printed: true,
                card_kept: false,
            }),
            None => Input::PayRefused(Notice::info(Text::new("No note was taken; nothing was charged."))),
        },
        // Refused before the first note: no money moved.
        Err(error) if !observer.cash_seen() => Input::PayRefused(cash_refused(&error)),
        // A note went in: the intake is on record and recovery pays it; never "not charged".
        Err(error) => {
            tracing::error!(%error, order = %order_ref, "ui: the cash payment stopped");
            job_stopped(backend, observer, "the cash payment stopped").await
        }
    }
}

/// A payment job that stopped (an error, a panic). Once its order is journaled, or a note went
/// into the acceptor (the intake is on record; recovery pays it), it is said as not settled —
/// with the cash that went in — never "not charged".
async fn job_stopped(backend: &Backend, observer: &UiObserver, why: &str) -> Input {
    if observer.order().is_some() {
        // The payment is journaled: its own slip.
        return unsettled(backend, observer, why).await;
    }
    let (Some(order_ref), true) = (observer.cash_order(), observer.cash_seen()) else {
        return Input::PayRefused(not_started());
    };
    tracing::error!(order = %order_ref, why, "ui: cash left unsettled; recovery will settle it");
    let so_far = observer.cash_so_far();
    Input::Finished(Outcome {
        kind: OutcomeKind::Suspense,
        order_ref,
        amount: so_far.credited + so_far.held.unwrap_or(Fen::ZERO),
        slip_printed: false,
        card_kept: false,
    })
}

/// Why cash could not start (no note was taken), for the customer.
fn cash_refused(error: &RuntimeError) -> Notice {
    match error {
        RuntimeError::Cash(CashUnavailable::NotExact { .. }) => Notice::error(Text::new(
            "Notes cannot make this exact amount and no change is given: pay with a payment code or a bank card, or pay cash at the counter.",
        )),
        RuntimeError::Cash(CashUnavailable::NoteInHand) => Notice::error(Text::new(
            "The note acceptor is giving back a note; please take it and try again in a moment. Nothing was charged.",
        )),
        RuntimeError::Cash(_) | RuntimeError::CashDevice(_) => {
            tracing::warn!(%error, "ui: cash not started");
            Notice::error(Text::new(
                "Cash is not taken now; pay with a payment code or a bank card, or pay cash at the counter.",
            ))
        }
        other => refused(other),
    }
}

/// Takes the money: waits for a code (or the bank card), then hands the order to the payment
/// machine and reports how it ended. Nothing here decides money.
async fn take_money(
    backend: &Backend,
    found: Found,
    top_up: Option<Fen>,
    window: Duration,
    stop: tokio::sync::oneshot::Receiver<()>,
    observer: &UiObserver,
) -> Input {
    let runtime = &backend.runtime;
    let pay_method = match observer.method() {
        MethodChoice::BankCard => PayMethod::BankCard,
        // Cash has its own job (take_cash): the acceptor, not a pay request.
        MethodChoice::Cash => return Input::PayRefused(not_started()),
        MethodChoice::Code => {
            let scanned = tokio::select! {
                scanned = runtime.scan_payment_code(window) => scanned,
                _ = stop => return Input::PayRefused(Notice::info(Text::new("Stopped waiting; nothing was charged."))),
            };
            match scanned {
                Ok(code) => PayMethod::Code(code),
                Err(problem) => return Input::CodeProblem(Notice::error(problem.words())),
            }
        }
    };
    let paid = match found {
        Found::GasCard(_) => {
            let Some(amount) = top_up else {
                return Input::PayRefused(Notice::error(Text::new("Choose an amount first.")));
            };
            runtime.gas_top_up(amount, pay_method, observer).await.map_err(|e| match e {
                GasError::Runtime(e) => refused(&e),
                other => gas_notice(&other),
            })
        }
        Found::Bill(bill) => {
            match Order::for_bill(runtime.new_order_ref(), &runtime.identity.kiosk_id, clock::now(), &bill) {
                Ok(order) => {
                    runtime.pay_order_with(order, pay_method, observer).await.map_err(|e| refused(&e))
                }
                Err(e) => Err(refused(&RuntimeError::Order(e))),
            }
        }
        Found::Joint(joint) => {
            match Order::for_joint_bill(
                runtime.new_order_ref(),
                &runtime.identity.kiosk_id,
                clock::now(),
                &joint,
            ) {
                Ok(order) => {
                    runtime.pay_order_with(order, pay_method, observer).await.map_err(|e| refused(&e))
                }
                Err(e) => Err(refused(&RuntimeError::Order(e))),
            }
        }
    };
    match paid {
        Ok(payment) => {
            let outcome = outcome_of(&payment, observer.printed(), observer.card_kept());
            observer.keep(payment);
            Input::Finished(outcome)
        }
        // Refused before the order was journaled: no money moved.
        Err(notice) if observer.order().is_none() => Input::PayRefused(notice),
        // The order was journaled, so money may have moved: never "not charged".
        Err(_) => unsettled(backend, observer, "the payment stopped with an error").await,
    }
}

/// A payment that stopped without an outcome after its order was journaled (a journal or
/// printer failure, a crashed job): the customer is told it is not settled, a slip with the
/// order number is printed, and recovery settles it (it blocks new sales until then).
async fn unsettled(backend: &Backend, observer: &UiObserver, why: &str) -> Input {
    let Some((order_ref, amount)) = observer.order() else {
        return Input::PayRefused(not_started());
    };
    tracing::error!(order = %order_ref, why, "ui: payment left unsettled; recovery will settle it");
    let slip_printed = match backend.runtime.load(&order_ref).await {
        Ok(payment) => {
            let printed = backend.runtime.print_and_record(&payment, PrintKind::Slip, observer).await;
            matches!(printed, Ok(true))
        }
        Err(_) => false,
    };
    let outcome = Outcome {
        kind: OutcomeKind::Suspense,
        order_ref,
        amount,
        slip_printed,
        card_kept: observer.card_kept(),
    };
    Input::Finished(outcome)
}

/// Why a payment could not start (no money moved), for the customer.
fn refused(error: &RuntimeError) -> Notice {
    tracing::warn!(%error, "ui: payment not started");
    match error {
        RuntimeError::Busy | RuntimeError::Unsettled(_) => Notice::error(Text::new(
            "This kiosk is finishing an earlier payment; please wait a moment. Nothing was charged.",
        )),
        RuntimeError::NoBankCard => Notice::error(Text::new(
            "No bank card was inserted; nothing was charged. You can choose how to pay again.",
        )),
        RuntimeError::Order(_) => Notice::error(Text::new("There is nothing to pay on this bill now.")),
        _ => not_started(),
    }
}

/// The payment did not start: nothing was charged.
fn not_started() -> Notice {
    Notice::error(Text::new("The payment did not start and nothing was charged. Try again or ask staff."))
}
