//! The kiosk as a systemd service: the units in packaging/systemd/ pass `systemd-analyze verify`
//! without a warning, and the `yizhan` binary speaks the notify protocol to a `NOTIFY_SOCKET` of
//! the test's own — READY=1 only after recovery has settled what a power cut left, WATCHDOG=1
//! from its loop while the watchdog is set, STOPPING=1 when it is told to quit.

use crate::support;

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::cli::{config_with, text, BIN};

fn unit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/systemd")
}

#[test]
fn the_units_pass_systemd_analyze_verify_without_a_warning() {
    let scratch = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for entry in std::fs::read_dir(unit_dir()).unwrap() {
        let path = entry.unwrap().path();
        if !matches!(path.extension().and_then(|e| e.to_str()), Some("service" | "path")) {
            continue;
        }
        // The packaged binaries are not installed here: verify checks ExecStart names an
        // executable, so the built one stands in for them.
        let unit = std::fs::read_to_string(&path).unwrap();
        let unit = unit
            .replace("/usr/bin/yizhan-hub ", &format!("{BIN} "))
            .replace("/usr/bin/yizhan ", &format!("{BIN} "));
        let copy = scratch.path().join(path.file_name().unwrap());
        std::fs::write(&copy, unit).unwrap();
        units.push(copy);
    }
    assert_eq!(units.len(), 4, "the kiosk's unit, the updater's service and path, and the hub's");
    let verified = Command::new("systemd-analyze")
        .arg("verify")
        .args(&units)
        .output()
        .expect("systemd-analyze (Debian's systemd package; scripts/test.sh installs it)");
    // A value systemd cannot parse is only a warning: any line on stderr fails the test.
    assert!(
        verified.status.success() && verified.stderr.is_empty(),
        "{}{}",
        text(&verified.stdout),
        text(&verified.stderr)
    );

    let kiosk = std::fs::read_to_string(unit_dir().join("yizhan.service")).unwrap();
    for line in
        ["Type=notify", "NotifyAccess=main", "Restart=always", "ProtectSystem=strict", "NoNewPrivileges=yes"]
    {
        assert!(kiosk.lines().any(|l| l == line), "yizhan.service lacks {line}");
    }
    assert!(kiosk.lines().any(|l| l.starts_with("WatchdogSec=")));
    assert!(kiosk.lines().any(|l| l.starts_with("ReadWritePaths=") && l.contains("/var/lib/yizhan")));
}

/// Reads notify datagrams until one holds `wanted` (or the socket's read timeout passes).
fn wait_for(socket: &UnixDatagram, wanted: &str, seen: &mut Vec<String>) -> bool {
    let mut buf = [0_u8; 4096];
    while let Ok(n) = socket.recv(&mut buf) {
        let message = String::from_utf8_lossy(&buf[..n]).to_string();
        seen.push(message.clone());
        if message.lines().any(|l| l == wanted) {
            return true;
        }
    }
    false
}

#[test]
fn a_kiosk_is_ready_only_after_recovery_and_feeds_the_watchdog_from_its_loop() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), |body| body);
    let data = dir.path().join("data");

    // A power cut right after the first journal commit: an order the next start must settle.
    let cut = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .args(["pay", "--utility", "power", "--account", "3200000010", "--code", "134567890123456789"])
        .env_remove("RUST_LOG")
        .env("YIZHAN_CRASH_AFTER_COMMIT", "1")
        .output()
        .unwrap();
    assert!(!cut.status.success(), "the power cut: {}", text(&cut.stdout));

    let socket_path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let out = dir.path().join("kiosk.out");
    // As systemd starts it: WATCHDOG_PID names the kiosk's own process (the shell's, which
    // `exec` hands over).
    let mut kiosk = Command::new("sh")
        .args(["-c", "WATCHDOG_PID=$$ exec \"$0\" \"$@\"", BIN, "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .args(["run", "--headless"])
        .env_remove("RUST_LOG")
        .env_remove("YIZHAN_CRASH_AFTER_COMMIT")
        .env("NOTIFY_SOCKET", &socket_path)
        // WatchdogSec=2: fed every half second.
        .env("WATCHDOG_USEC", "2000000")
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let mut seen = Vec::new();
    assert!(wait_for(&socket, "READY=1", &mut seen), "never ready: {seen:?}");
    let said = std::fs::read_to_string(&out).unwrap();
    assert!(said.contains("settled 1 unfinished payment(s)"), "ready before recovery:\n{said}");
    for _ in 0..3 {
        assert!(wait_for(&socket, "WATCHDOG=1", &mut seen), "the watchdog is not fed: {seen:?}");
    }
    writeln!(kiosk.stdin.as_mut().unwrap(), "quit").unwrap();
    assert!(wait_for(&socket, "STOPPING=1", &mut seen), "{seen:?}");
    assert!(kiosk.wait().unwrap().success());
}
