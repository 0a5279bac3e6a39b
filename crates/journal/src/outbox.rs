//! The outbox side of the journal: what the kiosk ships to the fleet hub, read without ever
//! getting in the way of a payment, and how far the hub has acknowledged it.
//!
//! [`OutboxReader`] opens the journal file on a connection of its own, read-only. SQLite in WAL
//! mode lets a reader work beside the one writer without either waiting, so shipping never holds
//! the journal's write connection (ARCHITECTURE.md, rule 9: the kiosk never waits for the hub).
//!
//! [`ShipCursor`] is the hub's acknowledged high-water mark, kept in a small file of its own next
//! to the journal: written to a temporary file, fsync'd, renamed over the old one and the
//! directory fsync'd, so a power cut leaves either the old mark or the new one, never half of
//! either. It is a hint, not the truth: the hub answers every batch with what it holds, and the
//! kiosk moves its cursor to that answer, back as well as forward (a hub restored from an older
//! backup asks for the rows again).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::error::JournalError;
use crate::model::TransitionRow;
use crate::reads::ChainHead;

/// A read-only view of a journal file, for shipping.
#[derive(Clone, Debug)]
pub struct OutboxReader {
    pool: SqlitePool,
}

impl OutboxReader {
    /// Opens the journal at `path` read-only. The file must exist (the kiosk creates it).
    pub async fn open(path: &Path) -> Result<OutboxReader, JournalError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            // A reader that finds the writer checkpointing waits a little, never fails at once.
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(JournalError::Open)?;
        Ok(OutboxReader { pool })
    }

    /// Up to `limit` transitions after `seq`, in seq order.
    pub async fn transitions_after(&self, seq: i64, limit: u32) -> Result<Vec<TransitionRow>, JournalError> {
        crate::reads::transitions_after(&self.pool, seq, i64::from(limit)).await
    }

    /// The newest row of the chain.
    pub async fn head(&self) -> Result<ChainHead, JournalError> {
        crate::reads::head(&self.pool).await
    }

    /// What the cash box holds since the last collection (the heartbeat's count).
    pub async fn cash_in_the_box(&self) -> Result<crate::BoxCount, JournalError> {
        crate::cash_box::in_the_box(&self.pool).await
    }

    /// The `limit` newest cash collections (清机), newest first: the hub compares each with the
    /// amount counted out of the box.
    pub async fn cash_collections(&self, limit: i64) -> Result<Vec<crate::Collection>, JournalError> {
        crate::cash_box::recent_collections(&self.pool, limit).await
    }

    /// Payments not settled (being paid, in suspense, waiting for a card write or a refund),
    /// oldest first: (order reference, total in fen, state, created at in ms).
    pub async fn unsettled(&self) -> Result<Vec<(String, i64, String, i64)>, JournalError> {
        Ok(sqlx::query_as(
            "SELECT id, total_fen, state, created_at FROM payments WHERE terminal = 0 ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether a staff action `action` whose detail starts with `prefix` is on record.
    pub async fn has_staff_action(&self, action: &str, prefix: &str) -> Result<bool, JournalError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM staff_actions WHERE action = ?1 AND substr(detail, 1, length(?2)) = ?2 LIMIT 1",
        )
        .bind(action)
        .bind(prefix)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// The journal's identity (`journal_meta.journal_id`), empty for a journal without one.
    pub async fn journal_id(&self) -> Result<String, JournalError> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT value FROM journal_meta WHERE key = 'journal_id'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.unwrap_or_default())
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// How far the hub has acknowledged this journal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipMark {
    /// The journal the mark belongs to: a mark for another journal (the file was replaced) is
    /// not this journal's and counts as nothing shipped.
    pub journal_id: String,
    /// The hub holds every row up to and including this seq.
    pub acked_seq: i64,
}

/// The durable high-water mark file.
#[derive(Clone, Debug)]
pub struct ShipCursor {
    path: PathBuf,
}

/// Why the cursor file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} the shipping mark {path}: {source}")]
pub struct CursorError {
    action: &'static str,
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

impl ShipCursor {
    /// The cursor kept at `path` (conventionally `<journal>.shipped`).
    pub fn at(path: &Path) -> ShipCursor {
        ShipCursor { path: path.to_path_buf() }
    }

    /// The mark for `journal_id`: zero when there is no file, when it is unreadable (the hub
    /// answers the first batch with what it holds, so nothing is lost by starting low) or when it
    /// belongs to another journal.
    pub fn load(&self, journal_id: &str) -> ShipMark {
        let fresh = ShipMark { journal_id: journal_id.to_owned(), acked_seq: 0 };
        let Ok(text) = std::fs::read_to_string(&self.path) else { return fresh };
        match serde_json::from_str::<ShipMark>(&text) {
            Ok(mark) if mark.journal_id == journal_id && mark.acked_seq >= 0 => mark,
            _ => fresh,
        }
    }

    /// Stores `mark` durably: temporary file, fsync, rename, fsync of the directory.
    pub fn store(&self, mark: &ShipMark) -> Result<(), CursorError> {
        use std::io::Write;
        let fail = |action, source| CursorError { action, path: self.path.clone(), source };
        let tmp = self.path.with_extension("shipped.tmp");
        let json = serde_json::to_vec(mark).expect("a mark always serialises");
        let mut file = std::fs::File::create(&tmp).map_err(|e| fail("create", e))?;
        file.write_all(&json).map_err(|e| fail("write", e))?;
        file.sync_all().map_err(|e| fail("fsync", e))?;
        drop(file);
        std::fs::rename(&tmp, &self.path).map_err(|e| fail("rename", e))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| fail("fsync the folder of", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_survives_a_reload_and_another_journal_s_mark_counts_as_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cursor = ShipCursor::at(&dir.path().join("journal.db.shipped"));
        assert_eq!(cursor.load("J1").acked_seq, 0, "no file: nothing shipped");
        cursor.store(&ShipMark { journal_id: "J1".into(), acked_seq: 42 }).unwrap();
        assert_eq!(cursor.load("J1").acked_seq, 42);
        assert_eq!(cursor.load("J2").acked_seq, 0, "a replaced journal starts from the beginning");
    }

    #[test]
    fn a_damaged_mark_file_counts_as_nothing_shipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db.shipped");
        std::fs::write(&path, b"{\"journal_id\":\"J1\",\"acked").unwrap();
        assert_eq!(ShipCursor::at(&path).load("J1"), ShipMark { journal_id: "J1".into(), acked_seq: 0 });
        std::fs::write(&path, b"{\"journal_id\":\"J1\",\"acked_seq\":-5}").unwrap();
        assert_eq!(ShipCursor::at(&path).load("J1").acked_seq, 0, "a negative mark is not believed");
    }
}
