//! How much a whole `pay` costs beyond the fsyncs the journal needs, against zero-delay
//! simulators on loopback (issue: "orchestration overhead under 10 ms").
//!
//! Run: `cargo bench -p yizhan --bench pay_overhead` (release build). For each of N payments it
//! times the bill fetch and `pay_order` (journal commits, pay and write-off calls over HTTP, the
//! receipt), counts the journal commits, and in the same run times single journal commits on the
//! same file. Overhead = time per pay − commits per pay × time per commit.

use kiosk_core::{route_payment_code, Order, Utility};
use std::path::Path;
use std::time::{Duration, Instant};
use yizhan::backend::Backend;
use yizhan::runtime::Quiet;

const PAYMENTS: u64 = 300;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sim-keys");
    // The journal goes on the same disk as the build, not a tmpfs, so fsync is real.
    let scratch = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let dir = tempfile::tempdir_in(&scratch).unwrap();
    // No printer: this measures the money path, not a receipt on a pty.
    let backend = Backend::start_embedded(&keys, dir.path(), 1, false).await.unwrap();
    let kiosk = &backend.runtime;
    let sims = backend.sims.as_ref().unwrap();

    let mut pay_total = Duration::ZERO;
    let commits_before = kiosk.journal.commits_in_this_process();
    for i in 0..PAYMENTS + 20 {
        let account = fresh_account(i);
        let seed = serde_json::from_value(serde_json::json!({ "account": account, "amount_due_fen": 3150 }))
            .unwrap();
        sims.billers.water.sim.put_account(seed);
        let code = route_payment_code(&format!("13{:016}", 10_000_000 + i)).unwrap();
        let started = Instant::now();
        let bill = kiosk.fetch_bill(Utility::Water, &account).await.unwrap();
        let order =
            Order::for_bill(kiosk.new_order_ref(), "SH-TEST-0001", yizhan::clock::now(), &bill).unwrap();
        let payment = kiosk.pay_order(order, code, &Quiet).await.unwrap();
        assert_eq!(payment.state, kiosk_core::State::Done);
        if i >= 20 {
            pay_total += started.elapsed();
        }
    }
    let commits_per_pay =
        (kiosk.journal.commits_in_this_process() - commits_before) as f64 / (PAYMENTS + 20) as f64;
    let per_pay = pay_total.as_secs_f64() / PAYMENTS as f64;

    // The same journal file, single transitions of a finished payment's snapshot.
    let rows = kiosk.journal.list(1, 0).await.unwrap();
    let row = &rows[0];
    let mut commit_total = Duration::ZERO;
    const COMMITS: u32 = 1000;
    for i in 0..COMMITS {
        let record = journal::TransitionRecord {
            expected_from: None,
            expected_seq: None,
            payment_id: row.id.clone(),
            at: row.updated_at + i64::from(i),
            to_state: row.state.clone(),
            terminal: row.terminal,
            parked: row.parked,
            next_deadline: None,
            channel: None,
            snapshot: row.snapshot.clone(),
            event: "bench".into(),
            effects: String::new(),
            keys: Vec::new(),
        };
        let started = Instant::now();
        kiosk.journal.record_transition(&record).await.unwrap();
        commit_total += started.elapsed();
    }
    let per_commit = commit_total.as_secs_f64() / f64::from(COMMITS);
    let overhead = per_pay - commits_per_pay * per_commit;
    println!("pay_overhead: {PAYMENTS} payments (water bill, WeChat, zero-delay simulators on loopback)");
    println!("  time per pay (fetch + pay + write-off + receipt) {:>8.2} ms", per_pay * 1e3);
    println!("  journal commits per pay                          {commits_per_pay:>8.1}");
    println!("  time per journal commit (same file, same run)    {:>8.2} ms", per_commit * 1e3);
    println!("  overhead beyond the fsyncs                       {:>8.2} ms", overhead * 1e3);
}

fn fresh_account(i: u64) -> String {
    let body = format!("4{:07}", 1_000_000 + i);
    format!("{body}{}", kiosk_core::utility::luhn_check_digit(&body).unwrap())
}
