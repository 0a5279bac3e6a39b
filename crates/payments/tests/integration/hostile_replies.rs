//! A broken or hostile peer: whatever it answers, every client call returns "unknown"/"retry"
//! (never a failure, never a panic), and statements return an error.

use crate::common;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Router;
use kiosk_core::{Channel, PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply};
use payments::{AlipayConfig, ChannelClients, PaymentsConfig, Secret, UnionPayConfig, WeChatConfig};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

type Canned = Arc<Mutex<Vec<u8>>>;

async fn canned(State(body): State<Canned>) -> Response {
    let bytes = body.lock().map(|b| b.clone()).unwrap_or_default();
    Response::new(Body::from(bytes))
}

fn config(url: &str) -> PaymentsConfig {
    let keys = common::keys_dir();
    PaymentsConfig {
        wechat: Some(WeChatConfig {
            base_url: url.into(),
            appid: "wx2421b1c4370ec43b".into(),
            mch_id: "10000100".into(),
            api_key: Secret::from("YizhanSimulatorApiKey0123456789a"),
            spbill_create_ip: "127.0.0.1".into(),
            client_identity_pem: None,
            client_cert_pem: None,
            client_key_pem: None,
            sign_type: payments::wechat::sign::SignType::HmacSha256,
            connect_timeout_ms: 500,
            request_timeout_ms: 2_000,
            pay_timeout_ms: 2_000,
            fee_rate_ppm: None,
        }),
        alipay: Some(AlipayConfig {
            base_url: url.into(),
            app_id: "2021000000000001".into(),
            app_private_key_path: keys.join("alipay-app-private.pem"),
            alipay_public_key_path: keys.join("alipay-platform-public.pem"),
            connect_timeout_ms: 500,
            request_timeout_ms: 2_000,
            pay_timeout_ms: 2_000,
            fee_rate_ppm: None,
        }),
        unionpay: Some(UnionPayConfig {
            base_url: url.into(),
            mer_id: "777290058110048".into(),
            secure_key: Secret::from("YizhanSimulatorSecureKey"),
            connect_timeout_ms: 500,
            request_timeout_ms: 2_000,
            pay_timeout_ms: 2_000,
            fee_rate_ppm: None,
        }),
        card_acquirer: None,
    }
}

/// A peer that answers every request with the body last given to [`Peer::answer`], and clients of
/// all three channels configured against it.
struct Peer {
    body: Canned,
    clients: ChannelClients,
    _served: simkit::Served,
}

impl Peer {
    async fn start() -> Peer {
        let body: Canned = Arc::default();
        let router = Router::new().fallback(canned).with_state(body.clone());
        let served = simkit::serve(TcpListener::bind("127.0.0.1:0").await.unwrap(), router).unwrap();
        let clients = ChannelClients::new(&config(&served.url())).unwrap();
        Peer { body, clients, _served: served }
    }

    /// From now on, the peer answers `bytes`.
    fn answer(&self, bytes: Vec<u8>) {
        *self.body.lock().unwrap() = bytes;
    }
}

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    vec![
        ("empty", Vec::new()),
        ("truncated xml", b"<xml><return_code><![CDATA[SUCCESS]]></return_code><result_code><![CDA".to_vec()),
        ("truncated json", br#"{"alipay_trade_pay_response":{"code":"10000","trade_no":"20"#.to_vec()),
        ("truncated form", b"respCode=00&queryId=".to_vec()),
        ("not utf-8", vec![0xff, 0xfe, 0x00, 0x3c, 0x78]),
        ("huge", vec![b'<'; 3 * 1024 * 1024]),
        ("deep json", deep_json.into_bytes()),
        ("entity bomb", b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><xml><return_code>&b;</return_code></xml>".to_vec()),
        (
            "unsigned wechat success",
            b"<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><trade_state>SUCCESS</trade_state><transaction_id>42</transaction_id><recall>N</recall></xml>".to_vec(),
        ),
        (
            "unsigned alipay success",
            br#"{"alipay_trade_pay_response":{"code":"10000","trade_no":"1"},"alipay_trade_query_response":{"code":"10000","trade_status":"TRADE_SUCCESS","trade_no":"1"},"alipay_trade_cancel_response":{"code":"10000","action":"close"},"alipay_trade_refund_response":{"code":"10000"}}"#.to_vec(),
        ),
        ("forged alipay sign", br#"{"alipay_trade_pay_response":{"code":"10000","trade_no":"1"},"sign":"AAAA"}"#.to_vec()),
        ("unsigned unionpay success", b"respCode=00&origRespCode=00&queryId=1&signature=".to_vec()),
        ("return_code FAIL", b"<xml><return_code>FAIL</return_code><return_msg>nope</return_msg></xml>".to_vec()),
    ]
}

#[tokio::test]
async fn every_hostile_body_is_unknown_on_every_call() {
    let peer = Peer::start().await;
    let clients = &peer.clients;
    let order = common::order();
    let refund = common::refund_request(&order, 100, 100);
    for (name, bytes) in bodies() {
        peer.answer(bytes);
        for code in [common::wechat_code(), common::alipay_code(), common::unionpay_code()] {
            let channel = code.channel();
            let pay = clients.pay(&common::pay_request(&order, code, 100)).await;
            assert!(matches!(pay, PayReply::Unknown { .. }), "{name} {channel} pay → {pay:?}");
            let query = clients.query(channel, &common::call(&order, 100)).await;
            assert!(matches!(query, QueryReply::Unknown { .. }), "{name} {channel} query → {query:?}");
            let reverse = clients.reverse(channel, &common::call(&order, 100), common::later_at()).await;
            assert!(matches!(reverse, ReverseReply::Retry { .. }), "{name} {channel} reverse → {reverse:?}");
            let refunded = clients.refund(channel, &refund).await;
            assert!(
                matches!(refunded, RefundReply::Unknown { .. }),
                "{name} {channel} refund → {refunded:?}"
            );
            let status = clients.refund_status(channel, &refund).await;
            assert!(
                matches!(status, RefundQueryReply::Unknown { .. }),
                "{name} {channel} refund status → {status:?}"
            );
        }
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(clients.statement(Channel::Alipay, date).await.is_err(), "{name} alipay statement");
    }
}

#[tokio::test]
async fn a_peer_that_never_answers_is_a_timeout_not_a_hang() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accept and hold connections without ever answering.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let mut config = config(&url);
    if let Some(wechat) = config.wechat.as_mut() {
        wechat.pay_timeout_ms = 200;
    }
    let clients = ChannelClients::new(&config).unwrap();
    let started = std::time::Instant::now();
    let reply = clients.pay(&common::pay_request(&common::order(), common::wechat_code(), 1)).await;
    assert!(matches!(reply, PayReply::Unknown { ref detail } if detail.contains("time")), "{reply:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    holder.abort();
}

/// Correctly signed replies, each speaking of order `OTHER0000001` instead of ours.
fn signed_about_another_order() -> Vec<(&'static str, Vec<u8>)> {
    use payments::alipay::sign::{parse_private_key, RsaSigner};
    use std::collections::BTreeMap;
    let pairs = |list: &[(&str, &str)]| -> BTreeMap<String, String> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    // WeChat: a flat XML envelope, HMAC-SHA256 with the merchant key.
    let mut wechat = pairs(&[
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("appid", "wx2421b1c4370ec43b"),
        ("mch_id", "10000100"),
        ("nonce_str", "n0nce"),
        ("out_trade_no", "OTHER0000001"),
        ("total_fee", "100"),
        ("transaction_id", "4200000001"),
        ("trade_state", "SUCCESS"),
        ("time_end", "20261123104205"),
    ]);
    let signature = payments::wechat::sign::sign(
        &wechat,
        "YizhanSimulatorApiKey0123456789a",
        payments::wechat::sign::SignType::HmacSha256,
    );
    wechat.insert("sign".into(), signature);
    let xml: String = wechat.iter().map(|(k, v)| format!("<{k}>{v}</{k}>")).collect();
    // Alipay: the same response object under the pay and the query key, signed once.
    let content = r#"{"code":"10000","msg":"Success","trade_no":"2026001","out_trade_no":"OTHER0000001","total_amount":"1.00","trade_status":"TRADE_SUCCESS"}"#;
    let key = std::fs::read_to_string(common::keys_dir().join("alipay-platform-private.pem")).unwrap();
    let alipay_sign = RsaSigner::new(parse_private_key(&key).unwrap()).sign(content.as_bytes()).unwrap();
    let alipay = format!(
        r#"{{"alipay_trade_pay_response":{content},"alipay_trade_query_response":{content},"sign":"{alipay_sign}"}}"#
    );
    // UnionPay: a form, signMethod 11 with the secure key.
    let mut unionpay = pairs(&[
        ("respCode", "00"),
        ("origRespCode", "00"),
        ("queryId", "62000001"),
        ("merId", "777290058110048"),
        ("orderId", "OTHER0000001"),
        ("txnAmt", "100"),
    ]);
    let signature = payments::unionpay::sign::sign(&unionpay, "YizhanSimulatorSecureKey");
    unionpay.insert("signature".into(), signature);
    vec![
        ("wechat", format!("<xml>{xml}</xml>").into_bytes()),
        ("alipay", alipay.into_bytes()),
        ("unionpay", serde_urlencoded::to_string(&unionpay).unwrap().into_bytes()),
    ]
}

#[tokio::test]
async fn a_signed_reply_about_another_order_is_a_mismatch_never_paid() {
    let peer = Peer::start().await;
    let clients = &peer.clients;
    let order = common::order();
    for ((name, bytes), code) in signed_about_another_order().into_iter().zip([
        common::wechat_code(),
        common::alipay_code(),
        common::unionpay_code(),
    ]) {
        peer.answer(bytes);
        let channel = code.channel();
        let pay = clients.pay(&common::pay_request(&order, code, 100)).await;
        assert!(
            matches!(pay, PayReply::Mismatch { ref detail } if detail.contains("OTHER0000001")),
            "{name} pay → {pay:?}"
        );
        let query = clients.query(channel, &common::call(&order, 100)).await;
        assert!(matches!(query, QueryReply::Mismatch { .. }), "{name} query → {query:?}");
        let reverse = clients.reverse(channel, &common::call(&order, 100), common::later_at()).await;
        assert!(!matches!(reverse, ReverseReply::Done { .. }), "{name} reverse → {reverse:?}");
    }
}
