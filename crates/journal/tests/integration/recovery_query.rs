//! The restart scan returns unfinished, unparked payments oldest first (payments.md §8, R5).

use crate::common;

use common::{fresh, ordered, parked_to, terminal_to, to, T0};

#[tokio::test]
async fn unfinished_excludes_terminal_and_parked_and_is_oldest_first() {
    let (_dir, j) = fresh().await;
    // Created out of order on purpose: ordering must come from created_at, not insertion.
    for (id, created) in [("C", T0 + 30), ("A", T0 + 10), ("D", T0 + 40), ("B", T0 + 20), ("E", T0 + 50)] {
        j.create_payment(&ordered(id, created)).await.unwrap();
    }
    j.record_transition(&to("C", T0 + 100, "PAY_PENDING")).await.unwrap();

    j.record_transition(&terminal_to("B", T0 + 100, "DONE")).await.unwrap();
    j.record_transition(&parked_to("D", T0 + 100, "SUSPENSE")).await.unwrap();
    j.record_transition(&parked_to("A", T0 + 100, "AWAIT_CARD_WRITE")).await.unwrap();

    let unfinished: Vec<(String, String)> =
        j.load_unfinished().await.unwrap().into_iter().map(|p| (p.id, p.state)).collect();
    assert_eq!(unfinished, [("C".into(), "PAY_PENDING".into()), ("E".into(), "ORDERED".into())]);

    let parked: Vec<String> = j.load_parked().await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(parked, ["A", "D"]);

    // Unparking (staff resolved the suspense back into a working state) returns it to the scan.
    j.record_transition(&to("D", T0 + 200, "REVERSING")).await.unwrap();
    let ids: Vec<String> = j.load_unfinished().await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(ids, ["C", "D", "E"]);
}

#[tokio::test]
async fn recovery_query_uses_its_index() {
    use sqlx::Row;
    let (dir, j) = fresh().await;
    j.create_payment(&ordered("A", T0)).await.unwrap();
    let mut raw = common::raw(&dir).await;
    let plan = sqlx::query(
        "EXPLAIN QUERY PLAN SELECT id FROM payments WHERE terminal = 0 AND parked = 0 ORDER BY created_at, id",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap();
    let detail: String = plan.iter().map(|r| r.get::<String, _>("detail")).collect::<Vec<_>>().join("; ");
    assert!(detail.contains("payments_unfinished"), "{detail}");
    assert!(!detail.contains("TEMP B-TREE"), "no sort step expected: {detail}");
}
