//! Reopening the journal continues the chain from the stored last hash.

use crate::common;

use common::{ordered, to, T0};
use journal::Journal;

#[tokio::test]
async fn chain_continues_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");

    let j = Journal::open(&path).await.unwrap();
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    j.record_transition(&to("P1", T0 + 1, "PAY_SENT")).await.unwrap();
    let head_before = j.chain_head().await.unwrap();
    j.close().await;

    for round in 0..3_i64 {
        let j = Journal::open(&path).await.unwrap();
        let id = format!("Q{round}");
        let seq = j.create_payment(&ordered(&id, T0 + 10 + round)).await.unwrap();
        assert_eq!(seq.0, 3 + round);
        if round == 0 {
            let first_after = &j.transitions(&id).await.unwrap()[0];
            assert_eq!(first_after.prev_hash, head_before.hash, "new row links to the pre-reopen tip");
        }
        drop(j); // no clean close: the chain must not depend on it
    }

    let j = Journal::open(&path).await.unwrap();
    let report = j.verify_chain().await.unwrap();
    assert_eq!((report.rows, report.first_broken), (5, None));
}
