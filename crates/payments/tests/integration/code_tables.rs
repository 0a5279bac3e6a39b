//! Every err_code / sub_code / respCode row of payments.md §1.4, §1.5, §2.2 and §3.1, injected
//! into the simulators and read back through the clients: each must land on its reply variant.

use crate::common;

use common::{call, code, later_at, order, pay_request, wechat_code, world};
use kiosk_core::{Channel, FailKind, PayReply, QueryReply};
use simkit::Fault;

#[derive(Debug, PartialEq)]
enum Class {
    Unknown,
    Pin,
    AlreadyUsed,
    Customer,
    Config,
}

fn class(reply: &PayReply) -> Class {
    match reply {
        PayReply::Unknown { .. } => Class::Unknown,
        PayReply::AwaitingPin => Class::Pin,
        PayReply::AlreadyUsed { .. } => Class::AlreadyUsed,
        PayReply::Failed { kind: FailKind::Customer, .. } => Class::Customer,
        PayReply::Failed { kind: FailKind::Config, .. } => Class::Config,
        PayReply::Paid { .. } => panic!("an injected error must never read as paid"),
        PayReply::Mismatch { .. } => panic!("an injected error names our own order"),
    }
}

/// Injects each row's wire code into `channel`'s simulator for one pay, and checks the class of the
/// client's reply.
async fn check(channel: Channel, rows: &[(&str, Class)]) {
    let w = world().await;
    let sim = w.sim(channel);
    for (wire, expected) in rows {
        sim.faults().inject("pay", Fault::ErrorCode { code: wire.to_string() }, 1);
        let reply = w.clients.pay(&pay_request(&order(), code(channel), 100)).await;
        assert_eq!(&class(&reply), expected, "{wire} → {reply:?}");
    }
    assert!(sim.ledger().is_empty(), "an error code does no work");
}

#[tokio::test]
async fn wechat_micropay_err_codes() {
    use Class::*;
    let rows = [
        ("SYSTEMERROR", Unknown),
        ("BANKERROR", Unknown),
        ("USERPAYING", Pin),
        ("ORDERPAID", AlreadyUsed),
        ("OUT_TRADE_NO_USED", AlreadyUsed),
        ("AUTHCODEEXPIRE", Customer),
        ("AUTH_CODE_ERROR", Customer),
        ("AUTH_CODE_INVALID", Customer),
        ("NOTENOUGH", Customer),
        ("NOTSUPORTCARD", Customer),
        ("ORDERCLOSED", Customer),
        ("ORDERREVERSED", Customer),
        ("BUYER_MISMATCH", Customer),
        ("PARAM_ERROR", Config),
        ("LACK_PARAMS", Config),
        ("SIGNERROR", Config),
        ("XML_FORMAT_ERROR", Config),
        ("REQUIRE_POST_METHOD", Config),
        ("NOT_UTF8", Config),
        ("NOAUTH", Config),
        ("APPID_NOT_EXIST", Config),
        ("MCHID_NOT_EXIST", Config),
        ("APPID_MCHID_NOT_MATCH", Config),
        ("SOMETHING_NEW", Unknown),
    ];
    check(Channel::WeChat, &rows).await;
}

#[tokio::test]
async fn alipay_codes_and_sub_codes() {
    use Class::*;
    let rows = [
        ("20000", Unknown),
        ("20001", Config),
        ("40001", Config),
        ("40002", Config),
        ("40006", Config),
        ("ACQ.TRADE_HAS_SUCCESS", AlreadyUsed),
        ("ACQ.TRADE_HAS_CLOSE", Customer),
        ("ACQ.PAYMENT_AUTH_CODE_INVALID", Customer),
        ("ACQ.SYSTEM_ERROR", Unknown),
        ("ACQ.BUYER_BALANCE_NOT_ENOUGH", Customer),
        ("ACQ.EXCEED_SINGLE_LIMIT", Customer),
        ("isp.something", Unknown),
        ("99999", Unknown),
    ];
    check(Channel::Alipay, &rows).await;
}

#[tokio::test]
async fn unionpay_resp_codes() {
    use Class::*;
    // Only refusals before anything reaches the payer are failures; issuer and risk answers
    // (30, 38, 6x but 61) and "debited" codes (42, 74) are settled by the query.
    let rows = [
        ("00", Unknown),
        ("03", Unknown),
        ("04", Unknown),
        ("05", Unknown),
        ("01", Unknown),
        ("06", Unknown),
        ("12", AlreadyUsed),
        ("10", Config),
        ("11", Config),
        ("13", Config),
        ("31", Config),
        ("32", Config),
        ("43", Config),
        ("33", Customer),
        ("61", Customer),
        ("30", Unknown),
        ("38", Unknown),
        ("42", Unknown),
        ("64", Unknown),
        ("65", Unknown),
        ("74", Unknown),
        ("99", Unknown),
    ];
    check(Channel::UnionPay, &rows).await;
}

#[tokio::test]
async fn query_not_found_and_system_errors() {
    let w = world().await;
    let order = order();
    for (channel, sim, system_error) in [
        (Channel::WeChat, &w.sims.wechat, "SYSTEMERROR"),
        (Channel::Alipay, &w.sims.alipay, "ACQ.SYSTEM_ERROR"),
        (Channel::UnionPay, &w.sims.unionpay, "06"),
    ] {
        assert_eq!(w.clients.query(channel, &call(&order, 100)).await, QueryReply::NotFound, "{channel}");
        sim.faults().inject("query", Fault::ErrorCode { code: system_error.into() }, 1);
        assert!(
            matches!(w.clients.query(channel, &call(&order, 100)).await, QueryReply::Unknown { .. }),
            "{channel}"
        );
    }
    // The injected ORDERNOTEXIST row itself.
    w.sims.wechat.faults().inject("query", Fault::ErrorCode { code: "ORDERNOTEXIST".into() }, 1);
    assert_eq!(w.clients.query(Channel::WeChat, &call(&order, 100)).await, QueryReply::NotFound);
    w.sims.alipay.faults().inject("query", Fault::ErrorCode { code: "ACQ.TRADE_NOT_EXIST".into() }, 1);
    assert_eq!(w.clients.query(Channel::Alipay, &call(&order, 100)).await, QueryReply::NotFound);
}

#[tokio::test]
async fn bank_card_and_unconfigured_channels_are_unknown_not_failed() {
    use kiosk_core::{RefundReply, ReverseReply};
    let clients = payments::ChannelClients::default();
    let order = order();
    assert!(matches!(clients.pay(&pay_request(&order, wechat_code(), 1)).await, PayReply::Unknown { .. }));
    let QueryReply::Unknown { detail } = clients.query(Channel::BankCard, &call(&order, 1)).await else {
        panic!()
    };
    assert_eq!(detail, "bank card terminal not configured");
    assert!(matches!(
        clients.reverse(Channel::BankCard, &call(&order, 1), later_at()).await,
        ReverseReply::Retry { .. }
    ));
    let refund = common::refund_request(&order, 1, 1);
    assert!(matches!(clients.refund(Channel::Alipay, &refund).await, RefundReply::Unknown { .. }));
}
