//! UnionPay QR client against the acquirer simulator over real HTTP (payments.md §3.1, §10).

mod common;

use common::{order, pay_request, refund_request, sent_at, unionpay_code, world};
use kiosk_core::{Channel, FailKind, PayReply, QueryReply, RefundReply, ReverseReply, Ts};
use payments::sim::LedgerKind;
use simkit::Fault;

#[tokio::test]
async fn consume_00_is_only_accepted_and_the_query_says_paid() {
    let w = world().await;
    let order = order();
    let reply = w.clients.pay(&pay_request(&order, unionpay_code(), 8650)).await;
    assert!(matches!(reply, PayReply::Unknown { ref detail } if detail.contains("accepted")), "{reply:?}");
    let QueryReply::Paid { channel_txn } = w.clients.query(Channel::UnionPay, &order, sent_at()).await else {
        panic!("expected Paid from the query");
    };
    assert_eq!(w.sims.unionpay.ledger()[0].amount.0, 8650);
    assert_eq!(w.sims.unionpay.ledger()[0].channel_txn, channel_txn);
}

#[tokio::test]
async fn a_query_names_the_consume_by_its_own_txn_time() {
    let w = world().await;
    let order = order();
    w.clients.pay(&pay_request(&order, unionpay_code(), 100)).await;
    // The time of the query (or any other time) is not the consume's txnTime: "not found".
    let later = Ts(sent_at().0 + 1_000);
    assert_eq!(w.clients.query(Channel::UnionPay, &order, later).await, QueryReply::NotFound);
    assert!(matches!(w.clients.query(Channel::UnionPay, &order, sent_at()).await, QueryReply::Paid { .. }));
    // Cancel learns origQryId from that query, so the wrong time cannot cancel either.
    assert!(matches!(w.clients.reverse(Channel::UnionPay, &order, later).await, ReverseReply::Retry { .. }));
    assert_eq!(
        w.clients.reverse(Channel::UnionPay, &order, sent_at()).await,
        ReverseReply::Done { refunded: true }
    );
    // A consume reusing the order number at another time is a duplicate, not a new order.
    let mut again = pay_request(&order, unionpay_code(), 100);
    again.sent_at = later;
    assert_eq!(w.clients.pay(&again).await, PayReply::AlreadyUsed { code: "12".into() });
}

#[tokio::test]
async fn processing_then_paid() {
    let w = world().await;
    let order = order();
    w.sims.unionpay.faults().inject("pay", Fault::UserPaying { ms: Some(100) }, 1);
    assert!(matches!(
        w.clients.pay(&pay_request(&order, unionpay_code(), 100)).await,
        PayReply::Unknown { .. }
    ));
    assert_eq!(w.clients.query(Channel::UnionPay, &order, sent_at()).await, QueryReply::Waiting);
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert!(matches!(w.clients.query(Channel::UnionPay, &order, sent_at()).await, QueryReply::Paid { .. }));
}

#[tokio::test]
async fn cancel_closes_a_waiting_order_and_a_late_pin_cannot_pay() {
    let w = world().await;
    let order = order();
    w.sims.unionpay.faults().inject("pay", Fault::UserPaying { ms: None }, 1);
    w.clients.pay(&pay_request(&order, unionpay_code(), 100)).await;
    assert_eq!(
        w.clients.reverse(Channel::UnionPay, &order, sent_at()).await,
        ReverseReply::Done { refunded: false }
    );
    assert!(!w.sims.unionpay.enter_pin(order.as_str()));
    assert_eq!(
        w.clients.query(Channel::UnionPay, &order, sent_at()).await,
        QueryReply::Failed { code: "origRespCode=01".into() }
    );
}

#[tokio::test]
async fn cancel_gives_a_paid_order_back_and_cannot_cancel_what_the_acquirer_never_saw() {
    let w = world().await;
    let paid = order();
    w.clients.pay(&pay_request(&paid, unionpay_code(), 100)).await;
    assert_eq!(
        w.clients.reverse(Channel::UnionPay, &paid, sent_at()).await,
        ReverseReply::Done { refunded: true }
    );
    let lost = order();
    w.sims.unionpay.faults().inject("pay", Fault::DropRequest, 1);
    assert!(matches!(
        w.clients.pay(&pay_request(&lost, unionpay_code(), 100)).await,
        PayReply::Unknown { .. }
    ));
    assert_eq!(w.clients.query(Channel::UnionPay, &lost, sent_at()).await, QueryReply::NotFound);
    // No origQryId to name: nothing is sent, the kiosk retries (and in the end parks it).
    let reverse = w.clients.reverse(Channel::UnionPay, &lost, sent_at()).await;
    assert!(
        matches!(reverse, ReverseReply::Retry { ref detail } if detail.contains("origQryId")),
        "{reverse:?}"
    );
    let kinds: Vec<_> = w.sims.unionpay.ledger().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [LedgerKind::Charge, LedgerKind::Reversal]);
}

#[tokio::test]
async fn a_failed_pre_cancel_query_is_retry_not_unpaid() {
    let w = world().await;
    let order = order();
    w.clients.pay(&pay_request(&order, unionpay_code(), 300)).await;
    w.sims.unionpay.faults().inject("query", Fault::Status { code: 503 }, 1);
    let reverse = w.clients.reverse(Channel::UnionPay, &order, sent_at()).await;
    assert!(matches!(reverse, ReverseReply::Retry { .. }), "{reverse:?}");
    assert!(w.sims.unionpay.ledger().iter().all(|e| e.kind != LedgerKind::Reversal), "no cancel sent");
    assert_eq!(
        w.clients.reverse(Channel::UnionPay, &order, sent_at()).await,
        ReverseReply::Done { refunded: true }
    );
}

#[tokio::test]
async fn a_refund_without_origqryid_is_unknown_and_sends_nothing() {
    let w = world().await;
    let order = order();
    w.clients.pay(&pay_request(&order, unionpay_code(), 300)).await;
    w.sims.unionpay.faults().inject("query", Fault::BadSignature, 1);
    let refund = refund_request(&order, 300, 300);
    assert!(matches!(w.clients.refund(Channel::UnionPay, &refund).await, RefundReply::Unknown { .. }));
    assert!(w.sims.unionpay.ledger().iter().all(|e| e.kind != LedgerKind::Refund));
    assert_eq!(w.clients.refund(Channel::UnionPay, &refund).await, RefundReply::Refunded);
}

#[tokio::test]
async fn lost_reply_bad_signature_and_retry() {
    let w = world().await;
    let order = order();
    w.sims.unionpay.faults().inject("pay", Fault::DropReply, 1);
    assert!(matches!(
        w.clients.pay(&pay_request(&order, unionpay_code(), 100)).await,
        PayReply::Unknown { .. }
    ));
    w.sims.unionpay.faults().inject("query", Fault::BadSignature, 1);
    assert!(matches!(
        w.clients.query(Channel::UnionPay, &order, sent_at()).await,
        QueryReply::Unknown { .. }
    ));
    assert!(matches!(w.clients.query(Channel::UnionPay, &order, sent_at()).await, QueryReply::Paid { .. }));
    w.sims.unionpay.faults().inject("reverse", Fault::RecallRetry, 1);
    assert!(matches!(
        w.clients.reverse(Channel::UnionPay, &order, sent_at()).await,
        ReverseReply::Retry { .. }
    ));
}

#[tokio::test]
async fn a_code_is_single_use_and_refund_replays_are_one_refund() {
    let w = world().await;
    let (order, code) = (order(), unionpay_code());
    w.clients.pay(&pay_request(&order, code.clone(), 600)).await;
    let reused = w.clients.pay(&pay_request(&common::order(), code, 100)).await;
    assert!(matches!(reused, PayReply::Failed { kind: FailKind::Customer, .. }), "{reused:?}");
    // A refund number longer than ACP's 32 characters is mapped to a stable order id.
    let mut refund = refund_request(&order, 600, 600);
    refund.refund_no = format!("{}R1-AND-SOME-MORE-TEXT", order);
    assert_eq!(w.clients.refund(Channel::UnionPay, &refund).await, RefundReply::Refunded);
    assert_eq!(w.clients.refund(Channel::UnionPay, &refund).await, RefundReply::Refunded);
    assert_eq!(w.sims.unionpay.ledger().iter().filter(|e| e.kind == LedgerKind::Refund).count(), 1);
}
