//! Debian packages and scratch roots for the appliance tests: a root with an empty dpkg
//! database and the system's account files, into which `dpkg --root` installs, and kiosk
//! packages laid out as cargo-deb lays out the real one (packaging/), with the real maintainer
//! scripts, around a binary of the test's choosing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn packaging() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging")
}

/// Runs `command`, failing the test with what it said when it fails.
pub fn must(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let said =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{command:?} failed:\n{said}");
    said
}

/// An empty system: a dpkg database, and account files with the groups a Debian system has
/// (the kiosk's user joins them).
pub fn scratch_root(root: &Path) {
    for dir in ["var/lib/dpkg/updates", "var/lib/dpkg/info", "var/log", "etc"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    let groups =
        "root:x:0:\ndialout:x:20:\naudio:x:29:\nvideo:x:44:\nplugdev:x:46:\ninput:x:101:\nrender:x:102:\n";
    std::fs::write(root.join("etc/group"), groups).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    std::fs::write(root.join("etc/shadow"), "root:*:19000:0:99999:7:::\n").unwrap();
    let gshadow: String = groups.lines().map(|l| format!("{}:*::\n", l.split(':').next().unwrap())).collect();
    std::fs::write(root.join("etc/gshadow"), gshadow).unwrap();
}

fn copy(from: &Path, to: &Path, mode: u32) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Builds `yizhan_<version>.deb` in `out` around `binary` (a file copied to /usr/bin/yizhan).
pub fn kiosk_package(out: &Path, version: &str, binary: &Path) -> PathBuf {
    let tree = out.join(format!("tree-{version}"));
    let _ = std::fs::remove_dir_all(&tree);
    let control = format!(
        "Package: yizhan\nVersion: {version}\nArchitecture: all\nMaintainer: Yizhan tests <t@yizhan.invalid>\n\
         Description: the Yizhan kiosk (test build)\n"
    );
    std::fs::create_dir_all(tree.join("DEBIAN")).unwrap();
    std::fs::write(tree.join("DEBIAN/control"), control).unwrap();
    std::fs::write(tree.join("DEBIAN/conffiles"), "/etc/yizhan/kiosk.toml\n").unwrap();
    for script in ["postinst", "prerm", "postrm"] {
        copy(&packaging().join("debian/yizhan").join(script), &tree.join("DEBIAN").join(script), 0o755);
    }
    copy(binary, &tree.join("usr/bin/yizhan"), 0o755);
    std::fs::create_dir_all(tree.join("etc/yizhan")).unwrap();
    // The shipped configuration, a line different in each version: an upgrade meets a conffile
    // the package changed, as real upgrades do.
    let shipped = std::fs::read_to_string(packaging().join("debian/kiosk.toml")).unwrap();
    std::fs::write(tree.join("etc/yizhan/kiosk.toml"), format!("{shipped}\n# shipped with {version}\n"))
        .unwrap();
    std::fs::set_permissions(tree.join("etc/yizhan/kiosk.toml"), std::fs::Permissions::from_mode(0o640))
        .unwrap();
    for unit in ["yizhan.service", "yizhan-update.service", "yizhan-update.path"] {
        copy(&packaging().join("systemd").join(unit), &tree.join("usr/lib/systemd/system").join(unit), 0o644);
    }
    copy(
        &packaging().join("udev/60-yizhan.rules"),
        &tree.join("usr/lib/udev/rules.d/60-yizhan.rules"),
        0o644,
    );
    let deb = out.join(format!("yizhan_{version}.deb"));
    must(Command::new("dpkg-deb").args(["--root-owner-group", "-Znone", "--build"]).arg(&tree).arg(&deb));
    deb
}

/// dpkg, into `root`, as the updater calls it there.
pub fn dpkg_in(root: &Path) -> Command {
    let mut dpkg = Command::new("dpkg");
    dpkg.arg(format!("--root={}", root.display())).args(["--force-script-chrootless", "--force-depends"]);
    dpkg
}

/// The version of the kiosk's package installed in `root`.
pub fn installed(root: &Path) -> String {
    must(Command::new("dpkg-query").arg(format!("--root={}", root.display())).args([
        "--show",
        "--showformat=${Version}",
        "yizhan",
    ]))
}

/// A fresh operator key pair: the private key's PEM file and the public key's.
pub fn operator_keys(dir: &Path, seed: u8) -> (PathBuf, PathBuf) {
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let private = dir.join(format!("operator-{seed}.pem"));
    let public = dir.join(format!("operator-{seed}.pub"));
    std::fs::write(&private, key.to_pkcs8_pem(Default::default()).unwrap().as_bytes()).unwrap();
    std::fs::write(&public, key.verifying_key().to_public_key_pem(Default::default()).unwrap()).unwrap();
    (private, public)
}
