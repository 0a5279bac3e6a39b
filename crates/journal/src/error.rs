//! The journal's one error type.
//!
//! `Display` texts say what failed without echoing SQL, file contents or personal data; the
//! underlying cause stays reachable through `source()` for the staff log.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the journal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The folder that should hold the journal file could not be created.
    #[error("cannot create the journal folder {path}")]
    CreateDir {
        /// The folder we tried to create.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// The database file could not be opened or configured (WAL, synchronous=FULL, ...).
    #[error("cannot open the journal database")]
    Open(#[source] sqlx::Error),
    /// The embedded schema migrations failed; the journal must not be used.
    #[error("journal schema migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// An idempotency key is already journaled (rule R2). Nothing from the request was written;
    /// the caller should look the key up and reuse what it points to rather than send twice.
    #[error("idempotency key already recorded: {key}")]
    AlreadyRecorded {
        /// The key that was already there.
        key: String,
    },
    /// A payment with this order reference already exists. Nothing was written.
    #[error("payment already journaled: {id}")]
    PaymentExists {
        /// The order reference.
        id: String,
    },
    /// The payment is no longer in the state the writer expected: someone else moved it.
    #[error("payment {id} is in {stored}, not {expected}: it was moved by someone else")]
    StaleState {
        /// Order reference.
        id: String,
        /// What the writer expected.
        expected: String,
        /// What the journal holds.
        stored: String,
    },
    /// The payment the record refers to is not in the journal.
    #[error("no such payment in the journal: {id}")]
    UnknownPayment {
        /// The order reference that was not found.
        id: String,
    },
    /// The payment's latest transition (`last_seq`), which holds its snapshot, is not in the
    /// journal: rows were deleted behind the journal's back. [`crate::Journal::verify_chain`] says
    /// where the chain breaks.
    #[error("latest transition {seq} of payment {id} is missing from the journal")]
    MissingTransition {
        /// The order reference.
        id: String,
        /// The seq the payment row points at.
        seq: i64,
    },
    /// The record breaks a rule the journal enforces (empty state, terminal and parked, ...).
    #[error("invalid journal record: {reason}")]
    InvalidRecord {
        /// Which rule was broken.
        reason: &'static str,
    },
    /// The snapshot handed in is not well-formed JSON.
    #[error("payment snapshot is not valid JSON")]
    InvalidSnapshot(#[source] serde_json::Error),
    /// Any other database failure. If it happened during a write, the write did not commit.
    #[error("journal database error")]
    Database(#[source] sqlx::Error),
    /// Writing an export (CSV) to the caller's writer failed.
    #[error("cannot write the journal export")]
    Export(#[source] io::Error),
    /// The chain's last row is not the one this writer appended last: the journal was changed
    /// behind the running kiosk. Nothing was written; no money may move on it.
    #[error("the journal changed behind the kiosk: its last row is seq {found_seq}, the writer appended {expected_seq}")]
    TailChanged {
        /// What this process committed last.
        expected_seq: i64,
        /// What the database holds.
        found_seq: i64,
    },
    /// The anchor file could not be written after a commit (the commit itself is durable).
    #[error(transparent)]
    Anchor(crate::anchor::AnchorError),
}

impl From<sqlx::Error> for JournalError {
    fn from(e: sqlx::Error) -> Self {
        JournalError::Database(e)
    }
}

/// What a failed statement means in journal terms, so writers can turn constraint hits into
/// typed outcomes instead of generic database errors.
pub(crate) enum DbFailure {
    Unique,
    ForeignKey,
    Other,
}

impl JournalError {
    /// The disk (or the database's size limit) is full: SQLITE_FULL. Nothing was written.
    pub fn is_disk_full(&self) -> bool {
        const SQLITE_FULL: i32 = 13;
        let JournalError::Database(sqlx::Error::Database(db)) = self else { return false };
        // The extended result code; its low byte is the primary one.
        db.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| code & 0xFF == SQLITE_FULL)
    }
}

pub(crate) fn classify(e: &sqlx::Error) -> DbFailure {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => DbFailure::Unique,
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => DbFailure::ForeignKey,
        _ => DbFailure::Other,
    }
}
