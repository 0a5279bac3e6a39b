//! Cash collections (清机) against the amount counted out of the box: the fourth book of a
//! cash payment. Each kiosk reports its newest collections in every heartbeat — what its
//! journal says it took out of the box — and the hub keeps each once. Finance enters the amount
//! counted from the cassette (once; a recount is a resolution on the desk); the run of the
//! collection's day compares the two ([`kiosk_core::recon::cash_count_flag`]).

use chrono::{DateTime, NaiveDate, Utc};
use fleet::wire::CashCollectionReport;
use kiosk_core::recon::{cash_count_flag, Day, Flag};
use kiosk_core::{Fen, Ts};
use sqlx::{PgConnection, PgPool};

/// The statement source a cash count is filed under on the desk.
pub const SOURCE: &str = "cash-collection";

/// A collection as the hub keeps it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct CashCollection {
    pub kiosk_id: String,
    pub collection_id: i64,
    pub at: DateTime<Utc>,
    pub day: NaiveDate,
    pub staff_id: String,
    pub notes: i32,
    pub journaled_fen: i64,
    pub unknown: i32,
    pub uncertain: i32,
    pub counted_fen: Option<i64>,
    pub counted_by: Option<String>,
}

impl CashCollection {
    /// The collection's name on the desk: `<kiosk> 清机 #<n>`.
    pub fn key(&self) -> String {
        format!("{}/cash/{}", self.kiosk_id, self.collection_id)
    }

    /// The difference between the journal and the count, once counted.
    pub fn flag(&self) -> Option<Flag> {
        let counted = Fen(self.counted_fen?);
        cash_count_flag(&self.key(), Fen(self.journaled_fen), counted, self.unknown_or_uncertain())
    }

    fn unknown_or_uncertain(&self) -> u32 {
        let doubtful = i64::from(self.unknown.max(0)) + i64::from(self.uncertain.max(0));
        u32::try_from(doubtful).unwrap_or(u32::MAX)
    }
}

/// Keeps the collections of a heartbeat not kept yet (a collection never changes on the kiosk).
pub async fn observe(
    tx: &mut PgConnection,
    kiosk_id: &str,
    reports: &[CashCollectionReport],
) -> Result<(), sqlx::Error> {
    for c in reports {
        let Some(at) = DateTime::from_timestamp_millis(c.at_ms) else { continue };
        let day = Day::of(Ts(c.at_ms)).date();
        sqlx::query(
            "INSERT INTO cash_collections \
             (kiosk_id, collection_id, at, day, staff_id, notes, journaled_fen, unknown, uncertain) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (kiosk_id, collection_id) DO NOTHING",
        )
        .bind(kiosk_id)
        .bind(c.id)
        .bind(at)
        .bind(day)
        .bind(&c.staff_id)
        .bind(i32::try_from(c.notes).unwrap_or(i32::MAX))
        .bind(c.sum_fen.max(0))
        .bind(i32::try_from(c.unknown).unwrap_or(i32::MAX))
        .bind(i32::try_from(c.uncertain).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

const COLUMNS: &str =
    "kiosk_id, collection_id, at, day, staff_id, notes, journaled_fen, unknown, uncertain, counted_fen, counted_by";

/// The collections of Beijing day `day`.
pub async fn of_day(pool: &PgPool, day: NaiveDate) -> Result<Vec<CashCollection>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cash_collections WHERE day = $1 ORDER BY kiosk_id, collection_id"
    ))
    .bind(day)
    .fetch_all(pool)
    .await
}

/// The newest collections, those not counted yet first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<CashCollection>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cash_collections ORDER BY counted_fen IS NOT NULL, at DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Records the amount `operator` counted out of the box of one collection, audited. The day of
/// the collection when recorded; none when it is unknown or was counted already.
pub async fn record_count(
    pool: &PgPool,
    kiosk_id: &str,
    collection_id: i64,
    counted: Fen,
    operator: &str,
) -> Result<Option<NaiveDate>, sqlx::Error> {
    if counted.0 < 0 {
        return Ok(None);
    }
    let mut tx = pool.begin().await?;
    let day: Option<NaiveDate> = sqlx::query_scalar(
        "UPDATE cash_collections SET counted_fen = $3, counted_by = $4, counted_at = now() \
         WHERE kiosk_id = $1 AND collection_id = $2 AND counted_fen IS NULL RETURNING day",
    )
    .bind(kiosk_id)
    .bind(collection_id)
    .bind(counted.0)
    .bind(operator)
    .fetch_optional(&mut *tx)
    .await?;
    if day.is_some() {
        let detail =
            serde_json::json!({ "kiosk": kiosk_id, "collection": collection_id, "counted_fen": counted.0 });
        let subject = format!("{kiosk_id}/cash/{collection_id}");
        crate::audit::record(&mut tx, operator, "recon.cash_count", &subject, detail).await?;
    }
    tx.commit().await?;
    Ok(day)
}

/// The evidence kept with a cash difference: both counts.
pub fn evidence(c: &CashCollection) -> serde_json::Value {
    serde_json::json!({
        "files": [],
        "cash": c,
    })
}
