//! What the kiosk says for each screen and state (accessibility.md items 37–42): the title, the
//! prompt, the key facts (amount, 户号 masked as on screen, errors, the result) and what can be
//! tapped. Built from the same words the screen shows; golden-tested in `tests/speech_scripts`.

use super::stage::{Finding, Lookup, Stage};
use super::types::*;
use super::words::{self, spoken_amount, spoken_digits, tr, trf};
use super::Session;

/// The whole script of the current screen, in the session's language.
pub fn script(s: &Session) -> Vec<String> {
    let lang = s.lang;
    if s.warning {
        // The warning takes the screen's place, and speech says only it.
        return vec![words::timeout_warning(s).to_string()];
    }
    let mut lines = Vec::new();
    if let Some(step) = words::step_of(s.screen(), s.service(), lang) {
        lines.push(step);
    }
    lines.push(words::title(s));
    // What to do first, then the facts (issue 11 item 7: an elderly customer acts on the first
    // sentence and may not wait for the last).
    lines.push(words::prompt(s));
    lines.extend(facts(s));
    if s.screen() == Screen::OutOfService && !s.service_phone.is_empty() {
        lines.push(trf(lang, "Service phone: {}", &[&spoken_digits(&s.service_phone, lang)]));
    }
    if s.screen() == Screen::Attract {
        // The number is said digit by digit, as on the out-of-service screen.
        let phone = spoken_digits(&s.service_phone, lang);
        lines.extend(words::ways_to_pay(&s.availability, &phone, lang));
    }
    if let Some(notice) = &s.notice {
        lines.push(notice.spoken_in(lang));
    }
    // What is down is said where the screen shows it (kiosk-ui's view shows the same lines).
    if matches!(s.screen(), Screen::Attract | Screen::Method | Screen::OutOfService) {
        lines.extend(words::degraded_on(s.screen(), &s.availability, lang).into_iter().map(String::from));
    }
    lines.extend(actions(s).into_iter().map(String::from));
    lines.extend(words::result_closes(s));
    lines.retain(|l| !l.is_empty());
    lines
}

/// The lines as one utterance for a voice of `lang`: each line a sentence, ended in that
/// language's way (an English voice never gets "。" to read).
pub fn utterance(lines: &[String], lang: Lang) -> String {
    let ended = |line: &str| line.ends_with(['。', '！', '？', '；', '.', '!', '?', ';']);
    let sentences = lines.iter().map(|line| line.trim()).filter(|line| !line.is_empty()).map(|line| {
        match (ended(line), lang) {
            (true, _) => line.to_string(),
            (false, _) => trf(lang, "{}.", &[&line]),
        }
    });
    match lang {
        Lang::Zh => sentences.collect(),
        Lang::En => sentences.collect::<Vec<_>>().join(" "),
    }
}

/// How long `lines` take to say, by a characters-per-second model of a slow, clear voice (the
/// pace a kiosk for elderly customers speaks at): Chinese 4 characters a second (a character
/// is a syllable; a digit too), English 13 characters a second (about 140 words a minute), and
/// half a second between lines.
pub fn spoken_seconds(lines: &[String], lang: Lang) -> f64 {
    let per_second = match lang {
        Lang::Zh => 4.0,
        Lang::En => 13.0,
    };
    let spoken = |line: &String| match lang {
        // Punctuation is a pause, not a syllable.
        Lang::Zh => line.chars().filter(|c| c.is_alphanumeric()).count(),
        Lang::En => line.chars().count(),
    };
    let characters: usize = lines.iter().map(spoken).sum();
    characters as f64 / per_second + 0.5 * lines.len().saturating_sub(1) as f64
}

/// The key facts of the screen: what is being paid, to whom, how much; the result.
fn facts(s: &Session) -> Vec<String> {
    let lang = s.lang;
    let mut lines = Vec::new();
    let screen = s.screen();
    match (screen, &s.stage) {
        (Screen::FindAccount, Stage::FindAccount(Finding { account, .. })) if !account.digits.is_empty() => {
            // The customer's own typing is echoed (item 37); an account read from a card or a
            // bill is personal data, said only into a headset (item 39).
            match (account.read, s.headset) {
                (false, _) => {
                    let typed = spoken_digits(&account.digits, lang);
                    lines.push(trf(lang, "Account number so far: {}", &[&typed]))
                }
                (true, true) => {
                    let read = spoken_digits(&crate::utility::mask_middle(&account.digits, 2, 4), lang);
                    lines.push(trf(lang, "Account number so far: {}", &[&read]))
                }
                (true, false) => lines.push(words::personal_on_screen(s.headset_jack, lang).into()),
            }
        }
        (Screen::TopUpAmount | Screen::Confirm | Screen::Method, _) => {
            // Who is paid was read back on the confirm screen: the method screen says only the
            // amount (said once per screen).
            if screen != Screen::Method {
                lines.extend(payee_lines(s));
            }
            if s.nothing_due() {
                lines.push(words::title(s));
            } else if let Some(amount) = s.amount() {
                lines.push(trf(lang, "Amount to pay: {}, no fee", &[&spoken_amount(amount, lang)]));
            }
        }
        (Screen::Paying, Stage::Paying(payment)) => {
            if let Some(amount) = s.amount() {
                lines.push(trf(lang, "Amount: {}", &[&spoken_amount(amount, lang)]));
            }
            match payment.phase {
                Some(PayPhase::CashRule) => {
                    let prepaid = payment.order.cash_overpay_prepaid();
                    lines.extend(words::cash_rule(prepaid, &s.availability.cash_notes, lang));
                }
                Some(PayPhase::TakingCash) => {
                    if let Some(progress) = &payment.cash {
                        let so_far = CashProgress { heard: CashHeard::Nothing, ..progress.clone() };
                        lines.push(words::cash_progress_line(&so_far, lang));
                    }
                }
                _ => {}
            }
        }
        (Screen::Result, _) => {
            if let Some(o) = s.outcome() {
                // Said as the screen labels it: 实付金额 only when it was all paid.
                let paid = o.kind == OutcomeKind::Paid;
                let amount = spoken_amount(o.amount, lang);
                lines.push(match paid {
                    true => trf(lang, "Total paid: {}", &[&amount]),
                    false => trf(lang, "Amount: {}", &[&amount]),
                });
                // Never a long reference spelled out: its end, and where the whole is.
                lines.push(trf(
                    lang,
                    "Reference ending {}, shown in full on the screen",
                    &[&spoken_tail(&o.order_ref, lang)],
                ));
            }
        }
        _ => {}
    }
    lines
}

/// Who is paid, for whom: the masked holder and account, as on screen. The name and account are
/// personal: said only into a headset (item 39); the loudspeaker says where to find them.
pub fn payee_lines(s: &Session) -> Vec<String> {
    let lang = s.lang;
    let Some(order) = s.stage.order() else { return Vec::new() };
    let (mut lines, personal) = match &order.found {
        Found::Bill(bill) => {
            let mut lines = vec![trf(lang, "Paying for: {}", &[&words::utility_name(bill.utility, lang)])];
            if let Some(period) = &bill.period {
                lines.push(trf(lang, "Billing period: {}", &[&period]));
            }
            lines.push(trf(lang, "Due date: {}", &[&bill.due_date]));
            (lines, vec![account_line(&bill.account.masked(), lang), holder_line(&bill.holder_masked, lang)])
        }
        Found::Joint(joint) => {
            let mut lines = vec![tr(lang, "Paying for: the joint bill").to_string()];
            for bill in &joint.bills {
                lines.push(format!(
                    "{} {}",
                    words::utility_name(bill.utility, lang),
                    spoken_amount(bill.amount_due, lang)
                ));
            }
            let account = account_line(&joint.joint_account.masked(), lang);
            (lines, vec![account, holder_line(&joint.holder_masked, lang)])
        }
        Found::GasCard(card) => {
            let card_line = trf(lang, "Gas card ending {}", &[&spoken_tail(&card.card_masked, lang)]);
            (Vec::new(), vec![card_line, account_line(&card.account.masked(), lang)])
        }
    };
    match s.headset {
        true => lines.extend(personal),
        false => lines.push(words::personal_on_screen(s.headset_jack, lang).into()),
    }
    lines
}

fn account_line(masked: &str, lang: Lang) -> String {
    // A masked number is said by its end: stars are not words, in any language.
    trf(lang, "Account ending {}", &[&spoken_tail(masked, lang)])
}

/// The last (at most four) characters of a number after its masked part, digit by digit.
fn spoken_tail(number: &str, lang: Lang) -> String {
    let shown: Vec<char> = number.chars().rev().take_while(|c| *c != '*').take(4).collect();
    spoken_digits(&shown.into_iter().rev().collect::<String>(), lang)
}

fn holder_line(masked: &str, lang: Lang) -> String {
    trf(lang, "Name: {}", &[&masked])
}

/// The buttons of the screen that speech names (their labels are in the .slint files; the UI
/// tests check that every one named here exists on screen).
pub fn actions(s: &Session) -> Vec<&'static str> {
    let lang = s.lang;
    match s.screen() {
        Screen::Attract => vec![
            tr(lang, "Choices: Water, Electricity, Gas, Joint bill, Gas card top-up"),
            // Without sight (item 21): the keypad's numbers, or 0 to hear each choice in turn.
            tr(lang, "On the keypad: 1 to 5 choose, 0 steps through the choices, Enter takes one"),
        ],
        Screen::Method => {
            let mut v = Vec::new();
            if s.availability.codes() {
                v.push(tr(lang, "To use your phone's payment code, tap \"Payment code\""));
            }
            if s.availability.bank_card {
                v.push(tr(lang, "To use a bank card, tap \"Bank card\""));
            }
            if s.cash_payable() {
                v.push(tr(lang, "To pay with banknotes, tap \"Cash\""));
            }
            v.extend(words::cash_not_payable_here(s));
            // Cash is said first when the screen shows it first.
            if s.availability.cash_first() {
                v.rotate_right(usize::from(s.cash_payable()));
            }
            v
        }
        Screen::Paying if s.phase() == Some(PayPhase::CashRule) => {
            vec![tr(lang, "When you are ready, tap \"Start inserting notes\"; to choose again, tap \"Back\"")]
        }
        Screen::Paying if s.phase() == Some(PayPhase::TakingCash) => {
            vec![tr(lang, "When you have no more notes to insert, tap \"Finish inserting notes\"")]
        }
        Screen::Result if s.receipt() == Some(&ReceiptState::Offered) => {
            vec![tr(lang, "For a receipt tap \"Print receipt\"; otherwise tap \"No receipt\"")]
        }
        Screen::Result if s.receipt() == Some(&ReceiptState::Printed) => vec![words::take_receipt(lang)],
        Screen::Result => vec![tr(lang, "When you are done, tap \"Done\"")],
        _ => Vec::new(),
    }
}

/// Said when the payment moves on.
pub fn phase_lines(phase: PayPhase, lang: Lang) -> Vec<String> {
    vec![words::phase_words(phase, lang).to_string()]
}

/// Said when the red button is held, and when the card comes out.
pub fn eject_line(feedback: EjectFeedback, lang: Lang) -> &'static str {
    match feedback {
        EjectFeedback::Held => {
            tr(lang, "Keep holding the red button for 3 seconds and your ID card will come out.")
        }
        EjectFeedback::Ejected => tr(lang, "Your ID card is out; please take it."),
        EjectFeedback::Failed => {
            tr(lang, "Your ID card could not be brought out. Please call staff; they will get it for you.")
        }
        // Nothing to say: these only clear what was shown.
        EjectFeedback::Released | EjectFeedback::Taken => "",
    }
}

/// Said when a look-up starts.
pub fn lookup_line(lookup: Lookup, lang: Lang) -> &'static str {
    match lookup {
        Lookup::BillScan => tr(lang, "Hold the barcode on your paper bill to the scanner window."),
        Lookup::IdCard => {
            tr(lang, "Put your ID card into the ID slot. To get it back, hold the red button for 3 seconds.")
        }
        Lookup::GasCard => tr(lang, "Reading your card, please wait."),
        // The biller is asked with a number already shown; nothing to do but wait.
        Lookup::Biller => tr(lang, "Please wait."),
    }
}
