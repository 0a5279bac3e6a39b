//! The updater's half (`yizhan update apply`, root, one run per request): takes its own copies
//! of the two staged packages (the kiosk's user wrote them: read through
//! [`super::untrusted`], checked in memory, then written to root's `work/`), installs the new
//! version from its copy, restarts the kiosk and waits for the kiosk to echo the nonce it was
//! given — and, if it does not in time, or dpkg fails, or the version installed is not the one
//! asked for, puts the previous version back by itself. Every step is in root's `state.json`
//! before it is taken: started again after a power cut, it carries on from there. Whatever
//! happens after it has stopped the kiosk, it starts the kiosk again before it ends.

use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::staging::{last_health, Package};
use super::{deb, now_ms, Slot, UpdateDir, UpdateRecord, UpdateState, PACKAGE};
use crate::hub_link::write_durably;

/// A request older than this was left behind (the kiosk went back into service without an
/// answer): it no longer means "nobody is paying now", so it is dropped, not acted on.
pub const REQUEST_FRESH_FOR: Duration = Duration::from_secs(300);

/// How the updater reaches the system: where it is, the key, how the kiosk is stopped and
/// restarted, and how long the new version has to say it is healthy.
#[derive(Debug)]
pub struct Updater {
    pub root: PathBuf,
    pub dir: UpdateDir,
    pub key: fleet::package::VerifyingKey,
    /// A shell command that stops the kiosk (`systemctl stop yizhan.service`).
    pub stop: String,
    /// A shell command that (re)starts it, clearing a start limit a broken version ran into.
    pub start: String,
    /// Counted from when `start` has returned.
    pub health_timeout: Duration,
    /// How often `health` is looked at while waiting.
    pub poll: Duration,
    /// The kiosk was stopped by this run and not started since.
    stopped: Cell<bool>,
}

/// What one run came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No request, nothing under way.
    NothingToDo,
    /// A request left from long ago, dropped.
    StaleRequest,
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

/// Why a staged package was not taken.
enum Untaken {
    /// It is not the operator's package as signed: the version is refused here for good.
    Refused(String),
    /// Something that may pass (a full disk, a file missing): the run ends with an error.
    Passing(String),
}

impl Updater {
    pub fn new(
        root: PathBuf,
        dir: UpdateDir,
        key: fleet::package::VerifyingKey,
        (stop, start): (String, String),
        health_timeout: Duration,
    ) -> Updater {
        let poll = Duration::from_millis(500);
        Updater { root, dir, key, stop, start, health_timeout, poll, stopped: Cell::new(false) }
    }

    fn save(&self, record: &UpdateRecord) -> Result<(), String> {
        let text = serde_json::to_string_pretty(record).expect("a record serialises");
        write_durably(&self.dir.state(), text).map_err(|e| format!("state.json could not be written: {e}"))
    }

    fn set(&self, state: UpdateState) -> Result<(), String> {
        let mut record = self.dir.record();
        record.state = state;
        self.save(&record)
    }

    /// Records `state` and `version` as failed here (not offered round and round).
    fn fail(&self, state: UpdateState, version: &str) -> Result<(), String> {
        let mut record = self.dir.record();
        record.state = state;
        if !record.failed.iter().any(|v| v == version) {
            record.failed.push(version.to_string());
        }
        self.save(&record)
    }

    fn shell(&self, command: &str) {
        match std::process::Command::new("sh").arg("-c").arg(command).status() {
            Ok(status) if status.success() => {}
            Ok(status) => tracing::warn!(command, %status, "updater: a command failed"),
            Err(error) => tracing::warn!(command, %error, "updater: a command could not run"),
        }
    }

    fn stop_kiosk(&self) {
        self.stopped.set(true);
        self.shell(&self.stop);
    }

    fn start_kiosk(&self) {
        self.shell(&self.start);
        self.stopped.set(false);
    }

    /// One run: resumes an update a power cut interrupted, or installs the one requested. On an
    /// error the kiosk is started again if this run stopped it, and the request is dropped (so
    /// the path unit does not start the updater round and round; the kiosk asks again when idle).
    pub fn run(&self) -> Result<Outcome, String> {
        let outcome = self.run_once();
        if outcome.is_err() {
            let _ = std::fs::remove_file(self.dir.request());
            if self.stopped.get() {
                self.start_kiosk();
            }
        }
        outcome
    }

    fn run_once(&self) -> Result<Outcome, String> {
        match self.dir.record().state {
            UpdateState::Installing { from, to, .. } => {
                // The power went inside dpkg, or before it: with the kiosk (started at boot)
                // stopped, install the checked copy again, whether dpkg had begun or not.
                tracing::warn!(%from, %to, "updater: an install was cut short; installing again");
                self.stop_kiosk();
                let _ = deb::configure_pending(&self.root);
                if let Err(why) = deb::install(&self.root, &self.dir.work(Slot::Target)) {
                    return self.roll_back(
                        &from,
                        &to,
                        &format!("the interrupted install could not be finished: {why}"),
                    );
                }
                self.restart_and_watch(&from, &to)
            }
            // The health check starts over: the power cut may have fallen inside it.
            UpdateState::AwaitingHealth { from, to, .. } => self.restart_and_watch(&from, &to),
            UpdateState::RollingBack { from, to, reason } => self.roll_back(&from, &to, &reason),
            _ if std::fs::symlink_metadata(self.dir.request()).is_ok() => {
                if self.request_is_stale() {
                    tracing::warn!("updater: an install request from long ago, dropped");
                    let _ = std::fs::remove_file(self.dir.request());
                    return Ok(Outcome::StaleRequest);
                }
                self.install_requested()
            }
            _ => Ok(Outcome::NothingToDo),
        }
    }

    fn request_is_stale(&self) -> bool {
        let written = std::fs::symlink_metadata(self.dir.request()).and_then(|m| m.modified());
        let age = written.ok().and_then(|t| SystemTime::now().duration_since(t).ok());
        age.is_some_and(|age| age > REQUEST_FRESH_FOR)
    }

    /// The version the request names, if it reads as a Debian version; "?" otherwise (it is
    /// only a name for the log and the heartbeat, never trusted).
    fn requested_version(&self) -> String {
        let text = self.dir.read_kiosk_file(&[], "install-request", 128).unwrap_or_default();
        let text = String::from_utf8(text).unwrap_or_default();
        let version = text.trim();
        let debian = |c: char| c.is_ascii_alphanumeric() || ".+~:-".contains(c);
        if !version.is_empty() && version.len() <= 64 && version.chars().all(debian) {
            version.to_string()
        } else {
            "?".to_string()
        }
    }

    fn refuse(&self, version: &str, reason: String) -> Result<Outcome, String> {
        tracing::error!(version, %reason, "updater: staged package refused");
        let refused =
            UpdateState::Refused { version: version.to_string(), reason: reason.clone(), at_ms: now_ms() };
        self.fail(refused, version)?;
        let _ = std::fs::remove_file(self.dir.request());
        Ok(Outcome::Refused { version: version.to_string(), reason })
    }

    /// Root's own checked copy of a staged package: signed by the operator, and a .deb of the
    /// name, version and architecture it is signed as.
    fn take_copy(&self, slot: Slot) -> Result<Package, Untaken> {
        let package = Package::read_staged(&self.dir, slot).map_err(Untaken::Refused)?;
        package.check(&self.key).map_err(Untaken::Refused)?;
        let copy = self.dir.work(slot);
        package.write(&copy).map_err(|e| Untaken::Passing(format!("{}: {e}", copy.display())))?;
        let field = |name| deb::field(&copy, name).map_err(Untaken::Refused);
        let fields = (field("Package")?, field("Version")?, field("Architecture")?);
        let signed = &package.signature;
        if fields != (signed.package.clone(), signed.version.clone(), signed.architecture.clone()) {
            return Err(Untaken::Refused(format!(
                "the .deb is {} {} {}, but it is signed as {} {} {}",
                fields.0, fields.1, fields.2, signed.package, signed.version, signed.architecture
            )));
        }
        Ok(package)
    }

    fn install_requested(&self) -> Result<Outcome, String> {
        let claimed = self.requested_version();
        let target = match self.take_copy(Slot::Target) {
            Ok(target) => target,
            Err(Untaken::Refused(why)) => return self.refuse(&claimed, why),
            Err(Untaken::Passing(why)) => return Err(why),
        };
        let to = target.version().to_string();
        if self.dir.record().failed.contains(&to) {
            return self.refuse(&to, format!("{to} was rolled back or refused here before"));
        }
        let previous = match self.take_copy(Slot::Previous) {
            Ok(previous) => previous,
            Err(Untaken::Refused(why)) => return self.refuse(&to, format!("the fall-back package: {why}")),
            Err(Untaken::Passing(why)) => return Err(why),
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
        if !deb::newer(&to, &from)? {
            return self.refuse(&to, format!("{to} is not newer than {from}, which runs here"));
        }
        self.set(UpdateState::Installing { from: from.clone(), to: to.clone(), started_ms: now_ms() })?;
        let _ = std::fs::remove_file(self.dir.request());
        self.stop_kiosk();
        if let Err(why) = deb::install(&self.root, &self.dir.work(Slot::Target)) {
            if deb::is_lock_busy(&why) {
                // Another dpkg (unattended-upgrades) holds the lock: nothing changed; next time.
                self.set(UpdateState::Idle)?;
                return Err(why);
            }
            return self.roll_back(&from, &to, &format!("dpkg could not install it: {why}"));
        }
        self.restart_and_watch(&from, &to)
    }

    /// Restarts the kiosk on `to` with a fresh nonce and waits for its health report echoing
    /// it; rolls back without one, or when `to` is not what dpkg says is installed.
    fn restart_and_watch(&self, from: &str, to: &str) -> Result<Outcome, String> {
        let nonce = fresh_nonce();
        write_durably(&self.dir.nonce(), &nonce)
            .map_err(|e| format!("the health nonce could not be written: {e}"))?;
        let installed_ms = now_ms();
        let deadline_ms = installed_ms + self.health_timeout.as_millis() as i64;
        self.set(UpdateState::AwaitingHealth {
            from: from.into(),
            to: to.into(),
            installed_ms,
            deadline_ms,
        })?;
        self.start_kiosk();
        // Monotonic: a clock stepped by NTP at boot moves neither the deadline nor the report.
        let deadline = Instant::now() + self.health_timeout;
        loop {
            if last_health(&self.dir).is_some_and(|h| h.nonce == nonce) {
                return match deb::installed_version(&self.root, PACKAGE)? {
                    Some(installed) if installed == to => self.healthy(to),
                    installed => self.roll_back(
                        from,
                        to,
                        &format!(
                            "it reported healthy, but {} is installed",
                            installed.as_deref().unwrap_or("nothing")
                        ),
                    ),
                };
            }
            if Instant::now() >= deadline {
                let waited = self.health_timeout.as_secs();
                return self.roll_back(from, to, &format!("it did not report healthy within {waited} s"));
            }
            std::thread::sleep(self.poll);
        }
    }

    fn healthy(&self, version: &str) -> Result<Outcome, String> {
        // The package installed is the fall-back of the next update.
        self.keep(Slot::Target);
        self.set(UpdateState::Healthy { version: version.into(), at_ms: now_ms() })?;
        tracing::info!(version, "updater: the new version is healthy");
        Ok(Outcome::Healthy(version.into()))
    }

    fn roll_back(&self, from: &str, to: &str, reason: &str) -> Result<Outcome, String> {
        tracing::error!(from, to, reason, "updater: rolling back");
        // On record first: a power cut from here on resumes the roll-back, not the install.
        let rolling = UpdateState::RollingBack { from: from.into(), to: to.into(), reason: reason.into() };
        self.set(rolling)?;
        self.stop_kiosk();
        // Root's copy, checked again: nothing but the operator's package goes in.
        let previous = self.dir.work(Slot::Previous);
        let checked = Package::read(&previous).and_then(|p| p.check(&self.key).map(|()| p));
        let back = match checked {
            Ok(p) if p.version() == from => deb::install(&self.root, &previous),
            Ok(p) => Err(format!("root's fall-back copy is {}, not {from}", p.version())),
            Err(why) => Err(why),
        };
        let reason = match back {
            Ok(()) => {
                self.keep(Slot::Previous);
                reason.to_string()
            }
            Err(why) => format!("{reason}; putting {from} back failed too: {why}"),
        };
        let rolled_back = UpdateState::RolledBack {
            from: from.into(),
            to: to.into(),
            reason: reason.clone(),
            at_ms: now_ms(),
        };
        self.fail(rolled_back, to)?;
        self.start_kiosk();
        Ok(Outcome::RolledBack { to: from.into(), reason })
    }

    /// Keeps root's copy of `slot` as the package installed (the next update's fall-back).
    fn keep(&self, slot: Slot) {
        let kept = Package::read(&self.dir.work(slot))
            .and_then(|p| p.write(&self.dir.kept()).map_err(|e| e.to_string()));
        if let Err(error) = kept {
            tracing::warn!(%error, "updater: the installed package could not be kept for the next fall-back");
        }
    }
}

/// 128 random bits, hex.
fn fresh_nonce() -> String {
    let mut bytes = [0_u8; 16];
    if let Ok(mut urandom) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = urandom.read_exact(&mut bytes);
    }
    let time = now_ms().to_le_bytes();
    bytes.iter().zip(time.iter().cycle()).map(|(b, t)| format!("{:02x}", b ^ t)).collect()
}
