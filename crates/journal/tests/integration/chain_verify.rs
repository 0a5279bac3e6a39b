//! The hash chain: intact journals verify; an edited or deleted row is detected.

use crate::common;

use common::{forge_hash, fresh, one_payment_sent, ordered, tamper, to, T0};
use journal::{BreakReason, ChainBreak, GENESIS};

async fn three_rows() -> (tempfile::TempDir, journal::Journal) {
    let (dir, j) = one_payment_sent().await;
    j.record_transition(&to("P1", T0 + 2, "PAID")).await.unwrap();
    (dir, j)
}

#[tokio::test]
async fn intact_chain_verifies_and_links() {
    let (_dir, j) = three_rows().await;
    let report = j.verify_chain().await.unwrap();
    assert_eq!(report.rows, 3);
    assert_eq!(report.first_broken, None);

    let ts = j.transitions("P1").await.unwrap();
    assert_eq!(ts[0].prev_hash, GENESIS);
    assert_eq!(ts[1].prev_hash, ts[0].hash);
    assert_eq!(ts[2].prev_hash, ts[1].hash);
    assert_eq!(j.chain_head().await.unwrap().hash, ts[2].hash);
}

#[tokio::test]
async fn empty_journal_verifies() {
    let (_dir, j) = fresh().await;
    let report = j.verify_chain().await.unwrap();
    assert_eq!((report.rows, report.first_broken), (0, None));
    assert_eq!(j.chain_head().await.unwrap().hash, GENESIS);
}

#[tokio::test]
async fn triggers_refuse_update_and_delete() {
    let (dir, _j) = three_rows().await;
    let mut raw = common::raw(&dir).await;
    let update = sqlx::query("UPDATE transitions SET event = 'x' WHERE seq = 2").execute(&mut raw).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM transitions WHERE seq = 2").execute(&mut raw).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn edited_row_is_detected() {
    let (dir, j) = three_rows().await;
    tamper(
        &dir,
        &[
            "DROP TRIGGER transitions_no_update",
            "UPDATE transitions SET event = 'refund 0 fen' WHERE seq = 2",
        ],
    )
    .await;

    let report = j.verify_chain().await.unwrap();
    assert_eq!(report.rows, 3);
    assert_eq!(report.first_broken, Some(ChainBreak { seq: 2, reason: BreakReason::HashMismatch }));
}

#[tokio::test]
async fn edit_with_rehash_breaks_the_next_link() {
    let (dir, j) = three_rows().await;
    // A forger who also replaces the hash still cannot fix the next row's prev_hash.
    forge_hash(&dir, 2).await;
    let broken = j.verify_chain().await.unwrap().first_broken.unwrap();
    assert_eq!(broken.seq, 2);
}

#[tokio::test]
async fn deleted_middle_row_is_detected() {
    let (dir, j) = three_rows().await;
    tamper(&dir, &["DROP TRIGGER transitions_no_delete", "DELETE FROM transitions WHERE seq = 2"]).await;

    let report = j.verify_chain().await.unwrap();
    assert_eq!(report.rows, 2);
    assert_eq!(report.first_broken, Some(ChainBreak { seq: 3, reason: BreakReason::Gap { expected: 2 } }));
}

#[tokio::test]
async fn deleted_last_row_is_detected() {
    let (dir, j) = three_rows().await;
    tamper(&dir, &["DROP TRIGGER transitions_no_delete", "DELETE FROM transitions WHERE seq = 3"]).await;

    let report = j.verify_chain().await.unwrap();
    assert_eq!(
        report.first_broken,
        Some(ChainBreak { seq: 3, reason: BreakReason::TruncatedTail { last_issued: 3 } })
    );
}

#[tokio::test]
async fn long_chain_verifies_across_pages() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    for i in 1..1_200 {
        j.record_transition(&to("P1", T0 + i, if i % 2 == 0 { "PAY_PENDING" } else { "PAY_SENT" }))
            .await
            .unwrap();
    }
    let report = j.verify_chain().await.unwrap();
    assert_eq!((report.rows, report.first_broken), (1_200, None));
}
