//! Shared fixtures for the journal's integration tests: realistic records on real SQLite files.
#![allow(dead_code)] // each test binary uses a different subset

use journal::{Journal, NewKey, NewPayment, TransitionRecord};
use tempfile::TempDir;

/// 2024-05-01T08:00:00Z in ms, a fixed "now" for deterministic rows.
pub const T0: i64 = 1_714_550_400_000;

/// A fresh journal in its own temp dir (kept alive by the returned `TempDir`).
pub async fn fresh() -> (TempDir, Journal) {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(&dir.path().join("journal.sqlite")).await.expect("open journal");
    (dir, journal)
}

/// A JSON snapshot shaped like the runtime's serialised payment.
pub fn snapshot(id: &str, state: &str) -> String {
    serde_json::json!({ "order_ref": id, "state": state, "amount_fen": 12_345 }).to_string()
}

/// A payment in state ORDERED with its `out_trade_no` key.
pub fn ordered(id: &str, created_at: i64) -> NewPayment {
    NewPayment {
        id: id.to_owned(),
        kiosk_id: "SH-0001".to_owned(),
        created_at,
        total_fen: 12_345,
        channel: None,
        state: "ORDERED".to_owned(),
        terminal: false,
        parked: false,
        next_deadline: None,
        snapshot: snapshot(id, "ORDERED"),
        event: "confirm".to_owned(),
        effects: "none".to_owned(),
        keys: vec![NewKey::new(format!("{id}-pay"), "pay")],
    }
}

/// A move of `id` to `state` at `at`, not terminal, not parked.
pub fn to(id: &str, at: i64, state: &str) -> TransitionRecord {
    TransitionRecord {
        expected_from: None,
        expected_seq: None,
        payment_id: id.to_owned(),
        at,
        to_state: state.to_owned(),
        terminal: false,
        parked: false,
        next_deadline: None,
        channel: None,
        snapshot: snapshot(id, state),
        event: format!("-> {state}"),
        effects: String::new(),
        keys: Vec::new(),
    }
}

/// A raw connection to the same file, for tampering as an attacker or a bug would.
pub async fn raw(dir: &TempDir) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let url = format!("sqlite://{}", dir.path().join("journal.sqlite").display());
    sqlx::SqliteConnection::connect(&url).await.expect("raw connection")
}
