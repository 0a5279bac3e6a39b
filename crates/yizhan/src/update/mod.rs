//! Signed, health-gated software updates (hawkBit's roll-out from the hub, RAUC's "keep the old
//! one and fall back" on the kiosk), in two halves that trust each other only through files:
//!
//! - the **kiosk** (its own unprivileged user) downloads a package the hub offers, checks the
//!   operator's signature, stages it with the package of the version it runs (to fall back to),
//!   and, when nobody is paying and the hall is closed, asks for it to be installed
//!   ([`staging`]); once started afresh and ready, it says it is healthy;
//! - the **updater** (`yizhan update apply`, root, started by `yizhan-update.path` when the
//!   request appears) checks both signatures again, installs with dpkg, starts the kiosk, and
//!   puts the previous package back by itself when the kiosk does not say it is healthy within
//!   the time allowed ([`apply`]).
//!
//! The files, in `<data>/updates/`:
//!
//! | file                        | written by | what                                           |
//! |-----------------------------|------------|------------------------------------------------|
//! | `staged/target.deb` (+`.sig`)   | kiosk  | the version to install                         |
//! | `staged/previous.deb` (+`.sig`) | kiosk  | the version running now, to fall back to       |
//! | `install-request`           | kiosk      | idle and allowed: install now                  |
//! | `health`                    | kiosk      | started and ready (the journal verified, recovery run) |
//! | `state.json`                | updater    | where the update stands; versions rolled back  |
//! | `installed/current.deb` (+`.sig`) | updater | the package installed last, the next fall-back |

pub mod apply;
pub mod deb;
pub mod hours;
pub mod staging;
pub mod state;

pub use hours::OpeningHours;
pub use state::{UpdateRecord, UpdateState};

use std::path::{Path, PathBuf};

/// Where the operator's public key is installed (root's, not the kiosk's to change).
pub const OPERATOR_KEY: &str = "/etc/yizhan-updates/operator-ed25519.pub";

/// The Debian package this updater installs.
pub const PACKAGE: &str = "yizhan";

/// The update folder of a data directory, and its files.
#[derive(Clone, Debug)]
pub struct UpdateDir {
    pub dir: PathBuf,
}

impl UpdateDir {
    pub fn new(data_dir: &Path) -> UpdateDir {
        UpdateDir { dir: data_dir.join("updates") }
    }

    pub fn staged(&self, which: Slot) -> PathBuf {
        self.dir.join("staged").join(which.file())
    }

    pub fn installed(&self) -> PathBuf {
        self.dir.join("installed/current.deb")
    }

    pub fn request(&self) -> PathBuf {
        self.dir.join("install-request")
    }

    pub fn health(&self) -> PathBuf {
        self.dir.join("health")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Where the updater stands, as it last wrote it (a fresh record when it never ran).
    pub fn record(&self) -> UpdateRecord {
        std::fs::read_to_string(self.state())
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }
}

/// The two packages staged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Target,
    Previous,
}

impl Slot {
    fn file(self) -> &'static str {
        match self {
            Slot::Target => "target.deb",
            Slot::Previous => "previous.deb",
        }
    }
}

/// A package's signature file: the package's path with `.sig` after it.
pub fn signature_path(package: &Path) -> PathBuf {
    let mut path = package.as_os_str().to_owned();
    path.push(".sig");
    PathBuf::from(path)
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Where updates stand on this kiosk, for its heartbeat: the package installed in `root` and
/// the updater's state (a staged version waiting shows as `staged`).
pub fn report(dir: &UpdateDir, root: &Path) -> fleet::wire::UpdateReport {
    let installed = deb::installed_version(root, PACKAGE).ok().flatten();
    let record = dir.record();
    let staged = staging::staged_version(dir);
    let (phase, version, detail) = match (&record.state, staged) {
        (UpdateState::Idle | UpdateState::Healthy { .. }, Some(staged)) => {
            ("staged", Some(staged.clone()), format!("{staged} staged; installed when the kiosk is idle"))
        }
        (state, _) => (state.phase(), state.version().map(str::to_string), state.describe()),
    };
    fleet::wire::UpdateReport { installed, phase: phase.to_string(), version, detail }
}
