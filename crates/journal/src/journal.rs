//! Opening the journal and writing to it.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction on the pool's single connection; with WAL and
//! `synchronous=FULL` a successful commit has been fsync'd, so the runtime may carry out the
//! effects it journaled (rule R1). Writes are additionally serialised by the chain-tip mutex, so
//! computing a row's hash from the previous one and appending it cannot interleave.
//!
//! Queries are run-time `sqlx::query`/`query_as` with `FromRow`, not the `query!` macros: the crate
//! then builds with no `DATABASE_URL` and no `.sqlx` offline data, and the SQL is fixed text that
//! the tests in `tests/` exercise against real SQLite files.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

use crate::chain::{chain_hash, ChainFields, GENESIS};
use crate::crash;
use crate::error::{classify, DbFailure, JournalError};
use crate::model::{NewKey, NewPayment, PrintRecord, Seq, StaffAction, TransitionRecord};
use crate::validate;

/// How long a statement waits for a lock held by another process (e.g. a staff export tool)
/// before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, embedded at compile time and run on every open.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The last row of the chain as this process knows it.
#[derive(Clone, Debug)]
pub(crate) struct ChainTip {
    /// Highest seq ever issued (`sqlite_sequence`), so a new row never reuses a deleted seq.
    pub(crate) last_seq: i64,
    /// Hash of the last existing row, or [`GENESIS`].
    pub(crate) hash: String,
}

/// The payment journal: the kiosk's outbox and recovery point.
///
/// Single-writer by design (one kiosk process); other processes may read. Not `Clone`: share it
/// behind an `Arc`.
#[derive(Debug)]
pub struct Journal {
    pub(crate) pool: SqlitePool,
    /// Cached chain tip; `None` after a failed write, so the next write re-reads it.
    tip: Mutex<Option<ChainTip>>,
    crash_after: Option<u64>,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` and brings its schema up to date.
    ///
    /// The database runs in WAL mode with `synchronous=FULL` (every commit fsync'd; `NORMAL` could
    /// lose the last commits on power loss), foreign keys on, and a busy timeout. The pool holds
    /// exactly one connection: SQLite has one writer anyway, the kiosk has one writing process,
    /// and one connection keeps every write in order (see `benches/journal_fsync.rs`).
    ///
    /// Reads [`crash::CRASH_ENV`] once, for power-cut tests.
    pub async fn open(path: &Path) -> Result<Journal, JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| JournalError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // A local file does not drop like a network socket; keep the one connection forever
            // and skip the ping before each use.
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(JournalError::Open)?;
        MIGRATOR.run(&pool).await.map_err(JournalError::Migrate)?;

        let mut conn = pool.acquire().await?;
        let tip = read_tip(&mut conn).await?;
        drop(conn);
        tracing::info!(last_seq = tip.last_seq, "journal opened");
        Ok(Journal { pool, tip: Mutex::new(Some(tip)), crash_after: crash::crash_after_from_env() })
    }

    /// Closes the connection cleanly (checkpointing the WAL). Dropping the journal also works; this
    /// just waits for it.
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// Journals a new payment in one transaction: the payment row, its idempotency keys and its
    /// first transition (from `""` to `p.state`). Returns the transition's seq.
    ///
    /// A key that is already journaled gives [`JournalError::AlreadyRecorded`] and an existing
    /// order reference [`JournalError::PaymentExists`]; in both cases nothing is written.
    pub async fn create_payment(&self, p: &NewPayment) -> Result<Seq, JournalError> {
        validate::new_payment(p)?;
        let mut guard = self.tip.lock().await;
        let result = self.create_locked(&mut guard, p).await;
        if result.is_err() {
            *guard = None;
        }
        result
    }

    async fn create_locked(&self, guard: &mut Option<ChainTip>, p: &NewPayment) -> Result<Seq, JournalError> {
        let tip = self.current_tip(guard).await?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let seq = tip.last_seq + 1;
        sqlx::query(
            "INSERT INTO payments (id, kiosk_id, created_at, total_fen, channel, state, terminal, parked,
                                   next_deadline, snapshot, updated_at, last_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?3, ?11)",
        )
        .bind(&p.id)
        .bind(&p.kiosk_id)
        .bind(p.created_at)
        .bind(p.total_fen)
        .bind(&p.channel)
        .bind(&p.state)
        .bind(p.terminal)
        .bind(p.parked)
        .bind(p.next_deadline)
        .bind(&p.snapshot)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(|e| match classify(&e) {
            DbFailure::Unique => JournalError::PaymentExists { id: p.id.clone() },
            _ => JournalError::Database(e),
        })?;
        insert_keys(&mut tx, &p.id, p.created_at, &p.keys).await?;
        let fields = ChainFields {
            seq,
            payment_id: &p.id,
            at: p.created_at,
            from_state: "",
            to_state: &p.state,
            event: &p.event,
            effects: &p.effects,
            snapshot: &p.snapshot,
        };
        let new_tip = append(&mut tx, &tip.hash, &fields).await?;
        tx.commit().await?;
        *guard = Some(new_tip);
        crash::after_commit(self.crash_after);
        Ok(Seq(seq))
    }

    /// Journals a state change in one transaction: appends the hash-chained transition (its
    /// `from_state` is the stored state) and updates the payment row. Returns the new seq.
    ///
    /// The journal does not judge whether a change is allowed; the state machine in `kiosk-core`
    /// does. New keys in `t.keys` are journaled in the same commit; a duplicate gives
    /// [`JournalError::AlreadyRecorded`] and nothing is written.
    pub async fn record_transition(&self, t: &TransitionRecord) -> Result<Seq, JournalError> {
        validate::transition(t)?;
        let mut guard = self.tip.lock().await;
        let result = self.transition_locked(&mut guard, t).await;
        if result.is_err() {
            *guard = None;
        }
        result
    }

    async fn transition_locked(
        &self,
        guard: &mut Option<ChainTip>,
        t: &TransitionRecord,
    ) -> Result<Seq, JournalError> {
        let tip = self.current_tip(guard).await?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let from_state: String = sqlx::query_scalar("SELECT state FROM payments WHERE id = ?1")
            .bind(&t.payment_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| JournalError::UnknownPayment { id: t.payment_id.clone() })?;
        insert_keys(&mut tx, &t.payment_id, t.at, &t.keys).await?;
        let seq = tip.last_seq + 1;
        let fields = ChainFields {
            seq,
            payment_id: &t.payment_id,
            at: t.at,
            from_state: &from_state,
            to_state: &t.to_state,
            event: &t.event,
            effects: &t.effects,
            snapshot: &t.snapshot,
        };
        let new_tip = append(&mut tx, &tip.hash, &fields).await?;
        sqlx::query(
            "UPDATE payments
                SET state = ?2, terminal = ?3, parked = ?4, next_deadline = ?5, snapshot = ?6,
                    channel = COALESCE(?7, channel), updated_at = ?8, last_seq = ?9
              WHERE id = ?1",
        )
        .bind(&t.payment_id)
        .bind(&t.to_state)
        .bind(t.terminal)
        .bind(t.parked)
        .bind(t.next_deadline)
        .bind(&t.snapshot)
        .bind(&t.channel)
        .bind(t.at)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        *guard = Some(new_tip);
        crash::after_commit(self.crash_after);
        Ok(Seq(seq))
    }

    /// Journals more idempotency keys for an existing payment, all or none.
    pub async fn add_keys(&self, payment_id: &str, at: i64, keys: &[NewKey]) -> Result<(), JournalError> {
        validate::keys(keys)?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        ensure_payment(&mut tx, payment_id).await?;
        insert_keys(&mut tx, payment_id, at, keys).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a printout. Printing is a repeatable side effect (rule R6), so any number of
    /// prints may be recorded for a payment. Returns the row id.
    pub async fn record_print(&self, p: &PrintRecord) -> Result<i64, JournalError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        ensure_payment(&mut tx, &p.payment_id).await?;
        let id = sqlx::query("INSERT INTO prints (payment_id, at, kind, outcome) VALUES (?1, ?2, ?3, ?4)")
            .bind(&p.payment_id)
            .bind(p.at)
            .bind(p.kind.as_str())
            .bind(&p.outcome)
            .execute(&mut *tx)
            .await?
            .last_insert_rowid();
        tx.commit().await?;
        Ok(id)
    }

    /// Records what a staff member did (append-only audit trail). Returns the row id.
    pub async fn record_staff_action(&self, a: &StaffAction) -> Result<i64, JournalError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(payment_id) = &a.payment_id {
            ensure_payment(&mut tx, payment_id).await?;
        }
        let id = sqlx::query(
            "INSERT INTO staff_actions (at, staff_id, action, payment_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(a.at)
        .bind(&a.staff_id)
        .bind(&a.action)
        .bind(&a.payment_id)
        .bind(&a.detail)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        tx.commit().await?;
        Ok(id)
    }

    /// Number of counted commits (payments created, transitions recorded) made by every journal
    /// in this process; see [`crash`].
    pub fn commits_in_this_process(&self) -> u64 {
        crash::commits_in_this_process()
    }

    /// The cached tip, or a fresh read after a failed write.
    async fn current_tip(&self, guard: &mut Option<ChainTip>) -> Result<ChainTip, JournalError> {
        if let Some(tip) = guard.as_ref() {
            return Ok(tip.clone());
        }
        let mut conn = self.pool.acquire().await?;
        let tip = read_tip(&mut conn).await?;
        *guard = Some(tip.clone());
        Ok(tip)
    }
}

/// Reads the chain tip from the database.
pub(crate) async fn read_tip(conn: &mut SqliteConnection) -> Result<ChainTip, JournalError> {
    let last_seq = last_issued_seq(conn).await?;
    let hash: Option<String> = sqlx::query_scalar("SELECT hash FROM transitions ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(ChainTip { last_seq, hash: hash.unwrap_or_else(|| GENESIS.to_owned()) })
}

/// Highest seq ever handed out for `transitions`, deleted rows included; 0 for an empty journal.
pub(crate) async fn last_issued_seq(conn: &mut SqliteConnection) -> Result<i64, JournalError> {
    let issued: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'transitions'")
            .fetch_optional(&mut *conn)
            .await?;
    let present: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM transitions").fetch_one(&mut *conn).await?;
    Ok(issued.unwrap_or(0).max(present.unwrap_or(0)))
}

/// Appends one transition with its chain hash and returns the new tip.
async fn append(
    conn: &mut SqliteConnection,
    prev_hash: &str,
    f: &ChainFields<'_>,
) -> Result<ChainTip, JournalError> {
    let hash = chain_hash(prev_hash, f);
    sqlx::query(
        "INSERT INTO transitions (seq, payment_id, at, from_state, to_state, event, effects, snapshot,
                                  prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .bind(f.seq)
    .bind(f.payment_id)
    .bind(f.at)
    .bind(f.from_state)
    .bind(f.to_state)
    .bind(f.event)
    .bind(f.effects)
    .bind(f.snapshot)
    .bind(prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(ChainTip { last_seq: f.seq, hash })
}

/// Inserts idempotency keys one by one, so a unique-constraint hit names the key that collided.
async fn insert_keys(
    conn: &mut SqliteConnection,
    payment_id: &str,
    at: i64,
    keys: &[NewKey],
) -> Result<(), JournalError> {
    for k in keys {
        sqlx::query(
            "INSERT INTO idempotency_keys (key, payment_id, purpose, created_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(&k.key)
        .bind(payment_id)
        .bind(&k.purpose)
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(|e| match classify(&e) {
            DbFailure::Unique => JournalError::AlreadyRecorded { key: k.key.clone() },
            DbFailure::ForeignKey => JournalError::UnknownPayment { id: payment_id.to_owned() },
            DbFailure::Other => JournalError::Database(e),
        })?;
    }
    Ok(())
}

/// Fails with [`JournalError::UnknownPayment`] unless the payment exists.
async fn ensure_payment(conn: &mut SqliteConnection, payment_id: &str) -> Result<(), JournalError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM payments WHERE id = ?1")
        .bind(payment_id)
        .fetch_optional(&mut *conn)
        .await?;
    found.map(|_| ()).ok_or_else(|| JournalError::UnknownPayment { id: payment_id.to_owned() })
}
