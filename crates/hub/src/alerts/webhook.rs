//! Delivers queued alert notices to the operator's webhook (a chat bot, a pager gateway): each
//! notice is a JSON POST, retried with growing pauses until the receiver answers 2xx. Several hub
//! instances share the queue: each claims due rows in a short transaction (`FOR UPDATE SKIP
//! LOCKED`) by moving their next attempt a lease ahead, then calls the receiver with no row
//! locked and no connection held; a hub that dies mid-delivery leaves its claims to expire.

use std::time::Duration;

use sqlx::PgPool;

/// Notices sent per turn.
const BATCH: i64 = 50;
/// How long a claim keeps other instances off a notice: longer than a turn of calls can take.
const LEASE_SECONDS: f64 = 600.0;

/// Sends what is due. Returns how many notices were delivered.
pub async fn deliver_due(pool: &PgPool, http: &reqwest::Client, url: &str) -> Result<u32, sqlx::Error> {
    let due: Vec<(i64, serde_json::Value, i32)> = sqlx::query_as(
        "UPDATE webhook_outbox SET next_attempt_at = now() + make_interval(secs => $2) \
         WHERE id IN (SELECT id FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= now() \
                      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING id, payload, attempts",
    )
    .bind(BATCH)
    .bind(LEASE_SECONDS)
    .fetch_all(pool)
    .await?;
    let mut due = due;
    due.sort_by_key(|(id, _, _)| *id);
    let mut delivered = 0;
    for (id, payload, attempts) in due {
        let outcome = http.post(url).json(&payload).send().await.and_then(|r| r.error_for_status());
        match outcome {
            Ok(_) => {
                delivered += 1;
                sqlx::query(
                    "UPDATE webhook_outbox SET delivered_at = now(), attempts = attempts + 1 WHERE id = $1",
                )
                .bind(id)
                .execute(pool)
                .await?;
            }
            Err(e) => {
                // 10 s, 20 s, 40 s … up to an hour between tries.
                let pause = 10_f64 * 2_f64.powi(attempts.min(9));
                sqlx::query(
                    "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = $2, \
                     next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
                )
                .bind(id)
                .bind(e.to_string())
                .bind(pause.min(3600.0))
                .execute(pool)
                .await?;
            }
        }
    }
    Ok(delivered)
}

/// An HTTP client for the webhook: short timeouts, so one slow receiver does not hold the queue.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client without custom TLS always builds")
}
