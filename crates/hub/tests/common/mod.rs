//! Shared fixtures of the hub's tests: a fresh database in the throwaway PostgreSQL cluster that
//! `scripts/test.sh` starts (`scripts/lib/postgres.sh`), a hub on loopback with its own
//! certificates, kiosks paired over real mutual TLS, and kiosk journals as real SQLite files.
#![allow(dead_code)] // each test binary uses a different subset

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fleet::{HubClient, IdentityFiles, PairingTicket};
use hub::{HubConfig, RunningHub};
use journal::{Journal, NewPayment, TransitionRecord};
use sqlx::{Connection, Executor};
use tempfile::TempDir;

/// The hall test kiosks stand in unless a test says otherwise.
pub const HALL: &str = "徐汇区服务大厅";

/// 2026-12-01T08:00:00Z in ms.
pub const T0: i64 = 1_796_112_000_000;

/// A new, empty database; its URL.
pub async fn fresh_database() -> String {
    let admin = std::env::var("YIZHAN_PG_ADMIN_URL").expect(
        "the hub's tests need PostgreSQL: run them through scripts/test.sh, or \
         `source scripts/lib/postgres.sh && pg_start` first (it sets YIZHAN_PG_ADMIN_URL)",
    );
    let name = format!("hub_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to the test cluster");
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create a test database");
    conn.close().await.ok();
    admin.replacen("/postgres?", &format!("/{name}?"), 1)
}

/// A hub under test and what it needs.
pub struct TestHub {
    pub hub: Option<RunningHub>,
    pub config: HubConfig,
    pub dir: TempDir,
}

impl TestHub {
    /// A hub on a fresh database, on a free loopback port.
    pub async fn start() -> TestHub {
        TestHub::start_with(|_| {}).await
    }

    /// [`TestHub::start`] with the configuration changed by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut HubConfig)) -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let tls_dir = dir.path().join("tls");
        hub::tls::init(&tls_dir, &["localhost".into(), "127.0.0.1".into()]).unwrap();
        let mut config = HubConfig::new(free_port(), &fresh_database().await, tls_dir);
        config.max_connections = 4;
        adjust(&mut config);
        let hub = RunningHub::start(config.clone()).await.expect("the hub starts");
        TestHub { hub: Some(hub), config, dir }
    }

    pub fn running(&self) -> &RunningHub {
        self.hub.as_ref().expect("the hub is running")
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.running().pool
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.config.listen)
    }

    /// Stops the hub (as a crash or a deploy would: the database stays).
    pub async fn stop(&mut self) {
        if let Some(hub) = self.hub.take() {
            hub.stop().await;
        }
    }

    /// Starts it again on the same address and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.hub = Some(RunningHub::start(self.config.clone()).await.expect("the hub starts again"));
    }

    /// A pairing ticket for a new kiosk `id` in [`HALL`].
    pub async fn ticket(&self, id: &str) -> PairingTicket {
        self.ticket_in(id, HALL).await
    }

    /// A pairing ticket for a new kiosk `id` in `hall`.
    pub async fn ticket_in(&self, id: &str, hall: &str) -> PairingTicket {
        let code = hub::kiosks::issue_pairing_code(self.pool(), id, hall, "admin").await.unwrap();
        PairingTicket { hub_url: self.url(), ca_fingerprint: self.running().tls.ca_fingerprint.clone(), code }
    }

    /// A kiosk `id` in [`HALL`], paired: its journal, identity and client.
    pub async fn kiosk(&self, id: &str) -> TestKiosk {
        self.kiosk_in(id, HALL).await
    }

    /// A kiosk `id` in `hall`, paired.
    pub async fn kiosk_in(&self, id: &str, hall: &str) -> TestKiosk {
        let dir = tempfile::tempdir().unwrap();
        let files = IdentityFiles::in_dir(&dir.path().join("hub"));
        let assigned = fleet::pair(&self.ticket_in(id, hall).await, &files).await.expect("pairing");
        assert_eq!(assigned, id);
        let client = HubClient::new(&self.url(), &files).unwrap();
        let journal = KioskJournal::create(&dir.path().join("journal.sqlite"), &format!("J-{id}")).await;
        TestKiosk { id: id.to_owned(), dir, files, client, journal }
    }

    /// A hub ([`TestHub::start`]) and a kiosk `id` paired with it that has journaled `payments`
    /// paid bills ([`KioskJournal::pay`]), none shipped yet.
    pub async fn start_with_paid_kiosk(id: &str, payments: u32) -> (TestHub, TestKiosk) {
        let hub = TestHub::start().await;
        let mut kiosk = hub.kiosk(id).await;
        kiosk.journal.pay(payments).await;
        (hub, kiosk)
    }
}

/// A free loopback port (bound and released).
pub fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A paired kiosk.
pub struct TestKiosk {
    pub id: String,
    pub dir: TempDir,
    pub files: IdentityFiles,
    pub client: HubClient,
    pub journal: KioskJournal,
}

impl TestKiosk {
    pub async fn shipper(&self) -> fleet::Shipper {
        fleet::Shipper::open(&self.journal.path, self.client.clone()).await.unwrap()
    }
}

/// A kiosk's journal: a real SQLite file written through the journal crate.
pub struct KioskJournal {
    pub path: PathBuf,
    pub journal: Journal,
    next: u32,
}

impl KioskJournal {
    /// A new journal at `path` with identity `journal_id`.
    pub async fn create(path: &Path, journal_id: &str) -> KioskJournal {
        let journal = Journal::open(path).await.unwrap();
        let mut raw = raw(path).await;
        sqlx::query("INSERT INTO journal_meta (key, value) VALUES ('journal_id', ?1)")
            .bind(journal_id)
            .execute(&mut raw)
            .await
            .unwrap();
        KioskJournal { path: path.to_owned(), journal, next: 1 }
    }

    /// The journal at `path` opened again (an older copy restored, say). Its next payments are
    /// other payments (order numbers from 1001 on) than those its newer copy took.
    pub async fn reopen(path: &Path) -> KioskJournal {
        let journal = Journal::open(path).await.unwrap();
        let payments = journal.list(100_000, 0).await.unwrap().len() as u32;
        KioskJournal { path: path.to_owned(), journal, next: payments + 1_001 }
    }

    /// Journals `n` paid bills: three transitions each (ordered, sent, paid).
    pub async fn pay(&mut self, n: u32) {
        for _ in 0..n {
            let id = format!("K-{:06}", self.next);
            let at = T0 + i64::from(self.next) * 60_000;
            self.next += 1;
            let amount = 1_000 + i64::from(self.next) * 37;
            self.journal
                .create_payment(&NewPayment {
                    id: id.clone(),
                    kiosk_id: "K".into(),
                    created_at: at,
                    total_fen: amount,
                    channel: None,
                    state: "ORDERED".into(),
                    terminal: false,
                    parked: false,
                    next_deadline: None,
                    snapshot: snapshot(&id, "ORDERED", amount),
                    event: "confirm".into(),
                    effects: "none".into(),
                    keys: vec![],
                })
                .await
                .unwrap();
            for (i, state) in ["PAY_SENT", "PAID"].into_iter().enumerate() {
                self.journal
                    .record_transition(&TransitionRecord {
                        expected_from: None,
                        expected_seq: None,
                        payment_id: id.clone(),
                        at: at + 1 + i as i64,
                        to_state: state.into(),
                        terminal: state == "PAID",
                        parked: false,
                        next_deadline: None,
                        channel: Some("wechat".into()),
                        snapshot: snapshot(&id, state, amount),
                        event: format!("-> {state}"),
                        effects: String::new(),
                        keys: vec![],
                    })
                    .await
                    .unwrap();
            }
        }
    }

    pub async fn head(&self) -> i64 {
        self.journal.chain_head().await.unwrap().seq
    }
}

/// Shaped like the kiosk runtime's serialised payment (the parts the console reads).
fn snapshot(id: &str, state: &str, amount: i64) -> String {
    serde_json::json!({
        "order": { "reference": id, "lines": [{ "utility": "power", "account": "3200000010", "amount": amount }] },
        "channel": "wechat",
        "state": { "state": state.to_lowercase() },
    })
    .to_string()
}

/// A raw connection to a journal file, to tamper with it as an attacker or a bug would.
pub async fn raw(path: &Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap()
}

/// The one value (a count, an id) that `sql` selects.
pub async fn scalar(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The one text column that `sql` selects, row by row.
pub async fn texts(pool: &sqlx::PgPool, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The one value (a count, an id) that `sql` selects for `kiosk`, bound to `$1`.
pub async fn kiosk_scalar(pool: &sqlx::PgPool, sql: &str, kiosk: &str) -> i64 {
    sqlx::query_scalar(sql).bind(kiosk).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The hub's count of a kiosk's central transitions.
pub async fn central_rows(pool: &sqlx::PgPool, kiosk: &str) -> i64 {
    kiosk_scalar(pool, "SELECT count(*) FROM transitions WHERE kiosk_id = $1", kiosk).await
}

/// The kiosk's central chain state: (stored_through, verified_seq, chain_state).
pub async fn chain_state(pool: &sqlx::PgPool, kiosk: &str) -> (i64, i64, String) {
    sqlx::query_as("SELECT stored_through, verified_seq, chain_state FROM kiosks WHERE id = $1")
        .bind(kiosk)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Open alerts of a kiosk as (kind, subject), sorted.
pub async fn open_alerts(pool: &sqlx::PgPool, kiosk: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT kind, subject FROM alerts WHERE kiosk_id = $1 AND cleared_at IS NULL ORDER BY kind, subject",
    )
    .bind(kiosk)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Waits up to `limit` for `check` to hold.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < end {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A heartbeat from a kiosk with nothing wrong.
pub fn healthy_beat() -> fleet::wire::Heartbeat {
    let start = fleet::wire::Head { seq: 0, hash: journal::GENESIS.into() };
    fleet::testing::healthy_heartbeat(start, chrono::Utc::now().timestamp_millis())
}

/// A roll-out's state and, once stopped, why.
pub async fn rollout_state(pool: &sqlx::PgPool, rollout: i64) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, reason FROM rollouts WHERE id = $1")
        .bind(rollout)
        .fetch_one(pool)
        .await
        .unwrap()
}
