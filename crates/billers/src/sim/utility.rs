//! The simulator of one utility's biller (water, power or gas): the contract endpoints, the admin
//! endpoints tests and demos drive it with, and in-process access to its books.

use super::body::{BillBody, CardBody, PurchaseOrder, WriteOffOrder};
use super::book::{AccountSeed, Book, CardState, Refused};
use super::ledger::Ledger;
use super::signed::{keyed, Gate, Gated, Reply, SignedRequest};
use crate::wire::{codes, paths};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodFilter};
use axum::{Json, Router};
use kiosk_core::Utility;
use serde::Deserialize;
use simkit::{Fault, FaultPlan};
use std::sync::{Arc, Mutex, MutexGuard};

/// A simulated biller. Cheap to clone; clones share the books, the key and the fault plan.
#[derive(Clone)]
pub struct UtilitySim {
    inner: Arc<Inner>,
}

struct Inner {
    utility: Utility,
    book: Mutex<Book>,
    gate: Arc<Gate>,
}

impl UtilitySim {
    pub fn new(utility: Utility, key: &str) -> UtilitySim {
        let inner = Inner {
            utility,
            book: Mutex::new(Book::new(utility)),
            gate: Arc::new(Gate::new(key, FaultPlan::default())),
        };
        UtilitySim { inner: Arc::new(inner) }
    }

    pub fn utility(&self) -> Utility {
        self.inner.utility
    }

    /// The fault plan, for tests that queue faults in-process.
    pub fn faults(&self) -> &FaultPlan {
        self.inner.gate.plan()
    }

    /// A copy of the ledger as it is now.
    pub fn ledger(&self) -> Ledger {
        self.book().ledger().clone()
    }

    /// Seeds a duplicate write-off: the reconciliation file lists `reference` twice.
    pub fn list_write_off_twice(&self, reference: &str) -> bool {
        self.book().list_twice(reference)
    }

    /// Seeds a lost write-off: the books forget `reference` (see `Book::lose_write_off`).
    pub fn lose_write_off(&self, reference: &str) -> bool {
        self.book().lose_write_off(reference)
    }

    pub fn put_account(&self, seed: AccountSeed) -> BillBody {
        self.book().put_account(seed)
    }

    pub fn bill(&self, account: &str) -> Option<BillBody> {
        self.book().bill(account)
    }

    pub fn pay_elsewhere(&self, account: &str, amount_fen: i64) -> Option<BillBody> {
        self.book().pay_elsewhere(account, amount_fen, &super::now().format("%Y-%m-%d").to_string())
    }

    pub fn prepaid_card(&self, card_no: &str) -> Option<CardBody> {
        self.book().prepaid_card(card_no)
    }

    pub fn mark_card_loaded(&self, card_no: &str) -> Option<CardState> {
        self.book().mark_card_loaded(card_no)
    }

    /// The contract endpoints, the admin endpoints and simkit's fault admin, in one router.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route(paths::BILL, keyed(MethodFilter::GET, "bill", fetch_bill))
            .route(paths::WRITE_OFFS, post(write_off))
            .route(paths::WRITE_OFF_STATUS, keyed(MethodFilter::GET, "write_off_status", write_off_status))
            .route(paths::PURCHASES, post(purchase))
            .route(paths::CARD_WRITTEN, keyed(MethodFilter::POST, "card_written", card_written))
            .route(paths::PREPAID_CARD, keyed(MethodFilter::GET, "card", prepaid_card))
            .route(paths::RECONCILIATION, keyed(MethodFilter::GET, "reconciliation", reconciliation))
            .route("/admin/accounts", post(admin_put_account))
            .route("/admin/accounts/{account}/pay-elsewhere", post(admin_pay_elsewhere))
            .route("/admin/cards/{card_no}/loaded", post(admin_card_loaded))
            .route("/admin/ledger", get(admin_ledger))
            .with_state(self.clone());
        api.merge(simkit::admin_router(self.faults().clone()))
    }

    pub(crate) fn book(&self) -> MutexGuard<'_, Book> {
        // The books are only changed under this lock by code that cannot panic half-way.
        self.inner.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `work` on the books behind the gate of `endpoint`.
    async fn gated<F>(self, endpoint: &str, request: SignedRequest, work: F) -> Response
    where
        F: FnOnce(&UtilitySim, Option<Fault>) -> Reply + Send + 'static,
    {
        let gate = self.inner.gate.clone();
        gate.handle(endpoint, request, move |fault| work(&self, fault)).await
    }
}

impl Gated for UtilitySim {
    fn gate(&self) -> &Arc<Gate> {
        &self.inner.gate
    }
}

/// The refusal of the request made under `reference`; the body names it.
fn refused(refused: Refused, reference: &str) -> Reply {
    Reply::error_for(Some(reference), refused.status, &refused.code, &refused.message)
}

/// Of a money call's order (a write-off or a purchase): its reference, account and amount in fen.
type OrderKey<O> = for<'a> fn(&'a O) -> (&'a str, &'a str, i64);

/// A money call behind the gate of `endpoint`, under its fault: a business fault applies only to
/// a reference the book has never seen, so a retry gets the book's real, idempotent answer.
async fn money_call<O, D>(
    sim: UtilitySim,
    endpoint: &str,
    request: SignedRequest,
    key: OrderKey<O>,
    perform: fn(&mut Book, &O) -> Result<D, Refused>,
) -> Response
where
    O: serde::de::DeserializeOwned + Send + 'static,
    D: serde::Serialize + 'static,
{
    let body = request.body.clone();
    sim.gated(endpoint, request, move |sim, fault| {
        let order: O = match json_body(&body) {
            Ok(order) => order,
            Err(reply) => return reply,
        };
        let (reference, account, amount_fen) = key(&order);
        let mut book = sim.book();
        let fresh = book.ledger().count(reference) == 0 && book.ledger().rejection(reference).is_none();
        if fresh {
            if let Some(reply) = business_fault(&mut book, fault, reference, account, amount_fen) {
                return reply;
            }
        }
        match perform(&mut book, &order) {
            Ok(done) => Reply::ok(&done),
            Err(refusal) => refused(refusal, reference),
        }
    })
    .await
}

/// The refusal a business fault asks for, if any; a `write_off_reject` is remembered for good.
fn business_fault(
    book: &mut Book,
    fault: Option<Fault>,
    reference: &str,
    account: &str,
    amount: i64,
) -> Option<Reply> {
    match fault {
        Some(Fault::WriteOffReject { code }) => {
            Some(refused(book.reject(reference, account, amount, &code), reference))
        }
        Some(Fault::ErrorCode { code }) => {
            Some(Reply::error_for(Some(reference), 422, &code, "refused by fault injection"))
        }
        _ => None,
    }
}

/// The parsed body, or a 400 that names the body's `reference` if one can be read from it (else
/// none: the kiosk then cannot take the refusal as definite).
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    serde_json::from_slice(body).map_err(|e| {
        let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let reference = value.as_ref().and_then(|v| v.get("reference")).and_then(|r| r.as_str());
        Reply::error_for(reference, 400, codes::BAD_REQUEST, &format!("bad JSON body: {e}"))
    })
}

fn fetch_bill(sim: &UtilitySim, account: &str) -> Reply {
    Reply::found(sim.bill(account), codes::UNKNOWN_ACCOUNT, "no such account")
}

async fn write_off(State(sim): State<UtilitySim>, request: SignedRequest) -> Response {
    let key: OrderKey<WriteOffOrder> = |o| (&o.reference, &o.account, o.amount_fen);
    money_call(sim, "write_off", request, key, |book, order| book.write_off(order, super::now())).await
}

fn write_off_status(sim: &UtilitySim, reference: &str) -> Reply {
    Reply::ok(&sim.book().status(reference))
}

async fn purchase(State(sim): State<UtilitySim>, request: SignedRequest) -> Response {
    let key: OrderKey<PurchaseOrder> = |o| (&o.reference, &o.account, o.amount_fen);
    money_call(sim, "purchase", request, key, |book, order| book.purchase(order, super::now())).await
}

fn card_written(sim: &UtilitySim, reference: &str) -> Reply {
    match sim.book().card_written(reference) {
        Ok(done) => Reply::ok(&done),
        Err(refusal) => refused(refusal, reference),
    }
}

fn prepaid_card(sim: &UtilitySim, card_no: &str) -> Reply {
    Reply::found(sim.prepaid_card(card_no), codes::UNKNOWN_CARD, "no account holds this card")
}

fn reconciliation(sim: &UtilitySim, date: &str) -> Reply {
    if date.len() != 10 || chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
        return Reply::error(400, codes::BAD_REQUEST, "the date must look like 2026-11-23");
    }
    Reply::text(sim.book().reconciliation(date))
}

async fn admin_put_account(State(sim): State<UtilitySim>, Json(seed): Json<AccountSeed>) -> Json<BillBody> {
    Json(sim.put_account(seed))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayElsewhere {
    amount_fen: i64,
}

async fn admin_pay_elsewhere(
    State(sim): State<UtilitySim>,
    Path(account): Path<String>,
    Json(payment): Json<PayElsewhere>,
) -> Response {
    match sim.pay_elsewhere(&account, payment.amount_fen) {
        Some(bill) => Json(bill).into_response(),
        None => (StatusCode::NOT_FOUND, "no such account").into_response(),
    }
}

async fn admin_card_loaded(State(sim): State<UtilitySim>, Path(card_no): Path<String>) -> Response {
    match sim.mark_card_loaded(&card_no) {
        Some(card) => Json(card).into_response(),
        None => (StatusCode::NOT_FOUND, "no such card").into_response(),
    }
}

async fn admin_ledger(State(sim): State<UtilitySim>) -> Json<Ledger> {
    Json(sim.ledger())
}
