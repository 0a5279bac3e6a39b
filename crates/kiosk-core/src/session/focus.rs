//! Choosing without sight (accessibility.md item 21): on a screen where the keypad's digits do
//! not type, 0 moves to the next of the screen's choices and Clear to the one before, each said
//! aloud; Enter takes the choice in focus. Both screens ring it. The numbered shortcuts (1 水费,
//! 1 打印凭条 …) still work; typing screens keep their digits.

use super::words::{self, tr};
use super::{Command, Intent, MethodChoice, ReceiptState, Screen, Service, Session, TOP_UP_AMOUNTS};

impl Session {
    /// The screen's choices that can be taken now, in reading order (what 0 steps through).
    pub fn choices(&self) -> Vec<Intent> {
        use Intent::*;
        // Under the timeout warning, Enter is 继续办理 and nothing else is offered.
        if self.warning {
            return Vec::new();
        }
        let candidates: Vec<Intent> = match self.screen() {
            Screen::Attract => Service::ALL.iter().map(|s| Start(*s)).chain([Repeat]).collect(),
            Screen::FindAccount => vec![InsertGasCard],
            Screen::TopUpAmount => TOP_UP_AMOUNTS.iter().map(|a| ChooseAmount(*a)).collect(),
            Screen::Confirm => vec![ConfirmBill, Amend],
            // Cash first when it is the only way left or the network is down (the screen shows
            // it so); what does not work now is filtered out below.
            Screen::Method if self.availability.cash_first() => vec![
                ChooseMethod(MethodChoice::Cash),
                ChooseMethod(MethodChoice::Code),
                ChooseMethod(MethodChoice::BankCard),
            ],
            Screen::Method => vec![
                ChooseMethod(MethodChoice::Code),
                ChooseMethod(MethodChoice::BankCard),
                ChooseMethod(MethodChoice::Cash),
            ],
            Screen::Paying => vec![StopWaiting, ScanAgain, StartCash, FinishCash],
            // The receipt offer first; 完成 and 再办一笔 stay on the screen beside it (the filter
            // below drops what is not live yet, and the receipt buttons once answered).
            Screen::Result if self.receipt() == Some(&ReceiptState::Printing) => vec![],
            Screen::Result => vec![Receipt(true), Receipt(false), Done, Another],
            Screen::Farewell => vec![Done],
            _ => vec![],
        };
        // With a headset in, the blank control is a choice too: hiding the screens needs no sight.
        let private = self.headset && self.staff_screen.is_none();
        let privacy = private.then_some(BlankMirror);
        candidates.into_iter().chain(privacy).filter(|intent| self.allowed(intent)).collect()
    }

    /// What 0 steps through: the screen's choices, then the controls every screen has —
    /// 呼叫工作人员, 长辈模式 and the language — so that none of them needs sight (items 21, 50,
    /// 51). Nothing under the timeout warning, where Enter is 继续办理.
    pub fn focus_ring(&self) -> Vec<Intent> {
        let mut ring = self.choices();
        if !self.warning {
            let persistent = [Intent::CallStaff, Intent::ToggleLarge, Intent::ToggleLanguage];
            ring.extend(persistent.into_iter().filter(|intent| self.allowed(intent)));
        }
        ring
    }

    /// The choice in focus, if it can still be taken.
    pub fn focused_choice(&self) -> Option<Intent> {
        self.focus.clone().filter(|focus| self.focus_ring().contains(focus))
    }

    /// Moves the focus one choice on (or back), round the end, and says where it is.
    pub(super) fn move_focus(&mut self, forward: bool, out: &mut Vec<Command>) {
        let choices = self.focus_ring();
        // Nothing to choose (a screen that waits, or one that is typed on): say the screen again,
        // so the key is never met with silence.
        let Some(last) = choices.len().checked_sub(1) else { return self.speak_screen(out) };
        let at = self.focused_choice().and_then(|focus| choices.iter().position(|c| *c == focus));
        let next = match (at, forward) {
            (None, true) => 0,
            (None, false) => last,
            (Some(i), true) if i == last => 0,
            (Some(i), true) => i + 1,
            (Some(0), false) => last,
            (Some(i), false) => i - 1,
        };
        let choice = choices[next].clone();
        out.push(Command::Speak(vec![focus_line(self, &choice)]));
        self.focus = Some(choice);
    }
}

/// "确认缴费。按确认键办理。": the choice's words as its button shows them (an amount as it is
/// said, "50元整" for ¥50), and how to take it.
fn focus_line(s: &Session, choice: &Intent) -> String {
    let lang = s.lang;
    let label = match choice {
        Intent::ChooseAmount(amount) => words::spoken_amount(*amount, lang),
        // The button shows 中文, which an English voice cannot say.
        Intent::ToggleLanguage if lang == catalogue::Lang::En => tr(lang, "Chinese").into(),
        _ => choice_label(s, choice),
    };
    words::trf(lang, "{}. Press Enter to choose it.", &[&label])
}

/// A choice in the words of its button (the tests find the ringed button by them).
pub fn choice_label(s: &Session, choice: &Intent) -> String {
    let lang = s.lang;
    match choice {
        Intent::Start(service) => words::service_name(*service, lang).into(),
        Intent::Repeat => tr(lang, "Listen").into(),
        Intent::InsertGasCard => tr(lang, "Read gas card").into(),
        // The top-up buttons show whole yuan: "¥50".
        Intent::ChooseAmount(amount) => format!("¥{}", amount.0 / 100),
        Intent::ConfirmBill if s.service() == Some(Service::GasCard) => tr(lang, "Confirm top-up").into(),
        Intent::ConfirmBill => tr(lang, "Confirm").into(),
        Intent::Amend => tr(lang, "Change").into(),
        Intent::ChooseMethod(MethodChoice::Code) => tr(lang, "Payment code").into(),
        Intent::ChooseMethod(MethodChoice::BankCard) => tr(lang, "Bank card").into(),
        Intent::ChooseMethod(MethodChoice::Cash) => tr(lang, "Cash").into(),
        Intent::StartCash => tr(lang, "Start inserting notes").into(),
        Intent::FinishCash => tr(lang, "Finish inserting notes").into(),
        Intent::StopWaiting => tr(lang, "Stop waiting").into(),
        Intent::ScanAgain => tr(lang, "Scan again").into(),
        Intent::Receipt(true) => tr(lang, "Print receipt").into(),
        Intent::Receipt(false) => tr(lang, "No receipt").into(),
        Intent::Done => tr(lang, "Done").into(),
        Intent::Another => tr(lang, "Pay another").into(),
        Intent::CallStaff => tr(lang, "Call staff").into(),
        Intent::ToggleLarge => tr(lang, "Large text").into(),
        // The language button is named in the language it switches to.
        Intent::ToggleLanguage => tr(lang, "中文").into(),
        Intent::BlankMirror if s.screens_hidden => tr(lang, "Show screens").into(),
        Intent::BlankMirror => tr(lang, "Hide screens").into(),
        _ => String::new(),
    }
}
