//! What the customer hears and reads about their notes: the news after a poll, why a note came
//! back, and the words a cash slip carries. The rules are in `kiosk_core::cash`; this is only
//! how they are said.

use super::cash::CashNews;
use catalogue::bilingual;
use kiosk_core::cash::{Head, Intake, Limit, NoteState};
use kiosk_core::session::Text;
use kiosk_core::Fen;

/// What to tell a customer whose note the head rejected, by its reason and the notes the kiosk
/// takes now.
pub fn advice(reason: cash::RejectReason, limit: Limit) -> Text {
    use cash::RejectReason as R;
    match reason {
        // The kiosk inhibited it: too large for what is due (no change is given), or not a note
        // this kiosk takes at all.
        R::Inhibited => match limit {
            Limit::UpTo(_) => too_large(),
            Limit::Any | Limit::Stop => Text::new("This note is not taken here: please insert another note"),
        },
        R::Magnetic | R::PhotoPattern | R::PhotoLevel | R::Discrimination | R::Calibration => {
            Text::new("This note could not be recognised: please try another note")
        }
        R::Insertion
        | R::ResidualBill
        | R::Conveying
        | R::Operation
        | R::Stacker
        | R::Length
        | R::Other(_) => Text::new("Please smooth the note flat and insert it again"),
    }
}

fn too_large() -> Text {
    Text::new("This note is more than is still due and no change is given: please insert a smaller note")
}

/// What the customer hears after a poll whose step is on record.
pub(super) fn news(status: cash::Status, head: Head, credited_before: Fen, intake: &Intake) -> CashNews {
    if intake.credited() > credited_before {
        return CashNews::Credited(intake.credited() - credited_before);
    }
    match (status, head) {
        (cash::Status::Rejecting(reason), _) => CashNews::Returned(advice(reason, intake.limit())),
        // The kiosk sent it back itself: larger than is still due.
        (_, Head::Returned) if last_returned_too_large(intake) => CashNews::Returned(too_large()),
        (_, Head::Returned) => CashNews::Returned(Text::new("Please take your note back")),
        (_, Head::Jam) => CashNews::NeedsStaff(Text::new("A note is stuck: please call staff")),
        (_, Head::Fault) => {
            CashNews::NeedsStaff(Text::new("The cash acceptor has a fault: please call staff"))
        }
        (cash::Status::StackerOpen, _) => {
            CashNews::NeedsStaff(Text::new("The cash box is open: please call staff"))
        }
        (_, Head::BoxUnavailable) => {
            CashNews::NeedsStaff(Text::new("The cash box is full: please call staff"))
        }
        _ => CashNews::Nothing,
    }
}

/// The last note went back because it was worth more than the limit allowed.
fn last_returned_too_large(intake: &Intake) -> bool {
    let Some(last) = intake.notes.last() else { return false };
    let due = intake.still_due();
    last.state == NoteState::Returned
        && matches!(intake.limit(), Limit::UpTo(_))
        && last.value.is_some_and(|v| v > due)
}

/// A head fault that takes cash out of service, in the staff's words (never a type's name).
pub(super) fn fault(status: cash::Status) -> &'static str {
    use cash::Status as S;
    match status {
        S::AcceptorJam => "a note is stuck in the acceptor",
        S::StackerJam => "a note is stuck in the stacker",
        S::Cheated => "a note was pulled back (cheat attempt)",
        S::Failure(_) => "the acceptor reports a failure",
        S::StackerFull => "the cash box is full",
        S::StackerOpen => "the cash box is open or removed",
        _ => "the acceptor is not ready",
    }
}

/// The words a cash payment's slip carries beside the receipt, when there are any: the
/// customer left before paying in full, or cash is held for staff (stuck, in doubt, or
/// credited beyond every bill that takes it). `None`: an ordinary receipt says it all.
pub(super) fn slip_note(intake: &Intake, owed: Fen) -> Option<String> {
    let mut lines = Vec::new();
    if intake.walked_away && !intake.paid {
        lines.push(bilingual(
            "You left before paying in full: the cash inserted was credited to your account",
            " / ",
        ));
    }
    let totals = intake.totals();
    if totals.holds_any() {
        let held = held_amount(&totals);
        lines.push(format!("{}: {held}", bilingual("Cash held for staff (a note stuck or in doubt)", " / ")));
    }
    if owed.is_positive() {
        lines.push(format!("{}: {owed}", bilingual("Cash to be paid back at the counter", " / ")));
    }
    if totals.holds_any() || owed.is_positive() {
        lines.push(bilingual("Keep this slip and show it at the counter", " / "));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The cash held for staff as the slip gives it: the sum of the notes whose value is on record,
/// and how many more were caught before their value was read ("50.00 + 1 张面额未知").
pub(super) fn held_amount(totals: &kiosk_core::cash::CashTotals) -> String {
    match totals.held_unknown {
        0 => totals.held.to_string(),
        n => format!("{} + {n} {}", totals.held, bilingual("note(s) of unknown value", " / ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::cash::Overpay;
    use kiosk_core::session::Lang;

    #[test]
    fn a_note_sent_back_as_too_large_says_to_insert_a_smaller_one() {
        let mut intake = Intake::new(Fen(3000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Fen(5000))));
        let said = news(cash::Status::Returning, Head::Returned, Fen(0), &intake);
        let CashNews::Returned(words) = said else { panic!("{said:?}") };
        assert!(words.in_lang(Lang::En).contains("smaller note"), "{}", words.in_lang(Lang::En));
        // Under prepayment every note fits: an inhibited one is simply not taken here.
        let any = advice(cash::RejectReason::Inhibited, Limit::Any).in_lang(Lang::En);
        assert!(!any.contains("smaller"), "{any}");
    }

    #[test]
    fn a_slip_note_only_when_there_is_something_to_say() {
        let mut intake = Intake::new(Fen(3000), Overpay::Refused);
        assert_eq!(slip_note(&intake, Fen::ZERO), None);
        intake.walk_away();
        let note = slip_note(&intake, Fen(1000)).unwrap();
        assert!(note.contains("left before paying") && note.contains("counter"), "{note}");
    }
}
