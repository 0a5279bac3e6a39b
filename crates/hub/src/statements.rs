//! Statements and write-off files as received (issue 15): each kept whole with its SHA-256
//! before it is parsed, so that what reconciliation concluded can be shown and checked against
//! the very bytes it read. The same file fetched twice is kept once (and confirmed: received
//! again at that time); a file that changed (a day's file fetched before it was final, then
//! again) is kept in each version, the newest in force.

use chrono::NaiveDate;
use sqlx::PgPool;

/// A stored file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub sha256: String,
    /// Not held before (these bytes were new).
    pub new: bool,
}

/// Keeps `body` as `merchant`'s `source` file of `day`.
pub async fn store(
    pool: &PgPool,
    merchant: &str,
    source: &str,
    day: NaiveDate,
    body: &[u8],
) -> Result<Stored, sqlx::Error> {
    let sha256 = fleet::package::sha256_hex(body);
    // `xmax = 0`: the row was inserted, not updated (the same bytes again only confirm it).
    let (id, new): (i64, bool) = sqlx::query_as(
        "INSERT INTO statements (merchant, source, day, body, sha256) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (merchant, source, day, sha256) DO UPDATE SET confirmed_at = now() \
         RETURNING id, (xmax = 0)",
    )
    .bind(merchant)
    .bind(source)
    .bind(day)
    .bind(body)
    .bind(&sha256)
    .fetch_one(pool)
    .await?;
    Ok(Stored { id, sha256, new })
}

/// A stored version of a file.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredFile {
    pub body: Vec<u8>,
    pub sha256: String,
    /// When these bytes were last received.
    pub confirmed_at: chrono::DateTime<chrono::Utc>,
}

/// The newest version of `merchant`'s `source` file of `day`.
pub async fn latest(
    pool: &PgPool,
    merchant: &str,
    source: &str,
    day: NaiveDate,
) -> Result<Option<StoredFile>, sqlx::Error> {
    sqlx::query_as(
        "SELECT body, sha256, confirmed_at FROM statements \
         WHERE merchant = $1 AND source = $2 AND day = $3 ORDER BY id DESC LIMIT 1",
    )
    .bind(merchant)
    .bind(source)
    .bind(day)
    .fetch_optional(pool)
    .await
}
