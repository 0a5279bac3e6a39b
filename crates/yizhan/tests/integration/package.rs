//! The Debian packages scripts/package.sh builds, installed into a scratch root with dpkg: the
//! files where Debian and the units expect them, the system users and their groups, the units
//! enabled and passing `systemd-analyze verify`, the udev rules' syntax, the shipped
//! configuration (remote back end, real devices at their stable names, refused until its
//! placeholders are replaced), a production binary with no simulator in it, and a purge that
//! keeps the payment journal unless told twice.
//!
//! It needs the packages: scripts/test.sh runs it after `scripts/package.sh --profile dev` with
//!   cargo test -p yizhan --test integration -- --ignored package::
//! (YIZHAN_DEB_DIR names another folder of .debs).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::cli::text;
use support::debian::{dpkg_in, must, scratch_root};

fn deb_dir() -> PathBuf {
    std::env::var_os("YIZHAN_DEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debian"))
}

/// The one .deb of `package` in the folder.
fn deb(package: &str) -> PathBuf {
    let prefix = format!("{package}_");
    let found: Vec<PathBuf> = std::fs::read_dir(deb_dir())
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/package.sh first)", deb_dir().display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(&prefix))
        .collect();
    assert_eq!(found.len(), 1, "one {package} package in {}: {found:?}", deb_dir().display());
    found.into_iter().next().unwrap()
}

fn account(root: &Path, file: &str, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(root.join("etc").join(file)).unwrap();
    text.lines().find(|l| l.split(':').next() == Some(name)).map(str::to_string)
}

/// `systemd-analyze verify` on the installed units, ExecStart pointed at the installed binaries.
fn verify_units(root: &Path, units: &[&str]) {
    let copies = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for unit in units {
        let text = std::fs::read_to_string(root.join("usr/lib/systemd/system").join(unit)).unwrap();
        let text = text.replace("/usr/bin/", &format!("{}/usr/bin/", root.display()));
        let copy = copies.path().join(unit);
        std::fs::write(&copy, text).unwrap();
        paths.push(copy);
    }
    let verified = Command::new("systemd-analyze").arg("verify").args(&paths).output().unwrap();
    assert!(
        verified.status.success() && verified.stderr.is_empty(),
        "{}{}",
        text(&verified.stdout),
        text(&verified.stderr)
    );
}

#[test]
#[ignore = "needs the packages of scripts/package.sh; scripts/test.sh runs it"]
fn both_packages_install_into_a_scratch_root_with_users_units_and_rules() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    scratch_root(&root);
    let (kiosk, hub) = (deb("yizhan"), deb("yizhan-hub"));
    let said = must(dpkg_in(&root).arg("--install").arg(&kiosk).arg(&hub));
    assert!(said.contains("Setting up yizhan ") && said.contains("Setting up yizhan-hub "), "{said}");

    // The files.
    for file in [
        "usr/bin/yizhan",
        "usr/bin/yizhan-hub",
        "etc/yizhan/kiosk.toml",
        "etc/yizhan-hub/env",
        "usr/lib/systemd/system/yizhan.service",
        "usr/lib/systemd/system/yizhan-update.service",
        "usr/lib/systemd/system/yizhan-update.path",
        "usr/lib/systemd/system/yizhan-hub.service",
        "usr/lib/udev/rules.d/60-yizhan.rules",
        "usr/share/doc/yizhan/appliance.md",
    ] {
        assert!(root.join(file).is_file(), "{file} is not installed");
    }
    let conffiles = std::fs::read_to_string(root.join("var/lib/dpkg/info/yizhan.conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/yizhan/kiosk.toml");

    // The users: system accounts that cannot log in, the kiosk's in its devices' groups.
    let uid = |name: &str| -> u32 {
        let line = account(&root, "passwd", name).unwrap_or_else(|| panic!("no user {name}"));
        assert!(line.ends_with(":/usr/sbin/nologin"), "{line}");
        line.split(':').nth(2).unwrap().parse().unwrap()
    };
    let (kiosk_uid, hub_uid) = (uid("yizhan"), uid("yizhan-hub"));
    assert!(kiosk_uid < 1000 && hub_uid < 1000, "system users");
    for group in ["dialout", "plugdev", "video", "render", "input", "audio"] {
        let line = account(&root, "group", group).unwrap();
        assert!(line.rsplit(':').next().unwrap().split(',').any(|m| m == "yizhan"), "{line}");
    }
    use std::os::unix::fs::MetadataExt;
    let data = std::fs::metadata(root.join("var/lib/yizhan")).unwrap();
    assert_eq!((data.uid(), data.mode() & 0o777), (kiosk_uid, 0o750));
    assert_eq!(std::fs::metadata(root.join("var/lib/yizhan-hub")).unwrap().uid(), hub_uid);
    let config = std::fs::metadata(root.join("etc/yizhan/kiosk.toml")).unwrap();
    assert_eq!((config.uid(), config.mode() & 0o777), (0, 0o640), "root's, the kiosk's group may read it");

    // The units: enabled, and every one verifies.
    let wants = root.join("etc/systemd/system/multi-user.target.wants");
    for unit in ["yizhan.service", "yizhan-update.path", "yizhan-hub.service"] {
        // The link names the unit as the installed system sees it (absolute, outside the scratch root).
        let link =
            std::fs::read_link(wants.join(unit)).unwrap_or_else(|e| panic!("{unit} is not enabled: {e}"));
        assert_eq!(link, Path::new("/usr/lib/systemd/system").join(unit));
    }
    verify_units(
        &root,
        &["yizhan.service", "yizhan-update.service", "yizhan-update.path", "yizhan-hub.service"],
    );

    // The udev rules: sound syntax, a rule for every name the shipped configuration uses.
    let rules = std::fs::read_to_string(root.join("usr/lib/udev/rules.d/60-yizhan.rules")).unwrap();
    assert_eq!(yizhan::stable_names::syntax_problems(&rules), Vec::<String>::new());
    let shipped = std::fs::read_to_string(root.join("etc/yizhan/kiosk.toml")).unwrap();
    let names = yizhan::stable_names::name_rules(&rules);
    for line in shipped.lines().filter(|l| l.starts_with("path = \"/dev/")) {
        let device = line.trim_start_matches("path = \"/dev/yizhan/").trim_end_matches('"');
        assert!(
            line.contains("/dev/yizhan/"),
            "the shipped configuration names a port by kernel order: {line}"
        );
        assert!(names.iter().any(|r| r.device == device), "no udev rule makes /dev/yizhan/{device}");
    }
    // systemd 254 and later check rules themselves (Debian 12 has 252, without `verify`).
    let udevadm_verify = Command::new("udevadm").args(["verify", "--help"]).output();
    if udevadm_verify.is_ok_and(|o| o.status.success()) {
        must(Command::new("udevadm").arg("verify").arg(root.join("usr/lib/udev/rules.d/60-yizhan.rules")));
    }

    // The production binary: no simulators, and the shipped configuration refused until its
    // placeholders are this kiosk's own values — never a fall back into the demo.
    let bin = root.join("usr/bin/yizhan");
    let sim = Command::new(&bin).arg("sim").output().unwrap();
    assert_eq!(sim.status.code(), Some(2));
    assert!(text(&sim.stderr).contains("not in this build"), "{}", text(&sim.stderr));
    assert!(shipped.contains("mode = \"remote\"") && shipped.contains("simulated = false"));
    // No X11 on the kiosk: the screens go straight to the display.
    assert!(shipped.lines().any(|l| l == "backend = \"linuxkms\""), "the shipped [ui] draws with LinuxKMS");
    assert!(root.join("var/lib/yizhan-updater").is_dir(), "the updater's own folder");
    assert_eq!(std::fs::metadata(root.join("var/lib/yizhan-updater")).unwrap().uid(), 0);
    let data_dir = scratch.path().join("data");
    let doctor = Command::new(&bin)
        .arg("--config")
        .arg(root.join("etc/yizhan/kiosk.toml"))
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(doctor.status.code(), Some(2), "{}", text(&doctor.stdout));
    let refusal = text(&doctor.stderr);
    // The first thing a technician must provide: this kiosk's own receipt key pair.
    assert!(refusal.contains("receipts.signing_key"), "{refusal}");

    // An upgrade never follows a link the kiosk's user put in its own folder: root's /etc is not
    // handed over, and the folder is made again.
    let updates = root.join("var/lib/yizhan/updates");
    std::fs::remove_dir_all(&updates).unwrap();
    std::os::unix::fs::symlink(root.join("etc"), &updates).unwrap();
    must(dpkg_in(&root).arg("--install").arg(&kiosk));
    assert_eq!(std::fs::metadata(root.join("etc")).unwrap().uid(), 0, "/etc is still root's");
    let remade = std::fs::symlink_metadata(&updates).unwrap();
    assert!(remade.is_dir() && remade.uid() == kiosk_uid, "the link was replaced by the kiosk's folder");

    // A purge by mistake keeps the journal; told twice, it goes.
    std::fs::write(root.join("var/lib/yizhan/journal.db"), "the money's record").unwrap();
    let purged = must(dpkg_in(&root).args(["--purge", "yizhan"]));
    assert!(purged.contains("kept /var/lib/yizhan"), "{purged}");
    assert!(root.join("var/lib/yizhan/journal.db").exists());
    assert!(!root.join("usr/bin/yizhan").exists() && !root.join("etc/yizhan/kiosk.toml").exists());
    must(dpkg_in(&root).arg("--install").arg(&kiosk));
    assert!(root.join("var/lib/yizhan/journal.db").exists(), "a reinstall keeps it too");
    must(dpkg_in(&root).args(["--purge", "yizhan"]).env("YIZHAN_PURGE_JOURNAL", "yes"));
    assert!(!root.join("var/lib/yizhan").exists());
}
