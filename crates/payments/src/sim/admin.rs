//! Admin routes shared by the channel simulators: the ledger, statement tampering for
//! reconciliation tests, "the customer enters the PIN now" and "the next refund fails".

use super::book::{Book, LedgerEntry, RefundEnding};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use kiosk_core::Fen;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) fn router(book: Book) -> Router {
    Router::new()
        .route("/admin/ledger", get(ledger).post(add))
        .route("/admin/ledger/amend", post(amend))
        .route("/admin/pin", post(pin))
        .route("/admin/refund-ending", post(refund_ending))
        .with_state(book)
}

async fn ledger(State(book): State<Book>) -> Json<Vec<LedgerEntry>> {
    Json(book.ledger())
}

async fn add(State(book): State<Book>, Json(entry): Json<LedgerEntry>) -> Json<Vec<LedgerEntry>> {
    book.add_entry(entry);
    Json(book.ledger())
}

#[derive(Deserialize)]
struct Amend {
    out_trade_no: String,
    amount: Fen,
}

async fn amend(State(book): State<Book>, Json(body): Json<Amend>) -> Json<Value> {
    Json(json!({ "amended": book.amend_charge(&body.out_trade_no, body.amount) }))
}

#[derive(Deserialize)]
struct Pin {
    out_trade_no: String,
}

async fn pin(State(book): State<Book>, Json(body): Json<Pin>) -> Json<Value> {
    Json(json!({ "paid": book.enter_pin(&body.out_trade_no) }))
}

#[derive(Deserialize)]
struct Ending {
    ending: RefundEnding,
}

async fn refund_ending(State(book): State<Book>, Json(body): Json<Ending>) -> Json<Value> {
    book.end_next_refund(body.ending);
    Json(json!({ "queued": body.ending }))
}
