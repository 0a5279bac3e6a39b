//! dpkg, as the updater and the kiosk call it: what a .deb says it is, what is installed, and
//! installing one. `root` is the system's root (`/`), or a scratch root in the tests, reached
//! with `dpkg --root` and maintainer scripts run outside a chroot (they honour `DPKG_ROOT`).

use std::path::Path;
use std::process::Command;

fn run(command: &mut Command) -> Result<String, String> {
    let program = format!("{:?}", command.get_program());
    let output = command.output().map_err(|e| format!("{program} could not run: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        let said = String::from_utf8_lossy(&output.stderr);
        Err(format!("{program} failed ({}): {}", output.status, said.trim()))
    }
}

fn is_system_root(root: &Path) -> bool {
    root == Path::new("/")
}

/// A control field of a .deb (`Package`, `Version`).
pub fn field(deb: &Path, name: &str) -> Result<String, String> {
    run(Command::new("dpkg-deb").arg("--field").arg(deb).arg(name))
}

/// The version of `package` installed in `root`, if it is installed.
pub fn installed_version(root: &Path, package: &str) -> Result<Option<String>, String> {
    let mut query = Command::new("dpkg-query");
    if !is_system_root(root) {
        query.arg(format!("--root={}", root.display()));
    }
    query.args(["--show", "--showformat=${Version} ${db:Status-Status}", package]);
    match run(&mut query) {
        Ok(line) => Ok(line.strip_suffix(" installed").map(str::to_string)),
        // dpkg-query says "no packages found matching" for one never installed.
        Err(why) if why.contains("no packages found") => Ok(None),
        Err(why) => Err(why),
    }
}

/// Whether Debian version `a` is newer than `b` (`dpkg --compare-versions a gt b`).
pub fn newer(a: &str, b: &str) -> Result<bool, String> {
    let status = Command::new("dpkg")
        .args(["--compare-versions", a, "gt", b])
        .status()
        .map_err(|e| format!("dpkg could not run: {e}"))?;
    match status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(format!("dpkg cannot compare versions {a:?} and {b:?}")),
    }
}

/// dpkg for `root`, unattended: a configuration file the site edited (every kiosk's
/// kiosk.toml is) is kept and the package's new one left beside it as `.dpkg-dist`, never a
/// question nobody is there to answer. The package's postinst leaves restarting the kiosk to the
/// updater (`YIZHAN_UPDATER`).
fn dpkg(root: &Path) -> Command {
    let mut dpkg = Command::new("dpkg");
    if !is_system_root(root) {
        dpkg.arg(format!("--root={}", root.display()))
            .arg("--force-script-chrootless")
            // A scratch root has no libc6 and the rest on record.
            .arg("--force-depends");
    }
    dpkg.args(["--force-confdef", "--force-confold"])
        .env("YIZHAN_UPDATER", "1")
        .env("DEBIAN_FRONTEND", "noninteractive");
    dpkg
}

/// dpkg's answer when another dpkg (unattended-upgrades, a technician) holds its lock.
pub fn is_lock_busy(error: &str) -> bool {
    error.contains("lock") && (error.contains("locked") || error.contains("another process"))
}

/// Installs a .deb into `root`.
pub fn install(root: &Path, deb: &Path) -> Result<(), String> {
    run(dpkg(root).arg("--install").arg(deb)).map(drop)
}

/// Finishes what an install cut short (a power cut inside dpkg).
pub fn configure_pending(root: &Path) -> Result<(), String> {
    run(dpkg(root).args(["--configure", "--pending"])).map(drop)
}
