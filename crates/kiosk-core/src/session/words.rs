//! The words of the screens that change with the session: titles, prompts, notices, payment
//! phases and outcomes, in Chinese and English. The screen shows them and speech says them, so
//! the two can never disagree. Every word comes from the catalogue (crates/catalogue), as do
//! the button labels in the .slint files.

use super::types::*;
use super::{speech, Printout, Session};
use crate::{Fen, Utility};
pub use catalogue::{tr, trf};

/// An amount as it is read out: "123元4角5分" / "123 yuan 45 fen".
pub fn spoken_amount(amount: Fen, lang: Lang) -> String {
    let sign = if amount.0 < 0 { "-" } else { "" };
    let fen = amount.0.unsigned_abs();
    let (yuan, jiao, fen_part) = (fen / 100, (fen / 10) % 10, fen % 10);
    // Chinese says 角 and 分 apart ("3角", "零5分"), English the fen together ("35 fen").
    let said = match (jiao, fen_part) {
        (0, 0) => trf(lang, "{0} yuan", &[&yuan]),
        (j, 0) => trf(lang, "{0} yuan {1}0 fen", &[&yuan, &j]),
        (0, f) => trf(lang, "{0} yuan {2} fen", &[&yuan, &0, &f]),
        (j, f) => trf(lang, "{0} yuan {1}{2} fen", &[&yuan, &j, &f]),
    };
    format!("{sign}{said}")
}

/// Digits read one by one, so "3300000035" is not read as three billion; a masked digit is a
/// star in the voice's language.
pub fn spoken_digits(digits: &str, lang: Lang) -> String {
    digits
        .chars()
        .map(|c| if c == '*' { asterisk(lang).to_string() } else { c.to_string() })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "音量2级，共4级": the volume step just set, counted from 1.
pub fn volume_line(step: u8, lang: Lang) -> String {
    let (at, of) = (step + 1, VOLUME_STEPS);
    trf(lang, "Volume {0} of {1}", &[&at, &of])
}

pub fn service_name(service: Service, lang: Lang) -> &'static str {
    match service {
        Service::Water => tr(lang, "Water"),
        Service::Power => tr(lang, "Electricity"),
        Service::Gas => tr(lang, "Gas"),
        Service::Joint => tr(lang, "Joint bill"),
        Service::GasCard => tr(lang, "Gas card top-up"),
    }
}

pub fn utility_name(utility: Utility, lang: Lang) -> &'static str {
    service_name(Service::from_utility(utility), lang)
}

/// "第2步/共4步" — where the customer is (accessibility.md item 31).
pub fn step_of(screen: Screen, service: Option<Service>, lang: Lang) -> Option<String> {
    let card = service == Some(Service::GasCard);
    let total = if card { 6 } else { 5 };
    let n = match screen {
        Screen::FindAccount => 1,
        Screen::TopUpAmount => 2,
        Screen::Confirm => 2 + u32::from(card),
        Screen::Method => 3 + u32::from(card),
        Screen::Paying => 4 + u32::from(card),
        Screen::Result => 5 + u32::from(card),
        _ => return None,
    };
    Some(trf(lang, "Step {0} of {1}", &[&n, &total]))
}

/// The heading of the current screen.
pub fn title(s: &Session) -> String {
    let lang = s.lang;
    let service = s.service().map(|sv| service_name(sv, lang)).unwrap_or_default();
    match s.screen() {
        Screen::Attract => tr(lang, "Yizhan · pay your bills").into(),
        Screen::FindAccount if s.service() == Some(Service::GasCard) => {
            tr(lang, "Gas card top-up: insert your card").into()
        }
        Screen::FindAccount => trf(lang, "{}: find your account", &[&service]),
        Screen::TopUpAmount => tr(lang, "Choose how much gas to buy").into(),
        Screen::Confirm if s.nothing_due() => tr(lang, "Nothing to pay this period").into(),
        Screen::Confirm if s.service() == Some(Service::GasCard) => {
            tr(lang, "Please check the top-up").into()
        }
        Screen::Confirm => tr(lang, "Please check the payment").into(),
        Screen::Method => tr(lang, "Choose how to pay").into(),
        Screen::Paying => tr(lang, "Paying").into(),
        Screen::Result => s.outcome().map_or_else(String::new, |o| outcome_title(o.kind, lang).into()),
        Screen::Farewell => tr(lang, "All done").into(),
        Screen::OutOfService => tr(lang, "This kiosk is out of service").into(),
        Screen::StaffSignIn => tr(lang, "Staff sign-in").into(),
        Screen::StaffPanel => tr(lang, "Staff panel").into(),
    }
}

/// What to do on the current screen, in one or two sentences.
pub fn prompt(s: &Session) -> String {
    let lang = s.lang;
    let p = match s.screen() {
        Screen::Attract => tr(lang, "Tap what you want to pay. For larger text tap \"Large text\"; for help tap \"Call staff\"."),
        // While a look-up runs its instruction is the prompt, shown as it is said (item 43:
        // a deaf customer must also read how to get the ID card back).
        Screen::FindAccount => match (s.lookup(), s.service()) {
            (Some(lookup), _) => speech::lookup_line(lookup, lang),
            (None, Some(Service::GasCard)) => tr(lang, "Insert your gas card into the IC card slot, then tap \"Read gas card\"."),
            (None, Some(Service::Joint)) => tr(lang, "Type the joint account number and tap \"Look up\", or tap \"Scan bill\" or \"Read ID card\"."),
            _ => tr(lang, "Type the account number and tap \"Look up\", or tap \"Scan bill\" to scan the paper bill."),
        },
        Screen::TopUpAmount => tr(lang, "Tap the amount to load onto the card."),
        Screen::Confirm if s.nothing_due() => tr(lang, "This account has nothing to pay this period. To look up another account tap \"Change\"; to leave tap \"Cancel and exit\"."),
        Screen::Confirm if s.service() == Some(Service::GasCard) => tr(lang, "If this is right, tap \"Confirm top-up\". To change it, tap \"Change\"."),
        Screen::Confirm => tr(lang, "If this is right, tap \"Confirm\". To change it, tap \"Change\"."),
        Screen::Method => tr(lang, "Choose how you will pay."),
        Screen::Paying => paying_words(s.phase(), lang),
        Screen::Result => return result_words(s),
        Screen::Farewell => return farewell_words(s),
        Screen::OutOfService => tr(lang, "Payments are not possible now. Please go to the counter or call the service number."),
        Screen::StaffSignIn => tr(lang, "Enter the staff PIN, then tap \"Sign in\"."),
        Screen::StaffPanel => tr(lang, "Devices, paper, payments in suspense, reprint, card rewrite."),
    };
    p.into()
}

/// The paying screen's words: where the payment is, or (nothing under way) that nothing was taken.
pub fn paying_words(phase: Option<PayPhase>, lang: Lang) -> &'static str {
    phase.map_or_else(|| tr(lang, "You were not charged."), |phase| phase_words(phase, lang))
}

/// The payment under way, in words (the same words the screen shows).
pub fn phase_words(phase: PayPhase, lang: Lang) -> &'static str {
    match phase {
        PayPhase::WaitingForCode { .. } => tr(
            lang,
            "Open the payment code in WeChat, Alipay or UnionPay and hold it to the scanner window below.",
        ),
        PayPhase::WaitingForCard => tr(lang, "Insert your bank card into the bank card slot."),
        PayPhase::CashRule => tr(lang, "Read the rule below, then tap \"Start inserting notes\"."),
        PayPhase::TakingCash => tr(lang, "Insert your notes one at a time into the note slot, face up."),
        PayPhase::Sending => tr(lang, "Sending the payment, please wait."),
        PayPhase::WaitingForPin => {
            tr(lang, "Please enter your password on your phone to approve the payment.")
        }
        PayPhase::WaitingForCardPin => tr(lang, "Enter your bank card PIN on the PIN pad."),
        PayPhase::Cancelling => {
            tr(lang, "Cancelling this payment; any money taken will be returned. Please wait.")
        }
        PayPhase::WritingOff => tr(lang, "Payment received; telling the utility. Please wait."),
        PayPhase::WritingCard => tr(lang, "Writing to your card. Do not pull it out."),
        PayPhase::Refunding => tr(lang, "Refunding, please wait."),
    }
}

/// The result's heading: short, unmistakable.
pub fn outcome_title(kind: OutcomeKind, lang: Lang) -> &'static str {
    match kind {
        OutcomeKind::Paid => tr(lang, "Paid"),
        OutcomeKind::PartlyRefunded => tr(lang, "Partly paid"),
        OutcomeKind::NotCharged => tr(lang, "Not charged"),
        OutcomeKind::Refunded => tr(lang, "Refunded in full"),
        OutcomeKind::ReturnedIfTaken => tr(lang, "Cancelled"),
        OutcomeKind::RefundAccepted => tr(lang, "Refund accepted"),
        OutcomeKind::Suspense => tr(lang, "Result not yet confirmed"),
        OutcomeKind::CardNotWritten => tr(lang, "Paid; card not written yet"),
        OutcomeKind::PaidInPart => tr(lang, "Paid in part"),
    }
}

/// The result in words, with the card the customer used: a gas card is said to be written (and
/// where to take it), a bank card to be given back.
pub fn result_words(s: &Session) -> String {
    let lang = s.lang;
    let Some(outcome) = s.outcome() else { return String::new() };
    let mut words = match (outcome.kind, s.service()) {
        (OutcomeKind::Paid, Some(Service::GasCard)) => tr(
            lang,
            "Top-up done: the gas is on your card. Take the card and insert it into your gas meter at home.",
        )
        .to_string(),
        (kind, _) => outcome_words(kind, lang).to_string(),
    };
    if s.stage.method() == Some(MethodChoice::BankCard) && !outcome.card_kept {
        words.push_str(sentence_gap(lang));
        words.push_str(tr(lang, "Take your bank card back from the bank card slot."));
    }
    words
}

/// What goes between two sentences: Chinese punctuation carries its own space.
pub fn sentence_gap(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "",
        Lang::En => " ",
    }
}

/// Goodbye, naming exactly what to take: the gas card, the bank card, the receipt or the slip
/// — only those the customer has — or nothing.
pub fn farewell_words(s: &Session) -> String {
    let lang = s.lang;
    let away = s.take_away();
    let mut take: Vec<&str> = Vec::new();
    if away.gas_card {
        take.push(tr(lang, "gas card"));
    }
    if away.bank_card {
        take.push(tr(lang, "bank card"));
    }
    match away.paper {
        Some(Printout::Slip) => take.push(tr(lang, "slip")),
        Some(Printout::Receipt) => take.push(tr(lang, "receipt")),
        None => {}
    }
    let Some((last, rest)) = take.split_last() else {
        return tr(lang, "Thank you, goodbye.").into();
    };
    if rest.is_empty() {
        return trf(lang, "Please take your {0}. Thank you, goodbye.", &[last]);
    }
    let rest = rest.join(tr(lang, ", your "));
    trf(lang, "Please take your {0} and your {1}. Thank you, goodbye.", &[&rest, last])
}

/// The result in words no one can misread.
pub fn outcome_words(kind: OutcomeKind, lang: Lang) -> &'static str {
    match kind {
        OutcomeKind::Paid => tr(lang, "Your bill is paid; the money has reached the utility."),
        OutcomeKind::PartlyRefunded => tr(lang, "Part of the bill is paid; the money for the rest was returned to you."),
        OutcomeKind::NotCharged => tr(lang, "Nothing was paid, and not a single fen was taken from you."),
        OutcomeKind::Refunded => tr(lang, "The bill was not paid; all the money taken was returned to you."),
        OutcomeKind::ReturnedIfTaken => tr(lang, "Nothing was paid. Any amount taken has been returned to you."),
        OutcomeKind::RefundAccepted => tr(lang, "The money for what could not be paid is being refunded to your account. Keep the receipt."),
        OutcomeKind::Suspense => tr(lang, "The result is not confirmed yet. Keep the slip: its number lets the counter or the service line settle it. No money is lost."),
        OutcomeKind::CardNotWritten => tr(lang, "Paid, but the gas is not on your card yet. Ask staff to write it to your card; no money is lost."),
        OutcomeKind::PaidInPart => tr(lang, "The cash you put in has been paid; the rest of the amount is not paid. Keep the slip."),
    }
}

/// The warning 30 s before a screen's limit (item 32). At the acceptor the limit ends the
/// intake, and what went in is paid: the words say so, never "clear your details".
pub fn timeout_warning(s: &Session) -> &'static str {
    if s.taking_cash() {
        return tr(s.lang, "Are you still there? In 30 seconds the notes inserted so far will be paid and no more taken. Tap \"Continue\" to insert more.");
    }
    tr(s.lang, "Are you still there? In 30 seconds this will close and clear your details. Tap \"Continue\" for more time.")
}

pub fn extended(lang: Lang) -> &'static str {
    tr(lang, "All right, please go on.")
}

pub fn large_mode(on: bool, lang: Lang) -> &'static str {
    match on {
        true => tr(lang, "Large text is on."),
        false => tr(lang, "Large text is off."),
    }
}

/// Said when the headset goes in or comes out (accessibility.md item 39).
pub fn headset_line(plugged: bool, lang: Lang) -> &'static str {
    match plugged {
        true => tr(
            lang,
            "Headset connected: the voice now plays only in the headset and also reads your name and account number.",
        ),
        false => tr(lang, "Headset removed: the voice plays from the loudspeaker and no longer reads your name or account number."),
    }
}

/// In private mode, said when the blank control hides or shows both screens.
pub fn screens_line(blanked: bool, lang: Lang) -> &'static str {
    match blanked {
        true => tr(lang, "Both screens are hidden. Tap \"Show screens\" to see them again."),
        false => tr(lang, "The screens are shown again."),
    }
}

/// Said on the loudspeaker instead of the name and account number (item 39: personal data is
/// spoken only through the headset), with the way to hear them where the kiosk has a jack.
pub fn personal_on_screen(jack: bool, lang: Lang) -> &'static str {
    match jack {
        true => tr(lang, "The name and account number are on the screen; plug in a headset to hear them."),
        false => tr(lang, "The name and account number are on the screen."),
    }
}

pub fn asterisk(lang: Lang) -> &'static str {
    tr(lang, "star")
}

pub fn printing(lang: Lang) -> &'static str {
    tr(lang, "Printing your receipt.")
}

/// When a result with nothing left to ask gives way to the start screen (through the farewell
/// after a payment), said and shown (items 32, 35). None while the receipt question is open:
/// that is an input screen, with its own warning.
pub fn result_closes(s: &Session) -> Option<String> {
    if s.screen() != Screen::Result || s.receipt() == Some(&ReceiptState::Offered) {
        return None;
    }
    let timing = s.timing();
    let seconds = match s.result_protected() {
        true => timing.result + timing.farewell,
        false => timing.result,
    };
    Some(trf(s.lang, "Back to the start screen in about {} seconds.", &[&seconds.as_secs()]))
}

pub fn take_receipt(lang: Lang) -> &'static str {
    tr(lang, "Your receipt is printed; take it from the receipt slot.")
}

pub fn code_countdown(seconds: i64, lang: Lang) -> String {
    trf(lang, "{} seconds left to show your payment code.", &[&seconds])
}

pub fn receipt_failed() -> Notice {
    Notice::error(Text::new(
        "The receipt could not be printed. Your payment is not affected; staff can reprint it.",
    ))
}

pub fn no_receipt_today() -> Notice {
    Notice::info(Text::new("The printer cannot print now, so there will be no paper receipt; you can still pay and reprint it later at any kiosk."))
}

pub fn wrong_pin() -> Notice {
    Notice::error(Text::new("Wrong PIN; please try again."))
}

pub fn card_kept() -> Notice {
    Notice::error(Text::new("Your bank card was not taken and the kiosk has kept it safe. Ask staff for it with the slip and your ID."))
}

pub fn pin_locked() -> Notice {
    Notice::error(Text::new("Too many wrong PINs: staff sign-in is paused for 5 minutes."))
}

/// What 呼叫工作人员 did: told the operators (`staff_line`), or nothing it could do, so the
/// customer is sent to the counter. Either way the service phone, when there is one, said digit
/// by digit.
pub fn staff_called(a: &Availability, service_phone: &str) -> Notice {
    let words = |phone: Text| match (a.staff_line, service_phone.is_empty()) {
        (true, true) => Text::new("Staff have been called and will come to help you."),
        (true, false) => Text::with(
            "Staff have been called and will come to help you. If it is urgent, call {0}.",
            [phone],
        ),
        (false, true) => {
            Text::new("This kiosk cannot call staff by itself: please ask at the service counter.")
        }
        (false, false) => Text::with(
            "This kiosk cannot call staff by itself: please ask at the service counter or call {0}.",
            [phone],
        ),
    };
    // Digits are digits in both languages (only the asterisk's word differs; a phone has none).
    let spoken = words(Text::verbatim(spoken_digits(service_phone, Lang::Zh)));
    Notice::info(words(Text::verbatim(service_phone))).said_as(spoken)
}

pub fn account_too_short() -> Notice {
    Notice::error(Text::new("The account number is too short; check it against your bill."))
}

pub fn wrong_bill(scanned: Utility, wanted: Utility) -> Notice {
    Notice::error(Text::with(
        "This is a {0} bill, not a {1} bill. Scan the {1} bill, or go back and choose again.",
        [scanned.name(), wanted.name()],
    ))
}

pub fn method_unavailable(method: MethodChoice, a: &Availability) -> Notice {
    match method {
        // The scanner reads, but no payment channel answers.
        MethodChoice::Code if a.scanner => Notice::error(Text::new(
            "Payment codes cannot be used now: the payment network is not responding.",
        )),
        MethodChoice::Code => {
            Notice::error(Text::new("The scanner is not working now; pay by bank card or ask staff."))
        }
        MethodChoice::BankCard => {
            Notice::error(Text::new("Bank cards cannot be used now; pay with a payment code or ask staff."))
        }
        MethodChoice::Cash => Notice::error(Text::new(
            "Cash is not taken now; pay with a payment code or a bank card, or pay cash at the counter.",
        )),
    }
}

/// Notes cannot make this amount, and the biller keeps nothing beyond it (no change is given).
pub fn not_payable_in_notes() -> Notice {
    Notice::error(Text::new(
        "Notes cannot make this exact amount and no change is given: pay with a payment code or a bank card, or pay cash at the counter.",
    ))
}

/// On the method screen, when the acceptor works but notes cannot make this amount: why 现金 is
/// greyed out, shown and said, never left silent.
pub fn cash_not_payable_here(s: &Session) -> Option<&'static str> {
    // Short, so it fits under the buttons in large text: the other ways are the buttons above it.
    (s.availability.cash && !s.cash_payable())
        .then(|| tr(s.lang, "Notes cannot make this exact amount, and no change is given."))
}

/// Said on 结束投币.
pub fn finishing_cash(lang: Lang) -> &'static str {
    tr(lang, "No more notes. Paying with the cash you inserted, please wait.")
}

/// "已收到20元。已投入50元，还需36元4角。", after a note is credited.
pub fn cash_progress_line(progress: &CashProgress, lang: Lang) -> String {
    let inserted = spoken_amount(progress.inserted, lang);
    let so_far = if progress.still_due.is_positive() {
        let due = spoken_amount(progress.still_due, lang);
        trf(lang, "Inserted so far: {0}; still due: {1}", &[&inserted, &due])
    } else {
        trf(lang, "Inserted: {0}; paid in full, please wait", &[&inserted])
    };
    match progress.heard {
        CashHeard::Credited(note) => {
            let note = spoken_amount(note, lang);
            format!("{}{}{so_far}", trf(lang, "Received {0}.", &[&note]), sentence_gap(lang))
        }
        _ => so_far,
    }
}

/// The no-change rule before the first note, as this order makes it: where an overpayment
/// goes, and which notes the kiosk takes.
pub fn cash_rule(overpay_prepaid: bool, notes: &[Fen], lang: Lang) -> Vec<String> {
    let rule = match overpay_prepaid {
        true => tr(
            lang,
            "No change is given: any amount above what is due is kept on your account as prepayment.",
        ),
        false => tr(
            lang,
            "No change is given: insert notes up to the amount still due; a larger note is given back.",
        ),
    };
    vec![rule.to_string(), notes_taken(notes, lang)]
}

/// "可收纸币面额（元）：1 · 5 · 10 · 20 · 50 · 100".
pub fn notes_taken(notes: &[Fen], lang: Lang) -> String {
    let yuan: Vec<String> = notes.iter().map(|n| (n.0 / 100).to_string()).collect();
    trf(lang, "Notes taken (yuan): {}", &[&yuan.join(" · ")])
}

/// The 2026 notice of the idle screen: the ways to pay here, the cash route when this kiosk
/// cannot take cash, and the service phone.
pub fn ways_to_pay(a: &Availability, service_phone: &str, lang: Lang) -> Vec<String> {
    let mut ways = Vec::new();
    if a.cash {
        ways.push(tr(lang, "cash (notes, no change)"));
    }
    if a.codes() {
        ways.push(tr(lang, "payment code"));
    }
    if a.bank_card {
        ways.push(tr(lang, "bank card"));
    }
    let mut lines = Vec::new();
    if !ways.is_empty() {
        lines.push(trf(lang, "Pay here by: {}", &[&ways.join(tr(lang, ", "))]));
    }
    lines.push(tr(lang, "The counter always takes cash.").into());
    if !service_phone.is_empty() {
        lines.push(trf(lang, "Service phone: {}", &[&service_phone]));
    }
    lines
}

/// What is withdrawn, for the screen that says it. The idle screen's notice already names the
/// ways to pay that work now ([`ways_to_pay`]), and the out-of-service screen says none does:
/// both leave out the line of each way to pay (the staff panel names the device).
pub fn degraded_on(screen: Screen, a: &Availability, lang: Lang) -> Vec<&'static str> {
    if !matches!(screen, Screen::Attract | Screen::OutOfService) {
        return degraded(a, lang);
    }
    let ways = Availability { scanner: true, code_channels: true, bank_card: true, cash: true, ..a.clone() };
    degraded(&ways, lang)
}

/// What still works when something does not (accessibility: out of service, honestly).
pub fn degraded(a: &Availability, lang: Lang) -> Vec<&'static str> {
    let mut lines = Vec::new();
    if !a.journal {
        lines.push(tr(lang, "This kiosk's payment record needs a staff check, so it takes no money now; past payments are not affected."));
    }
    // Each line points at the other way only when that one works.
    match (a.scanner, a.bank_card) {
        (false, true) => lines.push(tr(lang, "The scanner is off: no payment codes or bill scans; type the account number and pay by bank card.")),
        (false, false) => lines.push(tr(lang, "The scanner is off: no payment codes or bill scans; type the account number.")),
        _ => {}
    }
    if a.scanner && !a.code_channels {
        lines.push(tr(lang, "Payment codes cannot be used now: the payment network is not responding."));
    }
    match (a.bank_card, a.codes()) {
        (false, true) => lines.push(tr(lang, "Bank cards are off: pay with a payment code.")),
        (false, false) => lines.push(tr(lang, "Bank cards are off.")),
        _ => {}
    }
    if !a.gas_card {
        lines.push(tr(lang, "The IC card slot is off: top up gas cards at the counter."));
    }
    if !a.id_card {
        lines.push(tr(lang, "The ID card reader is off: type the account number."));
    }
    if !a.receipt_possible() {
        lines.push(tr(lang, "The printer is off: you can pay, but no paper receipt."));
    }
    if !a.cash_notes.is_empty() && !a.cash {
        lines.push(tr(lang, "Cash is not taken now (the note acceptor needs staff): pay by code or card, or pay cash at the counter."));
    }
    lines
}
