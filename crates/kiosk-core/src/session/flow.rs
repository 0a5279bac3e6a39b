//! The session machine's transitions.

use super::stage::{AccountEntry, Ending, Finding, Lookup, Order, Payment, StaffScreen, Stage};
use super::types::*;
use super::{speech, words};
use crate::{Fen, Ts};
use std::time::Duration;

/// How long the screens wait. Project choices from accessibility.md items 18, 32–35.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTiming {
    /// Inactivity allowed on an input screen, default mode (≥ 60 s).
    pub input: Duration,
    /// …and in 长辈模式 (≥ 120 s).
    pub input_large: Duration,
    /// The warning comes this long before the limit (≥ 30 s).
    pub warn_before: Duration,
    /// A result with nothing left to ask (the receipt question answered, or none) stays this
    /// long once said, whatever the mode: with the farewell after it, the kiosk is back at the
    /// start 30 s after the result (item 35).
    pub result: Duration,
    /// "Take your card and receipt" stays this long.
    pub farewell: Duration,
    /// A second identical tap within this is ignored.
    pub repeat_tap: Duration,
    /// The scanner's wait for a payment code (a fixed external limit with a countdown).
    pub code_window: Duration,
}

impl Default for SessionTiming {
    fn default() -> Self {
        SessionTiming {
            input: Duration::from_secs(60),
            input_large: Duration::from_secs(120),
            warn_before: Duration::from_secs(30),
            result: Duration::from_secs(20),
            farewell: Duration::from_secs(10),
            repeat_tap: Duration::from_millis(500),
            code_window: Duration::from_secs(60),
        }
    }
}

/// The amounts offered for a gas-card top-up, in the order of the screen (keys 1–4).
pub const TOP_UP_AMOUNTS: [Fen; 4] = [Fen(5000), Fen(10000), Fen(20000), Fen(50000)];

/// Longest 户号 the keypad takes; the biller's rule checks the exact format.
const MAX_ACCOUNT_DIGITS: usize = 20;
const MAX_PIN_DIGITS: usize = 8;
/// Wrong staff PINs in a row before sign-in is locked, and for how long.
const MAX_PIN_FAILURES: u32 = 3;
/// How long after the last tap the idle screen counts as "nobody here" (someone reading the
/// services before choosing one is a customer).
pub const QUIET_BEFORE_RESTART_MS: i64 = 60_000;
const PIN_LOCKOUT: Duration = Duration::from_secs(5 * 60);

/// One customer's session. Fields are public for the view (and for tests that set up a stage);
/// the kiosk changes them only through `step`.
#[derive(Clone, Debug)]
pub struct Session {
    /// The customer's screen, carrying what it shows (stage.rs).
    pub stage: Stage,
    /// A staff screen open over the customer's stage, which waits underneath unchanged.
    pub staff_screen: Option<StaffScreen>,
    pub lang: Lang,
    pub large: bool,
    pub notice: Option<Notice>,
    /// The choice the physical keypad's 0 / Clear moved to (accessibility.md item 21).
    pub focus: Option<Intent>,
    /// The voice's volume step, 0 (the lowest) to VOLUME_STEPS - 1; each customer starts at 0.
    pub volume: u8,
    /// The staff member signed in (帮办), for this customer only.
    pub staff: Option<String>,
    /// Wrong staff PINs in a row, and when sign-in opens again after too many.
    pin_failures: u32,
    pin_locked_until: Option<Ts>,
    pub availability: Availability,
    pub eject: Option<EjectFeedback>,
    /// The mirror is blanked (item 44).
    pub mirror_blanked: bool,
    /// In private mode the blank control hid both screens (set only by that control, so
    /// plugging a headset in never hides the touch screen by itself).
    pub screens_hidden: bool,
    /// This kiosk can tell a headset is in (it watches the jack): only then is the customer
    /// told to plug one in.
    pub headset_jack: bool,
    /// A headset is plugged in: private mode. The voice goes to the headset only, and only
    /// then says the customer's name and account (item 39). The jack's state, so it outlives
    /// the session.
    pub headset: bool,
    /// The service phone number for the out-of-service screen and slips.
    pub service_phone: String,
    /// The timeout warning is showing (and was spoken).
    pub warning: bool,
    deadline: Option<Ts>,
    last_tap: Option<(Intent, Ts)>,
    /// When a tap last changed the screen (see [`Session::tap`]).
    screen_tapped_away_at: Option<Ts>,
    timing: SessionTiming,
}

impl Default for Session {
    fn default() -> Self {
        Session::new(SessionTiming::default())
    }
}

impl Session {
    pub fn new(timing: SessionTiming) -> Session {
        Session {
            stage: Stage::Attract,
            staff_screen: None,
            lang: Lang::Zh,
            large: false,
            notice: None,
            focus: None,
            volume: 0,
            staff: None,
            pin_failures: 0,
            pin_locked_until: None,
            availability: Availability::default(),
            eject: None,
            mirror_blanked: false,
            screens_hidden: false,
            headset_jack: false,
            headset: false,
            service_phone: String::new(),
            warning: false,
            deadline: None,
            last_tap: None,
            screen_tapped_away_at: None,
            timing,
        }
    }

    pub fn timing(&self) -> SessionTiming {
        self.timing
    }

    /// The screen on show: a staff screen if one is open, else the customer's.
    pub fn screen(&self) -> Screen {
        match &self.staff_screen {
            Some(StaffScreen::SignIn { .. }) => Screen::StaffSignIn,
            Some(StaffScreen::Panel) => Screen::StaffPanel,
            None => self.stage.screen(),
        }
    }

    /// The service the customer chose, once chosen.
    pub fn service(&self) -> Option<Service> {
        self.stage.service()
    }

    /// The amount the customer is paying, once known.
    pub fn amount(&self) -> Option<Fen> {
        self.stage.order()?.amount()
    }

    /// A look-up, scan or card read is under way: its buttons are disabled.
    pub fn busy(&self) -> bool {
        self.lookup().is_some()
    }

    /// The look-up under way on the find-account screen, if any.
    pub fn lookup(&self) -> Option<Lookup> {
        match &self.stage {
            Stage::FindAccount(Finding { lookup, .. }) => *lookup,
            _ => None,
        }
    }

    /// The account as entered (typed or read), from the find-account screen on.
    pub fn account(&self) -> Option<&AccountEntry> {
        match &self.stage {
            Stage::FindAccount(finding) => Some(&finding.account),
            stage => stage.order().map(|order| &order.account),
        }
    }

    /// The payment under way, in the customer's words.
    pub fn phase(&self) -> Option<PayPhase> {
        match &self.stage {
            Stage::Paying(payment) => payment.phase,
            _ => None,
        }
    }

    /// How the payment ended, on the result and the farewell.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.stage.ending().map(|ending| &ending.outcome)
    }

    /// Whether the customer has their receipt, once the payment ended.
    pub fn receipt(&self) -> Option<&ReceiptState> {
        self.stage.ending().map(|ending| &ending.receipt)
    }

    /// The staff PIN typed so far (shown as dots, never said).
    pub fn pin(&self) -> &str {
        match &self.staff_screen {
            Some(StaffScreen::SignIn { pin }) => pin,
            _ => "",
        }
    }

    /// When the current screen gives up, if it does.
    pub fn deadline(&self) -> Option<Ts> {
        self.deadline
    }

    /// Seconds left before the screen gives up (for the warning's countdown).
    pub fn seconds_left(&self, now: Ts) -> Option<i64> {
        self.deadline.map(|d| ((d.0 - now.0).max(0) + 999) / 1000)
    }

    /// Money may be moving: nobody can leave; the payment machine decides. The cash rule before
    /// the first note moves nothing yet.
    pub fn money_in_flight(&self) -> bool {
        self.phase().is_some_and(|phase| phase != PayPhase::CashRule)
    }

    /// The acceptor is taking the customer's notes: money in flight, but the customer's own
    /// pace sets it. Like any screen that waits for them, it has an inactivity limit, warned 30 s
    /// ahead with 继续办理 (item 32); reached, it ends the intake as 结束投币 does.
    pub fn taking_cash(&self) -> bool {
        self.phase() == Some(PayPhase::TakingCash)
    }

    /// Cash can pay what is on screen now: the acceptor takes notes, and notes can make the
    /// amount (whole notes, or a biller that keeps the rest as prepayment; no change is given).
    pub fn cash_payable(&self) -> bool {
        let smallest = self.availability.cash_notes.first().copied().unwrap_or(Fen::ZERO);
        self.availability.cash && self.stage.order().is_some_and(|order| order.payable_in_notes(smallest))
    }

    /// The result of a payment that moved money: its only ways out are the receipt offer and
    /// the farewell (issue 11 item 4), never 返回 or 取消并退出 straight to the idle screen —
    /// not even by way of a staff screen opened over it.
    pub fn result_protected(&self) -> bool {
        matches!(&self.stage, Stage::Result(ending) if ending.outcome.kind != OutcomeKind::NotCharged)
    }

    /// The touch screen's body is hidden: the blank control in private mode hides both screens
    /// (accessibility.md item 44); pulling the headset out shows it again.
    pub fn screen_blanked(&self) -> bool {
        self.headset && self.screens_hidden
    }

    /// The bill read back owes nothing this period (issue 11 item 3): there is nothing to
    /// confirm, only another account or the way out.
    pub fn nothing_due(&self) -> bool {
        self.screen() == Screen::Confirm && self.amount() == Some(Fen::ZERO)
    }

    /// Nobody is at the kiosk: the idle (or out-of-service) screen, no staff screen, no card
    /// being ejected, and no tap for [`QUIET_BEFORE_RESTART_MS`]. What must not interrupt a
    /// customer (a pushed configuration taken up by starting afresh) waits for this.
    pub fn between_customers(&self, now: Ts) -> bool {
        let quiet = self.last_tap.as_ref().is_none_or(|(_, at)| now.0 - at.0 >= QUIET_BEFORE_RESTART_MS);
        matches!(self.screen(), Screen::Attract | Screen::OutOfService) && self.eject.is_none() && quiet
    }

    /// Whether 返回 and 取消并退出 may be offered now.
    pub fn may_leave(&self) -> bool {
        !self.money_in_flight() && !self.result_protected()
    }

    /// Feeds one input; returns what the runtime must do, in order.
    pub fn step(&mut self, input: Input, now: Ts) -> Vec<Command> {
        let mut out = Vec::new();
        match input {
            Input::Tap(intent) => self.tap(intent, now, &mut out),
            Input::Tick => self.tick(now, &mut out),
            Input::Found(found) => self.found(found, now, &mut out),
            Input::ScannedAccount { utility, account } => self.scanned_account(utility, account, &mut out),
            Input::LookupFailed(notice) => {
                if let Stage::FindAccount(finding @ Finding { lookup: Some(_), .. }) = &mut self.stage {
                    finding.lookup = None;
                    self.arm_deadline(now);
                    self.say_notice(notice, &mut out);
                }
            }
            Input::Progress(phase) => {
                if let Stage::Paying(payment) = &mut self.stage {
                    if payment.phase != Some(phase) {
                        payment.phase = Some(phase);
                        out.push(Command::Speak(speech::phase_lines(phase, self.lang)));
                    }
                }
            }
            Input::CodeProblem(notice) => {
                if let Stage::Paying(payment) = &mut self.stage {
                    payment.phase = None;
                    self.arm_deadline(now);
                    self.say_notice(notice, &mut out);
                }
            }
            // A refusal means no money moved; once the channel has the request, only the
            // payment's end (Finished) may take the customer off this screen.
            Input::PayRefused(notice) => {
                if let Stage::Paying(payment) = &self.stage {
                    if !payment.request_sent() {
                        let order = payment.order.clone();
                        self.go(Stage::Method(order), now, &mut out);
                        self.say_notice(notice, &mut out);
                    }
                }
            }
            Input::Cash(progress) => self.cash_news(progress, now, &mut out),
            Input::Finished(outcome) => self.finished(outcome, now, &mut out),
            Input::Availability(availability) => self.availability_changed(availability, now, &mut out),
            Input::ReceiptPrinted => {
                if let Some(ending) = self.printing_receipt() {
                    ending.receipt = ReceiptState::Printed;
                    out.push(Command::Speak(vec![words::take_receipt(self.lang).into()]));
                }
            }
            Input::ReceiptFailed => {
                if let Some(ending) = self.printing_receipt() {
                    ending.receipt = ReceiptState::Unavailable;
                    self.say_notice(words::receipt_failed(), &mut out);
                }
            }
            Input::Headset(plugged) if plugged != self.headset => {
                self.headset = plugged;
                if !plugged {
                    // What the headset was being told must not go on aloud once it is out.
                    out.push(Command::StopSpeech);
                    self.screens_hidden = false;
                }
                out.push(Command::RouteSpeech { headset: plugged });
                out.push(Command::Speak(vec![words::headset_line(plugged, self.lang).into()]));
            }
            Input::Headset(_) => {}
            Input::Eject(feedback) if feedback.is_shown() => {
                self.eject = Some(feedback);
                out.push(Command::Speak(vec![speech::eject_line(feedback, self.lang).into()]));
            }
            // A short press let go, or the card taken: what the screen said of it goes.
            Input::Eject(EjectFeedback::Released) if self.eject == Some(EjectFeedback::Held) => {
                self.eject = None
            }
            Input::Eject(EjectFeedback::Taken) if self.eject == Some(EjectFeedback::Ejected) => {
                self.eject = None
            }
            Input::Eject(_) => {}
            Input::StaffSignedIn { staff_id } => {
                if self.screen() == Screen::StaffSignIn {
                    self.pin_failures = 0;
                    self.staff = Some(staff_id);
                    out.push(self.staff_command(StaffCommand::SignedIn));
                    out.push(Command::RefreshAvailability);
                    self.open_staff(StaffScreen::Panel, now, &mut out);
                }
            }
            Input::StaffSignInFailed => {
                self.clear_pin();
                self.pin_failures += 1;
                if self.pin_failures >= MAX_PIN_FAILURES {
                    // Guessing a PIN at a public kiosk is slowed to a crawl; staff are told.
                    self.pin_failures = 0;
                    self.pin_locked_until = Some(Ts(now.0 + PIN_LOCKOUT.as_millis() as i64));
                    self.say_notice(words::pin_locked(), &mut out);
                } else {
                    self.say_notice(words::wrong_pin(), &mut out);
                }
            }
            Input::StaffNews(notice) => self.say_notice(notice, &mut out),
        }
        out
    }

    /// The bill (or card) the look-up under way asked for. Late news for a screen already left
    /// (a look-up answered after 返回) is dropped.
    fn found(&mut self, found: Found, now: Ts, out: &mut Vec<Command>) {
        let Stage::FindAccount(finding @ Finding { lookup: Some(_), .. }) = &self.stage else { return };
        let gas_card = matches!(found, Found::GasCard(_));
        let order = Order { service: finding.service, account: finding.account.clone(), found, top_up: None };
        let next = if gas_card { Stage::TopUpAmount(order) } else { Stage::Confirm(order) };
        self.go(next, now, out);
    }

    /// A tap, unless it is the second of a double tap (item 18). That is the same button again
    /// within the repeat time, or — when the first tap changed the screen — any button of the new
    /// screen: a trembling double tap on 确认缴费 must not choose whatever way to pay the next
    /// screen has under the finger.
    fn tap(&mut self, intent: Intent, now: Ts, out: &mut Vec<Command>) {
        let carried_over =
            self.screen_tapped_away_at.is_some_and(|at| now.since(at) < self.timing.repeat_tap);
        if carried_over && !intent.is_keypad() {
            return;
        }
        let before = self.screen();
        self.tap_on_screen(intent, now, out);
        if self.screen() != before {
            self.screen_tapped_away_at = Some(now);
        }
    }

    fn tap_on_screen(&mut self, intent: Intent, now: Ts, out: &mut Vec<Command>) {
        // The repeat guard is for buttons that commit (look up, confirm, pay, print, leave): a
        // second tap of the same key on the keypad is the next digit of 3100000005.
        if !intent.is_keypad() {
            if let Some((last, at)) = &self.last_tap {
                if *last == intent && now.since(*at) < self.timing.repeat_tap {
                    return;
                }
            }
        }
        self.last_tap = Some((intent.clone(), now));
        if !self.allowed(&intent) {
            return;
        }
        out.push(Command::StopSpeech);
        self.warning = false;
        self.arm_deadline(now);
        match intent {
            Intent::ToggleLarge => {
                self.large = !self.large;
                self.arm_deadline(now);
                out.push(Command::Speak(vec![words::large_mode(self.large, self.lang).into()]));
            }
            Intent::ToggleLanguage => {
                self.lang = match self.lang {
                    Lang::Zh => Lang::En,
                    Lang::En => Lang::Zh,
                };
                self.speak_screen(out);
            }
            Intent::Repeat => self.speak_screen(out),
            Intent::Volume => {
                self.volume = (self.volume + 1) % VOLUME_STEPS;
                out.push(Command::SetVolume { gain_db: self.volume * VOLUME_STEP_DB });
                out.push(Command::Speak(vec![words::volume_line(self.volume, self.lang)]));
            }
            Intent::FocusNext => self.move_focus(true, out),
            Intent::FocusPrevious => self.move_focus(false, out),
            Intent::CallStaff => {
                out.push(Command::CallStaff);
                self.say_notice(words::staff_called(&self.availability, &self.service_phone), out);
            }
            Intent::Extend => out.push(Command::Speak(vec![words::extended(self.lang).into()])),
            Intent::DismissNotice => self.notice = None,
            Intent::BlankMirror => self.blank(out),
            Intent::Exit => self.end_session(now, out),
            Intent::Back => self.back(now, out),
            Intent::Start(service) => {
                let finding = Finding { service, account: AccountEntry::default(), lookup: None };
                self.go(Stage::FindAccount(finding), now, out);
            }
            Intent::Digit(d) => self.digit(d, out),
            Intent::DeleteDigit => self.delete_digit(),
            Intent::ClearDigits => self.clear_digits(),
            Intent::SubmitAccount => self.submit_account(out),
            Intent::ScanBill => self.start_lookup(Lookup::BillScan, out),
            Intent::ReadIdCard => {
                self.eject = None;
                self.start_lookup(Lookup::IdCard, out)
            }
            Intent::InsertGasCard => self.start_lookup(Lookup::GasCard, out),
            Intent::ChooseAmount(amount) => {
                if let Stage::TopUpAmount(order) = &self.stage {
                    let order = Order { top_up: Some(amount), ..order.clone() };
                    self.go(Stage::Confirm(order), now, out);
                }
            }
            Intent::ConfirmBill => {
                if let Stage::Confirm(order) = &self.stage {
                    let order = order.clone();
                    self.go(Stage::Method(order), now, out);
                }
            }
            Intent::Amend => {
                if let Stage::Confirm(order) = &self.stage {
                    let back = before_confirm(order.clone());
                    self.go(back, now, out);
                }
            }
            Intent::ChooseMethod(method) => self.choose_method(method, now, out),
            Intent::ScanAgain => {
                if let Some(method) = self.stage.method() {
                    self.choose_method(method, now, out);
                }
            }
            Intent::StopWaiting => out.push(Command::StopScanning),
            Intent::StartCash => {
                if let Stage::Paying(payment) = &mut self.stage {
                    payment.phase = Some(PayPhase::TakingCash);
                    self.arm_deadline(now);
                    out.push(Command::Pay { method: MethodChoice::Cash });
                    out.push(Command::Speak(speech::phase_lines(PayPhase::TakingCash, self.lang)));
                }
            }
            Intent::FinishCash => {
                out.push(Command::StopCash);
                out.push(Command::Speak(vec![words::finishing_cash(self.lang).into()]));
            }
            Intent::Receipt(wanted) => {
                let lang = self.lang;
                if let Stage::Result(ending) = &mut self.stage {
                    if wanted {
                        ending.receipt = ReceiptState::Printing;
                        out.push(Command::PrintReceipt);
                        out.push(Command::Speak(vec![words::printing(lang).into()]));
                    } else {
                        ending.receipt = ReceiptState::Declined;
                    }
                }
                // The question answered, the result has nothing left to ask: its 30 s to the
                // start screen begin, and are said (items 32, 35).
                self.arm_deadline(now);
                if let Some(closes) = words::result_closes(self) {
                    out.push(Command::Speak(vec![closes]));
                }
            }
            Intent::Done => match &self.stage {
                Stage::Result(ending) => {
                    if ending.order.service == Service::GasCard {
                        out.push(Command::ReturnGasCard);
                    }
                    let ending = ending.clone();
                    self.go(Stage::Farewell(ending), now, out);
                }
                _ => self.end_session(now, out),
            },
            Intent::Another => {
                // No farewell screen on the way: say what to take all the same (the gas card
                // goes back as the session ends) — after the session's end stops the voice, so
                // that it is heard (items 37, 38).
                let take = self.result_protected().then(|| words::farewell_words(self));
                // The same person goes on: keep their language, 长辈模式 and what they hid;
                // wipe the rest.
                let kept = (self.lang, self.large, self.mirror_blanked, self.screens_hidden);
                self.end_session(now, out);
                (self.lang, self.large, self.mirror_blanked, self.screens_hidden) = kept;
                if let Some(take) = take {
                    out.push(Command::Speak(vec![take]));
                }
            }
            Intent::StaffSignInOpen => self.open_staff(StaffScreen::SignIn { pin: String::new() }, now, out),
            Intent::StaffSubmit if self.pin_locked_until.is_some_and(|until| now.0 < until.0) => {
                self.clear_pin();
                self.say_notice(words::pin_locked(), out);
            }
            Intent::StaffSubmit => out.push(Command::CheckStaffPin { pin: self.pin().to_string() }),
            Intent::StaffPanel => {
                out.push(self.staff_command(StaffCommand::OpenPanel));
                out.push(Command::RefreshAvailability);
                self.open_staff(StaffScreen::Panel, now, out);
            }
            Intent::StaffBackToCustomer => self.close_staff(now, out),
            Intent::StaffSignOut => {
                out.push(self.staff_command(StaffCommand::SignedOut));
                self.staff = None;
                self.close_staff(now, out);
            }
            Intent::StaffReprint => out.push(self.staff_command(StaffCommand::Reprint)),
            Intent::StaffRewriteCard => out.push(self.staff_command(StaffCommand::RewriteCard)),
            Intent::StaffCollectCash => out.push(self.staff_command(StaffCommand::CollectCash)),
            Intent::StaffPairHub => out.push(self.staff_command(StaffCommand::PairHub)),
            Intent::StaffToggleLayout => out.push(self.staff_command(StaffCommand::ToggleLayout)),
        }
    }

    /// The privacy control: the mirror alone, or in private mode (a headset in) both screens.
    fn blank(&mut self, out: &mut Vec<Command>) {
        if self.headset {
            // Private mode: one control hides (or shows) both screens, and says so.
            self.screens_hidden = !self.screens_hidden;
            self.mirror_blanked = self.screens_hidden;
            let line = words::screens_line(self.screens_hidden, self.lang);
            out.push(Command::Speak(vec![line.into()]));
        } else {
            self.mirror_blanked = !self.mirror_blanked;
        }
        if self.staff.is_some() {
            out.push(self.staff_command(StaffCommand::BlankMirror(self.mirror_blanked)));
        }
    }

    fn digit(&mut self, d: u8, out: &mut Vec<Command>) {
        if let Some(StaffScreen::SignIn { pin }) = &mut self.staff_screen {
            if pin.len() < MAX_PIN_DIGITS {
                pin.push(char::from(b'0' + d));
                // A PIN digit is never spoken (accessibility.md item 40).
                out.push(Command::Speak(vec![words::asterisk(self.lang).into()]));
            }
            return;
        }
        let Stage::FindAccount(finding) = &mut self.stage else { return };
        let account = &mut finding.account;
        if account.read {
            // Typing replaces a number that was read, rather than extending it.
            *account = AccountEntry::default();
        }
        if account.digits.len() < MAX_ACCOUNT_DIGITS {
            account.digits.push(char::from(b'0' + d));
            self.notice = None;
            out.push(Command::Speak(vec![d.to_string()]));
        }
    }

    fn delete_digit(&mut self) {
        if let Some(StaffScreen::SignIn { pin }) = &mut self.staff_screen {
            pin.pop();
        } else if let Stage::FindAccount(finding) = &mut self.stage {
            // A number that was read goes as a whole: half of a masked number means nothing.
            match finding.account.read {
                true => finding.account = AccountEntry::default(),
                false => _ = finding.account.digits.pop(),
            }
        }
    }

    fn clear_digits(&mut self) {
        if let Some(StaffScreen::SignIn { pin }) = &mut self.staff_screen {
            pin.clear();
        } else if let Stage::FindAccount(finding) = &mut self.stage {
            finding.account = AccountEntry::default();
        }
    }

    fn clear_pin(&mut self) {
        if let Some(StaffScreen::SignIn { pin }) = &mut self.staff_screen {
            pin.clear();
        }
    }

    fn back(&mut self, now: Ts, out: &mut Vec<Command>) {
        if self.staff_screen.is_some() {
            return self.close_staff(now, out);
        }
        let back = match &self.stage {
            Stage::FindAccount(_) | Stage::Result(_) | Stage::Farewell(_) => {
                return self.end_session(now, out)
            }
            Stage::TopUpAmount(order) => {
                out.push(Command::ReturnGasCard);
                Stage::FindAccount(Finding {
                    service: order.service,
                    account: order.account.clone(),
                    lookup: None,
                })
            }
            Stage::Confirm(order) => before_confirm(order.clone()),
            Stage::Method(order) => Stage::Confirm(order.clone()),
            Stage::Paying(payment) => Stage::Method(payment.order.clone()),
            Stage::Attract | Stage::OutOfService => return,
        };
        self.go(back, now, out);
    }

    fn submit_account(&mut self, out: &mut Vec<Command>) {
        let Stage::FindAccount(finding) = &mut self.stage else { return };
        if finding.account.digits.len() < 6 {
            return self.say_notice(words::account_too_short(), out);
        }
        finding.lookup = Some(Lookup::Biller);
        out.push(Command::FetchBill { service: finding.service, account: finding.account.digits.clone() });
        self.notice = None;
    }

    /// Starts a device read (a bill scan, the ID card, the gas card); the biller is asked by
    /// `submit_account` and `scanned_account`, with the number.
    fn start_lookup(&mut self, lookup: Lookup, out: &mut Vec<Command>) {
        let Some(command) = lookup.device_read() else { return };
        let Stage::FindAccount(finding) = &mut self.stage else { return };
        finding.lookup = Some(lookup);
        self.notice = None;
        out.push(Command::Speak(vec![speech::lookup_line(lookup, self.lang).into()]));
        out.push(command);
    }

    /// A bill's barcode (or an ID card) named the account: look its bill up.
    fn scanned_account(&mut self, utility: Option<crate::Utility>, account: String, out: &mut Vec<Command>) {
        let Stage::FindAccount(finding @ Finding { lookup: Some(_), .. }) = &mut self.stage else { return };
        if let (Some(utility), Some(wanted)) = (utility, finding.service.utility()) {
            if utility != wanted {
                finding.lookup = None;
                return self.say_notice(words::wrong_bill(utility, wanted), out);
            }
        }
        // Read from a card or a barcode, not typed: shown and spoken masked, like any account.
        finding.account = AccountEntry { digits: account.clone(), read: true };
        finding.lookup = Some(Lookup::Biller);
        out.push(Command::FetchBill { service: finding.service, account });
    }

    fn choose_method(&mut self, method: MethodChoice, now: Ts, out: &mut Vec<Command>) {
        if !self.availability.method(method) {
            return self.say_notice(words::method_unavailable(method, &self.availability), out);
        }
        if method == MethodChoice::Cash && !self.cash_payable() {
            return self.say_notice(words::not_payable_in_notes(), out);
        }
        let (order, again) = match &self.stage {
            Stage::Method(order) => (order.clone(), false),
            Stage::Paying(payment) => (payment.order.clone(), true),
            _ => return,
        };
        self.notice = None;
        let phase = match method {
            MethodChoice::Code => {
                PayPhase::WaitingForCode { until_ms: now.0 + self.timing.code_window.as_millis() as i64 }
            }
            MethodChoice::BankCard => PayPhase::WaitingForCard,
            // The no-change rule first; the acceptor opens when the customer says so.
            MethodChoice::Cash => PayPhase::CashRule,
        };
        let paying = Stage::Paying(Payment::new(order, method, phase));
        if again {
            self.stage = paying;
            self.deadline = None;
            self.speak_screen(out);
        } else {
            self.go(paying, now, out);
        }
        if method != MethodChoice::Cash {
            out.push(Command::Pay { method });
        }
    }

    /// The acceptor's news: the amounts on screen, and what to say (each note as it is credited,
    /// a returned note's reason, a call for staff).
    fn cash_news(&mut self, progress: CashProgress, now: Ts, out: &mut Vec<Command>) {
        let lang = self.lang;
        let Stage::Paying(payment) = &mut self.stage else { return };
        if payment.method != MethodChoice::Cash {
            return;
        }
        let heard = progress.heard.clone();
        let line = words::cash_progress_line(&progress, lang);
        payment.cash = Some(progress);
        if heard != CashHeard::Nothing && self.deadline.is_some() {
            // A note in (or back) is the customer at work: their time starts again.
            self.warning = false;
            self.arm_deadline(now);
        }
        match heard {
            CashHeard::Nothing => {}
            CashHeard::Credited(_) => {
                self.notice = None;
                out.push(Command::StopSpeech);
                out.push(Command::Speak(vec![line]));
            }
            CashHeard::Returned(why) | CashHeard::NeedsStaff(why) => {
                out.push(Command::StopSpeech);
                self.say_notice(Notice::error(why), out);
            }
        }
    }

    /// The payment's end. The pay job starts only from the paying screen, which cannot be left
    /// while money may move, so an end arrives there.
    fn finished(&mut self, outcome: Outcome, now: Ts, out: &mut Vec<Command>) {
        let Stage::Paying(payment) = &self.stage else { return };
        let receipt = if outcome.slip_printed {
            ReceiptState::Printed
        } else if outcome.kind == OutcomeKind::NotCharged || !self.availability.receipt_possible() {
            // Nothing to prove when nothing was taken; and no promise the printer cannot keep.
            if self.availability.receipt_possible() {
                ReceiptState::Declined
            } else {
                ReceiptState::Unavailable
            }
        } else {
            ReceiptState::Offered
        };
        let card_kept = outcome.card_kept;
        let ending = Ending { order: payment.order.clone(), method: payment.method, outcome, receipt };
        self.go(Stage::Result(ending), now, out);
        if card_kept {
            self.say_notice(words::card_kept(), out);
        }
    }

    /// The receipt being printed, on the result or (Enter pressed meanwhile) the farewell.
    fn printing_receipt(&mut self) -> Option<&mut Ending> {
        match &mut self.stage {
            Stage::Result(ending) | Stage::Farewell(ending) if ending.receipt == ReceiptState::Printing => {
                Some(ending)
            }
            _ => None,
        }
    }

    fn availability_changed(&mut self, availability: Availability, now: Ts, out: &mut Vec<Command>) {
        self.availability = availability;
        let can = self.availability.can_take_money();
        match self.stage {
            Stage::Attract if !can => self.go(Stage::OutOfService, now, out),
            Stage::OutOfService if can => self.go(Stage::Attract, now, out),
            // A customer mid-flow keeps their screen; what is withdrawn shows on the next one.
            _ => {}
        }
    }

    fn tick(&mut self, now: Ts, out: &mut Vec<Command>) {
        let lang = self.lang;
        if let Stage::Paying(payment) = &mut self.stage {
            if let Some(PayPhase::WaitingForCode { until_ms }) = payment.phase {
                let left = (until_ms - now.0 + 999) / 1000;
                // Said at 60, 30 and 10 s (item 34); marks passed unsaid (a late tick) are
                // skipped for the latest one.
                let due: Vec<i64> = [60, 30, 10]
                    .into_iter()
                    .filter(|mark| left <= *mark && left > 0 && !payment.countdown_said.contains(mark))
                    .collect();
                if let Some(&mark) = due.last() {
                    payment.countdown_said.extend(due);
                    out.push(Command::Speak(vec![words::code_countdown(mark, lang)]));
                }
            }
        }
        let Some(deadline) = self.deadline else { return };
        // Money in flight: the payment machine decides (but the customer's own pace sets how
        // long notes are awaited). A look-up under way: its job has its own time limit, and the
        // screen never changes mid-action (item 33).
        if (self.money_in_flight() && !self.taking_cash()) || self.busy() {
            return;
        }
        let screen = self.screen();
        if now.0 >= deadline.0 {
            match screen {
                Screen::Farewell => self.end_session(now, out),
                _ => self.timed_out(deadline, now, out),
            }
            // A result's farewell counts from the result's own end, so a late tick still finds
            // the kiosk at the start ≤ 30 s after the result (item 35).
            if self.screen() == Screen::Farewell && self.deadline.is_some_and(|d| now.0 >= d.0) {
                self.end_session(now, out);
            }
            return;
        }
        // A screen that asks something warns 30 s before its limit (item 32); the farewell and a
        // result with nothing left to ask say their own limit instead (item 35).
        let warn_at = deadline.0 - self.timing.warn_before.as_millis() as i64;
        let asks = match screen {
            Screen::Farewell => false,
            Screen::Result => self.receipt() == Some(&ReceiptState::Offered),
            _ => true,
        };
        if !self.warning && now.0 >= warn_at && asks {
            self.warning = true;
            out.push(Command::StopSpeech);
            out.push(Command::Speak(vec![words::timeout_warning(self).into()]));
        }
    }

    /// The screen's limit, `due`, passed unanswered.
    fn timed_out(&mut self, due: Ts, now: Ts, out: &mut Vec<Command>) {
        if self.taking_cash() {
            // No note and no answer to the warning: the intake ends as 结束投币 ends it; what
            // went in is paid, and the payment's end takes the customer on.
            self.deadline = None;
            self.warning = false;
            out.push(Command::StopCash);
            out.push(Command::Speak(vec![words::finishing_cash(self.lang).into()]));
            return;
        }
        if let (true, Stage::Result(ending)) = (self.result_protected(), &self.stage) {
            // Money moved: the customer still gets the farewell (which says what to take), even
            // if a staff screen opened over the result was left; the staff stay signed in until
            // the session ends.
            if ending.order.service == Service::GasCard {
                out.push(Command::ReturnGasCard);
            }
            let ending = ending.clone();
            let before = self.screen();
            self.staff_screen = None;
            self.stage = Stage::Farewell(ending);
            self.arrive(before, now, out);
            // Counted from the result's own end, so a late tick does not hold the farewell up.
            let late = (now.0 - due.0).max(0);
            self.deadline = self.deadline.map(|d| Ts(d.0 - late));
            return;
        }
        self.end_session(now, out);
    }

    /// Ends the session: every personal detail goes, modes reset, back to idle.
    fn end_session(&mut self, now: Ts, out: &mut Vec<Command>) {
        // 帮办 is for one customer: the next one starts without staff rights (journaled).
        if self.staff.is_some() {
            out.push(self.staff_command(StaffCommand::SignedOut));
        }
        // A gas card goes back however the session ends (Done already sent it on its way).
        if self.service() == Some(Service::GasCard) && !matches!(self.stage, Stage::Farewell(_)) {
            out.push(Command::ReturnGasCard);
        }
        if matches!(&self.stage, Stage::Paying(Payment { phase: None, .. })) {
            out.push(Command::StopScanning);
        }
        // The next customer starts at the lowest volume (item 41: it resets after each user).
        if self.volume != 0 {
            out.push(Command::SetVolume { gain_db: 0 });
        }
        let keep = Session {
            availability: self.availability.clone(),
            service_phone: std::mem::take(&mut self.service_phone),
            headset: self.headset,
            headset_jack: self.headset_jack,
            pin_failures: self.pin_failures,
            pin_locked_until: self.pin_locked_until,
            // The hands at the screen are still there: the quiet before a restart counts from them.
            last_tap: self.last_tap.take(),
            ..Session::new(self.timing)
        };
        *self = keep;
        out.push(Command::StopSpeech);
        out.push(Command::WipePersonalData);
        self.stage = if self.availability.can_take_money() { Stage::Attract } else { Stage::OutOfService };
        self.arm_deadline(now);
    }

    /// Moves the customer to `stage`. Under an open staff screen the customer's screen changes
    /// quietly (a look-up answered meanwhile): it is said when the staff go back to it.
    fn go(&mut self, stage: Stage, now: Ts, out: &mut Vec<Command>) {
        let before = self.screen();
        self.stage = stage;
        if self.staff_screen.is_none() {
            self.arrive(before, now, out);
        }
    }

    fn open_staff(&mut self, screen: StaffScreen, now: Ts, out: &mut Vec<Command>) {
        let before = self.screen();
        self.staff_screen = Some(screen);
        self.arrive(before, now, out);
    }

    fn close_staff(&mut self, now: Ts, out: &mut Vec<Command>) {
        let before = self.screen();
        self.staff_screen = None;
        self.arrive(before, now, out);
    }

    /// A new screen is on show: what belonged to the last one goes, its time starts, it is said.
    fn arrive(&mut self, before: Screen, now: Ts, out: &mut Vec<Command>) {
        let screen = self.screen();
        if screen != before {
            self.notice = None;
            self.eject = None;
            self.focus = None;
            // The last screen's words stop before this one's, whatever changed it (a tap, a
            // bill found, the payment's end, a timeout: item 38).
            out.push(Command::StopSpeech);
        }
        self.warning = false;
        self.arm_deadline(now);
        if screen != Screen::Attract {
            self.speak_screen(out);
        }
    }

    fn arm_deadline(&mut self, now: Ts) {
        let screen = self.screen();
        let limit = match screen {
            Screen::Farewell => Some(self.timing.farewell),
            // The receipt question is a question: an input screen's time and warning (item 33).
            Screen::Result if self.receipt() == Some(&ReceiptState::Offered) => Some(self.input_limit()),
            Screen::Result => Some(self.timing.result),
            Screen::Paying if self.taking_cash() => Some(self.input_limit()),
            Screen::Paying if self.money_in_flight() => None,
            Screen::Paying => Some(self.input_limit()),
            s if s.waits_for_input() => Some(self.input_limit()),
            _ => None,
        };
        self.deadline = limit.map(|l| Ts(now.0 + l.as_millis() as i64));
    }

    fn input_limit(&self) -> Duration {
        if self.large {
            self.timing.input_large
        } else {
            self.timing.input
        }
    }

    /// A staff action command, by the signed-in member.
    fn staff_command(&self, action: StaffCommand) -> Command {
        Command::Staff { staff_id: self.staff.clone().unwrap_or_default(), action }
    }

    fn say_notice(&mut self, notice: Notice, out: &mut Vec<Command>) {
        out.push(Command::Speak(vec![notice.spoken_in(self.lang)]));
        self.notice = Some(notice);
    }

    /// Says the screen, and holds its timer while it is said: the customer's time starts when
    /// the voice stops (issue 11 item 7).
    pub(super) fn speak_screen(&mut self, out: &mut Vec<Command>) {
        let script = speech::script(self);
        if let Some(deadline) = self.deadline {
            let said_ms = (speech::spoken_seconds(&script, self.lang) * 1_000.0) as i64;
            self.deadline = Some(Ts(deadline.0 + said_ms));
        }
        out.push(Command::Speak(script));
    }
}

/// Where 返回修改 goes from the confirm screen: a gas card's amount again, or the account.
fn before_confirm(order: Order) -> Stage {
    match order.service {
        Service::GasCard => Stage::TopUpAmount(Order { top_up: None, ..order }),
        service => Stage::FindAccount(Finding { service, account: order.account, lookup: None }),
    }
}
