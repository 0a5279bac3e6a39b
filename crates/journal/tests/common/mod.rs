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

/// A move of `id` to `state` at `at` that parks the payment (out of the restart scan).
pub fn parked_to(id: &str, at: i64, state: &str) -> TransitionRecord {
    TransitionRecord { parked: true, ..to(id, at, state) }
}

/// A move of `id` to `state` at `at` that finishes the payment.
pub fn terminal_to(id: &str, at: i64, state: &str) -> TransitionRecord {
    TransitionRecord { terminal: true, ..to(id, at, state) }
}

/// A fresh journal holding one payment, P1, created at `T0` and moved to PAY_SENT at `T0 + 1`.
pub async fn one_payment_sent() -> (TempDir, Journal) {
    let (dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.expect("create P1");
    j.record_transition(&to("P1", T0 + 1, "PAY_SENT")).await.expect("P1 -> PAY_SENT");
    (dir, j)
}

/// A raw connection to the same file, for tampering as an attacker or a bug would.
pub async fn raw(dir: &TempDir) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let url = format!("sqlite://{}", dir.path().join("journal.sqlite").display());
    sqlx::SqliteConnection::connect(&url).await.expect("raw connection")
}

/// Runs `statements` in order on a raw connection (see [`raw`]), each of which must succeed; to
/// get past the append-only triggers, start with e.g. `DROP TRIGGER transitions_no_delete`. The
/// connection is dropped before this returns.
pub async fn tamper(dir: &TempDir, statements: &[&str]) {
    let mut conn = raw(dir).await;
    for &sql in statements {
        sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Overwrites the stored hash of row `seq` as a forger would, so that it no longer matches the
/// row nor the next row's `prev_hash`.
pub async fn forge_hash(dir: &TempDir, seq: i64) {
    let forge = format!("UPDATE transitions SET hash = 'f00d' WHERE seq = {seq}");
    tamper(dir, &["DROP TRIGGER transitions_no_update", forge.as_str()]).await;
}
