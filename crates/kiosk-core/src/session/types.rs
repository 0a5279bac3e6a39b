//! What flows in and out of the session machine.

use crate::{AccountNo, Bill, Fen, JointBill, Utility};

pub use catalogue::{Lang, Text};

/// What the customer came to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Water,
    Power,
    Gas,
    /// 电、水、气联合账单: one payment for the household's three bills.
    Joint,
    /// Buy gas onto the prepaid IC card (燃气卡充值).
    GasCard,
}

impl Service {
    pub const ALL: [Service; 5] =
        [Service::Water, Service::Power, Service::Gas, Service::Joint, Service::GasCard];

    /// The biller of a single-utility bill.
    pub fn utility(self) -> Option<Utility> {
        match self {
            Service::Water => Some(Utility::Water),
            Service::Power => Some(Utility::Power),
            Service::Gas => Some(Utility::Gas),
            Service::Joint | Service::GasCard => None,
        }
    }

    pub fn from_utility(utility: Utility) -> Service {
        match utility {
            Utility::Water => Service::Water,
            Utility::Power => Service::Power,
            Utility::Gas => Service::Gas,
        }
    }
}

/// One screen. A standard bill goes Attract → FindAccount → Confirm → Method → Paying → Result:
/// five screens after the idle one (accessibility.md item 25).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Screen {
    /// Idle: the services, 长辈模式, 听语音, language. Nothing personal.
    Attract,
    /// Type the 户号, scan the paper bill, insert the gas card, or read the ID card.
    FindAccount,
    /// Gas card top-up: the card's account, and how much to load.
    TopUpAmount,
    /// The bill read back: payee, masked holder, account, amount. 确认缴费 / 返回修改.
    Confirm,
    /// Payment code or bank card, with what is unavailable said before any money moves.
    Method,
    /// The payment under way, in words.
    Paying,
    /// Paid, not charged, refunded, or in suspense; receipt yes/no.
    Result,
    /// "Take your card and your receipt", then back to idle.
    Farewell,
    /// Nothing can take money: says so, with the service phone.
    OutOfService,
    /// A staff member signs in with their own PIN (it names them).
    StaffSignIn,
    /// Devices, paper, payments in suspense, reprint, 补写卡.
    StaffPanel,
}

impl Screen {
    /// The stable name used by the UI (`screen` property) and the tests.
    pub fn code(self) -> &'static str {
        match self {
            Screen::Attract => "attract",
            Screen::FindAccount => "find-account",
            Screen::TopUpAmount => "top-up-amount",
            Screen::Confirm => "confirm",
            Screen::Method => "method",
            Screen::Paying => "paying",
            Screen::Result => "result",
            Screen::Farewell => "farewell",
            Screen::OutOfService => "out-of-service",
            Screen::StaffSignIn => "staff-sign-in",
            Screen::StaffPanel => "staff-panel",
        }
    }

    pub const ALL: [Screen; 11] = [
        Screen::Attract,
        Screen::FindAccount,
        Screen::TopUpAmount,
        Screen::Confirm,
        Screen::Method,
        Screen::Paying,
        Screen::Result,
        Screen::Farewell,
        Screen::OutOfService,
        Screen::StaffSignIn,
        Screen::StaffPanel,
    ];

    /// Screens where the customer is expected to act, and which therefore time out.
    pub fn waits_for_input(self) -> bool {
        matches!(
            self,
            Screen::FindAccount
                | Screen::TopUpAmount
                | Screen::Confirm
                | Screen::Method
                | Screen::StaffSignIn
                | Screen::StaffPanel
        )
    }
}

/// How the customer pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodChoice {
    Code,
    BankCard,
    /// Banknotes into the acceptor: no change is given (the kiosk has no dispenser).
    Cash,
}

/// Whether a receipt can be printed, asked before money moves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReceiptOutlook {
    #[default]
    Ready,
    NearEnd,
    /// No paper, cover open, offline…: the reason in words.
    Unavailable,
}

/// What works right now. Only what depends on a broken device is withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Availability {
    /// The journal is trusted: without it no money moves at all (a journal found missing, rolled
    /// back or changed behind the kiosk), whatever the devices say.
    pub journal: bool,
    /// Not taken out of service by the operator (a hub command); false closes the kiosk like a
    /// journal that cannot be trusted, once the customer paying now has finished.
    pub in_service: bool,
    pub scanner: bool,
    /// Some payment-code channel (WeChat, Alipay, UnionPay) can be reached over the network:
    /// a payment code needs the scanner *and* this; a paper bill's scan needs the scanner only.
    pub code_channels: bool,
    pub bank_card: bool,
    pub gas_card: bool,
    pub id_card: bool,
    pub joint_bill: bool,
    pub receipt: ReceiptOutlook,
    /// The banknote acceptor takes notes now (not full, not open, not jammed).
    pub cash: bool,
    /// The notes it takes, smallest first; empty: this kiosk has no acceptor.
    pub cash_notes: Vec<Fen>,
    /// 呼叫工作人员 reaches someone: the fleet hub has answered the kiosk's heartbeats lately, and
    /// its operators get the call as an alert. Without it the button can only send the customer
    /// to the counter.
    pub staff_line: bool,
}

impl Default for Availability {
    fn default() -> Self {
        Availability {
            journal: true,
            in_service: true,
            scanner: true,
            code_channels: true,
            bank_card: true,
            gas_card: true,
            id_card: true,
            joint_bill: true,
            receipt: ReceiptOutlook::Ready,
            cash: false,
            cash_notes: Vec::new(),
            // Until the runtime says the hub hears calls, the customer is sent to the counter.
            staff_line: false,
        }
    }
}

impl Availability {
    pub fn method(&self, method: MethodChoice) -> bool {
        match method {
            MethodChoice::Code => self.codes(),
            MethodChoice::BankCard => self.bank_card,
            MethodChoice::Cash => self.cash,
        }
    }

    /// The journal is trusted and some way to take money works.
    pub fn can_take_money(&self) -> bool {
        self.journal && self.in_service && (self.codes() || self.bank_card || self.cash)
    }

    /// A payment code can be paid now: the scanner reads and a channel answers.
    pub fn codes(&self) -> bool {
        self.scanner && self.code_channels
    }

    /// Cash is the only way to pay now (payment codes and the card terminal are down, by a
    /// device or by the network): the method screen offers it first and largest.
    pub fn cash_only(&self) -> bool {
        self.cash && !self.codes() && !self.bank_card
    }

    /// Cash goes first on the method screen: it is all that works, or the payment network is
    /// down (a card terminal may say it is ready and still fail to reach its bank).
    pub fn cash_first(&self) -> bool {
        self.cash && (!self.code_channels || self.cash_only())
    }

    pub fn service(&self, service: Service) -> bool {
        self.can_take_money()
            && match service {
                Service::Joint => self.joint_bill,
                Service::GasCard => self.gas_card,
                _ => true,
            }
    }

    pub fn receipt_possible(&self) -> bool {
        self.receipt != ReceiptOutlook::Unavailable
    }
}

/// A prepaid gas card in the slot, as the gas company knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GasCardInfo {
    /// Masked card number, e.g. "88******21".
    pub card_masked: String,
    pub account: AccountNo,
    pub purchase_count: u32,
}

/// What the customer is about to pay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Bill(Bill),
    Joint(JointBill),
    GasCard(GasCardInfo),
}

/// Where the payment is, in words the customer understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayPhase {
    /// The scanner is on; show the payment code. A fixed external limit with a countdown.
    WaitingForCode { until_ms: i64 },
    /// Before the first note: the no-change rule and the notes taken, to be confirmed. No
    /// money moves yet; the customer may still go back.
    CashRule,
    /// The acceptor takes notes; the amount in and still due are on screen.
    TakingCash,
    /// The card slot is open.
    WaitingForCard,
    /// The request is going to the channel.
    Sending,
    /// The channel waits for the customer to enter their password on the phone.
    WaitingForPin,
    /// The bank card terminal waits for the PIN pad.
    WaitingForCardPin,
    /// Closing the order; money taken will be returned.
    Cancelling,
    /// Money received; the biller is being told.
    WritingOff,
    /// Writing gas to the card: do not pull it out.
    WritingCard,
    /// Some or all money is going back.
    Refunding,
}

/// How the payment ended, as the customer must understand it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    Paid,
    /// Some lines paid, the rest refunded.
    PartlyRefunded,
    /// No money was taken.
    NotCharged,
    /// Money was taken and given back in full.
    Refunded,
    /// The order was closed; whatever may have been taken was given back (the channel does not
    /// say whether anything was): never told as "not charged".
    ReturnedIfTaken,
    /// The refund of what could not be paid is accepted by the channel and on its way back.
    RefundAccepted,
    /// Not settled online; the slip carries the reference.
    Suspense,
    /// Paid, but the gas card does not hold the purchase yet (补写卡 later).
    CardNotWritten,
    /// Cash: the customer finished (or left) before the amount was in; what they put in is
    /// paid, the rest is not (the slip says so).
    PaidInPart,
}

/// The end of a payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub kind: OutcomeKind,
    /// The order number: on screen, on the slip, for the counter.
    pub order_ref: String,
    pub amount: Fen,
    /// A slip was printed already (suspense, kept card…).
    pub slip_printed: bool,
    /// The customer left their bank card at the gate and the slot kept it.
    pub card_kept: bool,
}

/// Whether the customer has their receipt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ReceiptState {
    /// Not asked yet.
    #[default]
    Offered,
    Printing,
    Printed,
    Declined,
    /// The printer cannot: said before paying, or it failed while printing.
    Unavailable,
}

/// A message on the current screen: an error to fix, or news. Always text + icon + speech.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    /// Put into words when shown, so a language switch also switches the notice.
    pub text: Text,
    /// How it is said, where that differs from how it is shown (a phone number read digit by
    /// digit); `None`: as shown.
    pub spoken: Option<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    Error,
    Info,
}

impl Notice {
    pub fn error(text: Text) -> Notice {
        Notice { kind: NoticeKind::Error, text, spoken: None }
    }

    pub fn info(text: Text) -> Notice {
        Notice { kind: NoticeKind::Info, text, spoken: None }
    }

    /// Said as `spoken` instead of as shown.
    pub fn said_as(self, spoken: Text) -> Notice {
        Notice { spoken: Some(spoken), ..self }
    }

    /// As shown.
    pub fn in_lang(&self, lang: Lang) -> String {
        self.text.in_lang(lang)
    }

    /// As said.
    pub fn spoken_in(&self, lang: Lang) -> String {
        self.spoken.as_ref().unwrap_or(&self.text).in_lang(lang)
    }
}

/// The red forced-eject button of the ID slot, as the screen shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EjectFeedback {
    /// Held: "keep holding for 3 seconds".
    Held,
    /// Let go before 3 s: nothing happens, and "keep holding" goes from the screen.
    Released,
    /// The card is at the gate.
    Ejected,
    /// The card was taken from the gate: "please take it" goes from the screen.
    Taken,
    /// The card could not be brought out (a jam, the motor, the power): staff must get it.
    Failed,
}

impl EjectFeedback {
    /// Whether this news is shown (and said); `Released` and `Taken` only clear what was.
    pub fn is_shown(self) -> bool {
        !matches!(self, EjectFeedback::Released | EjectFeedback::Taken)
    }
}

/// A tap (or a key) on the screen. Everything the customer or staff can do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Intent {
    Start(Service),
    ToggleLarge,
    ToggleLanguage,
    /// 重听: say this screen again.
    Repeat,
    CallStaff,
    Back,
    /// 取消并退出: end the session (refused while money is in flight).
    Exit,
    Digit(u8),
    DeleteDigit,
    ClearDigits,
    SubmitAccount,
    ScanBill,
    ReadIdCard,
    InsertGasCard,
    ChooseAmount(Fen),
    ConfirmBill,
    Amend,
    ChooseMethod(MethodChoice),
    /// Stop waiting for a payment code (nothing has been sent).
    StopWaiting,
    /// 开始投币: the no-change rule is understood; the acceptor opens.
    StartCash,
    /// 结束投币: no more notes; what went in is paid (in part, as the slip says).
    FinishCash,
    /// Try the scanner again after a bad or missing code.
    ScanAgain,
    Receipt(bool),
    Done,
    Another,
    /// 继续办理: more time.
    Extend,
    DismissNotice,
    StaffSignInOpen,
    StaffSubmit,
    StaffPanel,
    StaffBackToCustomer,
    StaffSignOut,
    StaffReprint,
    StaffRewriteCard,
    /// 清机: the cash box is emptied; its count is journaled and printed.
    StaffCollectCash,
    /// 配对: the kiosk joins its fleet hub by the QR the console shows.
    StaffPairHub,
    StaffToggleLayout,
    BlankMirror,
    /// 音量 (the footer's button, or the keypad's #): one step louder, round to the lowest.
    Volume,
    /// The physical keypad's 0 (where digits do not type): focus the screen's next choice.
    FocusNext,
    /// The physical keypad's Clear (where digits do not type): focus the choice before.
    FocusPrevious,
}

impl Intent {
    /// A key of the keypad, or a step of the volume: every tap counts, however quickly it
    /// follows the last.
    pub fn is_keypad(&self) -> bool {
        matches!(
            self,
            Intent::Digit(_)
                | Intent::DeleteDigit
                | Intent::ClearDigits
                | Intent::FocusNext
                | Intent::FocusPrevious
                | Intent::Volume
        )
    }
}

/// A key of the kiosk's physical 12-key keypad (accessibility.md items 20–21): digits, Enter
/// (raised circle), Clear (raised left arrow), Cancel (raised ×), * to hear the screen again,
/// and # for the volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Digit(u8),
    Enter,
    Clear,
    Cancel,
    Repeat,
    Volume,
}

/// The voice's volume steps (accessibility.md item 41): the lowest, then 6, 12 and 18 dB above
/// it — an 18 dB range with a setting 12 dB up; back to the lowest after the loudest, and for
/// every new customer.
pub const VOLUME_STEPS: u8 = 4;
pub const VOLUME_STEP_DB: u8 = 6;

/// Something that happened, fed to [`Session::step`](super::Session::step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Tap(Intent),
    /// Time passes; deadlines are checked.
    Tick,
    /// The bill (or card) the customer asked for.
    Found(Found),
    /// A bill scan named an account; `utility` None when the barcode fits several.
    ScannedAccount {
        utility: Option<Utility>,
        account: String,
    },
    /// A look-up, a scan or a card read failed before any money moved.
    LookupFailed(Notice),
    Progress(PayPhase),
    /// A scan that was not a payment code, or no code in time: nothing was sent.
    CodeProblem(Notice),
    /// The payment could not start (another payment in progress…): no money moved.
    PayRefused(Notice),
    /// The acceptor's news, once on record: the cash in so far, still due, and what happened.
    Cash(CashProgress),
    Finished(Outcome),
    Availability(Availability),
    ReceiptPrinted,
    ReceiptFailed,
    Eject(EjectFeedback),
    StaffSignedIn {
        staff_id: String,
    },
    StaffSignInFailed,
    /// A staff action's result, shown on the staff panel.
    StaffNews(Notice),
    /// A headset was plugged into the jack (true) or pulled out (false): private mode
    /// (accessibility.md item 39).
    Headset(bool),
}

/// What the runtime must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Stop speaking, then say these lines.
    Speak(Vec<String>),
    StopSpeech,
    FetchBill {
        service: Service,
        account: String,
    },
    ScanBill,
    ReadIdCard,
    ReadGasCard,
    ReturnGasCard,
    /// Take the money: build the order from the session's bill (or card and amount).
    Pay {
        method: MethodChoice,
    },
    /// Stop the scanner's wait for a payment code.
    StopScanning,
    /// 结束投币: the acceptor takes no more notes; the intake closes.
    StopCash,
    PrintReceipt,
    /// Check a staff PIN (the runtime knows the staff list; the PIN is never logged).
    CheckStaffPin {
        pin: String,
    },
    /// A staff action by `staff_id` (who may have just signed out).
    Staff {
        staff_id: String,
        action: StaffCommand,
    },
    /// Ring the staff bell (no personal data goes with it).
    CallStaff,
    /// The session ended: wipe every personal detail held outside this machine.
    WipePersonalData,
    /// Set the voice this many dB above its lowest setting.
    SetVolume {
        gain_db: u8,
    },
    /// Send the voice to the headset only (true: the loudspeaker is muted) or to the loudspeaker.
    RouteSpeech {
        headset: bool,
    },
    RefreshAvailability,
}

/// The cash in the acceptor so far, as the journal holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CashProgress {
    pub inserted: Fen,
    pub still_due: Fen,
    pub heard: CashHeard,
}

/// What happened at the acceptor, for the screen and the voice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CashHeard {
    Nothing,
    /// A note of this value was credited.
    Credited(Fen),
    /// A note came back: why, and what to do.
    Returned(Text),
    /// A note is stuck or the box is unavailable: staff are needed.
    NeedsStaff(Text),
}

/// A staff action; every one is journaled with the staff id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffCommand {
    SignedIn,
    SignedOut,
    OpenPanel,
    Reprint,
    RewriteCard,
    CollectCash,
    /// Scan the console's pairing QR and pair with the hub.
    PairHub,
    ToggleLayout,
    BlankMirror(bool),
}
