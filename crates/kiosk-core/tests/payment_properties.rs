//! Properties over random worlds: random customers, lost requests and replies, refusing billers,
//! card pulls and power cuts at any step. Whatever happens, the customer is charged at most once
//! and every fen is delivered, returned or in suspense.

mod common;

use common::*;
use kiosk_core::payment::State;
use kiosk_core::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn run_world(amounts: Vec<i64>, rejects: BTreeSet<usize>, card: bool, loss: u8, crash: u8, dice: Vec<u8>) {
    let order = if card { card_order() } else { order(&amounts) };
    let rejects: BTreeSet<usize> = rejects.into_iter().filter(|&l| l < order.lines.len()).collect();
    let mut world = World::new(order.total(), rejects, loss);
    let mut drive = Drive::new(Payment::new(order));
    let mut dice = Dice::new(dice);
    let effects = drive.feed(Event::PayWith { channel: Channel::WeChat, code_digest: "d".into() });
    assert_eq!(effects, vec![Effect::Pay]);
    drive.run(effects, &mut world, &mut dice, crash);

    let p = &drive.payment;
    let s = p.settlement();
    // Never two charges for one order: one pay request, ever.
    assert_eq!(drive.pay_effects, 1);
    assert!(world.pay_calls <= 1);
    // Never a write-off after a reverse was sent (R7).
    assert!(!drive.write_off_effect_after_reverse, "write-off after reverse: {:?}", p.state);
    assert!(!world.write_off_after_reverse);
    // Every terminal state accounts for every fen, and agrees with the other side — in amounts,
    // not only in counts: what the kiosk says went back is what the channel paid back.
    if p.state.is_terminal() {
        assert!(s.balances(), "{:?} does not balance: {s:?}", p.state);
        assert_eq!(world.kept(), world.delivered(), "world disagrees in {:?}: {s:?}", p.state);
        assert_eq!(world.delivered(), s.delivered);
        if !matches!(p.state, State::Reversed { .. }) {
            assert_eq!(world.refunded(true), s.returned, "refunds summed differ in {:?}", p.state);
        }
        // "Not charged" is said only when no money was taken.
        if matches!(
            p.state,
            State::Reversed { refunded: Some(false) } | State::PayFailed { .. } | State::Abandoned
        ) {
            assert_eq!(world.kept(), Fen::ZERO);
            assert!(
                !matches!(world.order, ChannelOrder::Paid | ChannelOrder::ClosedRefunded),
                "told not charged, but charged"
            );
        }
    } else {
        assert!(p.state.is_parked(), "ended in {:?}", p.state);
        let unaccounted = world.kept() - world.delivered();
        assert!(unaccounted >= Fen::ZERO, "the biller got more than the customer paid");
        assert!(
            unaccounted <= s.in_suspense + s.returning,
            "{unaccounted} unaccounted beyond suspense and refunds on their way {s:?}"
        );
    }
    // T+1: the statements tell the truth about anything left in suspense (F20), even when a file
    // is missing rows: the kiosk never settles a payment wrongly on partial evidence.
    if matches!(p.state, State::Suspense { .. }) {
        let evidence = world.statements(p.lines.len(), &mut dice);
        let mut settled = p.clone();
        settled.step(Event::Reconciled { evidence }, drive.now, &drive.policy);
        if settled.state.is_terminal() {
            assert!(settled.settlement().balances(), "{:?}", settled);
            assert_eq!(settled.settlement().delivered, world.delivered());
            assert_eq!(world.kept(), world.delivered());
        }
        if matches!(settled.state, State::Reversed { refunded: Some(false) }) {
            assert_eq!(world.kept(), Fen::ZERO, "settled as not charged, but charged");
        }
    }
    if matches!(p.state, State::AwaitCardWrite { .. }) {
        // The purchase is the biller's: only the card write is missing, never the money.
        assert_eq!(s.delivered, p.order.total());
    }
    // Refund numbers are unique and derived from the order.
    let numbers: BTreeSet<&str> = p.refund_numbers().collect();
    assert_eq!(numbers.len(), p.refunds.len());
    assert!(p.refunds.iter().all(|r| r.refund_no.starts_with(p.order.reference.as_str())));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn money_is_never_lost_or_taken_twice(
        amounts in proptest::collection::vec(1i64..50_000, 1..=3),
        rejects in proptest::collection::btree_set(0usize..3, 0..=2),
        card in any::<bool>(),
        loss in 0u8..40,
        crash in 0u8..15,
        dice in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        run_world(amounts, rejects, card, loss, crash, dice);
    }

    /// Any event in any order, including nonsense replies: the machine never panics, terminal
    /// states absorb everything, and a second pay request is never asked for.
    #[test]
    fn arbitrary_event_sequences_are_safe(events in proptest::collection::vec(any_event(), 0..60)) {
        let mut p = Payment::new(order(&[3150, 4800]));
        let policy = Policy::default();
        let mut now = Ts(0);
        let mut pays = 0;
        let mut reversed = false;
        for event in events {
            now = now + std::time::Duration::from_secs(7);
            let was_terminal = p.state.is_terminal();
            let before = p.clone();
            let stepped = p.step(event, now, &policy);
            if was_terminal {
                prop_assert_eq!(&p, &before);
                prop_assert!(stepped.effects.is_empty());
            }
            for effect in &stepped.effects {
                match effect {
                    Effect::Pay => pays += 1,
                    Effect::Reverse => reversed = true,
                    Effect::WriteOff { .. } => prop_assert!(!reversed, "write-off after reverse"),
                    _ => {}
                }
            }
            prop_assert!(pays <= 1);
            if p.state.is_terminal() {
                prop_assert!(p.settlement().balances(), "{:?} {:?}", p.state, p.settlement());
            }
        }
    }
}

fn any_event() -> impl Strategy<Value = Event> {
    let text = || "[A-Z_]{0,6}";
    prop_oneof![
        Just(Event::PayWith { channel: Channel::Alipay, code_digest: "d".into() }),
        Just(Event::Cancel),
        Just(Event::Tick),
        Just(Event::Tick),
        Just(Event::Resume),
        Just(Event::Proceed),
        Just(Event::RewriteCard),
        text().prop_map(|t| Event::PayReplied { reply: PayReply::Paid { channel_txn: t } }),
        Just(Event::PayReplied { reply: PayReply::AwaitingPin }),
        text().prop_map(|t| Event::PayReplied { reply: PayReply::Unknown { detail: t } }),
        text().prop_map(|code| Event::PayReplied {
            reply: PayReply::Failed { kind: FailKind::Customer, code, message: String::new() }
        }),
        text().prop_map(|t| Event::QueryReplied { reply: QueryReply::Paid { channel_txn: t } }),
        Just(Event::QueryReplied { reply: QueryReply::Waiting }),
        Just(Event::QueryReplied { reply: QueryReply::NotFound }),
        text().prop_map(|code| Event::QueryReplied { reply: QueryReply::Failed { code } }),
        proptest::option::of(any::<bool>())
            .prop_map(|refunded| Event::ReverseReplied { reply: ReverseReply::Done { refunded } }),
        Just(Event::QueryReplied { reply: QueryReply::Mismatch { detail: String::new() } }),
        Just(Event::PayReplied { reply: PayReply::Mismatch { detail: String::new() } }),
        Just(Event::Recheck),
        (0usize..3).prop_map(|item| Event::RefundReplied { item, reply: RefundReply::Accepted }),
        (0usize..3).prop_map(|item| Event::RefundStatusReplied { item, reply: RefundQueryReply::Refunded }),
        (0usize..3).prop_map(|item| Event::RefundStatusReplied { item, reply: RefundQueryReply::Pending }),
        (0usize..3).prop_map(|item| Event::RefundStatusReplied { item, reply: RefundQueryReply::NotFound }),
        (0usize..3).prop_map(|item| Event::RefundStatusReplied {
            item,
            reply: RefundQueryReply::Failed { code: "CHANGE".into() }
        }),
        Just(Event::ReverseReplied { reply: ReverseReply::Retry { detail: String::new() } }),
        Just(Event::ReverseReplied { reply: ReverseReply::Refused { detail: String::new() } }),
        (0usize..3).prop_map(|line| Event::WriteOffReplied {
            line,
            reply: WriteOffReply::WrittenOff { biller_txn: "B".into(), card: None }
        }),
        (0usize..3).prop_map(|line| Event::WriteOffReplied {
            line,
            reply: WriteOffReply::Rejected { code: "X".into(), message: String::new() }
        }),
        (0usize..3).prop_map(|line| Event::WriteOffReplied {
            line,
            reply: WriteOffReply::Unknown { detail: String::new() }
        }),
        (0usize..3).prop_map(|line| Event::WriteOffStatusReplied { line, reply: WriteOffStatus::NotFound }),
        (0usize..3).prop_map(|item| Event::RefundReplied { item, reply: RefundReply::Refunded }),
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(charged, reversed, w)| Event::Reconciled {
            evidence: kiosk_core::payment::StatementEvidence {
                charged,
                reversed,
                refunds: vec!["YZTEST0000000001R2".into()],
                written_off: vec![w, charged],
                complete: w,
                files: vec![],
            }
        }),
        (0usize..3).prop_map(|item| Event::RefundReplied {
            item,
            reply: RefundReply::Unknown { detail: String::new() }
        }),
    ]
}

/// Guards the properties above against being vacuous: across many seeded worlds, every end the
/// diagram has is actually reached.
#[test]
fn random_worlds_reach_every_end_state() {
    let mut seen = BTreeSet::new();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..3_000u64 {
        let dice: Vec<u8> = (0..300).map(|_| next() as u8).collect();
        let card = round % 4 == 0;
        let rejects: BTreeSet<usize> = match round % 5 {
            0 => [0, 1, 2].into(),
            1 | 2 => [1].into(),
            _ => BTreeSet::new(),
        };
        let amounts = vec![3150, 4800, 12000][..(round % 3 + 1) as usize].to_vec();
        let order = if card { card_order() } else { order(&amounts) };
        let mut world = World::new(order.total(), rejects, (round % 30) as u8);
        let mut drive = Drive::new(Payment::new(order));
        let mut dice = Dice::new(dice);
        let first = drive.feed(Event::PayWith { channel: Channel::Alipay, code_digest: "d".into() });
        drive.run(first, &mut world, &mut dice, (round % 7) as u8);
        seen.insert(drive.payment.state.label());
    }
    for label in
        ["DONE", "REFUNDED", "REVERSED", "PAY_FAILED", "SUSPENSE", "AWAIT_CARD_WRITE", "REFUND_PENDING"]
    {
        assert!(seen.contains(label), "no world ended in {label}: {seen:?}");
    }
}
