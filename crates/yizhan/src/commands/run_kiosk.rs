//! `yizhan` with no subcommand: settle what a power cut left behind, then open the screens. With
//! `run --headless` the kiosk instead takes commands on standard input — the same runtime the
//! screens drive.

use super::PRINTER;
use crate::backend::Backend;
use crate::cli::{PayArgs, PayWith};
use crate::hub_link::config_push::{self, ConfigPlace};
use crate::hub_link::pairing::HubConnection;
use crate::hub_link::HubSettings;
use crate::ui::app::UiEnd;
use crate::update::on_kiosk::Leave;
pub use crate::update::on_kiosk::Updates;
use std::process::ExitCode;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Settles unfinished payments, then runs the touch screen and the mirror until closed. With a
/// `[hub]`, the journal is shipped and heartbeats sent beside it all.
pub async fn run_with_screens(
    backend: Backend,
    config: &crate::config::KioskConfig,
    hub: Option<HubSettings>,
    updates: Updates,
) -> ExitCode {
    if let Err(code) = recover(&backend).await {
        return code;
    }
    let backend = std::sync::Arc::new(backend);
    let settler = spawn_settler(backend.clone(), settle_every(config));
    let hub = connect(&backend, hub).await;
    let pushed_waiting = config_waiting(hub.as_deref());
    let update = updates.clone();
    let waiting = move || pushed_waiting() || update.leave().is_some();
    let healthy = updates.clone();
    let health = (updates.settle, move || healthy.report_healthy());
    let ended = tokio::task::block_in_place(|| {
        crate::ui::app::run(backend.clone(), config, hub.clone(), waiting, health)
    });
    settler.abort();
    match ended {
        UiEnd::Closed(code) => code,
        UiEnd::Restart => start_afresh(&backend, hub.as_deref(), &updates).await,
    }
}

/// The connection to the fleet hub, when there is one, its link started if the kiosk is paired.
async fn connect(
    backend: &std::sync::Arc<Backend>,
    hub: Option<HubSettings>,
) -> Option<std::sync::Arc<HubConnection>> {
    let hub = HubConnection::new(hub?);
    hub.connect(backend).await;
    Some(hub)
}

/// Whether a configuration pushed from the hub waits to be taken up.
fn config_waiting(hub: Option<&HubConnection>) -> impl Fn() -> bool + 'static {
    let place = hub.map(|hub| hub.settings().config_place.clone());
    move || place.as_ref().is_some_and(ConfigPlace::waiting)
}

/// Takes up a configuration pushed from the hub, or an update: waits for any sale or settling
/// under way to end and keeps new ones out; then, for an update, asks the updater to install it
/// (which stops this process) or, for a package installed by hand, ends for systemd to start the
/// new program; otherwise starts the program afresh, which applies a staged configuration before
/// it opens the journal.
async fn start_afresh(backend: &Backend, hub: Option<&HubConnection>, updates: &Updates) -> ExitCode {
    let _no_sales = backend.runtime.between_customers().await;
    match updates.leave() {
        // No sale can start while this waits; the updater stops the kiosk, installs, starts it.
        Some(Leave::Install) => updates.ask_and_wait().await,
        // The program file is another now: end, and systemd (Restart=always) starts the new one.
        Some(Leave::Restart) => {
            updates.take_restart_request();
            if let Some(hub) = hub {
                hub.disconnect().await;
            }
            crate::service::stopping();
            return ExitCode::SUCCESS;
        }
        None => {}
    }
    if let Some(hub) = hub {
        hub.disconnect().await;
    }
    let error = config_push::restart_in_place();
    eprintln!("yizhan: could not start afresh for the pushed configuration: {error}");
    ExitCode::from(1)
}

/// How often a headless kiosk looks for a configuration staged from the hub.
const PUSHED_CONFIG_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// How often the background settler looks for due work: every 30 s of the channels' time.
fn settle_every(config: &crate::config::KioskConfig) -> std::time::Duration {
    std::time::Duration::from_secs(30) / config.timing.divisor.max(1)
}

/// Between customers, resumes whatever a failed job left unfinished and checks parked payments
/// (suspense, refunds on their way) when their journaled time comes (`Runtime::settle_due`).
fn spawn_settler(
    backend: std::sync::Arc<Backend>,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match backend.runtime.settle_due(&crate::runtime::Quiet).await {
                Ok(settled) if !settled.is_empty() => {
                    tracing::info!(count = settled.len(), "background settler moved payments on")
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "background settler failed"),
            }
        }
    })
}

/// Resumes every payment a power cut left behind; no new money is taken until this is done.
/// Then, and only then, systemd hears that the kiosk is ready (the journal was verified when
/// it was opened).
async fn recover(backend: &Backend) -> Result<(), ExitCode> {
    match backend.runtime.recover(&PRINTER).await {
        Ok(resumed) => {
            if !resumed.is_empty() {
                println!("settled {} unfinished payment(s)", resumed.len());
            }
            crate::service::ready();
            Ok(())
        }
        Err(error) => {
            eprintln!("yizhan: recovery failed; not taking money: {error}");
            Err(ExitCode::from(1))
        }
    }
}

pub async fn run(backend: std::sync::Arc<Backend>, hub: Option<HubSettings>, updates: Updates) -> ExitCode {
    let backend = &backend;
    println!(
        "{} kiosk {} (headless)",
        catalogue::bilingual("Yizhan", " "),
        backend.runtime.identity.kiosk_id
    );
    if let Err(code) = recover(backend).await {
        return code;
    }
    let hub = connect(backend, hub).await;
    let pushed_waiting = config_waiting(hub.as_deref());
    if let Some(sims) = &backend.sims {
        println!("embedded back end:");
        for (name, url) in sims.urls() {
            println!("  {name:<9} {url}");
        }
        println!("demo accounts (utility account amount in fen):");
        for (utility, account, amount) in sims.demo_accounts() {
            println!("  {utility:<6} {account:<12} {}", amount.0);
        }
    }
    println!("commands: pay UTILITY ACCOUNT PAYMENT_CODE | list | quit");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut last = ExitCode::SUCCESS;
    let mut settle = tokio::time::interval(std::time::Duration::from_secs(30));
    let mut pushed = tokio::time::interval(PUSHED_CONFIG_EVERY);
    // Fed from this loop between two commands: a command (a customer paying) holds it up, so
    // the unit's WatchdogSec is longer than the longest payment.
    let watchdog = crate::service::Watchdog::from_env();
    watchdog.watch_async_runtime();
    let mut watchdog_turns =
        tokio::time::interval(watchdog.every().unwrap_or(std::time::Duration::from_secs(3600)));
    // Healthy once this loop has turned for the settling time (what the updater waits for).
    let healthy_after = tokio::time::sleep(updates.settle);
    tokio::pin!(healthy_after);
    let mut reported = false;
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line,
            _ = &mut healthy_after, if !reported => {
                reported = true;
                updates.report_healthy();
                continue;
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = settle.tick() => {
                if let Err(error) = backend.runtime.settle_due(&PRINTER).await {
                    tracing::error!(%error, "background settler failed");
                }
                continue;
            }
            _ = watchdog_turns.tick() => {
                watchdog.turn();
                continue;
            }
            // Commands are read one at a time: between two of them nobody is paying.
            _ = pushed.tick() => {
                if pushed_waiting() {
                    println!("a configuration pushed from the hub is staged: starting afresh");
                    return start_afresh(backend, hub.as_deref(), &updates).await;
                }
                if let Some(leave) = updates.leave() {
                    println!("{}", match leave {
                        Leave::Install => "an update is staged: asking for it to be installed",
                        Leave::Restart => "a newer package is installed: ending for it to start",
                    });
                    return start_afresh(backend, hub.as_deref(), &updates).await;
                }
                continue;
            }
        };
        let Ok(Some(line)) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["pay", utility, account, code] => {
                let pay = PayWith {
                    code: Some(code.to_string()),
                    scan: false,
                    present: None,
                    bank_card: false,
                    cash: None,
                    no_receipt: false,
                };
                let args = PayArgs { utility: utility.to_string(), account: account.to_string(), pay };
                last = super::pay::run(backend, &args).await;
            }
            ["list"] => {
                if let Ok(rows) = backend.runtime.journal.list(10, 0).await {
                    for row in rows {
                        println!("  {} {}", row.id, row.state);
                    }
                }
            }
            ["quit"] | ["exit"] => break,
            [] => {}
            _ => println!("commands: pay UTILITY ACCOUNT PAYMENT_CODE | list | quit"),
        }
    }
    crate::service::stopping();
    last
}
