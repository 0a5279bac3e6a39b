//! Choosing without sight (accessibility.md item 21): on a screen where the keypad's digits do
//! not type, 0 moves to the next of the screen's choices and Clear to the one before, each said
//! aloud; Enter takes the choice in focus. Both screens ring it. The numbered shortcuts (1 水费,
//! 1 打印凭条 …) still work; typing screens keep their digits.

use super::words::{self, t};
use super::{Command, Intent, MethodChoice, ReceiptState, Screen, Service, Session, TOP_UP_AMOUNTS};

impl Session {
    /// The screen's choices that can be taken now, in reading order (what 0 steps through).
    pub fn choices(&self) -> Vec<Intent> {
        use Intent::*;
        let candidates: Vec<Intent> = match self.screen {
            Screen::Attract => Service::ALL.iter().map(|s| Start(*s)).chain([Repeat]).collect(),
            Screen::FindAccount => vec![InsertGasCard],
            Screen::TopUpAmount => TOP_UP_AMOUNTS.iter().map(|a| ChooseAmount(*a)).collect(),
            Screen::Confirm => vec![ConfirmBill, Amend],
            Screen::Method => vec![ChooseMethod(MethodChoice::Code), ChooseMethod(MethodChoice::BankCard)],
            Screen::Paying => vec![StopWaiting, ScanAgain],
            Screen::Result if self.receipt == ReceiptState::Offered => vec![Receipt(true), Receipt(false)],
            Screen::Result if self.receipt == ReceiptState::Printing => vec![],
            Screen::Result => vec![Done, Another],
            Screen::Farewell => vec![Done],
            _ => vec![],
        };
        candidates.into_iter().filter(|intent| self.allowed(intent)).collect()
    }

    /// The choice in focus, if it can still be taken.
    pub fn focused_choice(&self) -> Option<Intent> {
        self.focus.clone().filter(|focus| self.choices().contains(focus))
    }

    /// Moves the focus one choice on (or back), round the end, and says where it is.
    pub(super) fn move_focus(&mut self, forward: bool, out: &mut Vec<Command>) {
        let choices = self.choices();
        let Some(last) = choices.len().checked_sub(1) else { return };
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

/// "确认缴费。按确认键办理。": the choice's words as its button shows them, and how to take it.
fn focus_line(s: &Session, choice: &Intent) -> String {
    let lang = s.lang;
    let label = choice_label(s, choice);
    format!("{label}{}", t(lang, "。按确认键办理。", ". Press Enter to choose it."))
}

/// A choice in the words of its button.
pub fn choice_label(s: &Session, choice: &Intent) -> String {
    let lang = s.lang;
    match choice {
        Intent::Start(service) => words::service_name(*service, lang).into(),
        Intent::Repeat => t(lang, "听语音", "Listen").into(),
        Intent::InsertGasCard => t(lang, "读燃气卡", "Read gas card").into(),
        Intent::ChooseAmount(amount) => words::spoken_amount(*amount, lang),
        Intent::ConfirmBill if s.service == Some(Service::GasCard) => {
            t(lang, "确认充值", "Confirm top-up").into()
        }
        Intent::ConfirmBill => t(lang, "确认缴费", "Confirm").into(),
        Intent::Amend => t(lang, "返回修改", "Change").into(),
        Intent::ChooseMethod(MethodChoice::Code) => t(lang, "付款码支付", "Payment code").into(),
        Intent::ChooseMethod(MethodChoice::BankCard) => t(lang, "银行卡支付", "Bank card").into(),
        Intent::StopWaiting => t(lang, "不付了，返回", "Stop waiting").into(),
        Intent::ScanAgain => t(lang, "重新扫码", "Scan again").into(),
        Intent::Receipt(true) => t(lang, "打印凭条", "Print receipt").into(),
        Intent::Receipt(false) => t(lang, "不要凭条", "No receipt").into(),
        Intent::Done => t(lang, "完成", "Done").into(),
        Intent::Another => t(lang, "再办一笔", "Pay another").into(),
        _ => String::new(),
    }
}
