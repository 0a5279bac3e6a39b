//! The fault scenarios of payments.md §10 at the level of the pure machine, told step by step.
//! (The same scenarios run end to end over HTTP in crates/yizhan/tests.)

mod common;

use common::*;
use kiosk_core::payment::{LineState, RefundItem, RefundStatus, State, StatementEvidence, SuspenseReason};
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

/// A payment whose pay went unanswered ("timeout") until its deadline, where the machine asks
/// one last time: the query is in flight.
fn unknown_at_the_pay_deadline(lines: &[i64]) -> Drive {
    let mut d = started(lines);
    d.feed(Event::PayReplied { reply: PayReply::Unknown { detail: "timeout".into() } });
    d.now = d.payment.pay_deadline.unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::Query], "one last query at the deadline");
    d
}

/// Staff member `staff_id` settles the payment by hand as `outcome`, saying why.
fn staff_resolved(staff_id: &str, outcome: StaffOutcome, reason: &str) -> Event {
    Event::StaffResolved { staff_id: staff_id.into(), outcome, reason: reason.into() }
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
        d.feed(Event::ReverseReplied { reply: ReverseReply::Done { refunded: Some(false) } }),
        [Effect::PrintReceipt]
    );
    d.assert_settled_as(State::Reversed { refunded: Some(false) });
}

/// payments.md §3.1: a UnionPay consume still processing is queried six times, at 1, 2, 4, 8, 16
/// and 32 s after it was sent, then cancelled.
#[test]
fn a_unionpay_consume_still_processing_is_queried_at_1_2_4_8_16_32_s_then_cancelled() {
    let mut d = Drive::new(Payment::new(order(&[3150])));
    assert_eq!(d.feed(Event::PayWith { channel: Channel::UnionPay, code_digest: "d".into() }), [Effect::Pay]);
    let sent = d.payment.pay_sent_at.unwrap();
    d.feed(Event::PayReplied { reply: PayReply::AwaitingPin });
    let mut asked_at = Vec::new();
    while let State::PayPending { .. } = d.payment.state {
        d.now = pending_query_at(&d);
        if d.feed(Event::Tick) == [Effect::Query] {
            asked_at.push(d.now.since(sent).as_secs());
            d.feed(Event::QueryReplied { reply: QueryReply::Waiting });
        }
    }
    assert_eq!(asked_at, [1, 2, 4, 8, 16, 32]);
    assert!(matches!(d.payment.state, State::Reversing { in_flight: true, .. }), "{:?}", d.payment.state);
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
    d.feed(Event::ReverseReplied { reply: ReverseReply::Done { refunded: Some(false) } });
    assert_eq!(d.payment.state, State::Reversed { refunded: Some(false) });
}

#[test]
fn f19_reverse_exhausted_parks_in_suspense_with_a_slip() {
    let mut d = unknown_at_the_pay_deadline(&[3150]);
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
    assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::ReverseUnconfirmed, .. }));
    assert_eq!(d.payment.settlement().in_suspense, Fen(3150));
}

#[test]
fn r7_paid_after_a_refused_reverse_is_refunded_never_written_off() {
    let mut d = unknown_at_the_pay_deadline(&[3150]);
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
    d.assert_settled_as(State::Refunded);
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
    d.write_off_confirmed(0, "W1");
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
    d.write_off_unknown_until_parked(0);
    assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::WriteOffUnconfirmed, .. }));
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
    d.write_off_confirmed(0, "W");
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
    d.write_off_unknown_until_parked(0);
    // A complete file without the charge (booked on another day, say) does not make it "not charged".
    let evidence =
        StatementEvidence { charged: false, written_off: vec![false], complete: true, ..Default::default() };
    assert!(d.feed(Event::Reconciled { evidence }).is_empty());
    assert!(matches!(d.payment.state, State::Suspense { .. }));
}

/// Issue 9 item 6: a pay request that never reached the channel (killed after PAY_SENT, before
/// micropay left) used to end in suspense for ever. The payment code expires within about a
/// minute, so after that a last "not found" closes it as not charged.
#[test]
fn a_pay_the_channel_never_saw_is_closed_as_not_charged_once_the_code_has_expired() {
    let mut d = started(&[3150]);
    let sent_at = d.payment.pay_sent_at.unwrap();
    d.feed(Event::PayReplied { reply: PayReply::Unknown { detail: "timeout".into() } });
    d.now = d.payment.pay_deadline.unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::Waiting }), [Effect::Reverse]);
    let refused = ReverseReply::Refused { detail: "ORDERNOTEXIST".into() };
    assert_eq!(d.feed(Event::ReverseReplied { reply: refused }), [Effect::Query]);
    // Not found, and the code may still be on its way: wait until it has expired.
    assert!(d.feed(Event::QueryReplied { reply: QueryReply::NotFound }).is_empty());
    let expires = sent_at + d.policy.wechat.code_expires_after.unwrap();
    assert!(matches!(d.payment.state, State::AwaitCodeExpiry { query_at, .. } if query_at == expires));
    assert_eq!(d.payment.next_deadline(), Some(expires));
    assert!(d.payment.state.blocks_new_sales(), "money may still move until the code expires");
    d.now = expires;
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::NotFound }), [Effect::PrintReceipt]);
    d.assert_settled_as(State::Reversed { refunded: Some(false) });
}

/// Found while tabulating the machine: a channel that refuses every reverse, then says "not
/// found", then (after the code expired) "waiting", sent the payment round Reversing and
/// AwaitCodeExpiry for ever, each round with a fresh budget, never parked and blocking sales.
/// The round trip keeps its count: the payment ends in suspense with a slip.
#[test]
fn a_channel_that_refuses_reverses_and_never_decides_ends_in_suspense() {
    let mut d = unknown_at_the_pay_deadline(&[3150]);
    let mut effects = d.feed(Event::QueryReplied { reply: QueryReply::Waiting });
    let mut rounds = 0;
    while !matches!(d.payment.state, State::Suspense { .. }) {
        rounds += 1;
        assert!(rounds <= 4 * d.policy.wechat.reverse_max_attempts, "never parked: {:?}", d.payment.state);
        if effects.is_empty() {
            d.now = d.payment.next_deadline().expect("a timer runs");
            effects = d.feed(Event::Tick);
            continue;
        }
        let reply = match (&d.payment.state, &effects[..]) {
            (_, [Effect::Reverse]) => {
                Event::ReverseReplied { reply: ReverseReply::Refused { detail: "TRADE_ERROR".into() } }
            }
            (State::Reversing { .. }, [Effect::Query]) => Event::QueryReplied { reply: QueryReply::NotFound },
            (State::AwaitCodeExpiry { .. }, [Effect::Query]) => {
                Event::QueryReplied { reply: QueryReply::Waiting }
            }
            (state, other) => panic!("{state:?} asked for {other:?}"),
        };
        effects = d.feed(reply);
    }
    assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::ReverseUnconfirmed, .. }));
    assert_eq!(effects, [Effect::PrintSlip]);
    assert!(!d.payment.state.blocks_new_sales());
}

/// The reverse budget carried through AwaitCodeExpiry is the reverse's only: a reverse that
/// took most of its attempts still leaves the code-expiry query its own retries, so one
/// "unknown" on a flaky network does not park a payment that the next answer settles.
#[test]
fn a_long_reverse_leaves_the_code_expiry_query_its_own_retries() {
    let mut d = unknown_at_the_pay_deadline(&[3150]);
    assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::Waiting }), [Effect::Reverse]);
    let max = d.policy.wechat.reverse_max_attempts;
    for _ in 1..max {
        d.feed(Event::ReverseReplied { reply: ReverseReply::Retry { detail: "SYSTEMERROR".into() } });
        d.now = d.payment.next_deadline().unwrap();
        assert_eq!(d.feed(Event::Tick), [Effect::Reverse]);
    }
    let refused = ReverseReply::Refused { detail: "ORDERNOTEXIST".into() };
    assert_eq!(d.feed(Event::ReverseReplied { reply: refused }), [Effect::Query]);
    d.feed(Event::QueryReplied { reply: QueryReply::NotFound });
    d.now = d.payment.next_deadline().unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    assert!(d
        .feed(Event::QueryReplied { reply: QueryReply::Unknown { detail: "timeout".into() } })
        .is_empty());
    assert!(matches!(d.payment.state, State::AwaitCodeExpiry { .. }), "{:?}", d.payment.state);
    d.now = d.payment.next_deadline().unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::NotFound }), [Effect::PrintReceipt]);
    assert_eq!(d.payment.state, State::Reversed { refunded: Some(false) });
}

#[test]
fn a_late_pay_that_arrived_before_the_code_expired_is_refunded_not_written_off() {
    let mut d = unknown_at_the_pay_deadline(&[3150]);
    d.feed(Event::QueryReplied { reply: QueryReply::NotFound });
    d.feed(Event::Tick);
    d.feed(Event::QueryReplied { reply: QueryReply::NotFound });
    // Two "not found": reverse anyway; WeChat answers ORDERNOTEXIST.
    d.now = d.now + std::time::Duration::from_secs(20);
    let mut effects = d.feed(Event::Tick);
    if effects.is_empty() {
        effects = vec![Effect::Reverse];
    }
    assert_eq!(effects, [Effect::Reverse]);
    d.feed(Event::ReverseReplied { reply: ReverseReply::Refused { detail: "ORDERNOTEXIST".into() } });
    d.feed(Event::QueryReplied { reply: QueryReply::NotFound });
    d.now = d.payment.next_deadline().unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    // The delayed request did arrive in time and charged the customer: R7, the money goes back.
    let effects = d.feed(Event::QueryReplied { reply: QueryReply::Paid { channel_txn: "T9".into() } });
    assert_eq!(effects, [Effect::Refund { item: 0 }]);
    assert_eq!(d.payment.refunds[0].amount, Fen(3150));
    assert!(d.payment.refunds[0].lines.is_empty(), "the whole order");
}

/// A bank card order the terminal cannot place has no code that expires: it waits in suspense.
#[test]
fn a_bank_card_order_the_terminal_cannot_place_parks_in_suspense() {
    let mut d = Drive::new(Payment::new(order(&[3150])));
    d.feed(Event::PayWith { channel: Channel::BankCard, code_digest: "terminal".into() });
    d.feed(Event::PayReplied { reply: PayReply::Unknown { detail: "no 0210".into() } });
    d.now = d.payment.pay_deadline.unwrap();
    d.feed(Event::Tick);
    d.feed(Event::QueryReplied { reply: QueryReply::Waiting });
    d.feed(Event::ReverseReplied { reply: ReverseReply::Refused { detail: "no such txn".into() } });
    assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::NotFound }), [Effect::PrintSlip]);
    assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::ReverseUnconfirmed, .. }));
}

/// A gas top-up written to the card whose confirmation the biller never answered: parked in
/// Suspense(CardConfirmUnconfirmed).
fn card_confirmation_in_suspense() -> Drive {
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
        if let (false, Some(at)) = (d.payment.state.is_parked(), d.payment.next_deadline()) {
            d.now = at;
            d.feed(Event::Tick);
        }
    }
    assert!(matches!(
        d.payment.state,
        State::Suspense { reason: SuspenseReason::CardConfirmUnconfirmed, .. }
    ));
    d
}

#[test]
fn a_card_confirmation_left_in_suspense_is_sent_again_after_reconciliation() {
    let mut d = card_confirmation_in_suspense();
    let evidence =
        StatementEvidence { charged: true, written_off: vec![true], complete: true, ..Default::default() };
    d.feed(Event::Reconciled { evidence });
    assert_eq!(d.payment.next_deadline(), Some(d.now));
    assert_eq!(d.feed(Event::Tick), [Effect::ConfirmCardWrite]);
    assert_eq!(d.feed(Event::CardConfirmReplied { reply: ConfirmReply::Confirmed }), [Effect::PrintReceipt]);
    assert_eq!(d.payment.state, State::Done);
}

/// Found while tabulating the machine: the statements cannot tell whether the biller took the
/// confirmation, so a reconciliation is one more check like the online ones — one attempt, then
/// back to suspense on the backoff with its slip — not a fresh round of attempts.
#[test]
fn a_reconciliation_gives_an_unconfirmed_card_purchase_one_more_attempt_not_a_new_round() {
    let mut d = card_confirmation_in_suspense();
    let unknown = || Event::CardConfirmReplied { reply: ConfirmReply::Unknown { detail: "503".into() } };
    let checks_before = d.payment.suspense_checks;
    let evidence =
        StatementEvidence { charged: true, written_off: vec![true], complete: true, ..Default::default() };
    d.feed(Event::Reconciled { evidence });
    assert_eq!(d.feed(Event::Tick), [Effect::ConfirmCardWrite]);
    assert_eq!(d.feed(unknown()), [Effect::PrintSlip], "one attempt, then suspense again");
    assert!(matches!(
        d.payment.state,
        State::Suspense { reason: SuspenseReason::CardConfirmUnconfirmed, next_check_at: Some(at) } if at > d.now
    ));
    assert_eq!(d.payment.suspense_checks, checks_before + 1, "the next check waits longer");
}

#[test]
fn f20_statements_settle_a_write_off_left_in_suspense() {
    let mut d = paid_and_writing_off(&[3150, 4800]);
    d.write_off_confirmed(0, "W");
    d.write_off_unknown_until_parked(1);
    // The biller's file does not (yet) show line 2: nothing changes.
    let partial = StatementEvidence { charged: true, written_off: vec![true, false], ..Default::default() };
    assert!(d.feed(Event::Reconciled { evidence: partial }).is_empty());
    assert!(matches!(d.payment.state, State::Suspense { .. }));
    // It does: external success overrides the local unknown.
    let full = StatementEvidence { charged: true, written_off: vec![true, true], ..Default::default() };
    assert_eq!(d.feed(Event::Reconciled { evidence: full }), [Effect::PrintReceipt]);
    d.assert_settled_as(State::Done);
}

#[test]
fn f20_a_reverse_never_confirmed_is_settled_as_not_charged() {
    let mut d = unknown_at_the_pay_deadline(&[3150]);
    d.feed(Event::QueryReplied { reply: QueryReply::Unknown { detail: "503".into() } });
    while !d.payment.state.is_parked() {
        d.feed(Event::ReverseReplied { reply: ReverseReply::Retry { detail: "no reply".into() } });
        if d.payment.state.is_parked() {
            break;
        }
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
    d.assert_settled_as(State::Reversed { refunded: Some(false) });
}

/// Issue 9 item 7: a reverse whose reply does not say whether money had been taken (a WeChat
/// REVOKED without time_end) is never told as "not charged".
#[test]
fn a_reverse_that_does_not_say_whether_money_moved_never_says_not_charged() {
    let mut d = started(&[3150]);
    d.feed(Event::PayReplied { reply: PayReply::AwaitingPin });
    d.now = d.payment.pay_deadline.unwrap();
    d.feed(Event::Tick);
    d.feed(Event::QueryReplied { reply: QueryReply::Waiting });
    d.feed(Event::ReverseReplied { reply: ReverseReply::Done { refunded: None } });
    assert_eq!(d.payment.state, State::Reversed { refunded: None });
    let words = kiosk_core::receipt::outcome_words(&d.payment);
    let (zh, en) =
        (words.in_lang(kiosk_core::session::Lang::Zh), words.in_lang(kiosk_core::session::Lang::En));
    assert!(zh.contains("如有扣款已退回") && en.contains("any amount taken has been returned"), "{zh} {en}");
    assert!(!en.contains("not charged"));
}

/// Issue 9 item 7 (review): the first reverse refunded a paid order but its reply was lost; the
/// second is refused and the query says REVOKED (WeChat) or TRADE_CLOSED (Alipay), neither of
/// which says whether money had been taken: never "not charged".
#[test]
fn a_closed_order_after_a_refused_reverse_never_says_not_charged() {
    for code in ["REVOKED", "TRADE_CLOSED"] {
        let mut d = started(&[3150]);
        d.feed(Event::PayReplied { reply: PayReply::AwaitingPin });
        d.now = d.payment.pay_deadline.unwrap();
        d.feed(Event::Tick);
        assert_eq!(d.feed(Event::QueryReplied { reply: QueryReply::Waiting }), [Effect::Reverse]);
        d.feed(Event::ReverseReplied { reply: ReverseReply::Retry { detail: "reply lost".into() } });
        d.now = d.payment.next_deadline().unwrap();
        assert_eq!(d.feed(Event::Tick), [Effect::Reverse]);
        let refused = ReverseReply::Refused { detail: "TRADE_ERROR".into() };
        assert_eq!(d.feed(Event::ReverseReplied { reply: refused }), [Effect::Query]);
        d.feed(Event::QueryReplied { reply: QueryReply::Closed { code: code.into() } });
        assert_eq!(d.payment.state, State::Reversed { refunded: None }, "{code}");
        let words = kiosk_core::receipt::outcome_words(&d.payment);
        let (_, en) =
            (words.in_lang(kiosk_core::session::Lang::Zh), words.in_lang(kiosk_core::session::Lang::En));
        assert!(en.contains("any amount taken has been returned") && !en.contains("not charged"), "{en}");
    }
}

/// payments.md §2.3: a query that finds the order closed while the customer is still paying
/// (Alipay TRADE_CLOSED: timed out unpaid, or fully refunded; WeChat REVOKED) is "not success",
/// so the order is cancelled all the same, no earlier than the 15 s rule allows, and the
/// cancel's answer says what became of the money.
#[test]
fn an_order_found_closed_while_polling_is_still_cancelled_and_its_answer_decides() {
    // WeChat (REVOKED): the reverse waits for the 15 s rule; its follow-up query says what the
    // money did (any of the three).
    for (code, refunded) in [("REVOKED", Some(false)), ("REVOKED", Some(true)), ("REVOKED", None)] {
        let mut d = started(&[3150]);
        d.feed(Event::PayReplied { reply: PayReply::AwaitingPin });
        d.now = pending_query_at(&d);
        assert_eq!(d.feed(Event::Tick), [Effect::Query]);
        let effects = d.feed(Event::QueryReplied { reply: QueryReply::Closed { code: code.into() } });
        assert!(effects.is_empty(), "{code}: WeChat's 15 s before a reverse: {effects:?}");
        assert!(matches!(d.payment.state, State::Reversing { .. }), "{code}: {:?}", d.payment.state);
        d.now = d.payment.next_deadline().unwrap();
        assert_eq!(d.feed(Event::Tick), [Effect::Reverse], "{code}");
        assert_eq!(
            d.feed(Event::ReverseReplied { reply: ReverseReply::Done { refunded } }),
            [Effect::PrintReceipt]
        );
        assert_eq!(d.payment.state, State::Reversed { refunded }, "{code}");
    }
    // Alipay has no 15 s rule: the cancel goes out with the answer that found the trade closed.
    let mut d = Drive::new(Payment::new(order(&[3150])));
    assert_eq!(d.feed(Event::PayWith { channel: Channel::Alipay, code_digest: "d".into() }), [Effect::Pay]);
    d.feed(Event::PayReplied { reply: PayReply::AwaitingPin });
    d.now = pending_query_at(&d);
    assert_eq!(d.feed(Event::Tick), [Effect::Query]);
    let closed = QueryReply::Closed { code: "TRADE_CLOSED".into() };
    assert_eq!(d.feed(Event::QueryReplied { reply: closed }), [Effect::Reverse]);
    let close = ReverseReply::Done { refunded: Some(false) };
    assert_eq!(d.feed(Event::ReverseReplied { reply: close }), [Effect::PrintReceipt]);
    assert_eq!(d.payment.state, State::Reversed { refunded: Some(false) });
}

/// Issue 9 item 5: a signed reply about another order or amount is suspense, never "paid", and
/// nothing is reversed on its word.
#[test]
fn a_reply_about_another_order_is_suspense_and_nothing_is_reversed() {
    let mut d = started(&[3150]);
    let effects = d.feed(Event::PayReplied { reply: PayReply::Mismatch { detail: "out_trade_no".into() } });
    assert_eq!(effects, [Effect::PrintSlip]);
    assert!(matches!(
        d.payment.state,
        State::Suspense { reason: SuspenseReason::ChannelMismatch, next_check_at: None }
    ));
    assert_eq!(d.payment.settlement().in_suspense, Fen(3150));
    assert!(d.feed(Event::Recheck).is_empty(), "no automatic action on someone else's order");

    let mut d = started(&[3150]);
    d.feed(Event::PayReplied { reply: PayReply::Unknown { detail: "timeout".into() } });
    d.now = d.payment.next_deadline().unwrap();
    d.feed(Event::Tick);
    d.feed(Event::QueryReplied { reply: QueryReply::Mismatch { detail: "total_fee".into() } });
    assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::ChannelMismatch, .. }));
    assert!(!d.reverse_effect_seen);
}

fn written_off_then_refused(lines: &[i64], refuse: usize) -> Drive {
    let mut d = paid_and_writing_off(lines);
    for line in 0..lines.len() {
        let reply = if line == refuse {
            WriteOffReply::Rejected { code: "BILL_CHANGED".into(), message: String::new() }
        } else {
            WriteOffReply::WrittenOff { biller_txn: format!("B{line}"), card: None }
        };
        d.feed(Event::WriteOffReplied { line, reply });
    }
    d
}

/// Issue 9 item 12: a refund the channel only accepted is not "refunded": the payment waits in
/// REFUND_PENDING (parked, not blocking the kiosk) and the refund query decides.
#[test]
fn an_accepted_refund_is_polled_until_it_arrives() {
    let mut d = written_off_then_refused(&[3150, 4800], 1);
    assert_eq!(d.payment.state, State::Refunding);
    assert!(d.payment.refunds[0].sent_at.is_some(), "the refund's own send time is journaled with it");
    let effects = d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Accepted });
    assert_eq!(effects, [Effect::PrintReceipt], "the customer leaves with 'refund accepted'");
    assert_eq!(d.payment.state, State::RefundPending);
    assert!(d.payment.state.is_parked() && !d.payment.state.blocks_new_sales());
    assert_eq!(d.payment.settlement().returning, Fen(4800));
    assert!(!d.payment.settlement().balances());
    let words = kiosk_core::receipt::outcome_words(&d.payment);
    let (zh, _) =
        (words.in_lang(kiosk_core::session::Lang::Zh), words.in_lang(kiosk_core::session::Lang::En));
    assert!(zh.contains("退款已受理"), "{zh}");
    d.now = d.payment.next_deadline().unwrap();
    assert_eq!(d.feed(Event::Tick), [Effect::CheckRefund { item: 0 }]);
    assert!(d.feed(Event::RefundStatusReplied { item: 0, reply: RefundQueryReply::Pending }).is_empty());
    let second = d.payment.next_deadline().unwrap();
    assert!(second > d.now, "polled on a backoff");
    d.now = second;
    assert_eq!(d.feed(Event::Tick), [Effect::CheckRefund { item: 0 }]);
    let effects = d.feed(Event::RefundStatusReplied { item: 0, reply: RefundQueryReply::Refunded });
    assert_eq!(effects, [Effect::PrintReceipt]);
    d.assert_settled_as(State::Done);
}

#[test]
fn a_refund_that_ends_change_or_refundclose_goes_to_staff_with_a_slip() {
    for code in ["CHANGE", "REFUNDCLOSE"] {
        let mut d = written_off_then_refused(&[3150], 0);
        d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Accepted });
        d.now = d.payment.next_deadline().unwrap();
        d.feed(Event::Tick);
        let effects = d.feed(Event::RefundStatusReplied {
            item: 0,
            reply: RefundQueryReply::Failed { code: code.into() },
        });
        assert_eq!(effects, [Effect::PrintSlip], "{code}");
        assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::RefundUnconfirmed, .. }));
        assert_eq!(d.payment.settlement().in_suspense, Fen(3150));
    }
}

/// Found while tabulating the machine: two accepted refunds checked in one round, the first one
/// lost by the channel and sent again (REFUNDING): the second one's answer must still count.
#[test]
fn a_refund_check_answered_while_another_refund_is_resent_still_counts() {
    let mut d = written_off_then_refused(&[3150, 4800], 1);
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Accepted });
    assert_eq!(d.payment.state, State::RefundPending);
    // Two refunds of one order, both accepted and both being checked (the state the guard must
    // survive; today's flows create the second only after the first settles).
    let first = d.payment.refunds[0].clone();
    let half = Fen(first.amount.0 / 2);
    let checking = RefundStatus::Accepted { next_check_at: d.now, checks: 1, in_flight: true };
    d.payment.refunds[0] = RefundItem { amount: half, status: checking.clone(), ..first.clone() };
    d.payment.refunds.push(RefundItem {
        refund_no: format!("{}-2", first.refund_no),
        amount: Fen(first.amount.0 - half.0),
        status: checking,
        ..first
    });
    let effects = d.feed(Event::RefundStatusReplied { item: 0, reply: RefundQueryReply::NotFound });
    assert_eq!(effects, [Effect::Refund { item: 0 }]);
    assert_eq!(d.payment.state, State::Refunding);
    d.feed(Event::RefundStatusReplied { item: 1, reply: RefundQueryReply::Refunded });
    assert_eq!(d.payment.refunds[1].status, RefundStatus::Refunded, "the answer was not dropped");
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Refunded });
    d.assert_settled_as(State::Done);
}

#[test]
fn a_refund_the_channel_lost_is_sent_again_under_its_number() {
    let mut d = written_off_then_refused(&[3150], 0);
    let number = d.payment.refunds[0].refund_no.clone();
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Accepted });
    d.now = d.payment.next_deadline().unwrap();
    d.feed(Event::Tick);
    let effects = d.feed(Event::RefundStatusReplied { item: 0, reply: RefundQueryReply::NotFound });
    assert_eq!(effects, [Effect::Refund { item: 0 }]);
    assert_eq!(d.payment.state, State::Refunding);
    assert_eq!(d.payment.refunds[0].refund_no, number);
}

/// Found while tabulating the machine: a refund the channel lost, sent again and accepted again,
/// comes back to REFUND_PENDING hours after the customer left with the "refund accepted"
/// receipt; a second receipt would fall into the empty tray for the next customer to find.
#[test]
fn a_lost_refund_accepted_again_prints_no_second_receipt() {
    let mut d = written_off_then_refused(&[3150], 0);
    let first = d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Accepted });
    assert_eq!(first, [Effect::PrintReceipt], "the customer leaves with 'refund accepted'");
    d.now = d.payment.next_deadline().unwrap();
    d.feed(Event::Tick);
    assert_eq!(
        d.feed(Event::RefundStatusReplied { item: 0, reply: RefundQueryReply::NotFound }),
        [Effect::Refund { item: 0 }]
    );
    let again = d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Accepted });
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(d.payment.state, State::RefundPending);
    // Once the refund arrives the payment ends as before, with its final receipt.
    d.now = d.payment.next_deadline().unwrap();
    d.feed(Event::Tick);
    let end = d.feed(Event::RefundStatusReplied { item: 0, reply: RefundQueryReply::Refunded });
    assert_eq!(end, [Effect::PrintReceipt]);
    assert_eq!(d.payment.state, State::Refunded);
}

/// Issue 9 item 14: a refund that stays unknown (WeChat NOTENOUGH at 08:00) is not left in
/// suspense for ever: suspense is checked again online on a journaled backoff over days.
#[test]
fn suspense_is_checked_again_online_on_a_backoff_until_it_settles() {
    let mut d = written_off_then_refused(&[3150], 0);
    for _ in 0..d.policy.refund.max_attempts {
        if d.payment.state != State::Refunding {
            break;
        }
        let unknown = RefundReply::Unknown { detail: "NOTENOUGH".into() };
        d.feed(Event::RefundReplied { item: 0, reply: unknown });
        if let Some(at) = d.payment.next_deadline() {
            if d.payment.state == State::Refunding {
                d.now = at;
                d.feed(Event::Tick);
            }
        }
    }
    let State::Suspense { reason: SuspenseReason::RefundUnconfirmed, next_check_at: Some(first) } =
        d.payment.state
    else {
        panic!("{:?}", d.payment.state)
    };
    assert!(first > d.now);
    // Checks come at growing gaps, each a resend under the same refund number.
    let mut gaps = Vec::new();
    let mut last = d.now;
    for _ in 0..4 {
        let at = d.payment.next_deadline().unwrap();
        gaps.push(at.0 - last.0);
        last = at;
        d.now = at;
        assert_eq!(d.feed(Event::Tick), [Effect::Refund { item: 0 }]);
        d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Unknown { detail: "NOTENOUGH".into() } });
        assert!(matches!(d.payment.state, State::Suspense { .. }));
    }
    assert!(gaps.windows(2).all(|w| w[1] >= w[0]), "{gaps:?}");
    // The merchant account is topped up: the next check settles it.
    d.now = d.payment.next_deadline().unwrap();
    d.feed(Event::Tick);
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Refunded });
    d.assert_settled_as(State::Refunded);
}

#[test]
fn staff_can_check_now_and_settle_by_hand_but_never_against_what_the_kiosk_saw() {
    let mut d = started(&[3150]);
    d.feed(Event::PayReplied { reply: PayReply::Paid { channel_txn: "T1".into() } });
    d.feed(Event::Proceed);
    for _ in 0..d.policy.write_off.max_attempts + 1 {
        d.write_off_goes_unconfirmed(0, "x");
        if matches!(d.payment.state, State::Suspense { .. }) {
            break;
        }
    }
    assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::WriteOffUnconfirmed, .. }));
    // Check now: one status query of the unconfirmed line.
    assert_eq!(d.feed(Event::Recheck), [Effect::CheckWriteOff { line: 0 }]);
    d.feed(Event::WriteOffStatusReplied { line: 0, reply: WriteOffStatus::Unknown { detail: "x".into() } });
    assert!(matches!(d.payment.state, State::Suspense { .. }));
    // The customer was charged (T1): "not charged" is refused, "delivered" is taken.
    let refuse = staff_resolved("S01", StaffOutcome::NotCharged, "x");
    assert!(d.feed(refuse).is_empty());
    assert!(matches!(d.payment.state, State::Suspense { .. }));
    let settle = staff_resolved("S01", StaffOutcome::Delivered, "biller confirmed by phone");
    assert_eq!(d.feed(settle), [Effect::PrintReceipt]);
    d.assert_settled_as(State::Done);
}

/// R7 at reconciliation: a reverse never confirmed whose charge the statement shows starts the
/// whole-order refund instead of staying in suspense.
#[test]
fn statements_showing_the_charge_of_an_unconfirmed_reverse_start_the_whole_refund() {
    let mut d = unknown_at_the_pay_deadline(&[3150, 4800]);
    d.feed(Event::QueryReplied { reply: QueryReply::Waiting });
    for _ in 0..d.policy.wechat.reverse_max_attempts {
        d.feed(Event::ReverseReplied { reply: ReverseReply::Retry { detail: "recall".into() } });
        if let State::Reversing { next_at, .. } = d.payment.state {
            d.now = next_at;
            d.feed(Event::Tick);
        }
    }
    assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::ReverseUnconfirmed, .. }));
    let evidence = kiosk_core::payment::StatementEvidence {
        charged: true,
        reversed: false,
        refunds: vec![],
        written_off: vec![false, false],
        complete: true,
        files: vec![],
    };
    assert_eq!(d.feed(Event::Reconciled { evidence }), [Effect::Refund { item: 0 }]);
    assert_eq!(d.payment.refunds[0].amount, Fen(7950));
    assert!(!d.write_off_effect_after_reverse);
}

#[test]
fn every_state_label_has_the_flags_of_its_state() {
    let now = Ts(0);
    let states = [
        State::Ordered,
        State::PaySent,
        State::PayPending { next_query_at: now, queries: 0, not_found: 0, in_flight: false },
        State::PayFailed { kind: FailKind::Customer, code: String::new(), message: String::new() },
        State::Reversing { next_at: now, attempts: 0, in_flight: false, checking: false },
        State::Reversed { refunded: None },
        State::AwaitCodeExpiry { query_at: now, queries: 0, in_flight: false, reverses: 0 },
        State::Paid,
        State::WriteOffSent,
        State::WrittenOff,
        State::Refunding,
        State::RefundPending,
        State::CardWriting { step: kiosk_core::payment::CardStep::Writing },
        State::AwaitCardWrite { detail: String::new() },
        State::Done,
        State::Refunded,
        State::Abandoned,
        State::Suspense { reason: SuspenseReason::ChannelMismatch, next_check_at: None },
    ];
    for state in states {
        assert_eq!(
            State::flags_of_label(state.label()),
            Some((state.is_terminal(), state.is_parked())),
            "{state:?}"
        );
    }
    assert_eq!(State::flags_of_label("FORGED"), None);
}

/// Issue 9 item 20 (review): a line found refused by a suspense re-check, after another line was
/// already refunded, gets a refund of its own; the first refund is kept, never re-sent for a
/// larger amount or under a new number (which would return that line twice).
#[test]
fn a_line_refused_at_a_suspense_recheck_gets_its_own_refund_and_the_first_is_kept() {
    let mut d = paid_and_writing_off(&[3150, 4800, 2000]);
    d.write_off_confirmed(0, "B0");
    let refused = WriteOffReply::Rejected { code: "BILL_CHANGED".into(), message: String::new() };
    d.feed(Event::WriteOffReplied { line: 2, reply: refused });
    // Line 1 stays unknown through every retry and status query.
    d.feed(Event::WriteOffReplied { line: 1, reply: WriteOffReply::Unknown { detail: "timeout".into() } });
    for _ in 0..20 {
        if d.payment.state != State::WriteOffSent {
            break;
        }
        d.now = d.payment.next_deadline().unwrap();
        d.feed(Event::Tick);
        d.feed(Event::WriteOffStatusReplied {
            line: 1,
            reply: WriteOffStatus::Unknown { detail: "x".into() },
        });
        d.feed(Event::WriteOffReplied {
            line: 1,
            reply: WriteOffReply::Unknown { detail: "timeout".into() },
        });
    }
    assert_eq!(d.payment.state, State::Refunding, "line 2's refund goes out");
    let first = d.payment.refunds[0].clone();
    assert_eq!((first.amount, first.lines.clone()), (Fen(2000), vec![2]));
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Refunded });
    assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::WriteOffUnconfirmed, .. }));
    // The re-check finds line 1 refused too.
    assert_eq!(d.feed(Event::Recheck), [Effect::CheckWriteOff { line: 1 }]);
    let effects = d.feed(Event::WriteOffStatusReplied {
        line: 1,
        reply: WriteOffStatus::Rejected { code: "ACCOUNT_CLOSED".into(), message: String::new() },
    });
    assert_eq!(effects, [Effect::Refund { item: 1 }]);
    assert_eq!(d.payment.refunds.len(), 2);
    assert_eq!(d.payment.refunds[0], RefundItem { status: RefundStatus::Refunded, ..first });
    let second = &d.payment.refunds[1];
    assert_eq!((second.amount, second.lines.clone()), (Fen(4800), vec![1]));
    assert_ne!(second.refund_no, d.payment.refunds[0].refund_no);
    d.feed(Event::RefundReplied { item: 1, reply: RefundReply::Refunded });
    assert_eq!(d.payment.state, State::Done);
    let settlement = d.payment.settlement();
    assert!(settlement.balances(), "{settlement:?}");
}

/// Issue 9 item 20 (review): "delivered" while a refund is accepted and on its way would count
/// the money both delivered and returned: refused, and nothing about the payment changes.
#[test]
fn staff_cannot_call_delivered_a_payment_whose_refund_is_on_its_way() {
    let mut d = written_off_then_refused(&[3150, 4800], 1);
    d.feed(Event::RefundReplied { item: 0, reply: RefundReply::Accepted });
    assert_eq!(d.payment.state, State::RefundPending);
    let before = d.payment.clone();
    let settle = staff_resolved("S01", StaffOutcome::Delivered, "biller says paid");
    let stepped = d.payment.step(settle, d.now, &d.policy);
    assert!(!stepped.changed && stepped.effects.is_empty(), "{stepped:?}");
    assert_eq!(d.payment, before, "nothing changed, so nothing is journaled");
}

/// Cash is in the box before its payment exists: nothing is sent, reversed or refunded through a
/// channel. A restart goes on to the write-offs (never abandons it), and a line the biller
/// refuses is owed at the counter by staff, never refunded to a channel that never had it.
#[test]
fn cash_is_paid_at_once_never_abandoned_and_a_refused_line_is_owed_at_the_counter() {
    let mut d = Drive::new(Payment::for_cash(order(&[3000, 2000])));
    assert!(d.feed(Event::Cancel).is_empty(), "nothing to back out of");
    assert_eq!(d.payment.state, State::Ordered);
    assert_eq!(d.feed(Event::Resume), [Effect::Proceed]);
    assert_eq!(d.payment.state, State::Paid);
    assert_eq!(d.payment.channel_txn.as_deref(), Some(d.payment.id()));
    assert_eq!(d.feed(Event::Proceed), [Effect::WriteOff { line: 0 }, Effect::WriteOff { line: 1 }]);
    d.write_off_confirmed(0, "P1");
    let refused = WriteOffReply::Rejected { code: "PREPAYMENT_REFUSED".into(), message: "exact only".into() };
    assert_eq!(d.feed(Event::WriteOffReplied { line: 1, reply: refused }), [Effect::PrintSlip]);
    assert_eq!(d.payment.state, State::Suspense { reason: SuspenseReason::CashOwed, next_check_at: None });
    assert!(d.payment.refunds.is_empty(), "no refund goes to a channel");
    assert_eq!(d.payment.settlement().in_suspense, Fen(2000));
    // The statements never settle it; staff who paid the 20 yuan out do.
    let evidence = StatementEvidence {
        charged: true,
        written_off: vec![true, false],
        complete: true,
        ..Default::default()
    };
    assert!(d.feed(Event::Reconciled { evidence }).is_empty());
    let paid_out = staff_resolved("S001", StaffOutcome::Returned, "paid out at the counter");
    assert_eq!(d.feed(paid_out), [Effect::PrintReceipt]);
    assert_eq!(d.payment.state, State::Done);
    let settled = d.payment.settlement();
    assert!(settled.balances(), "{settled:?}");
    assert_eq!((settled.delivered, settled.returned), (Fen(3000), Fen(2000)));
}

/// A cash payment with one line refused and one the biller may still hold: the unknown line is
/// checked first (never owed at the counter while the biller may have it), and only once it is
/// known is the refused line's cash owed.
#[test]
fn cash_owed_waits_until_no_line_is_unconfirmed() {
    let mut d = Drive::new(Payment::for_cash(order(&[3000, 2000])));
    d.feed(Event::Resume);
    d.feed(Event::Proceed);
    let refused = WriteOffReply::Rejected { code: "PREPAYMENT_REFUSED".into(), message: "exact only".into() };
    d.feed(Event::WriteOffReplied { line: 1, reply: refused });
    while !d.payment.state.is_parked() {
        d.write_off_goes_unconfirmed(0, "503");
    }
    assert!(matches!(d.payment.state, State::Suspense { reason: SuspenseReason::WriteOffUnconfirmed, .. }));
    assert!(d.payment.refunds.is_empty(), "cash never goes back through a channel");
    // The biller answers at last: the line was written off; now the refused line's cash is owed.
    assert_eq!(d.feed(Event::Recheck), [Effect::CheckWriteOff { line: 0 }]);
    let held = WriteOffStatus::WrittenOff { biller_txn: "P1".into(), card: None };
    assert_eq!(d.feed(Event::WriteOffStatusReplied { line: 0, reply: held }), [Effect::PrintSlip]);
    assert_eq!(d.payment.state, State::Suspense { reason: SuspenseReason::CashOwed, next_check_at: None });
    assert_eq!(d.payment.settlement().in_suspense, Fen(2000));
}
