//! What the operator sees of the fleet: one row per kiosk, and the one-line summary. Read-only
//! queries; the console and `yizhan-hub fleet` share them.

use sqlx::PgPool;

/// One kiosk's line in the fleet list.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct KioskLine {
    pub id: String,
    pub hall: String,
    pub paired: bool,
    pub revoked: bool,
    pub last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The last heartbeat as sent (status, devices, paper, cash box, suspense).
    pub last_heartbeat: Option<serde_json::Value>,
    pub stored_through: i64,
    pub verified_seq: i64,
    pub chain_state: String,
    pub open_alerts: i64,
}

const KIOSK_LINE: &str =
    "SELECT k.id, k.hall, k.paired_at IS NOT NULL AS paired, k.revoked_at IS NOT NULL AS revoked, \
        k.last_seen_at, k.last_heartbeat, k.stored_through, k.verified_seq, k.chain_state, \
        (SELECT count(*) FROM alerts a WHERE a.kiosk_id = k.id AND a.cleared_at IS NULL) AS open_alerts \
     FROM kiosks k";

/// Every kiosk, or those of one hall, by id.
pub async fn kiosks(pool: &PgPool, hall: Option<&str>) -> Result<Vec<KioskLine>, sqlx::Error> {
    sqlx::query_as(&format!("{KIOSK_LINE} WHERE $1::text IS NULL OR k.hall = $1 ORDER BY k.id"))
        .bind(hall)
        .fetch_all(pool)
        .await
}

/// One hall of the fleet at a glance: where to send someone first.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct HallLine {
    pub hall: String,
    /// Paired and not revoked.
    pub kiosks: i64,
    /// Heard from lately and taking customers.
    pub in_service: i64,
    pub silent: i64,
    /// Payments in suspense, by the kiosks' last heartbeats.
    pub suspense: i64,
    pub open_alerts: i64,
}

/// Every hall, by name; a kiosk not heard from for `silent_after` counts as silent.
pub async fn halls(pool: &PgPool, silent_after: std::time::Duration) -> Result<Vec<HallLine>, sqlx::Error> {
    sqlx::query_as(
        "WITH live AS (SELECT * FROM kiosks WHERE paired_at IS NOT NULL AND revoked_at IS NULL), \
              recent AS (SELECT *, last_seen_at > now() - make_interval(secs => $1) AS heard FROM live) \
         SELECT r.hall, count(*) AS kiosks, \
                count(*) FILTER (WHERE heard AND COALESCE((last_heartbeat->>'in_service')::boolean, false)) AS in_service, \
                count(*) FILTER (WHERE heard IS NOT TRUE) AS silent, \
                COALESCE(sum(jsonb_array_length(COALESCE(last_heartbeat->'suspense', '[]'::jsonb))), 0)::bigint AS suspense, \
                (SELECT count(*) FROM alerts a JOIN live l ON l.id = a.kiosk_id \
                  WHERE l.hall = r.hall AND a.cleared_at IS NULL) AS open_alerts \
         FROM recent r GROUP BY r.hall ORDER BY r.hall",
    )
    .bind(silent_after.as_secs_f64())
    .fetch_all(pool)
    .await
}

/// One kiosk.
pub async fn kiosk(pool: &PgPool, id: &str) -> Result<Option<KioskLine>, sqlx::Error> {
    sqlx::query_as(&format!("{KIOSK_LINE} WHERE k.id = $1")).bind(id).fetch_optional(pool).await
}

/// The fleet in numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Summary {
    pub kiosks: i64,
    pub payments: i64,
    pub transitions: i64,
    pub gaps: i64,
    pub alerts: i64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} kiosks, {} payments shipped, {} gaps, {} alerts",
            self.kiosks, self.payments, self.gaps, self.alerts
        )
    }
}

/// Paired kiosks, payments and transitions in the central journal, chain gaps found, open alerts.
pub async fn summary(pool: &PgPool) -> Result<Summary, sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM kiosks WHERE paired_at IS NOT NULL AND revoked_at IS NULL) AS kiosks, \
                (SELECT count(*) FROM (SELECT DISTINCT kiosk_id, payment_id FROM transitions) p) AS payments, \
                (SELECT count(*) FROM transitions) AS transitions, \
                (SELECT count(*) FROM alerts WHERE kind = 'chain_gap') AS gaps, \
                (SELECT count(*) FROM alerts WHERE cleared_at IS NULL) AS alerts",
    )
    .fetch_one(pool)
    .await
}
