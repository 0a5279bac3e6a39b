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

impl CentralJournal {
    /// Adds the payments `named` that are not here yet (rows of the files naming older orders).
    pub async fn add_named(&mut self, pool: &PgPool, named: Vec<String>) -> Result<usize, sqlx::Error> {
        let held: std::collections::HashSet<&str> = self.payments.iter().map(Payment::id).collect();
        let missing: Vec<String> = named.into_iter().filter(|n| !held.contains(n.as_str())).collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT DISTINCT ON (payment_id) kiosk_id, seq, snapshot FROM transitions \
             WHERE payment_id = ANY($1) ORDER BY payment_id, seq DESC",
        )
        .bind(&missing)
        .fetch_all(pool)
        .await?;
        Ok(self.take(rows))
    }

    /// Keeps the rows' payments; returns how many snapshots are not payments.
    fn take(&mut self, rows: Vec<(String, i64, String)>) -> usize {
        let mut unreadable = 0;
        for (kiosk_id, seq, snapshot) in rows {
            match serde_json::from_str::<Payment>(&snapshot) {
                Ok(payment) => {
                    self.payments.push(payment);
                    self.origins.push(Origin { kiosk_id, seq });
                }
                Err(error) => {
                    unreadable += 1;
                    tracing::error!(kiosk = %kiosk_id, seq, %error, "a journal snapshot is not a payment");
                }
            }
        }
        unreadable
    }
}

/// The payments the journal holds that moved between `since_ms` and `until_ms`, each as it
/// stands now, and how many snapshots could not be read as payments (a kiosk of another
/// version, a damaged row): those are reported, never guessed at.
pub async fn payments(
    pool: &PgPool,
    since_ms: i64,
    until_ms: i64,
) -> Result<(CentralJournal, usize), sqlx::Error> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (payment_id) kiosk_id, seq, snapshot FROM transitions \
         WHERE payment_id IN (SELECT payment_id FROM transitions WHERE at_ms >= $1 AND at_ms < $2) \
         ORDER BY payment_id, seq DESC",
    )
    .bind(since_ms)
    .bind(until_ms)
    .fetch_all(pool)
    .await?;
    let mut out = CentralJournal::default();
    let unreadable = out.take(rows);
    Ok((out, unreadable))
}
