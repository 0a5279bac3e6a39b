//! The central journal as reconciliation reads it: each payment as its kiosk last journaled it
//! (the newest transition's snapshot), with where that transition is.

use kiosk_core::Payment;
use sqlx::PgPool;

/// A payment of the central journal.
#[derive(Clone, Debug)]
pub struct JournalPayment {
    pub kiosk_id: String,
    /// The transition whose snapshot this is.
    pub seq: i64,
    pub payment: Payment,
}

/// The payments the journal holds that moved on or after `since_ms`, and how many snapshots
/// could not be read as payments (a kiosk of another version, a damaged row): those are
/// reported, never guessed at.
pub async fn payments(pool: &PgPool, since_ms: i64) -> Result<(Vec<JournalPayment>, usize), sqlx::Error> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (payment_id) kiosk_id, seq, snapshot FROM transitions \
         WHERE payment_id IN (SELECT payment_id FROM transitions WHERE at_ms >= $1) \
         ORDER BY payment_id, seq DESC",
    )
    .bind(since_ms)
    .fetch_all(pool)
    .await?;
    let mut unreadable = 0;
    let mut out = Vec::with_capacity(rows.len());
    for (kiosk_id, seq, snapshot) in rows {
        match serde_json::from_str::<Payment>(&snapshot) {
            Ok(payment) => out.push(JournalPayment { kiosk_id, seq, payment }),
            Err(error) => {
                unreadable += 1;
                tracing::error!(kiosk = %kiosk_id, seq, %error, "a journal snapshot is not a payment");
            }
        }
    }
    Ok((out, unreadable))
}
