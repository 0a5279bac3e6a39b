//! `yizhan update …`: signing a package (the operator), staging one by hand, asking for the
//! install, the updater's status, and the root updater's run (`crate::update`).
//! Exit codes: 0 done (or nothing to do); 1 an error (the updater's request is dropped); 2 bad
//! arguments or files; 3 refused or rolled back (what the kiosk reports to the hub: no failure
//! of the updater's unit).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use fleet::package::{load_private_key, load_public_key, PackageSignature};

use crate::cli::{UpdateApplyArgs, UpdateCommand};
use crate::config::KioskConfig;
use crate::update::apply::{Outcome, Updater};
use crate::update::staging::{self, Package, Staged};
use crate::update::{deb, signature_path, UpdateDir, PACKAGE};

pub fn run(command: &UpdateCommand, config_file: &Path, data_dir: &Path) -> ExitCode {
    let result = match command {
        UpdateCommand::Sign { key, package } => sign(key, package),
        UpdateCommand::Apply(args) => apply(&UpdateDir::new(data_dir, &args.root), args),
        // The rest are the kiosk's side: its configuration says where the system's root is.
        _ => match KioskConfig::load(config_file) {
            Err(error) => Err((2, error.to_string())),
            Ok(config) => {
                let dir = UpdateDir::new(data_dir, &config.updates.root);
                match command {
                    UpdateCommand::Stage { package, previous } => {
                        stage(&config, &dir, package, previous.as_deref())
                    }
                    UpdateCommand::Request => staging::request_install(&dir)
                        .map(|()| println!("install requested: the updater takes it up now"))
                        .map_err(|e| (2, format!("could not ask for it: {e}"))),
                    _ => {
                        status(&dir);
                        Ok(())
                    }
                }
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, why)) => {
            eprintln!("yizhan update: {why}");
            ExitCode::from(code)
        }
    }
}

type Done = Result<(), (u8, String)>;

fn sign(key: &Path, package: &Path) -> Done {
    let key = load_private_key(key).map_err(|e| (2, e.to_string()))?;
    let bytes = std::fs::read(package).map_err(|e| (2, format!("{}: {e}", package.display())))?;
    let name = deb::field(package, "Package").map_err(|e| (2, e))?;
    let version = deb::field(package, "Version").map_err(|e| (2, e))?;
    let architecture = deb::field(package, "Architecture").map_err(|e| (2, e))?;
    let signature = PackageSignature::sign(&key, &name, &version, &architecture, &bytes);
    let out = signature_path(package);
    std::fs::write(&out, signature.to_json()).map_err(|e| (2, format!("{}: {e}", out.display())))?;
    println!("signed {name} {version} {architecture} (sha256 {}) → {}", signature.sha256, out.display());
    Ok(())
}

fn stage(config: &KioskConfig, dir: &UpdateDir, package: &Path, previous: Option<&Path>) -> Done {
    let key = load_public_key(&config.updates.public_key).map_err(|e| (2, e.to_string()))?;
    let target = Package::read(package).map_err(|e| (2, e))?;
    let running =
        deb::installed_version(&config.updates.root, PACKAGE).map_err(|e| (2, e))?.ok_or_else(|| {
            (1, format!("{PACKAGE} is not installed from its package here: nothing to fall back to"))
        })?;
    let previous = match previous {
        Some(path) => Package::read(path).map_err(|e| (2, e))?,
        None => staging::kept_package(dir, &running).ok_or_else(|| {
            (
                2,
                format!(
                    "no package of {running} (the version running) is kept here: give it with --previous"
                ),
            )
        })?,
    };
    match staging::stage(dir, &key, &target, &previous, &running) {
        Ok(Staged::Waiting(version)) => {
            println!("{version} staged over {running}: installed when the kiosk is idle");
            Ok(())
        }
        Ok(Staged::AlreadyHere(version)) => {
            println!("{version} runs already");
            Ok(())
        }
        Err(why) => Err((3, format!("refused: {why}"))),
    }
}

fn status(dir: &UpdateDir) {
    let record = dir.record();
    println!("update: {}", record.state.describe());
    if let Some(version) = staging::staged_version(dir) {
        let asked = if dir.request().exists() { ", install asked for" } else { "" };
        println!("staged: {version}{asked}");
    }
    if !record.failed.is_empty() {
        println!("rolled back or refused here: {}", record.failed.join(", "));
    }
    if let Some(health) = staging::last_health(dir) {
        let at =
            chrono::DateTime::from_timestamp_millis(health.at_ms).map(|t| t.to_rfc3339()).unwrap_or_default();
        println!("last healthy start: {at} (software {})", health.software);
    }
}

fn apply(dir: &UpdateDir, args: &UpdateApplyArgs) -> Done {
    let key = load_public_key(&args.key).map_err(|e| (2, e.to_string()))?;
    let commands = (args.stop.clone(), args.start.clone());
    let updater = Updater::new(
        args.root.clone(),
        dir.clone(),
        key,
        commands,
        Duration::from_secs(args.health_timeout_s),
    );
    match updater.run().map_err(|e| (1, e))? {
        Outcome::NothingToDo => println!("nothing to install"),
        Outcome::StaleRequest => {
            println!("an install request from long ago, dropped: the kiosk asks again when idle")
        }
        Outcome::Healthy(version) => println!("{version} installed and healthy"),
        Outcome::RolledBack { to, reason } => return Err((3, format!("rolled back to {to}: {reason}"))),
        Outcome::Refused { version, reason } => return Err((3, format!("{version} refused: {reason}"))),
    }
    Ok(())
}
