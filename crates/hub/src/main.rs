//! `yizhan-hub`: the fleet hub's command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hub::{HubConfig, RunningHub};

#[derive(Parser)]
#[command(name = "yizhan-hub", version, about = "The Yizhan fleet hub")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Makes the hub's CA and server certificate in a folder (keeps files already there).
    Init {
        #[arg(long, default_value = "/var/lib/yizhan-hub/tls")]
        tls_dir: PathBuf,
        /// Host names and addresses the kiosks reach the hub by.
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
    },
    /// Serves the kiosk API until stopped.
    Serve {
        #[arg(long, default_value = "0.0.0.0:8443")]
        listen: SocketAddr,
        #[command(flatten)]
        db: Db,
        #[arg(long, default_value = "/var/lib/yizhan-hub/tls")]
        tls_dir: PathBuf,
        /// Alert notices are POSTed here as JSON.
        #[arg(long, env = "YIZHAN_HUB_WEBHOOK")]
        webhook: Option<String>,
        /// A kiosk not heard from for this many seconds is reported silent.
        #[arg(long, default_value_t = 180)]
        silent_after_s: u64,
        /// How kiosks reach this hub (for the pairing tickets the console shows); by default
        /// https://<listen>.
        #[arg(long, env = "YIZHAN_HUB_PUBLIC_URL")]
        public_url: Option<String>,
        /// A payment in suspense for longer than this many minutes raises an alert.
        #[arg(long, default_value_t = 24 * 60)]
        suspense_age_min: u64,
        /// The merchant accounts (a kiosk configuration's `[payments.*]` and `[billers.*]`):
        /// their files are fetched and each day reconciled once final (after 10:00 the next day).
        #[arg(long, env = "YIZHAN_HUB_ACCOUNTS")]
        accounts: Option<PathBuf>,
    },
    /// Brings the database's schema up to date and exits.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Every kiosk: hall, last heartbeat, journal held and verified, open alerts; then the
    /// one-line summary.
    Fleet {
        #[command(flatten)]
        db: Db,
    },
    /// Kiosks: create one and print its pairing ticket, or revoke one.
    #[command(subcommand)]
    Kiosk(KioskCommand),
    /// Console accounts: `operator set NAME --role admin` reads the password from standard input.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Signed software packages for the kiosks.
    #[command(subcommand)]
    Package(PackageCommand),
    /// Rolling a package out to the fleet by cohort.
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// Reconciliation: fetch the statements and biller files, reconcile a day.
    #[command(subcommand)]
    Recon(ReconCommand),
}

#[derive(Subcommand)]
enum ReconCommand {
    /// Fetches every account's statement and biller file of DAY and the day after, stores each
    /// as received, then reconciles DAY and prints `reconciled: M matched, E exceptions`.
    Run {
        /// The accounting day (Beijing), YYYY-MM-DD; by default the latest whose files are final.
        #[arg(long)]
        day: Option<chrono::NaiveDate>,
        /// The merchant accounts: the `[payments.*]` and `[billers.*]` sections of a kiosk
        /// configuration. Without it, only files already stored are read.
        #[arg(long)]
        accounts: Option<PathBuf>,
        #[command(flatten)]
        db: Db,
    },
    /// The exceptions still open on the desk.
    Exceptions {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum PackageCommand {
    /// Adds a .deb with its `.sig` beside it (`yizhan update sign`), after checking the
    /// signature with the operator's public key.
    Add {
        deb: PathBuf,
        /// The operator's Ed25519 public key (PEM).
        #[arg(long, env = "YIZHAN_HUB_UPDATE_KEY")]
        update_key: PathBuf,
        #[arg(long, default_value = "admin")]
        operator: String,
        #[command(flatten)]
        db: Db,
    },
    /// Every package held.
    List {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum RolloutCommand {
    /// Starts offering VERSION of the kiosk's package, stage by stage.
    Start {
        version: String,
        /// Kiosks offered it by the end of each stage, cumulative; 0 = every kiosk.
        #[arg(long, value_delimiter = ',', default_value = "2,20,0")]
        cohorts: Vec<i32>,
        /// Stop by itself when more than this share of the kiosks offered it so far failed.
        #[arg(long, default_value_t = 10)]
        max_failure_pct: i32,
        #[arg(long, default_value = "admin")]
        operator: String,
        #[command(flatten)]
        db: Db,
    },
    /// Stops a roll-out.
    Stop {
        id: i64,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "admin")]
        operator: String,
        #[command(flatten)]
        db: Db,
    },
    /// Every roll-out and how far it has gone.
    List {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Creates the operator, or sets a new password and role.
    Set {
        name: String,
        /// viewer, hall_supervisor, finance or admin.
        #[arg(long)]
        role: String,
        /// The hall a hall supervisor answers for (as the kiosks were created with).
        #[arg(long)]
        hall: Option<String>,
        #[command(flatten)]
        db: Db,
    },
    /// Disables the operator (someone who left): their sessions end, they cannot sign in.
    Disable {
        name: String,
        #[arg(long, default_value = "cli")]
        by: String,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum KioskCommand {
    /// Creates a kiosk (or re-issues its code) and prints the one-time pairing ticket.
    Add {
        id: String,
        #[arg(long)]
        hall: String,
        /// The hub's address as kiosks reach it, for the ticket.
        #[arg(long)]
        hub_url: String,
        #[arg(long, default_value = "/var/lib/yizhan-hub/tls")]
        tls_dir: PathBuf,
        #[arg(long, default_value = "admin")]
        operator: String,
        #[command(flatten)]
        db: Db,
    },
    /// Revokes a kiosk: its certificate is refused from now on.
    Revoke {
        id: String,
        #[arg(long, default_value = "admin")]
        operator: String,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(clap::Args)]
struct Db {
    /// postgres://user@host/db (or a socket folder: postgres:///db?host=/run/postgresql).
    #[arg(long, env = "YIZHAN_HUB_DATABASE_URL")]
    database_url: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Init { tls_dir, hosts } => {
            hub::tls::init(&tls_dir, &hosts)?;
            let tls = hub::tls::HubTls::load(&tls_dir)?;
            println!("certificates in {}; CA fingerprint {}", tls_dir.display(), tls.ca_fingerprint);
        }
        Command::Serve {
            listen,
            db,
            tls_dir,
            webhook,
            public_url,
            silent_after_s,
            suspense_age_min,
            accounts,
        } => {
            let mut config = HubConfig::new(listen, &db.database_url, tls_dir);
            config.recon_accounts = accounts;
            config.webhook = webhook;
            config.public_url = public_url;
            config.silent_after = Duration::from_secs(silent_after_s);
            config.rules.suspense_age_ms = (suspense_age_min * 60_000) as i64;
            let mut hub = RunningHub::start(config).await?;
            println!("hub serving on {}", hub.url());
            tokio::select! {
                _ = tokio::signal::ctrl_c() => hub.stop().await,
                _ = hub.wait() => anyhow::bail!("the hub's server stopped"),
            }
        }
        Command::Fleet { db } => {
            let pool = hub::db::connect(&db.database_url, 1).await?;
            println!(
                "{:<14} {:<22} {:<20} {:>8} {:>8} {:<7} {:>6}",
                "kiosk", "hall", "last seen (UTC)", "held", "verified", "chain", "alerts"
            );
            for k in hub::fleet_view::kiosks(&pool, None).await? {
                let seen = k
                    .last_seen_at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{:<14} {:<22} {:<20} {:>8} {:>8} {:<7} {:>6}",
                    k.id, k.hall, seen, k.stored_through, k.verified_seq, k.chain_state, k.open_alerts
                );
            }
            println!("{}", hub::fleet_view::summary(&pool).await?);
        }
        Command::Recon(ReconCommand::Run { day, accounts, db }) => {
            let pool = hub::db::connect(&db.database_url, 2).await?;
            let now = kiosk_core::Ts(chrono::Utc::now().timestamp_millis());
            let day = day.unwrap_or_else(|| kiosk_core::recon::Day::latest_complete(now).date());
            let recon_day = kiosk_core::recon::Day::from_date(day);
            if let Some(path) = accounts {
                let clients = hub::recon::accounts::AccountsFile::load(&path)?.clients()?;
                let fetched = clients.fetch(&pool, &recon_day.booking_days()).await?;
                for (source, merchant, date, sha256, new) in &fetched.stored {
                    let kept = if *new { "stored" } else { "unchanged" };
                    eprintln!("{source} {merchant} {date}: {kept}, sha256 {sha256}");
                }
                for failed in &fetched.failed {
                    eprintln!("not fetched: {failed}");
                }
            }
            let summary = hub::recon::run_day(&pool, day, now).await?;
            for line in &summary.unreadable {
                eprintln!("unread: {line}");
            }
            eprintln!(
                "{day}: {} held for a later day's files, {} payments in suspense settled by command",
                summary.held, summary.settled
            );
            println!("{}", summary.line());
        }
        Command::Recon(ReconCommand::Exceptions { db }) => {
            let pool = hub::db::connect(&db.database_url, 1).await?;
            for e in hub::recon::desk::open(&pool, 1_000).await? {
                println!("#{:<6} {} {}", e.id, e.day, e.detail);
            }
        }
        Command::Migrate { db } => {
            hub::db::connect(&db.database_url, 1).await.context("migrating")?;
            println!("schema up to date");
        }
        Command::Kiosk(KioskCommand::Add { id, hall, hub_url, tls_dir, operator, db }) => {
            let tls = hub::tls::HubTls::load(&tls_dir)?;
            let pool = hub::db::connect(&db.database_url, 1).await?;
            let code = hub::kiosks::issue_pairing_code(&pool, &id, &hall, &operator).await?;
            let ticket = fleet::PairingTicket {
                hub_url,
                ca_fingerprint: tls.ca_fingerprint.clone(),
                code: code.clone(),
            };
            println!("kiosk {id}: pairing code {code} (valid 24 h)");
            println!("{}", ticket.to_qr_text());
        }
        Command::Operator(OperatorCommand::Set { name, role, hall, db }) => {
            let role = hub::console::accounts::Role::parse(&role)
                .context("the role is viewer, hall_supervisor, finance or admin")?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(password.chars().count() >= 10, "a password has at least 10 characters");
            let pool = hub::db::connect(&db.database_url, 1).await?;
            hub::console::accounts::upsert(&pool, &name, password, role, hall.as_deref(), "cli").await?;
            match hall.filter(|_| role == hub::console::accounts::Role::HallSupervisor) {
                Some(hall) => println!("operator {name} ({}, {hall}) set", role.as_str()),
                None => println!("operator {name} ({}) set", role.as_str()),
            }
        }
        Command::Operator(OperatorCommand::Disable { name, by, db }) => {
            let pool = hub::db::connect(&db.database_url, 1).await?;
            anyhow::ensure!(
                hub::console::accounts::disable(&pool, &name, &by).await?,
                "no enabled operator is called {name}"
            );
            println!("operator {name} disabled");
        }
        Command::Package(PackageCommand::Add { deb, update_key, operator, db }) => {
            let key = fleet::package::load_public_key(&update_key)?;
            let sig_path = fleet::package::signature_path(&deb);
            let signature = fleet::package::PackageSignature::parse(
                &std::fs::read_to_string(&sig_path).with_context(|| format!("{}", sig_path.display()))?,
            )?;
            let bytes = std::fs::read(&deb).with_context(|| format!("{}", deb.display()))?;
            let pool = hub::db::connect(&db.database_url, 1).await?;
            let added = hub::packages::add(&pool, &key, &signature, &bytes, &operator).await?;
            let (package, version) = (&signature.package, &signature.version);
            println!("{package} {version}: {}", if added { "added" } else { "held already" });
        }
        Command::Package(PackageCommand::List { db }) => {
            let pool = hub::db::connect(&db.database_url, 1).await?;
            for p in hub::packages::list(&pool).await? {
                println!(
                    "{} {} {} bytes sha256 {} by {} at {}",
                    p.package, p.version, p.size, p.sha256, p.uploaded_by, p.uploaded_at
                );
            }
        }
        Command::Rollout(RolloutCommand::Start { version, cohorts, max_failure_pct, operator, db }) => {
            let pool = hub::db::connect(&db.database_url, 1).await?;
            let id = hub::rollouts::start(
                &pool,
                "yizhan",
                &version,
                (&cohorts, max_failure_pct),
                &operator,
                Default::default(),
            )
            .await?;
            println!("roll-out {id} of yizhan {version} started: cohorts {cohorts:?}, at most {max_failure_pct}% failures");
        }
        Command::Rollout(RolloutCommand::Stop { id, reason, operator, db }) => {
            let pool = hub::db::connect(&db.database_url, 1).await?;
            anyhow::ensure!(
                hub::rollouts::stop(&pool, id, &operator, &reason).await?,
                "roll-out {id} is not running"
            );
            println!("roll-out {id} stopped");
        }
        Command::Rollout(RolloutCommand::List { db }) => {
            let pool = hub::db::connect(&db.database_url, 1).await?;
            for r in hub::rollouts::list(&pool).await? {
                let p = hub::rollouts::progress(&pool, r.id).await?;
                println!(
                    "{} {} {} {} stage {}/{}: {} offered, {} installed, {} failed{}",
                    r.id,
                    r.package,
                    r.version,
                    r.state,
                    r.stage + 1,
                    r.cohorts.len(),
                    p.offered,
                    p.installed,
                    p.failed,
                    r.reason.map(|why| format!(" — {why}")).unwrap_or_default()
                );
            }
        }
        Command::Kiosk(KioskCommand::Revoke { id, operator, db }) => {
            let pool = hub::db::connect(&db.database_url, 1).await?;
            hub::kiosks::revoke(&pool, &id, &operator).await?;
            println!("kiosk {id} revoked");
        }
    }
    Ok(())
}
