//! Alipay client against its simulator over real HTTP (payments.md §2.3, §10).

use crate::common;

use common::{
    alipay_code, order, paid, paid_at_once, paid_to_refund, pay_request, pay_unknown, pay_with_fault,
    pin_comes_later, refund_after_lost_reply, refund_found_after_the_call, refund_is_refused, refund_request,
    reuse_is_refused, reverse_gives_back, reversed_while_waiting, world,
};
use kiosk_core::{Channel, PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply};
use payments::sim::LedgerKind;
use simkit::Fault;

#[tokio::test]
async fn pays_in_yuan_on_the_wire_and_fen_in_the_ledger() {
    let w = world().await;
    // 12345 fen = "123.45" yuan; had the client sent fen, the simulator would book 12345.00 yuan.
    let (order, channel_txn) = paid_at_once(&w, Channel::Alipay, 12345).await;
    let ledger = w.sims.alipay.ledger();
    assert_eq!((ledger.len(), ledger[0].amount.0, &ledger[0].channel_txn), (1, 12345, &channel_txn));
    assert_eq!(w.query(Channel::Alipay, &order, 12345).await, QueryReply::Paid { channel_txn });
}

#[tokio::test]
async fn wait_user_pay_then_paid() {
    let w = world().await;
    assert_eq!(pin_comes_later(&w, Channel::Alipay, 100, 100, 150).await, PayReply::AwaitingPin);
}

#[tokio::test]
async fn cancel_closes_an_unpaid_order_and_a_late_pin_cannot_pay() {
    let w = world().await;
    // TRADE_CLOSED alone does not say "never paid" (a fully refunded order reads the same);
    // the cancel's own reply (action close) did.
    let closed = QueryReply::Closed { code: "TRADE_CLOSED".into() };
    reversed_while_waiting(&w, Channel::Alipay, 100, Some(false), closed).await;
    assert!(w.sims.alipay.ledger().iter().all(|e| e.kind != LedgerKind::Charge));
}

#[tokio::test]
async fn cancel_of_a_paid_order_refunds_it() {
    let w = world().await;
    let order = paid(&w, Channel::Alipay, 100).await;
    reverse_gives_back(&w, Channel::Alipay, &order, 100).await;
}

#[tokio::test]
async fn retry_flag_y_means_retry() {
    let w = world().await;
    let (order, _) = pay_with_fault(&w, Channel::Alipay, Fault::UserPaying { ms: None }, 100).await;
    w.sims.alipay.faults().inject("reverse", Fault::RecallRetry, 1);
    assert!(matches!(w.reverse(Channel::Alipay, &order, 100).await, ReverseReply::Retry { .. }));
    assert_eq!(w.reverse(Channel::Alipay, &order, 100).await, ReverseReply::Done { refunded: Some(false) });
}

#[tokio::test]
async fn a_cancel_without_action_is_done_but_does_not_say_whether_money_went_back() {
    let w = world().await;
    let (order, _) = pay_with_fault(&w, Channel::Alipay, Fault::DropRequest, 100).await;
    // Alipay never saw the order: its 10000 carries no `action`, so the answer is "closed",
    // and nothing is claimed about money (`None`), where it used to be read as a retry.
    assert_eq!(w.reverse(Channel::Alipay, &order, 100).await, ReverseReply::Done { refunded: None });
    // The cancel recorded the order closed: a retry says `close`, and a late pay fails.
    assert_eq!(w.reverse(Channel::Alipay, &order, 100).await, ReverseReply::Done { refunded: Some(false) });
    let late = w.clients.pay(&pay_request(&order, alipay_code(), 100)).await;
    assert!(matches!(late, PayReply::Failed { ref code, .. } if code == "ACQ.TRADE_HAS_CLOSE"), "{late:?}");
    assert!(w.sims.alipay.ledger().iter().all(|e| e.kind != LedgerKind::Charge));
}

#[tokio::test]
async fn service_unavailable_20000_then_query_paid() {
    let w = world().await;
    let order = pay_unknown(&w, Channel::Alipay, Fault::DropReply, 100).await;
    assert!(matches!(w.query(Channel::Alipay, &order, 100).await, QueryReply::Paid { .. }));
    pay_unknown(&w, Channel::Alipay, Fault::ErrorCode { code: "20000".into() }, 100).await;
}

#[tokio::test]
async fn lost_request_then_not_exist() {
    let w = world().await;
    let order = pay_unknown(&w, Channel::Alipay, Fault::DropRequest, 100).await;
    assert_eq!(w.query(Channel::Alipay, &order, 100).await, QueryReply::NotFound);
}

#[tokio::test]
async fn a_reply_with_a_bad_signature_is_unknown() {
    let w = world().await;
    let (_, reply) = pay_with_fault(&w, Channel::Alipay, Fault::BadSignature, 100).await;
    assert!(matches!(reply, PayReply::Unknown { ref detail } if detail.contains("signature")), "{reply:?}");
}

#[tokio::test]
async fn resend_and_code_reuse() {
    let w = world().await;
    let (order, code) = (order(), alipay_code());
    w.clients.pay(&pay_request(&order, code.clone(), 100)).await;
    assert_eq!(
        w.clients.pay(&pay_request(&order, code.clone(), 100)).await,
        PayReply::AlreadyUsed { code: "ACQ.TRADE_HAS_SUCCESS".into() }
    );
    reuse_is_refused(&w, code, "ACQ.PAYMENT_AUTH_CODE_INVALID").await;
}

#[tokio::test]
async fn a_replayed_refund_moves_money_once() {
    let w = world().await;
    let (_, refund) = paid_to_refund(&w, Channel::Alipay, 1000, 250).await;
    refund_after_lost_reply(&w, Channel::Alipay, &refund, &[RefundReply::Refunded]).await;
    let refunds: Vec<_> =
        w.sims.alipay.ledger().into_iter().filter(|e| e.kind == LedgerKind::Refund).collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount.0, 250);
}

#[tokio::test]
async fn a_refund_larger_than_the_payment_is_refused() {
    let w = world().await;
    let order = paid(&w, Channel::Alipay, 100).await;
    refund_is_refused(&w, Channel::Alipay, &order, 100, 101).await;
}

#[tokio::test]
async fn a_query_about_another_amount_is_a_mismatch_never_paid() {
    let w = world().await;
    let order = paid(&w, Channel::Alipay, 12345).await;
    let reply = w.query(Channel::Alipay, &order, 12346).await;
    assert!(
        matches!(reply, QueryReply::Mismatch { ref detail } if detail.contains("total_amount")),
        "{reply:?}"
    );
    assert!(matches!(w.query(Channel::Alipay, &order, 12345).await, QueryReply::Paid { .. }));
}

#[tokio::test]
async fn the_refund_query_finds_the_refund_by_its_request_number() {
    let w = world().await;
    let (order, refund) = paid_to_refund(&w, Channel::Alipay, 1000, 250).await;
    refund_found_after_the_call(&w, Channel::Alipay, &refund, RefundReply::Refunded).await;
    let other = payments::RefundRequest { refund_no: order.line_refund_no(0), ..refund };
    assert_eq!(w.clients.refund_status(Channel::Alipay, &other).await, RefundQueryReply::NotFound);
    let unknown_order = refund_request(&common::order(), 1000, 250);
    assert_eq!(w.clients.refund_status(Channel::Alipay, &unknown_order).await, RefundQueryReply::NotFound);
}
