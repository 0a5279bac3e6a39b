//! `yizhan update …`: signing a package (the operator), staging one by hand, asking for the
//! install, the updater's status, and the root updater's run (`crate::update`).
//! Exit codes: 0 done (or nothing to do); 1 refused or rolled back; 2 bad arguments or files.

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
    let dir = UpdateDir::new(data_dir);
    let result = match command {
        UpdateCommand::Sign { key, package } => sign(key, package),
        UpdateCommand::Stage { package, previous } => stage(config_file, &dir, package, previous.as_deref()),
        UpdateCommand::Request => staging::request_install(&dir)
            .map(|()| println!("install requested: the updater takes it up now"))
            .map_err(|e| (2, format!("could not ask for it: {e}"))),
        UpdateCommand::Status => {
            status(&dir);
            Ok(())
        }
        UpdateCommand::Apply(args) => apply(&dir, args),
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
    let signature = PackageSignature::sign(&key, &name, &version, &bytes);
    let out = signature_path(package);
    std::fs::write(&out, signature.to_json()).map_err(|e| (2, format!("{}: {e}", out.display())))?;
    println!("signed {name} {version} (sha256 {}) → {}", signature.sha256, out.display());
    Ok(())
}

fn stage(config_file: &Path, dir: &UpdateDir, package: &Path, previous: Option<&Path>) -> Done {
    let config = KioskConfig::load(config_file).map_err(|e| (2, e.to_string()))?;
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
        Err(why) => Err((1, format!("refused: {why}"))),
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
    let updater = Updater {
        root: args.root.clone(),
        dir: dir.clone(),
        key,
        stop: args.stop.clone(),
        start: args.start.clone(),
        health_timeout: Duration::from_secs(args.health_timeout_s),
        poll: Duration::from_millis(500),
    };
    match updater.run().map_err(|e| (1, e))? {
        Outcome::NothingToDo => println!("nothing to install"),
        Outcome::Healthy(version) => println!("{version} installed and healthy"),
        Outcome::RolledBack { to, reason } => return Err((1, format!("rolled back to {to}: {reason}"))),
        Outcome::Refused { version, reason } => return Err((1, format!("{version} refused: {reason}"))),
    }
    Ok(())
}
