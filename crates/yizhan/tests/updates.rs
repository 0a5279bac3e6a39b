//! Signed, health-gated updates end to end, in a scratch root with dpkg: three versions of the
//! kiosk's package (the real maintainer scripts, the real binary in the good ones, a binary that
//! cannot start in the broken one) signed with `yizhan update sign`; a tampered package refused
//! before it is staged; a good one installed and reported healthy; the broken one rolled back by
//! the updater itself; a power cut during the health check resumed; and the kiosk asking for
//! the install by itself once idle.

mod support;

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
}

/// A scratch system with version 1.0.0 installed from its package, and a kiosk configuration
/// whose update key is the test operator's.
fn site(private_seed: u8) -> (Site, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let root = dir.join("root");
    scratch_root(&root);
    let (private, public) = operator_keys(&dir, private_seed);
    let config = config_with(&dir, |body| {
        format!(
            "{body}\n[updates]\npublic_key = {:?}\nroot = {:?}\n",
            public.display().to_string(),
            root.display().to_string()
        )
    });
    let data = dir.join("data");
    let v1 = kiosk_package(&dir, "1.0.0", Path::new(BIN));
    must(dpkg_in(&root).arg("--install").arg(&v1));
    (Site { _dir: tmp, dir, root, config, data, public }, private)
}

impl Site {
    fn yizhan(&self, args: &[&str]) -> std::process::Output {
        yizhan(&self.config, &self.data, args)
    }

    /// A package of `version` around `binary`, signed by `key` with `yizhan update sign`.
    fn signed(&self, version: &str, binary: &Path, key: &Path) -> PathBuf {
        let deb = kiosk_package(&self.dir, version, binary);
        let signed = self.yizhan(&["update", "sign", "--key", key.to_str().unwrap(), deb.to_str().unwrap()]);
        assert!(signed.status.success(), "{}", text(&signed.stderr));
        assert!(text(&signed.stdout).contains(&format!("signed yizhan {version}")));
        deb
    }

    /// The root updater's run, the kiosk started by running the installed binary headless (it
    /// verifies the journal, recovers, reports healthy, and stops at the end of its input).
    fn apply(&self, health_timeout_s: u64) -> std::process::Output {
        let start = format!(
            "{}/usr/bin/yizhan --config {} --data-dir {} run --headless </dev/null >/dev/null 2>&1",
            self.root.display(),
            self.config.display(),
            self.data.display()
        );
        let timeout = health_timeout_s.to_string();
        self.yizhan(&[
            "update",
            "apply",
            "--root",
            self.root.to_str().unwrap(),
            "--key",
            self.public.to_str().unwrap(),
            "--stop",
            "true",
            "--start",
            &start,
            "--health-timeout-s",
            &timeout,
        ])
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
    let (site, private) = site(11);
    // The package installed its user, its folders and its units into the scratch root.
    let passwd = std::fs::read_to_string(site.root.join("etc/passwd")).unwrap();
    assert!(passwd
        .lines()
        .any(|l| l.starts_with("yizhan:") && l.ends_with(":/var/lib/yizhan:/usr/sbin/nologin")));
    let group = std::fs::read_to_string(site.root.join("etc/group")).unwrap();
    assert!(group.lines().any(|l| l.starts_with("dialout:") && l.ends_with("yizhan")), "{group}");
    assert!(site.root.join("var/lib/yizhan/anchor").is_dir());

    let v1 = site.dir.join("yizhan_1.0.0.deb");
    let v1_signed =
        site.yizhan(&["update", "sign", "--key", private.to_str().unwrap(), v1.to_str().unwrap()]);
    assert!(v1_signed.status.success());
    let v2 = site.signed("2.0.0", Path::new(BIN), &private);

    // Tampered: one byte of the .deb changed after signing. Refused, nothing staged.
    let tampered = site.dir.join("tampered.deb");
    let mut bytes = std::fs::read(&v2).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&tampered, bytes).unwrap();
    std::fs::copy(v2.with_extension("deb.sig"), tampered.with_extension("deb.sig")).unwrap();
    let refused =
        site.yizhan(&["update", "stage", tampered.to_str().unwrap(), "--previous", v1.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(text(&refused.stderr).contains("damaged or tampered with"), "{}", text(&refused.stderr));
    // Signed by someone else: refused too.
    let (stranger, _) = operator_keys(&site.dir, 99);
    let foreign = site.signed("2.0.1", Path::new(BIN), &stranger);
    let refused =
        site.yizhan(&["update", "stage", foreign.to_str().unwrap(), "--previous", v1.to_str().unwrap()]);
    assert!(text(&refused.stderr).contains("not signed by the operator"), "{}", text(&refused.stderr));
    assert!(!site.status().contains("staged:"), "{}", site.status());

    // The good one: staged with 1.0.0 to fall back to, asked for, installed, healthy.
    let staged = site.yizhan(&["update", "stage", v2.to_str().unwrap(), "--previous", v1.to_str().unwrap()]);
    assert!(staged.status.success(), "{}", text(&staged.stderr));
    assert!(site.yizhan(&["update", "request"]).status.success());
    let applied = site.apply(120);
    assert!(applied.status.success(), "{}{}", text(&applied.stdout), text(&applied.stderr));
    assert!(text(&applied.stdout).contains("2.0.0 installed and healthy"));
    assert_eq!(installed(&site.root), "2.0.0");
    assert!(site.status().contains("update: 2.0.0 installed and healthy"), "{}", site.status());

    // The broken one: staged over 2.0.0 (kept by the updater as the fall-back), never healthy.
    let v3 = site.signed("3.0.0", &broken_binary(&site.dir), &private);
    let staged = site.yizhan(&["update", "stage", v3.to_str().unwrap()]);
    assert!(staged.status.success(), "{}", text(&staged.stderr));
    assert!(site.yizhan(&["update", "request"]).status.success());
    let started = Instant::now();
    let applied = site.apply(3);
    assert_eq!(applied.status.code(), Some(1), "{}", text(&applied.stdout));
    let said = text(&applied.stderr);
    assert!(said.contains("rolled back to 2.0.0: it did not report healthy within 3 s"), "{said}");
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(installed(&site.root), "2.0.0", "the previous version is back");
    let status = site.status();
    assert!(
        status.contains("3.0.0 rolled back to 2.0.0")
            && status.contains("rolled back or refused here: 3.0.0")
    );

    // Offered again, it is refused: the hub counts it as failed instead.
    let again = site.yizhan(&["update", "stage", v3.to_str().unwrap()]);
    assert!(
        text(&again.stderr).contains("3.0.0 was rolled back on this kiosk before"),
        "{}",
        text(&again.stderr)
    );
    // Nothing left to do.
    assert!(text(&site.apply(3).stdout).contains("nothing to install"));
}

#[test]
fn a_power_cut_while_waiting_for_health_is_resumed_at_the_next_boot() {
    let (site, private) = site(12);
    let v1 = site.dir.join("yizhan_1.0.0.deb");
    site.yizhan(&["update", "sign", "--key", private.to_str().unwrap(), v1.to_str().unwrap()]);
    let v2 = site.signed("2.0.0", Path::new(BIN), &private);
    assert!(site
        .yizhan(&["update", "stage", v2.to_str().unwrap(), "--previous", v1.to_str().unwrap()])
        .status
        .success());
    // The power went while the updater waited: dpkg had installed 2.0.0, state.json says so.
    must(dpkg_in(&site.root).arg("--install").arg(&v2));
    let state = r#"{"state":{"phase":"awaiting_health","from":"1.0.0","to":"2.0.0","installed_ms":1,"deadline_ms":2}}"#;
    std::fs::write(site.data.join("updates/state.json"), state).unwrap();
    let _ = std::fs::remove_file(site.data.join("updates/install-request"));
    // At boot the updater starts the kiosk again and gives it the whole time to say it is well.
    let applied = site.apply(120);
    assert!(text(&applied.stdout).contains("2.0.0 installed and healthy"), "{}", text(&applied.stderr));
    assert_eq!(installed(&site.root), "2.0.0");
}

#[test]
fn an_idle_kiosk_asks_for_a_staged_update_to_be_installed() {
    let (site, private) = site(13);
    let v1 = site.dir.join("yizhan_1.0.0.deb");
    site.yizhan(&["update", "sign", "--key", private.to_str().unwrap(), v1.to_str().unwrap()]);
    let v2 = site.signed("2.0.0", Path::new(BIN), &private);
    assert!(site
        .yizhan(&["update", "stage", v2.to_str().unwrap(), "--previous", v1.to_str().unwrap()])
        .status
        .success());
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
    // It said it is healthy at start, and asked (with nobody paying) for 2.0.0.
    assert!(site.data.join("updates/health").exists());
    assert_eq!(std::fs::read_to_string(&request).ok().as_deref(), Some("2.0.0"));
    let _ = writeln!(kiosk.stdin.as_mut().unwrap(), "quit");
    kiosk.kill().unwrap();
    kiosk.wait().unwrap();
}
