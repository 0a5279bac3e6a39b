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

/// Installs a .deb into `root`. The package's postinst does not restart the kiosk itself when
/// `YIZHAN_UPDATER` is set: the updater does, once it has checked the install went in.
pub fn install(root: &Path, deb: &Path) -> Result<(), String> {
    let mut dpkg = Command::new("dpkg");
    if !is_system_root(root) {
        dpkg.arg(format!("--root={}", root.display()))
            .arg("--force-script-chrootless")
            // A scratch root has no libc6 and the rest on record.
            .arg("--force-depends");
    }
    dpkg.arg("--install").arg(deb).env("YIZHAN_UPDATER", "1");
    run(&mut dpkg).map(drop)
}

/// Finishes what an install cut short (a power cut inside dpkg).
pub fn configure_pending(root: &Path) -> Result<(), String> {
    let mut dpkg = Command::new("dpkg");
    if !is_system_root(root) {
        dpkg.arg(format!("--root={}", root.display()))
            .arg("--force-script-chrootless")
            .arg("--force-depends");
    }
    dpkg.args(["--configure", "--pending"]).env("YIZHAN_UPDATER", "1");
    run(&mut dpkg).map(drop)
}
