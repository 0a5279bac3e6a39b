//! The kiosk's half of an update: a package offered (by the hub, or from a technician's USB
//! stick with `yizhan update stage`) is checked against the operator's key and staged with the
//! package of the version running, to fall back to; when the kiosk is idle and the hall closed it
//! asks the updater to install it (`on_kiosk`); started afresh, once its main loop has turned for
//! the settling time, it says it is healthy, echoing the updater's nonce.

use std::path::Path;

use chrono::NaiveTime;
use fleet::package::{PackageError, PackageSignature};
use serde::{Deserialize, Serialize};

use super::{signature_path, OpeningHours, Slot, UpdateDir, UpdateState, MAX_PACKAGE_BYTES, PACKAGE};
use crate::hub_link::write_durably;

/// A signature file is a few hundred bytes of JSON.
const SIGNATURE_BYTES: u64 = 64 * 1024;

/// A package with its signature file.
#[derive(Clone, Debug)]
pub struct Package {
    pub signature: PackageSignature,
    pub bytes: Vec<u8>,
}

impl Package {
    /// A staged package, as root reads it from the kiosk's folder ([`super::untrusted`]).
    pub fn read_staged(dir: &UpdateDir, slot: Slot) -> Result<Package, String> {
        let named =
            |file: &str, e: std::io::Error| format!("{}: {e}", dir.dir.join("staged").join(file).display());
        let deb = slot.file();
        let bytes = dir.read_kiosk_file(&["staged"], deb, MAX_PACKAGE_BYTES).map_err(|e| named(deb, e))?;
        let sig = format!("{deb}.sig");
        let text = dir.read_kiosk_file(&["staged"], &sig, SIGNATURE_BYTES).map_err(|e| named(&sig, e))?;
        Package::from_parts(bytes, &text, &sig)
    }

    /// A .deb and the `.sig` beside it, neither followed if it is a link nor read past its
    /// limit.
    pub fn read(deb: &Path) -> Result<Package, String> {
        let bytes = read_plain_file(deb, MAX_PACKAGE_BYTES).map_err(|e| format!("{}: {e}", deb.display()))?;
        let sig = signature_path(deb);
        let text = read_plain_file(&sig, SIGNATURE_BYTES).map_err(|e| format!("{}: {e}", sig.display()))?;
        Package::from_parts(bytes, &text, &sig.display().to_string())
    }

    /// The package's bytes and its signature file's, which `sig` names in errors.
    fn from_parts(bytes: Vec<u8>, signature: &[u8], sig: &str) -> Result<Package, String> {
        let text = std::str::from_utf8(signature).map_err(|_| format!("{sig}: not text"))?;
        let signature = PackageSignature::parse(text).map_err(|e| format!("{sig}: {e}"))?;
        Ok(Package { signature, bytes })
    }

    /// The operator signed it, it is these bytes, and it is the kiosk's package.
    pub fn check(&self, key: &fleet::package::VerifyingKey) -> Result<(), String> {
        self.signature.verify(key, &self.bytes).map_err(|e: PackageError| e.to_string())?;
        if self.signature.package != PACKAGE {
            return Err(format!("it is signed as package {}, not {PACKAGE}", self.signature.package));
        }
        Ok(())
    }

    pub fn version(&self) -> &str {
        &self.signature.version
    }

    pub(crate) fn write(&self, deb: &Path) -> std::io::Result<()> {
        write_durably(deb, &self.bytes)?;
        write_durably(&signature_path(deb), self.signature.to_json())
    }
}

/// A regular file's bytes, refusing a link (`O_NOFOLLOW`), a FIFO, anything but a plain file,
/// and more than `limit` bytes.
pub fn read_plain_file(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(flags).open(path)?;
    super::untrusted::read_whole(file, limit)
}

/// What staging came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Staged {
    /// Checked and staged: installed when the kiosk is idle (and the hall closed).
    Waiting(String),
    /// This version runs already.
    AlreadyHere(String),
}

/// Checks `target` and `previous` (the package of `running`, the version installed now) and
/// stages them. Refused: a package the operator did not sign, or altered; a fall-back that is
/// not the version running; a version older than the one running (a signed old build with a
/// known flaw must not come back: to go back, the operator signs it again as a newer version); a
/// version already rolled back here; an update under way.
pub fn stage(
    dir: &UpdateDir,
    key: &fleet::package::VerifyingKey,
    target: &Package,
    previous: &Package,
    running: &str,
) -> Result<Staged, String> {
    target.check(key).map_err(|why| format!("version {}: {why}", target.version()))?;
    if target.version() == running {
        return Ok(Staged::AlreadyHere(running.to_string()));
    }
    if !super::deb::newer(target.version(), running)? {
        return Err(format!("version {} is older than {running}, which runs here", target.version()));
    }
    previous.check(key).map_err(|why| format!("the fall-back package {}: {why}", previous.version()))?;
    if previous.version() != running {
        return Err(format!("the fall-back package is {}, but {running} is installed", previous.version()));
    }
    let record = dir.record();
    if record.failed.iter().any(|v| v == target.version()) {
        return Err(format!("version {} was rolled back on this kiosk before", target.version()));
    }
    if record.state.under_way() {
        return Err(format!("an update is under way: {}", record.state.describe()));
    }
    if staged_version(dir).as_deref() == Some(target.version()) {
        return Ok(Staged::Waiting(target.version().to_string()));
    }
    swap_in(dir, target, previous).map_err(|e| format!("could not stage it: {e}"))?;
    Ok(Staged::Waiting(target.version().to_string()))
}

/// Writes both packages into `staged.new/`, then puts that folder in the place of `staged/`:
/// the updater never finds one package of one staging beside the other of another.
fn swap_in(dir: &UpdateDir, target: &Package, previous: &Package) -> std::io::Result<()> {
    let fresh = dir.dir.join("staged.new");
    let _ = std::fs::remove_dir_all(&fresh);
    previous.write(&fresh.join(Slot::Previous.file()))?;
    target.write(&fresh.join(Slot::Target.file()))?;
    let staged = dir.dir.join("staged");
    let _ = std::fs::remove_dir_all(&staged);
    std::fs::rename(&fresh, &staged)?;
    crate::hub_link::sync_folder(&staged)
}

/// The version staged, as its signature file says (checked again before it is installed).
pub fn staged_version(dir: &UpdateDir) -> Option<String> {
    if !dir.staged(Slot::Target).exists() {
        return None;
    }
    let text = std::fs::read_to_string(signature_path(&dir.staged(Slot::Target))).ok()?;
    PackageSignature::parse(&text).ok().map(|s| s.version)
}

/// Whether the updater has finished with `version` (installed it, rolled it back, refused it).
fn finished(dir: &UpdateDir, version: &str) -> bool {
    let record = dir.record();
    record.failed.iter().any(|v| v == version)
        || matches!(&record.state, UpdateState::Healthy { version: healthy, .. } if healthy == version)
}

/// The version staged and still waiting to be installed (not one the updater has finished with).
pub fn pending_version(dir: &UpdateDir) -> Option<String> {
    staged_version(dir).filter(|v| !finished(dir, v))
}

/// Clears a staged version the updater has finished with.
pub fn tidy(dir: &UpdateDir) {
    if staged_version(dir).is_some_and(|v| finished(dir, &v)) {
        let _ = std::fs::remove_dir_all(dir.dir.join("staged"));
    }
}

/// Drops the staged `version` if its install has not been asked for (the roll-out was stopped).
pub fn withdraw(dir: &UpdateDir, version: &str) -> bool {
    if staged_version(dir).as_deref() != Some(version) || dir.request().exists() {
        return false;
    }
    std::fs::remove_dir_all(dir.dir.join("staged")).is_ok()
}

/// The package of `running` the updater kept when it installed it, if it did.
pub fn kept_package(dir: &UpdateDir, running: &str) -> Option<Package> {
    Package::read(&dir.kept()).ok().filter(|p| p.version() == running)
}

/// Whether to ask for the staged update now: one is staged, not asked for yet, nothing under
/// way, and the hall (if its hours are set) is closed at `now`. The caller knows the kiosk is
/// idle.
pub fn install_due(dir: &UpdateDir, hours: Option<OpeningHours>, now: NaiveTime) -> bool {
    tidy(dir);
    staged_version(dir).is_some()
        && !dir.request().exists()
        && !dir.record().state.under_way()
        && !hours.is_some_and(|h| h.is_open(now))
}

/// Asks the updater to install the staged version (`yizhan-update.path` watches this file).
pub fn request_install(dir: &UpdateDir) -> std::io::Result<()> {
    write_durably(&dir.request(), staged_version(dir).unwrap_or_default())
}

/// What the kiosk writes in `health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// This program's version.
    pub software: String,
    pub at_ms: i64,
    /// The updater's `health-nonce` when the report was written: the updater takes only a
    /// report of the start it is waiting for, whatever the clocks say.
    #[serde(default)]
    pub nonce: String,
}

/// Says the kiosk is healthy: started, the journal verified, recovery run, and its main loop
/// turning for the settling time (the caller's to wait).
pub fn report_healthy(dir: &UpdateDir) {
    let nonce = std::fs::read_to_string(dir.nonce()).unwrap_or_default().trim().to_string();
    let report =
        HealthReport { software: env!("CARGO_PKG_VERSION").to_string(), at_ms: super::now_ms(), nonce };
    let text = serde_json::to_string(&report).expect("a health report serialises");
    if let Err(error) = write_durably(&dir.health(), text) {
        tracing::warn!(%error, "could not record that the kiosk is healthy (the updater may roll back)");
    }
}

/// The kiosk's last health report (read as root reads the kiosk's files).
pub fn last_health(dir: &UpdateDir) -> Option<HealthReport> {
    serde_json::from_slice(&dir.read_kiosk_file(&[], "health", 4096).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet::package::SigningKey;

    fn package(key: &SigningKey, version: &str) -> Package {
        let bytes = format!("a package of {version}").into_bytes();
        Package { signature: PackageSignature::sign(key, PACKAGE, version, "amd64", &bytes), bytes }
    }

    /// The update folders in a fresh temporary folder (kept while the first is held), and the
    /// operator's signing key.
    fn fixture() -> (tempfile::TempDir, UpdateDir, SigningKey) {
        let temp = tempfile::tempdir().unwrap();
        let dir = UpdateDir::new(&temp.path().join("data"), temp.path());
        (temp, dir, SigningKey::from_bytes(&[1; 32]))
    }

    /// Writes `record` where the updater keeps its state.
    fn write_record(dir: &UpdateDir, record: &super::super::UpdateRecord) {
        write_durably(&dir.state(), serde_json::to_string(record).unwrap()).unwrap();
    }

    #[test]
    fn staging_takes_only_signed_packages_that_can_fall_back_to_what_runs() {
        let (_temp, dir, operator) = fixture();
        let key = operator.verifying_key();
        let (v1, v2) = (package(&operator, "1.0"), package(&operator, "2.0"));

        let mut tampered = v2.clone();
        tampered.bytes.push(0);
        assert!(stage(&dir, &key, &tampered, &v1, "1.0").unwrap_err().contains("tampered"));
        let stranger = package(&SigningKey::from_bytes(&[2; 32]), "2.0");
        assert!(stage(&dir, &key, &stranger, &v1, "1.0").unwrap_err().contains("not signed by the operator"));
        assert!(stage(&dir, &key, &v2, &v1, "1.5").unwrap_err().contains("1.5 is installed"));
        assert!(stage(&dir, &key, &v1, &v2, "2.0").unwrap_err().contains("1.0 is older than 2.0"));
        let other = Package {
            signature: PackageSignature::sign(&operator, "yizhan-hub", "2.0", "amd64", &v2.bytes),
            bytes: v2.bytes.clone(),
        };
        assert!(stage(&dir, &key, &other, &v1, "1.0").unwrap_err().contains("not yizhan"));
        assert_eq!(staged_version(&dir), None, "nothing refused is staged");

        assert_eq!(stage(&dir, &key, &v1, &v1, "1.0"), Ok(Staged::AlreadyHere("1.0".into())));
        assert_eq!(stage(&dir, &key, &v2, &v1, "1.0"), Ok(Staged::Waiting("2.0".into())));
        assert_eq!(staged_version(&dir).as_deref(), Some("2.0"));
        assert_eq!(Package::read(&dir.staged(Slot::Previous)).unwrap().bytes, v1.bytes);

        // Due only outside the opening hours, and only once asked.
        let hours = OpeningHours::parse("07:00-21:00").ok();
        let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap();
        let night = NaiveTime::from_hms_opt(23, 0, 0).unwrap();
        assert!(!install_due(&dir, hours, noon));
        assert!(install_due(&dir, hours, night) && install_due(&dir, None, noon));
        request_install(&dir).unwrap();
        assert!(!install_due(&dir, None, noon));
        assert!(!withdraw(&dir, "2.0"), "asked for already: the updater decides");
        std::fs::remove_file(dir.request()).unwrap();
        assert!(!withdraw(&dir, "3.0") && withdraw(&dir, "2.0"));
        assert_eq!(staged_version(&dir), None);
    }

    #[test]
    fn a_version_the_updater_finished_with_is_reported_as_such_not_as_staged() {
        let (_temp, dir, operator) = fixture();
        let (v1, v2) = (package(&operator, "1.0"), package(&operator, "2.0"));
        stage(&dir, &operator.verifying_key(), &v2, &v1, "1.0").unwrap();
        let report = super::super::report(&dir, Some("1.0".into()));
        assert_eq!((report.phase.as_str(), report.version.as_deref()), ("staged", Some("2.0")));
        // Installed and healthy: the heartbeat says so, before the kiosk has tidied (reporting
        // changes nothing on disk).
        let record = super::super::UpdateRecord {
            state: UpdateState::Healthy { version: "2.0".into(), at_ms: 1 },
            failed: vec![],
        };
        write_record(&dir, &record);
        let report = super::super::report(&dir, Some("2.0".into()));
        assert_eq!((report.phase.as_str(), report.installed.as_deref()), ("healthy", Some("2.0")));
        assert_eq!(staged_version(&dir).as_deref(), Some("2.0"));
        tidy(&dir);
        assert_eq!(staged_version(&dir), None);
    }

    #[test]
    fn a_version_rolled_back_here_is_not_staged_again() {
        let (_temp, dir, operator) = fixture();
        let record = super::super::UpdateRecord { state: UpdateState::Idle, failed: vec!["2.0".into()] };
        write_record(&dir, &record);
        let why = stage(
            &dir,
            &operator.verifying_key(),
            &package(&operator, "2.0"),
            &package(&operator, "1.0"),
            "1.0",
        );
        assert!(why.unwrap_err().contains("rolled back on this kiosk before"));
    }
}
