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

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

use crate::anchor::AnchorFile;
use crate::chain::{chain_hash, fields_hash, ChainFields, Verifier, GENESIS};
use crate::crash;
use crate::error::{classify, DbFailure, JournalError};
use crate::model::{NewKey, NewPayment, PrintRecord, Seq, StaffAction, TransitionRecord, TransitionRow};
use crate::validate;

/// How long a statement waits for a lock held by another process (e.g. a staff export tool)
/// before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, embedded at compile time and run on every open.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The last row of the chain as this process knows it.
#[derive(Clone, Debug)]
pub(crate) struct ChainTip {
    /// Highest seq ever committed (see [`last_issued_seq`]), so a new row never reuses a deleted seq.
    pub(crate) last_seq: i64,
    /// Hash of the last existing row, or [`GENESIS`].
    pub(crate) hash: String,
}

/// What this process last committed for a payment: a hint that saves reading the row back before
/// each transition. The `UPDATE` of the payment is guarded by these values, so a stale hint makes
/// it match no row and the write falls back to reading the stored row; `from_state` is always
/// what the journal really held.
#[derive(Clone, Debug)]
struct Stored {
    state: String,
    terminal: bool,
    parked: bool,
}

/// Payments remembered by the writer; beyond this the hints are dropped and rebuilt on demand.
const MAX_HINTS: usize = 1024;

/// Writer-side state behind the write mutex.
#[derive(Debug)]
pub(crate) struct Writer {
    tip: ChainTip,
    hints: HashMap<String, Stored>,
}

impl Writer {
    fn remember(&mut self, id: &str, stored: Stored) {
        if self.hints.len() >= MAX_HINTS && !self.hints.contains_key(id) {
            self.hints.clear();
        }
        self.hints.insert(id.to_owned(), stored);
    }
}

/// The payment journal: the kiosk's outbox and recovery point.
///
/// Single-writer by design (one kiosk process); other processes may read. Not `Clone`: share it
/// behind an `Arc`.
#[derive(Debug)]
pub struct Journal {
    pub(crate) pool: SqlitePool,
    /// Cached chain tip and per-payment hints; `None` after a failed write, so the next write
    /// re-reads the tip from the database. Shared with [`crate::CardTerminalJournal`], whose
    /// writes take the same mutex.
    pub(crate) writer: std::sync::Arc<Mutex<Option<Writer>>>,
    pub(crate) crash_after: Option<u64>,
    /// The anchor file, advanced after every commit (see [`crate::anchor`]); `None` for a
    /// journal opened without one (tests, tools).
    pub(crate) anchor: Option<std::sync::Mutex<AnchorFile>>,
    /// The highest seq known committed: the chain head when opened by [`Journal::open_trusted`],
    /// then every commit of this process. Printed on receipts and slips.
    pub(crate) committed: std::sync::atomic::AtomicI64,
    /// `yizhan soak`'s full disk (see [`Journal::simulate_full_disk`]): every connection the
    /// pool opens while it is set is capped at the database's size.
    disk_full: std::sync::Arc<std::sync::atomic::AtomicBool>,
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
        Journal::open_with(path, Journal::connect_options(path)).await
    }

    /// [`Journal::open`] through the SQLite VFS registered under the name `vfs`. Only for tests
    /// that simulate power loss below SQLite (`tests/integration/crash_vfs.rs`, which registers a VFS that
    /// drops unsynced writes); the kiosk always uses [`Journal::open`].
    #[doc(hidden)]
    pub async fn open_with_vfs(path: &Path, vfs: &str) -> Result<Journal, JournalError> {
        Journal::open_with(path, Journal::connect_options(path).vfs(vfs.to_owned())).await
    }

    /// The connection settings of [`Journal::open`]: WAL, `synchronous=FULL`, foreign keys, busy
    /// timeout. Public for the fsync benchmark, which opens plain SQLite the same way.
    #[doc(hidden)]
    pub fn connect_options(path: &Path) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
    }

    async fn open_with(path: &Path, options: SqliteConnectOptions) -> Result<Journal, JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| JournalError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let disk_full = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let full = std::sync::Arc::clone(&disk_full);
        let pool = SqlitePoolOptions::new()
            // A connection replaced while the disk is full (see `begin_write`) finds it full too.
            .after_connect(move |conn, _| {
                let full = full.load(std::sync::atomic::Ordering::Relaxed);
                Box::pin(async move { cap_at_present_size(conn, full).await })
            })
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
        let writer = Writer { tip, hints: HashMap::new() };
        Ok(Journal {
            pool,
            writer: std::sync::Arc::new(Mutex::new(Some(writer))),
            crash_after: crash::crash_after_from_env(),
            anchor: None,
            committed: std::sync::atomic::AtomicI64::new(0),
            disk_full,
        })
    }

    /// Records each commit in `anchor` from now on.
    pub(crate) fn with_anchor(mut self, anchor: AnchorFile) -> Journal {
        self.anchor = Some(std::sync::Mutex::new(anchor));
        self
    }

    /// Caps the database at its present size (`PRAGMA max_page_count`), so that the next write
    /// needing a new page fails as on a full disk (SQLITE_FULL) and is rolled back; `false` lifts
    /// the cap (staff freed space). Only for `yizhan soak`'s full-disk fault: the journal's real
    /// failure path, reached without filling the machine's disk.
    #[doc(hidden)]
    pub async fn simulate_full_disk(&self, full: bool) -> Result<(), JournalError> {
        self.disk_full.store(full, std::sync::atomic::Ordering::Relaxed);
        let mut conn = self.pool.acquire().await?;
        Ok(cap_at_present_size(&mut conn, full).await?)
    }

    /// The highest seq known committed (0 when nothing is known yet): see `committed`.
    pub fn committed_seq(&self) -> i64 {
        self.committed.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn note_committed(&self, seq: i64) {
        self.committed.fetch_max(seq, std::sync::atomic::Ordering::Relaxed);
    }

    /// Moves the anchor to the new chain tip. Runs after the commit: a journal ahead of its
    /// anchor is what a power cut between the two leaves, and is accepted at start-up; the other
    /// way round is not. The write is fsync'd (a few hundred bytes, one block).
    fn advance_anchor(&self, tip: &ChainTip) -> Result<(), JournalError> {
        let Some(anchor) = &self.anchor else { return Ok(()) };
        let mut anchor = anchor.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        anchor.advance(tip.last_seq, &tip.hash, None).map_err(JournalError::Anchor)
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
        self.write_locked(async |guard| self.create_locked(guard, p).await).await
    }

    async fn create_locked(&self, guard: &mut Option<Writer>, p: &NewPayment) -> Result<Seq, JournalError> {
        let writer = self.writer(guard).await?;
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        check_tail(&mut tx, writer).await?;
        let tip = &writer.tip;
        let seq = tip.last_seq + 1;
        sqlx::query(
            "INSERT INTO payments (id, kiosk_id, created_at, total_fen, channel, state, terminal, parked,
                                   next_deadline, updated_at, last_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?3, ?10)",
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
        writer.tip = new_tip;
        writer.remember(&p.id, Stored { state: p.state.clone(), terminal: p.terminal, parked: p.parked });
        crash::after_commit(self.crash_after);
        self.note_committed(writer.tip.last_seq);
        self.advance_anchor(&writer.tip)?;
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
        self.write_locked(async |guard| self.transition_locked(guard, t).await).await
    }

    async fn transition_locked(
        &self,
        guard: &mut Option<Writer>,
        t: &TransitionRecord,
    ) -> Result<Seq, JournalError> {
        let writer = self.writer(guard).await?;
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        check_tail(&mut tx, writer).await?;
        let seq = writer.tip.last_seq + 1;
        if let Some(expected_seq) = t.expected_seq {
            let stored: Option<(i64, String)> =
                sqlx::query_as("SELECT last_seq, state FROM payments WHERE id = ?1")
                    .bind(&t.payment_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let (last_seq, state) = stored.ok_or(JournalError::Database(sqlx::Error::RowNotFound))?;
            if last_seq != expected_seq {
                return Err(JournalError::StaleState {
                    id: t.payment_id.clone(),
                    expected: format!("the payment as of seq {expected_seq}"),
                    stored: state,
                });
            }
        }
        // The update comes first and is guarded by what this process last committed, which saves a
        // read round trip; if the hint is missing or stale, read the stored row and update again.
        let mut hint = writer.hints.get(&t.payment_id).cloned();
        let before = loop {
            let (stored, fresh) = match hint.take() {
                Some(h) => (h, false),
                None => (read_stored(&mut tx, &t.payment_id).await?, true),
            };
            if update_payment(&mut tx, t, seq, &stored).await? {
                break stored;
            }
            if fresh {
                // Read under the same write lock a moment ago; cannot differ.
                return Err(JournalError::Database(sqlx::Error::RowNotFound));
            }
            tracing::warn!(payment = %t.payment_id, "journal row changed behind the writer; re-reading it");
        };
        if let Some(expected) = &t.expected_from {
            if *expected != before.state {
                // Dropping the transaction rolls the update back; the caller forgets the cache.
                drop(tx);
                return Err(JournalError::StaleState {
                    id: t.payment_id.clone(),
                    expected: expected.clone(),
                    stored: before.state,
                });
            }
        }
        insert_keys(&mut tx, &t.payment_id, t.at, &t.keys).await?;
        let fields = ChainFields {
            seq,
            payment_id: &t.payment_id,
            at: t.at,
            from_state: &before.state,
            to_state: &t.to_state,
            event: &t.event,
            effects: &t.effects,
            snapshot: &t.snapshot,
        };
        let new_tip = append(&mut tx, &writer.tip.hash, &fields).await?;
        tx.commit().await?;
        writer.tip = new_tip;
        writer.remember(
            &t.payment_id,
            Stored { state: t.to_state.clone(), terminal: t.terminal, parked: t.parked },
        );
        crash::after_commit(self.crash_after);
        self.note_committed(writer.tip.last_seq);
        self.advance_anchor(&writer.tip)?;
        Ok(Seq(seq))
    }

    /// Journals more idempotency keys for an existing payment, all or none.
    pub async fn add_keys(&self, payment_id: &str, at: i64, keys: &[NewKey]) -> Result<(), JournalError> {
        validate::keys(keys)?;
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        ensure_payment(&mut tx, payment_id).await?;
        insert_keys(&mut tx, payment_id, at, keys).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a printout. Printing is a repeatable side effect (rule R6), so any number of
    /// prints may be recorded for a payment. Returns the row id.
    pub async fn record_print(&self, p: &PrintRecord) -> Result<i64, JournalError> {
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        ensure_payment(&mut tx, &p.payment_id).await?;
        let (id, prev_hash) = audit_tip(&mut tx, "prints").await?;
        let at = p.at.to_string();
        let hash =
            fields_hash(&prev_hash, &print_fields(id, &p.payment_id, &at, p.kind.as_str(), &p.outcome));
        let insert = sqlx::query(
            "INSERT INTO prints (id, payment_id, at, kind, outcome, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(id)
        .bind(&p.payment_id)
        .bind(p.at)
        .bind(p.kind.as_str())
        .bind(&p.outcome);
        commit_audit_row(tx, insert, &prev_hash, &hash).await?;
        Ok(id)
    }

    /// Records what a staff member did (append-only audit trail). Returns the row id.
    pub async fn record_staff_action(&self, a: &StaffAction) -> Result<i64, JournalError> {
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        if let Some(payment_id) = &a.payment_id {
            ensure_payment(&mut tx, payment_id).await?;
        }
        let (id, prev_hash) = audit_tip(&mut tx, "staff_actions").await?;
        let at = a.at.to_string();
        let payment = a.payment_id.as_deref().unwrap_or("");
        let hash =
            fields_hash(&prev_hash, &staff_fields(id, &at, &a.staff_id, &a.action, payment, &a.detail));
        let insert = sqlx::query(
            "INSERT INTO staff_actions (id, at, staff_id, action, payment_id, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(id)
        .bind(a.at)
        .bind(&a.staff_id)
        .bind(&a.action)
        .bind(&a.payment_id)
        .bind(&a.detail);
        commit_audit_row(tx, insert, &prev_hash, &hash).await?;
        Ok(id)
    }

    /// Number of counted commits (payments created, transitions recorded) made by every journal
    /// in this process; see [`crash`].
    #[cfg(feature = "sim")]
    pub fn commits_in_this_process(&self) -> u64 {
        crash::commits_in_this_process()
    }

    /// Runs one write under the writer's lock. A write that fails forgets the writer's cached
    /// tip and hints, so the next one reads them afresh from the file.
    async fn write_locked<T>(
        &self,
        write: impl AsyncFnOnce(&mut Option<Writer>) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let mut guard = self.writer.lock().await;
        let result = write(&mut guard).await;
        if result.is_err() {
            *guard = None;
        }
        result
    }

    /// The writer state, read afresh from the database after a failed write.
    async fn writer<'g>(&self, guard: &'g mut Option<Writer>) -> Result<&'g mut Writer, JournalError> {
        match guard {
            Some(writer) => Ok(writer),
            None => {
                let mut conn = self.pool.acquire().await?;
                let tip = read_tip(&mut conn).await?;
                Ok(guard.insert(Writer { tip, hints: HashMap::new() }))
            }
        }
    }
}

/// Most rows another process may chain onto this writer's tip between two of its commits (the
/// staff commands `yizhan recon` and `yizhan suspense` journal a handful at a time).
const MAX_ADOPTED_ROWS: i64 = 10_000;

/// Makes sure the chain's last row in the database is the one this writer appended last, or
/// that every row after it was chained onto it by another process (staff commands such as
/// `yizhan recon` journal beside the running kiosk): those rows are verified and adopted, and the
/// writer's per-payment hints are dropped since those payments may have moved. Anything else —
/// a tail rewritten, removed or not chained onto ours — is refused: someone changed the journal
/// behind the kiosk's back while it ran.
async fn check_tail(conn: &mut SqliteConnection, writer: &mut Writer) -> Result<(), JournalError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM transitions ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    // The tip's seq may be past the last row (a truncated tail keeps its issued seqs, see
    // `last_issued_seq`); the last row's hash is what this writer chains onto.
    let (seq, hash) = row.unwrap_or((0, GENESIS.to_owned()));
    let tip = &writer.tip;
    if hash == tip.hash {
        return Ok(());
    }
    let changed = JournalError::TailChanged { expected_seq: tip.last_seq, found_seq: seq };
    if seq <= tip.last_seq || seq - tip.last_seq > MAX_ADOPTED_ROWS {
        return Err(changed);
    }
    let ours: Option<String> = sqlx::query_scalar("SELECT hash FROM transitions WHERE seq = ?1")
        .bind(tip.last_seq)
        .fetch_optional(&mut *conn)
        .await?;
    if tip.last_seq > 0 && ours.is_some_and(|ours| ours != tip.hash) {
        return Err(changed);
    }
    let added: Vec<TransitionRow> = sqlx::query_as(
        "SELECT seq, payment_id, at, from_state, to_state, event, effects, snapshot, prev_hash, hash
         FROM transitions WHERE seq > ?1 ORDER BY seq",
    )
    .bind(tip.last_seq)
    .fetch_all(&mut *conn)
    .await?;
    let mut verifier = Verifier::starting_after(tip.last_seq, &tip.hash);
    for row in &added {
        verifier.feed(row);
    }
    let report = verifier.finish(last_issued_seq(conn).await?);
    if !report.is_intact() || report.rows == 0 {
        return Err(changed);
    }
    tracing::info!(
        from_seq = tip.last_seq,
        to_seq = report.last_seq,
        "journal rows chained by another process adopted"
    );
    writer.tip = ChainTip { last_seq: report.last_seq, hash: report.last_hash };
    writer.hints.clear();
    Ok(())
}

/// Finishes an audit row's insert: binds its chain hashes (always the last two columns), runs it
/// and commits.
async fn commit_audit_row<'q>(
    mut tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    insert: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    prev_hash: &'q str,
    hash: &'q str,
) -> Result<(), JournalError> {
    insert.bind(prev_hash).bind(hash).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The next id of an audit table and the hash of its last row (or [`GENESIS`]).
async fn audit_tip(conn: &mut SqliteConnection, table: &str) -> Result<(i64, String), JournalError> {
    let sql = format!("SELECT id, hash FROM {table} ORDER BY id DESC LIMIT 1");
    let row: Option<(i64, String)> = sqlx::query_as(&sql).fetch_optional(&mut *conn).await?;
    Ok(match row {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS.to_owned()),
    })
}

/// The chained fields of a print row, in order.
pub(crate) fn print_fields<'a>(
    id: i64,
    payment_id: &'a str,
    at: &'a str,
    kind: &'a str,
    outcome: &'a str,
) -> [String; 5] {
    [id.to_string(), payment_id.to_owned(), at.to_owned(), kind.to_owned(), outcome.to_owned()]
}

/// The chained fields of a staff action row, in order.
pub(crate) fn staff_fields(
    id: i64,
    at: &str,
    staff_id: &str,
    action: &str,
    payment_id: &str,
    detail: &str,
) -> [String; 6] {
    [
        id.to_string(),
        at.to_owned(),
        staff_id.to_owned(),
        action.to_owned(),
        payment_id.to_owned(),
        detail.to_owned(),
    ]
}

/// Reads the chain tip from the database.
pub(crate) async fn read_tip(conn: &mut SqliteConnection) -> Result<ChainTip, JournalError> {
    let last_seq = last_issued_seq(conn).await?;
    let hash: Option<String> = sqlx::query_scalar("SELECT hash FROM transitions ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(ChainTip { last_seq, hash: hash.unwrap_or_else(|| GENESIS.to_owned()) })
}

/// Highest seq the journal ever committed, deleted rows included; 0 for an empty journal. Every
/// commit also stores its seq in its payment's `last_seq`, so a deleted tail still leaves that seq
/// behind in `payments`.
pub(crate) async fn last_issued_seq(conn: &mut SqliteConnection) -> Result<i64, JournalError> {
    Ok(sqlx::query_scalar(
        "SELECT MAX(COALESCE((SELECT MAX(seq) FROM transitions), 0),
                    COALESCE((SELECT MAX(last_seq) FROM payments), 0))",
    )
    .fetch_one(&mut *conn)
    .await?)
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

/// The stored state and flags of a payment; [`JournalError::UnknownPayment`] if there is none.
async fn read_stored(conn: &mut SqliteConnection, payment_id: &str) -> Result<Stored, JournalError> {
    let row: Option<(String, bool, bool)> =
        sqlx::query_as("SELECT state, terminal, parked FROM payments WHERE id = ?1")
            .bind(payment_id)
            .fetch_optional(&mut *conn)
            .await?;
    let (state, terminal, parked) =
        row.ok_or_else(|| JournalError::UnknownPayment { id: payment_id.to_owned() })?;
    Ok(Stored { state, terminal, parked })
}

/// Moves the payment row to the transition's state, provided it still holds `before`; false if no
/// row matched. When the flags do not change they are left out of `SET`, so SQLite does not
/// rewrite the partial indexes that depend on them.
async fn update_payment(
    conn: &mut SqliteConnection,
    t: &TransitionRecord,
    seq: i64,
    before: &Stored,
) -> Result<bool, JournalError> {
    let same_flags = before.terminal == t.terminal && before.parked == t.parked;
    let sql = if same_flags {
        "UPDATE payments
            SET state = ?2, next_deadline = ?5, channel = COALESCE(?6, channel), updated_at = ?7,
                last_seq = ?8
          WHERE id = ?1 AND state = ?9 AND terminal = ?10 AND parked = ?11"
    } else {
        "UPDATE payments
            SET state = ?2, terminal = ?3, parked = ?4, next_deadline = ?5,
                channel = COALESCE(?6, channel), updated_at = ?7, last_seq = ?8
          WHERE id = ?1 AND state = ?9 AND terminal = ?10 AND parked = ?11"
    };
    let done = sqlx::query(sql)
        .bind(&t.payment_id)
        .bind(&t.to_state)
        .bind(t.terminal)
        .bind(t.parked)
        .bind(t.next_deadline)
        .bind(&t.channel)
        .bind(t.at)
        .bind(seq)
        .bind(&before.state)
        .bind(before.terminal)
        .bind(before.parked)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
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

/// Opens the one write transaction (`BEGIN IMMEDIATE`) on the journal's connection. When a
/// write failed earlier in a way SQLite answers by rolling the transaction back itself
/// (SQLITE_FULL on a full disk, SQLITE_IOERR), sqlx's count of open transactions stays wrong and
/// the connection refuses every later BEGIN; that connection is then closed and the pool opens
/// a fresh one with the same settings (WAL, synchronous=FULL), so the kiosk can write again once
/// the disk has room, without a restart.
pub(crate) async fn begin_write(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, JournalError> {
    match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => Ok(tx),
        // sqlx's words for "this connection still counts a transaction open".
        Err(refused @ sqlx::Error::InvalidSavePointStatement) => {
            tracing::warn!(error = %refused, "the journal's connection refused a write; opening a fresh one");
            let mut stale = pool.acquire().await?;
            stale.close_on_drop();
            drop(stale);
            Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
        }
        Err(error) => Err(error.into()),
    }
}

/// `PRAGMA max_page_count`: the present size when `full` (the next new page fails with
/// SQLITE_FULL), else SQLite's own largest.
async fn cap_at_present_size(conn: &mut SqliteConnection, full: bool) -> Result<(), sqlx::Error> {
    let pages: i64 =
        if full { sqlx::query_scalar("PRAGMA page_count").fetch_one(&mut *conn).await? } else { 0xFFFF_FFFE };
    sqlx::query(&format!("PRAGMA max_page_count = {pages}")).execute(&mut *conn).await?;
    Ok(())
}
