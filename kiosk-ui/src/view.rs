//! The view model: the session (and what the runtime knows of the devices) turned into the
//! properties of the window's globals — `Kiosk` for the frame every screen shares, and one
//! adapter per screen fed from that screen's stage (`Stage::Confirm(order)` → `ConfirmAdapter`).
//! The screens render these and nothing else; no rule about money or flow lives here or in the
//! .slint files.

use crate::taps;
use crate::{
    AttractAdapter, ConfirmAdapter, DeviceRow, Fact, FindAccountAdapter, HandsOn, Kiosk, MethodAdapter,
    OutOfServiceAdapter, OutcomeName, PayingAdapter, ReceiptOffer, ResultAdapter, ScreenName, ServiceName,
    StaffPanelAdapter, StaffSignInAdapter, TopUpAdapter,
};
use kiosk_core::session::words::tr;
use kiosk_core::session::{
    speech, words, AccountEntry, Ending, Found, Intent, Lang, MethodChoice, NoticeKind, Order, OutcomeKind,
    PayPhase, ReceiptState, Screen, Service, Session, Stage, Text,
};
use kiosk_core::{Fen, Ts};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

/// What the screens show that the session machine does not hold: the staff panel's device list
/// and payments in suspense, and the kiosk's own set-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KioskFacts {
    pub devices: Vec<DeviceLine>,
    /// Order numbers (and amounts) of payments in suspense, for the staff panel.
    pub suspense: Vec<Text>,
    pub portrait: bool,
    pub has_mirror: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceLine {
    pub name: Text,
    pub status: Text,
    pub ok: bool,
}

/// The globals of one window: the frame (`Kiosk`) and one adapter per screen. Both windows
/// have their own.
pub struct Adapters<'a> {
    pub kiosk: Kiosk<'a>,
    pub attract: AttractAdapter<'a>,
    pub find_account: FindAccountAdapter<'a>,
    pub top_up: TopUpAdapter<'a>,
    pub confirm: ConfirmAdapter<'a>,
    pub method: MethodAdapter<'a>,
    pub paying: PayingAdapter<'a>,
    pub result: ResultAdapter<'a>,
    pub out_of_service: OutOfServiceAdapter<'a>,
    pub staff_sign_in: StaffSignInAdapter<'a>,
    pub staff_panel: StaffPanelAdapter<'a>,
}

/// A window that renders the kiosk's screens: the touch screen or the mirror.
pub trait Screens {
    fn adapters(&self) -> Adapters<'_>;
}

macro_rules! screens_of {
    ($window:ty) => {
        impl Screens for $window {
            fn adapters(&self) -> Adapters<'_> {
                Adapters {
                    kiosk: self.global(),
                    attract: self.global(),
                    find_account: self.global(),
                    top_up: self.global(),
                    confirm: self.global(),
                    method: self.global(),
                    paying: self.global(),
                    result: self.global(),
                    out_of_service: self.global(),
                    staff_sign_in: self.global(),
                    staff_panel: self.global(),
                }
            }
        }
    };
}
screens_of!(crate::KioskWindow);
screens_of!(crate::MirrorWindow);

impl<T: Screens> Screens for &T {
    fn adapters(&self) -> Adapters<'_> {
        (**self).adapters()
    }
}

/// Sets every global of `window` from the session at `now`. Every adapter is set on every call:
/// from the customer's stage when it is that screen's (also under a staff screen, which hides
/// it), else to empty values — so no preview default (ui/pages/*.slint) is ever shown and no
/// screen keeps the last customer's data.
pub fn apply(window: &impl Screens, s: &Session, facts: &KioskFacts, now: Ts) {
    let a = window.adapters();
    frame(&a.kiosk, s, facts, now);
    attract(&a.attract, s);
    find_account(&a.find_account, s);
    top_up(&a.top_up, s);
    confirm(&a.confirm, s);
    method(&a.method, s);
    paying(&a.paying, s, now);
    result(&a.result, s);
    a.out_of_service.set_service_phone(s.service_phone.clone().into());
    a.out_of_service.set_degraded(degraded_on(s, Screen::OutOfService));
    staff(&a.staff_sign_in, &a.staff_panel, s, facts);
}

/// What is withdrawn, in words, for the screens that say it — only while `screen` is on show.
fn degraded_on(s: &Session, screen: Screen) -> ModelRc<SharedString> {
    let mut lines = match s.screen() == screen {
        true => words::degraded_on(screen, &s.availability, s.lang),
        false => Vec::new(),
    };
    if screen == Screen::Method && s.screen() == screen {
        lines.extend(words::cash_not_payable_here(s));
    }
    model(lines.into_iter().map(SharedString::from).collect())
}

fn attract(g: &AttractAdapter<'_>, s: &Session) {
    let available = &s.availability;
    g.set_water_ok(available.service(Service::Water));
    g.set_power_ok(available.service(Service::Power));
    g.set_gas_ok(available.service(Service::Gas));
    g.set_joint_ok(available.service(Service::Joint));
    g.set_gas_card_ok(available.service(Service::GasCard));
    g.set_degraded(degraded_on(s, Screen::Attract));
    let ways = match s.screen() {
        Screen::Attract => words::ways_to_pay(available, &s.service_phone, s.lang),
        _ => Vec::new(),
    };
    g.set_ways_to_pay(speech::utterance(&ways, s.lang).into());
}

fn find_account(g: &FindAccountAdapter<'_>, s: &Session) {
    let finding = match &s.stage {
        Stage::FindAccount(finding) => Some(finding),
        _ => None,
    };
    g.set_service(service_name(finding.map(|f| f.service)));
    g.set_account_input(finding.map(|f| shown_account(&f.account)).unwrap_or_default().into());
    g.set_busy(s.busy());
    g.set_scanner_ok(s.availability.scanner);
    g.set_id_card_ok(s.availability.id_card);
}

fn top_up(g: &TopUpAdapter<'_>, s: &Session) {
    let rows = match &s.stage {
        Stage::TopUpAmount(order) => bill_rows(order, s.lang),
        _ => Vec::new(),
    };
    g.set_facts(model(rows));
}

fn confirm(g: &ConfirmAdapter<'_>, s: &Session) {
    let order = match &s.stage {
        Stage::Confirm(order) => Some(order),
        _ => None,
    };
    g.set_facts(model(order.map(|o| bill_rows(o, s.lang)).unwrap_or_default()));
    g.set_amount(amount_text(order.and_then(|o| o.amount())).into());
    g.set_nothing_due(s.nothing_due());
    g.set_top_up(order.is_some_and(|o| o.service == Service::GasCard));
}

fn method(g: &MethodAdapter<'_>, s: &Session) {
    let order = match &s.stage {
        Stage::Method(order) => Some(order),
        _ => None,
    };
    g.set_amount(amount_text(order.and_then(|o| o.amount())).into());
    g.set_scanner_ok(s.availability.codes());
    g.set_bank_card_ok(s.availability.bank_card);
    g.set_has_cash(!s.availability.cash_notes.is_empty());
    g.set_cash_ok(s.cash_payable());
    g.set_cash_only(s.availability.cash_first());
    g.set_degraded(degraded_on(s, Screen::Method));
}

fn paying(g: &PayingAdapter<'_>, s: &Session, now: Ts) {
    let payment = match &s.stage {
        Stage::Paying(payment) => Some(payment),
        _ => None,
    };
    g.set_amount(amount_text(payment.and_then(|p| p.order.amount())).into());
    let mut phase_text = payment.map_or("", |p| words::paying_words(p.phase, s.lang)).to_string();
    if payment.is_some_and(|p| p.phase == Some(PayPhase::TakingCash)) {
        // Which notes go in, beside where they go (the rule's box is gone once notes go in).
        let notes = words::notes_taken(&s.availability.cash_notes, s.lang);
        phase_text = speech::utterance(&[phase_text, notes], s.lang);
    }
    g.set_phase_text(phase_text.into());
    let countdown = match payment.and_then(|p| p.phase) {
        Some(PayPhase::WaitingForCode { until_ms }) => ((until_ms - now.0).max(0) + 999) / 1000,
        _ => -1,
    };
    g.set_countdown(countdown as i32);
    // Only the wait for a code can be stopped here: a bank card payment is the terminal's to
    // end (its own time-out, or its cancel key), and the session follows it.
    g.set_can_stop_waiting(s.allowed(&Intent::StopWaiting));
    g.set_can_scan_again(s.allowed(&Intent::ScanAgain));
    cash(g, s, payment);
}

/// The cash panel of the paying screen: the rule before the first note, then the amounts.
fn cash(g: &PayingAdapter<'_>, s: &Session, payment: Option<&kiosk_core::session::Payment>) {
    let lang = s.lang;
    let cash = payment.filter(|p| p.method == MethodChoice::Cash);
    g.set_cash(cash.is_some());
    let rule = match cash {
        Some(p) if p.phase == Some(PayPhase::CashRule) => {
            words::cash_rule(p.order.cash_overpay_prepaid(), &s.availability.cash_notes, lang)
        }
        _ => Vec::new(),
    };
    g.set_cash_rule(model(rule.into_iter().map(SharedString::from).collect()));
    let progress = cash.and_then(|p| p.cash.as_ref());
    let taking = cash.is_some_and(|p| p.phase == Some(PayPhase::TakingCash));
    let inserted = progress.map_or(Fen::ZERO, |c| c.inserted);
    let still_due =
        progress.map_or_else(|| cash.and_then(|p| p.order.amount()).unwrap_or_default(), |c| c.still_due);
    g.set_cash_inserted(if taking { inserted.to_string() } else { String::new() }.into());
    g.set_cash_still_due(if taking { still_due.to_string() } else { String::new() }.into());
    g.set_can_start_cash(s.allowed(&Intent::StartCash));
    g.set_can_finish_cash(s.allowed(&Intent::FinishCash));
}

fn result(g: &ResultAdapter<'_>, s: &Session) {
    let ending = match &s.stage {
        Stage::Result(ending) => Some(ending),
        _ => None,
    };
    g.set_outcome(ending.map_or(OutcomeName::None, |e| outcome_name(e.outcome.kind)));
    g.set_outcome_text(if ending.is_some() { words::result_words(s) } else { String::new() }.into());
    g.set_order_ref(ending.map(|e| e.outcome.order_ref.clone()).unwrap_or_default().into());
    g.set_receipt(ending.map_or(ReceiptOffer::Unavailable, |e| receipt_offer(&e.receipt)));
    g.set_facts(model(ending.map(|e| result_rows(e, s)).unwrap_or_default()));
    g.set_closes(words::result_closes(s).unwrap_or_default().into());
}

/// The staff screens: the PIN as dots, the devices and the payments in suspense.
fn staff(sign_in: &StaffSignInAdapter<'_>, panel: &StaffPanelAdapter<'_>, s: &Session, facts: &KioskFacts) {
    let lang = s.lang;
    sign_in.set_pin_mask("●".repeat(s.pin().chars().count()).into());
    let devices = facts.devices.iter().map(|d| DeviceRow {
        name: d.name.in_lang(lang).into(),
        status: d.status.in_lang(lang).into(),
        ok: d.ok,
    });
    panel.set_devices(model(devices.collect()));
    let suspense = facts.suspense.iter().map(|l| SharedString::from(l.in_lang(lang)));
    panel.set_suspense(model(suspense.collect()));
}

/// The frame every screen shares: header, prompt, notices, footer, focus, privacy, the picture.
fn frame(kiosk: &Kiosk<'_>, s: &Session, facts: &KioskFacts, now: Ts) {
    let lang = s.lang;
    let screen = s.screen();
    kiosk.set_screen(screen_name(screen));
    kiosk.set_portrait(facts.portrait);
    kiosk.set_has_mirror(facts.has_mirror);
    kiosk.set_title(words::title(s).into());
    kiosk.set_step(words::step_of(screen, s.service(), lang).unwrap_or_default().into());
    kiosk.set_prompt(words::prompt(s).into());
    kiosk.set_notice(s.notice.as_ref().map(|n| n.in_lang(lang)).unwrap_or_default().into());
    kiosk.set_notice_error(s.notice.as_ref().is_some_and(|n| n.kind == NoticeKind::Error));
    kiosk.set_warning(s.warning);
    kiosk.set_seconds_left(s.seconds_left(now).unwrap_or(0) as i32);
    // Enabled only where they act: greyed on the start screen, during a look-up, while money
    // moves (the footer keeps them in place on every screen, item 26).
    kiosk.set_can_leave(s.allowed(&Intent::Exit));
    kiosk.set_can_go_back(s.allowed(&Intent::Back));
    kiosk.set_volume(i32::from(s.volume));
    let focus = s.focused_choice().and_then(|choice| taps::tap_of(&choice));
    kiosk.set_has_focus(focus.is_some());
    if let Some((action, arg)) = focus {
        kiosk.set_focus_action(action);
        kiosk.set_focus_arg(arg);
    }
    let hands = s.hands_on();
    kiosk.set_hands_on(HandsOn {
        scan_window: hands.scan_window,
        id_slot: hands.id_slot,
        ic_slot: hands.ic_slot,
        card_terminal: hands.card_terminal,
        receipt_exit: hands.receipt_exit,
        note_slot: hands.note_slot,
        any: hands.any(),
    });
    kiosk.set_eject_text(s.eject.map(|e| speech::eject_line(e, lang)).unwrap_or_default().into());
    kiosk.set_staff_id(s.staff.clone().unwrap_or_default().into());
    kiosk.set_mirror_blanked(s.mirror_blanked);
    kiosk.set_headset(s.headset);
    kiosk.set_screen_blanked(s.screen_blanked());
}

/// The account as the find-account screen shows it: typed digits grouped as typed, so a
/// doubled or missing digit shows; a number read from a card or a bill, masked.
fn shown_account(account: &AccountEntry) -> String {
    match account.read {
        true => kiosk_core::utility::mask_middle(&account.digits, 2, 4),
        false => kiosk_core::utility::group_digits(&account.digits),
    }
}

fn amount_text(amount: Option<Fen>) -> String {
    amount.map(|a| a.to_string()).unwrap_or_default()
}

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

/// The screen, as the .slint files name it.
fn screen_name(screen: Screen) -> ScreenName {
    match screen {
        Screen::Attract => ScreenName::Attract,
        Screen::FindAccount => ScreenName::FindAccount,
        Screen::TopUpAmount => ScreenName::TopUpAmount,
        Screen::Confirm => ScreenName::Confirm,
        Screen::Method => ScreenName::Method,
        Screen::Paying => ScreenName::Paying,
        Screen::Result => ScreenName::Result,
        Screen::Farewell => ScreenName::Farewell,
        Screen::OutOfService => ScreenName::OutOfService,
        Screen::StaffSignIn => ScreenName::StaffSignIn,
        Screen::StaffPanel => ScreenName::StaffPanel,
    }
}

fn service_name(service: Option<Service>) -> ServiceName {
    match service {
        None => ServiceName::None,
        Some(Service::Water) => ServiceName::Water,
        Some(Service::Power) => ServiceName::Power,
        Some(Service::Gas) => ServiceName::Gas,
        Some(Service::Joint) => ServiceName::Joint,
        Some(Service::GasCard) => ServiceName::GasCard,
    }
}

fn outcome_name(kind: OutcomeKind) -> OutcomeName {
    match kind {
        OutcomeKind::Paid => OutcomeName::Paid,
        OutcomeKind::PartlyRefunded => OutcomeName::PartlyRefunded,
        OutcomeKind::NotCharged => OutcomeName::NotCharged,
        OutcomeKind::Refunded => OutcomeName::Refunded,
        OutcomeKind::ReturnedIfTaken => OutcomeName::ReturnedIfTaken,
        OutcomeKind::RefundAccepted => OutcomeName::RefundAccepted,
        OutcomeKind::Suspense => OutcomeName::Suspense,
        OutcomeKind::CardNotWritten => OutcomeName::CardNotWritten,
        OutcomeKind::PaidInPart => OutcomeName::PaidInPart,
    }
}

fn receipt_offer(r: &ReceiptState) -> ReceiptOffer {
    match r {
        ReceiptState::Offered => ReceiptOffer::Offered,
        ReceiptState::Printing => ReceiptOffer::Printing,
        ReceiptState::Printed => ReceiptOffer::Printed,
        ReceiptState::Declined => ReceiptOffer::Declined,
        ReceiptState::Unavailable => ReceiptOffer::Unavailable,
    }
}

/// The bill's facts as label/value rows for the top-up and confirm screens: payee, masked
/// holder and account, address, billing period, due date, the last payment (the amount due has
/// its own place, `AmountDue`). Labels follow the session's language.
fn bill_rows(order: &Order, lang: Lang) -> Vec<Fact> {
    let row = |label: SharedString, value: String, key: bool| Fact { label, value: value.into(), key };
    let mut rows = Vec::new();
    match &order.found {
        Found::Bill(bill) => {
            let paying = words::utility_name(bill.utility, lang).into();
            rows.extend(payee_rows(lang, paying, bill.account.masked(), &bill.holder_masked));
            rows.push(row(tr(lang, "Address").into(), bill.address_masked.clone(), false));
            if let Some(period) = &bill.period {
                rows.push(row(tr(lang, "Billing period").into(), period.clone(), false));
            }
            rows.push(row(tr(lang, "Due date").into(), bill.due_date.clone(), false));
            // The last payment, to recognise the usual amount. One, on one line: two (joined,
            // wrapping) pushed the rows below onto the prompt on the mirror, and a row more
            // pushes them under the footer in 长辈模式 landscape.
            if let Some(last) = bill.recent_payments.first() {
                rows.push(row(tr(lang, "Last paid").into(), format!("{} {}", last.date, last.amount), false));
            }
        }
        Found::Joint(joint) => {
            let paying = words::service_name(Service::Joint, lang).into();
            rows.extend(payee_rows(lang, paying, joint.joint_account.masked(), &joint.holder_masked));
            for bill in &joint.bills {
                rows.push(row(
                    words::utility_name(bill.utility, lang).into(),
                    format!("{}  ({} {})", bill.amount_due, tr(lang, "due"), bill.due_date),
                    false,
                ));
            }
        }
        Found::GasCard(card) => {
            rows.push(row(tr(lang, "Gas card").into(), card.card_masked.clone(), true));
            rows.push(row(tr(lang, "Account").into(), card.account.masked(), true));
        }
    }
    rows
}

/// What is paid and for whom: the three rows the confirm screen and the result share. 缴费项目
/// and 户号 are key facts wherever they stand (item 4: ≥ 1.3× the body size).
fn payee_rows(lang: Lang, paying: String, account: String, holder: &str) -> [Fact; 3] {
    let row = |label: &str, value: String, key: bool| Fact { label: label.into(), value: value.into(), key };
    [
        row(tr(lang, "Paying for"), paying, true),
        row(tr(lang, "Account"), account, true),
        row(tr(lang, "Name"), holder.to_string(), false),
    ]
}

/// What the result restates (issue 11 item 4): what was paid, for whom (户号 and 户名 masked),
/// each utility of a joint bill, and the total — so the customer leaves knowing what happened
/// without the receipt. Each utility's amount only when all were paid: the outcome does not
/// say which line of a partly paid or refunded joint bill went where (the receipt does).
fn result_rows(ending: &Ending, s: &Session) -> Vec<Fact> {
    let lang = s.lang;
    let row = |label: SharedString, value: String, key: bool| Fact { label, value: value.into(), key };
    let outcome = &ending.outcome;
    let mut rows = Vec::new();
    match &ending.order.found {
        Found::Bill(bill) => {
            let paying = words::utility_name(bill.utility, lang).into();
            rows.extend(payee_rows(lang, paying, bill.account.masked(), &bill.holder_masked));
        }
        Found::Joint(joint) => {
            let paying = words::service_name(Service::Joint, lang).into();
            rows.extend(payee_rows(lang, paying, joint.joint_account.masked(), &joint.holder_masked));
            let paid_whole = outcome.kind == OutcomeKind::Paid;
            for bill in joint.bills.iter().filter(|b| paid_whole && b.amount_due.is_positive()) {
                rows.push(row(
                    words::utility_name(bill.utility, lang).into(),
                    bill.amount_due.to_string(),
                    false,
                ));
            }
        }
        Found::GasCard(card) => {
            rows.push(row(
                tr(lang, "Paying for").into(),
                words::service_name(Service::GasCard, lang).into(),
                true,
            ));
            rows.push(row(tr(lang, "Gas card").into(), card.card_masked.clone(), false));
            rows.push(row(tr(lang, "Account").into(), card.account.masked(), true));
        }
    }
    let total = match outcome.kind {
        OutcomeKind::Paid => tr(lang, "Total paid").into(),
        _ => tr(lang, "Amount").into(),
    };
    rows.push(row(total, outcome.amount.to_string(), true));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::shots;

    fn rows_of(name: &str, kind: Option<OutcomeKind>) -> Vec<(String, String)> {
        let mut shot = shots().into_iter().find(|s| s.name == name).expect("a gallery shot");
        let Stage::Result(ending) = &mut shot.session.stage else { panic!("{name} is a result") };
        if let Some(kind) = kind {
            ending.outcome.kind = kind;
        }
        let ending = ending.clone();
        let rows = result_rows(&ending, &shot.session);
        rows.into_iter().map(|f| (f.label.to_string(), f.value.to_string())).collect()
    }

    /// Issue 11 item 4: the result restates what was paid; each utility's amount only when the
    /// whole joint bill was paid, and the total is 实付金额 only then.
    #[test]
    fn the_result_restates_the_payment_and_claims_only_what_was_paid() {
        let paid = rows_of("11-result-paid-joint", None);
        for row in [("户号", "91****0016"), ("户名", "张*明"), ("电费", "¥213.55"), ("实付金额", "¥345.15")]
        {
            assert!(paid.contains(&(row.0.into(), row.1.into())), "{row:?} in {paid:?}");
        }
        for kind in [OutcomeKind::PartlyRefunded, OutcomeKind::Refunded, OutcomeKind::Suspense] {
            let rows = rows_of("11-result-paid-joint", Some(kind));
            assert!(rows.iter().all(|(l, _)| l != "电费" && l != "实付金额"), "{kind:?}: {rows:?}");
            assert!(rows.contains(&("金额".into(), "¥345.15".into())), "{kind:?}: {rows:?}");
        }
        let not_charged = rows_of("12-result-not-charged", None);
        assert!(not_charged.contains(&("金额".into(), "¥86.40".into())), "{not_charged:?}");
    }

    /// What each adapter holds, as text: its data-bearing properties (slint::Model rows counted).
    fn held(window: &crate::KioskWindow) -> Vec<(&'static str, String)> {
        use slint::Model;
        let a = window.adapters();
        vec![
            ("find-account account", a.find_account.get_account_input().to_string()),
            ("top-up facts", a.top_up.get_facts().row_count().to_string()),
            ("confirm facts", a.confirm.get_facts().row_count().to_string()),
            ("confirm amount", a.confirm.get_amount().to_string()),
            ("method amount", a.method.get_amount().to_string()),
            ("paying amount", a.paying.get_amount().to_string()),
            ("paying phase", a.paying.get_phase_text().to_string()),
            ("result order", a.result.get_order_ref().to_string()),
            ("result text", a.result.get_outcome_text().to_string()),
            ("result facts", a.result.get_facts().row_count().to_string()),
        ]
    }

    /// The adapters' preview defaults (a water bill being paid, ui/pages/*.slint) never reach a
    /// customer: apply() sets every adapter, the screens not on show to their empty values, so
    /// the idle screen holds no bill, amount or reference — neither a preview's nor the last
    /// customer's.
    #[test]
    fn no_preview_default_or_last_customer_s_data_survives_apply() {
        let _ = slint::platform::set_platform(Box::new(i_slint_backend_testing::TestingBackend::new(
            i_slint_backend_testing::TestingBackendOptions {
                mock_time: true,
                threading: false,
                renderer_name: Some("software".into()),
            },
        )));
        let window = crate::KioskWindow::new().unwrap();
        fn filled(held: &[(&'static str, String)]) -> Vec<&'static str> {
            held.iter().filter(|(_, v)| !v.is_empty() && v != "0").map(|(k, _)| *k).collect()
        }
        assert!(filled(&held(&window)).len() >= 9, "the previews show data: {:?}", held(&window));
        let shot = |name: &str| shots().into_iter().find(|s| s.name == name).expect("a gallery shot");
        // A paid joint bill on show, then the next idle screen.
        let paid = shot("11-result-paid-joint");
        apply(&window, &paid.session, &KioskFacts::default(), paid.now);
        assert!(held(&window).iter().any(|(k, v)| *k == "result order" && !v.is_empty()));
        let idle = shot("01-attract");
        apply(&window, &idle.session, &KioskFacts::default(), idle.now);
        assert_eq!(filled(&held(&window)), Vec::<&str>::new(), "{:?}", held(&window));
    }
}
