//! The exception desk's store: each difference reconciliation reported, once, with its evidence,
//! until finance resolves it. A resolution records who, when and why (also in the audit log); it
//! never rewrites a journal: money that must move goes through a kiosk command and the kiosk's
//! own journal-first machinery.

use chrono::{DateTime, NaiveDate, Utc};
use kiosk_core::recon::Flag;
use sqlx::PgPool;

use crate::audit;

/// An exception as the console shows it.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct Exception {
    pub id: i64,
    pub kind: String,
    pub day: NaiveDate,
    pub order_ref: Option<String>,
    pub kiosk_id: Option<String>,
    pub detail: String,
    pub evidence: serde_json::Value,
    pub status: String,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Puts a reported difference on the desk; one already there (open or resolved) stays as it is.
pub async fn file(
    pool: &PgPool,
    run_id: i64,
    first_seen: NaiveDate,
    flag: &Flag,
    owner: Option<(&str, &str)>,
    source: Option<&str>,
    evidence: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let detail = flag.describe();
    let kind = detail.split_whitespace().next().unwrap_or("EXCEPTION").to_string();
    sqlx::query(
        "INSERT INTO recon_exceptions (key, kind, day, order_ref, kiosk_id, detail, evidence, run_id, source) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING",
    )
    .bind(&detail)
    .bind(&kind)
    .bind(first_seen)
    .bind(owner.map(|(_, order)| order).or(Some(flag.subject())))
    .bind(owner.map(|(kiosk, _)| kiosk))
    .bind(&detail)
    .bind(&evidence)
    .bind(run_id)
    .bind(source)
    .execute(pool)
    .await
    .map(drop)
}

const COLUMNS: &str =
    "id, kind, day, order_ref, kiosk_id, detail, evidence, status, resolution, resolved_by, resolved_at";

/// The open exceptions, oldest day first.
pub async fn open(pool: &PgPool, limit: i64) -> Result<Vec<Exception>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM recon_exceptions WHERE status = 'open' ORDER BY day, id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Option<Exception>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM recon_exceptions WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Marks an open exception resolved, with the reason, audited. False if it is not open.
pub async fn resolve(pool: &PgPool, id: i64, operator: &str, reason: &str) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE recon_exceptions SET status = 'resolved', resolution = $3, resolved_by = $2, \
         resolved_at = now() WHERE id = $1 AND status = 'open'",
    )
    .bind(id)
    .bind(operator)
    .bind(reason)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if done {
        let detail = serde_json::json!({ "id": id, "reason": reason });
        audit::record(&mut tx, operator, "recon.resolve", &format!("exception {id}"), detail).await?;
    }
    tx.commit().await?;
    Ok(done)
}

/// One source's part of a day: payments matched (by the newest run of the day), differences
/// open and resolved, and the merchant accounts whose files were read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFigures {
    pub source: String,
    pub merchants: Vec<String>,
    pub matched: i64,
    pub open: i64,
    pub resolved: i64,
}

/// The day's result per statement source and biller.
pub async fn by_source(pool: &PgPool, day: NaiveDate) -> Result<Vec<SourceFigures>, sqlx::Error> {
    let newest: Option<(serde_json::Value, serde_json::Value)> =
        sqlx::query_as("SELECT by_source, files FROM recon_runs WHERE day = $1 ORDER BY id DESC LIMIT 1")
            .bind(day)
            .fetch_optional(pool)
            .await?;
    let (matched, files) = newest.unwrap_or_default();
    let desk: Vec<(Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT source, count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'resolved') \
         FROM recon_exceptions WHERE day = $1 GROUP BY source",
    )
    .bind(day)
    .fetch_all(pool)
    .await?;
    let mut out: std::collections::BTreeMap<String, SourceFigures> = Default::default();
    fn entry<'a>(
        out: &'a mut std::collections::BTreeMap<String, SourceFigures>,
        source: &str,
    ) -> &'a mut SourceFigures {
        out.entry(source.to_string()).or_insert_with(|| SourceFigures {
            source: source.to_string(),
            merchants: Vec::new(),
            matched: 0,
            open: 0,
            resolved: 0,
        })
    }
    for read in files["read"].as_array().into_iter().flatten() {
        let (Some(source), Some(merchant)) = (read["source"].as_str(), read["merchant"].as_str()) else {
            continue;
        };
        let figures = entry(&mut out, source);
        if !figures.merchants.iter().any(|m| m == merchant) {
            figures.merchants.push(merchant.to_string());
        }
    }
    for (source, count) in matched.as_object().into_iter().flatten() {
        entry(&mut out, source).matched = count.as_i64().unwrap_or(0);
    }
    for (source, open, resolved) in desk {
        let figures = entry(&mut out, source.as_deref().unwrap_or("?"));
        figures.open = open;
        figures.resolved = resolved;
    }
    Ok(out.into_values().collect())
}

/// A run's figures, as the desk lists them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RunFigures {
    pub id: i64,
    pub day: NaiveDate,
    pub ran_at: DateTime<Utc>,
    pub matched: i32,
    pub exceptions: i32,
    pub held: i32,
    pub settled: i32,
    /// Every account's file of the day and the next was read final.
    pub complete: bool,
}

/// The runs, newest first.
pub async fn runs(pool: &PgPool, limit: i64) -> Result<Vec<RunFigures>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, day, ran_at, matched, exceptions, held, settled, complete FROM recon_runs \
         ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}
