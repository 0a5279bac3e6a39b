//! Admin routes shared by the channel simulators: the ledger, statement tampering for
//! reconciliation tests, and "the customer enters the PIN now".

use super::book::{Book, LedgerEntry};
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
