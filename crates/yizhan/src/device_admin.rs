//! `yizhan sim` runs the card devices' simulators too, so that their state outlives a kiosk
//! killed mid-payment (the power-cut tests), and shows that state over loopback HTTP:
//!
//! - `GET  /admin/bankcard/ledger`: per order, what the terminal charged, voided and refunded;
//! - `POST /admin/iccard/pull-after` `{"bytes": N}`: the customer pulls the card after N bytes of
//!   the next write; `POST /admin/iccard/reinsert`: they put the card back;
//! - `POST /admin/iccard/meter`: the customer takes the card to the gas meter and back; answers
//!   what the meter did (`credited`, `replayed`, `nothing`) and how many purchases it has loaded.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use iccard::sim::{Crt310Sim, MeterModel, MeterOutcome};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
struct Devices {
    iccard: Arc<Crt310Sim>,
    bankcard: Arc<bankcard::sim::TerminalSim>,
    meter: Arc<Mutex<MeterModel>>,
}

pub fn router(iccard: Arc<Crt310Sim>, bankcard: Arc<bankcard::sim::TerminalSim>) -> Router {
    let state = Devices { iccard, bankcard, meter: Arc::default() };
    Router::new()
        .route("/admin/bankcard/ledger", get(ledger))
        .route("/admin/iccard/pull-after", post(pull_after))
        .route("/admin/iccard/reinsert", post(reinsert))
        .route("/admin/iccard/meter", post(meter))
        .with_state(state)
}

async fn ledger(State(devices): State<Devices>) -> Json<Value> {
    let entries: serde_json::Map<String, Value> = devices
        .bankcard
        .ledger()
        .into_iter()
        .map(|(order, e)| {
            let entry = json!({
                "charges": e.charges,
                "approved": e.approved.0,
                "voided": e.voided.0,
                "reversed": e.reversed.0,
                "refunded": e.refunded.0,
                "net": e.net().0,
            });
            (order, entry)
        })
        .collect();
    Json(Value::Object(entries))
}

async fn pull_after(State(devices): State<Devices>, Json(body): Json<Value>) -> Json<Value> {
    match body["bytes"].as_u64() {
        Some(bytes) => devices.iccard.pull_out_after(bytes as usize),
        None => devices.iccard.no_pull_out(),
    }
    Json(json!({ "ok": true }))
}

async fn reinsert(State(devices): State<Devices>) -> Json<Value> {
    let back = match devices.iccard.take() {
        Some(card) => devices.iccard.insert(card).is_ok(),
        None => false,
    };
    Json(json!({ "inserted": back }))
}

async fn meter(State(devices): State<Devices>) -> Json<Value> {
    let Some(mut card) = devices.iccard.take() else {
        return Json(json!({ "outcome": "no card" }));
    };
    let mut meter = devices.meter.lock().unwrap_or_else(|p| p.into_inner());
    let outcome = match meter.insert(&mut card) {
        MeterOutcome::Credited { .. } => "credited",
        MeterOutcome::Replayed { .. } => "replayed",
        _ => "nothing",
    };
    let loads = meter.loads().len();
    drop(meter);
    let back = devices.iccard.insert(card).is_ok();
    Json(json!({ "outcome": outcome, "loads": loads, "back_in_slot": back }))
}
