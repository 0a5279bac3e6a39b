//! Power-cut simulation: with `YIZHAN_CRASH_AFTER_COMMIT=N` the writer SIGKILLs itself right after
//! its N-th commit; after reopening, exactly the first N commits are there and the chain holds.
//!
//! The parent test re-runs this test binary, selecting only `child_writer`, with the variable set
//! and `JOURNAL_CRASH_CHILD_DB` naming the database. Run normally, `child_writer` does nothing.
#![cfg(unix)]

use crate::common;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use common::{ordered, to, T0};
use journal::{Journal, CRASH_ENV};

const CHILD_DB_ENV: &str = "JOURNAL_CRASH_CHILD_DB";
const STATES: [&str; 5] = ["PAY_SENT", "PAY_PENDING", "PAID", "WRITEOFF_SENT", "WRITTEN_OFF"];

/// The child: one payment created, then five transitions (six counted commits in all).
#[tokio::test]
async fn child_writer() {
    let Ok(db) = std::env::var(CHILD_DB_ENV) else { return };
    let j = Journal::open(std::path::Path::new(&db)).await.unwrap();
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    for (i, state) in (1_i64..).zip(STATES) {
        j.record_transition(&to("P1", T0 + i, state)).await.unwrap();
    }
    // Reached only if the crash did not fire.
    std::process::exit(3);
}

fn run_child(db: &std::path::Path, crash_after: &str) -> std::process::ExitStatus {
    Command::new(std::env::current_exe().unwrap())
        .args(["crash_injection::child_writer", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB_ENV, db)
        .env(CRASH_ENV, crash_after)
        .status()
        .unwrap()
}

#[tokio::test]
async fn sigkill_after_nth_commit_keeps_that_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.sqlite");

    let status = run_child(&db, "3");
    const SIGKILL: i32 = 9;
    assert_eq!(status.signal(), Some(SIGKILL), "child should die by SIGKILL: {status:?}");

    let j = Journal::open(&db).await.unwrap();
    let p = j.get("P1").await.unwrap().expect("first commit durable");
    assert_eq!(p.state, STATES[1], "the 3rd commit (2nd transition) is durable, nothing after it");
    assert_eq!(p.last_seq, 3);
    assert_eq!(j.transitions("P1").await.unwrap().len(), 3);
    let report = j.verify_chain().await.unwrap();
    assert_eq!((report.rows, report.first_broken), (3, None));
    assert_eq!(j.load_unfinished().await.unwrap().len(), 1, "recovery sees the payment");

    // Recovery goes on writing after the crash, and the chain still holds.
    j.record_transition(&to("P1", T0 + 100, "REVERSING")).await.unwrap();
    assert!(j.verify_chain().await.unwrap().is_intact());
}

#[tokio::test]
async fn unset_or_out_of_range_never_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.sqlite");
    for value in ["", "0", "not-a-number", "99"] {
        let _ = std::fs::remove_file(&db);
        let _ = std::fs::remove_file(db.with_extension("sqlite-wal"));
        let _ = std::fs::remove_file(db.with_extension("sqlite-shm"));
        let status = run_child(&db, value);
        assert_eq!(status.code(), Some(3), "{value:?} must not crash: {status:?}");
    }
}

#[tokio::test]
async fn commits_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
    let before = j.commits_in_this_process();
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    j.record_transition(&to("P1", T0 + 1, "PAY_SENT")).await.unwrap();
    // A failed write is not a commit. Other tests in this binary may commit concurrently, hence >=.
    let _ = j.record_transition(&to("NOPE", T0, "PAID")).await;
    assert!(j.commits_in_this_process() >= before + 2);
}
