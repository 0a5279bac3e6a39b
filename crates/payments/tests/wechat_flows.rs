//! WeChat Pay v2 client against its simulator over real HTTP: the payment flows of payments.md
//! §1.6 and the fault scenarios of §10.

mod common;

use common::{order, pay_request, refund_request, sent_at, wechat_code, world};
use kiosk_core::{Channel, FailKind, PayReply, QueryReply, RefundReply, ReverseReply};
use payments::sim::LedgerKind;
use simkit::Fault;

fn count(ledger: &[payments::sim::LedgerEntry], kind: LedgerKind) -> usize {
    ledger.iter().filter(|e| e.kind == kind).count()
}

#[tokio::test]
async fn pays_and_query_confirms_the_same_transaction() {
    let w = world().await;
    let order = order();
    let PayReply::Paid { channel_txn } = w.clients.pay(&pay_request(&order, wechat_code(), 8650)).await
    else {
        panic!("expected Paid");
    };
    assert_eq!(
        w.clients.query(Channel::WeChat, &order, sent_at()).await,
        QueryReply::Paid { channel_txn: channel_txn.clone() }
    );
    let ledger = w.sims.wechat.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        (ledger[0].kind, ledger[0].amount.0, ledger[0].channel_txn.as_str()),
        (LedgerKind::Charge, 8650, channel_txn.as_str())
    );
}

#[tokio::test]
async fn userpaying_then_the_pin_arrives_and_query_sees_paid() {
    let w = world().await;
    let order = order();
    w.sims.wechat.faults().inject("pay", Fault::UserPaying { ms: Some(150) }, 1);
    assert_eq!(w.clients.pay(&pay_request(&order, wechat_code(), 100)).await, PayReply::AwaitingPin);
    assert_eq!(w.clients.query(Channel::WeChat, &order, sent_at()).await, QueryReply::Waiting);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(matches!(w.clients.query(Channel::WeChat, &order, sent_at()).await, QueryReply::Paid { .. }));
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Charge), 1);
}

#[tokio::test]
async fn never_entered_pin_is_closed_by_reverse_and_a_late_pin_cannot_pay() {
    let w = world().await;
    let order = order();
    w.sims.wechat.faults().inject("pay", Fault::UserPaying { ms: None }, 1);
    assert_eq!(w.clients.pay(&pay_request(&order, wechat_code(), 100)).await, PayReply::AwaitingPin);
    assert_eq!(
        w.clients.reverse(Channel::WeChat, &order, sent_at()).await,
        ReverseReply::Done { refunded: false }
    );
    assert!(!w.sims.wechat.enter_pin(order.as_str()), "a late PIN must not pay a reversed order");
    assert_eq!(
        w.clients.query(Channel::WeChat, &order, sent_at()).await,
        QueryReply::Failed { code: "REVOKED".into() }
    );
    let ledger = w.sims.wechat.ledger();
    assert_eq!(count(&ledger, LedgerKind::Charge), 0);
    assert_eq!(count(&ledger, LedgerKind::Closed), 1);
}

#[tokio::test]
async fn reversing_a_paid_order_gives_the_money_back() {
    let w = world().await;
    let order = order();
    assert!(matches!(w.clients.pay(&pay_request(&order, wechat_code(), 300)).await, PayReply::Paid { .. }));
    assert_eq!(
        w.clients.reverse(Channel::WeChat, &order, sent_at()).await,
        ReverseReply::Done { refunded: true }
    );
    assert_eq!(
        w.clients.reverse(Channel::WeChat, &order, sent_at()).await,
        ReverseReply::Done { refunded: true },
        "idempotent"
    );
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Reversal), 1);
}

#[tokio::test]
async fn a_reverse_whose_follow_up_query_fails_is_retried_not_guessed_unpaid() {
    let w = world().await;
    let order = order();
    assert!(matches!(w.clients.pay(&pay_request(&order, wechat_code(), 300)).await, PayReply::Paid { .. }));
    w.sims.wechat.faults().inject("query", Fault::Status { code: 503 }, 1);
    let first = w.clients.reverse(Channel::WeChat, &order, sent_at()).await;
    assert!(matches!(first, ReverseReply::Retry { .. }), "{first:?}");
    // The money went back on the first call; the retry (idempotent) now learns it.
    assert_eq!(
        w.clients.reverse(Channel::WeChat, &order, sent_at()).await,
        ReverseReply::Done { refunded: true }
    );
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Reversal), 1);
    // Like real WeChat, the reversed paid order is REVOKED, not REFUND.
    assert_eq!(
        w.clients.query(Channel::WeChat, &order, sent_at()).await,
        QueryReply::Failed { code: "REVOKED".into() }
    );
}

#[tokio::test]
async fn reply_lost_after_commit_is_unknown_and_query_finds_it_paid() {
    let w = world().await;
    let order = order();
    w.sims.wechat.faults().inject("pay", Fault::DropReply, 1);
    let reply = w.clients.pay(&pay_request(&order, wechat_code(), 100)).await;
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
    assert!(matches!(w.clients.query(Channel::WeChat, &order, sent_at()).await, QueryReply::Paid { .. }));
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Charge), 1);
}

#[tokio::test]
async fn request_lost_is_unknown_and_query_finds_nothing() {
    let w = world().await;
    let order = order();
    w.sims.wechat.faults().inject("pay", Fault::DropRequest, 1);
    assert!(matches!(
        w.clients.pay(&pay_request(&order, wechat_code(), 100)).await,
        PayReply::Unknown { .. }
    ));
    assert_eq!(w.clients.query(Channel::WeChat, &order, sent_at()).await, QueryReply::NotFound);
    // Reverse anyway (F2): a delayed copy of the request can then never succeed.
    assert_eq!(
        w.clients.reverse(Channel::WeChat, &order, sent_at()).await,
        ReverseReply::Done { refunded: false }
    );
    let late = w.clients.pay(&pay_request(&order, wechat_code(), 100)).await;
    assert!(
        matches!(late, PayReply::Failed { kind: FailKind::Customer, ref code, .. } if code == "ORDERREVERSED"),
        "{late:?}"
    );
    assert!(w.sims.wechat.ledger().iter().all(|e| e.kind != LedgerKind::Charge));
}

#[tokio::test]
async fn a_reply_with_a_bad_signature_is_unknown_even_though_the_channel_charged() {
    let w = world().await;
    let order = order();
    w.sims.wechat.faults().inject("pay", Fault::BadSignature, 1);
    let reply = w.clients.pay(&pay_request(&order, wechat_code(), 100)).await;
    assert!(matches!(reply, PayReply::Unknown { ref detail } if detail.contains("signature")), "{reply:?}");
    assert!(matches!(w.clients.query(Channel::WeChat, &order, sent_at()).await, QueryReply::Paid { .. }));
}

#[tokio::test]
async fn timeouts_and_5xx_are_unknown() {
    let w = world().await;
    let order = order();
    w.sims.wechat.faults().inject("query", Fault::Status { code: 503 }, 1);
    assert!(matches!(w.clients.query(Channel::WeChat, &order, sent_at()).await, QueryReply::Unknown { .. }));
    w.sims.wechat.faults().inject("pay", Fault::Status { code: 502 }, 1);
    assert!(matches!(
        w.clients.pay(&pay_request(&order, wechat_code(), 100)).await,
        PayReply::Unknown { .. }
    ));
    assert!(w.sims.wechat.ledger().is_empty(), "a 5xx does no work");
}

#[tokio::test]
async fn recall_y_means_retry_and_the_next_reverse_succeeds() {
    let w = world().await;
    let order = order();
    w.sims.wechat.faults().inject("pay", Fault::UserPaying { ms: None }, 1);
    w.clients.pay(&pay_request(&order, wechat_code(), 100)).await;
    w.sims.wechat.faults().inject("reverse", Fault::RecallRetry, 1);
    assert!(
        matches!(w.clients.reverse(Channel::WeChat, &order, sent_at()).await, ReverseReply::Retry { ref detail } if detail.contains("recall=Y"))
    );
    assert_eq!(
        w.clients.reverse(Channel::WeChat, &order, sent_at()).await,
        ReverseReply::Done { refunded: false }
    );
}

#[tokio::test]
async fn a_resent_paid_order_is_already_used_never_failed() {
    let w = world().await;
    let order = order();
    w.clients.pay(&pay_request(&order, wechat_code(), 100)).await;
    assert_eq!(
        w.clients.pay(&pay_request(&order, wechat_code(), 100)).await,
        PayReply::AlreadyUsed { code: "ORDERPAID".into() }
    );
    assert_eq!(w.sims.wechat.ledger().len(), 1);
}

#[tokio::test]
async fn a_payment_code_is_single_use() {
    let w = world().await;
    let code = wechat_code();
    w.clients.pay(&pay_request(&order(), code.clone(), 100)).await;
    let again = w.clients.pay(&pay_request(&order(), code, 100)).await;
    assert!(
        matches!(again, PayReply::Failed { kind: FailKind::Customer, ref code, .. } if code == "AUTH_CODE_ERROR"),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_cancelled_pin_dialog_ends_in_payerror() {
    let w = world().await;
    let order = order();
    w.sims.wechat.faults().inject("pay", Fault::UserCancels, 1);
    assert_eq!(w.clients.pay(&pay_request(&order, wechat_code(), 100)).await, PayReply::AwaitingPin);
    assert_eq!(
        w.clients.query(Channel::WeChat, &order, sent_at()).await,
        QueryReply::Failed { code: "PAYERROR".into() }
    );
}

#[tokio::test]
async fn a_replayed_refund_is_one_refund_in_the_ledger() {
    let w = world().await;
    let order = order();
    w.clients.pay(&pay_request(&order, wechat_code(), 500)).await;
    let refund = refund_request(&order, 500, 200);
    w.sims.wechat.faults().inject("refund", Fault::DropReply, 1);
    assert!(matches!(w.clients.refund(Channel::WeChat, &refund).await, RefundReply::Unknown { .. }));
    assert_eq!(w.clients.refund(Channel::WeChat, &refund).await, RefundReply::Refunded);
    assert_eq!(w.clients.refund(Channel::WeChat, &refund).await, RefundReply::Refunded);
    let refunds: Vec<_> =
        w.sims.wechat.ledger().into_iter().filter(|e| e.kind == LedgerKind::Refund).collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        (refunds[0].amount.0, refunds[0].refund_no.as_deref()),
        (200, Some(refund.refund_no.as_str()))
    );
    assert!(matches!(
        w.clients.query(Channel::WeChat, &order, sent_at()).await,
        QueryReply::PaidThenRefunded { .. }
    ));
}

#[tokio::test]
async fn a_refund_of_an_unknown_order_is_refused() {
    let w = world().await;
    let order = order();
    assert!(matches!(
        w.clients.refund(Channel::WeChat, &refund_request(&order, 100, 100)).await,
        RefundReply::Refused { .. }
    ));
}

#[tokio::test]
async fn a_wrong_api_key_is_refused_by_the_channel_and_never_trusted() {
    let w = world().await;
    let mut config = w.sims.client_config(&common::keys_dir());
    if let Some(wechat) = config.wechat.as_mut() {
        wechat.api_key = payments::Secret::new("WrongKey00000000000000000000000x");
    }
    let clients = payments::ChannelClients::new(&config).unwrap();
    let reply = clients.pay(&pay_request(&order(), wechat_code(), 100)).await;
    // The channel answers SIGNERROR, signed with the real key, which we cannot verify either.
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
    assert!(w.sims.wechat.ledger().is_empty());
}
