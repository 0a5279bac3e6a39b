//! WeChat Pay v2 client against its simulator over real HTTP: the payment flows of payments.md
//! §1.6 and the fault scenarios of §10.

use crate::common;

use common::{
    call, count, order, paid, paid_at_once, paid_to_refund, pay_request, pay_unknown, pay_with_fault,
    pin_comes_later, refund_after_lost_reply, refund_is_refused, reuse_is_refused, reverse_gives_back,
    reversed_while_waiting, wechat_code, world, world_with,
};
use kiosk_core::{Channel, FailKind, PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply};
use payments::sim::{LedgerKind, RefundEnding};
use simkit::Fault;

#[tokio::test]
async fn pays_and_query_confirms_the_same_transaction() {
    let w = world().await;
    let (order, channel_txn) = paid_at_once(&w, Channel::WeChat, 8650).await;
    assert_eq!(
        w.query(Channel::WeChat, &order, 8650).await,
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
    assert_eq!(pin_comes_later(&w, Channel::WeChat, 100, 150, 200).await, PayReply::AwaitingPin);
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Charge), 1);
}

#[tokio::test]
async fn never_entered_pin_is_closed_by_reverse_and_a_late_pin_cannot_pay() {
    let w = world().await;
    // Closed. A reversed order is REVOKED, paid or not, and without time_end nothing says which.
    let revoked = QueryReply::Closed { code: "REVOKED".into() };
    let (_, reply) = reversed_while_waiting(&w, Channel::WeChat, 100, None, revoked).await;
    assert_eq!(reply, PayReply::AwaitingPin);
    let ledger = w.sims.wechat.ledger();
    assert_eq!(count(&ledger, LedgerKind::Charge), 0);
    assert_eq!(count(&ledger, LedgerKind::Closed), 1);
}

#[tokio::test]
async fn reversing_a_paid_order_gives_the_money_back_but_only_time_end_says_so() {
    // WeChat's REVOKED reply need not carry time_end (the simulator's default): the reverse is
    // done, but whether money had been taken is not said. It used to say "not charged".
    let w = world().await;
    let (order, _) = paid_at_once(&w, Channel::WeChat, 300).await;
    assert_eq!(w.reverse(Channel::WeChat, &order, 300).await, ReverseReply::Done { refunded: None });
    assert_eq!(
        w.reverse(Channel::WeChat, &order, 300).await,
        ReverseReply::Done { refunded: None },
        "idempotent"
    );
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Reversal), 1);

    // When the REVOKED reply does carry the payment time, the money is known to have gone back.
    let w = world_with(|c| c.wechat.revoked_time_end = true).await;
    let (order, _) = paid_at_once(&w, Channel::WeChat, 300).await;
    reverse_gives_back(&w, Channel::WeChat, &order, 300).await;
}

#[tokio::test]
async fn a_reverse_whose_follow_up_query_fails_is_retried_not_guessed_unpaid() {
    let w = world_with(|c| c.wechat.revoked_time_end = true).await;
    let (order, _) = paid_at_once(&w, Channel::WeChat, 300).await;
    w.sims.wechat.faults().inject("query", Fault::Status { code: 503 }, 1);
    let first = w.reverse(Channel::WeChat, &order, 300).await;
    assert!(matches!(first, ReverseReply::Retry { .. }), "{first:?}");
    // The money went back on the first call; the retry (idempotent) now learns it.
    reverse_gives_back(&w, Channel::WeChat, &order, 300).await;
    // Like real WeChat, the reversed paid order is REVOKED, not REFUND: closed, never "unpaid".
    assert_eq!(w.query(Channel::WeChat, &order, 300).await, QueryReply::Closed { code: "REVOKED".into() });
}

#[tokio::test]
async fn reply_lost_after_commit_is_unknown_and_query_finds_it_paid() {
    let w = world().await;
    let order = pay_unknown(&w, Channel::WeChat, Fault::DropReply, 100).await;
    assert!(matches!(w.query(Channel::WeChat, &order, 100).await, QueryReply::Paid { .. }));
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Charge), 1);
}

#[tokio::test]
async fn request_lost_is_unknown_and_query_finds_nothing() {
    let w = world().await;
    let order = pay_unknown(&w, Channel::WeChat, Fault::DropRequest, 100).await;
    assert_eq!(w.query(Channel::WeChat, &order, 100).await, QueryReply::NotFound);
    // Reverse anyway (F2): a delayed copy of the request can then never succeed.
    assert_eq!(w.reverse(Channel::WeChat, &order, 100).await, ReverseReply::Done { refunded: None });
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
    let (order, reply) = pay_with_fault(&w, Channel::WeChat, Fault::BadSignature, 100).await;
    assert!(matches!(reply, PayReply::Unknown { ref detail } if detail.contains("signature")), "{reply:?}");
    assert!(matches!(w.query(Channel::WeChat, &order, 100).await, QueryReply::Paid { .. }));
}

#[tokio::test]
async fn timeouts_and_5xx_are_unknown() {
    let w = world().await;
    let order = order();
    w.sims.wechat.faults().inject("query", Fault::Status { code: 503 }, 1);
    assert!(matches!(w.query(Channel::WeChat, &order, 100).await, QueryReply::Unknown { .. }));
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
    let (order, _) = pay_with_fault(&w, Channel::WeChat, Fault::UserPaying { ms: None }, 100).await;
    w.sims.wechat.faults().inject("reverse", Fault::RecallRetry, 1);
    assert!(
        matches!(w.reverse(Channel::WeChat, &order, 100).await, ReverseReply::Retry { ref detail } if detail.contains("recall=Y"))
    );
    assert_eq!(w.reverse(Channel::WeChat, &order, 100).await, ReverseReply::Done { refunded: None });
}

#[tokio::test]
async fn a_resent_paid_order_is_already_used_never_failed() {
    let w = world().await;
    let order = paid(&w, Channel::WeChat, 100).await;
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
    reuse_is_refused(&w, code, "AUTH_CODE_ERROR").await;
}

#[tokio::test]
async fn a_cancelled_pin_dialog_ends_in_payerror() {
    let w = world().await;
    let (order, reply) = pay_with_fault(&w, Channel::WeChat, Fault::UserCancels, 100).await;
    assert_eq!(reply, PayReply::AwaitingPin);
    assert_eq!(w.query(Channel::WeChat, &order, 100).await, QueryReply::Failed { code: "PAYERROR".into() });
}

#[tokio::test]
async fn a_replayed_refund_is_one_refund_in_the_ledger() {
    let w = world().await;
    let (order, refund) = paid_to_refund(&w, Channel::WeChat, 500, 200).await;
    let twice = [RefundReply::Accepted, RefundReply::Accepted];
    refund_after_lost_reply(&w, Channel::WeChat, &refund, &twice).await;
    let refunds: Vec<_> =
        w.sims.wechat.ledger().into_iter().filter(|e| e.kind == LedgerKind::Refund).collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        (refunds[0].amount.0, refunds[0].refund_no.as_deref()),
        (200, Some(refund.refund_no.as_str()))
    );
    assert!(matches!(w.query(Channel::WeChat, &order, 500).await, QueryReply::PaidThenRefunded { .. }));
}

#[tokio::test]
async fn a_refund_of_an_unknown_order_is_refused() {
    let w = world().await;
    refund_is_refused(&w, Channel::WeChat, &order(), 100, 100).await;
}

#[tokio::test]
async fn a_wrong_api_key_is_refused_by_the_channel_and_never_trusted() {
    let w = world().await;
    let mut config = w.sims.client_config(&common::keys_dir());
    if let Some(wechat) = config.wechat.as_mut() {
        wechat.api_key = payments::Secret::from("WrongKey00000000000000000000000x");
    }
    let clients = payments::ChannelClients::new(&config).unwrap();
    let reply = clients.pay(&pay_request(&order(), wechat_code(), 100)).await;
    // The channel answers SIGNERROR, signed with the real key, which we cannot verify either.
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
    assert!(w.sims.wechat.ledger().is_empty());
}

#[tokio::test]
async fn a_refund_is_accepted_then_processing_then_refunded() {
    let w = world_with(|c| c.wechat.refund_pending_queries = 1).await;
    let (_, refund) = paid_to_refund(&w, Channel::WeChat, 500, 200).await;
    assert_eq!(w.clients.refund_status(Channel::WeChat, &refund).await, RefundQueryReply::NotFound);
    // SUCCESS of the refund call only means "accepted": the money is not back yet.
    assert_eq!(w.clients.refund(Channel::WeChat, &refund).await, RefundReply::Accepted);
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Refund), 0);
    assert_eq!(w.clients.refund_status(Channel::WeChat, &refund).await, RefundQueryReply::Pending);
    assert_eq!(w.clients.refund_status(Channel::WeChat, &refund).await, RefundQueryReply::Refunded);
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Refund), 1);
    // Resending the same out_refund_no is still one refund.
    assert_eq!(w.clients.refund(Channel::WeChat, &refund).await, RefundReply::Accepted);
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Refund), 1);
}

#[tokio::test]
async fn a_refund_can_end_in_change_or_refundclose_and_gives_nothing_back() {
    let w = world().await;
    for (ending, code) in [(RefundEnding::Change, "CHANGE"), (RefundEnding::RefundClose, "REFUNDCLOSE")] {
        let (_, refund) = paid_to_refund(&w, Channel::WeChat, 500, 500).await;
        w.sims.wechat.end_next_refund(ending);
        assert_eq!(w.clients.refund(Channel::WeChat, &refund).await, RefundReply::Accepted);
        assert_eq!(
            w.clients.refund_status(Channel::WeChat, &refund).await,
            RefundQueryReply::Failed { code: code.into() }
        );
    }
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Refund), 0);
}

#[tokio::test]
async fn a_refund_paid_out_after_a_delay_is_pending_until_then() {
    let w = world_with(|c| c.wechat.refund_pending_ms = 150).await;
    let (_, refund) = paid_to_refund(&w, Channel::WeChat, 500, 500).await;
    assert_eq!(w.clients.refund(Channel::WeChat, &refund).await, RefundReply::Accepted);
    assert_eq!(w.clients.refund_status(Channel::WeChat, &refund).await, RefundQueryReply::Pending);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(w.clients.refund_status(Channel::WeChat, &refund).await, RefundQueryReply::Refunded);
}

#[tokio::test]
async fn a_query_about_another_amount_is_a_mismatch_and_a_reverse_then_retries() {
    let w = world_with(|c| c.wechat.revoked_time_end = true).await;
    let order = paid(&w, Channel::WeChat, 300).await;
    // WeChat reports total_fee 300 for this order; the kiosk's order says 301.
    let reply = w.query(Channel::WeChat, &order, 301).await;
    assert!(
        matches!(reply, QueryReply::Mismatch { ref detail } if detail.contains("total_fee")),
        "{reply:?}"
    );
    let reverse = w.reverse(Channel::WeChat, &order, 301).await;
    assert!(
        matches!(reverse, ReverseReply::Retry { ref detail } if detail.contains("another order")),
        "{reverse:?}"
    );
}

#[tokio::test]
async fn md5_signing_is_used_both_ways_when_configured() {
    let w = world().await;
    let mut config = w.sims.client_config(&common::keys_dir());
    if let Some(wechat) = config.wechat.as_mut() {
        wechat.sign_type = payments::wechat::sign::SignType::Md5;
    }
    let clients = payments::ChannelClients::new(&config).unwrap();
    let order = order();
    // The simulator verifies and signs with the sign_type the request names.
    assert!(matches!(clients.pay(&pay_request(&order, wechat_code(), 100)).await, PayReply::Paid { .. }));
    assert!(matches!(clients.query(Channel::WeChat, &call(&order, 100)).await, QueryReply::Paid { .. }));
    assert_eq!(count(&w.sims.wechat.ledger(), LedgerKind::Charge), 1);
}

#[tokio::test]
async fn the_admin_route_queues_how_the_next_refund_ends() {
    let w = world().await;
    let (_, refund) = paid_to_refund(&w, Channel::WeChat, 500, 100).await;
    let queued = reqwest::Client::new()
        .post(format!("{}/admin/refund-ending", w.sims.wechat.url()))
        .json(&serde_json::json!({ "ending": "REFUNDCLOSE" }))
        .send()
        .await
        .unwrap();
    assert!(queued.status().is_success());
    assert_eq!(w.clients.refund(Channel::WeChat, &refund).await, RefundReply::Accepted);
    assert_eq!(
        w.clients.refund_status(Channel::WeChat, &refund).await,
        RefundQueryReply::Failed { code: "REFUNDCLOSE".into() }
    );
}
