//! The card acquirer, simulated: the host the simulated terminals report what they approved to
//! (`POST /host/transactions`, one [`HostTransaction`] as JSON), and the merchant portal serving
//! the day's settlement file (`GET /settlement/{merchant}/{yyyymmdd}`, signed; see
//! [`crate::card_acquirer`]).
//!
//! The file is written here line by line from the ledger, with its own column list and amount
//! formatting, not with the client's parser's tables, so a misread column fails a test. A
//! reversed (冲正) sale leaves the file: it never settled. The acquirer's day turns at
//! midnight Beijing time here (real acquirers settle at a cut-off of their own; reconciliation
//! reads each order's day and the next).

use super::book::{Book, LedgerEntry, LedgerKind};
use super::faults::{finish, gate, Gate};
use super::CardAcquirerSimConfig;
use crate::beijing;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kiosk_core::{Fen, Ts};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use simkit::FaultPlan;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a terminal reports of one approved transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostTransaction {
    /// `sale`, `void`, `refund` or `reversal`.
    pub trans: String,
    /// The order number (sale, void, reversal) or our refund number (refund).
    pub reference: String,
    /// A refund's order number.
    #[serde(default)]
    pub original: String,
    pub amount: Fen,
    pub merchant_id: String,
    pub terminal_id: String,
    pub batch: String,
    pub voucher: String,
    /// The reference no. (of a reversal: the reversed sale's).
    pub ref_no: String,
    /// Masked card number.
    pub pan: String,
    pub at: Ts,
}

/// A terminal's line to the acquirer's host at `acquirer_url`: each transaction sent on it is
/// posted to `/host/transactions`, one at a time and in order (a reversal never overtakes its
/// sale). Must be called inside a tokio runtime; the line closes when every sender is dropped.
pub fn host_line(acquirer_url: &str) -> tokio::sync::mpsc::UnboundedSender<HostTransaction> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<HostTransaction>();
    let url = format!("{acquirer_url}/host/transactions");
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        while let Some(txn) = rx.recv().await {
            let sent = client.post(&url).json(&txn).send().await.and_then(|r| r.error_for_status());
            if let Err(error) = sent {
                tracing::warn!(order = %txn.reference, %error, "the acquirer's host did not take a report");
            }
        }
    });
    tx
}

/// The terminal's references of a ledger entry, by its reference no.
#[derive(Clone, Debug)]
struct Slip {
    terminal_id: String,
    batch: String,
    voucher: String,
    pan: String,
}

#[derive(Clone)]
struct Sim {
    config: CardAcquirerSimConfig,
    plan: FaultPlan,
    book: Book,
    slips: Arc<Mutex<HashMap<String, Slip>>>,
}

pub(crate) fn router(config: CardAcquirerSimConfig, plan: FaultPlan, book: Book) -> Router {
    let sim = Sim { config, plan, book, slips: Arc::default() };
    Router::new()
        .route("/host/transactions", post(host))
        .route("/settlement/{merchant}/{date}", get(settlement))
        .with_state(sim)
}

async fn host(State(sim): State<Sim>, Json(txn): Json<HostTransaction>) -> Response {
    if txn.merchant_id != sim.config.merchant_id {
        return (StatusCode::UNPROCESSABLE_ENTITY, "another merchant's terminal").into_response();
    }
    let entry = |kind, out_trade_no: &str, refund_no: Option<String>| LedgerEntry {
        out_trade_no: out_trade_no.to_string(),
        channel_txn: txn.ref_no.clone(),
        kind,
        amount: txn.amount,
        refund_no,
        at: txn.at,
    };
    match txn.trans.as_str() {
        "sale" => sim.book.add_entry(entry(LedgerKind::Charge, &txn.reference, None)),
        "void" => sim.book.add_entry(entry(LedgerKind::Reversal, &txn.reference, None)),
        "refund" => sim.book.add_entry(entry(LedgerKind::Refund, &txn.original, Some(txn.reference.clone()))),
        "reversal" => {
            // Reversed before it settled: the sale leaves the books as if never made.
            sim.book.omit_entry(&txn.reference, LedgerKind::Charge);
            sim.book.add_entry(LedgerEntry {
                amount: Fen::ZERO,
                ..entry(LedgerKind::Closed, &txn.reference, None)
            });
            return StatusCode::NO_CONTENT.into_response();
        }
        other => return (StatusCode::BAD_REQUEST, format!("unknown transaction {other:?}")).into_response(),
    }
    let slip = Slip {
        terminal_id: txn.terminal_id.clone(),
        batch: txn.batch.clone(),
        voucher: txn.voucher.clone(),
        pan: txn.pan.clone(),
    };
    sim.slips.lock().unwrap_or_else(|p| p.into_inner()).insert(txn.ref_no.clone(), slip);
    StatusCode::NO_CONTENT.into_response()
}

async fn settlement(
    State(sim): State<Sim>,
    Path((merchant, date)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let fault = match gate(&sim.plan, "statement", &headers).await {
        Gate::Answer(response) => return response,
        Gate::Proceed(fault) => fault,
    };
    let path = format!("/settlement/{merchant}/{date}");
    if !signed_by(&sim, &headers, &path) {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    let Ok(date) = chrono::NaiveDate::parse_from_str(&date, "%Y%m%d") else {
        return (StatusCode::BAD_REQUEST, "date is yyyymmdd").into_response();
    };
    if merchant != sim.config.merchant_id || date > beijing::now().date_naive() {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    let file = settlement_file(&sim, date);
    finish(&fault, ([("content-type", "text/csv; charset=GBK")], file).into_response())
}

/// Whether the request carries a fresh timestamp and the portal key's signature of it.
fn signed_by(sim: &Sim, headers: &HeaderMap, path: &str) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (timestamp, signature) = (header("x-timestamp"), header("x-signature"));
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|ms| (chrono::Utc::now().timestamp_millis() - ms).abs() <= 300_000);
    use hmac::Mac;
    let mac = {
        let Ok(mut mac) =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(sim.config.key.expose_secret().as_bytes())
        else {
            return false;
        };
        mac.update(b"GET\n");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(timestamp.as_bytes());
        mac
    };
    fresh && hex::decode(signature).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

/// The merchant's file of `date`, GBK, CRLF.
fn settlement_file(sim: &Sim, date: chrono::NaiveDate) -> Vec<u8> {
    let slips = sim.slips.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut text = String::from(
        "商户号,终端号,交易日期,交易时间,交易类型,批次号,凭证号,参考号,卡号,交易金额,手续费,结算金额,订单号,原订单号\r\n",
    );
    let (mut count, mut amounts, mut fees, mut settled) = (0, 0i64, 0i64, 0i64);
    for entry in sim.book.ledger().iter().filter(|e| beijing::date_of(e.at) == date) {
        let fee_on = |fen: Fen| {
            let millifen = sim.book.stated_fee_millifen(&entry.out_trade_no, fen, sim.config.fee_ppm);
            (millifen + 500) / 1_000
        };
        // (交易类型, sign of the money, 订单号, 原订单号, 手续费)
        let (kind, sign, order, original, fee) = match entry.kind {
            LedgerKind::Charge => {
                ("消费", 1, entry.out_trade_no.clone(), String::new(), fee_on(entry.amount))
            }
            LedgerKind::Reversal => {
                ("消费撤销", -1, entry.out_trade_no.clone(), String::new(), -fee_on(entry.amount))
            }
            LedgerKind::Refund => (
                "退货",
                -1,
                entry.refund_no.clone().unwrap_or_default(),
                entry.out_trade_no.clone(),
                -fee_on(entry.amount),
            ),
            LedgerKind::Closed => continue,
        };
        let ref_no = reference_number(&entry.channel_txn);
        let slip = slips.get(&entry.channel_txn).cloned().unwrap_or_else(|| Slip {
            terminal_id: "10000001".into(),
            batch: "000001".into(),
            voucher: ref_no[6..].to_string(),
            pan: "622202******0018".into(),
        });
        let local = beijing::from_ts(entry.at);
        let net = sign * entry.amount.0 - fee;
        text.push_str(&format!(
            "{},{},{},{},{kind},{},{},{ref_no},{},{},{},{},{order},{original}\r\n",
            sim.config.merchant_id,
            slip.terminal_id,
            local.format("%Y%m%d"),
            local.format("%H%M%S"),
            slip.batch,
            slip.voucher,
            slip.pan,
            yuan(entry.amount.0),
            yuan(fee),
            yuan(net),
        ));
        count += 1;
        amounts += entry.amount.0;
        fees += fee;
        settled += net;
    }
    text.push_str(&format!("合计,{count},{},{},{}\r\n", yuan(amounts), yuan(fees), yuan(settled)));
    encoding_rs::GBK.encode(&text).0.into_owned()
}

/// A 12-digit reference no.: the terminal's own, or one made up for an entry a test added.
fn reference_number(channel_txn: &str) -> String {
    if channel_txn.len() == 12 && channel_txn.bytes().all(|b| b.is_ascii_digit()) {
        return channel_txn.to_string();
    }
    let folded = channel_txn.bytes().fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)));
    format!("{:012}", folded % 1_000_000_000_000)
}

/// Fen as yuan with two decimals, "-" before money going back.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

#[cfg(test)]
mod tests {
    use super::{reference_number, yuan};

    #[test]
    fn amounts_and_references_as_the_file_writes_them() {
        assert_eq!(yuan(3150), "31.50");
        assert_eq!(yuan(-12), "-0.12");
        assert_eq!(yuan(0), "0.00");
        assert_eq!(reference_number("310000000012"), "310000000012");
        assert_eq!(reference_number("CH-1").len(), 12);
    }
}
