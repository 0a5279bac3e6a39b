//! Every screen in a representative state, made by driving the real session machine with demo
//! data (no runtime, no devices). Used by `yizhan screenshot`, the accessibility tests (every
//! screen × theme × layout) and the speech-script golden file.

use crate::view::{DeviceLine, KioskFacts};
use kiosk_core::session::Text;
use kiosk_core::session::{
    Availability, CashHeard, CashProgress, Found, GasCardInfo, Input, Intent, MethodChoice, Outcome,
    OutcomeKind, PayPhase, ReceiptOutlook, Service, Session,
};
use kiosk_core::{AccountNo, Bill, Fen, JointBill, PastPayment, Ts, Utility};

/// One screen state: a stable name (the file name of its screenshot) and the session.
pub struct Shot {
    pub name: &'static str,
    pub session: Session,
    /// The moment the session is rendered at (for countdowns).
    pub now: Ts,
}

/// The demo facts the staff panel shows.
pub fn demo_facts(portrait: bool) -> KioskFacts {
    let line = |name: Text, status: Text, ok: bool| DeviceLine { name, status, ok };
    KioskFacts {
        devices: vec![
            line(Text::new("Printer"), Text::new("paper near end"), true),
            line(Text::new("Scanner"), Text::new("ready"), true),
            line(Text::new("ID reader"), Text::new("ready"), true),
            line(
                Text::new("IC card slot"),
                Text::with("{0}, {1}", [Text::new("ready"), Text::new("item inside")]),
                true,
            ),
            line(Text::new("Bank card terminal"), Text::new("offline"), false),
            line(
                Text::new("Note acceptor"),
                Text::with(
                    "{0}; {1} notes, {2} in the box",
                    [Text::new("ready"), Text::verbatim("12"), Text::verbatim("¥860.00")],
                ),
                true,
            ),
        ],
        suspense: vec![Text::verbatim("SH-DEMO-0001-20261123-0007 SUSPENSE ¥86.40")],
        portrait,
        has_mirror: true,
    }
}

fn water_bill() -> Bill {
    Bill {
        utility: Utility::Water,
        account: AccountNo::from_trusted("3100000018"),
        bill_id: "W-202611".into(),
        version: 1,
        amount_due: Fen(8640),
        due_date: "2026-12-15".into(),
        period: Some("2026-11".into()),
        holder_masked: "张*明".into(),
        address_masked: "静安区**路**弄**号".into(),
        prepayment: false,
        recent_payments: vec![
            PastPayment { date: "2026-10-14".into(), amount: Fen(7920), channel: "微信".into() },
            PastPayment { date: "2026-09-12".into(), amount: Fen(8115), channel: "银行卡".into() },
        ],
    }
}

/// The notes the demo kiosk's acceptor takes, in fen.
fn cash_notes() -> Vec<Fen> {
    [100, 500, 1000, 2000, 5000, 10_000].map(Fen).to_vec()
}

/// Every device working, the banknote acceptor too.
fn all_working() -> Availability {
    Availability { cash: true, cash_notes: cash_notes(), ..Availability::default() }
}

/// A power bill whose biller keeps cash beyond the amount due as prepayment (预存).
fn power_bill() -> Bill {
    Bill {
        utility: Utility::Power,
        account: AccountNo::from_trusted("4100000027"),
        bill_id: "P-202611".into(),
        amount_due: Fen(21355),
        prepayment: true,
        ..water_bill()
    }
}

fn joint_bill() -> JointBill {
    let sub = |utility, amount| Bill { utility, amount_due: Fen(amount), ..water_bill() };
    JointBill {
        joint_account: AccountNo::from_trusted("9100000016"),
        holder_masked: "张*明".into(),
        bills: vec![sub(Utility::Water, 8640), sub(Utility::Power, 21355), sub(Utility::Gas, 4520)],
    }
}

/// A session driven by taps and news `at` increasing times (taps 1 s apart, so none is a repeat).
struct Driver {
    s: Session,
    at: i64,
}

impl Driver {
    fn new() -> Driver {
        let mut s = Session::default();
        s.service_phone = "021-12345678".into();
        s.step(Input::Availability(all_working()), Ts(0));
        Driver { s, at: 0 }
    }

    fn tap(mut self, intent: Intent) -> Driver {
        self.at += 1_000;
        self.s.step(Input::Tap(intent), Ts(self.at));
        self
    }

    fn news(mut self, input: Input) -> Driver {
        self.at += 10;
        self.s.step(input, Ts(self.at));
        self
    }

    fn shot(self, name: &'static str) -> Shot {
        Shot { name, now: Ts(self.at), session: self.s }
    }

    fn typed(self, service: Service, digits: &str) -> Driver {
        let mut d = self.tap(Intent::Start(service));
        for c in digits.bytes() {
            d = d.tap(Intent::Digit(c - b'0'));
        }
        d
    }

    fn water_confirm() -> Driver {
        Driver::new()
            .typed(Service::Water, "3100000018")
            .tap(Intent::SubmitAccount)
            .news(Input::Found(Found::Bill(water_bill())))
    }

    fn paying() -> Driver {
        Driver::water_confirm().tap(Intent::ConfirmBill).tap(Intent::ChooseMethod(MethodChoice::Code))
    }

    /// A power bill (prepayment taken) at the cash rule, before the first note.
    fn cash_rule() -> Driver {
        Driver::new()
            .typed(Service::Power, "4100000027")
            .tap(Intent::SubmitAccount)
            .news(Input::Found(Found::Bill(power_bill())))
            .tap(Intent::ConfirmBill)
            .tap(Intent::ChooseMethod(MethodChoice::Cash))
    }

    /// Cash going in: a 100-yuan note credited, ¥113.55 still due.
    fn cash_taking() -> Driver {
        let credited = CashProgress {
            inserted: Fen(10_000),
            still_due: Fen(11_355),
            heard: CashHeard::Credited(Fen(10_000)),
        };
        Driver::cash_rule().tap(Intent::StartCash).news(Input::Cash(credited))
    }

    fn result(kind: OutcomeKind) -> Driver {
        let outcome = Outcome {
            kind,
            order_ref: "SH-DEMO-0001-20261123-0012".into(),
            amount: Fen(8640),
            slip_printed: kind == OutcomeKind::Suspense,
            card_kept: false,
        };
        Driver::paying().news(Input::Progress(PayPhase::WritingOff)).news(Input::Finished(outcome))
    }

    /// Paid by bank card, a receipt printed: the farewell points at the card and the paper.
    fn bank_card_farewell() -> Driver {
        let outcome = Outcome {
            kind: OutcomeKind::Paid,
            order_ref: "SH-DEMO-0001-20261123-0014".into(),
            amount: Fen(8640),
            slip_printed: false,
            card_kept: false,
        };
        Driver::water_confirm()
            .tap(Intent::ConfirmBill)
            .tap(Intent::ChooseMethod(MethodChoice::BankCard))
            .news(Input::Progress(PayPhase::WritingOff))
            .news(Input::Finished(outcome))
            .tap(Intent::Receipt(true))
            .news(Input::ReceiptPrinted)
            .tap(Intent::Done)
    }

    /// A joint bill paid: the result restates each utility (the longest result screen).
    fn joint_paid() -> Driver {
        let outcome = Outcome {
            kind: OutcomeKind::Paid,
            order_ref: "SH-DEMO-0001-20261123-0013".into(),
            amount: joint_bill().total().unwrap_or_default(),
            slip_printed: false,
            card_kept: false,
        };
        Driver::new()
            .typed(Service::Joint, "9100000016")
            .tap(Intent::SubmitAccount)
            .news(Input::Found(Found::Joint(joint_bill())))
            .tap(Intent::ConfirmBill)
            .tap(Intent::ChooseMethod(MethodChoice::Code))
            .news(Input::Progress(PayPhase::WritingOff))
            .news(Input::Finished(outcome))
    }
}

/// Every screen, in the states worth looking at.
pub fn shots() -> Vec<Shot> {
    let degraded = Availability { scanner: false, receipt: ReceiptOutlook::Unavailable, ..all_working() };
    let nothing = Availability { scanner: false, bank_card: false, cash: false, ..all_working() };
    let cash_only = Availability { scanner: false, bank_card: false, ..all_working() };
    let returned = CashProgress {
        inserted: Fen(10_000),
        still_due: Fen(11_355),
        heard: CashHeard::Returned(Text::new("Please smooth the note flat and insert it again")),
    };
    let gas_card = GasCardInfo {
        card_masked: "88******21".into(),
        account: AccountNo::from_trusted("3300000035"),
        purchase_count: 3,
    };
    let mut timeout = Driver::water_confirm();
    let warn_at = timeout.s.deadline().map_or(0, |d| d.0 - 25_000);
    timeout.at = warn_at;
    let timeout = timeout.news(Input::Tick);
    vec![
        Driver::new().shot("01-attract"),
        Driver::new().news(Input::Availability(degraded.clone())).shot("02-attract-degraded"),
        Driver::new().typed(Service::Water, "31000").shot("03-find-account"),
        Driver::new()
            .tap(Intent::Start(Service::Joint))
            .tap(Intent::ReadIdCard)
            .shot("03-find-account-id-card"),
        Driver::new().tap(Intent::Start(Service::GasCard)).shot("04-find-account-gas-card"),
        Driver::new()
            .tap(Intent::Start(Service::GasCard))
            .tap(Intent::InsertGasCard)
            .news(Input::Found(Found::GasCard(gas_card)))
            .shot("05-top-up-amount"),
        Driver::water_confirm().shot("06-confirm"),
        Driver::water_confirm().tap(Intent::FocusNext).shot("06-confirm-keypad-focus"),
        // Private mode (a headset in): the blank control is offered, then used (both hidden).
        Driver::water_confirm().news(Input::Headset(true)).shot("06-confirm-private"),
        Driver::water_confirm()
            .news(Input::Headset(true))
            .tap(Intent::BlankMirror)
            .shot("06-confirm-private-hidden"),
        Driver::new()
            .typed(Service::Joint, "9100000016")
            .tap(Intent::SubmitAccount)
            .news(Input::Found(Found::Joint(joint_bill())))
            .shot("07-confirm-joint"),
        Driver::water_confirm()
            .news(Input::Availability(degraded))
            .tap(Intent::ConfirmBill)
            .shot("08-method-no-paper"),
        Driver::cash_rule()
            .news(Input::Availability(cash_only))
            .tap(Intent::Back)
            .shot("08-method-cash-only"),
        Driver::paying().shot("09-paying-code"),
        Driver::cash_rule().shot("09-paying-cash-rule"),
        Driver::cash_taking().shot("09-paying-cash"),
        Driver::cash_taking().news(Input::Cash(returned)).shot("09-paying-cash-returned"),
        Driver::paying().news(Input::Progress(PayPhase::WaitingForPin)).shot("10-paying-pin"),
        Driver::water_confirm()
            .tap(Intent::ConfirmBill)
            .tap(Intent::ChooseMethod(MethodChoice::BankCard))
            .news(Input::Progress(PayPhase::WaitingForCardPin))
            .shot("10-paying-bank-card"),
        Driver::result(OutcomeKind::Paid).shot("11-result-paid"),
        Driver::joint_paid().shot("11-result-paid-joint"),
        Driver::result(OutcomeKind::NotCharged).shot("12-result-not-charged"),
        Driver::result(OutcomeKind::Suspense).shot("13-result-suspense"),
        Driver::bank_card_farewell().shot("14-farewell"),
        Driver::new().news(Input::Availability(nothing)).shot("15-out-of-service"),
        Driver::new()
            .tap(Intent::StaffSignInOpen)
            .tap(Intent::Digit(2))
            .tap(Intent::Digit(4))
            .shot("16-staff-sign-in"),
        Driver::new()
            .tap(Intent::StaffSignInOpen)
            .tap(Intent::Digit(2))
            .tap(Intent::StaffSubmit)
            .news(Input::StaffSignedIn { staff_id: "S001".into() })
            .shot("17-staff-panel"),
        timeout.shot("18-timeout-warning"),
    ]
}
