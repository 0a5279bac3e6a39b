//! Statements kept as received, before parsing: the same bytes once, a changed file in each
//! version with the newest in force, and the hash the evidence will name.

use crate::common;

use chrono::NaiveDate;
use common::TestHub;

#[tokio::test]
async fn a_statement_is_kept_whole_once_per_version_with_its_hash() {
    let hub = TestHub::start().await;
    let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    // A WeChat bill's first line, with the backticks and a comma inside a field, as received.
    let early = "交易时间,公众账号ID,商户号\n`2026-12-05 10:00:00,`wx00,`1000\n".as_bytes().to_vec();
    let first = hub::statements::store(hub.pool(), "1000", "wechat", day, &early).await.unwrap();
    assert!(first.new);
    assert_eq!(first.sha256, fleet::package::sha256_hex(&early));
    let again = hub::statements::store(hub.pool(), "1000", "wechat", day, &early).await.unwrap();
    assert_eq!((again.id, again.new), (first.id, false), "the same bytes are the same row");

    // Fetched again once final, with one more row: another version, now the one in force.
    let mut fin = early.clone();
    fin.extend_from_slice("`2026-12-05 23:59:59,`wx00,`1000\n".as_bytes());
    let second = hub::statements::store(hub.pool(), "1000", "wechat", day, &fin).await.unwrap();
    assert!(second.new && second.id != first.id);
    let latest = hub::statements::latest(hub.pool(), "1000", "wechat", day).await.unwrap().unwrap();
    assert_eq!((latest.body, latest.sha256), (fin.clone(), second.sha256));
    // Received again: the same version, confirmed later.
    let confirmed = hub::statements::store(hub.pool(), "1000", "wechat", day, &fin).await.unwrap();
    assert_eq!((confirmed.id, confirmed.new), (second.id, false));
    let again = hub::statements::latest(hub.pool(), "1000", "wechat", day).await.unwrap().unwrap();
    assert!(again.confirmed_at >= latest.confirmed_at);
    // Another merchant's or day's file is its own.
    assert!(hub::statements::latest(hub.pool(), "2000", "wechat", day).await.unwrap().is_none());
    assert!(hub::statements::latest(hub.pool(), "1000", "wechat", day.succ_opt().unwrap())
        .await
        .unwrap()
        .is_none());
}
