//! The fault scenarios of payments.md §10 at the level of the pure machine, told step by step.
//! (The same scenarios run end to end over HTTP in crates/kiosk/tests.)

mod common;

use common::*;
use kiosk_core::payment::{LineState, RefundStatus, State, StatementEvidence, SuspenseReason};
use kiosk_core::*;
use std::time::Duration;

fn started(lines: &[i64]) -> Drive {
    let mut drive = Drive::new(Payment::new(order(lines)));
    assert_eq!(
        drive.feed(Event::PayWith { channel: Channel::WeChat, code_digest: "d".into() }),
        [Effect::Pay]
    );
    drive
}

fn advance(drive: &mut Drive, secs: u64) {
    drive.now = drive.now + Duration::from_secs(secs);
}

fn pending_query_at(drive: &Drive) -> Ts {
    match drive.payment.state {
        State::PayPending { next_query_at, .. } => next_query_at,
        ref other => panic!("not pending: {other:?}"),
    }
}

#[test]
fn f3_pin_entered_at_25_s_is_paid_before_the_deadline() {
    let mut d = started(&[3150]);
    assert!(d.feed(Event::PayReplied { reply: PayReply::AwaitingPin }).is_empty());
    // WeChat: first query 5 s after USERPAYING, then every 10 s.
    assert_eq!(pending_query_at(&d), d.now + Duration::from_secs(5));
    for _ in 0..2 {
        d.now = pending_query_at(&d);
        assert_eq!(d.feed(Event::Tick), [Effect::Query]);
        d.feed(Event::QueryReplied { reply: QueryReply::Waiting });
    }
    d.now = pending_query_at(&d);
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    assert_eq!(
        d.feed(Event::QueryReplied { reply: QueryReply::Paid { channel_txn: "4200".into() } }),
        [Effect::Proceed]
    );
    assert_eq!(d.payment.state, State::Paid);
    assert_eq!(d.feed(Event::Proceed), [Effect::WriteOff { line: 0 }]);
}

#[test]
fn f4_pin_never_entered_reverses_at_the_deadline_and_never_earlier_than_15_s() {
    let mut d = started(&[3150]);
    d.feed(Event::PayReplied { reply: PayReply::AwaitingPin });
    let deadline = d.payment.pay_deadline.unwrap();
    let mut queries = 0;
    while let State::PayPending { .. } = d.payment.state {
        d.now = pending_query_at(&d);
        let effects = d.feed(Event::Tick);
        if effects == [Effect::Query] {
            queries += 1;
            d.feed(Event::QueryReplied { reply: QueryReply::Waiting });
        }
    }
    assert!(d.now >= deadline, "reversed before the 45 s deadline");
    assert!(queries >= 4, "only {queries} queries");
    assert!(matches!(d.payment.state, State::Reversing { in_flight: true, .. }));
    assert_eq!(
        d.feed(Event::ReverseReplied { reply: ReverseReply::Done { refunded: false } }),
        [Effect::PrintReceipt]
    );
    assert_eq!(d.payment.state, State::Reversed { refunded: false });
    assert!(d.payment.settlement().balances());
}

#[test]
fn f5_reverse_is_retried_on_recall_until_definite() {
    let mut d = started(&[3150]);
    // F2: the pay request never arrived; the order is not found twice, then closed anyway.
    d.feed(Event::PayReplied { reply: PayReply::Unknown { detail: "timeout".into() } });
    d.now = pending_query_at(&d);
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    assert!(d.feed(Event::QueryReplied { reply: QueryReply::NotFound }).is_empty(), "asks once more first");
    d.now = pending_query_at(&d);
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    // The second "not found" closes the order at once: it is 15 s after paying by now, the
    // earliest WeChat allows a reverse.
    assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::NotFound }), [Effect::Reverse]);
    assert!(d.now >= d.payment.pay_sent_at.unwrap() + Duration::from_secs(15));
    for _ in 0..3 {
        d.feed(Event::ReverseReplied { reply: ReverseReply::Retry { detail: "recall=Y".into() } });
        d.now = d.payment.next_deadline().unwrap();
        assert_eq!(d.feed(Event::Tick), [Effect::Reverse]);
    }
    d.feed(Event::ReverseReplied { reply: ReverseReply::Done { refunded: false } });
    assert_eq!(d.payment.state, State::Reversed { refunded: false });
}

#[test]
fn f19_reverse_exhausted_parks_in_suspense_with_a_slip() {
    let mut d = started(&[3150]);
    d.feed(Event::PayReplied { reply: PayReply::Unknown { detail: "timeout".into() } });
    d.now = d.payment.pay_deadline.unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::Query], "one last query at the deadline");
    assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::Waiting }), [Effect::Reverse]);
    let mut last = vec![];
    for _ in 0..20 {
        if d.payment.state.is_parked() {
            break;
        }
        d.now = d.payment.next_deadline().unwrap_or(d.now);
        d.feed(Event::Tick);
        last = d.feed(Event::ReverseReplied { reply: ReverseReply::Retry { detail: "no reply".into() } });
    }
    assert_eq!(last, [Effect::PrintSlip]);
    assert_eq!(d.payment.state, State::Suspense { reason: SuspenseReason::ReverseUnconfirmed });
    assert_eq!(d.payment.settlement().in_suspense, Fen(3150));
}

#[test]
fn r7_paid_after_a_refused_reverse_is_refunded_never_written_off() {
    let mut d = started(&[3150]);
    d.feed(Event::PayReplied { reply: PayReply::Unknown { detail: "timeout".into() } });
    d.now = d.payment.pay_deadline.unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    assert_eq!(
        d.feed(Event::QueryReplied { reply: QueryReply::Unknown { detail: "503".into() } }),
        [Effect::Reverse]
    );
    assert_eq!(
        d.feed(Event::ReverseReplied { reply: ReverseReply::Refused { detail: "too old".into() } }),
        [Effect::Query]
    );
    let effects = d.feed(Event::QueryReplied { reply: QueryReply::Paid { channel_txn: "42".into() } });
    assert_eq!(effects, [Effect::Refund { item: 0 }]);
    assert_eq!(d.payment.refunds[0].refund_no, "YZTEST0000000001R0");
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Refunded });
    assert_eq!(d.payment.state, State::Refunded);
    assert!(d.payment.settlement().balances());
}

fn paid_and_writing_off(lines: &[i64]) -> Drive {
    let mut d = started(lines);
    d.feed(Event::PayReplied { reply: PayReply::Paid { channel_txn: "42".into() } });
    let effects = d.feed(Event::Proceed);
    assert_eq!(effects.len(), lines.len());
    d
}

#[test]
fn f9_write_off_timeout_but_done_is_found_by_status_query() {
    let mut d = paid_and_writing_off(&[3150]);
    d.feed(Event::WriteOffReplied { line: 0, reply: WriteOffReply::Unknown { detail: "timeout".into() } });
    d.now = d.payment.next_deadline().unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::CheckWriteOff { line: 0 }]);
    let effects = d.feed(Event::WriteOffStatusReplied {
        line: 0,
        reply: WriteOffStatus::WrittenOff { biller_txn: "W1".into(), card: None },
    });
    assert_eq!(effects, [Effect::Proceed]);
    assert_eq!(d.feed(Event::Proceed), [Effect::PrintReceipt]);
    assert_eq!(d.payment.state, State::Done);
    assert!(d.payment.refunds.is_empty());
}

#[test]
fn lost_write_off_request_is_resent_with_the_same_reference() {
    let mut d = paid_and_writing_off(&[3150]);
    d.feed(Event::WriteOffReplied { line: 0, reply: WriteOffReply::Unknown { detail: "reset".into() } });
    d.now = d.payment.next_deadline().unwrap();
    d.feed(Event::Tick);
    let effects = d.feed(Event::WriteOffStatusReplied { line: 0, reply: WriteOffStatus::NotFound });
    assert_eq!(effects, [Effect::WriteOff { line: 0 }]);
    // Attempts count every call about the line: the write-off, the status query, the resend.
    assert_eq!(d.payment.lines[0], LineState::Sent { attempts: 3 });
}

#[test]
fn f10_definite_write_off_failure_refunds_with_one_stable_number() {
    let mut d = paid_and_writing_off(&[3150]);
    let effects = d.feed(Event::WriteOffReplied {
        line: 0,
        reply: WriteOffReply::Rejected { code: "ACCOUNT_CLOSED".into(), message: "".into() },
    });
    assert_eq!(effects, [Effect::Refund { item: 0 }]);
    let number = d.payment.refunds[0].refund_no.clone();
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Unknown { detail: "lost".into() } });
    d.now = d.payment.next_deadline().unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::Refund { item: 0 }]);
    assert_eq!(d.payment.refunds[0].refund_no, number);
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Refunded });
    assert_eq!(d.payment.state, State::Refunded);
    assert_eq!(d.payment.settlement().returned, Fen(3150));
}

#[test]
fn f11_joint_bill_refunds_only_the_failed_part() {
    let mut d = paid_and_writing_off(&[3150, 4800]);
    d.feed(Event::WriteOffReplied {
        line: 0,
        reply: WriteOffReply::WrittenOff { biller_txn: "W1".into(), card: None },
    });
    let effects = d.feed(Event::WriteOffReplied {
        line: 1,
        reply: WriteOffReply::Rejected { code: "BILL_CHANGED".into(), message: "".into() },
    });
    assert_eq!(effects, [Effect::Refund { item: 0 }]);
    assert_eq!(d.payment.refunds[0].amount, Fen(4800));
    assert_eq!(d.payment.refunds[0].refund_no, "YZTEST0000000001R2");
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Refunded });
    assert_eq!(d.payment.state, State::Done);
    let s = d.payment.settlement();
    assert_eq!((s.taken, s.delivered, s.returned), (Fen(7950), Fen(3150), Fen(4800)));
}

#[test]
fn an_unconfirmed_line_is_never_refunded_but_parked() {
    let mut d = paid_and_writing_off(&[3150]);
    d.feed(Event::WriteOffReplied { line: 0, reply: WriteOffReply::Unknown { detail: "timeout".into() } });
    while !d.payment.state.is_parked() {
        d.now = d.payment.next_deadline().expect("a deadline while checking");
        d.feed(Event::Tick);
        d.feed(Event::WriteOffStatusReplied {
            line: 0,
            reply: WriteOffStatus::Unknown { detail: "503".into() },
        });
    }
    assert_eq!(d.payment.state, State::Suspense { reason: SuspenseReason::WriteOffUnconfirmed });
    assert!(d.payment.refunds.is_empty());
    assert_eq!(d.payment.settlement().in_suspense, Fen(3150));
}

#[test]
fn restart_resumes_every_state_by_asking_first() {
    // ORDERED: nothing sent → abandoned.
    let mut d = Drive::new(Payment::new(order(&[3150])));
    assert!(d.feed(Event::Resume).is_empty());
    assert_eq!(d.payment.state, State::Abandoned);
    // PAY_SENT: query, never resend the pay request (F6/F7).
    let mut d = started(&[3150]);
    assert_eq!(d.feed(Event::Resume), [Effect::Query]);
    // WRITEOFF_SENT with a line on the wire: status query first (F8).
    let mut d = paid_and_writing_off(&[3150, 4800]);
    d.feed(Event::WriteOffReplied {
        line: 0,
        reply: WriteOffReply::WrittenOff { biller_txn: "W".into(), card: None },
    });
    assert_eq!(d.feed(Event::Resume), [Effect::CheckWriteOff { line: 1 }]);
    // REFUNDING: resend with the same number.
    let mut d = paid_and_writing_off(&[3150]);
    d.feed(Event::WriteOffReplied {
        line: 0,
        reply: WriteOffReply::Rejected { code: "X".into(), message: "".into() },
    });
    assert_eq!(d.feed(Event::Resume), [Effect::Refund { item: 0 }]);
    assert_eq!(d.payment.refunds[0].status, RefundStatus::InFlight);
    assert_eq!(d.payment.refunds[0].attempts, 1);
}

#[test]
fn f16_card_pulled_mid_write_waits_for_rewrite_of_the_same_purchase() {
    let mut d = Drive::new(Payment::new(card_order()));
    d.feed(Event::PayWith { channel: Channel::Alipay, code_digest: "d".into() });
    d.feed(Event::PayReplied { reply: PayReply::Paid { channel_txn: "2026".into() } });
    d.feed(Event::Proceed);
    let card = CardWriteData { purchase_seq: 8, data_hex: "00".into() };
    let effects = d.feed(Event::WriteOffReplied {
        line: 0,
        reply: WriteOffReply::WrittenOff { biller_txn: "G1".into(), card: Some(card) },
    });
    assert_eq!(effects, [Effect::Proceed]);
    assert_eq!(d.feed(Event::Proceed), [Effect::WriteCard]);
    let effects =
        d.feed(Event::CardWritten { result: CardWriteResult::NotWritten { detail: "pulled".into() } });
    assert_eq!(effects, [Effect::PrintSlip]);
    assert!(d.payment.state.is_parked() && !d.payment.state.blocks_new_sales());
    assert_eq!(d.feed(Event::RewriteCard), [Effect::WriteCard]);
    assert_eq!(d.feed(Event::CardWritten { result: CardWriteResult::Verified }), [Effect::ConfirmCardWrite]);
    assert_eq!(d.feed(Event::CardConfirmReplied { reply: ConfirmReply::Confirmed }), [Effect::PrintReceipt]);
    assert_eq!(d.payment.state, State::Done);
}

#[test]
fn f12_a_second_scan_on_the_same_order_sends_nothing() {
    let mut d = started(&[3150]);
    assert!(d.feed(Event::PayWith { channel: Channel::WeChat, code_digest: "e".into() }).is_empty());
    assert_eq!(d.pay_effects, 1);
}

#[test]
fn f13_already_paid_on_resend_is_queried_and_paid() {
    let mut d = started(&[3150]);
    d.feed(Event::PayReplied { reply: PayReply::AlreadyUsed { code: "ORDERPAID".into() } });
    assert_eq!(pending_query_at(&d), d.now, "query at once");
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    d.feed(Event::QueryReplied { reply: QueryReply::Paid { channel_txn: "42".into() } });
    assert_eq!(d.payment.state, State::Paid);
}

#[test]
fn the_journaled_payment_round_trips_through_json() {
    let mut d = paid_and_writing_off(&[3150, 4800]);
    advance(&mut d, 1);
    let json = serde_json::to_string(&d.payment).unwrap();
    let back: Payment = serde_json::from_str(&json).unwrap();
    assert_eq!(back, d.payment);
    assert_eq!(json.matches("3100000011").count(), 2, "the account appears once per line, in its field");
}

#[test]
fn a_restart_long_after_the_deadline_asks_before_reversing() {
    let mut d = started(&[3150]);
    // The kiosk was off for ten minutes with the pay request on the wire.
    advance(&mut d, 600);
    assert_eq!(d.feed(Event::Resume), [Effect::Query]);
    assert_eq!(
        d.feed(Event::QueryReplied { reply: QueryReply::Paid { channel_txn: "42".into() } }),
        [Effect::Proceed]
    );
    assert_eq!(d.payment.state, State::Paid, "paid during the outage: written off, not reversed");
}

#[test]
fn statements_never_contradict_what_the_kiosk_saw() {
    // Paid (a transaction id is known), then the write-off stayed unknown: suspense.
    let mut d = paid_and_writing_off(&[3150]);
    d.feed(Event::WriteOffReplied { line: 0, reply: WriteOffReply::Unknown { detail: "timeout".into() } });
    while !d.payment.state.is_parked() {
        d.now = d.payment.next_deadline().unwrap();
        d.feed(Event::Tick);
        d.feed(Event::WriteOffStatusReplied {
            line: 0,
            reply: WriteOffStatus::Unknown { detail: "503".into() },
        });
    }
    // A complete file without the charge (booked on another day, say) does not make it "not charged".
    let evidence =
        StatementEvidence { charged: false, written_off: vec![false], complete: true, ..Default::default() };
    assert!(d.feed(Event::Reconciled { evidence }).is_empty());
    assert!(matches!(d.payment.state, State::Suspense { .. }));
}

#[test]
fn a_reverse_the_channel_cannot_place_parks_until_the_statements() {
    let mut d = started(&[3150]);
    d.feed(Event::PayReplied { reply: PayReply::Unknown { detail: "timeout".into() } });
    d.now = d.payment.pay_deadline.unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::Waiting }), [Effect::Reverse]);
    let refused = ReverseReply::Refused { detail: "ORDERNOTEXIST".into() };
    assert_eq!(d.feed(Event::ReverseReplied { reply: refused }), [Effect::Query]);
    assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::NotFound }), [Effect::PrintSlip]);
    assert_eq!(d.payment.state, State::Suspense { reason: SuspenseReason::ReverseUnconfirmed });
}

#[test]
fn a_card_confirmation_left_in_suspense_is_sent_again_after_reconciliation() {
    let mut d = Drive::new(Payment::new(card_order()));
    d.feed(Event::PayWith { channel: Channel::Alipay, code_digest: "d".into() });
    d.feed(Event::PayReplied { reply: PayReply::Paid { channel_txn: "2026".into() } });
    d.feed(Event::Proceed);
    let card = CardWriteData { purchase_seq: 8, data_hex: "00".into() };
    d.feed(Event::WriteOffReplied {
        line: 0,
        reply: WriteOffReply::WrittenOff { biller_txn: "G1".into(), card: Some(card) },
    });
    d.feed(Event::Proceed);
    d.feed(Event::CardWritten { result: CardWriteResult::Verified });
    while !d.payment.state.is_parked() {
        d.feed(Event::CardConfirmReplied { reply: ConfirmReply::Unknown { detail: "503".into() } });
        if let Some(at) = d.payment.next_deadline() {
            d.now = at;
            d.feed(Event::Tick);
        }
    }
    assert_eq!(d.payment.state, State::Suspense { reason: SuspenseReason::CardConfirmUnconfirmed });
    let evidence =
        StatementEvidence { charged: true, written_off: vec![true], complete: true, ..Default::default() };
    d.feed(Event::Reconciled { evidence });
    assert_eq!(d.payment.next_deadline(), Some(d.now));
    assert_eq!(d.feed(Event::Tick), [Effect::ConfirmCardWrite]);
    assert_eq!(d.feed(Event::CardConfirmReplied { reply: ConfirmReply::Confirmed }), [Effect::PrintReceipt]);
    assert_eq!(d.payment.state, State::Done);
}

#[test]
fn f20_statements_settle_a_write_off_left_in_suspense() {
    let mut d = paid_and_writing_off(&[3150, 4800]);
    d.feed(Event::WriteOffReplied {
        line: 0,
        reply: WriteOffReply::WrittenOff { biller_txn: "W".into(), card: None },
    });
    d.feed(Event::WriteOffReplied { line: 1, reply: WriteOffReply::Unknown { detail: "timeout".into() } });
    while !d.payment.state.is_parked() {
        d.now = d.payment.next_deadline().unwrap();
        d.feed(Event::Tick);
        d.feed(Event::WriteOffStatusReplied {
            line: 1,
            reply: WriteOffStatus::Unknown { detail: "503".into() },
        });
    }
    // The biller's file does not (yet) show line 2: nothing changes.
    let partial = StatementEvidence { charged: true, written_off: vec![true, false], ..Default::default() };
    assert!(d.feed(Event::Reconciled { evidence: partial }).is_empty());
    assert!(matches!(d.payment.state, State::Suspense { .. }));
    // It does: external success overrides the local unknown.
    let full = StatementEvidence { charged: true, written_off: vec![true, true], ..Default::default() };
    assert_eq!(d.feed(Event::Reconciled { evidence: full }), [Effect::PrintReceipt]);
    assert_eq!(d.payment.state, State::Done);
    assert!(d.payment.settlement().balances());
}

#[test]
fn f20_a_reverse_never_confirmed_is_settled_as_not_charged() {
    let mut d = started(&[3150]);
    d.feed(Event::PayReplied { reply: PayReply::Unknown { detail: "timeout".into() } });
    d.now = d.payment.pay_deadline.unwrap();
    d.feed(Event::Tick);
    d.feed(Event::QueryReplied { reply: QueryReply::Unknown { detail: "503".into() } });
    while !d.payment.state.is_parked() {
        d.feed(Event::ReverseReplied { reply: ReverseReply::Retry { detail: "no reply".into() } });
        if let Some(at) = d.payment.next_deadline() {
            d.now = at;
            d.feed(Event::Tick);
        }
    }
    // Today's file alone cannot prove a charge did not land just after midnight.
    let today_only = StatementEvidence { charged: false, written_off: vec![false], ..Default::default() };
    assert!(d.feed(Event::Reconciled { evidence: today_only }).is_empty());
    assert!(matches!(d.payment.state, State::Suspense { .. }));
    let both_days =
        StatementEvidence { charged: false, written_off: vec![false], complete: true, ..Default::default() };
    d.feed(Event::Reconciled { evidence: both_days });
    assert_eq!(d.payment.state, State::Reversed { refunded: false });
    assert!(d.payment.settlement().balances());
}
