//! Configurations the operator pushes from the hub: checked exactly as the kiosk checks its own
//! file at start-up, staged beside it, and put in place only between customers.
//!
//! The files, for a kiosk started with `--config /etc/yizhan/kiosk.toml`:
//!
//! | file                                   | what                                              |
//! |----------------------------------------|---------------------------------------------------|
//! | `/etc/yizhan/kiosk.toml.pushed`        | the staged text, waiting for a moment between customers |
//! | `/etc/yizhan/kiosk.toml.previous`      | the file it replaced, for a technician going back by hand |
//! | `<data>/config-version.json`           | the version running and the one staged            |
//!
//! A staged configuration is applied by the next process that takes the journal's lock (a
//! start-up, `yizhan hub sync`), before it opens anything, and by a running kiosk when its
//! screens are idle and no sale is under way: it puts the file in place and starts itself afresh
//! (see [`restart_in_place`]), as systemd would after a crash, with nothing half-done.
//!
//! A push may not change what ties the kiosk to its money and its fleet: `kiosk.id`,
//! `kiosk.journal`, `kiosk.anchor` and the `[hub]` section. Those change on site.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::KioskConfig;

/// What `config-version.json` holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushState {
    /// The pushed version in place (0: the file the kiosk was installed with).
    pub applied: i64,
    /// Its text's SHA-256, to recognise the same push handed over again.
    #[serde(default)]
    pub applied_sha256: String,
    /// The version the applied one replaced (`.previous` holds its file), to go back to.
    #[serde(default)]
    pub previous: i64,
    #[serde(default)]
    pub previous_sha256: String,
    /// A version checked and waiting for a moment between customers.
    #[serde(default)]
    pub staged: Option<StagedConfig>,
}

/// A pushed configuration waiting in `<config>.pushed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedConfig {
    pub version: i64,
    pub sha256: String,
    /// Who pushed it (the hub's operator).
    pub operator: String,
}

/// What staging a push came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Staged {
    /// Checked and staged: applied between customers.
    Waiting(i64),
    /// This very version is staged or running already (the command was handed over again).
    AlreadyHere(i64),
}

/// The kiosk's configuration file and data directory, where pushes are kept.
#[derive(Clone, Debug)]
pub struct ConfigPlace {
    pub config: PathBuf,
    pub data_dir: PathBuf,
}

impl ConfigPlace {
    pub fn new(config: &Path, data_dir: &Path) -> ConfigPlace {
        ConfigPlace { config: config.to_path_buf(), data_dir: data_dir.to_path_buf() }
    }

    fn beside_config(&self, suffix: &str) -> PathBuf {
        let mut name = self.config.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// The staged text.
    pub fn pushed_file(&self) -> PathBuf {
        self.beside_config(".pushed")
    }

    /// The file the last applied push replaced.
    pub fn previous_file(&self) -> PathBuf {
        self.beside_config(".previous")
    }

    fn state_file(&self) -> PathBuf {
        self.data_dir.join("config-version.json")
    }

    /// The state; a missing or unreadable file is "nothing pushed" (the hub pushes again).
    pub fn state(&self) -> PushState {
        super::read_json_or_default(&self.state_file())
    }

    /// Whether a staged configuration waits to be applied.
    pub fn waiting(&self) -> bool {
        self.state().staged.is_some()
    }

    fn store(&self, state: &PushState) -> Result<(), String> {
        let json = serde_json::to_string(state).expect("the state always serialises");
        super::write_durably(&self.state_file(), &json)
            .map_err(|e| format!("cannot write {}: {e}", self.state_file().display()))
    }

    /// Checks `text` as version `version` of the configuration and stages it. `running` is the
    /// configuration in use, for the settings a push may not change.
    pub fn stage(
        &self,
        running: &KioskConfig,
        version: i64,
        text: &str,
        sha256: &str,
        operator: &str,
    ) -> Result<Staged, String> {
        if fleet::wire::config_sha256(text) != sha256 {
            return Err("the configuration does not match its SHA-256: it was damaged on the way".into());
        }
        let mut state = self.state();
        let here = |v: i64, sha: &str| v == version && sha == sha256;
        if here(state.applied, &state.applied_sha256)
            || state.staged.as_ref().is_some_and(|s| here(s.version, &s.sha256))
        {
            return Ok(Staged::AlreadyHere(version));
        }
        if version <= state.applied {
            return Err(format!(
                "version {version} is not newer than version {} which this kiosk runs",
                state.applied
            ));
        }
        let candidate = KioskConfig::from_text(&self.config, text).map_err(|e| e.to_string())?;
        if let Some(key) = pinned_change(running, &candidate) {
            return Err(format!("{key} may not be changed from the hub (it is changed on site)"));
        }
        super::write_durably(&self.pushed_file(), text)
            .map_err(|e| format!("cannot stage it in {}: {e}", self.pushed_file().display()))?;
        state.staged =
            Some(StagedConfig { version, sha256: sha256.to_owned(), operator: operator.to_owned() });
        self.store(&state)?;
        tracing::info!(version, %operator, "a configuration pushed from the hub is staged");
        Ok(Staged::Waiting(version))
    }

    /// Puts the staged configuration in place, the old file kept as `.previous`. Call only
    /// between customers, by the process holding the journal's lock. Returns the version
    /// applied, or `None` when nothing was staged. A staged text that no longer passes the
    /// checks (a key file it names has gone) is dropped, and the reason returned.
    pub fn apply_staged(&self) -> Result<Option<i64>, String> {
        let mut state = self.state();
        let Some(staged) = state.staged.clone() else { return Ok(None) };
        let checked = std::fs::read_to_string(self.pushed_file())
            .map_err(|e| format!("the staged file cannot be read: {e}"))
            .and_then(|text| {
                if fleet::wire::config_sha256(&text) != staged.sha256 {
                    return Err("the staged file changed since it was checked".to_owned());
                }
                KioskConfig::from_text(&self.config, &text).map(drop).map_err(|e| e.to_string())
            });
        if let Err(why) = checked {
            state.staged = None;
            self.store(&state)?;
            return Err(format!("version {} was not applied and is dropped: {why}", staged.version));
        }
        let current =
            std::fs::read(&self.config).map_err(|e| format!("cannot read {}: {e}", self.config.display()))?;
        super::write_durably(&self.previous_file(), String::from_utf8_lossy(&current).into_owned())
            .map_err(|e| format!("cannot keep the old file as {}: {e}", self.previous_file().display()))?;
        std::fs::rename(self.pushed_file(), &self.config)
            .and_then(|()| super::sync_folder(&self.config))
            .map_err(|e| format!("cannot put the new file in place: {e}"))?;
        state.previous = state.applied;
        state.previous_sha256 = std::mem::take(&mut state.applied_sha256);
        state.applied = staged.version;
        state.applied_sha256 = staged.sha256;
        state.staged = None;
        self.store(&state)?;
        tracing::warn!(version = state.applied, operator = %staged.operator, "the configuration pushed from the hub is in place");
        Ok(Some(state.applied))
    }
}

impl ConfigPlace {
    /// Puts `.previous` back in place of the applied file (which then did not load after all).
    pub fn roll_back(&self) -> Result<(), String> {
        std::fs::rename(self.previous_file(), &self.config)
            .and_then(|()| super::sync_folder(&self.config))
            .map_err(|e| format!("cannot put {} back: {e}", self.previous_file().display()))?;
        let mut state = self.state();
        state.applied = state.previous;
        state.applied_sha256 = std::mem::take(&mut state.previous_sha256);
        self.store(&state)
    }
}

/// The first setting a push may not change that `candidate` changes, by its key.
fn pinned_change(running: &KioskConfig, candidate: &KioskConfig) -> Option<&'static str> {
    let hub = |c: &KioskConfig| c.hub.as_ref().map(|h| (h.url.clone(), h.identity.clone()));
    if running.kiosk.id != candidate.kiosk.id {
        Some("kiosk.id")
    } else if running.kiosk.journal != candidate.kiosk.journal {
        Some("kiosk.journal")
    } else if running.kiosk.anchor != candidate.kiosk.anchor {
        Some("kiosk.anchor")
    } else if hub(running) != hub(candidate) {
        Some("[hub]")
    } else {
        None
    }
}

/// Starts this program afresh in this process, with the same arguments: the way a running kiosk
/// takes up a configuration applied between customers. The journal's lock is released by the
/// exec (its descriptor closes) and taken again at once by the new image; the staged file is
/// applied by it before it opens the journal. Returns only if the exec failed.
pub fn restart_in_place() -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => return error,
    };
    tracing::warn!("starting afresh to run the configuration pushed from the hub");
    // Every descriptor but the standard three closes at the exec: a serial port opened for
    // exclusive use, the journal's lock and its SQLite files are free for the new image.
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets a flag on descriptors; it closes
    // nothing now, so no descriptor a Rust value owns becomes invalid.
    let marked = unsafe { libc::close_range(3, libc::c_uint::MAX, libc::CLOSE_RANGE_CLOEXEC as libc::c_int) };
    if marked != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "descriptors could not be marked close-on-exec");
    }
    std::process::Command::new(program).args(std::env::args_os().skip(1)).exec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[kiosk]\nid = \"SH-PD-0001\"\nnumber = \"0001\"\nservice_phone = \"021-962777\"\n\n[devices]\nsimulated = true\n";

    fn place() -> (tempfile::TempDir, ConfigPlace, KioskConfig) {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("kiosk.toml");
        std::fs::write(&config, BASE).unwrap();
        let running = KioskConfig::from_text(&config, BASE).unwrap();
        let place = ConfigPlace::new(&config, &dir.path().join("data"));
        (dir, place, running)
    }

    fn push(place: &ConfigPlace, running: &KioskConfig, version: i64, text: &str) -> Result<Staged, String> {
        place.stage(running, version, text, &fleet::wire::config_sha256(text), "li.admin")
    }

    #[test]
    fn a_push_is_staged_then_applied_with_the_old_file_kept() {
        let (_dir, place, running) = place();
        let text = BASE.replace("021-962777", "021-12345678");
        assert_eq!(push(&place, &running, 1, &text), Ok(Staged::Waiting(1)));
        assert_eq!(std::fs::read_to_string(&place.config).unwrap(), BASE, "not applied while staged");
        assert!(place.waiting());
        assert_eq!(push(&place, &running, 1, &text), Ok(Staged::AlreadyHere(1)), "handed over again");
        assert_eq!(place.apply_staged(), Ok(Some(1)));
        assert_eq!(std::fs::read_to_string(&place.config).unwrap(), text);
        assert_eq!(std::fs::read_to_string(place.previous_file()).unwrap(), BASE);
        assert_eq!(place.state().applied, 1);
        assert!(!place.waiting());
        assert_eq!(place.apply_staged(), Ok(None), "nothing staged any more");
        assert_eq!(push(&place, &running, 1, &text), Ok(Staged::AlreadyHere(1)), "running already");
        place.roll_back().unwrap();
        assert_eq!(std::fs::read_to_string(&place.config).unwrap(), BASE, "the old file is back");
        assert_eq!(place.state().applied, 0);
    }

    #[test]
    fn an_invalid_or_older_or_damaged_push_is_refused_and_nothing_staged() {
        let (_dir, place, running) = place();
        let bad = BASE.replace("\"0001\"", "\"12\"");
        let why = push(&place, &running, 1, &bad).unwrap_err();
        assert!(why.contains("kiosk.number"), "{why}");
        let why = place.stage(&running, 1, BASE, &"0".repeat(64), "li.admin").unwrap_err();
        assert!(why.contains("SHA-256"), "{why}");
        let garbage = "[kiosk\nid = ";
        assert!(push(&place, &running, 1, garbage).is_err());
        assert!(!place.waiting() && !place.pushed_file().exists());

        let text = BASE.replace("021-962777", "021-1");
        push(&place, &running, 3, &text).unwrap();
        place.apply_staged().unwrap();
        let why = push(&place, &running, 2, &BASE.replace("021-962777", "021-2")).unwrap_err();
        assert!(why.contains("not newer than version 3"), "{why}");
    }

    #[test]
    fn a_push_may_not_move_the_kiosk_s_identity_journal_or_hub() {
        let (_dir, place, running) = place();
        for (text, key) in [
            (BASE.replace("SH-PD-0001", "SH-PD-0002"), "kiosk.id"),
            (BASE.replace("[devices]", "journal = \"other.db\"\n\n[devices]"), "kiosk.journal"),
            (format!("{BASE}\n[hub]\nurl = \"https://elsewhere.example:8443\"\n"), "[hub]"),
        ] {
            let why = push(&place, &running, 1, &text).unwrap_err();
            assert!(why.starts_with(key), "{key}: {why}");
        }
        assert!(!place.waiting());
    }

    #[test]
    fn a_staged_file_changed_behind_the_kiosk_is_dropped_not_applied() {
        let (_dir, place, running) = place();
        push(&place, &running, 1, &BASE.replace("021-962777", "021-1")).unwrap();
        std::fs::write(place.pushed_file(), BASE.replace("021-962777", "021-666")).unwrap();
        let why = place.apply_staged().unwrap_err();
        assert!(why.contains("changed since it was checked"), "{why}");
        assert_eq!(std::fs::read_to_string(&place.config).unwrap(), BASE);
        assert!(!place.waiting());
    }
}
