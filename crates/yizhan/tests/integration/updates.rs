//! Signed, health-gated updates end to end, in a scratch root with dpkg: versions of the kiosk's
//! package (the real maintainer scripts, the real binary in the good ones, a binary that cannot
//! start in the broken one) signed with `yizhan update sign`. A tampered package, a stranger's
//! and an older version are refused before they are staged; a package swapped or linked in the
//! kiosk's folder after staging is refused by the root updater; a good version is installed over
//! a configuration the site edited (kept) and reported healthy; the broken one is rolled back by
//! the updater itself; a power cut before dpkg ran is resumed and finished; and an idle kiosk
//! asks for the install by itself.

use crate::support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::cli::{config_with, text, yizhan, BIN};
use support::debian::{dpkg_in, installed, kiosk_package, must, operator_keys, scratch_root};

struct Site {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    root: PathBuf,
    config: PathBuf,
    data: PathBuf,
    public: PathBuf,
    private: PathBuf,
}

/// A scratch system with version 1.0.0 installed from its package, and a kiosk configuration
/// whose update key is the test operator's (healthy after its loop has turned for a second).
fn site(seed: u8) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let root = dir.join("root");
    scratch_root(&root);
    let (private, public) = operator_keys(&dir, seed);
    let config = config_with(&dir, |body| {
        format!(
            "{body}\n[updates]\npublic_key = {:?}\nroot = {:?}\nhealth_settle_s = 1\n",
            public.display().to_string(),
            root.display().to_string()
        )
    });
    let data = dir.join("data");
    let v1 = kiosk_package(&dir, "1.0.0", Path::new(BIN));
    must(dpkg_in(&root).arg("--install").arg(&v1));
    let site = Site { _dir: tmp, dir, root, config, data, public, private };
    site.sign(&v1);
    site
}

impl Site {
    fn yizhan(&self, args: &[&str]) -> std::process::Output {
        yizhan(&self.config, &self.data, args)
    }

    fn sign(&self, deb: &Path) {
        let signed =
            self.yizhan(&["update", "sign", "--key", self.private.to_str().unwrap(), deb.to_str().unwrap()]);
        assert!(signed.status.success(), "{}", text(&signed.stderr));
    }

    /// A package of `version` around `binary`, signed by the operator.
    fn signed(&self, version: &str, binary: &Path) -> PathBuf {
        let deb = kiosk_package(&self.dir, version, binary);
        self.sign(&deb);
        deb
    }

    fn v1(&self) -> PathBuf {
        self.dir.join("yizhan_1.0.0.deb")
    }

    fn stage(&self, deb: &Path, previous: Option<&Path>) -> std::process::Output {
        let mut args = vec!["update", "stage", deb.to_str().unwrap()];
        if let Some(previous) = previous {
            args.extend(["--previous", previous.to_str().unwrap()]);
        }
        self.yizhan(&args)
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("kiosk.pid")
    }

    /// The root updater's run. The kiosk is started as systemd would start it, in the
    /// background: the installed binary, headless, living a few seconds (its input ends then);
    /// stopped by killing it.
    fn apply(&self, health_timeout_s: u64) -> std::process::Output {
        let start = format!(
            "(sleep 4 | {}/usr/bin/yizhan --config {} --data-dir {} run --headless >/dev/null 2>&1) & echo $! > {}",
            self.root.display(),
            self.config.display(),
            self.data.display(),
            self.pid_file().display()
        );
        let output = self.yizhan(&[
            "update",
            "apply",
            "--root",
            self.root.to_str().unwrap(),
            "--key",
            self.public.to_str().unwrap(),
            "--stop",
            &self.stop_command(),
            "--start",
            &start,
            "--health-timeout-s",
            &health_timeout_s.to_string(),
        ]);
        self.stop_kiosk();
        output
    }

    fn stop_command(&self) -> String {
        format!(
            "pkill -P $(cat {0} 2>/dev/null) 2>/dev/null; kill $(cat {0} 2>/dev/null) 2>/dev/null; true",
            self.pid_file().display()
        )
    }

    fn stop_kiosk(&self) {
        Command::new("sh").arg("-c").arg(self.stop_command()).status().unwrap();
        // Its journal lock is free once it is gone.
        std::thread::sleep(Duration::from_millis(300));
    }

    fn status(&self) -> String {
        text(&self.yizhan(&["update", "status"]).stdout)
    }
}

fn broken_binary(dir: &Path) -> PathBuf {
    let path = dir.join("broken-yizhan");
    std::fs::write(&path, "#!/bin/sh\necho 'this build cannot start' >&2\nexit 1\n").unwrap();
    path
}

#[test]
fn a_tampered_package_is_refused_a_good_one_installed_and_a_broken_one_rolled_back() {
    let site = site(11);
    // The package installed its user, its folders and its units into the scratch root.
    let passwd = std::fs::read_to_string(site.root.join("etc/passwd")).unwrap();
    assert!(passwd
        .lines()
        .any(|l| l.starts_with("yizhan:") && l.ends_with(":/var/lib/yizhan:/usr/sbin/nologin")));
    let group = std::fs::read_to_string(site.root.join("etc/group")).unwrap();
    assert!(group.lines().any(|l| l.starts_with("dialout:") && l.ends_with("yizhan")), "{group}");
    assert!(
        site.root.join("var/lib/yizhan/anchor").is_dir() && site.root.join("var/lib/yizhan-updater").is_dir()
    );
    // The site filled in its configuration (every kiosk has).
    let site_config = site.root.join("etc/yizhan/kiosk.toml");
    let mut edited = std::fs::read_to_string(&site_config).unwrap();
    edited.push_str("# filled in on site\n");
    std::fs::write(&site_config, &edited).unwrap();

    let v1 = site.v1();
    let v2 = site.signed("2.0.0", Path::new(BIN));

    // Tampered: one byte of the .deb changed after signing. Refused, nothing staged.
    let tampered = site.dir.join("tampered.deb");
    let mut bytes = std::fs::read(&v2).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&tampered, bytes).unwrap();
    std::fs::copy(v2.with_extension("deb.sig"), tampered.with_extension("deb.sig")).unwrap();
    let refused = site.stage(&tampered, Some(&v1));
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stdout));
    assert!(text(&refused.stderr).contains("damaged or tampered with"), "{}", text(&refused.stderr));
    // Signed by someone else: refused too.
    let (stranger, _) = operator_keys(&site.dir, 99);
    let foreign = kiosk_package(&site.dir, "2.0.1", Path::new(BIN));
    yizhan(
        &site.config,
        &site.data,
        &["update", "sign", "--key", stranger.to_str().unwrap(), foreign.to_str().unwrap()],
    );
    let refused = site.stage(&foreign, Some(&v1));
    assert!(text(&refused.stderr).contains("not signed by the operator"), "{}", text(&refused.stderr));
    assert!(!site.status().contains("staged:"), "{}", site.status());

    // The good one: staged with 1.0.0 to fall back to, asked for, installed, healthy.
    let staged = site.stage(&v2, Some(&v1));
    assert!(staged.status.success(), "{}", text(&staged.stderr));
    assert!(site.yizhan(&["update", "request"]).status.success());
    let applied = site.apply(120);
    assert!(applied.status.success(), "{}{}", text(&applied.stdout), text(&applied.stderr));
    assert!(text(&applied.stdout).contains("2.0.0 installed and healthy"));
    assert_eq!(installed(&site.root), "2.0.0");
    assert!(site.status().contains("update: 2.0.0 installed and healthy"), "{}", site.status());
    // The site's configuration is kept; the package's new one waits beside it.
    assert_eq!(std::fs::read_to_string(&site_config).unwrap(), edited);
    assert!(site.root.join("etc/yizhan/kiosk.toml.dpkg-dist").exists());
    // An older version, signed all the same, is not taken back.
    let older = site.stage(&v1, Some(&v2));
    assert!(text(&older.stderr).contains("1.0.0 is older than 2.0.0"), "{}", text(&older.stderr));

    // The broken one: staged over 2.0.0 (kept by the updater as the fall-back), never healthy.
    let v3 = site.signed("3.0.0", &broken_binary(&site.dir));
    let staged = site.stage(&v3, None);
    assert!(staged.status.success(), "{}", text(&staged.stderr));
    assert!(site.yizhan(&["update", "request"]).status.success());
    let started = Instant::now();
    let applied = site.apply(3);
    assert_eq!(applied.status.code(), Some(3), "{}", text(&applied.stdout));
    let said = text(&applied.stderr);
    assert!(said.contains("rolled back to 2.0.0: it did not report healthy within 3 s"), "{said}");
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(installed(&site.root), "2.0.0", "the previous version is back");
    let status = site.status();
    assert!(
        status.contains("3.0.0 rolled back to 2.0.0")
            && status.contains("rolled back or refused here: 3.0.0")
    );
    assert!(!status.contains("staged:"), "the kiosk clears what the updater finished with: {status}");

    // Offered again, it is refused: the hub counts it as failed instead.
    let again = site.stage(&v3, None);
    assert!(
        text(&again.stderr).contains("3.0.0 was rolled back on this kiosk before"),
        "{}",
        text(&again.stderr)
    );
    // Nothing left to do.
    assert!(text(&site.apply(3).stdout).contains("nothing to install"));
}

#[test]
fn the_root_updater_trusts_nothing_the_kiosk_wrote_after_staging() {
    let site = site(14);
    let (v1, v2) = (site.v1(), site.signed("2.0.0", Path::new(BIN)));
    let staged_target = site.data.join("updates/staged/target.deb");

    // A kiosk broken into swaps the staged package after staging: the updater's own check fails.
    assert!(site.stage(&v2, Some(&v1)).status.success());
    let mut swapped = std::fs::read(&staged_target).unwrap();
    let last = swapped.len() - 1;
    swapped[last] ^= 1;
    std::fs::write(&staged_target, swapped).unwrap();
    assert!(site.yizhan(&["update", "request"]).status.success());
    let applied = site.apply(5);
    assert_eq!(applied.status.code(), Some(3));
    assert!(text(&applied.stderr).contains("damaged or tampered with"), "{}", text(&applied.stderr));
    assert_eq!(installed(&site.root), "1.0.0", "nothing installed");

    // Or puts a link to another file there: not followed.
    let v4 = site.signed("4.0.0", Path::new(BIN));
    assert!(site.stage(&v4, Some(&v1)).status.success());
    std::fs::remove_file(&staged_target).unwrap();
    std::os::unix::fs::symlink(site.root.join("etc/shadow"), &staged_target).unwrap();
    assert!(site.yizhan(&["update", "request"]).status.success());
    let applied = site.apply(5);
    assert_eq!(applied.status.code(), Some(3));
    assert!(text(&applied.stderr).contains("symbolic links"), "not followed: {}", text(&applied.stderr));
    assert_eq!(installed(&site.root), "1.0.0");
    // The state it keeps is in root's folder, not the kiosk's.
    assert!(site.root.join("var/lib/yizhan-updater/state.json").exists());
    assert!(!site.data.join("updates/state.json").exists());
}

/// A site with 2.0.0 staged, root's checked copies taken and `state` on record: the moment a
/// power cut left it in. With `installed_v2`, dpkg had put 2.0.0 in before the cut.
fn cut_at(seed: u8, state: &str, installed_v2: bool) -> Site {
    let site = site(seed);
    let (v1, v2) = (site.v1(), site.signed("2.0.0", Path::new(BIN)));
    assert!(site.stage(&v2, Some(&v1)).status.success());
    let work = site.root.join("var/lib/yizhan-updater/work");
    std::fs::create_dir_all(&work).unwrap();
    for file in ["target.deb", "previous.deb"] {
        let staged = site.data.join("updates/staged").join(file);
        std::fs::copy(&staged, work.join(file)).unwrap();
        std::fs::copy(staged.with_extension("deb.sig"), work.join(file).with_extension("deb.sig")).unwrap();
    }
    if installed_v2 {
        must(dpkg_in(&site.root).arg("--install").arg(&v2));
    }
    std::fs::write(site.root.join("var/lib/yizhan-updater/state.json"), state).unwrap();
    site
}

#[test]
fn a_power_cut_before_dpkg_ran_is_resumed_and_the_install_finished() {
    let state = r#"{"state":{"phase":"installing","from":"1.0.0","to":"2.0.0","started_ms":1}}"#;
    let site = cut_at(12, state, false);
    assert_eq!(installed(&site.root), "1.0.0", "dpkg never ran");
    // At boot the updater installs again and gives the new version the whole health window.
    let applied = site.apply(120);
    assert!(text(&applied.stdout).contains("2.0.0 installed and healthy"), "{}", text(&applied.stderr));
    assert_eq!(installed(&site.root), "2.0.0");
}

#[test]
fn a_power_cut_while_waiting_for_health_starts_the_check_afresh() {
    let state = r#"{"state":{"phase":"awaiting_health","from":"1.0.0","to":"2.0.0","installed_ms":1,"deadline_ms":2}}"#;
    let site = cut_at(15, state, true);
    // An old health report (of another start) does not count: only one with the new nonce.
    std::fs::write(site.data.join("updates/health"), r#"{"software":"0.1.0","at_ms":9,"nonce":"old"}"#)
        .unwrap();
    let applied = site.apply(120);
    assert!(text(&applied.stdout).contains("2.0.0 installed and healthy"), "{}", text(&applied.stderr));
    assert_eq!(installed(&site.root), "2.0.0");
}

#[test]
fn a_power_cut_during_a_roll_back_finishes_the_roll_back() {
    let reason = "it did not report healthy within 900 s";
    let state =
        format!(r#"{{"state":{{"phase":"rolling_back","from":"1.0.0","to":"2.0.0","reason":"{reason}"}}}}"#);
    let site = cut_at(16, &state, true);
    let applied = site.apply(120);
    assert_eq!(applied.status.code(), Some(3), "{}", text(&applied.stdout));
    assert!(
        text(&applied.stderr).contains(&format!("rolled back to 1.0.0: {reason}")),
        "{}",
        text(&applied.stderr)
    );
    assert_eq!(installed(&site.root), "1.0.0");
    assert!(site.status().contains("rolled back or refused here: 2.0.0"));
}

#[test]
fn an_idle_kiosk_asks_for_a_staged_update_to_be_installed() {
    let site = site(13);
    let (v1, v2) = (site.v1(), site.signed("2.0.0", Path::new(BIN)));
    assert!(site.stage(&v2, Some(&v1)).status.success());
    let request = site.data.join("updates/install-request");
    assert!(!request.exists());

    let mut kiosk = Command::new(BIN)
        .arg("--config")
        .arg(&site.config)
        .arg("--data-dir")
        .arg(&site.data)
        .args(["run", "--headless"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !request.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Nobody paying: it asked for 2.0.0.
    assert_eq!(std::fs::read_to_string(&request).ok().as_deref(), Some("2.0.0"));
    let _ = writeln!(kiosk.stdin.as_mut().unwrap(), "quit");
    kiosk.kill().unwrap();
    kiosk.wait().unwrap();
}
