//! The updater's half (`yizhan update apply`, root, one run per request): checks the staged
//! packages again (the kiosk's user wrote them: nothing it says is taken on trust), installs the
//! new version, starts the kiosk and waits for it to say it is healthy — and, if it does not in
//! time, or dpkg fails, installs the previous version back and starts that. Every step is in
//! `state.json` before it is taken: started again after a power cut, it carries on from there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::staging::{last_health, Package};
use super::{deb, now_ms, signature_path, Slot, UpdateDir, UpdateRecord, UpdateState, PACKAGE};
use crate::hub_link::write_durably;

/// How the updater reaches the system: where it is, the key, how the kiosk is stopped and
/// started, and how long the new version has to say it is healthy.
#[derive(Clone, Debug)]
pub struct Updater {
    pub root: PathBuf,
    pub dir: UpdateDir,
    pub key: fleet::package::VerifyingKey,
    /// A shell command that stops the kiosk (`systemctl stop yizhan.service`).
    pub stop: String,
    /// A shell command that starts it (`systemctl start yizhan.service`).
    pub start: String,
    pub health_timeout: Duration,
    /// How often `health` is looked at while waiting.
    pub poll: Duration,
}

/// What one run came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No request, nothing under way.
    NothingToDo,
    Healthy(String),
    RolledBack {
        to: String,
        reason: String,
    },
    Refused {
        version: String,
        reason: String,
    },
}

impl Updater {
    fn save(&self, record: &UpdateRecord) -> Result<(), String> {
        let text = serde_json::to_string_pretty(record).expect("a record serialises");
        write_durably(&self.dir.state(), text).map_err(|e| format!("state.json could not be written: {e}"))
    }

    fn set(&self, state: UpdateState) -> Result<UpdateRecord, String> {
        let mut record = self.dir.record();
        record.state = state;
        self.save(&record)?;
        Ok(record)
    }

    fn shell(&self, command: &str) {
        match std::process::Command::new("sh").arg("-c").arg(command).status() {
            Ok(status) if status.success() => {}
            Ok(status) => tracing::warn!(command, %status, "updater: a command failed"),
            Err(error) => tracing::warn!(command, %error, "updater: a command could not run"),
        }
    }

    /// One run: resumes an update a power cut interrupted, or installs the one requested.
    pub fn run(&self) -> Result<Outcome, String> {
        match self.dir.record().state {
            UpdateState::Installing { from, to, .. } => {
                tracing::warn!(%from, %to, "updater: an install was cut short; finishing it");
                if let Err(why) = deb::configure_pending(&self.root) {
                    return self.roll_back(
                        &from,
                        &to,
                        &format!("the interrupted install could not be finished: {why}"),
                    );
                }
                self.start_and_watch(&from, &to)
            }
            // The health check starts over: the power cut may have fallen inside it.
            UpdateState::AwaitingHealth { from, to, .. } => self.start_and_watch(&from, &to),
            _ if self.dir.request().exists() => self.install_requested(),
            _ => Ok(Outcome::NothingToDo),
        }
    }

    fn refuse(&self, version: &str, reason: String) -> Result<Outcome, String> {
        tracing::error!(version, %reason, "updater: staged package refused");
        let mut record = self.dir.record();
        record.state =
            UpdateState::Refused { version: version.to_string(), reason: reason.clone(), at_ms: now_ms() };
        if !record.failed.iter().any(|v| v == version) {
            record.failed.push(version.to_string());
        }
        self.save(&record)?;
        self.clear_staged();
        Ok(Outcome::Refused { version: version.to_string(), reason })
    }

    /// A staged package, checked: its signature, and that the .deb inside is what it is signed as.
    fn checked(&self, slot: Slot) -> Result<Package, String> {
        let path = self.dir.staged(slot);
        let package = Package::read(&path)?;
        package.check(&self.key)?;
        let (name, version) = (deb::field(&path, "Package")?, deb::field(&path, "Version")?);
        if name != PACKAGE || version != package.version() {
            return Err(format!(
                "the .deb is {name} {version}, but it is signed as {PACKAGE} {}",
                package.version()
            ));
        }
        Ok(package)
    }

    fn install_requested(&self) -> Result<Outcome, String> {
        let claimed = std::fs::read_to_string(self.dir.request()).unwrap_or_default().trim().to_string();
        let target = match self.checked(Slot::Target) {
            Ok(target) => target,
            Err(why) => return self.refuse(if claimed.is_empty() { "?" } else { &claimed }, why),
        };
        let to = target.version().to_string();
        let previous = match self.checked(Slot::Previous) {
            Ok(previous) => previous,
            Err(why) => return self.refuse(&to, format!("the fall-back package: {why}")),
        };
        let from = match deb::installed_version(&self.root, PACKAGE)? {
            Some(installed) if installed == previous.version() => installed,
            Some(installed) => {
                return self.refuse(
                    &to,
                    format!("the fall-back package is {}, but {installed} is installed", previous.version()),
                )
            }
            None => {
                return self.refuse(&to, format!("{PACKAGE} is not installed here: nothing to fall back to"))
            }
        };
        self.set(UpdateState::Installing { from: from.clone(), to: to.clone(), started_ms: now_ms() })?;
        self.shell(&self.stop);
        if let Err(why) = deb::install(&self.root, &self.dir.staged(Slot::Target)) {
            return self.roll_back(&from, &to, &format!("dpkg could not install it: {why}"));
        }
        self.start_and_watch(&from, &to)
    }

    /// Starts the kiosk on `to` and waits for its health report; rolls back without one.
    fn start_and_watch(&self, from: &str, to: &str) -> Result<Outcome, String> {
        let installed_ms = now_ms();
        let deadline_ms = installed_ms + self.health_timeout.as_millis() as i64;
        let awaiting =
            UpdateState::AwaitingHealth { from: from.into(), to: to.into(), installed_ms, deadline_ms };
        self.set(awaiting)?;
        self.shell(&self.start);
        loop {
            if last_health(&self.dir).is_some_and(|h| h.at_ms >= installed_ms) {
                return self.healthy(to);
            }
            if now_ms() >= deadline_ms {
                let waited = self.health_timeout.as_secs();
                return self.roll_back(from, to, &format!("it did not report healthy within {waited} s"));
            }
            std::thread::sleep(self.poll);
        }
    }

    fn healthy(&self, version: &str) -> Result<Outcome, String> {
        // The package installed is the fall-back of the next update.
        let staged = self.dir.staged(Slot::Target);
        keep(&staged, &self.dir.installed());
        self.set(UpdateState::Healthy { version: version.into(), at_ms: now_ms() })?;
        self.clear_staged();
        tracing::info!(version, "updater: the new version is healthy");
        Ok(Outcome::Healthy(version.into()))
    }

    fn roll_back(&self, from: &str, to: &str, reason: &str) -> Result<Outcome, String> {
        tracing::error!(from, to, reason, "updater: rolling back");
        self.shell(&self.stop);
        let previous = self.dir.staged(Slot::Previous);
        let back = deb::install(&self.root, &previous);
        keep(&previous, &self.dir.installed());
        let reason = match back {
            Ok(()) => reason.to_string(),
            Err(why) => format!("{reason}; putting {from} back failed too: {why}"),
        };
        let mut record = self.dir.record();
        record.state = UpdateState::RolledBack {
            from: from.into(),
            to: to.into(),
            reason: reason.clone(),
            at_ms: now_ms(),
        };
        if !record.failed.iter().any(|v| v == to) {
            record.failed.push(to.into());
        }
        self.save(&record)?;
        self.shell(&self.start);
        self.clear_staged();
        Ok(Outcome::RolledBack { to: from.into(), reason })
    }

    fn clear_staged(&self) {
        let _ = std::fs::remove_dir_all(self.dir.dir.join("staged"));
        let _ = std::fs::remove_file(self.dir.request());
    }
}

/// Copies a package and its signature to `to` (the next update's fall-back).
fn keep(from: &Path, to: &Path) {
    let copied = std::fs::read(from).and_then(|bytes| write_durably(to, bytes)).and_then(|()| {
        std::fs::read(signature_path(from)).and_then(|sig| write_durably(&signature_path(to), sig))
    });
    if let Err(error) = copied {
        tracing::warn!(%error, "updater: the installed package could not be kept for the next fall-back");
    }
}
