//! Staff commands (`yizhan recon`, `yizhan suspense`) journal beside the running kiosk. The
//! kiosk's writer adopts rows another process chained onto its tip, and refuses a tail that was
//! rewritten or not chained onto what it last wrote.

use crate::common;

use common::{forge_hash, fresh, one_payment_sent, ordered, to, T0};
use journal::{Journal, JournalError};

#[tokio::test]
async fn rows_another_process_chained_onto_the_tip_are_adopted() {
    let (dir, kiosk) = fresh().await;
    kiosk.create_payment(&ordered("P1", T0)).await.unwrap();
    let staff = Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
    staff.record_transition(&to("P1", T0 + 1, "PAY_SENT")).await.unwrap();
    staff.record_transition(&to("P1", T0 + 2, "PAID")).await.unwrap();
    // The kiosk still believes P1 is ORDERED (its hint); its next write reads the stored state.
    kiosk.record_transition(&to("P1", T0 + 3, "DONE")).await.unwrap();
    kiosk.create_payment(&ordered("P2", T0 + 4)).await.unwrap();
    let rows = kiosk.transitions("P1").await.unwrap();
    let states: Vec<&str> = rows.iter().map(|r| r.to_state.as_str()).collect();
    assert_eq!(states, ["ORDERED", "PAY_SENT", "PAID", "DONE"]);
    assert_eq!(rows[3].from_state, "PAID");
    let report = kiosk.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.rows, 5);
}

#[tokio::test]
async fn a_tail_rewritten_behind_the_writer_is_refused() {
    let (dir, kiosk) = one_payment_sent().await;
    forge_hash(&dir, 2).await;
    let error = kiosk.record_transition(&to("P1", T0 + 2, "PAID")).await.unwrap_err();
    assert!(matches!(error, JournalError::TailChanged { expected_seq: 2, found_seq: 2 }), "{error:?}");
}

#[tokio::test]
async fn rows_appended_that_do_not_chain_onto_the_tip_are_refused() {
    let (dir, kiosk) = fresh().await;
    kiosk.create_payment(&ordered("P1", T0)).await.unwrap();
    let mut raw = common::raw(&dir).await;
    // A forged row pointing at nothing the kiosk wrote.
    sqlx::query(
        "INSERT INTO transitions (seq, payment_id, at, from_state, to_state, event, effects, snapshot, prev_hash, hash)
         VALUES (2, 'P1', 1, 'ORDERED', 'DONE', 'forged', '[]', '{}', 'beef', 'cafe')",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    let error = kiosk.record_transition(&to("P1", T0 + 2, "PAID")).await.unwrap_err();
    assert!(matches!(error, JournalError::TailChanged { expected_seq: 1, found_seq: 2 }), "{error:?}");
}
