//! Signed, health-gated software updates (hawkBit's roll-out from the hub, RAUC's "keep the old
//! one and fall back" on the kiosk), in two halves that trust each other only through files:
//!
//! - the **kiosk** (its own unprivileged user) downloads a package the hub offers, checks the
//!   operator's signature, stages it with the package of the version it runs (to fall back to),
//!   and, when nobody is paying and the hall is closed, asks for it to be installed
//!   ([`staging`]); started afresh, once its main loop has turned for a while, it says it is
//!   healthy;
//! - the **updater** (`yizhan update apply`, root, started by `yizhan-update.path` when the
//!   request appears) checks both signatures again, installs with dpkg, starts the kiosk, and
//!   puts the previous package back by itself when the kiosk does not say it is healthy within
//!   the time allowed ([`apply`]).
//!
//! The kiosk's files, in `<data>/updates/` (its own user's):
//!
//! | file                              | what                                            |
//! |-----------------------------------|-------------------------------------------------|
//! | `staged/target.deb` (+`.sig`)     | the version to install                          |
//! | `staged/previous.deb` (+`.sig`)   | the version running now, to fall back to        |
//! | `install-request`                 | idle and allowed: install now                   |
//! | `health`                          | up and turning, echoing the updater's nonce     |
//! | `restart-requested`               | a package installed by hand: start afresh when idle |
//!
//! The updater's, in `/var/lib/yizhan-updater/` (root's; the kiosk may read, never write):
//!
//! | file                              | what                                            |
//! |-----------------------------------|-------------------------------------------------|
//! | `state.json`                      | where the update stands; versions that failed   |
//! | `work/`                           | its own copies of the packages, checked, installed |
//! | `current.deb` (+`.sig`)           | the package installed last: the next fall-back  |
//! | `health-nonce`                    | what the new version must echo in `health`      |
//!
//! Root reads nothing of the kiosk's but the two packages (into memory, checked there, then
//! written to `work/` and installed from there) and the request and health files, which only say
//! "now" and "well" — all through [`untrusted`], which follows no link and waits on no FIFO.

pub mod apply;
pub mod deb;
pub mod hours;
pub mod on_kiosk;
pub mod staging;
pub mod state;
pub mod untrusted;

pub use hours::OpeningHours;
pub use state::{UpdateRecord, UpdateState};

use std::path::{Path, PathBuf};

/// Where the operator's public key is installed (root's, not the kiosk's to change).
pub const OPERATOR_KEY: &str = "/etc/yizhan-updates/operator-ed25519.pub";

/// The Debian package this updater installs.
pub const PACKAGE: &str = "yizhan";

/// The updater's folder, under the system's root.
pub const UPDATER_DIR: &str = "var/lib/yizhan-updater";

/// The largest package either side reads, and where a package's signature file is.
pub use fleet::package::{signature_path, MAX_PACKAGE_BYTES};

/// The update folders: the kiosk's (in its data directory) and the updater's (in `root`).
#[derive(Clone, Debug)]
pub struct UpdateDir {
    /// `<data>/updates`, the kiosk's.
    pub dir: PathBuf,
    /// `<root>/var/lib/yizhan-updater`, root's.
    pub updater: PathBuf,
}

impl UpdateDir {
    pub fn new(data_dir: &Path, root: &Path) -> UpdateDir {
        UpdateDir { dir: data_dir.join("updates"), updater: root.join(UPDATER_DIR) }
    }

    /// A file of the kiosk's folder (`updates/<folders…>/<file>`), read as root reads it.
    pub fn read_kiosk_file(&self, folders: &[&str], file: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        let data_dir = self.dir.parent().unwrap_or(Path::new("."));
        let mut path = vec!["updates"];
        path.extend_from_slice(folders);
        untrusted::read(data_dir, &path, file, limit)
    }

    pub fn staged(&self, which: Slot) -> PathBuf {
        self.dir.join("staged").join(which.file())
    }

    pub fn request(&self) -> PathBuf {
        self.dir.join("install-request")
    }

    pub fn health(&self) -> PathBuf {
        self.dir.join("health")
    }

    pub fn restart_requested(&self) -> PathBuf {
        self.dir.join("restart-requested")
    }

    pub fn state(&self) -> PathBuf {
        self.updater.join("state.json")
    }

    /// The updater's own copy of a staged package.
    pub fn work(&self, which: Slot) -> PathBuf {
        self.updater.join("work").join(which.file())
    }

    /// The package installed last, kept by the updater as the next fall-back.
    pub fn kept(&self) -> PathBuf {
        self.updater.join("current.deb")
    }

    pub fn nonce(&self) -> PathBuf {
        self.updater.join("health-nonce")
    }

    /// Where the updater stands, as it last wrote it (a fresh record when it never ran).
    pub fn record(&self) -> UpdateRecord {
        crate::hub_link::read_json_or_default(&self.state())
    }
}

/// The two packages staged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Target,
    Previous,
}

impl Slot {
    pub fn file(self) -> &'static str {
        match self {
            Slot::Target => "target.deb",
            Slot::Previous => "previous.deb",
        }
    }
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Where updates stand on this kiosk, for its heartbeat: `installed`, the version of the package
/// installed (read once per process: it changes only with a restart), and the updater's state
/// (a version staged and waiting shows as `staged`). Reads only; changes nothing.
pub fn report(dir: &UpdateDir, installed: Option<String>) -> fleet::wire::UpdateReport {
    let record = dir.record();
    let (phase, version, detail) = match (&record.state, staging::pending_version(dir)) {
        (UpdateState::Idle | UpdateState::Healthy { .. }, Some(staged)) => {
            ("staged", Some(staged.clone()), format!("{staged} staged; installed when the kiosk is idle"))
        }
        (state, _) => (state.phase(), state.version().map(str::to_string), state.describe()),
    };
    fleet::wire::UpdateReport { installed, phase: phase.to_string(), version, detail }
}
