//! UnionPay QR client against the acquirer simulator over real HTTP (payments.md §3.1, §10).

use crate::common;

use common::{
    call, count, later_at, order, paid, paid_to_refund, pay_request, pay_unknown, pin_comes_later,
    refund_after_lost_reply, refund_found_after_the_call, refund_is_refused, refund_request,
    reuse_is_refused, reverse_gives_back, reversed_while_waiting, sent_at, unionpay_code, world,
};
use kiosk_core::{Channel, Fen, PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply, Ts};
use payments::sim::{LedgerKind, RefundEnding};
use payments::OrderCall;
use simkit::Fault;

#[tokio::test]
async fn consume_00_is_only_accepted_and_the_query_says_paid() {
    let w = world().await;
    let order = order();
    let reply = w.clients.pay(&pay_request(&order, unionpay_code(), 8650)).await;
    assert!(matches!(reply, PayReply::Unknown { ref detail } if detail.contains("accepted")), "{reply:?}");
    let QueryReply::Paid { channel_txn } = w.query(Channel::UnionPay, &order, 8650).await else {
        panic!("expected Paid from the query");
    };
    assert_eq!(w.sims.unionpay.ledger()[0].amount.0, 8650);
    assert_eq!(w.sims.unionpay.ledger()[0].channel_txn, channel_txn);
}

#[tokio::test]
async fn a_query_names_the_consume_by_its_own_txn_time() {
    let w = world().await;
    let order = paid(&w, Channel::UnionPay, 100).await;
    // The time of the query (or any other time) is not the consume's txnTime: "not found".
    let later = Ts(sent_at().0 + 1_000);
    let wrong_time = OrderCall { sent_at: later, ..call(&order, 100) };
    assert_eq!(w.clients.query(Channel::UnionPay, &wrong_time).await, QueryReply::NotFound);
    assert!(matches!(w.query(Channel::UnionPay, &order, 100).await, QueryReply::Paid { .. }));
    // Cancel learns origQryId from that query, so the wrong time cannot cancel either.
    assert!(matches!(
        w.clients.reverse(Channel::UnionPay, &wrong_time, later_at()).await,
        ReverseReply::Refused { .. }
    ));
    assert_eq!(w.reverse(Channel::UnionPay, &order, 100).await, ReverseReply::Done { refunded: Some(true) });
    // A consume reusing the order number at another time is a duplicate, not a new order.
    let mut again = pay_request(&order, unionpay_code(), 100);
    again.sent_at = later;
    assert_eq!(w.clients.pay(&again).await, PayReply::AlreadyUsed { code: "12".into() });
}

#[tokio::test]
async fn processing_then_paid() {
    let w = world().await;
    let reply = pin_comes_later(&w, Channel::UnionPay, 100, 100, 150).await;
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
}

#[tokio::test]
async fn cancel_closes_a_waiting_order_and_a_late_pin_cannot_pay() {
    let w = world().await;
    let failed = QueryReply::Failed { code: "origRespCode=01".into() };
    reversed_while_waiting(&w, Channel::UnionPay, 100, Some(false), failed).await;
}

#[tokio::test]
async fn cancel_gives_a_paid_order_back_and_cannot_cancel_what_the_acquirer_never_saw() {
    let w = world().await;
    let paid = paid(&w, Channel::UnionPay, 100).await;
    reverse_gives_back(&w, Channel::UnionPay, &paid, 100).await;
    let lost = pay_unknown(&w, Channel::UnionPay, Fault::DropRequest, 100).await;
    assert_eq!(w.query(Channel::UnionPay, &lost, 100).await, QueryReply::NotFound);
    // The acquirer never saw it: nothing to cancel, and saying "retry" would retry for ever. The
    // answer is a definite "refused" (nothing is sent), so the core can close the order (F2).
    let reverse = w.reverse(Channel::UnionPay, &lost, 100).await;
    assert!(
        matches!(reverse, ReverseReply::Refused { ref detail } if detail.contains("respCode=34")),
        "{reverse:?}"
    );
    let kinds: Vec<_> = w.sims.unionpay.ledger().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [LedgerKind::Charge, LedgerKind::Reversal]);
}

#[tokio::test]
async fn a_failed_pre_cancel_query_is_retry_not_unpaid() {
    let w = world().await;
    let order = paid(&w, Channel::UnionPay, 300).await;
    w.sims.unionpay.faults().inject("query", Fault::Status { code: 503 }, 1);
    let reverse = w.reverse(Channel::UnionPay, &order, 300).await;
    assert!(matches!(reverse, ReverseReply::Retry { .. }), "{reverse:?}");
    assert!(w.sims.unionpay.ledger().iter().all(|e| e.kind != LedgerKind::Reversal), "no cancel sent");
    reverse_gives_back(&w, Channel::UnionPay, &order, 300).await;
}

#[tokio::test]
async fn a_refund_without_origqryid_is_unknown_and_sends_nothing() {
    let w = world().await;
    let (_, refund) = paid_to_refund(&w, Channel::UnionPay, 300, 300).await;
    w.sims.unionpay.faults().inject("query", Fault::BadSignature, 1);
    assert!(matches!(w.clients.refund(Channel::UnionPay, &refund).await, RefundReply::Unknown { .. }));
    assert!(w.sims.unionpay.ledger().iter().all(|e| e.kind != LedgerKind::Refund));
    assert_eq!(w.clients.refund(Channel::UnionPay, &refund).await, RefundReply::Accepted);
}

#[tokio::test]
async fn lost_reply_bad_signature_and_retry() {
    let w = world().await;
    let order = pay_unknown(&w, Channel::UnionPay, Fault::DropReply, 100).await;
    w.sims.unionpay.faults().inject("query", Fault::BadSignature, 1);
    assert!(matches!(w.query(Channel::UnionPay, &order, 100).await, QueryReply::Unknown { .. }));
    assert!(matches!(w.query(Channel::UnionPay, &order, 100).await, QueryReply::Paid { .. }));
    w.sims.unionpay.faults().inject("reverse", Fault::RecallRetry, 1);
    assert!(matches!(w.reverse(Channel::UnionPay, &order, 100).await, ReverseReply::Retry { .. }));
}

#[tokio::test]
async fn a_code_is_single_use_and_refund_replays_are_one_refund() {
    let w = world().await;
    let (order, code) = (order(), unionpay_code());
    w.clients.pay(&pay_request(&order, code.clone(), 600)).await;
    reuse_is_refused(&w, code, "61").await;
    // A refund number longer than ACP's 32 characters is mapped to a stable order id.
    let mut refund = refund_request(&order, 600, 600);
    refund.refund_no = format!("{}R1-AND-SOME-MORE-TEXT", order);
    assert_eq!(w.clients.refund(Channel::UnionPay, &refund).await, RefundReply::Accepted);
    assert_eq!(w.clients.refund(Channel::UnionPay, &refund).await, RefundReply::Accepted);
    assert_eq!(count(&w.sims.unionpay.ledger(), LedgerKind::Refund), 1);
}

#[tokio::test]
async fn a_retried_refund_with_its_journaled_txn_time_refunds_once_a_new_txn_time_would_refund_twice() {
    let w = world().await;
    // A partial refund whose reply is lost, retried with the same refund number and send time.
    let (_, refund) = paid_to_refund(&w, Channel::UnionPay, 300, 100).await;
    let twice = [RefundReply::Accepted, RefundReply::Accepted];
    refund_after_lost_reply(&w, Channel::UnionPay, &refund, &twice).await;
    let refunded = |w: &common::World| -> Vec<i64> {
        w.sims.unionpay.ledger().iter().filter(|e| e.kind == LedgerKind::Refund).map(|e| e.amount.0).collect()
    };
    assert_eq!(refunded(&w), [100], "one 退货 for three sends");
    assert_eq!(w.clients.refund_status(Channel::UnionPay, &refund).await, RefundQueryReply::Refunded);

    // The defect this fixes: each attempt used to carry a fresh txnTime, and for the acquirer the
    // same orderId with a new txnTime is a new 退货. A partial refund then goes through twice.
    let fresh_time = payments::RefundRequest { sent_at: Ts(refund.sent_at.0 + 7_000), ..refund.clone() };
    assert_eq!(w.clients.refund(Channel::UnionPay, &fresh_time).await, RefundReply::Accepted);
    assert_eq!(refunded(&w), [100, 100], "a new txnTime is a second refund");
    // The acquirer still caps the sum at what was paid.
    let third = payments::RefundRequest { sent_at: Ts(refund.sent_at.0 + 9_000), amount: Fen(101), ..refund };
    assert!(matches!(w.clients.refund(Channel::UnionPay, &third).await, RefundReply::Refused { .. }));
    assert_eq!(refunded(&w), [100, 100]);
}

#[tokio::test]
async fn a_retried_cancel_with_its_journaled_txn_time_is_a_replay() {
    let w = world().await;
    let order = paid(&w, Channel::UnionPay, 300).await;
    w.sims.unionpay.faults().inject("reverse", Fault::DropReply, 1);
    let lost = w.reverse(Channel::UnionPay, &order, 300).await;
    assert!(matches!(lost, ReverseReply::Retry { .. }), "{lost:?}");
    assert_eq!(
        w.reverse(Channel::UnionPay, &order, 300).await,
        ReverseReply::Done { refunded: Some(true) },
        "the same orderId and txnTime: the acquirer answers the first cancel again"
    );
    // A cancel with a new txnTime is another transaction, refused: the consume is cancelled.
    let other = w.clients.reverse(Channel::UnionPay, &call(&order, 300), Ts(later_at().0 + 5_000)).await;
    assert!(matches!(other, ReverseReply::Refused { .. }), "{other:?}");
    assert_eq!(count(&w.sims.unionpay.ledger(), LedgerKind::Reversal), 1);
}

#[tokio::test]
async fn a_query_about_another_amount_is_a_mismatch_never_paid() {
    let w = world().await;
    let order = paid(&w, Channel::UnionPay, 300).await;
    // The acquirer reports the consume at 300 fen; we ask about 30.
    let reply = w.query(Channel::UnionPay, &order, 30).await;
    assert!(matches!(reply, QueryReply::Mismatch { ref detail } if detail.contains("txnAmt")), "{reply:?}");
    // Cancel will not act on it either.
    let reverse = w.reverse(Channel::UnionPay, &order, 30).await;
    assert!(matches!(reverse, ReverseReply::Retry { .. }), "{reverse:?}");
    assert!(w.sims.unionpay.ledger().iter().all(|e| e.kind != LedgerKind::Reversal));
}

#[tokio::test]
async fn the_refund_is_queried_by_its_own_order_id_and_txn_time() {
    let w = world().await;
    let (order, refund) = paid_to_refund(&w, Channel::UnionPay, 500, 200).await;
    refund_found_after_the_call(&w, Channel::UnionPay, &refund, RefundReply::Accepted).await;
    // Another txnTime names no refund.
    let elsewhere = payments::RefundRequest { sent_at: Ts(refund.sent_at.0 + 3_000), ..refund.clone() };
    assert_eq!(w.clients.refund_status(Channel::UnionPay, &elsewhere).await, RefundQueryReply::NotFound);
    // A refund the acquirer could not pay out.
    let failing = payments::RefundRequest { refund_no: order.line_refund_no(0), amount: Fen(100), ..refund };
    w.sims.unionpay.end_next_refund(RefundEnding::RefundClose);
    assert_eq!(w.clients.refund(Channel::UnionPay, &failing).await, RefundReply::Accepted);
    assert_eq!(
        w.clients.refund_status(Channel::UnionPay, &failing).await,
        RefundQueryReply::Failed { code: "origRespCode=01".into() }
    );
    let refunds: Vec<_> = w
        .sims
        .unionpay
        .ledger()
        .iter()
        .filter(|e| e.kind == LedgerKind::Refund)
        .map(|e| e.amount.0)
        .collect();
    assert_eq!(refunds, [200]);
}

#[tokio::test]
async fn a_refund_of_a_consume_the_acquirer_never_saw_is_refused() {
    let w = world().await;
    refund_is_refused(&w, Channel::UnionPay, &order(), 100, 100).await;
}
