//! `yizhan doctor`: what a technician runs on site, one line each, ✔ or ✗ with what to do —
//! the configuration, the journal verified, every device answering, the fleet hub reachable
//! and accepting this kiosk's certificate, the software update's state, the clock in sync, the
//! disk. Exit 0 when nothing is wrong, 1 otherwise. Run it with the kiosk stopped (`systemctl stop yizhan`): the running
//! kiosk holds its devices.

use std::path::Path;
use std::process::ExitCode;

use crate::backend::Backend;
use crate::config::KioskConfig;
use crate::hub_link::HubSettings;

/// Below this much free disk the journal's growth, and an update, are at risk.
const DISK_LOW_BYTES: u64 = 1 << 30;

/// One finding.
enum Finding {
    Good(String),
    Bad {
        what: String,
        to_do: String,
    },
    /// Nothing to judge (not configured, or cannot be told here).
    Note(String),
}

pub async fn run(backend: &Backend, config: &KioskConfig, config_file: &Path, data_dir: &Path) -> ExitCode {
    let mut findings = vec![Finding::Good(format!("configuration {} is valid", config_file.display()))];
    findings.push(journal(backend).await);
    findings.extend(devices(backend).await);
    findings.extend(super::devices::missing_stable_names(config).into_iter().map(|(device, why)| {
        Finding::Bad {
            what: format!("{device}: its stable name is missing"),
            to_do: why.replace('\n', "\n      "),
        }
    }));
    findings.push(hub(backend, config, config_file, data_dir).await);
    findings.push(update_state(&crate::update::UpdateDir::new(data_dir, &config.updates.root)));
    findings.push(clock());
    findings.push(disk(&crate::backend::journal_path(config, data_dir)));
    let mut wrong = 0;
    for finding in &findings {
        match finding {
            Finding::Good(what) => println!("✔ {what}"),
            Finding::Bad { what, to_do } => {
                wrong += 1;
                println!("✗ {what}\n    → {to_do}");
            }
            Finding::Note(what) => println!("– {what}"),
        }
    }
    if wrong == 0 {
        println!("nothing wrong found");
        ExitCode::SUCCESS
    } else {
        println!("{wrong} thing(s) to put right");
        ExitCode::from(1)
    }
}

async fn journal(backend: &Backend) -> Finding {
    match super::journal_cmd::check(&backend.runtime.journal).await {
        Ok((rows, problems)) if problems.is_empty() => {
            Finding::Good(format!("journal verified: {rows} transitions, chain and audit rows intact"))
        }
        Ok((rows, problems)) => Finding::Bad {
            what: format!(
                "journal: {} problem(s) in {rows} transitions, first: {}",
                problems.len(),
                problems[0]
            ),
            to_do:
                "no money is taken; `yizhan journal verify` lists them; call the operator before touching it"
                    .into(),
        },
        Err(error) => Finding::Bad {
            what: format!("journal cannot be read: {error}"),
            to_do: "check the data folder's disk and permissions; `yizhan journal verify`".into(),
        },
    }
}

async fn devices(backend: &Backend) -> Vec<Finding> {
    use kiosk_core::session::Lang;
    let report = crate::ui::status::report(backend).await;
    report
        .devices
        .iter()
        .map(|line| {
            let what = format!("{}: {}", line.name.in_lang(Lang::En), line.status.in_lang(Lang::En));
            if line.ok {
                Finding::Good(what)
            } else {
                let to_do = "check its cable, power and the port in [devices]; `yizhan devices` says more";
                Finding::Bad { what, to_do: to_do.into() }
            }
        })
        .collect()
}

async fn hub(backend: &Backend, config: &KioskConfig, config_file: &Path, data_dir: &Path) -> Finding {
    let Some(settings) = HubSettings::from_config(config, config_file, data_dir) else {
        return Finding::Note("no fleet hub configured ([hub])".into());
    };
    let client = match settings.client() {
        Ok(client) => client,
        Err(error) => {
            return Finding::Bad {
                what: format!("fleet hub {}: not paired ({error})", settings.url),
                to_do: "staff panel → Pair with the hub, and scan the console's QR".into(),
            }
        }
    };
    let reader = match journal::OutboxReader::open(&settings.journal).await {
        Ok(reader) => reader,
        Err(error) => {
            return Finding::Bad {
                what: format!("journal for the hub: {error}"),
                to_do: "see the journal line".into(),
            }
        }
    };
    // A heartbeat: the hub answers only a live certificate of a kiosk it has not revoked. The
    // commands in its answer are left for the kiosk (they come again until acknowledged).
    let beat = crate::hub_link::status::heartbeat(backend, &reader, &settings).await;
    match client.heartbeat(&beat).await {
        Ok(_) => Finding::Good(format!(
            "fleet hub {} reachable; it accepts this kiosk's certificate",
            settings.url
        )),
        Err(error) if error.is_revoked() => Finding::Bad {
            what: format!("fleet hub {}: this kiosk is revoked ({error})", settings.url),
            to_do: "ask the operator for a new kiosk id and pairing QR".into(),
        },
        Err(error) => Finding::Bad {
            what: format!("fleet hub {} not reached: {error}", settings.url),
            to_do: "check the network and the hub's address in [hub]; payments go on meanwhile".into(),
        },
    }
}

/// Where the last software update stands (`crate::update`).
fn update_state(dir: &crate::update::UpdateDir) -> Finding {
    use crate::update::UpdateState;
    let record = dir.record();
    match &record.state {
        UpdateState::RolledBack { .. } | UpdateState::Refused { .. } => Finding::Bad {
            what: format!("software update: {}", record.state.describe()),
            to_do: "the previous version runs; the hub's Software updates page shows the roll-out; `yizhan update status`"
                .into(),
        },
        state if state.under_way() => Finding::Bad {
            what: format!("software update under way: {}", record.state.describe()),
            to_do: "the updater finishes it (systemctl status yizhan-update); do not power off".into(),
        },
        state => Finding::Good(format!("software update: {}", state.describe())),
    }
}

/// Whether the system clock is synchronised (receipts, order numbers and statements need it).
fn clock() -> Finding {
    let answer = std::process::Command::new("timedatectl")
        .args(["show", "--property=NTPSynchronized", "--value"])
        .output();
    match answer {
        Ok(out) if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "yes" => {
            Finding::Good("clock synchronised (NTP)".into())
        }
        Ok(out) if out.status.success() => Finding::Bad {
            what: "clock not synchronised".into(),
            to_do: "`timedatectl set-ntp true`, and check the network reaches a time server".into(),
        },
        _ => Finding::Note("clock: cannot tell here (no timedatectl or no systemd)".into()),
    }
}

fn disk(journal: &Path) -> Finding {
    let free = crate::hub_link::status::disk_free(journal);
    let what = format!("disk: {} MiB free beside the journal", free / (1 << 20));
    if free >= DISK_LOW_BYTES {
        Finding::Good(what)
    } else {
        Finding::Bad {
            what,
            to_do: "free space on the data disk (old logs, packages); never delete the journal".into(),
        }
    }
}
