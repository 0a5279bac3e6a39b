//! The typed contract of taps: what `Kiosk.tap(action, arg)` from the .slint files means as a
//! session [`Intent`], and back — which button (action and argument) a keypad focus rings.
//! Both directions live here so that they cannot drift apart (the test walks every choice).

use crate::Action;
use kiosk_core::session::{Intent, MethodChoice, Service};
use kiosk_core::Fen;

/// A tap, by the action the .slint files send and its argument; None for an argument out of
/// range (a digit is 0–9, a service an index of `Service::ALL`).
pub fn intent(action: Action, arg: i32) -> Option<Intent> {
    let digit = u8::try_from(arg).ok().filter(|d| *d <= 9);
    Some(match action {
        Action::Start => Intent::Start(*Service::ALL.get(usize::try_from(arg).ok()?)?),
        Action::Digit => Intent::Digit(digit?),
        Action::Delete => Intent::DeleteDigit,
        Action::Clear => Intent::ClearDigits,
        Action::Submit => Intent::SubmitAccount,
        Action::ScanBill => Intent::ScanBill,
        Action::ReadId => Intent::ReadIdCard,
        Action::ReadGasCard => Intent::InsertGasCard,
        Action::Amount => Intent::ChooseAmount(Fen(i64::from(arg))),
        Action::Confirm => Intent::ConfirmBill,
        Action::Amend => Intent::Amend,
        Action::Method => Intent::ChooseMethod(match arg {
            0 => MethodChoice::Code,
            1 => MethodChoice::BankCard,
            2 => MethodChoice::Cash,
            _ => return None,
        }),
        Action::StopWaiting => Intent::StopWaiting,
        Action::ScanAgain => Intent::ScanAgain,
        Action::CashStart => Intent::StartCash,
        Action::CashFinish => Intent::FinishCash,
        Action::Receipt => Intent::Receipt(match arg {
            1 => true,
            0 => false,
            _ => return None,
        }),
        Action::Done => Intent::Done,
        Action::Another => Intent::Another,
        Action::Extend => Intent::Extend,
        Action::Back => Intent::Back,
        Action::Exit => Intent::Exit,
        Action::Repeat => Intent::Repeat,
        Action::Volume => Intent::Volume,
        Action::Large => Intent::ToggleLarge,
        Action::Language => Intent::ToggleLanguage,
        Action::CallStaff => Intent::CallStaff,
        Action::BlankMirror => Intent::BlankMirror,
        Action::StaffSignIn => Intent::StaffSignInOpen,
        Action::StaffSubmit => Intent::StaffSubmit,
        Action::StaffPanel => Intent::StaffPanel,
        Action::StaffBack => Intent::StaffBackToCustomer,
        Action::StaffSignOut => Intent::StaffSignOut,
        Action::StaffReprint => Intent::StaffReprint,
        Action::StaffRewrite => Intent::StaffRewriteCard,
        Action::StaffCollectCash => Intent::StaffCollectCash,
        Action::StaffPairHub => Intent::StaffPairHub,
        Action::StaffLayout => Intent::StaffToggleLayout,
    })
}

/// The tap a choice's button sends: the button `Kiosk.in-focus(action, arg)` rings. None for
/// intents no button offers as a keypad choice (digits, the footer's controls).
pub fn tap_of(choice: &Intent) -> Option<(Action, i32)> {
    Some(match choice {
        Intent::Start(service) => (Action::Start, Service::ALL.iter().position(|s| s == service)? as i32),
        Intent::Repeat => (Action::Repeat, 0),
        Intent::InsertGasCard => (Action::ReadGasCard, 0),
        Intent::ChooseAmount(amount) => (Action::Amount, i32::try_from(amount.0).ok()?),
        Intent::ConfirmBill => (Action::Confirm, 0),
        Intent::Amend => (Action::Amend, 0),
        Intent::ChooseMethod(MethodChoice::Code) => (Action::Method, 0),
        Intent::ChooseMethod(MethodChoice::BankCard) => (Action::Method, 1),
        Intent::ChooseMethod(MethodChoice::Cash) => (Action::Method, 2),
        Intent::StopWaiting => (Action::StopWaiting, 0),
        Intent::ScanAgain => (Action::ScanAgain, 0),
        Intent::StartCash => (Action::CashStart, 0),
        Intent::FinishCash => (Action::CashFinish, 0),
        Intent::Receipt(wanted) => (Action::Receipt, i32::from(*wanted)),
        Intent::Done => (Action::Done, 0),
        Intent::Another => (Action::Another, 0),
        Intent::BlankMirror => (Action::BlankMirror, 0),
        Intent::CallStaff => (Action::CallStaff, 0),
        Intent::ToggleLarge => (Action::Large, 0),
        Intent::ToggleLanguage => (Action::Language, 0),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::session::TOP_UP_AMOUNTS;

    /// The taps' arguments are checked: a digit is 0–9, a service an index of Service::ALL.
    #[test]
    fn a_tap_s_argument_out_of_range_has_no_meaning() {
        assert_eq!(intent(Action::Digit, 7), Some(Intent::Digit(7)));
        assert_eq!(intent(Action::Digit, 10), None);
        assert_eq!(intent(Action::Digit, -1), None);
        assert_eq!(intent(Action::Start, 4), Some(Intent::Start(Service::GasCard)));
        assert_eq!(intent(Action::Start, 5), None);
        assert_eq!(intent(Action::Method, 1), Some(Intent::ChooseMethod(MethodChoice::BankCard)));
        assert_eq!(intent(Action::Method, 2), Some(Intent::ChooseMethod(MethodChoice::Cash)));
        assert_eq!(intent(Action::Method, 3), None);
        assert_eq!(intent(Action::Receipt, 0), Some(Intent::Receipt(false)));
        assert_eq!(intent(Action::Receipt, 7), None);
        assert_eq!(intent(Action::Amount, 5_000), Some(Intent::ChooseAmount(Fen(5_000))));
    }

    /// Every choice the keypad can focus rings the button that sends that very intent.
    #[test]
    fn a_focused_choice_rings_the_button_that_sends_it() {
        let mut choices: Vec<Intent> = Service::ALL.iter().map(|s| Intent::Start(*s)).collect();
        choices.extend(TOP_UP_AMOUNTS.iter().map(|a| Intent::ChooseAmount(*a)));
        choices.extend([
            Intent::Repeat,
            Intent::InsertGasCard,
            Intent::ConfirmBill,
            Intent::Amend,
            Intent::ChooseMethod(MethodChoice::Code),
            Intent::ChooseMethod(MethodChoice::BankCard),
            Intent::ChooseMethod(MethodChoice::Cash),
            Intent::StopWaiting,
            Intent::ScanAgain,
            Intent::StartCash,
            Intent::FinishCash,
            Intent::Receipt(true),
            Intent::Receipt(false),
            Intent::Done,
            Intent::Another,
            Intent::BlankMirror,
            Intent::CallStaff,
            Intent::ToggleLarge,
            Intent::ToggleLanguage,
        ]);
        for choice in choices {
            let (action, arg) = tap_of(&choice).unwrap_or_else(|| panic!("{choice:?} has a button"));
            assert_eq!(intent(action, arg), Some(choice.clone()), "{choice:?}");
        }
        assert_eq!(tap_of(&Intent::Digit(3)), None, "a digit is typed, never a focus");
    }
}
