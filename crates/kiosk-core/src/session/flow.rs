//! The session machine's transitions.

use super::speech;
use super::types::*;
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
const PIN_LOCKOUT: Duration = Duration::from_secs(5 * 60);

/// One customer's session. Fields are public for the view; change them only through `step`.
#[derive(Clone, Debug)]
pub struct Session {
    pub screen: Screen,
    pub lang: Lang,
    pub large: bool,
    pub service: Option<Service>,
    pub account_input: String,
    /// The account was read (ID card, bill barcode), not typed: shown masked.
    pub account_masked: bool,
    pub found: Option<Found>,
    pub top_up: Option<Fen>,
    pub method: Option<MethodChoice>,
    pub phase: Option<PayPhase>,
    pub outcome: Option<Outcome>,
    pub receipt: ReceiptState,
    pub notice: Option<Notice>,
    /// A look-up, scan or card read is under way: its buttons are disabled.
    pub busy: bool,
    /// Which device the look-up under way reads (meaningful only while `busy`).
    pub(super) reading: Option<Command>,
    /// The choice the physical keypad's 0 / Clear moved to (accessibility.md item 21).
    pub focus: Option<Intent>,
    /// The voice's volume step, 0 (the lowest) to VOLUME_STEPS - 1; each customer starts at 0.
    pub volume: u8,
    pub staff: Option<String>,
    pub pin_input: String,
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
    pub staff_called: bool,
    /// The service phone number for the out-of-service screen and slips.
    pub service_phone: String,
    /// The timeout warning is showing (and was spoken).
    pub warning: bool,
    deadline: Option<Ts>,
    last_tap: Option<(Intent, Ts)>,
    /// The countdown marks (seconds left) already spoken while waiting for a code.
    countdown_said: Vec<i64>,
    /// Where the staff panel returns to.
    customer_screen: Screen,
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
            screen: Screen::Attract,
            lang: Lang::Zh,
            large: false,
            service: None,
            account_input: String::new(),
            account_masked: false,
            found: None,
            top_up: None,
            method: None,
            phase: None,
            outcome: None,
            receipt: ReceiptState::Offered,
            notice: None,
            busy: false,
            reading: None,
            focus: None,
            volume: 0,
            staff: None,
            pin_input: String::new(),
            pin_failures: 0,
            pin_locked_until: None,
            availability: Availability::default(),
            eject: None,
            mirror_blanked: false,
            screens_hidden: false,
            headset_jack: false,
            headset: false,
            staff_called: false,
            service_phone: String::new(),
            warning: false,
            deadline: None,
            last_tap: None,
            countdown_said: Vec::new(),
            customer_screen: Screen::Attract,
            timing,
        }
    }

    pub fn timing(&self) -> SessionTiming {
        self.timing
    }

    /// When the current screen gives up, if it does.
    pub fn deadline(&self) -> Option<Ts> {
        self.deadline
    }

    /// Seconds left before the screen gives up (for the warning's countdown).
    pub fn seconds_left(&self, now: Ts) -> Option<i64> {
        self.deadline.map(|d| ((d.0 - now.0).max(0) + 999) / 1000)
    }

    /// The pay request may have reached the channel: from here only the payment's end counts.
    fn request_sent(&self) -> bool {
        !matches!(self.phase, None | Some(PayPhase::WaitingForCode { .. } | PayPhase::WaitingForCard))
    }

    /// Money may be moving: nothing times out and nobody can leave; the payment machine decides.
    pub fn money_in_flight(&self) -> bool {
        self.screen == Screen::Paying && self.phase.is_some()
    }

    /// The result of a payment that moved money: its only ways out are the receipt offer and
    /// the farewell (issue 11 item 4), never 返回 or 取消并退出 straight to the idle screen.
    pub fn result_protected(&self) -> bool {
        self.screen == Screen::Result
            && self.outcome.as_ref().is_some_and(|o| o.kind != OutcomeKind::NotCharged)
    }

    /// The touch screen's body is hidden: the blank control in private mode hides both screens
    /// (accessibility.md item 44); pulling the headset out shows it again.
    pub fn screen_blanked(&self) -> bool {
        self.headset && self.screens_hidden
    }

    /// The bill read back owes nothing this period (issue 11 item 3): there is nothing to
    /// confirm, only another account or the way out.
    pub fn nothing_due(&self) -> bool {
        self.screen == Screen::Confirm && self.amount() == Some(Fen::ZERO)
    }

    /// Whether 返回 and 取消并退出 may be offered now.
    pub fn may_leave(&self) -> bool {
        !self.money_in_flight() && !self.result_protected()
    }

    /// The amount the customer is paying, once known.
    pub fn amount(&self) -> Option<Fen> {
        match self.found.as_ref()? {
            Found::Bill(bill) => Some(bill.amount_due),
            Found::Joint(joint) => joint.total(),
            Found::GasCard(_) => self.top_up,
        }
    }

    /// What a key of the physical keypad means on this screen, so that every flow can be done
    /// without the touch screen: digits type, or pick the numbered choice (1 水费 … 5 燃气卡充值;
    /// 1 付款码 2 银行卡; 1 打印凭条 2 不要凭条; 1–4 the top-up amounts); Enter does the screen's
    /// main action; Clear deletes a digit; Cancel goes back; * repeats the screen.
    pub fn key_intent(&self, key: Key) -> Option<Intent> {
        use Screen::*;
        if self.warning {
            return matches!(key, Key::Enter).then_some(Intent::Extend);
        }
        let typing = matches!(self.screen, FindAccount | StaffSignIn)
            && !(self.screen == FindAccount && self.service == Some(Service::GasCard));
        if key == Key::Enter && !typing {
            if let Some(choice) = self.focused_choice() {
                return Some(choice);
            }
        }
        Some(match (key, self.screen) {
            (Key::Repeat, _) => Intent::Repeat,
            (Key::Volume, _) => Intent::Volume,
            (Key::Cancel, _) => Intent::Back,
            (Key::Digit(d), _) if typing => Intent::Digit(d),
            (Key::Clear, _) if typing => Intent::DeleteDigit,
            (Key::Digit(0), _) => Intent::FocusNext,
            (Key::Clear, _) => Intent::FocusPrevious,
            (Key::Digit(d @ 1..=5), Attract) => Intent::Start(Service::ALL[usize::from(d - 1)]),
            (Key::Digit(d @ 1..=4), TopUpAmount) => Intent::ChooseAmount(TOP_UP_AMOUNTS[usize::from(d - 1)]),
            (Key::Digit(1), Method) => Intent::ChooseMethod(MethodChoice::Code),
            (Key::Digit(2), Method) => Intent::ChooseMethod(MethodChoice::BankCard),
            (Key::Digit(1), Result) => Intent::Receipt(true),
            (Key::Digit(2), Result) => Intent::Receipt(false),
            (Key::Enter, FindAccount) if self.service == Some(Service::GasCard) => Intent::InsertGasCard,
            (Key::Enter, FindAccount) => Intent::SubmitAccount,
            // Nothing due: Enter looks up another account.
            (Key::Enter, Confirm) if self.nothing_due() => Intent::Amend,
            (Key::Enter, Confirm) => Intent::ConfirmBill,
            (Key::Enter, Paying) => Intent::ScanAgain,
            (Key::Enter, Result | Farewell) => Intent::Done,
            (Key::Enter, StaffSignIn) => Intent::StaffSubmit,
            _ => return None,
        })
    }

    /// Feeds one input; returns what the runtime must do, in order.
    pub fn step(&mut self, input: Input, now: Ts) -> Vec<Command> {
        let mut out = Vec::new();
        match input {
            Input::Tap(intent) => self.tap(intent, now, &mut out),
            Input::Tick => self.tick(now, &mut out),
            Input::Found(found) if self.busy => {
                self.busy = false;
                let next = match found {
                    Found::GasCard(_) => Screen::TopUpAmount,
                    _ => Screen::Confirm,
                };
                self.found = Some(found);
                self.go(next, now, &mut out);
            }
            Input::ScannedAccount { utility, account } if self.busy => {
                self.scanned_account(utility, account, &mut out)
            }
            Input::LookupFailed(notice) if self.busy => {
                self.busy = false;
                self.arm_deadline(now);
                self.say_notice(notice, now, &mut out);
            }
            Input::Progress(phase) if self.screen == Screen::Paying && self.phase != Some(phase) => {
                self.phase = Some(phase);
                out.push(Command::Speak(speech::phase_lines(phase, self.lang)));
            }
            Input::CodeProblem(notice) if self.screen == Screen::Paying => {
                self.phase = None;
                self.arm_deadline(now);
                self.say_notice(notice, now, &mut out);
            }
            // A refusal means no money moved; once the channel has the request, only the
            // payment's end (Finished) may take the customer off this screen.
            Input::PayRefused(notice) if self.screen == Screen::Paying && !self.request_sent() => {
                self.phase = None;
                self.go(Screen::Method, now, &mut out);
                self.say_notice(notice, now, &mut out);
            }
            Input::Finished(outcome) => self.finished(outcome, now, &mut out),
            Input::Availability(availability) => self.availability_changed(availability, now, &mut out),
            Input::ReceiptPrinted if self.receipt == ReceiptState::Printing => {
                self.receipt = ReceiptState::Printed;
                out.push(Command::Speak(vec![super::words::take_receipt(self.lang).into()]));
            }
            Input::ReceiptFailed if self.receipt == ReceiptState::Printing => {
                self.receipt = ReceiptState::Unavailable;
                let notice = super::words::receipt_failed();
                self.say_notice(notice, now, &mut out);
            }
            Input::Headset(plugged) if plugged != self.headset => {
                self.headset = plugged;
                if !plugged {
                    // What the headset was being told must not go on aloud once it is out.
                    out.push(Command::StopSpeech);
                    self.screens_hidden = false;
                }
                out.push(Command::RouteSpeech { headset: plugged });
                out.push(Command::Speak(vec![super::words::headset_line(plugged, self.lang).into()]));
            }
            Input::Eject(feedback) => {
                self.eject = Some(feedback);
                out.push(Command::Speak(vec![speech::eject_line(feedback, self.lang).into()]));
            }
            Input::StaffSignedIn { staff_id } if self.screen == Screen::StaffSignIn => {
                self.pin_failures = 0;
                self.staff = Some(staff_id);
                self.pin_input.clear();
                out.push(self.staff_command(StaffCommand::SignedIn));
                out.push(Command::RefreshAvailability);
                self.go(Screen::StaffPanel, now, &mut out);
            }
            Input::StaffSignInFailed => {
                self.pin_input.clear();
                self.pin_failures += 1;
                if self.pin_failures >= MAX_PIN_FAILURES {
                    // Guessing a PIN at a public kiosk is slowed to a crawl; staff are told.
                    self.pin_failures = 0;
                    self.pin_locked_until = Some(Ts(now.0 + PIN_LOCKOUT.as_millis() as i64));
                    self.say_notice(super::words::pin_locked(), now, &mut out);
                } else {
                    self.say_notice(super::words::wrong_pin(), now, &mut out);
                }
            }
            Input::StaffNews(notice) => self.say_notice(notice, now, &mut out),
            // Late news for a screen already left (a look-up answered after 返回): dropped.
            _ => {}
        }
        out
    }

    fn tap(&mut self, intent: Intent, now: Ts, out: &mut Vec<Command>) {
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
                out.push(Command::Speak(vec![super::words::large_mode(self.large, self.lang).into()]));
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
                out.push(Command::Speak(vec![super::words::volume_line(self.volume, self.lang)]));
            }
            Intent::FocusNext => self.move_focus(true, out),
            Intent::FocusPrevious => self.move_focus(false, out),
            Intent::CallStaff => {
                self.staff_called = true;
                out.push(Command::CallStaff);
                self.say_notice(super::words::staff_called(), now, out);
            }
            Intent::Extend => out.push(Command::Speak(vec![super::words::extended(self.lang).into()])),
            Intent::DismissNotice => self.notice = None,
            Intent::BlankMirror => {
                if self.headset {
                    // Private mode: one control hides (or shows) both screens, and says so.
                    self.screens_hidden = !self.screens_hidden;
                    self.mirror_blanked = self.screens_hidden;
                    let line = super::words::screens_line(self.screens_hidden, self.lang);
                    out.push(Command::Speak(vec![line.into()]));
                } else {
                    self.mirror_blanked = !self.mirror_blanked;
                }
                if self.staff.is_some() {
                    out.push(self.staff_command(StaffCommand::BlankMirror(self.mirror_blanked)));
                }
            }
            Intent::Exit => self.end_session(now, out),
            Intent::Back => self.back(now, out),
            Intent::Start(service) => {
                self.service = Some(service);
                self.customer_screen = Screen::FindAccount;
                self.go(Screen::FindAccount, now, out);
            }
            Intent::Digit(d) if self.screen == Screen::StaffSignIn => {
                if self.pin_input.len() < MAX_PIN_DIGITS {
                    self.pin_input.push(char::from(b'0' + d));
                    // A PIN digit is never spoken (accessibility.md item 40).
                    out.push(Command::Speak(vec![super::words::asterisk(self.lang).into()]));
                }
            }
            Intent::Digit(d) => {
                if self.account_masked {
                    // Typing replaces a number that was read, rather than extending it.
                    self.account_input.clear();
                    self.account_masked = false;
                }
                if self.account_input.len() < MAX_ACCOUNT_DIGITS {
                    self.account_input.push(char::from(b'0' + d));
                    self.notice = None;
                    out.push(Command::Speak(vec![d.to_string()]));
                }
            }
            Intent::DeleteDigit if self.screen == Screen::StaffSignIn => {
                self.pin_input.pop();
            }
            Intent::DeleteDigit => {
                self.account_input.pop();
                if self.account_masked {
                    self.account_input.clear();
                    self.account_masked = false;
                }
            }
            Intent::ClearDigits if self.screen == Screen::StaffSignIn => self.pin_input.clear(),
            Intent::ClearDigits => {
                self.account_input.clear();
                self.account_masked = false;
            }
            Intent::SubmitAccount => self.submit_account(now, out),
            Intent::ScanBill => self.start_lookup(Command::ScanBill, out),
            Intent::ReadIdCard => {
                self.eject = None;
                self.start_lookup(Command::ReadIdCard, out)
            }
            Intent::InsertGasCard => self.start_lookup(Command::ReadGasCard, out),
            Intent::ChooseAmount(amount) => {
                self.top_up = Some(amount);
                self.go(Screen::Confirm, now, out);
            }
            Intent::ConfirmBill => self.go(Screen::Method, now, out),
            Intent::Amend => {
                let back = if self.service == Some(Service::GasCard) {
                    Screen::TopUpAmount
                } else {
                    Screen::FindAccount
                };
                self.go(back, now, out);
            }
            Intent::ChooseMethod(method) => self.choose_method(method, now, out),
            Intent::ScanAgain => {
                if let Some(method) = self.method {
                    self.choose_method(method, now, out);
                }
            }
            Intent::StopWaiting => out.push(Command::StopScanning),
            Intent::Receipt(true) => {
                self.receipt = ReceiptState::Printing;
                out.push(Command::PrintReceipt);
                out.push(Command::Speak(vec![super::words::printing(self.lang).into()]));
            }
            Intent::Receipt(false) => self.receipt = ReceiptState::Declined,
            Intent::Done if self.screen == Screen::Farewell => self.end_session(now, out),
            Intent::Done => {
                if self.service == Some(Service::GasCard) {
                    out.push(Command::ReturnGasCard);
                }
                self.go(Screen::Farewell, now, out);
            }
            Intent::Another => {
                if self.result_protected() {
                    // No farewell screen on the way: say what to take all the same (the gas
                    // card goes back as the session ends).
                    out.push(Command::Speak(vec![super::words::farewell_words(self)]));
                }
                // The same person goes on: keep their language, 长辈模式 and what they hid;
                // wipe the rest.
                let kept = (self.lang, self.large, self.mirror_blanked, self.screens_hidden);
                self.end_session(now, out);
                (self.lang, self.large, self.mirror_blanked, self.screens_hidden) = kept;
            }
            Intent::StaffSignInOpen => {
                self.pin_input.clear();
                self.go(Screen::StaffSignIn, now, out);
            }
            Intent::StaffSubmit if self.pin_locked_until.is_some_and(|until| now.0 < until.0) => {
                self.pin_input.clear();
                self.say_notice(super::words::pin_locked(), now, out);
            }
            Intent::StaffSubmit => out.push(Command::CheckStaffPin { pin: self.pin_input.clone() }),
            Intent::StaffPanel => {
                out.push(self.staff_command(StaffCommand::OpenPanel));
                out.push(Command::RefreshAvailability);
                self.go(Screen::StaffPanel, now, out);
            }
            Intent::StaffBackToCustomer => {
                let back = self.customer_screen;
                self.go(back, now, out);
            }
            Intent::StaffSignOut => {
                out.push(self.staff_command(StaffCommand::SignedOut));
                self.staff = None;
                let back = self.customer_screen;
                self.go(back, now, out);
            }
            Intent::StaffReprint => out.push(self.staff_command(StaffCommand::Reprint)),
            Intent::StaffRewriteCard => out.push(self.staff_command(StaffCommand::RewriteCard)),
            Intent::StaffToggleLayout => out.push(self.staff_command(StaffCommand::ToggleLayout)),
        }
    }

    /// Whether `intent` means anything on this screen now. Everything else is ignored, so a
    /// stale or doubled tap can never act on the wrong screen.
    pub fn allowed(&self, intent: &Intent) -> bool {
        use Intent::*;
        let s = self.screen;
        match intent {
            ToggleLarge | ToggleLanguage | Repeat | Volume | CallStaff | DismissNotice | BlankMirror => true,
            // With nothing to choose, the key says the screen again (focus.rs).
            FocusNext | FocusPrevious => true,
            Extend => self.warning,
            Exit => self.may_leave() && s != Screen::Attract,
            Back => self.may_leave() && !self.busy && s != Screen::Attract,
            Start(service) => matches!(s, Screen::Attract) && self.availability.service(*service),
            Digit(d) => *d <= 9 && matches!(s, Screen::FindAccount | Screen::StaffSignIn) && !self.busy,
            DeleteDigit | ClearDigits => matches!(s, Screen::FindAccount | Screen::StaffSignIn) && !self.busy,
            SubmitAccount => s == Screen::FindAccount && !self.busy && self.typed_account_service(),
            ScanBill => {
                s == Screen::FindAccount
                    && !self.busy
                    && self.availability.scanner
                    && self.typed_account_service()
            }
            ReadIdCard => {
                s == Screen::FindAccount
                    && !self.busy
                    && self.availability.id_card
                    && self.service == Some(Service::Joint)
            }
            InsertGasCard => s == Screen::FindAccount && !self.busy && self.service == Some(Service::GasCard),
            ChooseAmount(amount) => s == Screen::TopUpAmount && amount.0 > 0,
            ConfirmBill => s == Screen::Confirm && self.amount().is_some_and(|a| a.0 > 0),
            Amend => s == Screen::Confirm,
            ChooseMethod(method) => s == Screen::Method && self.availability.method(*method),
            ScanAgain => s == Screen::Paying && self.phase.is_none(),
            // Only the scanner's wait can be stopped; the card slot has its own time limit.
            StopWaiting => s == Screen::Paying && matches!(self.phase, Some(PayPhase::WaitingForCode { .. })),
            Receipt(_) => s == Screen::Result && self.receipt == ReceiptState::Offered,
            Done => matches!(s, Screen::Result | Screen::Farewell),
            // Not before the receipt offer is answered, once money moved.
            Another => {
                s == Screen::Result && !(self.result_protected() && self.receipt == ReceiptState::Offered)
            }
            StaffSignInOpen => self.staff.is_none() && !self.money_in_flight() && s != Screen::StaffSignIn,
            StaffSubmit => s == Screen::StaffSignIn && !self.pin_input.is_empty(),
            StaffPanel => self.staff.is_some() && s != Screen::StaffPanel && !self.money_in_flight(),
            StaffBackToCustomer | StaffSignOut | StaffReprint | StaffRewriteCard | StaffToggleLayout => {
                s == Screen::StaffPanel && self.staff.is_some()
            }
        }
    }

    fn typed_account_service(&self) -> bool {
        matches!(self.service, Some(s) if s != Service::GasCard)
    }

    fn back(&mut self, now: Ts, out: &mut Vec<Command>) {
        match self.screen {
            Screen::FindAccount => self.end_session(now, out),
            Screen::TopUpAmount => {
                out.push(Command::ReturnGasCard);
                self.found = None;
                self.go(Screen::FindAccount, now, out);
            }
            Screen::Confirm if self.service == Some(Service::GasCard) => {
                self.go(Screen::TopUpAmount, now, out)
            }
            Screen::Confirm => self.go(Screen::FindAccount, now, out),
            Screen::Method => self.go(Screen::Confirm, now, out),
            Screen::Paying => self.go(Screen::Method, now, out),
            Screen::Result | Screen::Farewell => self.end_session(now, out),
            Screen::StaffSignIn => {
                let back = self.customer_screen;
                self.go(back, now, out);
            }
            Screen::StaffPanel => {
                let back = self.customer_screen;
                self.go(back, now, out);
            }
            Screen::Attract | Screen::OutOfService => {}
        }
    }

    fn submit_account(&mut self, now: Ts, out: &mut Vec<Command>) {
        let Some(service) = self.service else { return };
        if self.account_input.len() < 6 {
            self.say_notice(super::words::account_too_short(), now, out);
            return;
        }
        self.busy = true;
        self.reading = None;
        self.notice = None;
        out.push(Command::FetchBill { service, account: self.account_input.clone() });
    }

    fn start_lookup(&mut self, command: Command, out: &mut Vec<Command>) {
        self.busy = true;
        self.reading = Some(command.clone());
        self.notice = None;
        out.push(Command::Speak(vec![speech::lookup_line(&command, self.lang).into()]));
        out.push(command);
    }

    fn scanned_account(&mut self, utility: Option<crate::Utility>, account: String, out: &mut Vec<Command>) {
        let Some(service) = self.service else { return };
        if let (Some(utility), Some(wanted)) = (utility, service.utility()) {
            if utility != wanted {
                self.busy = false;
                self.notice = Some(super::words::wrong_bill(utility, wanted));
                out.push(Command::Speak(vec![self
                    .notice
                    .as_ref()
                    .map(|n| n.text(self.lang))
                    .unwrap_or_default()]));
                return;
            }
        }
        // Read from a card or a barcode, not typed: shown and spoken masked, like any account.
        self.account_input = account.clone();
        self.account_masked = true;
        out.push(Command::FetchBill { service, account });
    }

    fn choose_method(&mut self, method: MethodChoice, now: Ts, out: &mut Vec<Command>) {
        if !self.availability.method(method) {
            self.say_notice(super::words::method_unavailable(method), now, out);
            return;
        }
        self.method = Some(method);
        self.notice = None;
        self.countdown_said.clear();
        self.phase = Some(match method {
            MethodChoice::Code => {
                PayPhase::WaitingForCode { until_ms: now.0 + self.timing.code_window.as_millis() as i64 }
            }
            MethodChoice::BankCard => PayPhase::WaitingForCard,
        });
        if self.screen != Screen::Paying {
            self.go(Screen::Paying, now, out);
        } else {
            self.deadline = None;
            self.speak_screen(out);
        }
        out.push(Command::Pay { method });
    }

    fn finished(&mut self, outcome: Outcome, now: Ts, out: &mut Vec<Command>) {
        self.phase = None;
        self.receipt = if outcome.slip_printed {
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
        self.outcome = Some(outcome);
        self.go(Screen::Result, now, out);
        if card_kept {
            self.say_notice(super::words::card_kept(), now, out);
        }
    }

    fn availability_changed(&mut self, availability: Availability, now: Ts, out: &mut Vec<Command>) {
        self.availability = availability;
        let can = self.availability.can_take_money();
        match self.screen {
            Screen::Attract if !can => self.go(Screen::OutOfService, now, out),
            Screen::OutOfService if can => self.go(Screen::Attract, now, out),
            // A customer mid-flow keeps their screen; what is withdrawn shows on the next one.
            _ => {}
        }
    }

    fn tick(&mut self, now: Ts, out: &mut Vec<Command>) {
        if let Some(PayPhase::WaitingForCode { until_ms }) = self.phase {
            let left = (until_ms - now.0 + 999) / 1000;
            for mark in [30, 10] {
                if left <= mark && left > 0 && !self.countdown_said.contains(&mark) {
                    self.countdown_said.push(mark);
                    out.push(Command::Speak(vec![super::words::code_countdown(mark, self.lang)]));
                }
            }
        }
        let Some(deadline) = self.deadline else { return };
        // Money in flight: the payment machine decides. A look-up under way: its job has its own
        // time limit, and the screen never changes mid-action (item 33).
        if self.money_in_flight() || self.busy {
            return;
        }
        if now.0 >= deadline.0 {
            if self.screen == Screen::Farewell {
                self.end_session(now, out);
            } else {
                self.timed_out(now, out);
            }
            return;
        }
        let warn_at = deadline.0 - self.timing.warn_before.as_millis() as i64;
        if !self.warning && now.0 >= warn_at && self.screen != Screen::Farewell {
            self.warning = true;
            out.push(Command::StopSpeech);
            out.push(Command::Speak(vec![super::words::timeout_warning(self.lang).into()]));
        }
    }

    fn timed_out(&mut self, now: Ts, out: &mut Vec<Command>) {
        if self.result_protected() {
            // Money moved: the customer still gets the farewell (which says what to take).
            if self.service == Some(Service::GasCard) {
                out.push(Command::ReturnGasCard);
            }
            self.go(Screen::Farewell, now, out);
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
        if self.service == Some(Service::GasCard) && self.screen != Screen::Farewell {
            out.push(Command::ReturnGasCard);
        }
        if self.screen == Screen::Paying && self.phase.is_none() {
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
            ..Session::new(self.timing)
        };
        *self = keep;
        out.push(Command::StopSpeech);
        out.push(Command::WipePersonalData);
        let idle = if self.availability.can_take_money() { Screen::Attract } else { Screen::OutOfService };
        self.screen = idle;
        self.customer_screen = Screen::Attract;
        self.arm_deadline(now);
    }

    fn go(&mut self, screen: Screen, now: Ts, out: &mut Vec<Command>) {
        if screen != self.screen {
            self.notice = None;
            self.eject = None;
            self.focus = None;
        }
        self.screen = screen;
        if !matches!(screen, Screen::StaffPanel | Screen::StaffSignIn) {
            self.customer_screen = screen;
        }
        self.warning = false;
        self.arm_deadline(now);
        if screen != Screen::Attract {
            self.speak_screen(out);
        }
    }

    fn arm_deadline(&mut self, now: Ts) {
        let limit = match self.screen {
            Screen::Farewell => Some(self.timing.farewell),
            Screen::Paying if self.phase.is_some() => None,
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

    fn say_notice(&mut self, notice: Notice, _now: Ts, out: &mut Vec<Command>) {
        out.push(Command::Speak(vec![notice.text(self.lang).to_string()]));
        self.notice = Some(notice);
    }

    /// Says the screen, and holds the inactivity timer while it is said: the customer's time
    /// starts when the voice stops (issue 11 item 7).
    pub(super) fn speak_screen(&mut self, out: &mut Vec<Command>) {
        let script = speech::script(self);
        if let Some(deadline) = self.deadline {
            let said_ms = (speech::spoken_seconds(&script, self.lang) * 1_000.0) as i64;
            self.deadline = Some(Ts(deadline.0 + said_ms));
        }
        out.push(Command::Speak(script));
    }
}
