//! What shipping costs a payment: the journal's commit latency alone, and with the outbox reader
//! reading batches of 500 rows beside it without pause (the shipper's worst case: a kiosk catching
//! up after days offline). The reader has a read-only connection of its own; in WAL mode it never
//! takes the writer's lock, so the difference is what the disk and the CPU pay for it.
//!
//! The cases run interleaved in rounds (alone, beside, alone, …) so drift in disk load hits both.
//! Run with `cargo bench -p journal --bench outbox_beside_payments`; `OUTBOX_BENCH_COMMITS` and
//! `OUTBOX_BENCH_ROUNDS` override the counts.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use journal::{Journal, NewPayment, OutboxReader, TransitionRecord};

const T0: i64 = 1_714_550_400_000;

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A snapshot of the size the kiosk writes.
fn snapshot(i: u32) -> String {
    format!("{{\"order\":{{\"reference\":\"YZ{i:012}\",\"lines\":[{{\"utility\":\"power\",\"account\":\"3200000010\",\"amount\":12680}}]}},\"channel\":\"wechat\",\"pad\":\"{}\"}}", "x".repeat(600))
}

/// Commits `n` transitions; the latency of each, in microseconds.
async fn commits(journal: &Journal, first: u32, n: u32) -> Vec<u64> {
    let mut took = Vec::with_capacity(n as usize);
    for i in first..first + n {
        let record = TransitionRecord {
            payment_id: "P1".into(),
            expected_from: None,
            expected_seq: None,
            at: T0 + i64::from(i),
            to_state: if i % 2 == 0 { "PAY_SENT".into() } else { "PAY_PENDING".into() },
            terminal: false,
            parked: false,
            next_deadline: None,
            channel: None,
            snapshot: snapshot(i),
            event: "tick".into(),
            effects: String::new(),
            keys: vec![],
        };
        let start = Instant::now();
        journal.record_transition(&record).await.expect("commit");
        took.push(start.elapsed().as_micros() as u64);
    }
    took
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let per_round = setting("OUTBOX_BENCH_COMMITS", 300);
    let rounds = setting("OUTBOX_BENCH_ROUNDS", 6);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("journal.db");
    let journal = Journal::open(&path).await.unwrap();
    journal
        .create_payment(&NewPayment {
            id: "P1".into(),
            kiosk_id: "K".into(),
            created_at: T0,
            total_fen: 12_680,
            channel: None,
            state: "ORDERED".into(),
            terminal: false,
            parked: false,
            next_deadline: None,
            snapshot: snapshot(0),
            event: "confirm".into(),
            effects: String::new(),
            keys: vec![],
        })
        .await
        .unwrap();
    // A journal with history to read: 20,000 rows, as after weeks of a busy kiosk.
    let mut next = 1;
    for _ in 0..20 {
        commits(&journal, next, 1_000).await;
        next += 1_000;
    }

    let (mut alone, mut beside) = (Vec::new(), Vec::new());
    let batches_read = Arc::new(AtomicU64::new(0));
    for _ in 0..rounds {
        alone.extend(commits(&journal, next, per_round).await);
        next += per_round;

        let reading = Arc::new(AtomicBool::new(true));
        let reader = OutboxReader::open(&path).await.unwrap();
        let task = {
            let (reading, batches_read) = (reading.clone(), batches_read.clone());
            tokio::spawn(async move {
                let mut after = 0;
                while reading.load(Relaxed) {
                    let rows = reader.transitions_after(after, 500).await.unwrap();
                    after = rows.last().map(|r| r.seq).unwrap_or(0);
                    let _ = serde_json::to_vec(&rows.iter().map(|r| &r.snapshot).collect::<Vec<_>>());
                    batches_read.fetch_add(1, Relaxed);
                    tokio::task::yield_now().await;
                }
            })
        };
        beside.extend(commits(&journal, next, per_round).await);
        next += per_round;
        reading.store(false, Relaxed);
        task.await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    alone.sort_unstable();
    beside.sort_unstable();
    println!("journal commit (fsync), {} commits each, interleaved in {rounds} rounds:", alone.len());
    println!(
        "  alone                       p50 {:.2} ms  p99 {:.2} ms",
        percentile(&alone, 0.5),
        percentile(&alone, 0.99)
    );
    println!(
        "  beside a reader, non-stop   p50 {:.2} ms  p99 {:.2} ms  ({} batches of 500 read)",
        percentile(&beside, 0.5),
        percentile(&beside, 0.99),
        batches_read.load(Relaxed)
    );
    println!(
        "  shipping's cost             p50 {:+.2} ms  p99 {:+.2} ms",
        percentile(&beside, 0.5) - percentile(&alone, 0.5),
        percentile(&beside, 0.99) - percentile(&alone, 0.99)
    );
}
