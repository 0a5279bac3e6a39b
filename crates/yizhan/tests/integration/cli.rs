//! The `yizhan` binary as people and scripts use it: configuration errors that say where and
//! what, the demo accounts, exit codes, the journal commands, and logs without personal data.

use crate::support;

use std::process::Command;

use support::cli::{config_with, text, yizhan, BIN};

#[test]
fn a_wrong_config_value_names_the_file_the_key_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 4] = [
        ("divisor = 1", "divisor = 0", "timing.divisor"),
        ("format = \"human\"", "format = \"xml\"", "format"),
        ("mode = \"embedded\"", "mode = \"remote\"", "payments"),
        ("[timing]", "[timing]\nspeed = 3", "speed"),
    ];
    for (from, to, key) in cases {
        let config = config_with(dir.path(), |body| body.replacen(from, to, 1));
        let out = yizhan(&config, dir.path(), &["journal", "list"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{to}: {stderr}");
        assert!(stderr.contains("kiosk.toml"), "no file named: {stderr}");
        assert!(stderr.contains(key), "no key {key}: {stderr}");
    }
    let missing = yizhan(&dir.path().join("nope.toml"), dir.path(), &["journal", "list"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("nope.toml"));
}

#[test]
fn sim_accounts_lists_at_least_two_per_utility_and_a_household() {
    let out = Command::new(BIN).args(["sim", "accounts"]).output().unwrap();
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    for utility in ["water", "power", "gas"] {
        let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with(&format!("{utility} "))).collect();
        assert!(rows.len() >= 2, "{utility}: {rows:?}");
        for row in rows {
            let fields: Vec<&str> = row.split(' ').collect();
            assert_eq!(fields.len(), 3, "UTILITY ACCOUNT AMOUNT_FEN: {row}");
            let utility = fields[0].parse().unwrap();
            let rule = kiosk_core::AccountRule::default_for(utility);
            assert!(rule.check(utility, fields[1]).is_ok(), "{row}");
            assert!(fields[2].parse::<i64>().is_ok(), "{row}");
        }
    }
    assert!(stdout.lines().any(|l| l.starts_with("joint ")), "{stdout}");
}

#[test]
fn pay_prints_transitions_and_receipt_and_logs_nothing_personal() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), |body| {
        body.replace("format = \"human\"", "format = \"json\"")
            .replace("level = \"warn\"", "level = \"debug\"")
    });
    let code = "134567890123456789";
    let out = yizhan(
        &config,
        dir.path(),
        &["pay", "--utility", "power", "--account", "3200000010", "--code", code],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "ORDERED -> PAY_SENT",
        "PAY_SENT -> PAID",
        "WRITTEN_OFF -> DONE",
        "合计 Total: ¥126.80",
        "32****0010",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?}:\n{stdout}");
    }
    assert!(stdout.lines().last().unwrap().starts_with("RESULT DONE"));
    assert!(!stdout.contains("3200000010") && !stdout.contains(code), "{stdout}");
    assert!(stderr.contains("\"level\""), "JSON logs expected:\n{stderr}");
    assert!(!stderr.contains("3200000010") && !stderr.contains(code), "personal data in logs:\n{stderr}");

    // The journal commands read what was written.
    let list = text(&yizhan(&config, dir.path(), &["journal", "list"]).stdout);
    let order = list.split_whitespace().next().unwrap().to_string();
    assert!(list.contains("DONE") && list.contains("¥126.80"), "{list}");
    let verify = yizhan(&config, dir.path(), &["journal", "verify"]);
    assert!(verify.status.success() && text(&verify.stdout).contains("chain intact: 6 transitions"));
    let csv_path = dir.path().join("journal.csv");
    let export = yizhan(&config, dir.path(), &["journal", "export", "--out", csv_path.to_str().unwrap()]);
    assert!(export.status.success());
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(csv.lines().count(), 7, "a header and six transitions:\n{csv}");
    assert!(!csv.contains("3200000010"));
    let reprint = text(&yizhan(&config, dir.path(), &["journal", "reprint", &order]).stdout);
    assert!(reprint.contains(&order) && reprint.contains("缴费成功"), "{reprint}");
}

#[test]
fn bad_input_is_refused_before_any_money_moves() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), |body| body);
    let cases = [
        (
            ["--utility", "water", "--account", "310000005", "--code", "https://pay.example/x"],
            "not a payment code",
        ),
        (["--utility", "water", "--account", "310000005", "--code", "16456789012345678"], "not a WeChat"),
        (["--utility", "water", "--account", "310000006", "--code", "134567890123456789"], "check digit"),
        (["--utility", "steam", "--account", "310000005", "--code", "134567890123456789"], "unknown utility"),
    ];
    for (args, message) in cases {
        let mut full = vec!["pay"];
        full.extend(args);
        let out = yizhan(&config, dir.path(), &full);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(message), "{args:?}: {}", text(&out.stderr));
    }
    let list = yizhan(&config, dir.path(), &["journal", "list"]);
    assert_eq!(text(&list.stdout), "", "nothing journaled");
}

#[test]
fn a_scanned_payment_prints_a_receipt_that_receipt_verify_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), |body| body);
    let code = "284567890123456789";
    let args = ["pay", "--utility", "water", "--account", "310000013", "--scan", "--present", code];
    let out = yizhan(&config, dir.path(), &args);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("合计 Total: ¥58.20"), "{stdout}");
    let payload = stdout.lines().find_map(|l| l.strip_prefix("QR ")).expect("a QR payload").to_string();
    let verify = yizhan(&config, dir.path(), &["receipt", "verify", &payload]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
    assert!(text(&verify.stdout).starts_with("GENUINE"), "{}", text(&verify.stdout));
    let mut forged = payload.clone();
    forged.pop();
    forged.push(if payload.ends_with('A') { 'B' } else { 'A' });
    let refused = yizhan(&config, dir.path(), &["receipt", "verify", &forged]);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stdout));
    let devices = yizhan(&config, dir.path(), &["devices"]);
    assert!(devices.status.success());
    assert!(text(&devices.stdout).contains("printer") && text(&devices.stdout).contains("scanner"));
}

/// Issue 13, item 5: the notes a simulated customer inserts pay a power bill (what is over is
/// prepaid), and 清机 counts them on the collection slip, only for a staff PIN.
#[test]
fn notes_pay_a_bill_and_the_box_is_collected_only_with_a_staff_pin() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), |body| body);
    let args = ["pay", "--utility", "power", "--account", "3200000010", "--cash", "10000,5000"];
    let out = yizhan(&config, dir.path(), &args);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.lines().last().unwrap().starts_with("RESULT DONE"), "{stdout}");

    let collect = |pin: &str| {
        use std::io::Write;
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["cash", "collect"])
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{pin}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let refused = collect("000000");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("nothing was collected"));
    let collected = collect("246810");
    let slip = text(&collected.stdout);
    assert!(collected.status.success(), "{slip}\n{}", text(&collected.stderr));
    assert!(slip.contains("COLLECTED 2 notes ¥150.00 by S001"), "{slip}");
    // The box is empty after it: a second collection counts nothing.
    let again = text(&collect("246810").stdout);
    assert!(again.contains("COLLECTED 0 notes ¥0.00"), "{again}");
}

#[test]
fn devices_explains_a_stable_name_that_is_missing_by_its_udev_rule() {
    let dir = tempfile::tempdir().unwrap();
    // Real hardware at the names the package's udev rules make; none of it is plugged in here.
    let config = config_with(dir.path(), |body| {
        let (start, end) = (body.find("[devices.scanner]").unwrap(), body.find("[ui]").unwrap());
        let mut body = body.replace("simulated = true", "simulated = false");
        let real = "[devices.printer.serial]\npath = \"/dev/yizhan/printer\"\n\n[devices.cash]\n\
                    accepted_yuan = [10, 20]\n[devices.cash.serial]\npath = \"/dev/yizhan/cash\"\n\
                    baud = 9600\nparity = \"even\"\n\n";
        body.replace_range(start..end, real);
        body
    });
    let out = yizhan(&config, &dir.path().join("data"), &["devices"]);
    let said = text(&out.stdout);
    assert!(said.contains("printer   /dev/yizhan/printer is missing."), "{said}");
    assert!(
        said.contains("(a thermal kiosk printer in USB-serial mode on a CH340 bridge, internal hub port 1)")
    );
    assert!(said.contains("expects USB 1a86:7523 at port *-usb-0:*.1:1.0"), "{said}");
    assert!(said.contains("cash      /dev/yizhan/cash is missing."), "{said}");
    assert!(said.contains("(the JCM banknote acceptor (ID-003, RS-232)"), "{said}");
}

#[test]
#[cfg(not(feature = "kms"))]
fn the_linuxkms_backend_in_a_build_without_it_is_refused_with_what_to_build() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), |body| body.replace("[ui]\n", "[ui]\nbackend = \"linuxkms\"\n"));
    let out = yizhan(&config, &dir.path().join("data"), &["run"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("build with --features kms"), "{}", text(&out.stderr));
}
