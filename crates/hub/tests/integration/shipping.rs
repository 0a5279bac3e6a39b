//! Journal shipping end to end: real kiosk journals (SQLite), the real shipper over mutual TLS,
//! the real hub on PostgreSQL. The central copy must equal the kiosk's, row for row, however the
//! shipping is interrupted; a tampered journal must raise an alert.

use crate::common;

use common::{central_rows, chain_state, kiosk_scalar, open_alerts, raw, TestHub};
use fleet::wire::{Head, ShipBatch, ShippedTransition};

/// Every central row equals the kiosk's, hash for hash.
async fn assert_central_equals_local(hub: &TestHub, kiosk: &common::TestKiosk) {
    let local = journal::OutboxReader::open(&kiosk.journal.path).await.unwrap();
    let rows = local.transitions_after(0, 100_000).await.unwrap();
    let central: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM transitions WHERE kiosk_id = $1 ORDER BY seq")
            .bind(&kiosk.id)
            .fetch_all(hub.pool())
            .await
            .unwrap();
    let local: Vec<(i64, String)> = rows.into_iter().map(|r| (r.seq, r.hash)).collect();
    assert_eq!(central, local, "the central journal is the kiosk's, no row lost or doubled");
}

#[tokio::test]
async fn a_paired_kiosk_ships_its_journal_and_the_hub_verifies_the_chain() {
    // 1,200 transitions: three batches.
    let (hub, kiosk) = TestHub::start_with_paid_kiosk("SH-XH-001", 400).await;
    let shipper = kiosk.shipper().await;
    let round = shipper.ship_pending().await.unwrap();
    assert_eq!(round.stored_through, 1_200);
    assert!(round.caught_up());
    assert_eq!(round.batches, 3);
    assert_eq!(shipper.mark().acked_seq, 1_200, "the hub's mark is kept on disk");
    assert_central_equals_local(&hub, &kiosk).await;
    assert_eq!(chain_state(hub.pool(), &kiosk.id).await, (1_200, 1_200, "intact".into()));
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![]);
    // The fleet's counters, kept as rows arrive, agree with the central journal.
    let summary = hub::fleet_view::summary(hub.pool()).await.unwrap();
    let counted: (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT payment_id) FROM transitions WHERE kiosk_id = $1")
            .bind(&kiosk.id)
            .fetch_one(hub.pool())
            .await
            .unwrap();
    assert_eq!((summary.transitions, summary.payments), counted);
    assert_eq!(counted, (1_200, 400));

    // Nothing new: a round sends nothing.
    let round = shipper.ship_pending().await.unwrap();
    assert_eq!((round.rows_sent, round.batches), (0, 0));
}

#[tokio::test]
async fn the_kiosk_keeps_journaling_with_the_hub_down_and_catches_up_exactly() {
    let (mut hub, mut kiosk) = TestHub::start_with_paid_kiosk("SH-XH-002", 10).await;
    kiosk.shipper().await.ship_pending().await.unwrap();

    hub.stop().await;
    kiosk.journal.pay(25).await; // payments go on: the journal never waits for the hub
    let shipper = kiosk.shipper().await;
    let offline = shipper.ship_pending().await.unwrap_err();
    assert!(offline.to_string().contains("cannot reach the hub"), "{offline}");
    assert_eq!(shipper.mark().acked_seq, 30, "the mark stays where the hub last acknowledged");

    hub.restart().await;
    // A new process (the kiosk restarted too): the mark comes from disk.
    let round = kiosk.shipper().await.ship_pending().await.unwrap();
    assert_eq!(round.stored_through, 105);
    assert_eq!(round.rows_sent, 75, "exactly the rows after the mark");
    assert_central_equals_local(&hub, &kiosk).await;
    assert_eq!(chain_state(hub.pool(), &kiosk.id).await, (105, 105, "intact".into()));
}

#[tokio::test]
async fn a_batch_sent_twice_is_stored_once() {
    let (hub, kiosk) = TestHub::start_with_paid_kiosk("SH-XH-003", 5).await;
    let reader = journal::OutboxReader::open(&kiosk.journal.path).await.unwrap();
    let head = reader.head().await.unwrap();
    let batch = ShipBatch {
        journal_id: reader.journal_id().await.unwrap(),
        head: Head { seq: head.seq, hash: head.hash },
        after_seq: 0,
        rows: reader
            .transitions_after(0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(ShippedTransition::from)
            .collect(),
    };
    // The answer to the first was lost: the kiosk sends the same batch again.
    assert_eq!(kiosk.client.ship(&batch).await.unwrap().stored_through, 15);
    assert_eq!(kiosk.client.ship(&batch).await.unwrap().stored_through, 15);
    assert_eq!(central_rows(hub.pool(), &kiosk.id).await, 15);
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![]);
}

#[tokio::test]
async fn a_hub_restored_from_an_older_backup_gets_the_missing_rows_again() {
    let (hub, mut kiosk) = TestHub::start_with_paid_kiosk("SH-XH-004", 20).await;
    let shipper = kiosk.shipper().await;
    shipper.ship_pending().await.unwrap();
    // The hub's database comes back from last night's backup: it holds only the first 30 rows.
    sqlx::query("DELETE FROM transitions WHERE kiosk_id = $1 AND seq > 30")
        .bind(&kiosk.id)
        .execute(hub.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE kiosks SET stored_through = 30, verified_seq = 30, verified_hash = (SELECT hash FROM transitions WHERE kiosk_id = $1 AND seq = 30) WHERE id = $1")
        .bind(&kiosk.id)
        .execute(hub.pool())
        .await
        .unwrap();
    kiosk.journal.pay(2).await;
    // The kiosk's cursor says 60; the hub answers 30; the kiosk goes back and resends.
    let round = kiosk.shipper().await.ship_pending().await.unwrap();
    assert_eq!(round.stored_through, 66);
    assert_central_equals_local(&hub, &kiosk).await;
    assert_eq!(chain_state(hub.pool(), &kiosk.id).await, (66, 66, "intact".into()));
}

/// An edited row breaks the chain centrally; the hub keeps checking past it, so a second edit
/// later is its own alert; the chain shows intact again once an operator has acknowledged both.
#[tokio::test]
async fn an_edited_row_not_yet_shipped_breaks_the_chain_centrally() {
    let (hub, mut kiosk) = TestHub::start_with_paid_kiosk("SH-XH-005", 4).await;
    kiosk.shipper().await.ship_pending().await.unwrap();
    kiosk.journal.pay(4).await;
    // Someone with the disk changes an amount before it is shipped.
    let mut raw = raw(&kiosk.journal.path).await;
    sqlx::query("DROP TRIGGER transitions_no_update").execute(&mut raw).await.unwrap();
    let edit = |seq: i64| {
        sqlx::query(
            "UPDATE transitions SET snapshot = replace(snapshot, '\"amount\":', '\"amount\":1') WHERE seq = $1",
        )
        .bind(seq)
    };
    edit(17).execute(&mut raw).await.unwrap();
    kiosk.shipper().await.ship_pending().await.unwrap();
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![("chain_break".into(), "seq 17".into())]);
    assert_eq!(chain_state(hub.pool(), &kiosk.id).await, (24, 24, "broken".into()));
    assert_eq!(central_rows(hub.pool(), &kiosk.id).await, 24, "the rows are kept as evidence");

    // Later, another edit: found on its own, not hidden behind the first.
    kiosk.journal.pay(2).await;
    edit(27).execute(&mut raw).await.unwrap();
    kiosk.shipper().await.ship_pending().await.unwrap();
    assert_eq!(
        open_alerts(hub.pool(), &kiosk.id).await,
        vec![("chain_break".into(), "seq 17".into()), ("chain_break".into(), "seq 27".into())]
    );
    assert_eq!(chain_state(hub.pool(), &kiosk.id).await, (30, 30, "broken".into()));

    let chain_alerts: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM alerts WHERE kiosk_id = $1 AND kind = 'chain_break' ORDER BY id")
            .bind(&kiosk.id)
            .fetch_all(hub.pool())
            .await
            .unwrap();
    hub::alerts::store::acknowledge(hub.pool(), chain_alerts[0], "li.audit").await.unwrap();
    assert_eq!(chain_state(hub.pool(), &kiosk.id).await.2, "broken", "one is still to be looked at");
    hub::alerts::store::acknowledge(hub.pool(), chain_alerts[1], "li.audit").await.unwrap();
    assert_eq!(chain_state(hub.pool(), &kiosk.id).await, (30, 30, "intact".into()));
}

/// A journal edited throughout: the first twenty problems of a batch are alerts of their own,
/// the rest one alert that sums them up, so they do not bury every other alert.
#[tokio::test]
async fn a_journal_edited_throughout_raises_a_bounded_number_of_alerts() {
    let (hub, kiosk) = TestHub::start_with_paid_kiosk("SH-XH-007", 10).await;
    let mut raw = raw(&kiosk.journal.path).await;
    sqlx::query("DROP TRIGGER transitions_no_update").execute(&mut raw).await.unwrap();
    sqlx::query(
        "UPDATE transitions SET snapshot = replace(snapshot, '\"amount\":', '\"amount\":1') WHERE seq BETWEEN 3 AND 28",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    kiosk.shipper().await.ship_pending().await.unwrap();
    let alerts = open_alerts(hub.pool(), &kiosk.id).await;
    assert_eq!(alerts.len(), 21, "{alerts:?}");
    assert!(alerts.contains(&("chain_break".into(), "seq 3".into())));
    assert!(alerts.contains(&("chain_break".into(), "seq 22".into())));
    assert!(alerts.contains(&("chain_break".into(), "seq 23–28".into())), "{alerts:?}");
    assert_eq!(chain_state(hub.pool(), &kiosk.id).await, (30, 30, "broken".into()));
}

#[tokio::test]
async fn a_deleted_row_is_a_gap_and_rewritten_shipped_history_is_a_fork() {
    let (hub, mut kiosk) = TestHub::start_with_paid_kiosk("SH-XH-006", 4).await;
    let shipper = kiosk.shipper().await;
    shipper.ship_pending().await.unwrap();
    kiosk.journal.pay(2).await;
    let mut raw = raw(&kiosk.journal.path).await;
    sqlx::query("DROP TRIGGER transitions_no_delete").execute(&mut raw).await.unwrap();
    sqlx::query("DELETE FROM transitions WHERE seq = 14").execute(&mut raw).await.unwrap();
    shipper.ship_pending().await.unwrap();
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![("chain_gap".into(), "seq 14–14".into())]);

    // History the hub already holds is rewritten, and the kiosk's mark reset to ship it again.
    sqlx::query("DROP TRIGGER transitions_no_update").execute(&mut raw).await.unwrap();
    sqlx::query("UPDATE transitions SET hash = '0' || substr(hash, 2) WHERE seq = 3")
        .execute(&mut raw)
        .await
        .unwrap();
    std::fs::remove_file(kiosk.journal.path.with_extension("sqlite.shipped")).unwrap();
    let again = kiosk.shipper().await.ship_pending().await.unwrap();
    assert_eq!(again.stored_through, 18, "the hub keeps its own copy and says so");
    let alerts = open_alerts(hub.pool(), &kiosk.id).await;
    assert!(alerts.contains(&("chain_fork".into(), String::new())), "{alerts:?}");
    let conflicts = "SELECT count(*) FROM chain_conflicts WHERE kiosk_id = $1";
    assert_eq!(kiosk_scalar(hub.pool(), conflicts, &kiosk.id).await, 1);
}

#[tokio::test]
async fn a_journal_rolled_back_to_an_older_copy_raises_a_rollback_alert() {
    let (hub, mut kiosk) = TestHub::start_with_paid_kiosk("SH-XH-007", 3).await;
    let old_copy = kiosk.dir.path().join("old.sqlite");
    // A copy as a backup tool makes it: the database file and its write-ahead log.
    std::fs::copy(&kiosk.journal.path, &old_copy).unwrap();
    std::fs::copy(kiosk.journal.path.with_extension("sqlite-wal"), old_copy.with_extension("sqlite-wal"))
        .unwrap();
    journal::Journal::open(&old_copy).await.unwrap().close().await;
    kiosk.journal.pay(3).await;
    kiosk.shipper().await.ship_pending().await.unwrap();
    // The journal file is swapped for the older copy (same journal id, fewer rows), and the
    // mark file stays as it was (18: the newer copy's).
    let shipped_mark = kiosk.journal.path.with_extension("sqlite.shipped");
    std::fs::copy(&shipped_mark, old_copy.with_extension("sqlite.shipped")).unwrap();
    let shipper = fleet::Shipper::open(&old_copy, kiosk.client.clone()).await.unwrap();
    shipper.ship_pending().await.unwrap();
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![("rollback".into(), String::new())]);

    // The old copy takes two more payments: six rows at seqs the hub holds from the other
    // history. Each reaches the hub, whole, as a conflict; none overwrites the central copy.
    let mut old = common::KioskJournal::reopen(&old_copy).await;
    old.pay(2).await;
    let round = shipper.ship_pending().await.unwrap();
    assert_eq!(round.rows_sent, 6, "the new history is offered, not skipped as held");
    let kept = "SELECT count(*) FROM chain_conflicts \
                WHERE kiosk_id = $1 AND offered_row IS NOT NULL AND seq BETWEEN 10 AND 15";
    assert_eq!(kiosk_scalar(hub.pool(), kept, &kiosk.id).await, 6);
    assert_eq!(central_rows(hub.pool(), &kiosk.id).await, 18, "the central copy is untouched");
    let alerts = open_alerts(hub.pool(), &kiosk.id).await;
    assert!(alerts.contains(&("chain_fork".into(), String::new())), "{alerts:?}");
    assert_eq!(shipper.ship_pending().await.unwrap().rows_sent, 0, "offered once, not again and again");
}

#[tokio::test]
async fn another_journal_shipped_by_the_same_kiosk_is_refused_and_raised() {
    let (hub, kiosk) = TestHub::start_with_paid_kiosk("SH-XH-008", 2).await;
    kiosk.shipper().await.ship_pending().await.unwrap();
    let mut other =
        common::KioskJournal::create(&kiosk.dir.path().join("other.sqlite"), "J-someone-else").await;
    other.pay(5).await;
    let round =
        fleet::Shipper::open(&other.path, kiosk.client.clone()).await.unwrap().ship_pending().await.unwrap();
    assert_eq!(round.stored_through, 6, "nothing of the other journal is stored");
    assert_eq!(central_rows(hub.pool(), &kiosk.id).await, 6);
    assert_eq!(
        open_alerts(hub.pool(), &kiosk.id).await,
        vec![("journal_replaced".into(), "J-someone-else".into())]
    );
}
