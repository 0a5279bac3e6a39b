//! A biller (or anything in front of it) that answers with an enormous body gets "unknown" or a
//! bad reply, quickly: the client reads at most `MAX_REPLY_BYTES` of an API reply and never
//! waits for a body it would not read anyway. The reconciliation file has a larger bound of its
//! own.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use billers::{recon, sign, BillerClient, BillerEntry, BillerError, WriteOffExpectation, MAX_REPLY_BYTES};
use kiosk_core::{AccountNo, Fen, Utility, WriteOffStatus};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const KEY: &str = "yizhan-test-key-0123456789";

fn ours(reference: &str) -> WriteOffExpectation {
    WriteOffExpectation {
        reference: reference.into(),
        account: AccountNo::from_trusted("310000005"),
        amount: Fen(3150),
        purchase_count: None,
    }
}

/// A reply signed with [`KEY`] for the request carrying `headers`, as a biller signs it.
fn signed(headers: &HeaderMap, status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let request_nonce =
        headers.get(sign::HEADER_NONCE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let timestamp = sign::now_secs().to_string();
    let nonce = sign::new_nonce();
    let signature =
        sign::sign(KEY.as_bytes(), &sign::reply_string(&timestamp, &nonce, &request_nonce, &body));
    let mut response = (status, body).into_response();
    let out = response.headers_mut();
    out.insert("content-type", HeaderValue::from_static(content_type));
    for (name, value) in [
        (sign::HEADER_TIMESTAMP, timestamp),
        (sign::HEADER_NONCE, nonce),
        (sign::HEADER_REQUEST_NONCE, request_nonce),
        (sign::HEADER_SIGNATURE, signature),
    ] {
        out.insert(name, HeaderValue::from_str(&value).unwrap());
    }
    response
}

/// A well-formed, correctly signed JSON reply padded with whitespace (which JSON allows) to
/// `size` bytes: only its size is wrong.
fn padded(json: &str, size: usize) -> Vec<u8> {
    let mut body = json.as_bytes().to_vec();
    body.resize(size, b' ');
    body
}

/// A biller whose replies are genuine but as large as the path asks.
async fn big_biller(uri: Uri, headers: HeaderMap, _body: Bytes) -> Response {
    let path = uri.path();
    let status = r#"{"status":"written_off","reference":"R","biller_txn":"W1","account":"310000005","amount_fen":3150}"#;
    let bill = r#"{"utility":"water","account":"310000005","bill_id":"W1","version":1,"amount_due_fen":3150,
        "due_date":"2026-12-15","holder_masked":"张*明","address_masked":"上海市**区","recent_payments":[]}"#;
    match path {
        "/v1/write-offs/R" if headers.get("x-test-size").is_some() => {
            let size: usize = headers["x-test-size"].to_str().unwrap().parse().unwrap();
            signed(&headers, StatusCode::OK, "application/json", padded(status, size))
        }
        "/v1/write-offs/R" => {
            signed(&headers, StatusCode::OK, "application/json", padded(status, 4 * MAX_REPLY_BYTES))
        }
        "/v1/accounts/310000005/bill" => {
            signed(&headers, StatusCode::OK, "application/json", padded(bill, MAX_REPLY_BYTES + 1))
        }
        "/v1/reconciliation/2026-11-23" => {
            // About 1.3 MB: far above an API reply's bound, well within a file's.
            let rows: Vec<recon::ReconRow> = (0..20_000)
                .map(|i| recon::ReconRow {
                    date: "2026-11-23".into(),
                    serial: format!("{i:06}"),
                    reference: format!("YZ0001261123{i:06}-1"),
                    account: AccountNo::from_trusted("310000005"),
                    amount: Fen(3150),
                    channel: "wechat".into(),
                    kind: recon::ReconKind::Pay,
                })
                .collect();
            let file = recon::render(&rows).into_bytes();
            assert!(file.len() > 4 * MAX_REPLY_BYTES);
            signed(&headers, StatusCode::OK, "text/plain; charset=utf-8", file)
        }
        _ => (StatusCode::NOT_FOUND, "").into_response(),
    }
}

fn client(base_url: String) -> BillerClient {
    let mut entry = BillerEntry::new(base_url, KEY);
    entry.request_timeout_ms = 10_000;
    BillerClient::new(Utility::Water, &entry, "SH-PD-0001").unwrap()
}

#[tokio::test]
async fn an_oversized_signed_reply_is_unknown_not_believed() {
    let served =
        simkit::serve(TcpListener::bind("127.0.0.1:0").await.unwrap(), Router::new().fallback(big_biller))
            .unwrap();
    let water = client(served.url());

    let status = water.write_off_status(&ours("R")).await;
    assert!(
        matches!(&status, WriteOffStatus::Unknown { detail } if detail.contains("larger than 262144 bytes")),
        "{status:?}"
    );
    let bill = water.fetch_bill(&AccountNo::from_trusted("310000005")).await;
    assert!(
        matches!(&bill, Err(BillerError::BadReply { detail }) if detail.contains("larger than")),
        "{bill:?}"
    );
    // The reconciliation file has a bound of its own.
    assert_eq!(water.reconciliation("2026-11-23").await.unwrap().len(), 20_000);
}

#[tokio::test]
async fn a_reply_exactly_at_the_bound_is_read() {
    // The same server, a status padded to exactly the bound: believed (the bound is not off by one).
    async fn at_bound(uri: Uri, mut headers: HeaderMap, body: Bytes) -> Response {
        headers.insert("x-test-size", HeaderValue::from(MAX_REPLY_BYTES));
        big_biller(uri, headers, body).await
    }
    let served =
        simkit::serve(TcpListener::bind("127.0.0.1:0").await.unwrap(), Router::new().fallback(at_bound))
            .unwrap();
    let status = client(served.url()).write_off_status(&ours("R")).await;
    assert_eq!(status, WriteOffStatus::WrittenOff { biller_txn: "W1".into(), card: None });
}

/// A raw HTTP server: for each connection, reads the request head and answers with the head
/// `head`, then (if `endless`) a chunked body that never ends.
async fn raw_server(head: &'static str, endless: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                if endless {
                    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
                    while socket.write_all(chunk.as_bytes()).await.is_ok() {}
                } else {
                    // Promise a body and send none: only a client that waits for it would hang.
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
        }
    });
    url
}

/// Asks `water` for the status of write-off R: the reply is too large to be believed, so the
/// status is unknown, and `water` knows it quickly (`how`), not after its 10 s timeout.
async fn assert_too_large_told_quickly(water: &BillerClient, how: &str) {
    let started = Instant::now();
    let status = water.write_off_status(&ours("R")).await;
    assert!(
        matches!(&status, WriteOffStatus::Unknown { detail } if detail.contains("larger than")),
        "{status:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{how}, not at the 10 s timeout");
}

#[tokio::test]
async fn an_endless_reply_is_cut_off_at_the_bound_not_read_until_the_timeout() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\
                x-yizhan-timestamp: 1764000000\r\nx-yizhan-nonce: 00\r\nx-yizhan-signature: 00\r\n\r\n";
    let water = client(raw_server(head, true).await);
    assert_too_large_told_quickly(&water, "gave up at the bound").await;
}

#[tokio::test]
async fn a_promised_enormous_body_is_refused_without_waiting_for_it() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10000000000\r\n\r\n";
    let water = client(raw_server(head, false).await);
    assert_too_large_told_quickly(&water, "refused at once").await;
    let bill = water.fetch_bill(&AccountNo::from_trusted("310000005")).await;
    assert!(matches!(bill, Err(BillerError::BadReply { .. })), "{bill:?}");
}
