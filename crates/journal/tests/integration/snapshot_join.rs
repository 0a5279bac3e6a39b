//! The latest snapshot lives only in `transitions` and is read through `payments.last_seq`; the
//! writer's in-memory hints never decide `from_state`; a truncated tail is still detected without
//! `sqlite_sequence`.

use crate::common;

use common::{fresh, one_payment_sent, ordered, parked_to, snapshot, tamper, terminal_to, to, T0};
use journal::{BreakReason, ChainBreak, JournalError};

#[tokio::test]
async fn latest_snapshot_is_read_through_the_join_after_many_transitions() {
    let (dir, j) = fresh().await;
    for id in ["A", "B", "C"] {
        j.create_payment(&ordered(id, T0)).await.unwrap();
    }
    // Interleave the payments so their latest rows are scattered over the chain.
    for i in 1..=300_i64 {
        for id in ["A", "B", "C"] {
            let mut t = to(id, T0 + i, &format!("S{i}"));
            t.snapshot = serde_json::json!({ "order_ref": id, "step": i }).to_string();
            j.record_transition(&t).await.unwrap();
        }
    }
    let done = terminal_to("B", T0 + 1_000, "DONE");
    j.record_transition(&done).await.unwrap();
    let parked = parked_to("C", T0 + 1_000, "SUSPENSE");
    j.record_transition(&parked).await.unwrap();

    let a = j.get("A").await.unwrap().unwrap();
    assert_eq!(a.snapshot, serde_json::json!({ "order_ref": "A", "step": 300 }).to_string());
    assert_eq!(a.state, "S300");
    let last = j.transitions("A").await.unwrap().pop().unwrap();
    assert_eq!((last.seq, &last.snapshot), (a.last_seq, &a.snapshot));

    let unfinished = j.load_unfinished().await.unwrap();
    assert_eq!(unfinished.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["A"]);
    assert_eq!(unfinished[0], a);
    let parked_rows = j.load_parked().await.unwrap();
    assert_eq!(parked_rows.len(), 1);
    assert_eq!(parked_rows[0].snapshot, parked.snapshot);
    let listed = j.list(10, 0).await.unwrap();
    let b = listed.iter().find(|p| p.id == "B").unwrap();
    assert_eq!((b.state.as_str(), &b.snapshot), ("DONE", &done.snapshot));

    // The snapshot is stored once: the payments table has no copy of it.
    let mut raw = common::raw(&dir).await;
    let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('payments')")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    assert!(!cols.iter().any(|c| c == "snapshot"), "{cols:?}");

    // Same answers after a reopen (no hints, no cached tip).
    drop(j);
    let j = journal::Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
    assert_eq!(j.get("A").await.unwrap().unwrap(), a);
    assert!(j.verify_chain().await.unwrap().is_intact());
}

#[tokio::test]
async fn from_state_is_what_was_stored_even_if_the_row_changed_behind_the_writer() {
    let (dir, j) = one_payment_sent().await;

    // Another process (a repair tool, a bug) moves the row; the writer's hint is now stale.
    tamper(&dir, &["UPDATE payments SET state = 'SUSPENSE', parked = 1 WHERE id = 'P1'"]).await;

    j.record_transition(&to("P1", T0 + 2, "PAY_PENDING")).await.unwrap();
    let ts = j.transitions("P1").await.unwrap();
    assert_eq!(ts[2].from_state, "SUSPENSE", "from_state comes from the stored row, not the hint");
    let p = j.get("P1").await.unwrap().unwrap();
    assert_eq!((p.state.as_str(), p.parked), ("PAY_PENDING", false), "flags follow the transition");
    assert_eq!(j.load_unfinished().await.unwrap().len(), 1, "back in the restart scan");
    assert!(j.load_parked().await.unwrap().is_empty());
    assert!(j.verify_chain().await.unwrap().is_intact());
}

#[tokio::test]
async fn flag_changes_keep_the_partial_indexes_right() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    let ids = |rows: Vec<journal::PaymentRow>| rows.into_iter().map(|p| p.id).collect::<Vec<_>>();

    j.record_transition(&parked_to("P1", T0 + 1, "AWAIT_CARD_WRITE")).await.unwrap();
    // Same flags again: the UPDATE leaves terminal/parked alone.
    j.record_transition(&parked_to("P1", T0 + 2, "SUSPENSE")).await.unwrap();
    assert!(j.load_unfinished().await.unwrap().is_empty());
    assert_eq!(ids(j.load_parked().await.unwrap()), ["P1"]);

    j.record_transition(&terminal_to("P1", T0 + 3, "DONE")).await.unwrap();
    assert!(j.load_unfinished().await.unwrap().is_empty());
    assert!(j.load_parked().await.unwrap().is_empty());
    let p = j.get("P1").await.unwrap().unwrap();
    assert!(p.terminal && !p.parked);
}

#[tokio::test]
async fn truncated_tail_is_detected_without_sqlite_sequence() {
    let (dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    j.create_payment(&ordered("P2", T0 + 1)).await.unwrap();
    for i in 0..4 {
        j.record_transition(&to("P1", T0 + 10 + i, "PAY_PENDING")).await.unwrap();
        j.record_transition(&to("P2", T0 + 10 + i, "PAY_PENDING")).await.unwrap();
    }
    assert_eq!(j.chain_head().await.unwrap().seq, 10);

    tamper(&dir, &["DROP TRIGGER transitions_no_delete", "DELETE FROM transitions WHERE seq > 7"]).await;

    let report = j.verify_chain().await.unwrap();
    assert_eq!(report.rows, 7);
    assert_eq!(
        report.first_broken,
        Some(ChainBreak { seq: 8, reason: BreakReason::TruncatedTail { last_issued: 10 } })
    );
    // A payment whose latest row is gone is reported, not silently skipped by the restart scan.
    let err = j.get("P2").await.unwrap_err();
    assert!(matches!(err, JournalError::MissingTransition { ref id, seq: 10 } if id == "P2"), "{err:?}");
    assert!(matches!(j.load_unfinished().await, Err(JournalError::MissingTransition { .. })));

    // A reopened journal never reuses the truncated seqs.
    drop(j);
    let j = journal::Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
    j.create_payment(&ordered("P3", T0 + 100)).await.unwrap();
    assert_eq!(j.chain_head().await.unwrap().seq, 11);
    assert!(!j.verify_chain().await.unwrap().is_intact());
}

#[tokio::test]
async fn unknown_payment_after_hints_are_warm_is_still_typed() {
    let (_dir, j) = one_payment_sent().await;
    let err = j.record_transition(&to("P9", T0 + 2, "PAID")).await.unwrap_err();
    assert!(matches!(err, JournalError::UnknownPayment { ref id } if id == "P9"), "{err:?}");
    j.record_transition(&to("P1", T0 + 3, "PAID")).await.unwrap();
    let ts = j.transitions("P1").await.unwrap();
    assert_eq!(ts[2].from_state, "PAY_SENT");
    assert_eq!(ts[2].snapshot, snapshot("P1", "PAID"));
    assert!(j.verify_chain().await.unwrap().is_intact());
}
