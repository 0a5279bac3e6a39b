//! `yizhan hub …`: pairing with the fleet hub, and shipping now rather than in the background.

use std::path::Path;
use std::process::ExitCode;

use crate::backend::Backend;
use crate::cli::HubCommand;
use crate::config::KioskConfig;
use crate::hub_link::{self, HubSettings};

fn settings(config: &KioskConfig, config_file: &Path, data_dir: &Path) -> Result<HubSettings, ExitCode> {
    HubSettings::from_config(config, config_file, data_dir).ok_or_else(|| {
        eprintln!("yizhan: no [hub] section in the configuration: this kiosk is not part of a fleet");
        ExitCode::from(2)
    })
}

/// Pairs the kiosk with the hub named on `ticket`.
pub async fn pair(config: &KioskConfig, config_file: &Path, data_dir: &Path, ticket: &str) -> ExitCode {
    let settings = match settings(config, config_file, data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match hub_link::pairing::pair_from_qr(&settings, ticket).await {
        Ok(kiosk_id) => {
            if kiosk_id != config.kiosk.id {
                println!(
                    "note: the hub knows this kiosk as {kiosk_id}; its [kiosk] id is {}",
                    config.kiosk.id
                );
            }
            println!(
                "paired with {} as {kiosk_id}; identity in {}",
                settings.url,
                settings.identity_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(error @ hub_link::pairing::PairFailure::Failed(_)) => {
            eprintln!("yizhan: {error}");
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("yizhan: {error}");
            ExitCode::from(2)
        }
    }
}

pub async fn run(
    backend: &Backend,
    config: &KioskConfig,
    config_file: &Path,
    data_dir: &Path,
    command: HubCommand,
) -> ExitCode {
    let settings = match settings(config, config_file, data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let client = match settings.client() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(1);
        }
    };
    let shipper = match fleet::Shipper::open(&settings.journal, client.clone()).await {
        Ok(shipper) => shipper,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(1);
        }
    };
    match command {
        HubCommand::Pair { .. } => unreachable!("handled before the journal is opened"),
        HubCommand::Status => {
            let head = backend.runtime.journal.chain_head().await.map(|h| h.seq).unwrap_or(0);
            let mark = shipper.mark().acked_seq;
            println!("hub {}: paired; the hub holds transitions 1–{mark} of {head}", settings.url);
            ExitCode::SUCCESS
        }
        HubCommand::Sync => {
            let shipped = match shipper.ship_pending().await {
                Ok(round) => round,
                Err(error) => {
                    eprintln!("yizhan: shipping failed: {error}");
                    return ExitCode::from(1);
                }
            };
            let reader = match journal::OutboxReader::open(&settings.journal).await {
                Ok(reader) => reader,
                Err(error) => {
                    eprintln!("yizhan: {error}");
                    return ExitCode::from(1);
                }
            };
            let commands = match hub_link::beat_once(backend, &client, &reader, &settings).await {
                Ok(n) => n,
                Err(error) => {
                    eprintln!("yizhan: heartbeat failed: {error}");
                    return ExitCode::from(1);
                }
            };
            // An offered update is fetched in the background: this process waits for it.
            hub_link::update_offer::finish_in_flight().await;
            println!(
                "shipped {} transition(s); the hub holds 1–{}; {commands} command(s) carried out",
                shipped.rows_sent, shipped.stored_through
            );
            // This process holds the journal's lock and serves no customer: a configuration
            // pushed just now goes in place at once (the next start runs it).
            match settings.config_place.apply_staged() {
                Ok(Some(version)) => println!("configuration version {version} applied"),
                Ok(None) => {}
                Err(why) => eprintln!("yizhan: the pushed configuration: {why}"),
            }
            ExitCode::SUCCESS
        }
    }
}
