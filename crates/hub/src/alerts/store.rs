//! Alerts in the database: opened once (a partial unique index keeps one open alert per kiosk,
//! kind and subject), seen again without a second notification, cleared by hysteresis, and each
//! opening and clearing queued for the webhook in the same transaction.

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, PgPool};

use super::rules::{self, kind, Observation, Step, Streak};

/// One alert as the console and the API show it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Alert {
    pub id: i64,
    pub kiosk_id: String,
    /// The kiosk's hall (whose supervisor may acknowledge it).
    pub hall: String,
    pub kind: String,
    pub subject: String,
    pub detail: String,
    pub opened_at: chrono::DateTime<chrono::Utc>,
    pub last_seen_at: chrono::DateTime<chrono::Utc>,
    pub occurrences: i32,
    pub cleared_at: Option<chrono::DateTime<chrono::Utc>>,
    pub acked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub acked_by: Option<String>,
}

/// Opens the alert, or, when it is already open, records that it was seen again. Returns the new
/// alert's id when one was opened (and queued for the webhook).
pub async fn raise(
    conn: &mut PgConnection,
    kiosk_id: &str,
    kind: &str,
    subject: &str,
    detail: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let row: (i64, bool) = sqlx::query_as(
        "INSERT INTO alerts (kiosk_id, kind, subject, detail) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kiosk_id, kind, subject) WHERE cleared_at IS NULL \
         DO UPDATE SET last_seen_at = now(), occurrences = alerts.occurrences + 1, detail = EXCLUDED.detail \
         RETURNING id, (xmax = 0) AS inserted",
    )
    .bind(kiosk_id)
    .bind(kind)
    .bind(subject)
    .bind(detail)
    .fetch_one(&mut *conn)
    .await?;
    let (id, inserted) = row;
    if inserted {
        tracing::info!(kiosk = kiosk_id, kind, subject, "alert opened");
        notify(conn, id, "opened").await?;
        Ok(Some(id))
    } else {
        Ok(None)
    }
}

/// Clears the open alert, if there is one.
pub async fn clear(
    conn: &mut PgConnection,
    kiosk_id: &str,
    kind: &str,
    subject: &str,
) -> Result<bool, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar(
        "UPDATE alerts SET cleared_at = now() \
         WHERE kiosk_id = $1 AND kind = $2 AND subject = $3 AND cleared_at IS NULL RETURNING id",
    )
    .bind(kiosk_id)
    .bind(kind)
    .bind(subject)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = id {
        tracing::info!(kiosk = kiosk_id, kind, subject, "alert cleared");
        notify(conn, id, "cleared").await?;
    }
    Ok(id.is_some())
}

/// Queues the webhook's notice of `event` for alert `id`.
async fn notify(conn: &mut PgConnection, id: i64, event: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_outbox (payload) \
         SELECT jsonb_build_object('event', $2::text, 'alert_id', id, 'kiosk_id', kiosk_id, 'kind', kind, \
                'subject', subject, 'detail', detail, 'opened_at', opened_at, 'cleared_at', cleared_at) \
         FROM alerts WHERE id = $1",
    )
    .bind(id)
    .bind(event)
    .execute(conn)
    .await?;
    Ok(())
}

/// Applies one heartbeat's observations to the kiosk's streaks and alerts (the kinds a heartbeat
/// observes, and `silent`, which any heartbeat counts against).
pub async fn apply_heartbeat(
    conn: &mut PgConnection,
    kiosk_id: &str,
    observed: &[Observation],
) -> Result<(), sqlx::Error> {
    type Key = (String, String);
    let streaks: Vec<(String, String, i32, i32)> = sqlx::query_as(
        "SELECT kind, subject, bad_streak, good_streak FROM alert_streaks WHERE kiosk_id = $1",
    )
    .bind(kiosk_id)
    .fetch_all(&mut *conn)
    .await?;
    let open: HashSet<Key> = sqlx::query_as::<_, (String, String)>(
        "SELECT kind, subject FROM alerts WHERE kiosk_id = $1 AND cleared_at IS NULL \
         AND kind = ANY($2)",
    )
    .bind(kiosk_id)
    .bind(observed_kinds())
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let mut before: HashMap<Key, Streak> = streaks
        .into_iter()
        .map(|(k, s, bad, good)| ((k, s), Streak { bad: bad as u32, good: good as u32 }))
        .collect();
    // Every condition that is seen now, was being counted, or has an alert open.
    let mut keys: Vec<Key> = observed.iter().map(|o| (o.kind.to_owned(), o.subject.clone())).collect();
    keys.extend(before.keys().cloned());
    keys.extend(open.iter().cloned());
    keys.sort();
    keys.dedup();

    for key in keys {
        let seen = observed.iter().find(|o| o.kind == key.0 && o.subject == key.1);
        let is_open = open.contains(&key);
        let (streak, step) =
            rules::step(&key.0, before.remove(&key).unwrap_or_default(), seen.is_some(), is_open);
        match step {
            Step::Open => {
                let detail = seen.map(|o| o.detail.as_str()).unwrap_or_default();
                raise(conn, kiosk_id, &key.0, &key.1, detail).await?;
            }
            Step::Clear => {
                clear(conn, kiosk_id, &key.0, &key.1).await?;
            }
            Step::Nothing if seen.is_some() && is_open => {
                sqlx::query(
                    "UPDATE alerts SET last_seen_at = now() \
                     WHERE kiosk_id = $1 AND kind = $2 AND subject = $3 AND cleared_at IS NULL",
                )
                .bind(kiosk_id)
                .bind(&key.0)
                .bind(&key.1)
                .execute(&mut *conn)
                .await?;
            }
            Step::Nothing => {}
        }
        let now_open = match step {
            Step::Open => true,
            Step::Clear => false,
            Step::Nothing => is_open,
        };
        // A condition that is gone and has no alert open needs no counting any more.
        if !now_open && streak.bad == 0 {
            sqlx::query("DELETE FROM alert_streaks WHERE kiosk_id = $1 AND kind = $2 AND subject = $3")
                .bind(kiosk_id)
                .bind(&key.0)
                .bind(&key.1)
                .execute(&mut *conn)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO alert_streaks (kiosk_id, kind, subject, bad_streak, good_streak) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kiosk_id, kind, subject) \
                 DO UPDATE SET bad_streak = EXCLUDED.bad_streak, good_streak = EXCLUDED.good_streak",
            )
            .bind(kiosk_id)
            .bind(&key.0)
            .bind(&key.1)
            .bind(streak.bad as i32)
            .bind(streak.good as i32)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

fn observed_kinds() -> Vec<String> {
    kind::OBSERVED.iter().chain([&kind::SILENT]).map(|k| k.to_string()).collect()
}

/// Opens a `silent` alert for every paired kiosk not heard from for `silent_after`. Only one hub
/// instance sweeps at a time (a transaction-scoped advisory lock); the others skip the turn.
/// Returns how many alerts were opened.
pub async fn sweep_silent(pool: &PgPool, silent_after: std::time::Duration) -> Result<u32, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(7461)").fetch_one(&mut *tx).await?;
    if !ours {
        return Ok(0);
    }
    let quiet: Vec<(String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT k.id, k.last_seen_at FROM kiosks k \
         WHERE k.paired_at IS NOT NULL AND k.revoked_at IS NULL \
           AND k.last_seen_at < now() - make_interval(secs => $1) \
           AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.kiosk_id = k.id AND a.kind = 'silent' AND a.cleared_at IS NULL)",
    )
    .bind(silent_after.as_secs_f64())
    .fetch_all(&mut *tx)
    .await?;
    let mut opened = 0;
    for (kiosk_id, last_seen) in quiet {
        let detail = format!("no heartbeat since {} UTC", last_seen.format("%Y-%m-%d %H:%M:%S"));
        if raise(&mut tx, &kiosk_id, kind::SILENT, "", &detail).await?.is_some() {
            opened += 1;
        }
        // The next heartbeats count towards clearing it.
        sqlx::query(
            "INSERT INTO alert_streaks (kiosk_id, kind, subject, bad_streak, good_streak) VALUES ($1, 'silent', '', 1, 0) \
             ON CONFLICT (kiosk_id, kind, subject) DO UPDATE SET bad_streak = 1, good_streak = 0",
        )
        .bind(&kiosk_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(opened)
}

/// The alerts that make a kiosk's chain show broken until an operator has acknowledged them.
pub const CHAIN_KINDS: [&str; 2] = [kind::CHAIN_GAP, kind::CHAIN_BREAK];

/// Whether kiosk `kiosk_id` has a chain alert nobody has acknowledged yet.
pub async fn chain_alert_open(conn: &mut PgConnection, kiosk_id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM alerts WHERE kiosk_id = $1 AND kind = ANY($2) AND cleared_at IS NULL)",
    )
    .bind(kiosk_id)
    .bind(&CHAIN_KINDS[..])
    .fetch_one(conn)
    .await
}

/// The hall of the kiosk alert `id` is about, if there is such an alert.
pub async fn hall_of(pool: &PgPool, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT k.hall FROM alerts a JOIN kiosks k ON k.id = a.kiosk_id WHERE a.id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Marks alert `id` as seen by `operator`. An alert that no observation clears (the chain's,
/// a rollback, a replaced journal) is cleared by it: an operator has looked, and the next such
/// event opens, and notifies, a new one. When the last of a kiosk's chain alerts is
/// acknowledged its chain shows intact again (the hub went on verifying past each problem; the
/// alerts keep the history). Returns false when there is no such alert.
pub async fn acknowledge(pool: &PgPool, id: i64, operator: &str) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // The kiosk's row first, in the order the ingest takes its locks (kiosk, then alerts): no
    // deadlock, and what follows sees any chain alert a batch has just raised.
    sqlx::query("SELECT 1 FROM kiosks WHERE id = (SELECT kiosk_id FROM alerts WHERE id = $1) FOR UPDATE")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let row: Option<(String, String, bool)> = sqlx::query_as(
        "UPDATE alerts SET acked_at = now(), acked_by = $2, \
             cleared_at = CASE WHEN cleared_at IS NULL AND NOT (kind = ANY($3)) THEN now() ELSE cleared_at END \
         WHERE id = $1 AND acked_at IS NULL RETURNING kiosk_id, kind, cleared_at IS NOT NULL",
    )
    .bind(id)
    .bind(operator)
    .bind(observed_kinds())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((kiosk_id, alert_kind, cleared)) = row else { return Ok(false) };
    if cleared && !observed_kinds().contains(&alert_kind) {
        notify(&mut tx, id, "cleared").await?;
    }
    let chain_intact_again = CHAIN_KINDS.contains(&alert_kind.as_str())
        && !chain_alert_open(&mut tx, &kiosk_id).await?
        && sqlx::query("UPDATE kiosks SET chain_state = 'intact' WHERE id = $1 AND chain_state = 'broken'")
            .bind(&kiosk_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
    let detail = serde_json::json!({ "kiosk": kiosk_id, "kind": alert_kind, "chain_intact_again": chain_intact_again });
    crate::audit::record(&mut tx, operator, "alert.acknowledge", &id.to_string(), detail).await?;
    tx.commit().await?;
    Ok(true)
}

/// The open alerts (`open`) or the cleared ones, newest first, of one kiosk or all, at most
/// `limit`.
pub async fn list(
    pool: &PgPool,
    kiosk: Option<&str>,
    open: bool,
    limit: i64,
) -> Result<Vec<Alert>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.kiosk_id, k.hall, a.kind, a.subject, a.detail, a.opened_at, a.last_seen_at, a.occurrences, \
                a.cleared_at, a.acked_at, a.acked_by \
         FROM alerts a JOIN kiosks k ON k.id = a.kiosk_id \
         WHERE ($1::text IS NULL OR a.kiosk_id = $1) AND (a.cleared_at IS NULL) = $2 \
         ORDER BY a.opened_at DESC, a.id DESC LIMIT $3",
    )
    .bind(kiosk)
    .bind(open)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many alerts are open.
pub async fn open_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM alerts WHERE cleared_at IS NULL").fetch_one(pool).await
}
