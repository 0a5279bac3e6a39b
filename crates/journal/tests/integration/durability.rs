//! The live connection really runs WAL with synchronous=FULL and foreign keys on.

use crate::common;

use journal::Durability;

#[tokio::test]
async fn pragmas_are_wal_full_and_foreign_keys() {
    let (_dir, j) = common::fresh().await;
    let d = j.durability().await.unwrap();
    assert_eq!(d, Durability { journal_mode: "wal".into(), synchronous: 2, foreign_keys: 1 });
}
