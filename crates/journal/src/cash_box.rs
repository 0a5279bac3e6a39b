//! The cash box's memory, kept in the journal (migration `20261230000000_cash_box.sql`):
//!
//! - `cash_intakes`: one cash customer's notes (`kiosk_core::cash::Intake` as JSON) with the
//!   order they pay, written after every step that changes them and *before* the acceptor is told
//!   anything, so a note is on record in escrow before STACK and credited before its VEND VALID
//!   is acknowledged. Open until the payment of the credited cash exists.
//! - `cash_notes`: the custody record of every note (value, fate, when, which payment), written
//!   in the same transaction as its intake.
//! - `cash_collections`: each collection (清机): what the journal says the box held.
//!
//! Each write is one `BEGIN IMMEDIATE` transaction under the writer mutex, durable when it
//! returns, and counted for the power-cut tests ([`crate::crash`]). The journal knows nothing of
//! the acceptor or the money rules: `crates/yizhan` maps these rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use sqlx::{FromRow, SqlitePool};
use tokio::sync::Mutex;

use crate::crash;
use crate::error::JournalError;
use crate::journal::{Journal, Writer};

/// Where one note stands, as stored in `cash_notes.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteCustody {
    /// In escrow, on record; STACK is (being) sent.
    Escrowed,
    /// In the box, the customer's money.
    Credited,
    /// Given back to the customer.
    Returned,
    /// Stuck in a jam: for staff.
    Stuck,
    /// The head lost track of it: returned or boxed; for staff.
    InDoubt,
    /// Found in the box with nothing on record: for staff and the collection count.
    Anomaly,
}

impl NoteCustody {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteCustody::Escrowed => "escrowed",
            NoteCustody::Credited => "credited",
            NoteCustody::Returned => "returned",
            NoteCustody::Stuck => "stuck",
            NoteCustody::InDoubt => "in_doubt",
            NoteCustody::Anomaly => "anomaly",
        }
    }

    fn parse(text: &str) -> Result<Self, JournalError> {
        Ok(match text {
            "escrowed" => NoteCustody::Escrowed,
            "credited" => NoteCustody::Credited,
            "returned" => NoteCustody::Returned,
            "stuck" => NoteCustody::Stuck,
            "in_doubt" => NoteCustody::InDoubt,
            "anomaly" => NoteCustody::Anomaly,
            _ => return Err(JournalError::InvalidRecord { reason: "unknown cash note state" }),
        })
    }

    /// Counted as in the box at a collection.
    fn in_the_box(self) -> bool {
        matches!(self, NoteCustody::Credited | NoteCustody::Anomaly)
    }

    /// Held for staff: may or may not be in the box.
    fn uncertain(self) -> bool {
        matches!(self, NoteCustody::Stuck | NoteCustody::InDoubt)
    }
}

/// One note of an intake as the runtime records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoteRecord {
    /// Its place in the intake; negative for an anomaly.
    pub seq: i64,
    /// In fen; `None` when unknown.
    pub value_fen: Option<i64>,
    pub state: NoteCustody,
}

/// One cash customer's intake as the runtime records it after a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntakeRecord<'a> {
    pub order_ref: &'a str,
    /// The confirmed order (JSON), for recovery.
    pub order_json: &'a str,
    /// The intake itself (JSON).
    pub intake_json: &'a str,
    /// Still taking notes, or its payment not yet created.
    pub open: bool,
    pub notes: &'a [NoteRecord],
    pub at: i64,
}

/// An intake read back.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct StoredIntake {
    pub order_ref: String,
    pub order_json: String,
    pub intake_json: String,
    pub created_at: i64,
}

/// A note's custody record read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredNote {
    pub order_ref: String,
    pub seq: i64,
    pub value_fen: Option<i64>,
    pub state: NoteCustody,
    pub seen_at: i64,
    pub collection: Option<i64>,
}

/// What the journal says the box holds now (since the last collection), or held at one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BoxCount {
    /// Notes that should be in the box: credited ones and anomalies.
    pub notes: u32,
    /// Their sum, in fen (anomalies are of unknown value and add nothing).
    pub sum_fen: i64,
    /// Credited notes by value in fen.
    pub by_value: BTreeMap<i64, u32>,
    /// Anomalies: in the box, value unknown.
    pub unknown: u32,
    /// Notes held for staff (stuck, in doubt): maybe in the box, maybe not.
    pub uncertain: u32,
}

/// A recorded collection (清机).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Collection {
    pub id: i64,
    pub at: i64,
    pub staff_id: String,
    pub count: BoxCount,
}

#[derive(FromRow)]
struct NoteRow {
    order_ref: String,
    seq: i64,
    value_fen: Option<i64>,
    state: String,
    seen_at: i64,
    collection: Option<i64>,
}

impl TryFrom<NoteRow> for StoredNote {
    type Error = JournalError;
    fn try_from(r: NoteRow) -> Result<Self, JournalError> {
        Ok(StoredNote {
            state: NoteCustody::parse(&r.state)?,
            order_ref: r.order_ref,
            seq: r.seq,
            value_fen: r.value_fen,
            seen_at: r.seen_at,
            collection: r.collection,
        })
    }
}

/// The custody states a collection counts: in the box, or held for staff (may be in it).
const BOXED_OR_HELD: &str = "('credited', 'anomaly', 'stuck', 'in_doubt')";
const SELECT_NOTE: &str = "SELECT order_ref, seq, value_fen, state, seen_at, collection FROM cash_notes";

/// The cash box's tables of a [`Journal`]: a cheap handle sharing the journal's connection and
/// writer mutex.
#[derive(Clone, Debug)]
pub struct CashBoxJournal {
    pool: SqlitePool,
    writer: Arc<Mutex<Option<Writer>>>,
    crash_after: Option<u64>,
}

/// What the box holds since the last collection, read through `pool` (the journal's own
/// connection, or the shipper's read-only one).
pub(crate) async fn in_the_box(pool: &SqlitePool) -> Result<BoxCount, JournalError> {
    let sql = format!("{SELECT_NOTE} WHERE collection IS NULL AND state IN {BOXED_OR_HELD} ORDER BY id");
    let rows: Vec<NoteRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    let notes = rows.into_iter().map(StoredNote::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(count(&notes))
}

impl Journal {
    /// The cash box's memory in this journal.
    pub fn cash_box(&self) -> CashBoxJournal {
        CashBoxJournal { pool: self.pool.clone(), writer: self.writer.clone(), crash_after: self.crash_after }
    }
}

impl CashBoxJournal {
    /// Records an intake and its notes as they stand now, in one durable transaction.
    pub async fn record_intake(&self, record: &IntakeRecord<'_>) -> Result<(), JournalError> {
        for note in record.notes {
            if note.value_fen.is_some_and(|v| v <= 0) {
                return Err(JournalError::InvalidRecord { reason: "a note's value is positive" });
            }
        }
        let _writes = self.writer.lock().await;
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO cash_intakes (order_ref, order_json, intake_json, open, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (order_ref) DO UPDATE
                SET intake_json = excluded.intake_json, open = excluded.open, updated_at = excluded.updated_at",
        )
        .bind(record.order_ref)
        .bind(record.order_json)
        .bind(record.intake_json)
        .bind(record.open)
        .bind(record.at)
        .execute(&mut *tx)
        .await?;
        for note in record.notes {
            // Only a change is written: a credited note's row never changes again (trigger).
            sqlx::query(
                "INSERT INTO cash_notes (order_ref, seq, value_fen, state, seen_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT (order_ref, seq) DO UPDATE
                    SET state = excluded.state, updated_at = excluded.updated_at
                  WHERE state IS NOT excluded.state",
            )
            .bind(record.order_ref)
            .bind(note.seq)
            .bind(note.value_fen)
            .bind(note.state.as_str())
            .bind(record.at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        crash::after_commit(self.crash_after);
        Ok(())
    }

    /// Intakes still open (a customer was paying when the kiosk stopped, or the payment of the
    /// credited cash was not created yet), oldest first.
    pub async fn open_intakes(&self) -> Result<Vec<StoredIntake>, JournalError> {
        Ok(sqlx::query_as(
            "SELECT order_ref, order_json, intake_json, created_at FROM cash_intakes
              WHERE open = 1 ORDER BY created_at, order_ref",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The custody records of one order's notes, in order.
    pub async fn notes_of(&self, order_ref: &str) -> Result<Vec<StoredNote>, JournalError> {
        let sql = format!("{SELECT_NOTE} WHERE order_ref = ?1 ORDER BY seq");
        let rows: Vec<NoteRow> = sqlx::query_as(&sql).bind(order_ref).fetch_all(&self.pool).await?;
        rows.into_iter().map(StoredNote::try_from).collect()
    }

    /// What the journal says the box holds since the last collection.
    pub async fn in_the_box(&self) -> Result<BoxCount, JournalError> {
        in_the_box(&self.pool).await
    }

    /// Records a collection by `staff_id` at `at`: every uncollected note in the box (or held
    /// for staff) is counted out of it. Durable when it returns.
    pub async fn collect(&self, staff_id: &str, at: i64) -> Result<Collection, JournalError> {
        if staff_id.is_empty() || staff_id.len() > 64 {
            return Err(JournalError::InvalidRecord { reason: "a collection names its staff member" });
        }
        let _writes = self.writer.lock().await;
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        // A customer's notes still moving are counted with their intake's end, never half now.
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cash_intakes WHERE open = 1")
            .fetch_one(&mut *tx)
            .await?;
        if open > 0 {
            return Err(JournalError::InvalidRecord {
                reason: "a cash payment is still open: settle it before a collection",
            });
        }
        let sql = format!("{SELECT_NOTE} WHERE collection IS NULL AND state IN {BOXED_OR_HELD}");
        let rows: Vec<NoteRow> = sqlx::query_as(&sql).fetch_all(&mut *tx).await?;
        let notes = rows.into_iter().map(StoredNote::try_from).collect::<Result<Vec<_>, _>>()?;
        let count = count(&notes);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cash_collections (at, staff_id, notes, sum_fen, unknown, uncertain)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )
        .bind(at)
        .bind(staff_id)
        .bind(count.notes)
        .bind(count.sum_fen)
        .bind(count.unknown)
        .bind(count.uncertain)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE cash_notes SET collection = ?1, updated_at = ?2
              WHERE collection IS NULL AND state IN ('credited', 'anomaly', 'stuck', 'in_doubt')",
        ) // = BOXED_OR_HELD
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        crash::after_commit(self.crash_after);
        Ok(Collection { id, at, staff_id: staff_id.to_string(), count })
    }

    /// The last collection, if any.
    pub async fn last_collection(&self) -> Result<Option<Collection>, JournalError> {
        Ok(recent_collections(&self.pool, 1).await?.pop())
    }
}

/// The `limit` newest collections, newest first: the counts as recorded when each was made (a
/// note held for staff may be settled later; the collection's count stays), with the credited
/// notes by value.
pub(crate) async fn recent_collections(
    pool: &SqlitePool,
    limit: i64,
) -> Result<Vec<Collection>, JournalError> {
    type Row = (i64, i64, String, i64, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, at, staff_id, notes, sum_fen, unknown, uncertain FROM cash_collections ORDER BY id DESC LIMIT ?1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let stored = |n: i64| {
        u32::try_from(n)
            .map_err(|_| JournalError::InvalidRecord { reason: "a collection's count is out of range" })
    };
    let mut out = Vec::with_capacity(rows.len());
    for (id, at, staff_id, notes, sum_fen, unknown, uncertain) in rows {
        let sql = format!("{SELECT_NOTE} WHERE collection = ?1 ORDER BY id");
        let rows: Vec<NoteRow> = sqlx::query_as(&sql).bind(id).fetch_all(pool).await?;
        let taken = rows.into_iter().map(StoredNote::try_from).collect::<Result<Vec<_>, _>>()?;
        let count = BoxCount {
            notes: stored(notes)?,
            sum_fen,
            by_value: count(&taken).by_value,
            unknown: stored(unknown)?,
            uncertain: stored(uncertain)?,
        };
        out.push(Collection { id, at, staff_id, count });
    }
    Ok(out)
}

/// The box count of `notes`.
fn count(notes: &[StoredNote]) -> BoxCount {
    let mut count = BoxCount::default();
    for note in notes {
        if note.state.uncertain() {
            count.uncertain += 1;
        }
        if !note.state.in_the_box() {
            continue;
        }
        count.notes += 1;
        match note.value_fen {
            Some(value) if note.state == NoteCustody::Credited => {
                count.sum_fen += value;
                *count.by_value.entry(value).or_default() += 1;
            }
            _ => count.unknown += 1,
        }
    }
    count
}
