//! A payment created and moved through states is stored, and reads back the same after reopen.

use crate::common;

use common::{fresh, ordered, terminal_to, to, T0};
use journal::{Journal, JournalError, NewKey, Seq};

#[tokio::test]
async fn create_then_transitions_then_reload() {
    let (dir, j) = fresh().await;
    assert_eq!(j.create_payment(&ordered("P1", T0)).await.unwrap(), Seq(1));

    let mut sent = to("P1", T0 + 1_000, "PAY_SENT");
    sent.channel = Some("wechat".into());
    sent.next_deadline = Some(T0 + 46_000);
    assert_eq!(j.record_transition(&sent).await.unwrap(), Seq(2));

    let mut paid = to("P1", T0 + 3_000, "PAID");
    paid.next_deadline = None;
    assert_eq!(j.record_transition(&paid).await.unwrap(), Seq(3));

    let done = terminal_to("P1", T0 + 5_000, "DONE");
    j.record_transition(&done).await.unwrap();
    j.close().await;

    let j = Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
    let p = j.get("P1").await.unwrap().expect("payment stored");
    assert_eq!(p.state, "DONE");
    assert!(p.terminal);
    assert!(!p.parked);
    assert_eq!(p.channel.as_deref(), Some("wechat"), "None keeps the channel chosen at scan");
    assert_eq!(p.next_deadline, None);
    assert_eq!(p.created_at, T0);
    assert_eq!(p.updated_at, T0 + 5_000);
    assert_eq!(p.last_seq, 4);
    assert_eq!(p.total_fen, 12_345);
    assert_eq!(p.snapshot, done.snapshot);

    let ts = j.transitions("P1").await.unwrap();
    let moves: Vec<(&str, &str)> = ts.iter().map(|t| (t.from_state.as_str(), t.to_state.as_str())).collect();
    assert_eq!(moves, [("", "ORDERED"), ("ORDERED", "PAY_SENT"), ("PAY_SENT", "PAID"), ("PAID", "DONE")]);
    assert_eq!(ts[1].snapshot, sent.snapshot);
    assert_eq!(j.keys("P1").await.unwrap().len(), 1);
}

#[tokio::test]
async fn deadline_survives_reopen() {
    let (dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    let mut pending = to("P1", T0 + 2_000, "PAY_PENDING");
    pending.next_deadline = Some(T0 + 45_000);
    j.record_transition(&pending).await.unwrap();
    drop(j);

    let j = Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
    assert_eq!(j.get("P1").await.unwrap().unwrap().next_deadline, Some(T0 + 45_000));
}

#[tokio::test]
async fn unknown_payment_is_a_typed_error() {
    let (_dir, j) = fresh().await;
    let err = j.record_transition(&to("NOPE", T0, "PAID")).await.unwrap_err();
    assert!(matches!(err, JournalError::UnknownPayment { ref id } if id == "NOPE"), "{err:?}");
    let err = j.add_keys("NOPE", T0, &[NewKey::new("k", "refund")]).await.unwrap_err();
    assert!(matches!(err, JournalError::UnknownPayment { .. }), "{err:?}");
    // The failed write must not have disturbed the chain.
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    assert!(j.verify_chain().await.unwrap().is_intact());
}

#[tokio::test]
async fn duplicate_order_ref_is_rejected() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    let mut again = ordered("P1", T0 + 1);
    again.keys = vec![NewKey::new("fresh-key", "pay")];
    let err = j.create_payment(&again).await.unwrap_err();
    assert!(matches!(err, JournalError::PaymentExists { ref id } if id == "P1"), "{err:?}");
    assert!(j.find_key("fresh-key").await.unwrap().is_none(), "nothing written");
    assert_eq!(j.transitions("P1").await.unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_records_are_refused_before_the_database() {
    let (_dir, j) = fresh().await;
    let mut bad = ordered("P1", T0);
    bad.snapshot = "{not json".into();
    assert!(matches!(j.create_payment(&bad).await, Err(JournalError::InvalidSnapshot(_))));

    let mut bad = ordered("P1", T0);
    bad.terminal = true;
    bad.parked = true;
    assert!(matches!(j.create_payment(&bad).await, Err(JournalError::InvalidRecord { .. })));

    let mut bad = ordered("P1", T0);
    bad.event = "x".repeat(journal::MAX_SUMMARY_BYTES + 1);
    assert!(matches!(j.create_payment(&bad).await, Err(JournalError::InvalidRecord { .. })));

    assert!(j.get("P1").await.unwrap().is_none());
    assert_eq!(j.verify_chain().await.unwrap().rows, 0);
}

#[tokio::test]
async fn list_is_newest_first_and_paged() {
    let (_dir, j) = fresh().await;
    for i in 0..5 {
        j.create_payment(&ordered(&format!("P{i}"), T0 + i)).await.unwrap();
    }
    let ids = |rows: Vec<journal::PaymentRow>| rows.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(ids(j.list(2, 0).await.unwrap()), ["P4", "P3"]);
    assert_eq!(ids(j.list(2, 2).await.unwrap()), ["P2", "P1"]);
    assert_eq!(ids(j.list(10, 4).await.unwrap()), ["P0"]);
}

#[tokio::test]
async fn open_creates_missing_parent_folders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("var").join("lib").join("yizhan").join("journal.sqlite");
    let j = Journal::open(&path).await.unwrap();
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    assert!(path.exists());
}

/// A start continues order numbers after the greatest of this kiosk's own: another number's
/// (a renumbered kiosk, an imported row) neither hides nor replaces it.
#[tokio::test]
async fn the_greatest_order_number_is_of_this_kiosk_number_only() {
    let (_dir, j) = common::fresh().await;
    for id in ["YZ0001261123104205731", "YZ0001261123104205999", "YZ9999261231235959999", "YZ00012612"] {
        j.create_payment(&common::ordered(id, common::T0)).await.unwrap();
    }
    let greatest = j.greatest_payment_id("YZ0001", 21).await.unwrap();
    assert_eq!(greatest.as_deref(), Some("YZ0001261123104205999"));
    assert_eq!(j.greatest_payment_id("YZ0002", 21).await.unwrap(), None);
}
