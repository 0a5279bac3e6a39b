//! UnionPay QR client against the acquirer simulator over real HTTP (payments.md §3.1, §10).

mod common;

use common::{order, pay_request, refund_request, unionpay_code, world};
use kiosk_core::{Channel, FailKind, PayReply, QueryReply, RefundReply, ReverseReply};
use payments::sim::LedgerKind;
use simkit::Fault;

#[tokio::test]
async fn consumes_in_fen_and_query_sees_orig_resp_code_00() {
    let w = world().await;
    let order = order();
    let PayReply::Paid { channel_txn } = w.clients.pay(&pay_request(&order, unionpay_code(), 8650)).await
    else {
        panic!("expected Paid");
    };
    assert_eq!(w.clients.query(Channel::UnionPay, &order).await, QueryReply::Paid { channel_txn });
    assert_eq!(w.sims.unionpay.ledger()[0].amount.0, 8650);
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
    assert_eq!(w.clients.query(Channel::UnionPay, &order).await, QueryReply::Waiting);
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert!(matches!(w.clients.query(Channel::UnionPay, &order).await, QueryReply::Paid { .. }));
}

#[tokio::test]
async fn cancel_closes_a_waiting_order_and_a_late_pin_cannot_pay() {
    let w = world().await;
    let order = order();
    w.sims.unionpay.faults().inject("pay", Fault::UserPaying { ms: None }, 1);
    w.clients.pay(&pay_request(&order, unionpay_code(), 100)).await;
    assert_eq!(w.clients.reverse(Channel::UnionPay, &order).await, ReverseReply::Done { refunded: false });
    assert!(!w.sims.unionpay.enter_pin(order.as_str()));
    assert_eq!(
        w.clients.query(Channel::UnionPay, &order).await,
        QueryReply::Failed { code: "origRespCode=01".into() }
    );
}

#[tokio::test]
async fn cancel_of_a_paid_order_gives_it_back_and_of_an_unknown_order_closes_it() {
    let w = world().await;
    let paid = order();
    w.clients.pay(&pay_request(&paid, unionpay_code(), 100)).await;
    assert_eq!(w.clients.reverse(Channel::UnionPay, &paid).await, ReverseReply::Done { refunded: true });
    let lost = order();
    w.sims.unionpay.faults().inject("pay", Fault::DropRequest, 1);
    assert!(matches!(
        w.clients.pay(&pay_request(&lost, unionpay_code(), 100)).await,
        PayReply::Unknown { .. }
    ));
    assert_eq!(w.clients.query(Channel::UnionPay, &lost).await, QueryReply::NotFound);
    assert_eq!(w.clients.reverse(Channel::UnionPay, &lost).await, ReverseReply::Done { refunded: false });
    let late = w.clients.pay(&pay_request(&lost, unionpay_code(), 100)).await;
    assert_eq!(late, PayReply::AlreadyUsed { code: "12".into() });
    let kinds: Vec<_> = w.sims.unionpay.ledger().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [LedgerKind::Charge, LedgerKind::Reversal, LedgerKind::Closed]);
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
    assert!(matches!(w.clients.query(Channel::UnionPay, &order).await, QueryReply::Unknown { .. }));
    assert!(matches!(w.clients.query(Channel::UnionPay, &order).await, QueryReply::Paid { .. }));
    w.sims.unionpay.faults().inject("reverse", Fault::RecallRetry, 1);
    assert!(matches!(w.clients.reverse(Channel::UnionPay, &order).await, ReverseReply::Retry { .. }));
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
