//! The central journal as reconciliation reads it: each payment as its kiosk last journaled it
//! (the newest transition's snapshot), with where that transition is.

use kiosk_core::Payment;
use sqlx::PgPool;

/// Where a payment of the central journal was read from.
#[derive(Clone, Debug)]
pub struct Origin {
    pub kiosk_id: String,
    /// The transition whose snapshot it is.
    pub seq: i64,
}

/// The payments of the central journal, and beside each (same index) where it was read from:
/// kept apart so the matcher borrows the payments as they are (a fleet's day is millions).
#[derive(Debug, Default)]
pub struct CentralJournal {
    pub payments: Vec<Payment>,
    pub origins: Vec<Origin>,
}

/// The payments the journal holds that moved on or after `since_ms`, and how many snapshots
/// could not be read as payments (a kiosk of another version, a damaged row): those are
/// reported, never guessed at.
pub async fn payments(pool: &PgPool, since_ms: i64) -> Result<(CentralJournal, usize), sqlx::Error> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (payment_id) kiosk_id, seq, snapshot FROM transitions \
         WHERE payment_id IN (SELECT payment_id FROM transitions WHERE at_ms >= $1) \
         ORDER BY payment_id, seq DESC",
    )
    .bind(since_ms)
    .fetch_all(pool)
    .await?;
    let mut unreadable = 0;
    let mut out = CentralJournal::default();
    for (kiosk_id, seq, snapshot) in rows {
        match serde_json::from_str::<Payment>(&snapshot) {
            Ok(payment) => {
                out.payments.push(payment);
                out.origins.push(Origin { kiosk_id, seq });
            }
            Err(error) => {
                unreadable += 1;
                tracing::error!(kiosk = %kiosk_id, seq, %error, "a journal snapshot is not a payment");
            }
        }
    }
    Ok((out, unreadable))
}
