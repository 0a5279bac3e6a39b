//! A signed reply answers one request only: replayed to another request (by a proxy, a cache or
//! an attacker on the path), it is "unknown", never a definite refusal the kiosk would refund on.
//! The proxy here records the simulator's real, correctly signed replies and plays them back.

use crate::common;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::Router;
use billers::{BillerClient, BillerEntry, BillerError, PurchaseRequest};
use common::{billed_in, env, fresh_card_account, KIOSK};
use kiosk_core::{Channel, Fen, Ts, Utility, WriteOffReply};
use simkit::Fault;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// One recorded reply: status, the `x-yizhan-*` and content-type headers, body.
type Recorded = (u16, Vec<(String, String)>, Vec<u8>);

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// `Some`: answer every request with this instead of forwarding it.
    replay: Arc<Mutex<Option<Recorded>>>,
    last: Arc<Mutex<Option<Recorded>>>,
}

async fn relay(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let canned = proxy.replay.lock().unwrap().clone();
    let (status, reply_headers, reply_body) = match canned {
        Some(recorded) => recorded,
        None => {
            let url =
                format!("{}{}", proxy.upstream, uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
            let mut request = proxy.http.request(method, url).body(body.to_vec());
            for (name, value) in &headers {
                if name.as_str().starts_with("x-yizhan-") || name == "content-type" {
                    request = request.header(name, value);
                }
            }
            let response = request.send().await.expect("the simulator answers");
            let status = response.status().as_u16();
            let kept = response
                .headers()
                .iter()
                .filter(|(n, _)| n.as_str().starts_with("x-yizhan-") || *n == "content-type")
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
                .collect();
            let recorded = (status, kept, response.bytes().await.unwrap().to_vec());
            *proxy.last.lock().unwrap() = Some(recorded.clone());
            recorded
        }
    };
    let mut response = Response::builder().status(status);
    for (name, value) in reply_headers {
        response = response.header(name, value);
    }
    response.body(Body::from(reply_body)).unwrap()
}

async fn proxy_for(upstream: String) -> (simkit::Served, Proxy) {
    let proxy =
        Proxy { upstream, http: reqwest::Client::new(), replay: Arc::default(), last: Arc::default() };
    let router = Router::new().fallback(relay).with_state(proxy.clone());
    let served = simkit::serve(TcpListener::bind("127.0.0.1:0").await.unwrap(), router).unwrap();
    (served, proxy)
}

/// A proxy in front of the simulator `entry` points at, and `entry` pointed at the proxy instead;
/// the proxy serves until the returned [`simkit::Served`] is dropped.
async fn proxied(mut entry: BillerEntry) -> (simkit::Served, Proxy, BillerEntry) {
    let (served, proxy) = proxy_for(entry.base_url.clone()).await;
    entry.base_url = served.url();
    (served, proxy, entry)
}

impl Proxy {
    /// From now on, answer everything with the last reply the simulator gave.
    fn replay_last(&self) {
        *self.replay.lock().unwrap() = self.last.lock().unwrap().clone();
    }
}

#[tokio::test]
async fn a_not_found_for_a_confirmation_replayed_to_a_purchase_is_unknown() {
    let env = env().await;
    let account = fresh_card_account(&env, 41, "8800000410", 2);
    let (_served, proxy, entry) = proxied(env.sims.gas.client_entry()).await;
    let gas = BillerClient::new(Utility::Gas, &entry, KIOSK).unwrap();
    let reference = "YZTEST00000041-1";

    // A genuine, signed 404 PURCHASE_NOT_FOUND naming our reference, for another request...
    assert!(matches!(gas.confirm_card_write(reference).await, kiosk_core::ConfirmReply::Unknown { .. }));
    proxy.replay_last();
    // ...played back as the answer to the purchase itself: no definite refusal, no refund.
    let purchase = PurchaseRequest {
        reference: reference.into(),
        account,
        card_no: "8800000410".into(),
        purchase_count: 2,
        amount: Fen(5000),
        channel: Channel::WeChat,
        channel_txn: "4200000041".into(),
        paid_at: Ts(1_764_000_000_000),
    };
    let reply = gas.prepaid_purchase(&purchase).await;
    assert!(matches!(&reply, WriteOffReply::Unknown { detail } if detail.contains("request")), "{reply:?}");
}

#[tokio::test]
async fn a_refusal_replayed_to_a_retry_of_another_request_is_unknown() {
    let env = env().await;
    let (_, first) = billed_in(&env, Utility::Water, 42, 3150).await;
    let (_, second) = billed_in(&env, Utility::Water, 43, 3150).await;
    let (_served, proxy, entry) = proxied(env.sims.water.client_entry()).await;
    let client = BillerClient::new(Utility::Water, &entry, KIOSK).unwrap();

    env.sims.water.sim.faults().inject(
        "write_off",
        Fault::WriteOffReject { code: "ACCOUNT_CLOSED".into() },
        1,
    );
    assert!(matches!(client.write_off(&first).await, WriteOffReply::Rejected { .. }), "through the proxy");
    proxy.replay_last();
    // The same signed refusal for the same reference, but answering a later request.
    assert!(matches!(client.write_off(&first).await, WriteOffReply::Unknown { .. }));
    assert!(matches!(client.write_off(&second).await, WriteOffReply::Unknown { .. }));
    assert!(env.sims.water.sim.ledger().write_offs.is_empty());
}

#[tokio::test]
async fn a_card_lookup_reply_replayed_to_another_lookup_is_not_believed() {
    let env = env().await;
    let (_served, proxy, entry) = proxied(env.sims.gas.client_entry()).await;
    let gas = BillerClient::new(Utility::Gas, &entry, KIOSK).unwrap();

    // A genuine, signed 404 UNKNOWN_CARD for a stranger's card...
    assert_eq!(gas.prepaid_card("8800000999").await, Err(BillerError::UnknownCard));
    proxy.replay_last();
    // ...played back to the lookup of a known card: neither "unknown" nor an account.
    let replayed = gas.prepaid_card(billers::sim::DEMO_CARD).await;
    assert!(
        matches!(&replayed, Err(BillerError::BadReply { detail }) if detail.contains("request")),
        "{replayed:?}"
    );
}

#[tokio::test]
async fn a_household_reply_replayed_to_another_holder_is_not_believed() {
    let env = env().await;
    let (_served, proxy, entry) = proxied(env.sims.joint.client_entry()).await;
    let joint = billers::JointClient::new(&entry, KIOSK).unwrap();

    // A genuine, signed reply listing the demo household's accounts...
    assert_eq!(joint.household(billers::sim::DEMO_HOLDER).await.unwrap().len(), 4);
    proxy.replay_last();
    // ...played back as the answer about another holder: not their household.
    let stranger = billers::holder_digest("11010519491231002X").unwrap();
    let replayed = joint.household(&stranger).await;
    assert!(
        matches!(&replayed, Err(BillerError::BadReply { detail }) if detail.contains("request")),
        "{replayed:?}"
    );
}
