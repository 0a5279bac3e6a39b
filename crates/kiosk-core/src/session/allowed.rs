//! What each screen lets the customer (or staff) do now, and what the physical keypad's keys
//! mean there. Everything else is ignored, so a stale or doubled tap can never act on the wrong
//! screen.

use super::stage::{Finding, Stage};
use super::{Intent, Key, MethodChoice, PayPhase, ReceiptState, Screen, Service, Session, TOP_UP_AMOUNTS};

impl Session {
    /// Whether `intent` means anything on this screen now.
    pub fn allowed(&self, intent: &Intent) -> bool {
        use Intent::*;
        let s = self.screen();
        // Typing and looking up happen on the find-account screen, and never twice at once.
        let finding = match (&self.stage, &self.staff_screen) {
            (Stage::FindAccount(finding @ Finding { lookup: None, .. }), None) => Some(finding),
            _ => None,
        };
        let typing_pin = s == Screen::StaffSignIn;
        let typed_account = finding.is_some_and(|f| f.service != Service::GasCard);
        match intent {
            ToggleLarge | ToggleLanguage | Repeat | Volume | CallStaff | DismissNotice | BlankMirror => true,
            // With nothing to choose, the key says the screen again (focus.rs).
            FocusNext | FocusPrevious => true,
            Extend => self.warning,
            Exit => self.may_leave() && !matches!(s, Screen::Attract | Screen::OutOfService),
            // On a staff screen 返回 closes it, whatever waits underneath.
            Back => {
                (self.staff_screen.is_some() || self.may_leave())
                    && !self.busy()
                    && !matches!(s, Screen::Attract | Screen::OutOfService)
            }
            Start(service) => s == Screen::Attract && self.availability.service(*service),
            Digit(d) => *d <= 9 && (finding.is_some() || typing_pin),
            DeleteDigit | ClearDigits => finding.is_some() || typing_pin,
            SubmitAccount => typed_account,
            ScanBill => typed_account && self.availability.scanner,
            ReadIdCard => finding.is_some_and(|f| f.service == Service::Joint) && self.availability.id_card,
            InsertGasCard => finding.is_some_and(|f| f.service == Service::GasCard),
            ChooseAmount(amount) => s == Screen::TopUpAmount && amount.0 > 0,
            ConfirmBill => s == Screen::Confirm && self.amount().is_some_and(|a| a.0 > 0),
            Amend => s == Screen::Confirm,
            ChooseMethod(MethodChoice::Cash) => s == Screen::Method && self.cash_payable(),
            ChooseMethod(method) => s == Screen::Method && self.availability.method(*method),
            StartCash => s == Screen::Paying && self.phase() == Some(PayPhase::CashRule),
            FinishCash => s == Screen::Paying && self.phase() == Some(PayPhase::TakingCash),
            ScanAgain => s == Screen::Paying && self.phase().is_none(),
            // Only the scanner's wait can be stopped; the card slot has its own time limit.
            StopWaiting => {
                s == Screen::Paying && matches!(self.phase(), Some(PayPhase::WaitingForCode { .. }))
            }
            Receipt(_) => s == Screen::Result && self.receipt() == Some(&ReceiptState::Offered),
            Done => matches!(s, Screen::Result | Screen::Farewell),
            // Not before the receipt offer is answered, once money moved.
            Another => {
                s == Screen::Result
                    && !(self.result_protected() && self.receipt() == Some(&ReceiptState::Offered))
            }
            StaffSignInOpen => self.staff.is_none() && !self.money_in_flight() && s != Screen::StaffSignIn,
            StaffSubmit => typing_pin && !self.pin().is_empty(),
            StaffPanel => self.staff.is_some() && s != Screen::StaffPanel && !self.money_in_flight(),
            StaffBackToCustomer | StaffSignOut | StaffReprint | StaffRewriteCard | StaffCollectCash
            | StaffPairHub | StaffToggleLayout => s == Screen::StaffPanel && self.staff.is_some(),
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
        let screen = self.screen();
        let gas_card = self.service() == Some(Service::GasCard);
        let typing = screen == StaffSignIn || (screen == FindAccount && !gas_card);
        if key == Key::Enter && !typing {
            if let Some(choice) = self.focused_choice() {
                return Some(choice);
            }
        }
        Some(match (key, screen) {
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
            (Key::Digit(3), Method) => Intent::ChooseMethod(MethodChoice::Cash),
            (Key::Digit(1), Result) => Intent::Receipt(true),
            (Key::Digit(2), Result) => Intent::Receipt(false),
            (Key::Enter, FindAccount) if gas_card => Intent::InsertGasCard,
            (Key::Enter, FindAccount) => Intent::SubmitAccount,
            // Nothing due: Enter looks up another account.
            (Key::Enter, Confirm) if self.nothing_due() => Intent::Amend,
            (Key::Enter, Confirm) => Intent::ConfirmBill,
            (Key::Enter, Paying) if self.phase() == Some(PayPhase::CashRule) => Intent::StartCash,
            (Key::Enter, Paying) => Intent::ScanAgain,
            (Key::Enter, Result | Farewell) => Intent::Done,
            (Key::Enter, StaffSignIn) => Intent::StaffSubmit,
            _ => return None,
        })
    }
}
