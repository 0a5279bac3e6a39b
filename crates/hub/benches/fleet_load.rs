//! The fleet hub under a fleet's load: a bench binary, not a timed test (`scripts/bench-hub.sh`).
//!
//! Starts `yizhan-hub serve` as a process of its own on a fresh database, makes N kiosks with
//! their own keys and client certificates, then for the run's length plays them: every kiosk
//! sends a heartbeat every 30 s (spread evenly, the real rate) over mutual TLS on a connection it
//! keeps, and ships its day of chained transitions in batches, as fast as the hub takes them.
//! A third of the way in the hub is killed (SIGKILL) and started again; two thirds in,
//! PostgreSQL is restarted. Kiosks that get no answer retry from the hub's mark, as the real
//! shipper does. At the end every kiosk's chain is compared with the central copy.
//!
//! Reports sustained ingest (transitions/s), p50/p99 latency of heartbeats and batches, the hub's
//! CPU and peak memory, PostgreSQL's CPU, the database's bytes per million transitions, and
//! lost/duplicated rows. Then a steady state: heartbeats at their rate and payments at an evening
//! peak's (each a batch of six transitions), where the p99 target (< 100 ms) applies; the
//! catch-up above is a stress far beyond a real day (a day's rows in three minutes).
//!
//! Settings (environment): BENCH_KIOSKS (10000), BENCH_SECONDS (240), BENCH_TRANSITIONS (300 per
//! kiosk: about 50 payments), BENCH_BATCH (100), BENCH_SHIPPERS (32 batches in flight),
//! BENCH_STEADY_SECONDS (60), BENCH_STEADY_PAYMENTS (30 a second); YIZHAN_PG_ADMIN_URL and
//! PG_SCRATCH from scripts/lib/postgres.sh.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fleet::wire::{Head, Heartbeat, ShipBatch, ShippedTransition};
use sqlx::{Connection, Executor};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Posts `body` to the hub's `path` as gzipped JSON, as a kiosk's link does.
async fn post_gzip(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    body: &impl serde::Serialize,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}{path}"))
        .header("content-encoding", "gzip")
        .header("content-type", "application/json")
        .body(fleet::gzip::encode(body))
        .send()
        .await
}

/// One simulated kiosk: its client, and its chain so far (generated as the real journal would).
struct Kiosk {
    id: String,
    client: reqwest::Client,
    /// Rows generated so far (the kiosk's journal), and the hub's acknowledged mark.
    rows: Vec<ShippedTransition>,
    acked: i64,
    /// The whole day is stored at the hub.
    complete: bool,
}

impl Kiosk {
    fn head(&self) -> Head {
        match self.rows.last() {
            Some(r) => Head { seq: r.seq, hash: r.hash.clone() },
            None => Head { seq: 0, hash: journal::GENESIS.into() },
        }
    }

    /// Ships up to `max_rows` rows after the hub's mark, as the kiosk's shipper does; the hub's
    /// answer, or `None` when there was none.
    async fn ship_next(&self, base: &str, max_rows: usize) -> Option<fleet::wire::ShipAck> {
        let from = self.acked as usize;
        let to = from.saturating_add(max_rows).min(self.rows.len());
        let batch = ShipBatch {
            journal_id: format!("J-{}", self.id),
            head: self.head(),
            after_seq: self.acked,
            rows: self.rows[from..to].to_vec(),
        };
        let reply = post_gzip(&self.client, base, fleet::wire::path::JOURNAL, &batch).await.ok()?;
        if !reply.status().is_success() {
            return None;
        }
        reply.json().await.ok()
    }

    /// Journals `n` more transitions: a payment's ordered → sent → paid → written off → done.
    fn journal_more(&mut self, n: usize) {
        const STATES: [&str; 6] = ["ORDERED", "PAY_SENT", "PAID", "WRITE_OFF_SENT", "WRITTEN_OFF", "DONE"];
        for _ in 0..n {
            let seq = self.rows.len() as i64 + 1;
            let prev = self.rows.last().map(|r| r.hash.clone()).unwrap_or_else(|| journal::GENESIS.into());
            let payment = (seq - 1) / 6;
            let step = ((seq - 1) % 6) as usize;
            let order = format!("YZ{}{:08}", &self.id[3..], payment);
            // A snapshot of the size the kiosk writes (~700 bytes).
            let snapshot = format!(
                "{{\"order\":{{\"reference\":\"{order}\",\"kiosk_id\":\"{}\",\"lines\":[{{\"utility\":\"power\",\"account\":\"32000{:05}\",\"amount\":{},\"kind\":{{\"kind\":\"bill\",\"bill_id\":\"P{payment:06}\",\"period\":\"2026-11\"}},\"biller_ref\":\"{order}-1\"}}]}},\"channel\":\"wechat\",\"code_digest\":\"{}\",\"channel_txn\":\"4200{seq:020}\",\"state\":{{\"state\":\"{}\"}}}}",
                self.id,
                payment % 100_000,
                1_000 + payment * 37 % 20_000,
                "e4f7aec5e5696b8f9c1fedd731b2b35de77cdc1f65cea3b8e5cd920a03f1783f",
                STATES[step].to_lowercase()
            );
            let mut row = ShippedTransition {
                seq,
                payment_id: order,
                at: 1_796_112_000_000 + seq * 1_000,
                from_state: if step == 0 { String::new() } else { STATES[step - 1].into() },
                to_state: STATES[step].into(),
                event: "event".into(),
                effects: "[]".into(),
                snapshot,
                prev_hash: prev,
                hash: String::new(),
            };
            row.hash = hub::chain_walk::recompute(&row);
            self.rows.push(row);
        }
    }
}

/// Latencies in microseconds.
#[derive(Default)]
struct Latencies(Mutex<Vec<u64>>);

impl Latencies {
    fn add(&self, took: Duration) {
        self.0.lock().unwrap().push(took.as_micros() as u64);
    }
    fn percentile(&self, p: f64) -> f64 {
        let mut v = self.0.lock().unwrap().clone();
        if v.is_empty() {
            return 0.0;
        }
        v.sort_unstable();
        v[((v.len() - 1) as f64 * p) as usize] as f64 / 1000.0
    }
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// CPU seconds (user + system) of a process, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Every PostgreSQL process's CPU seconds.
fn postgres_cpu() -> f64 {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        if std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| c.trim() == "postgres")
            .unwrap_or(false)
        {
            total += cpu_seconds(pid);
        }
    }
    total
}

struct HubProcess {
    child: Child,
    args: Vec<String>,
    cpu_before: f64,
}

impl HubProcess {
    fn start(args: &[String]) -> HubProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_yizhan-hub"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start yizhan-hub");
        HubProcess { child, args: args.to_vec(), cpu_before: 0.0 }
    }

    /// SIGKILL, then start again; keeps the killed process's CPU time.
    fn kill_and_restart(&mut self) {
        self.cpu_before += cpu_seconds(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        *self = HubProcess { cpu_before: self.cpu_before, ..HubProcess::start(&self.args) };
    }

    fn cpu(&self) -> f64 {
        self.cpu_before + cpu_seconds(self.child.id())
    }
}

fn restart_postgres() {
    let scratch = std::env::var("PG_SCRATCH").expect("PG_SCRATCH (scripts/bench-hub.sh sets it)");
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .flatten()
        .map(|e| e.path().join("bin/pg_ctl"))
        .filter(|p| p.exists())
        .max()
        .expect("pg_ctl");
    let mut command = if rustix::process::geteuid().is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    let status = command
        .args([
            "-D",
            &format!("{scratch}/data"),
            "-m",
            "fast",
            "-w",
            "restart",
            "-l",
            &format!("{scratch}/server.log"),
        ])
        .stdout(Stdio::null())
        .status()
        .expect("pg_ctl restart");
    assert!(status.success(), "PostgreSQL restarted");
}

#[tokio::main]
async fn main() {
    let kiosks_n = setting("BENCH_KIOSKS", 10_000) as usize;
    let seconds = setting("BENCH_SECONDS", 240);
    let per_kiosk = setting("BENCH_TRANSITIONS", 300) as usize;
    let batch_rows = setting("BENCH_BATCH", 100) as usize;
    let shippers = setting("BENCH_SHIPPERS", 32) as usize;
    let steady_seconds = setting("BENCH_STEADY_SECONDS", 60);
    let payments_per_s = setting("BENCH_STEADY_PAYMENTS", 30).max(1);
    let admin = std::env::var("YIZHAN_PG_ADMIN_URL").expect("YIZHAN_PG_ADMIN_URL (run scripts/bench-hub.sh)");

    // A fresh database and the hub's certificates.
    let name = format!("hub_bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    let url = admin.replacen("/postgres?", &format!("/{name}?"), 1);
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    hub::tls::init(&tls_dir, &["127.0.0.1".into()]).unwrap();
    let tls = hub::tls::HubTls::load(&tls_dir).unwrap();
    let pool = hub::db::connect(&url, 4).await.unwrap();

    let started = Instant::now();
    let mut kiosks = Vec::with_capacity(kiosks_n);
    let ca = reqwest::Certificate::from_pem(tls.ca_pem().as_bytes()).unwrap();
    let mut tx = pool.begin().await.unwrap();
    for i in 0..kiosks_n {
        let id = format!("SH-{i:06}");
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let (pem, fingerprint) = tls.sign_kiosk(&id, key.public_key_raw()).unwrap();
        sqlx::query("INSERT INTO kiosks (id, hall, paired_at, last_seen_at) VALUES ($1, $2, now(), now())")
            .bind(&id)
            .bind(format!("hall {}", i / 20))
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("INSERT INTO kiosk_certificates (fingerprint, kiosk_id) VALUES ($1, $2)")
            .bind(&fingerprint)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .unwrap();
        let identity =
            reqwest::Identity::from_pem(format!("{pem}{}", key.serialize_pem()).as_bytes()).unwrap();
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca.clone())
            .identity(identity)
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1)
            .no_proxy()
            .build()
            .unwrap();
        kiosks.push(Arc::new(tokio::sync::Mutex::new(Kiosk {
            id,
            client,
            rows: Vec::new(),
            acked: 0,
            complete: false,
        })));
    }
    tx.commit().await.unwrap();
    println!("{kiosks_n} kiosks with their certificates in {:.1} s", started.elapsed().as_secs_f64());

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let args: Vec<String> = [
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--database-url",
        &url,
        "--tls-dir",
        &tls_dir.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let hub = Arc::new(Mutex::new(HubProcess::start(&args)));
    let base = format!("https://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap()
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let beats = Arc::new(Latencies::default());
    let batches = Arc::new(Latencies::default());
    // The steady state after the catch-up: heartbeats and the day's payments at their real rate.
    let steady = Arc::new(AtomicBool::new(false));
    let steady_beats = Arc::new(Latencies::default());
    let failures = Arc::new(AtomicU64::new(0));
    let shipped = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let mut peak_rss = 0.0_f64;
    let pg_cpu_start = postgres_cpu();
    let run_start = Instant::now();

    // Heartbeats: every kiosk every 30 s, evenly spread.
    let mut tasks = Vec::new();
    {
        let (kiosks, beats, failures, running, base) =
            (kiosks.clone(), beats.clone(), failures.clone(), running.clone(), base.clone());
        let (steady, steady_beats) = (steady.clone(), steady_beats.clone());
        tasks.push(tokio::spawn(async move {
            let gap = Duration::from_secs(30) / kiosks.len() as u32;
            let mut tick = tokio::time::interval(gap);
            let mut i = 0;
            while running.load(Relaxed) {
                tick.tick().await;
                let kiosk = kiosks[i % kiosks.len()].clone();
                i += 1;
                let beats = if steady.load(Relaxed) { steady_beats.clone() } else { beats.clone() };
                let (failures, base) = (failures.clone(), base.clone());
                tokio::spawn(async move {
                    let (client, head) = {
                        let k = kiosk.lock().await;
                        (k.client.clone(), k.head())
                    };
                    let beat = heartbeat(head);
                    let sent = Instant::now();
                    let ok = post_gzip(&client, &base, fleet::wire::path::HEARTBEAT, &beat)
                        .await
                        .map(|r| r.status().is_success())
                        .unwrap_or(false);
                    if ok {
                        beats.add(sent.elapsed());
                    } else {
                        failures.fetch_add(1, Relaxed);
                    }
                });
            }
        }));
    }

    // Shipping: a day's transitions per kiosk, `shippers` batches in flight, until every kiosk's
    // day is stored.
    let next = Arc::new(AtomicU64::new(0));
    let complete = Arc::new(AtomicU64::new(0));
    let mut shipping = Vec::new();
    for _ in 0..shippers {
        let (kiosks, batches, failures, shipped, base, next, complete) = (
            kiosks.clone(),
            batches.clone(),
            failures.clone(),
            shipped.clone(),
            base.clone(),
            next.clone(),
            complete.clone(),
        );
        shipping.push(tokio::spawn(async move {
            while complete.load(Relaxed) < kiosks.len() as u64 {
                let i = next.fetch_add(1, Relaxed) as usize % kiosks.len();
                let mut k = kiosks[i].lock().await;
                if k.complete {
                    continue;
                }
                if k.rows.len() < per_kiosk {
                    let more = batch_rows.min(per_kiosk - k.rows.len());
                    k.journal_more(more);
                }
                let sent = Instant::now();
                let reply = k.ship_next(&base, batch_rows).await;
                match reply {
                    Some(ack) => {
                        batches.add(sent.elapsed());
                        shipped.fetch_add((ack.stored_through - k.acked).max(0) as u64, Relaxed);
                        k.acked = ack.stored_through;
                        if k.acked >= per_kiosk as i64 {
                            k.complete = true;
                            complete.fetch_add(1, Relaxed);
                        }
                    }
                    None => {
                        failures.fetch_add(1, Relaxed);
                        drop(k);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        }));
    }

    // Faults, and sampling the hub's memory.
    let mut killed = false;
    let mut pg_restarted = false;
    let mut shipping_took = None;
    while run_start.elapsed() < Duration::from_secs(seconds) || shipping_took.is_none() {
        if shipping_took.is_none() && complete.load(Relaxed) == kiosks_n as u64 {
            shipping_took = Some(run_start.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let pid = hub.lock().unwrap().child.id();
        peak_rss = peak_rss.max(rss_mib(pid));
        let t = run_start.elapsed().as_secs();
        if !killed && t >= seconds / 3 {
            killed = true;
            println!("{t:>4} s: killing the hub (SIGKILL) and starting it again");
            hub.lock().unwrap().kill_and_restart();
        }
        if !pg_restarted && t >= 2 * seconds / 3 {
            pg_restarted = true;
            println!("{t:>4} s: restarting PostgreSQL");
            tokio::task::spawn_blocking(restart_postgres).await.unwrap();
        }
        if t % 30 == 0 {
            println!(
                "{t:>4} s: {} transitions stored, {} heartbeats, {} failed calls",
                shipped.load(Relaxed),
                beats.count(),
                failures.load(Relaxed)
            );
        }
    }
    let run_seconds = run_start.elapsed().as_secs_f64();
    let ingest_seconds = shipping_took.unwrap_or(run_seconds);
    let shipped_in_run = shipped.load(Relaxed);
    let hub_cpu = hub.lock().unwrap().cpu();
    let pg_cpu = postgres_cpu() - pg_cpu_start;
    for task in shipping {
        let _ = task.await;
    }

    // The steady state: heartbeats go on; payments come at an evening peak's rate (a payment,
    // six transitions, shipped as one batch by its kiosk).
    println!("steady state for {steady_seconds} s: heartbeats and {payments_per_s} payments/s");
    steady.store(true, Relaxed);
    let steady_batches = Arc::new(Latencies::default());
    let steady_cpu_start = (hub.lock().unwrap().cpu(), postgres_cpu(), Instant::now());
    let mut payments = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / payments_per_s as u32);
    let mut i = 0;
    while steady_cpu_start.2.elapsed() < Duration::from_secs(steady_seconds) {
        tick.tick().await;
        let (kiosk, latencies, base) = (kiosks[i % kiosks_n].clone(), steady_batches.clone(), base.clone());
        i += 7_919; // a prime: the kiosks in a scattered order
        payments.push(tokio::spawn(async move {
            let mut k = kiosk.lock().await;
            k.journal_more(6);
            while (k.acked as usize) < k.rows.len() {
                let sent = Instant::now();
                if let Some(ack) = k.ship_next(&base, usize::MAX).await {
                    latencies.add(sent.elapsed());
                    k.acked = ack.stored_through;
                }
            }
        }));
    }
    for payment in payments {
        let _ = payment.await;
    }
    let steady_elapsed = steady_cpu_start.2.elapsed().as_secs_f64();
    let steady_hub_cpu = hub.lock().unwrap().cpu() - steady_cpu_start.0;
    let steady_pg_cpu = postgres_cpu() - steady_cpu_start.1;
    running.store(false, Relaxed);
    for task in tasks {
        let _ = task.await;
    }

    let central: Vec<(String, i64, i64, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT k.id, k.stored_through, k.verified_seq, (SELECT count(*) FROM transitions t WHERE t.kiosk_id = k.id), k.chain_state, \
                (SELECT hash FROM transitions t WHERE t.kiosk_id = k.id AND t.seq = k.stored_through) FROM kiosks k",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut lost = 0_i64;
    let mut duplicated = 0_i64;
    let mut mismatched = 0;
    for (id, stored, verified, count, state, hash) in &central {
        let i: usize = id[3..].parse().unwrap();
        let k = kiosks[i].lock().await;
        let local = k.rows.len() as i64;
        lost += (local - count).max(0);
        duplicated += (count - local).max(0);
        if *stored != local
            || *verified != local
            || state != "intact"
            || hash.as_deref() != Some(k.rows[local as usize - 1].hash.as_str())
        {
            mismatched += 1;
        }
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM transitions").fetch_one(&pool).await.unwrap();
    let bytes: i64 =
        sqlx::query_scalar("SELECT pg_total_relation_size('transitions')").fetch_one(&pool).await.unwrap();

    println!();
    println!("kiosks                         {kiosks_n}");
    println!("run                            {run_seconds:.0} s (hub killed and restarted at {} s, PostgreSQL restarted at {} s)", seconds / 3, 2 * seconds / 3);
    println!("transitions stored             {shipped_in_run} in {ingest_seconds:.0} s ({:.0}/s sustained, faults included)", shipped_in_run as f64 / ingest_seconds);
    println!(
        "heartbeats answered            {} ({:.0}/s); p50 {:.1} ms, p99 {:.1} ms",
        beats.count(),
        beats.count() as f64 / run_seconds,
        beats.percentile(0.5),
        beats.percentile(0.99)
    );
    println!(
        "batches of {batch_rows:<4}                {}; p50 {:.1} ms, p99 {:.1} ms",
        batches.count(),
        batches.percentile(0.5),
        batches.percentile(0.99)
    );
    println!(
        "steady state                   {steady_elapsed:.0} s, heartbeats {:.0}/s and {payments_per_s} payments/s",
        steady_beats.count() as f64 / steady_elapsed
    );
    println!(
        "  heartbeats                   p50 {:.1} ms, p99 {:.1} ms ({} answered)",
        steady_beats.percentile(0.5),
        steady_beats.percentile(0.99),
        steady_beats.count()
    );
    println!(
        "  payments' batches            p50 {:.1} ms, p99 {:.1} ms ({} answered)",
        steady_batches.percentile(0.5),
        steady_batches.percentile(0.99),
        steady_batches.count()
    );
    println!(
        "  hub CPU                      {:.0} % of one core; PostgreSQL {:.0} %",
        100.0 * steady_hub_cpu / steady_elapsed,
        100.0 * steady_pg_cpu / steady_elapsed
    );
    println!(
        "calls without an answer        {} (during the kill and the restart; retried)",
        failures.load(Relaxed)
    );
    println!(
        "hub CPU                        {:.0} % of one core; peak RSS {:.0} MiB",
        100.0 * hub_cpu / run_seconds,
        peak_rss
    );
    println!("PostgreSQL CPU                 {:.0} % of one core", 100.0 * pg_cpu / run_seconds);
    println!(
        "database                       {:.0} MiB per million transitions ({total} rows)",
        bytes as f64 / (1024.0 * 1024.0) / (total as f64 / 1e6)
    );
    println!(
        "central = local                {} of {kiosks_n} kiosks; {lost} lost, {duplicated} duplicated",
        kiosks_n - mismatched
    );
    let _ = hub.lock().unwrap().child.kill();
    assert_eq!((lost, duplicated, mismatched), (0, 0, 0), "the central journal equals every kiosk's");
}

fn heartbeat(head: Head) -> Heartbeat {
    fleet::testing::healthy_heartbeat(head, chrono::Utc::now().timestamp_millis())
}
