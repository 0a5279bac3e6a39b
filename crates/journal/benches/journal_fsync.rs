//! How much does the journal cost over a bare fsync'd SQLite commit?
//!
//! Measures, on temp files in the target dir (same disk as a real build):
//! (a) `Journal::record_transition` with realistic ~1.5 KB snapshots (one chained row, one payment
//!     update, hashing and JSON validation per commit);
//! (b) the floor: one INSERT + COMMIT per row through sqlx with the same pragmas (WAL,
//!     synchronous=FULL), on a pool of one connection like the journal;
//! (b') the same loop on a bare `SqliteConnection`, to see what the pool itself costs;
//! and the ratios. Every commit is an fsync, so the numbers mostly measure the disk.
//!
//! Method. Each case is warmed up long enough for its WAL to be checkpointed and wrap: before
//! that, every commit also grows the WAL file, and an fsync that changes the file size costs
//! about twice as much on ext4, which favours whichever case writes more pages per commit. Then
//! the cases run interleaved in rounds, so drift in disk load (other builds on the machine) hits
//! all of them alike; the table shows the mean and the median round.
//!
//! Run with `cargo bench -p journal`; `JOURNAL_BENCH_ITERS`, `JOURNAL_BENCH_WARMUP` and
//! `JOURNAL_BENCH_ROUNDS` override the counts.

use std::path::Path;
use std::time::{Duration, Instant};

use journal::{Journal, NewPayment, TransitionRecord};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, SqliteConnection, SqlitePool};

const DEFAULT_ITERS: u32 = 2_000;
const DEFAULT_WARM_UP: u32 = 1_500;
const DEFAULT_ROUNDS: u32 = 10;
const T0: i64 = 1_714_550_400_000;
const CREATE: &str = "CREATE TABLE rows (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, payload TEXT NOT NULL)";
const INSERT: &str = "INSERT INTO rows (at, payload) VALUES (?1, ?2)";

type BoxError = Box<dyn std::error::Error>;

/// One thing being measured: a store and how to make one commit on it.
enum Case {
    Journal(Box<Journal>, Box<TransitionRecord>),
    Pool(SqlitePool),
    Conn(SqliteConnection),
}

impl Case {
    async fn commit(&mut self, i: u32, snapshot: &str) -> Result<(), BoxError> {
        match self {
            Case::Journal(j, t) => {
                t.at = T0 + i64::from(i);
                j.record_transition(t).await?;
            }
            Case::Pool(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(INSERT).bind(i64::from(i)).bind(snapshot).execute(&mut *tx).await?;
                tx.commit().await?;
            }
            Case::Conn(conn) => {
                let mut tx = conn.begin().await?;
                sqlx::query(INSERT).bind(i64::from(i)).bind(snapshot).execute(&mut *tx).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), BoxError> {
    let iters = env_count("JOURNAL_BENCH_ITERS", DEFAULT_ITERS);
    let warm_up = env_count("JOURNAL_BENCH_WARMUP", DEFAULT_WARM_UP);
    let rounds = env_count("JOURNAL_BENCH_ROUNDS", DEFAULT_ROUNDS).clamp(1, iters.max(1));
    let per_round = iters / rounds;
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let snapshot = snapshot_json();
    println!(
        "journal_fsync: {} commits per case in {rounds} interleaved rounds, after {warm_up} warm-up; \
         snapshot {} bytes",
        per_round * rounds,
        snapshot.len()
    );
    println!("temp dir: {}", dir.path().display());

    let names = [
        "(a) Journal::record_transition",
        "(b) INSERT+COMMIT, sqlx pool of 1",
        "(b') INSERT+COMMIT, bare SqliteConnection",
    ];
    let timings = rt.block_on(async {
        let mut cases = [
            open_journal(&dir.path().join("journal.sqlite"), &snapshot).await?,
            open_pool(&dir.path().join("plain-pool.sqlite")).await?,
            open_conn(&dir.path().join("plain-conn.sqlite")).await?,
        ];
        for case in &mut cases {
            for i in 0..warm_up {
                case.commit(i, &snapshot).await?;
            }
        }
        let mut timings: [Vec<Duration>; 3] = Default::default();
        let mut i = warm_up;
        for _ in 0..rounds {
            for (case, times) in cases.iter_mut().zip(&mut timings) {
                let start = Instant::now();
                for _ in 0..per_round {
                    case.commit(i, &snapshot).await?;
                    i += 1;
                }
                times.push(start.elapsed());
            }
        }
        Ok::<_, BoxError>(timings)
    })?;

    println!();
    println!("{:<44} {:>12} {:>10} {:>14}", "case", "mean ns/op", "ops/s", "median ns/op");
    let mut means = Vec::new();
    for (name, times) in names.iter().zip(&timings) {
        let total: Duration = times.iter().sum();
        let ops = f64::from(per_round * rounds);
        let mean_ns = total.as_nanos() as f64 / ops;
        let mut per_op: Vec<f64> = times.iter().map(|d| d.as_nanos() as f64 / f64::from(per_round)).collect();
        per_op.sort_by(f64::total_cmp);
        let median = per_op.get(per_op.len() / 2).copied().unwrap_or(0.0);
        println!("{name:<44} {mean_ns:>12.0} {:>10.0} {median:>14.0}", 1e9 / mean_ns);
        means.push(mean_ns);
    }
    if let [a, b, b_bare] = means[..] {
        println!();
        println!("(c) ratio (a)/(b)   = {:.2}x  (what the journal adds to a bare fsync'd commit)", a / b);
        println!("    ratio (b)/(b')  = {:.2}x  (what the pool of one costs)", b / b_bare);
    }
    Ok(())
}

fn env_count(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A payment snapshot of about 1.5 KB, shaped like the runtime's serialised `Payment`.
fn snapshot_json() -> String {
    let lines: Vec<_> = (0..8)
        .map(|i| {
            let utility = ["water", "power", "gas"][i % 3];
            serde_json::json!({
                "utility": utility,
                "biller": format!("SH-BILLER-{i:02}"),
                "account": format!("31{i:08}****"),
                "amount_fen": 4_115 + i,
                "bill_version": format!("2024-05-v{i}"),
                "biller_ref": format!("BR20240501{i:012}"),
            })
        })
        .collect();
    serde_json::json!({
        "order_ref": "YZ20240501080000SH00010001",
        "kiosk_id": "SH-0001",
        "state": "PAY_PENDING",
        "channel": "wechat",
        "out_trade_no": "YZ20240501080000SH00010001P1",
        "auth_code_sha256": "9f2b5c0e4c7d3a1b8e6f0a2d4c6e8b0a1c3e5f7a9b1d3f5e7a9c1e3b5d7f9a1c",
        "amount_fen": 24_705,
        "attempt": 2,
        "deadline_ms": T0 + 45_000,
        "lines": lines,
        "history": ["ORDERED", "PAY_SENT", "PAY_PENDING"],
    })
    .to_string()
}

async fn open_journal(path: &Path, snapshot: &str) -> Result<Case, BoxError> {
    let j = Journal::open(path).await?;
    j.create_payment(&NewPayment {
        id: "P1".into(),
        kiosk_id: "SH-0001".into(),
        created_at: T0,
        total_fen: 24_705,
        channel: Some("wechat".into()),
        state: "ORDERED".into(),
        terminal: false,
        parked: false,
        next_deadline: None,
        snapshot: snapshot.into(),
        event: "confirm".into(),
        effects: "none".into(),
        keys: Vec::new(),
    })
    .await?;
    let t = TransitionRecord {
        expected_from: None,
        expected_seq: None,
        payment_id: "P1".into(),
        at: T0,
        to_state: "PAY_PENDING".into(),
        terminal: false,
        parked: false,
        next_deadline: Some(T0 + 45_000),
        channel: None,
        snapshot: snapshot.into(),
        event: "query: USERPAYING".into(),
        effects: "arm timer; query in 5 s".into(),
        keys: Vec::new(),
    };
    Ok(Case::Journal(Box::new(j), Box::new(t)))
}

/// Plain SQLite with the journal's own settings (WAL, `synchronous=FULL`), so the cases differ
/// only in what the journal does on top.
fn plain_options(path: &Path) -> SqliteConnectOptions {
    Journal::connect_options(path)
}

async fn open_pool(path: &Path) -> Result<Case, BoxError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(plain_options(path))
        .await?;
    pool.execute(CREATE).await?;
    Ok(Case::Pool(pool))
}

async fn open_conn(path: &Path) -> Result<Case, BoxError> {
    let mut conn = plain_options(path).connect().await?;
    conn.execute(CREATE).await?;
    Ok(Case::Conn(conn))
}
