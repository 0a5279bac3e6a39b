//! The cash box's memory in the journal: intakes written after every step, a custody row per
//! note that keeps a credit once given, and collections that count the box once. Real SQLite
//! files, reopened to show what survives.

use crate::common;

use common::{fresh, T0};
use journal::{IntakeRecord, Journal, NoteCustody, NoteRecord};

fn note(seq: i64, yuan: Option<i64>, state: NoteCustody) -> NoteRecord {
    NoteRecord { seq, value_fen: yuan.map(|y| y * 100), state }
}

fn intake<'a>(order_ref: &'a str, notes: &'a [NoteRecord], open: bool, at: i64) -> IntakeRecord<'a> {
    IntakeRecord { order_ref, order_json: "{}", intake_json: "{\"notes\":[]}", open, notes, at }
}

#[tokio::test]
async fn notes_are_kept_per_intake_and_a_collection_counts_the_box_once() {
    let (dir, j) = fresh().await;
    let cash = j.cash_box();
    let escrowed = [note(0, Some(50), NoteCustody::Escrowed)];
    cash.record_intake(&intake("A1", &escrowed, true, T0)).await.unwrap();
    let credited = [
        note(0, Some(50), NoteCustody::Credited),
        note(1, Some(100), NoteCustody::Returned),
        note(2, Some(20), NoteCustody::Credited),
    ];
    cash.record_intake(&intake("A1", &credited, false, T0 + 5)).await.unwrap();
    let held = [note(0, Some(10), NoteCustody::Stuck), note(-1, None, NoteCustody::Anomaly)];
    cash.record_intake(&intake("A2", &held, true, T0 + 9)).await.unwrap();
    assert_eq!(
        cash.open_intakes().await.unwrap().iter().map(|i| i.order_ref.as_str()).collect::<Vec<_>>(),
        ["A2"]
    );

    // A credited note stays credited; a closed intake is not reopened.
    let undo = [note(0, Some(50), NoteCustody::Returned)];
    assert!(cash.record_intake(&intake("A1", &undo, true, T0 + 6)).await.is_err());
    j.close().await;

    let j = Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
    let cash = j.cash_box();
    let notes = cash.notes_of("A1").await.unwrap();
    let states: Vec<_> = notes.iter().map(|n| (n.seq, n.value_fen, n.state, n.seen_at)).collect();
    assert_eq!(
        states,
        [
            (0, Some(5000), NoteCustody::Credited, T0),
            (1, Some(10_000), NoteCustody::Returned, T0 + 5),
            (2, Some(2000), NoteCustody::Credited, T0 + 5)
        ]
    );
    let count = cash.in_the_box().await.unwrap();
    assert_eq!((count.notes, count.sum_fen, count.unknown, count.uncertain), (3, 7000, 1, 1));
    assert_eq!(count.by_value.into_iter().collect::<Vec<_>>(), [(2000, 1), (5000, 1)]);

    // Not while a customer's notes are still moving: A2 is open.
    assert!(cash.collect("S001", T0 + 50).await.is_err());
    cash.record_intake(&intake("A2", &held, false, T0 + 60)).await.unwrap();
    let collection = cash.collect("S001", T0 + 100).await.unwrap();
    assert_eq!((collection.count.notes, collection.count.sum_fen), (3, 7000));
    assert_eq!(cash.last_collection().await.unwrap().unwrap().count, collection.count);
    // Counted once: the box is empty on record now, and a second collection finds nothing.
    assert_eq!(cash.in_the_box().await.unwrap().notes, 0);
    let again = cash.collect("S001", T0 + 200).await.unwrap();
    assert_eq!((again.count.notes, again.count.sum_fen, again.id), (0, 0, collection.id + 1));
    assert!(cash.collect("", T0).await.is_err());
    // The heartbeat's read-only connection reads them, newest first, for the hub's count.
    let reader = journal::OutboxReader::open(&dir.path().join("journal.sqlite")).await.unwrap();
    let reported = reader.cash_collections(10).await.unwrap();
    assert_eq!(reported, [again, collection.clone()]);
    assert_eq!(reader.cash_collections(1).await.unwrap().len(), 1);
}

/// The custody trigger lets a note move only forward, on an intake still open too: what the
/// runtime could write by mistake is refused by the file itself.
#[tokio::test]
async fn a_notes_custody_only_moves_forward() {
    let (_dir, j) = fresh().await;
    let cash = j.cash_box();
    let write = |notes: Vec<NoteRecord>, at: i64| {
        let cash = j.cash_box();
        async move { cash.record_intake(&intake("B1", &notes, true, at)).await }
    };
    use NoteCustody::*;
    write(vec![note(0, Some(50), Escrowed), note(1, Some(20), Escrowed), note(2, Some(10), Escrowed)], T0)
        .await
        .unwrap();
    write(vec![note(0, Some(50), Credited), note(1, Some(20), Returned), note(2, Some(10), Stuck)], T0 + 1)
        .await
        .unwrap();
    // A credit is never taken back, a returned note never credited, a value never changed.
    assert!(write(vec![note(0, Some(50), Returned)], T0 + 2).await.is_err());
    assert!(write(vec![note(1, Some(20), Credited)], T0 + 2).await.is_err());
    assert!(write(vec![note(2, Some(10), Escrowed)], T0 + 2).await.is_err());
    // A stuck note that reached the box after all is credited.
    write(vec![note(2, Some(10), Credited)], T0 + 3).await.unwrap();
    let states: Vec<_> = cash.notes_of("B1").await.unwrap().iter().map(|n| n.state).collect();
    assert_eq!(states, [Credited, Returned, Credited]);
}

/// Found by the soak: a cash customer who inserted nothing left an intake and no payment, and
/// after a restart the next order took the same number. An intake's number is used.
#[tokio::test]
async fn an_order_number_used_by_a_cash_intake_alone_is_never_handed_out_again() {
    let (_dir, j) = fresh().await;
    j.create_payment(&common::ordered("YZ0001261123104205731", T0)).await.unwrap();
    let nothing_inserted = intake("YZ0001261123104205732", &[], false, T0 + 1);
    j.cash_box().record_intake(&nothing_inserted).await.unwrap();
    let greatest = j.greatest_payment_id("YZ0001", 21).await.unwrap();
    assert_eq!(greatest.as_deref(), Some("YZ0001261123104205732"));
}
