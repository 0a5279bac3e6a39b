//! A full disk: a write that SQLite refuses for want of space (SQLITE_FULL) changes nothing, and
//! once there is room again the same journal — same process, no restart — writes on, its chain
//! whole. Before the fix, SQLite's own rollback of the failed transaction left the journal's only
//! connection refusing every later write ("non-zero transaction depth") until a restart.

use crate::common;

use common::{fresh, ordered, to, T0};

#[tokio::test]
async fn a_write_refused_by_a_full_disk_changes_nothing_and_the_journal_writes_on_when_there_is_room() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P0", T0)).await.unwrap();
    j.simulate_full_disk(true).await.unwrap();
    // Rows until one needs a page the disk no longer has.
    let mut written = 0;
    let refused = loop {
        let id = format!("P{}", written + 1);
        match j.create_payment(&ordered(&id, T0 + 1 + written)).await {
            Ok(_) => written += 1,
            Err(error) => break (id, error),
        }
        assert!(written < 500, "the cap never bit");
    };
    assert!(refused.1.is_disk_full(), "{}", refused.1);
    assert!(j.get(&refused.0).await.unwrap().is_none(), "the refused payment left no row");
    // Still full: the next write that needs a page is refused too (on whatever connection).
    let mut more = 0;
    let still = loop {
        match j.create_payment(&ordered(&format!("Q{more}"), T0 + 500 + more)).await {
            Ok(_) => more += 1,
            Err(error) => break error,
        }
        assert!(more < 500, "the cap was lost with the connection");
    };
    assert!(still.is_disk_full(), "{still}");
    let head = j.chain_head().await.unwrap();
    assert_eq!(head.seq, 1 + written + more, "nothing refused was chained");

    // Staff free space: the very same journal writes again, continuing the chain.
    j.simulate_full_disk(false).await.unwrap();
    j.create_payment(&ordered(&refused.0, T0 + 900)).await.unwrap();
    j.record_transition(&to(&refused.0, T0 + 901, "PAY_SENT")).await.unwrap();
    let after = j.chain_head().await.unwrap();
    assert_eq!(after.seq, head.seq + 2);
    let report = j.verify_chain().await.unwrap();
    assert_eq!((report.rows as i64, report.first_broken), (after.seq, None));
}
