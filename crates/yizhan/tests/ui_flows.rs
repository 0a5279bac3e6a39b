//! Whole flows through the screens, driven by accessible labels (as a screen reader or a finger
//! would), against the real runtime, journal, channel and biller simulators and device
//! simulators. The clock of the session is moved by hand; the payment runs in real time with the
//! channel timers divided by 100.

#[path = "../../hub/tests/common/mod.rs"]
mod hubkit;
mod support;

use i_slint_backend_testing::{AccessibleLiveness, ElementHandle};
use kiosk_core::session::SessionTiming;
use kiosk_core::{Fen, Ts, Utility};
use kiosk_ui::speech::{Heard, Recorder};
use slint::ComponentHandle;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use support::{wechat_code, Fault, TestKiosk};
use yizhan::hub_link::pairing::HubConnection;
use yizhan::ui::{KioskUi, StaffDirectory, UiOptions};

/// How long a flow may wait for the back end (real time; normally milliseconds).
const WAIT: Duration = Duration::from_secs(20);

struct Kiosk {
    ui: Rc<RefCell<KioskUi>>,
    kiosk: TestKiosk,
    heard: Recorder,
    now: Rc<Cell<i64>>,
    /// Every screen shown, in order (consecutive repeats folded).
    screens: RefCell<Vec<String>>,
    rt: tokio::runtime::Runtime,
}

impl Kiosk {
    fn start() -> Kiosk {
        Kiosk::start_with(|_| None)
    }

    /// A kiosk whose staff panel may pair with the hub `hub` gives it.
    fn start_with(hub: impl FnOnce(&TestKiosk) -> Option<std::sync::Arc<HubConnection>>) -> Kiosk {
        i_slint_backend_testing::init_no_event_loop();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let kiosk = rt.block_on(TestKiosk::start());
        let hub = hub(&kiosk);
        let heard = Recorder::default();
        let now = Rc::new(Cell::new(1_000_000));
        let clock = now.clone();
        let staff: Vec<yizhan::config::StaffMember> = vec![yizhan::config::StaffMember {
            id: "S001".into(),
            // argon2id of "246810", as in config/kiosk.toml.
            pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$kcf6Qe+GI1WGU7idN6r6Fw$m31XgE0zCGLKJhTBIjG4CEKX2Uh4BhjYFKiBJtJ79wU".into(),
            pin_sha256: None,
        }];
        let options = UiOptions {
            portrait: false,
            mirror: true,
            staff: StaffDirectory::new(&staff),
            timing: SessionTiming::default(),
            speaker: Box::new(heard.clone()),
            headset: Some(heard.probe()),
            clock: Box::new(move || Ts(clock.get())),
            demo_customer: false,
            hub,
        };
        let ui = KioskUi::new(kiosk.backend.clone(), rt.handle().clone(), options).unwrap();
        let k = Kiosk { ui, kiosk, heard, now, screens: RefCell::new(vec![]), rt };
        k.wait(|ui| ui.devices_known());
        k.note_screen();
        k
    }

    fn window(&self) -> kiosk_ui::KioskWindow {
        self.ui.borrow().window.clone_strong()
    }

    fn mirror(&self) -> kiosk_ui::MirrorWindow {
        self.ui.borrow().mirror.as_ref().unwrap().clone_strong()
    }

    fn screen(&self) -> String {
        self.ui.borrow().session().screen().code().to_string()
    }

    fn note_screen(&self) {
        let screen = self.screen();
        let mut screens = self.screens.borrow_mut();
        if screens.last() != Some(&screen) {
            screens.push(screen);
        }
    }

    /// Moves the session clock.
    fn advance(&self, ms: i64) {
        self.now.set(self.now.get() + ms);
        self.ui.borrow_mut().pump();
        self.note_screen();
    }

    /// The one enabled element labelled `label` on the touch screen.
    fn find(&self, label: &str) -> ElementHandle {
        let found: Vec<_> = ElementHandle::find_by_accessible_label(&self.window(), label)
            .filter(|e| e.accessible_enabled() != Some(false))
            .collect();
        assert_eq!(found.len(), 1, "one enabled {label:?} on {}; labels: {:?}", self.screen(), self.labels());
        found.into_iter().next().unwrap()
    }

    /// Taps `label` (a second after the last tap, so it is never taken for a repeat).
    fn tap(&self, label: &str) {
        let element = self.find(label);
        self.now.set(self.now.get() + 1_000);
        element.invoke_accessible_default_action();
        self.note_screen();
    }

    fn type_digits(&self, digits: &str) {
        for d in digits.chars() {
            self.tap(&d.to_string());
        }
    }

    fn wait(&self, done: impl Fn(&KioskUi) -> bool) {
        let ok = self.ui.borrow_mut().pump_until(WAIT, done);
        self.note_screen();
        assert!(ok, "timed out on {} ({:?})", self.screen(), self.ui.borrow().session().notice);
    }

    /// A power bill of `due_fen` whose biller takes prepayment, confirmed, 现金 chosen: on the
    /// no-change rule. The simulated acceptor, for the customer's notes.
    fn to_cash_for_a_prepaying_power_bill(&self, due_fen: i64) -> std::sync::Arc<cash::sim::AcceptorSim> {
        let account = support::fresh_account(Utility::Power);
        let seed = serde_json::json!({ "account": account, "amount_due_fen": due_fen, "prepayment": true });
        self.kiosk.sims().billers.get(Utility::Power).sim.put_account(serde_json::from_value(seed).unwrap());
        let sims = &self.kiosk.runtime().devices.sims;
        let sim = std::sync::Arc::clone(sims.cash.as_ref().expect("a simulated acceptor"));
        self.to_confirm(Utility::Power, &account);
        self.tap("确认缴费");
        self.tap("现金");
        sim
    }

    fn wait_for(&self, screen: &str) {
        self.wait(|ui| ui.session().screen().code() == screen);
    }

    fn labels_of(root: &impl i_slint_backend_testing::ElementRoot) -> Vec<String> {
        let mut labels = Vec::new();
        i_slint_backend_testing::ElementQuery::from_root(root)
            .match_descendants()
            .find_all()
            .into_iter()
            .filter_map(|e| e.accessible_label())
            .filter(|l| !l.is_empty())
            .for_each(|l| labels.push(l.to_string()));
        labels
    }

    fn labels(&self) -> Vec<String> {
        Kiosk::labels_of(&self.window())
    }

    fn shows(&self, text: &str) -> bool {
        self.labels().iter().any(|l| l.contains(text))
    }

    /// On the method screen: hold up a fresh WeChat code, tap 付款码支付, wait for the result.
    /// Returns the code and the order number.
    fn pay_by_code(&self) -> (kiosk_core::PaymentCode, String) {
        let code = wechat_code();
        self.kiosk.scanner_sim().present(code.expose());
        self.tap("付款码支付");
        self.wait_for("result");
        (code, self.order())
    }

    fn order(&self) -> String {
        self.ui.borrow().session().outcome().map(|o| o.order_ref.clone()).unwrap_or_default()
    }

    /// Idle → the utility's tile → account typed → bill read back.
    fn to_confirm(&self, utility: Utility, account: &str) {
        self.tap(match utility {
            Utility::Water => "水费",
            Utility::Power => "电费",
            Utility::Gas => "燃气费",
        });
        assert_eq!(self.screen(), "find-account");
        self.type_digits(account);
        self.tap("查询");
        self.wait_for("confirm");
    }

    /// Idle → bill read back, for a fresh account of `utility` owing `due_fen`. Returns the account.
    fn to_confirm_new(&self, utility: Utility, due_fen: i64) -> String {
        let account = self.kiosk.account(utility, due_fen);
        self.to_confirm(utility, &account);
        account
    }

    /// A new kiosk at the read-back bill of a fresh account (`to_confirm_new`), and the account.
    fn at_confirm(utility: Utility, due_fen: i64) -> (Kiosk, String) {
        let k = Kiosk::start();
        let account = k.to_confirm_new(utility, due_fen);
        (k, account)
    }

    /// Staff sign in with the member's PIN, which is never spoken, and reach the staff panel.
    fn sign_in_staff(&self) {
        let said_before = self.heard.transcript().len();
        self.tap("工作人员登录");
        self.type_digits("246810");
        assert!(!self.heard.transcript()[said_before..].contains("2 4 6"), "a PIN is never spoken");
        self.tap("登录");
        self.wait_for("staff-panel");
    }

    /// A key pressed and released on the physical keypad (a second after the last, as `tap`).
    fn press(&self, text: &str) {
        use slint::platform::WindowEvent;
        self.now.set(self.now.get() + 1_000);
        let window = self.window();
        window.window().dispatch_event(WindowEvent::KeyPressed { text: text.into() });
        window.window().dispatch_event(WindowEvent::KeyReleased { text: text.into() });
        self.note_screen();
    }

    /// On find-account: `account` keyed in on the physical keypad and Enter, to the bill read back.
    fn key_in_account(&self, account: &str) {
        for d in account.chars() {
            self.press(&d.to_string());
        }
        self.press("\n");
        self.wait_for("confirm");
    }
}

#[test]
fn a_water_bill_paid_by_scanned_code_with_a_receipt_in_five_screens() {
    let (k, account) = Kiosk::at_confirm(Utility::Water, 8640);
    assert!(k.shows("¥86.40"), "the amount is read back: {:?}", k.labels());
    let masked = kiosk_core::AccountNo::from_trusted(account.clone()).masked();
    assert!(k.shows(&masked) && !k.shows(&account), "the account is shown masked only");
    assert!(k.shows("账期 2026-11"), "the billing period is read back (item 27): {:?}", k.labels());
    assert!(k.heard.transcript().contains("86元4角"), "the amount is spoken");
    k.tap("确认缴费");
    assert_eq!(k.screen(), "method");
    let (code, order) = k.pay_by_code();
    assert_eq!(k.ui.borrow().session().outcome().unwrap().kind, kiosk_core::session::OutcomeKind::Paid);
    assert!(k.shows("缴费成功"));
    assert!(k.shows(&format!("户号 {masked}")) && k.shows("实付金额 ¥86.40"), "restated: {:?}", k.labels());
    assert_eq!(k.kiosk.channel_money(&code, &order).0, vec![Fen(8640)], "charged once");
    assert_eq!(k.kiosk.write_offs(Utility::Water, &format!("{order}-1")), 1);

    let printed_before = k.kiosk.printer_sim().receipts().len();
    k.tap("打印凭条");
    k.wait(|ui| ui.session().receipt() == Some(&kiosk_core::session::ReceiptState::Printed));
    assert_eq!(k.kiosk.printer_sim().receipts().len(), printed_before + 1);
    assert!(k.heard.transcript().contains("请从凭条出口取走"));
    k.tap("完成");
    assert_eq!(k.screen(), "farewell");
    assert!(k.shows("请取走您的凭条。谢谢，再见。"), "a code payment with a receipt: {:?}", k.labels());
    k.tap("完成");
    assert_eq!(k.screen(), "attract");
    let screens = k.screens.borrow().clone();
    let to_result = screens.iter().position(|s| s == "result").unwrap();
    assert!(to_result <= 5, "idle + at most five screens to the result: {screens:?}");
}

#[test]
fn a_joint_bill_pays_every_utility_in_one_payment() {
    let k = Kiosk::start();
    let joint = k.kiosk.household(3000, 12000, 4500);
    k.tap("水电气合缴");
    k.type_digits(&joint);
    k.tap("查询");
    k.wait_for("confirm");
    assert!(k.shows("¥195.00"), "the total is read back: {:?}", k.labels());
    k.tap("确认缴费");
    let (code, order) = k.pay_by_code();
    assert_eq!(k.kiosk.channel_money(&code, &order).0, vec![Fen(19500)]);
    for (i, utility) in [Utility::Water, Utility::Power, Utility::Gas].into_iter().enumerate() {
        assert_eq!(k.kiosk.write_offs(utility, &format!("{order}-{}", i + 1)), 1, "{utility}");
    }
    assert!(k.shows("缴费成功"));
    // Issue 11 item 4: the result restates what was paid — the household masked, each
    // utility's amount and the total — not the bare total alone.
    let masked = kiosk_core::AccountNo::from_trusted(joint.clone()).masked();
    let restated =
        ["户号 ".to_string() + &masked, "户名 李*".into(), "水费 ¥30.00".into(), "电费 ¥120.00".into()]
            .into_iter()
            .chain(["燃气费 ¥45.00".into(), "实付金额 ¥195.00".into()]);
    for line in restated {
        assert!(k.shows(&line), "the result restates {line}: {:?}", k.labels());
    }
    assert!(!k.shows(&joint), "the household's number only masked");
}

#[test]
fn a_gas_card_is_topped_up_and_given_back() {
    let k = Kiosk::start();
    assert!(yizhan::commands::customer::insert_demo_gas_card(&k.kiosk.backend));
    k.tap("燃气卡充值");
    assert!(k.shows("燃气卡充值：请插卡"), "not 查找账户: {:?}", k.labels());
    k.tap("读燃气卡");
    k.wait_for("top-up-amount");
    assert!(k.shows("88******21"), "the card number is masked: {:?}", k.labels());
    k.tap("¥100");
    assert_eq!(k.screen(), "confirm");
    assert!(k.shows("¥100.00"));
    // Issue 11 item 5: a top-up is confirmed as a top-up.
    k.tap("确认充值");
    let (code, order) = k.pay_by_code();
    assert_eq!(k.ui.borrow().session().outcome().unwrap().kind, kiosk_core::session::OutcomeKind::Paid);
    assert_eq!(k.kiosk.channel_money(&code, &order).0, vec![Fen(10000)]);
    let ledger = k.kiosk.sims().billers.gas.sim.ledger();
    let purchase = ledger.purchase(&format!("{order}-1")).expect("a purchase at the gas company");
    assert!(purchase.card_written, "written to the card and confirmed");
    // Said: the card was written, to take it, and to put it into the meter.
    assert!(k.shows("充值成功，燃气已写进您的燃气卡。请取走燃气卡，回家插入燃气表。"), "{:?}", k.labels());
    assert!(k.shows("燃气卡 88******21") && k.shows("实付金额 ¥100.00"), "restated: {:?}", k.labels());
    k.tap("不要凭条");
    k.tap("完成");
    // Only what the customer has: the gas card, no receipt, no bank card.
    assert!(k.shows("请取走您的燃气卡。谢谢，再见。"), "{:?}", k.labels());
    // The card goes back to the gate when the session ends.
    let slot = k.kiosk.backend.runtime.devices.sims.iccard.as_ref().unwrap();
    let at_gate = || slot.position() == iccard::crt310::CardPosition::Gate;
    for _ in 0..100 {
        if at_gate() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(at_gate(), "the gas card is returned");
}

#[test]
fn a_customer_who_never_enters_the_pin_is_told_nothing_was_paid_and_anything_taken_is_back() {
    let (k, _) = Kiosk::at_confirm(Utility::Power, 5000);
    k.tap("确认缴费");
    let code = wechat_code();
    k.kiosk.channel(&code).faults().inject("pay", Fault::UserPaying { ms: None }, 1);
    k.kiosk.scanner_sim().present(code.expose());
    k.tap("付款码支付");
    k.wait(|ui| ui.session().phase() == Some(kiosk_core::session::PayPhase::WaitingForPin));
    assert!(k.shows("请在手机上输入密码"), "{:?}", k.labels());
    // Money is in flight: however long it takes, the session does not time out.
    k.advance(10 * 60 * 1000);
    assert_eq!(k.screen(), "paying");
    k.wait_for("result");
    // The order was cancelled (撤销) while the customer might still have been entering the PIN:
    // a cancel reply does not say whether money had moved, so the customer is told what is
    // certain — nothing was paid, and anything taken is back (issue 9, item 7).
    assert_eq!(
        k.ui.borrow().session().outcome().unwrap().kind,
        kiosk_core::session::OutcomeKind::ReturnedIfTaken
    );
    assert!(k.shows("这次没有缴费") && k.shows("如有扣款，已全部退回"), "{:?}", k.labels());
    assert!(k.heard.transcript().contains("如有扣款"));
    let order = k.order();
    let (charges, reversals, _) = k.kiosk.channel_money(&code, &order);
    assert!(charges.is_empty() && reversals.is_empty(), "no money moved: {charges:?} {reversals:?}");
    assert!(k.find("完成").accessible_label().is_some());
}

#[test]
fn no_paper_is_said_before_paying_and_no_receipt_is_offered() {
    let k = Kiosk::start();
    k.kiosk.printer_sim().set_paper(printer::Paper::Out);
    k.ui.borrow().refresh_status();
    k.wait(|ui| !ui.session().availability.receipt_possible());
    k.to_confirm_new(Utility::Water, 1200);
    k.tap("确认缴费");
    assert!(k.shows("没有纸质凭条"), "said on the method screen: {:?}", k.labels());
    assert!(k.heard.transcript().contains("没有纸质凭条"));
    k.pay_by_code();
    assert!(k.shows("缴费成功"));
    assert!(ElementHandle::find_by_accessible_label(&k.window(), "打印凭条").next().is_none());
    assert!(k.shows("这次没有纸质凭条"));
}

/// Item 27: the bill read back shows the amount, the fee and the total before any money moves.
/// Item 51: 呼叫工作人员 at a kiosk with no hub link journals the call and tells the customer the
/// truth (go to the counter), not that staff are coming.
#[test]
fn the_confirm_screen_shows_amount_fee_and_total_and_calling_staff_tells_the_truth() {
    let k = Kiosk::start();
    k.to_confirm_new(Utility::Water, 1200);
    assert!(k.shows("应付金额 ¥12.00 无手续费 合计 ¥12.00"), "{:?}", k.labels());
    k.tap("呼叫工作人员");
    assert!(k.shows("本机不能直接通知工作人员"), "{:?}", k.labels());
    assert!(!k.shows("已通知工作人员"));
    assert!(k.heard.transcript().contains("请到服务柜台求助"));
    let journal = &k.kiosk.backend.runtime.journal;
    let mut called = vec![];
    for _ in 0..50 {
        let actions = k.rt.block_on(journal.staff_actions(20, 0)).unwrap();
        called = actions.into_iter().filter(|a| a.action == "help.called").collect::<Vec<_>>();
        if !called.is_empty() {
            break;
        }
        k.rt.block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
    }
    assert_eq!(called.len(), 1, "the call is journaled");
    assert!(k.kiosk.backend.runtime.help.open_since().is_some(), "and open until staff come");
    assert!(k.shows("合计"), "the customer is still on the bill: {:?}", k.labels());
}

#[test]
fn the_forced_eject_button_gives_the_id_card_back_mid_read_with_feedback() {
    let k = Kiosk::start();
    let id = k.kiosk.backend.runtime.devices.sims.idcard.clone().unwrap();
    id.set_read_delay(Duration::from_secs(20));
    k.tap("水电气合缴");
    {
        let _inside = k.rt.enter();
        yizhan::commands::customer::insert_id_card_when_allowed(&k.kiosk.backend);
    }
    k.tap("读身份证");
    assert!(k.heard.transcript().contains("按住红色按钮3秒"));
    k.rt.block_on(async { tokio::time::sleep(Duration::from_millis(500)).await });
    id.press_button();
    k.wait(|ui| ui.session().eject == Some(kiosk_core::session::EjectFeedback::Held));
    assert!(k.shows("请继续按住红色按钮3秒"), "feedback at the press: {:?}", k.labels());
    k.wait(|ui| ui.session().eject == Some(kiosk_core::session::EjectFeedback::Ejected));
    id.release_button();
    assert!(k.shows("身份证已退出"), "feedback at the eject: {:?}", k.labels());
    assert!(k.heard.transcript().contains("身份证已退出，请取走"));
    k.wait(|ui| !ui.session().busy());
    assert_eq!(k.screen(), "find-account", "the customer can still type the account");
    assert!(id.take_card().is_some(), "the card is at the gate");
    assert_eq!(id.capture_attempts(), 0);
}

#[test]
fn a_timeout_warning_extended_twice_then_a_timeout_clears_everything() {
    let (k, account) = Kiosk::at_confirm(Utility::Water, 4321);
    let limit = SessionTiming::default().input.as_millis() as i64;
    // The customer's time starts when the screen has been said (issue 11 item 7).
    let said = {
        let ui = k.ui.borrow();
        let session = ui.session();
        kiosk_core::session::speech::spoken_seconds(
            &kiosk_core::session::speech::script(session),
            session.lang,
        )
    };
    let mut speaking = (said * 1_000.0) as i64;
    for _ in 0..2 {
        k.advance(limit - 31_000 + speaking);
        speaking = 0;
        assert!(!k.ui.borrow().session().warning);
        k.advance(1_000);
        let warning = k.find("继续办理");
        let banner = ElementHandle::find_by_accessible_label(
            &k.window(),
            "还剩30秒将自动退出。需要更多时间请按「继续办理」。",
        )
        .next()
        .expect("the warning is on screen");
        assert_eq!(banner.accessible_live_region(), Some(AccessibleLiveness::Assertive));
        // accessibility.md §2 test 6 asks this of the element labelled 继续办理 itself.
        assert_eq!(warning.accessible_live_region(), Some(AccessibleLiveness::Assertive));
        assert!(k.heard.transcript().contains("30秒后将自动退出"), "and spoken");
        drop(warning);
        k.tap("继续办理");
        assert_eq!(k.screen(), "confirm");
    }
    k.advance(limit - 30_000);
    assert!(k.ui.borrow().session().warning);
    k.advance(30_000);
    assert_eq!(k.screen(), "attract");
    let masked = kiosk_core::AccountNo::from_trusted(account.clone()).masked();
    for window_labels in [k.labels(), Kiosk::labels_of(&k.mirror())] {
        assert!(
            !window_labels.iter().any(|l| l.contains(&masked) || l.contains("43.21") || l.contains(&account)),
            "no personal data left: {window_labels:?}"
        );
    }
    let s = k.ui.borrow();
    assert!(
        s.session().stage == kiosk_core::session::Stage::Attract && !s.session().large,
        "nothing of theirs is kept"
    );
}

/// Issue 11, item 1: an 80-year-old types 3,1,0,0,0,0,0,0,5 at a normal pace (0.35 s a tap) on
/// the keypad: every digit counts (the repeat guard is for commit buttons), each is spoken, and
/// the field shows them in groups as they are typed.
#[test]
fn repeated_digits_typed_at_a_normal_pace_all_count_and_show_in_groups() {
    let k = Kiosk::start();
    k.tap("电费");
    assert_eq!(k.screen(), "find-account");
    for d in "310000005".chars() {
        let key = k.find(&d.to_string());
        k.now.set(k.now.get() + 350);
        key.invoke_accessible_default_action();
    }
    assert_eq!(k.ui.borrow().session().account().map(|a| a.digits.as_str()), Some("310000005"));
    assert!(k.shows("户号 3100 0000 5"), "grouped as typed: {:?}", k.labels());
    let transcript = k.heard.transcript();
    let said: Vec<&str> = transcript.lines().collect();
    assert_eq!(said[said.len() - 9..].join(" "), "3 1 0 0 0 0 0 0 5", "each digit spoken");
}

/// Issue 11, item 4: after money moved, 返回 and 取消并退出 are not offered on the result (before,
/// either ended the session at once: no receipt offer, no farewell); the receipt offer is
/// answered, then the farewell.
#[test]
fn the_result_of_a_payment_is_left_through_the_receipt_offer_and_the_farewell_only() {
    let (k, _) = Kiosk::at_confirm(Utility::Power, 4200);
    k.tap("确认缴费");
    k.pay_by_code();
    assert!(k.shows("缴费成功"));
    for label in ["返回", "取消并退出", "再办一笔"] {
        let live = ElementHandle::find_by_accessible_label(&k.window(), label)
            .filter(|e| e.accessible_enabled() != Some(false))
            .count();
        assert_eq!(live, 0, "{label} is not offered on the result of a payment");
    }
    k.tap("不要凭条");
    k.tap("完成");
    assert_eq!(k.screen(), "farewell");
}

/// Issue 11, item 3: a bill with nothing due said ¥0.00 with a live 确认缴费 that did nothing.
/// Now the screen says 本期无欠费, offers no confirm at all, and 返回修改 looks up another account.
#[test]
fn a_bill_with_nothing_due_says_so_and_offers_another_account_instead_of_a_confirm() {
    let (k, _) = Kiosk::at_confirm(Utility::Water, 0);
    assert!(k.shows("本期无欠费"), "{:?}", k.labels());
    assert!(ElementHandle::find_by_accessible_label(&k.window(), "确认缴费").next().is_none());
    assert!(k.heard.transcript().contains("本期无欠费"));
    k.tap("返回修改");
    assert_eq!(k.screen(), "find-account");
}

#[test]
fn a_double_tap_on_confirm_and_on_pay_pays_once() {
    let (k, _) = Kiosk::at_confirm(Utility::Water, 2500);
    let confirm = k.find("确认缴费");
    confirm.invoke_accessible_default_action();
    k.now.set(k.now.get() + 200);
    confirm.invoke_accessible_default_action();
    assert_eq!(k.screen(), "method");
    let code = wechat_code();
    k.kiosk.scanner_sim().present(code.expose());
    let pay = k.find("付款码支付");
    k.now.set(k.now.get() + 1_000);
    pay.invoke_accessible_default_action();
    k.now.set(k.now.get() + 200);
    pay.invoke_accessible_default_action();
    k.wait_for("result");
    let order = k.order();
    assert_eq!(k.kiosk.channel_money(&code, &order).0, vec![Fen(2500)]);
    let rows = k.rt.block_on(k.kiosk.backend.runtime.journal.list(100, 0)).unwrap();
    assert_eq!(rows.len(), 1, "exactly one payment in the journal");
}

#[test]
fn staff_sign_in_shows_a_badge_on_both_screens_and_journals_every_action() {
    let k = Kiosk::start();
    k.sign_in_staff();
    assert!(!k.heard.transcript().contains("2 4 6"), "a PIN is never spoken");
    assert!(k.shows("工作人员帮办中 S001"));
    assert!(
        Kiosk::labels_of(&k.mirror()).iter().any(|l| l.contains("工作人员帮办中 S001")),
        "badge on the mirror"
    );
    // Issue 11 item 6: the devices in the screen's language, never enum names or mixed words.
    assert!(k.shows("打印机 纸量正常"), "device status on the panel: {:?}", k.labels());
    assert!(!k.labels().iter().any(|l| l.contains("Printer") || l.contains("Present")), "{:?}", k.labels());
    k.tap("补打凭条");
    k.wait(|ui| ui.session().notice.is_some());
    k.tap("遮挡副屏");
    assert!(Kiosk::labels_of(&k.mirror()).iter().any(|l| l.contains("副屏已遮挡")));
    k.tap("退出登录");
    k.rt.block_on(async { tokio::time::sleep(Duration::from_millis(300)).await });
    let actions = k.rt.block_on(k.kiosk.backend.runtime.journal.staff_actions(100, 0)).unwrap();
    let names: Vec<_> = actions.iter().map(|a| a.action.as_str()).collect();
    for expected in ["sign-in", "reprint", "blank-mirror", "sign-out"] {
        assert!(names.contains(&expected), "{expected} journaled: {names:?}");
    }
    // Beside the journal's own first record, every action is the signed-in member's.
    let by_staff = actions.iter().filter(|a| a.action != "journal_started");
    assert!(
        by_staff.clone().count() >= 4 && by_staff.into_iter().all(|a| a.staff_id == "S001"),
        "{actions:?}"
    );
}

/// Whether the notice on show is the catalogue's words containing `words` (English msgid).
fn notice_says(ui: &KioskUi, words: &str) -> bool {
    ui.session().notice.as_ref().is_some_and(|n| format!("{:?}", n.text).contains(words))
}

/// 配对 at the staff panel (issue 14): the console's QR held to the scanner pairs the kiosk over
/// mutual TLS and starts its link at once; something else held up is refused with words staff
/// can act on. The journal names the hub's id for the kiosk, never the one-time code.
#[test]
fn staff_pair_the_kiosk_with_its_hub_by_scanning_the_consoles_qr() {
    let hub_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let hub = hub_rt.block_on(hubkit::TestHub::start());
    let ticket = hub_rt.block_on(hub.ticket("SH-TEST-0001")).to_qr_text();
    let url = hub.url();
    let k = Kiosk::start_with(|kiosk| {
        let data = kiosk.dir.path();
        let config_file = support::cli::config_with(data, |body| format!("{body}\n[hub]\nurl = \"{url}\"\n"));
        let config = yizhan::config::KioskConfig::load(&config_file).unwrap();
        let settings = yizhan::hub_link::HubSettings::from_config(&config, &config_file, data).unwrap();
        Some(HubConnection::new(settings))
    });
    k.sign_in_staff();

    k.kiosk.scanner_sim().present("https://example.com/promo");
    k.tap("配对管理平台");
    k.wait(|ui| notice_says(ui, "not a pairing code"));
    assert!(k.shows("这不是配对码"), "{:?}", k.labels());

    k.kiosk.scanner_sim().present(&ticket);
    k.tap("配对管理平台");
    k.wait(|ui| notice_says(ui, "Paired with"));
    assert!(k.shows("已与管理平台配对，终端编号 SH-TEST-0001。"), "{:?}", k.labels());

    // The link is up: the hub hears the kiosk's first heartbeat without a restart.
    let heard = hub_rt.block_on(async {
        for _ in 0..200 {
            let beat: Option<serde_json::Value> =
                sqlx::query_scalar("SELECT last_heartbeat FROM kiosks WHERE id = 'SH-TEST-0001'")
                    .fetch_one(hub.pool())
                    .await
                    .unwrap();
            if beat.is_some() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    });
    assert!(heard, "the kiosk reports to the hub once paired");
    let actions = k.rt.block_on(k.kiosk.backend.runtime.journal.staff_actions(100, 0)).unwrap();
    let paired: Vec<_> =
        actions.iter().filter(|a| a.action == "pair-hub").map(|a| a.detail.as_str()).collect();
    assert!(paired.contains(&"SH-TEST-0001"), "{paired:?}");
    let code = ticket.rsplit("code=").next().unwrap();
    assert!(actions.iter().all(|a| !a.detail.contains(code)), "the one-time code is not journaled");
}

#[test]
fn the_mirror_follows_the_session_and_english_is_one_tap_away() {
    let k = Kiosk::start();
    k.tap("English");
    assert!(k.shows("Water") && k.shows("中文"), "{:?}", k.labels());
    k.tap("Water");
    assert!(Kiosk::labels_of(&k.mirror()).iter().any(|l| l.contains("Water: find your account")));
    // The mirror is a portrait panel, laid out portrait whatever the main screen is.
    let main_portrait = k.window().global::<kiosk_ui::Kiosk<'_>>().get_portrait();
    assert!(!main_portrait, "the demo kiosk is landscape");
    assert!(k.mirror().global::<kiosk_ui::Kiosk<'_>>().get_portrait(), "the mirror is laid out portrait");
    k.tap("Cancel and exit");
    assert_eq!(k.screen(), "attract");
    assert!(k.shows("水费"), "a new session starts in Chinese");
}

/// Accessibility item 41: 音量 on the header and the keypad's # each step the voice 6 dB louder
/// (the speaker is told), the button shows the step, and the next customer starts at the lowest.
#[test]
fn the_volume_button_and_the_hash_key_step_the_voice_and_the_next_customer_starts_quiet() {
    let k = Kiosk::start();
    let gains = || -> Vec<u8> {
        k.heard
            .heard()
            .into_iter()
            .filter_map(|h| match h {
                Heard::Gain(db) => Some(db),
                _ => None,
            })
            .collect()
    };
    k.tap("水费");
    k.tap("音量 1/4");
    assert_eq!(gains(), vec![6]);
    assert!(k.heard.transcript().ends_with("音量2级，共4级"), "{}", k.heard.transcript());
    k.press("#");
    assert_eq!(gains(), vec![6, 12], "the keypad's # is the same control, usable without sight");
    assert_eq!(k.screen(), "find-account", "the volume leaves the customer where they were");
    k.find("音量 3/4");
    assert!(
        !Kiosk::labels_of(&k.mirror()).iter().any(|l| l.starts_with("音量")),
        "the mirror shows no control of its own"
    );
    k.tap("取消并退出");
    assert_eq!(gains(), vec![6, 12, 0], "reset after each customer");
    k.find("音量 1/4");
}

/// Accessibility items 39 and 44: a headset in the jack is private mode. The loudspeaker never
/// says the customer's name or account; the headset does, the speaker is told to route the voice
/// there, and the blank control then hides both screens.
#[test]
fn a_headset_makes_the_voice_private_and_the_blank_control_hides_both_screens() {
    let (k, _) = Kiosk::at_confirm(Utility::Power, 5000);
    let aloud = k.heard.transcript();
    assert!(aloud.contains("户名和户号请看屏幕") && !aloud.contains("户名："), "{aloud}");
    assert!(k.shows("遮挡副屏"), "without a headset the control blanks the mirror only");

    k.heard.clear();
    k.heard.plug(true);
    k.wait(|ui| ui.session().headset);
    assert!(k.heard.heard().contains(&Heard::Route(true)), "{:?}", k.heard.heard());
    k.now.set(k.now.get() + 1_000);
    k.tap("重听");
    let private = k.heard.transcript();
    assert!(private.contains("户名：") && private.contains("户号尾号"), "{private}");

    k.now.set(k.now.get() + 1_000);
    k.tap("遮挡屏幕");
    assert!(k.shows("屏幕已遮挡以保护隐私，语音从耳机播放。"), "{:?}", k.labels());
    assert!(!k.shows("确认缴费"), "the page is hidden: {:?}", k.labels());
    assert!(Kiosk::labels_of(&k.mirror()).iter().any(|l| l == "为保护隐私，副屏已遮挡。"));
    k.now.set(k.now.get() + 1_000);
    k.tap("显示屏幕");
    k.find("确认缴费");

    k.heard.plug(false);
    k.wait(|ui| !ui.session().headset);
    assert!(k.heard.heard().contains(&Heard::Route(false)), "{:?}", k.heard.heard());
    assert!(k.shows("遮挡副屏"));
}

#[test]
fn a_bill_can_be_paid_with_the_physical_keypad_alone() {
    let k = Kiosk::start();
    let account = k.kiosk.account(Utility::Gas, 3870);
    k.press("3");
    assert_eq!(k.screen(), "find-account");
    k.key_in_account(&account);
    k.press("\n");
    assert_eq!(k.screen(), "method");
    let code = wechat_code();
    k.kiosk.scanner_sim().present(code.expose());
    k.press("1");
    k.wait_for("result");
    assert!(k.shows("缴费成功"));
    k.press("2");
    assert_eq!(k.ui.borrow().session().receipt(), Some(&kiosk_core::session::ReceiptState::Declined));
    k.press("\n");
    k.press("\n");
    assert_eq!(k.screen(), "attract");
}

/// Accessibility item 19: a key held down (a tremor, a leaning hand) types its digit once.
#[test]
fn a_held_key_types_its_digit_once() {
    let k = Kiosk::start();
    k.tap("电费");
    assert_eq!(k.screen(), "find-account");
    let window = k.window();
    window.window().dispatch_event(slint::platform::WindowEvent::KeyPressed { text: "7".into() });
    for _ in 0..5 {
        k.now.set(k.now.get() + 100);
        window.window().dispatch_event(slint::platform::WindowEvent::KeyPressRepeated { text: "7".into() });
    }
    window.window().dispatch_event(slint::platform::WindowEvent::KeyReleased { text: "7".into() });
    assert_eq!(k.ui.borrow().session().account().map(|a| a.digits.as_str()), Some("7"));
}

/// Items 34 and 53: the payment code's time limit counts down on screen, announced as it
/// changes.
#[test]
fn the_code_countdown_is_shown_and_announced() {
    let (k, _) = Kiosk::at_confirm(Utility::Water, 1200);
    k.tap("确认缴费");
    k.tap("付款码支付");
    assert_eq!(k.screen(), "paying");
    k.advance(1_000);
    let countdown: Vec<_> = i_slint_backend_testing::ElementQuery::from_root(&k.window())
        .match_descendants()
        .find_all()
        .into_iter()
        .filter(|e| e.accessible_label().is_some_and(|l| l.starts_with("还剩") && l.ends_with('秒')))
        .collect();
    assert!(!countdown.is_empty(), "a countdown: {:?}", k.labels());
    assert!(countdown.iter().all(|e| e.accessible_live_region() == Some(AccessibleLiveness::Assertive)));
}

/// Item 49: 长辈模式 keeps its name when it is on (a ✔ shows, the label does not change), so it
/// can be found and turned off again on any later screen.
#[test]
fn large_text_keeps_its_name_when_on_and_turns_off_again() {
    let k = Kiosk::start();
    let toggle = k.find("长辈模式");
    assert_eq!(toggle.accessible_checked(), Some(false));
    // Item 49: MIIT's name, with the aliases people know it by.
    let aliases = toggle.accessible_description().unwrap_or_default();
    assert!(["关怀版", "亲情版", "关爱版"].iter().all(|a| aliases.contains(a)), "{aliases}");
    k.tap("长辈模式");
    assert!(k.ui.borrow().session().large);
    k.tap("电费");
    assert_eq!(k.find("长辈模式").accessible_checked(), Some(true), "on, under the same name");
    k.tap("长辈模式");
    assert!(!k.ui.borrow().session().large);
    assert_eq!(k.find("长辈模式").accessible_checked(), Some(false));
}

/// Accessibility item 21: without sight, 0 steps through the screen's choices (each said), Enter
/// takes the one in focus, and the focus is ringed on the touch screen and the mirror.
#[test]
fn a_bill_can_be_paid_without_sight_by_stepping_through_the_choices() {
    let k = Kiosk::start();
    let account = k.kiosk.account(Utility::Power, 2640);
    // The ring sits around the focused button and nowhere else, on both screens (the mirror
    // has no footer: its controls are rung on the touch screen only).
    let ringed_on = |label: &str, on_mirror: usize| {
        let button = k.find(label);
        let (bp, bs) = (button.absolute_position(), button.size());
        let rings: Vec<_> = ElementHandle::find_by_element_id(&k.window(), "BigButton::focus-ring")
            .filter(|r| r.is_valid() && r.size().width > 0.0)
            .collect();
        assert_eq!(rings.len(), 1, "one ring on {} for {label:?}", k.screen());
        let (rp, rs) = (rings[0].absolute_position(), rings[0].size());
        assert!(
            rp.x < bp.x
                && rp.y < bp.y
                && rp.x + rs.width > bp.x + bs.width
                && rp.y + rs.height > bp.y + bs.height,
            "the ring ({rp:?} {rs:?}) encloses {label:?} ({bp:?} {bs:?})"
        );
        let mirrored = ElementHandle::find_by_element_id(&k.mirror(), "BigButton::focus-ring")
            .filter(|r| r.is_valid() && r.size().width > 0.0)
            .count();
        assert_eq!(mirrored, on_mirror, "rings on the mirror for {label:?}");
    };
    let ringed = |label: &str| ringed_on(label, 1);
    k.press("0");
    ringed("水费");
    k.press("0");
    ringed("电费");
    k.press("\n");
    assert_eq!(k.screen(), "find-account");
    k.key_in_account(&account);
    k.press("0");
    k.press("0");
    ringed("返回修改");
    // Then the controls every screen has (items 21, 51), and round to the first again.
    k.press("0");
    ringed_on("呼叫工作人员", 0);
    k.press("0");
    ringed_on("长辈模式", 0);
    k.press("0");
    ringed_on("English", 0);
    k.press("0");
    ringed("确认缴费");
    k.press("\n");
    assert_eq!(k.screen(), "method");
    k.kiosk.scanner_sim().present(wechat_code().expose());
    k.press("0");
    ringed("付款码支付");
    k.press("\n");
    k.wait_for("result");
    assert!(k.shows("缴费成功"));
    k.press("0");
    k.press("0");
    ringed("不要凭条");
    k.press("\n");
    assert_eq!(k.ui.borrow().session().receipt(), Some(&kiosk_core::session::ReceiptState::Declined));
    k.press("0");
    ringed("完成");
    k.press("\n");
    assert_eq!(k.screen(), "farewell");
    k.press("\n");
    assert_eq!(k.screen(), "attract");
}

#[test]
fn a_slow_look_up_answered_after_the_customer_left_never_reaches_the_next_customer() {
    let k = Kiosk::start();
    let first = k.kiosk.account(Utility::Water, 1111);
    // The first look-up answers after 1 s; the second after 3 s, so the first answer arrives
    // while the second customer is waiting for theirs.
    let faults = k.kiosk.sims().billers.get(Utility::Water).sim.faults();
    faults.inject("bill", Fault::Delay { ms: 1_000 }, 1);
    faults.inject("bill", Fault::Delay { ms: 3_000 }, 1);
    k.tap("水费");
    k.type_digits(&first);
    k.tap("查询");
    k.tap("取消并退出");
    assert_eq!(k.screen(), "attract");
    // The next customer starts at once and looks up their own bill.
    k.to_confirm_new(Utility::Water, 2222);
    assert!(k.shows("¥22.22") && !k.shows("¥11.11"), "the second customer's own bill: {:?}", k.labels());
}

/// Someone writes into the journal behind the running kiosk: its next write finds a tail it did
/// not chain, no money moves again in this process, and the screen says the kiosk is out of
/// service (every device still works) while staff read why on the panel.
#[test]
fn a_journal_changed_behind_the_kiosk_puts_the_screen_out_of_service() {
    let k = Kiosk::start();
    let journal = k.kiosk.dir.path().join("journal.db");
    k.rt.block_on(async {
        use sqlx::Connection;
        let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", journal.display())).await.unwrap();
        sqlx::query(
            "INSERT INTO payments (id, kiosk_id, created_at, total_fen, channel, state, terminal, parked,
                                   next_deadline, updated_at, last_seq)
             VALUES ('FORGED', 'SH-TEST-0001', 1, 1, 'wechat', 'DONE', 1, 0, NULL, 1, 1)",
        )
        .execute(&mut raw)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO transitions (seq, payment_id, at, from_state, to_state, event, effects, snapshot, prev_hash, hash)
             VALUES (1, 'FORGED', 1, '', 'DONE', 'forged', '[]', '{}', 'beef', 'cafe')",
        )
        .execute(&mut raw)
        .await
        .unwrap();
    });
    let order = k.rt.block_on(k.kiosk.order_for(Utility::Water, 1200));
    let refused = k.rt.block_on(k.kiosk.runtime().pay_order(order, wechat_code(), &yizhan::runtime::Quiet));
    assert!(refused.is_err(), "{refused:?}");
    assert!(k.kiosk.runtime().journal_fault().is_some());
    k.ui.borrow().refresh_status();
    k.wait(|ui| !ui.session().availability.can_take_money());
    assert_eq!(k.screen(), "out-of-service");
    assert!(k.shows("暂停收款"), "{:?}", k.labels());
}

/// Issue 13: cash through the screens. The no-change rule is shown and confirmed before the
/// acceptor opens; a crumpled note comes back with its reason said; each note credited is said
/// with what is in and what is still due; the overpayment is the power account's prepayment.
#[test]
fn a_power_bill_is_paid_in_notes_with_the_rule_first_and_the_rest_prepaid() {
    let k = Kiosk::start();
    let sim = k.to_cash_for_a_prepaying_power_bill(8640);
    assert_eq!(k.screen(), "paying");
    assert!(k.shows("本机不找零：多投的金额将作为预存款存入您的户号。"), "the rule: {:?}", k.labels());
    assert!(k.shows("可收纸币面额（元）：10 · 20 · 50 · 100"), "{:?}", k.labels());
    assert!(k.shows("纸币投入口"), "the picture points at the note slot: {:?}", k.labels());
    assert!(
        Kiosk::labels_of(&k.mirror()).iter().any(|l| l.contains("本机不找零")),
        "the mirror shows the rule"
    );
    assert!(sim.log().stacker.is_empty());

    sim.insert_suspect(0x71);
    for note in [50, 20, 10, 10] {
        sim.insert(note);
    }
    k.tap("开始投币");
    k.wait_for("result");
    let said = k.heard.transcript();
    assert!(said.contains("请将纸币展平后重新放入"), "the crumpled note's reason: {said}");
    assert!(said.contains("已收到50元整。已投入50元整，还需36元4角"), "{said}");
    let outcome = k.ui.borrow().session().outcome().cloned().unwrap();
    assert_eq!(outcome.kind, kiosk_core::session::OutcomeKind::Paid);
    assert_eq!(outcome.amount, Fen(9000), "86.40 due, 90 in notes: 3.60 prepaid");
    let mut boxed = sim.log().stacker;
    boxed.sort();
    assert_eq!(boxed, [10, 10, 20, 50], "every credited note in the box, the crumpled one back");
    assert_eq!(k.kiosk.write_offs(Utility::Power, &format!("{}-1", outcome.order_ref)), 1);
}

/// 结束投币 after one note of a bill the biller takes in part: the note is paid, and the result
/// says "paid in part" with what went in — never "paid" — beside the slip.
#[test]
fn finishing_after_one_note_is_said_as_paid_in_part_never_as_paid() {
    let k = Kiosk::start();
    let sim = k.to_cash_for_a_prepaying_power_bill(8640);
    sim.insert(50);
    k.tap("开始投币");
    k.wait(|_| sim.log().acks >= 1);
    k.wait(|ui| {
        matches!(&ui.session().stage, kiosk_core::session::Stage::Paying(p) if p.cash_inserted() == Fen(5000))
    });
    k.tap("结束投币");
    k.wait_for("result");
    let outcome = k.ui.borrow().session().outcome().cloned().unwrap();
    assert_eq!(outcome.kind, kiosk_core::session::OutcomeKind::PaidInPart);
    assert_eq!(outcome.amount, Fen(5000));
    assert!(k.shows("已部分缴费"), "{:?}", k.labels());
    assert!(!k.shows("已缴费"), "never said as paid: {:?}", k.labels());
    assert_eq!(k.kiosk.write_offs(Utility::Power, &format!("{}-1", outcome.order_ref)), 1);
    let slip = k.kiosk.printer_sim().last_receipt().expect("the part payment slip").text();
    assert!(slip.contains("36.40"), "what is still due: {slip}");
}

/// 结束投币 with nothing in: the acceptor closes, nothing was charged, and the customer chooses
/// again; the staff panel's 清机 counts the box and prints the slip.
#[test]
fn finishing_with_no_note_charges_nothing_and_staff_collect_the_box() {
    let (k, _) = Kiosk::at_confirm(Utility::Water, 5000);
    k.tap("确认缴费");
    k.tap("现金");
    assert!(k.shows("本机不找零：请投入不超过尚需金额的纸币，面额过大的纸币将退回。"), "{:?}", k.labels());
    k.tap("开始投币");
    k.tap("结束投币");
    k.wait_for("method");
    assert!(k.shows("没有收取纸币，未扣款。"), "{:?}", k.labels());

    k.tap("取消并退出");
    k.sign_in_staff();
    assert!(k.shows("纸币器"), "the acceptor on the panel: {:?}", k.labels());
    let slips = k.kiosk.printer_sim().receipts().len();
    k.tap("清机");
    k.wait(|ui| ui.session().notice.is_some());
    assert!(k.shows("清机完成：0 张，¥0.00"), "{:?}", k.labels());
    assert_eq!(k.kiosk.printer_sim().receipts().len(), slips + 1, "the collection slip");
}
