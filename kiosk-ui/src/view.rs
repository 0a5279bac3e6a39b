//! The view model: the session (and what the runtime knows of the devices) turned into the
//! properties of the `Kiosk` global. The screens render these and nothing else; no rule about
//! money or flow lives here or in the .slint files.

use crate::{DeviceRow, Fact, HandsOn, Kiosk, OutcomeName, ReceiptOffer, ScreenName, ServiceName};
use kiosk_core::session::words::tr;
use kiosk_core::session::{
    speech, words, Found, Intent, Lang, MethodChoice, OutcomeKind, PayPhase, ReceiptState, Screen, Service,
    Session, Text,
};
use kiosk_core::Ts;
use slint::{ModelRc, SharedString, VecModel};

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

/// Sets every property of `kiosk` from the session at `now`.
pub fn apply(kiosk: &Kiosk<'_>, s: &Session, facts: &KioskFacts, now: Ts) {
    let lang = s.lang;
    kiosk.set_screen(screen_name(s.screen));
    kiosk.set_portrait(facts.portrait);
    kiosk.set_has_mirror(facts.has_mirror);
    kiosk.set_title(words::title(s).into());
    kiosk.set_step(words::step_of(s.screen, s.service, lang).unwrap_or_default().into());
    kiosk.set_prompt(words::prompt(s).into());
    kiosk.set_notice(s.notice.as_ref().map(|n| n.text(lang).to_string()).unwrap_or_default().into());
    kiosk.set_notice_error(
        s.notice.as_ref().is_some_and(|n| n.kind == kiosk_core::session::NoticeKind::Error),
    );
    kiosk.set_warning(s.warning);
    kiosk.set_seconds_left(s.seconds_left(now).unwrap_or(0) as i32);
    kiosk.set_busy(s.busy);
    kiosk.set_service(service_name(s.service));
    let account = if s.account_masked {
        kiosk_core::utility::mask_middle(&s.account_input, 2, 4)
    } else {
        s.account_input.clone()
    };
    // Typed digits grouped as typed, so a doubled or missing digit shows; a read number masked.
    let shown = if s.account_masked { account } else { kiosk_core::utility::group_digits(&account) };
    kiosk.set_account_input(shown.into());
    kiosk.set_pin_mask("●".repeat(s.pin_input.len()).into());
    kiosk.set_facts(model(fact_rows(s)));
    kiosk.set_amount(s.amount().map(|a| a.to_string()).unwrap_or_default().into());

    let a = &s.availability;
    kiosk.set_water_ok(a.service(Service::Water));
    kiosk.set_power_ok(a.service(Service::Power));
    kiosk.set_gas_ok(a.service(Service::Gas));
    kiosk.set_joint_ok(a.service(Service::Joint));
    kiosk.set_gas_card_ok(a.service(Service::GasCard));
    kiosk.set_scanner_ok(a.scanner);
    kiosk.set_bank_card_ok(a.bank_card);
    kiosk.set_id_card_ok(a.id_card);
    kiosk.set_receipt_ok(a.receipt_possible());
    let degraded = match s.screen {
        Screen::Attract | Screen::Method | Screen::OutOfService => words::degraded(a, lang),
        _ => Vec::new(),
    };
    kiosk.set_degraded(model(degraded.into_iter().map(SharedString::from).collect()));
    kiosk.set_volume(i32::from(s.volume));
    kiosk.set_focus(s.focused_choice().map(|c| focus_code(&c)).unwrap_or_default().into());
    let hands = s.hands_on();
    kiosk.set_hands_on(HandsOn {
        scan_window: hands.scan_window,
        id_slot: hands.id_slot,
        ic_slot: hands.ic_slot,
        card_terminal: hands.card_terminal,
        receipt_exit: hands.receipt_exit,
        any: hands.any(),
    });

    kiosk.set_phase_text(if s.screen == Screen::Paying { words::prompt(s) } else { String::new() }.into());
    let countdown = match s.phase {
        Some(PayPhase::WaitingForCode { until_ms }) => ((until_ms - now.0).max(0) + 999) / 1000,
        _ => -1,
    };
    kiosk.set_countdown(countdown as i32);
    // Only the wait for a code can be stopped here: a bank card payment is the terminal's to
    // end (its own time-out, or its cancel key), and the session follows it.
    kiosk.set_can_stop_waiting(s.allowed(&Intent::StopWaiting));
    kiosk.set_can_scan_again(s.screen == Screen::Paying && s.phase.is_none());
    kiosk.set_can_leave(s.may_leave());
    kiosk.set_nothing_due(s.nothing_due());

    let outcome = s.outcome.as_ref();
    kiosk.set_outcome(outcome.map_or(OutcomeName::None, |o| outcome_name(o.kind)));
    kiosk.set_outcome_text(if outcome.is_some() { words::result_words(s) } else { String::new() }.into());
    kiosk.set_order_ref(outcome.map(|o| o.order_ref.clone()).unwrap_or_default().into());
    if let Some(o) = outcome {
        kiosk.set_amount(o.amount.to_string().into());
    }
    kiosk.set_receipt(receipt_offer(&s.receipt));

    kiosk.set_staff_id(s.staff.clone().unwrap_or_default().into());
    kiosk.set_staff_called(s.staff_called);
    kiosk.set_devices(model(
        facts
            .devices
            .iter()
            .map(|d| DeviceRow {
                name: d.name.in_lang(lang).into(),
                status: d.status.in_lang(lang).into(),
                ok: d.ok,
            })
            .collect(),
    ));
    kiosk.set_suspense(model(facts.suspense.iter().map(|l| SharedString::from(l.in_lang(lang))).collect()));
    kiosk.set_eject_text(s.eject.map(|e| speech::eject_line(e, lang)).unwrap_or_default().into());
    kiosk.set_mirror_blanked(s.mirror_blanked);
    kiosk.set_headset(s.headset);
    kiosk.set_screen_blanked(s.screen_blanked());
    kiosk.set_service_phone(s.service_phone.clone().into());
}

/// The choice in focus, named as its button knows it (`Kiosk.focus` in ui/api.slint).
pub fn focus_code(choice: &Intent) -> String {
    match choice {
        Intent::Start(service) => {
            format!("start-{}", Service::ALL.iter().position(|s| s == service).unwrap_or_default())
        }
        Intent::Repeat => "listen".into(),
        Intent::InsertGasCard => "read-gas-card".into(),
        Intent::ChooseAmount(amount) => format!("amount-{}", amount.0),
        Intent::ConfirmBill => "confirm".into(),
        Intent::Amend => "amend".into(),
        Intent::ChooseMethod(MethodChoice::Code) => "method-code".into(),
        Intent::ChooseMethod(MethodChoice::BankCard) => "method-bank-card".into(),
        Intent::StopWaiting => "stop-waiting".into(),
        Intent::ScanAgain => "scan-again".into(),
        Intent::Receipt(true) => "receipt-yes".into(),
        Intent::Receipt(false) => "receipt-no".into(),
        Intent::Done => "done".into(),
        Intent::Another => "another".into(),
        Intent::BlankMirror => "blank".into(),
        _ => String::new(),
    }
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

/// The bill's facts as label/value rows: payee, masked holder and account, address, billing
/// period, due date, the last payment (the amount due has its own place, `AmountDue`); on the
/// result, what was paid (`result_rows`). Labels follow the session's language.
fn fact_rows(s: &Session) -> Vec<Fact> {
    let lang = s.lang;
    let row = |label: SharedString, value: String, key: bool| Fact { label, value: value.into(), key };
    let mut rows = Vec::new();
    if s.screen == Screen::Result {
        return result_rows(s);
    }
    if !matches!(s.screen, Screen::TopUpAmount | Screen::Confirm | Screen::Method) {
        return rows;
    }
    match &s.found {
        Some(Found::Bill(bill)) => {
            let paying = words::utility_name(bill.utility, lang).into();
            rows.extend(payee_rows(lang, paying, bill.account.masked(), &bill.holder_masked, true));
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
        Some(Found::Joint(joint)) => {
            let paying = words::service_name(Service::Joint, lang).into();
            rows.extend(payee_rows(lang, paying, joint.joint_account.masked(), &joint.holder_masked, true));
            for bill in &joint.bills {
                rows.push(row(
                    words::utility_name(bill.utility, s.lang).into(),
                    format!("{}  ({} {})", bill.amount_due, tr(lang, "due"), bill.due_date),
                    false,
                ));
            }
        }
        Some(Found::GasCard(card)) => {
            rows.push(row(tr(lang, "Gas card").into(), card.card_masked.clone(), true));
            rows.push(row(tr(lang, "Account").into(), card.account.masked(), true));
        }
        None => {}
    }
    // The amount due is not a row: the confirm screen shows it beside its button (AmountDue).
    rows
}

/// What is paid and for whom: the three rows the confirm screen and the result share. `key`: the
/// first two are key facts (larger) on the confirm screen, not on the result.
fn payee_rows(lang: Lang, paying: String, account: String, holder: &str, key: bool) -> [Fact; 3] {
    let row = |label: &str, value: String, key: bool| Fact { label: label.into(), value: value.into(), key };
    [
        row(tr(lang, "Paying for"), paying, key),
        row(tr(lang, "Account"), account, key),
        row(tr(lang, "Name"), holder.to_string(), false),
    ]
}

/// What the result restates (issue 11 item 4): what was paid, for whom (户号 and 户名 masked),
/// each utility of a joint bill, and the total — so the customer leaves knowing what happened
/// without the receipt. Each utility's amount only when all were paid: the outcome does not
/// say which line of a partly paid or refunded joint bill went where (the receipt does).
fn result_rows(s: &Session) -> Vec<Fact> {
    let lang = s.lang;
    let row = |label: SharedString, value: String, key: bool| Fact { label, value: value.into(), key };
    let Some(outcome) = &s.outcome else { return Vec::new() };
    let mut rows = Vec::new();
    match &s.found {
        Some(Found::Bill(bill)) => {
            let paying = words::utility_name(bill.utility, lang).into();
            rows.extend(payee_rows(lang, paying, bill.account.masked(), &bill.holder_masked, false));
        }
        Some(Found::Joint(joint)) => {
            let paying = words::service_name(Service::Joint, lang).into();
            rows.extend(payee_rows(lang, paying, joint.joint_account.masked(), &joint.holder_masked, false));
            let paid_whole = outcome.kind == OutcomeKind::Paid;
            for bill in joint.bills.iter().filter(|b| paid_whole && b.amount_due.is_positive()) {
                rows.push(row(
                    words::utility_name(bill.utility, s.lang).into(),
                    bill.amount_due.to_string(),
                    false,
                ));
            }
        }
        Some(Found::GasCard(card)) => {
            rows.push(row(
                tr(lang, "Paying for").into(),
                words::service_name(Service::GasCard, s.lang).into(),
                false,
            ));
            rows.push(row(tr(lang, "Gas card").into(), card.card_masked.clone(), false));
            rows.push(row(tr(lang, "Account").into(), card.account.masked(), false));
        }
        None => {}
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
        if let (Some(kind), Some(outcome)) = (kind, shot.session.outcome.as_mut()) {
            outcome.kind = kind;
        }
        fact_rows(&shot.session).into_iter().map(|f| (f.label.to_string(), f.value.to_string())).collect()
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
}
