//! The cash rules over random acceptor behaviour: lost ACKs, power cuts anywhere, jams,
//! returns, notes too large. Whatever the head says, a note is credited at most once, only
//! after it was on record in escrow, and without prepayment the customer never pays more than is
//! due.

use kiosk_core::cash::{BillInside, CashEffect, Head, Intake, NoteState, Overpay};
use kiosk_core::Fen;
use proptest::prelude::*;

fn head() -> impl Strategy<Value = Head> {
    let note =
        prop_oneof![Just(None), (0usize..6).prop_map(|i| Some(Fen([100, 500, 1000, 2000, 5000, 10_000][i])))];
    prop_oneof![
        4 => note.prop_map(Head::Escrow),
        4 => Just(Head::VendValid),
        3 => Just(Head::Idle),
        1 => Just(Head::Returned),
        1 => prop_oneof![Just(BillInside::None), Just(BillInside::Acceptor), Just(BillInside::Stacker)].prop_map(Head::PowerUp),
        1 => Just(Head::Jam),
        1 => Just(Head::Cheated),
        1 => Just(Head::BoxUnavailable),
    ]
}

proptest! {
    #[test]
    fn a_note_is_credited_at_most_once_and_never_beyond_what_is_due(
        due in 100i64..30_000,
        prepay in any::<bool>(),
        heads in proptest::collection::vec(head(), 0..60),
        walk_away_at in proptest::option::of(0usize..60),
    ) {
        let overpay = if prepay { Overpay::Prepayment } else { Overpay::Refused };
        let mut intake = Intake::new(Fen(due), overpay);
        let mut stacks_asked = 0;
        let mut paid = 0;
        for (i, head) in heads.into_iter().enumerate() {
            if walk_away_at == Some(i) {
                intake.walk_away();
            }
            let credited_before = intake.notes.iter().filter(|n| n.state == NoteState::Credited).count();
            let effects = intake.step(head);
            stacks_asked += effects.iter().filter(|e| **e == CashEffect::Stack).count();
            paid += effects.iter().filter(|e| **e == CashEffect::Paid).count();
            let credited_after = intake.notes.iter().filter(|n| n.state == NoteState::Credited).count();
            // One status credits at most one note, and only a VEND VALID or a power-up in the stacker.
            prop_assert!(credited_after <= credited_before + 1);
            if credited_after > credited_before {
                prop_assert!(matches!(head, Head::VendValid | Head::PowerUp(BillInside::Stacker)));
            }
            prop_assert!(credited_after <= stacks_asked, "credited without a STACK on record");
            prop_assert_eq!(intake.credited().0, intake.notes.iter().filter(|n| n.state == NoteState::Credited).filter_map(|n| n.value).map(|v| v.0).sum::<i64>());
            if !prepay {
                prop_assert!(intake.credited() <= Fen(due), "no change is given");
            }
            prop_assert!(intake.notes.iter().filter(|n| n.state == NoteState::Escrowed).count() <= 1);
        }
        prop_assert!(paid <= 1, "paid once");
        if paid == 1 {
            prop_assert!(intake.credited() >= Fen(due));
        } else if walk_away_at.is_none() {
            prop_assert!(intake.credited() < Fen(due), "covered but never paid");
        }
    }
}
