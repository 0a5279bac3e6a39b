//! Prints may repeat (R6); staff actions are an append-only audit trail.

use crate::common;

use common::{fresh, ordered, T0};
use journal::{JournalError, PrintKind, PrintRecord, StaffAction};

#[tokio::test]
async fn prints_repeat_and_are_listed_in_order() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    for (kind, at) in
        [(PrintKind::Receipt, T0 + 1), (PrintKind::Reprint, T0 + 2), (PrintKind::Reprint, T0 + 3)]
    {
        j.record_print(&PrintRecord { payment_id: "P1".into(), at, kind, outcome: "ok".into() })
            .await
            .unwrap();
    }
    let kinds: Vec<String> = j.prints("P1").await.unwrap().into_iter().map(|p| p.kind).collect();
    assert_eq!(kinds, ["receipt", "reprint", "reprint"]);

    let orphan =
        PrintRecord { payment_id: "NOPE".into(), at: T0, kind: PrintKind::Slip, outcome: "ok".into() };
    assert!(matches!(j.record_print(&orphan).await, Err(JournalError::UnknownPayment { .. })));
}

#[tokio::test]
async fn staff_actions_are_recorded_newest_first() {
    let (dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    let action = |at, payment_id: Option<&str>| StaffAction {
        at,
        staff_id: "S-07".into(),
        action: "resolve-suspense".into(),
        payment_id: payment_id.map(str::to_owned),
        detail: "matched T+1 statement".into(),
    };
    j.record_staff_action(&action(T0 + 1, Some("P1"))).await.unwrap();
    j.record_staff_action(&action(T0 + 2, None)).await.unwrap();
    let rows = j.staff_actions(10, 0).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.at).collect::<Vec<_>>(), [T0 + 2, T0 + 1]);
    assert_eq!(rows[1].payment_id.as_deref(), Some("P1"));

    let mut raw = common::raw(&dir).await;
    let delete = sqlx::query("DELETE FROM staff_actions").execute(&mut raw).await;
    assert!(delete.is_err(), "staff actions are append-only");
}
