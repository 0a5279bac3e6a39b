//! The Yizhan fleet hub: the one place that knows where every fen of every kiosk is.
//!
//! An HTTPS service (rustls, mutual TLS for kiosks) over PostgreSQL. It keeps nothing in memory
//! that matters: several instances can serve one database, which is the scaling point.
//!
//! - [`tls`]: the hub's CA, its server certificate, kiosk client certificates.
//! - [`kiosks`]: creating kiosks, one-time pairing codes, certificates, revocation.
//! - [`ingest`] and [`chain_walk`]: the central journal, every chain re-verified.
//! - [`heartbeat`], [`alerts`]: status, conditions with hysteresis, de-duplicated alerts, webhook.
//! - [`commands`]: operator commands, queued, handed over, acknowledged.
//! - [`packages`], [`rollouts`]: signed software packages, rolled out by cohort and stopped by
//!   themselves when kiosks roll them back.
//! - [`statements`]: channel statements and biller files as received, with their hash.
//! - [`recon`]: reconciliation of every accounting day over the central journal, its scratch
//!   pool and exception desk; suspense settled by a command to the kiosk.
//! - [`audit`]: every operator action.
//! - [`fleet_view`]: the fleet list and summary the operator reads.
//! - [`console`]: the operators' web console.
//! - [`api`], [`server`]: the kiosk API and the TLS accept loop.

pub mod alerts;
pub mod api;
pub mod audit;
pub mod chain_walk;
pub mod commands;
pub mod configs;
pub mod console;
pub mod db;
pub mod fleet_view;
pub mod heartbeat;
pub mod ingest;
pub mod kiosks;
pub mod packages;
pub mod recon;
pub mod rollouts;
pub mod server;
pub mod statements;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

/// How a hub instance runs.
#[derive(Clone, Debug)]
pub struct HubConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    /// The folder of `yizhan-hub init`'s certificates.
    pub tls_dir: PathBuf,
    /// Where alert notices are POSTed, if anywhere.
    pub webhook: Option<String>,
    /// A kiosk not heard from for this long is `silent`.
    pub silent_after: Duration,
    /// How often the silent sweep runs.
    pub sweep_every: Duration,
    pub rules: alerts::Rules,
    pub max_connections: u32,
    /// How kiosks reach this hub, for pairing tickets; `https://<listen>` when not given.
    pub public_url: Option<String>,
    /// An update offered to a kiosk with no outcome after this long counts as failed.
    pub rollout_offer_timeout: Duration,
    /// The merchant accounts whose files are fetched and reconciled every day (the
    /// `[payments.*]` and `[billers.*]` of a kiosk configuration); none, no schedule.
    pub recon_accounts: Option<PathBuf>,
    /// How often the reconciliation schedule looks whether a day is due.
    pub recon_every: Duration,
}

impl HubConfig {
    /// Defaults for everything but where to listen, the database and the certificates.
    pub fn new(listen: SocketAddr, database_url: &str, tls_dir: PathBuf) -> HubConfig {
        HubConfig {
            listen,
            database_url: database_url.to_owned(),
            tls_dir,
            webhook: None,
            silent_after: Duration::from_secs(180),
            sweep_every: Duration::from_secs(30),
            rules: alerts::Rules::default(),
            max_connections: 16,
            public_url: None,
            rollout_offer_timeout: rollouts::Timing::default().offer_timeout,
            recon_accounts: None,
            recon_every: Duration::from_secs(3_600),
        }
    }
}

/// A running hub instance.
#[derive(Debug)]
pub struct RunningHub {
    pub addr: SocketAddr,
    pub pool: sqlx::PgPool,
    pub tls: Arc<tls::HubTls>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot load the hub's certificates: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("cannot open the database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("the reconciliation accounts: {0}")]
    Accounts(#[from] recon::accounts::AccountsError),
    #[error("the hub listens on {0}, which no kiosk can reach by that address: give the address kiosks use (--public-url https://hub.example:8443)")]
    PublicUrl(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl RunningHub {
    /// Loads the certificates, connects and migrates the database, listens, and starts the
    /// background turns.
    pub async fn start(config: HubConfig) -> Result<RunningHub, StartError> {
        let hub_tls = Arc::new(tls::HubTls::load(&config.tls_dir)?);
        // Checked before anything listens: a bad accounts file is a start-up error, not a log line.
        let recon_clients = match &config.recon_accounts {
            Some(path) => Some(recon::accounts::AccountsFile::load(path)?.clients()?),
            None => None,
        };
        let pool = db::connect(&config.database_url, config.max_connections).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Listen { addr: config.listen, source })?;
        let addr =
            listener.local_addr().map_err(|source| StartError::Listen { addr: config.listen, source })?;
        let public_url = match &config.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            // 0.0.0.0 is where to listen, not an address a kiosk can reach.
            None if addr.ip().is_unspecified() => return Err(StartError::PublicUrl(addr)),
            None => format!("https://{addr}"),
        };
        let rules = Arc::new(config.rules.clone());
        let timing = rollouts::Timing {
            silent_after: config.silent_after,
            offer_timeout: config.rollout_offer_timeout,
        };
        let state = api::AppState {
            pool: pool.clone(),
            tls: hub_tls.clone(),
            rules,
            public_url,
            silent_after: config.silent_after,
            rollout_timing: timing,
        };
        let app = api::routes().merge(console::routes()).with_state(state);
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(server::serve(listener, app, hub_tls.server.clone(), stopped.clone()));
        tasks.spawn(server::sweep_silent(
            pool.clone(),
            config.silent_after,
            config.sweep_every,
            stopped.clone(),
        ));
        let timing = rollouts::Timing {
            silent_after: config.silent_after,
            offer_timeout: config.rollout_offer_timeout,
        };
        tasks.spawn(server::advance_rollouts(pool.clone(), timing, config.sweep_every, stopped.clone()));
        if let Some(clients) = recon_clients {
            tasks.spawn(server::reconcile_daily(pool.clone(), clients, config.recon_every, stopped.clone()));
        }
        if let Some(url) = config.webhook.clone() {
            tasks.spawn(server::deliver_webhooks(pool.clone(), url, Duration::from_secs(2), stopped.clone()));
        }
        tracing::info!(%addr, "hub listening");
        Ok(RunningHub { addr, pool, tls: hub_tls, stop, tasks })
    }

    /// `https://127.0.0.1:port` (or the address it listens on).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Stops serving and waits for the tasks to end.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        self.pool.close().await;
    }

    /// Waits until the server stops by itself (it does not, unless a task panics).
    pub async fn wait(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}
