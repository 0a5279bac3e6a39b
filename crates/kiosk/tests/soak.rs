//! `yizhan soak` in the default run: a hundred seeded days of the whole kiosk (real journal,
//! real HTTP clients against the simulators, faults and power cuts) must keep every invariant.
//! The long runs are documented in docs/reliability.md.

mod support;

use yizhan::soak::{self, schedule, Totals};

const SEEDS: u64 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_seeded_days_lose_nothing_and_double_nothing() {
    let keys = support::repo_config_dir().join("sim-keys");
    let work = tempfile::tempdir().unwrap();
    let mut totals = Totals::default();
    for seed in 0..SEEDS {
        let report = soak::run_seed(seed, &keys, work.path(), 6).await.unwrap();
        assert!(
            report.violations.is_empty(),
            "seed {seed}: {:?}\nreplay: yizhan soak --from {seed} --seeds 1",
            report.violations
        );
        totals.add(&report);
    }
    assert_eq!((totals.lost, totals.doubled), (0, 0));
    assert!(totals.kills > SEEDS / 5, "power cuts happen: {}", totals.line());
    assert!(totals.customers > SEEDS * 2, "{}", totals.line());
}

/// A seed is a replay: the same customers, faults and power cuts, and the books hold both times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_replays_the_same_day() {
    assert_eq!(schedule::customers(4242, 6), schedule::customers(4242, 6));
    let keys = support::repo_config_dir().join("sim-keys");
    let work = tempfile::tempdir().unwrap();
    let first = soak::run_seed(88, &keys, work.path(), 6).await.unwrap();
    let second = soak::run_seed(88, &keys, work.path(), 6).await.unwrap();
    assert_eq!((first.customers, first.kills), (second.customers, second.kills));
    assert!(first.violations.is_empty() && second.violations.is_empty(), "{first:?} {second:?}");
}
