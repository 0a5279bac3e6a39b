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
        1 => Just(Head::Stacked),
        2 => Just(Head::Busy),
        1 => Just(Head::Returned),
        1 => prop_oneof![Just(BillInside::None), Just(BillInside::Acceptor), Just(BillInside::Stacker)].prop_map(Head::PowerUp),
        1 => Just(Head::Jam),
        1 => Just(Head::Fault),
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
            let before: Vec<NoteState> = intake.notes.iter().map(|n| n.state).collect();
            let closed_before = intake.closed();
            let effects = intake.step(head);
            let stacks = effects.iter().filter(|e| **e == CashEffect::Stack).count();
            prop_assert!(stacks == 0 || !closed_before, "STACK after the intake closed");
            stacks_asked += stacks;
            paid += effects.iter().filter(|e| **e == CashEffect::Paid).count();
            let newly_credited: Vec<usize> = (0..intake.notes.len())
                .filter(|&n| intake.notes[n].state == NoteState::Credited && before.get(n) != Some(&NoteState::Credited))
                .collect();
            // One status credits at most one note, and only a VEND VALID, a STACKED (its VEND
            // VALID missed) or a power-up in the stacker.
            prop_assert!(newly_credited.len() <= 1);
            if !newly_credited.is_empty() {
                prop_assert!(matches!(head, Head::VendValid | Head::Stacked | Head::PowerUp(BillInside::Stacker)));
            }
            for (n, was) in before.iter().enumerate() {
                let now = intake.notes[n].state;
                // Credited stays credited; a note given back is never credited or moved again.
                if *was == NoteState::Credited || *was == NoteState::Returned {
                    prop_assert_eq!(now, *was, "note {} moved from {:?}", n, was);
                }
            }
            let credited_notes = intake.notes.iter().filter(|n| n.state == NoteState::Credited).count();
            prop_assert!(credited_notes <= stacks_asked, "credited without a STACK on record");
            if !prepay {
                prop_assert!(intake.credited() <= Fen(due), "no change is given");
            }
            prop_assert!(intake.notes.iter().filter(|n| n.state == NoteState::Escrowed).count() <= 1);
        }
        prop_assert!(paid <= 1, "paid once");
        prop_assert_eq!(paid == 1, intake.credited() >= Fen(due), "paid exactly when covered");
    }
}
