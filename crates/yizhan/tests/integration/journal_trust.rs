//! Issue 9, items 1, 2, 3, 4, 10 and 11, from outside: the `yizhan` binary refuses to take money
//! on a journal it cannot trust, bounds every amount before an order is journaled, and reports
//! start-up problems with exit code 2, the file, the key and the cause.

use crate::support;

use std::path::{Path, PathBuf};
use support::cli::{config_with, text, yizhan};

const WATER: &[&str] =
    &["pay", "--utility", "water", "--account", "310000005", "--code", "134567890123456789"];
const POWER: &[&str] =
    &["pay", "--utility", "power", "--account", "3200000010", "--code", "134567890123456788"];
/// A water payment of another account: what a journal tampered with after `WATER` must refuse.
const WATER_AGAIN: &[&str] =
    &["pay", "--utility", "water", "--account", "310000013", "--code", "134567890123456787"];

fn kiosk() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), |body| body);
    (dir, config)
}

fn journal(dir: &Path) -> PathBuf {
    dir.join("journal.db")
}

/// A kiosk that has taken one payment (`WATER`).
fn kiosk_paid_once() -> (tempfile::TempDir, PathBuf) {
    let (dir, config) = kiosk();
    let out = yizhan(&config, dir.path(), WATER);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    (dir, config)
}

/// Runs `args`, which must be refused for a journal that cannot be trusted (exit 5); its
/// standard error.
fn refused(dir: &Path, config: &Path, args: &[&str]) -> String {
    let out = yizhan(config, dir, args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{}{stderr}", text(&out.stdout));
    stderr
}

/// Runs SQL on the journal as an attacker with the file would (triggers dropped first).
fn tamper(dir: &Path, sql: &str) {
    let path = journal(dir);
    let sql = sql.to_string();
    tokio::runtime::Runtime::new().unwrap().block_on(async move {
        use sqlx::Connection;
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        for statement in sql.split(';').filter(|s| !s.trim().is_empty()) {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    });
}

const DROP_TRIGGERS: &str = "DROP TRIGGER transitions_no_update; DROP TRIGGER transitions_no_delete;";

#[test]
fn an_absurd_top_up_is_refused_before_anything_is_journaled() {
    let (dir, config) = kiosk();
    let out = yizhan(
        &config,
        dir.path(),
        &["gas", "topup", "--amount", "9223372036854775807", "--code", "134567890123456789"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}{}", text(&out.stdout));
    assert!(stderr.contains("¥1000.00") || stderr.contains("1000"), "the limits are named: {stderr}");
    let zero =
        yizhan(&config, dir.path(), &["gas", "topup", "--amount", "0", "--code", "134567890123456789"]);
    assert_eq!(zero.status.code(), Some(2));
    let bad_code = yizhan(&config, dir.path(), &["gas", "topup", "--amount", "5000", "--code", "12"]);
    assert_eq!(bad_code.status.code(), Some(2), "{}", text(&bad_code.stderr));
    let list = yizhan(&config, dir.path(), &["journal", "list"]);
    assert_eq!(text(&list.stdout).trim(), "", "no order was journaled");
}

#[test]
fn a_bill_above_the_kiosk_ceiling_is_refused_before_anything_is_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        config_with(dir.path(), |body| body.replace("[backend]", "max_payment_fen = 1000\n\n[backend]"));
    let config_text = std::fs::read_to_string(&config).unwrap();
    assert!(config_text.contains("max_payment_fen = 1000\n\n[backend]"), "the edit landed in [kiosk]");
    let out = yizhan(&config, dir.path(), WATER);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(text(&yizhan(&config, dir.path(), &["journal", "list"]).stdout).trim(), "");
}

#[test]
fn an_emptied_journal_is_refused_until_staff_start_a_new_one() {
    let (dir, config) = kiosk_paid_once();
    std::fs::write(journal(dir.path()), b"").unwrap();
    let _ = std::fs::remove_file(dir.path().join("journal.db-wal"));
    let stderr = refused(dir.path(), &config, POWER);
    assert!(stderr.contains("missing or empty") && stderr.contains("journal init"), "{stderr}");
    let verify = yizhan(&config, dir.path(), &["journal", "verify"]);
    assert_ne!(verify.status.code(), Some(0), "verify never calls an emptied journal intact");
    assert_eq!(std::fs::metadata(journal(dir.path())).unwrap().len(), 0, "nothing recreated it");

    let init = yizhan(
        &config,
        dir.path(),
        &["journal", "init", "--new-kiosk", "--reason", "journal disk replaced", "--staff", "S01"],
    );
    assert_eq!(init.status.code(), Some(0), "{}", text(&init.stderr));
    assert!(text(&init.stdout).contains("kept aside"), "{}", text(&init.stdout));
    let again = yizhan(&config, dir.path(), POWER);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
}

#[test]
fn a_missing_journal_or_anchor_is_refused_and_an_intact_journal_can_be_adopted() {
    let (dir, config) = kiosk_paid_once();
    std::fs::remove_file(dir.path().join("journal.anchor")).unwrap();
    let stderr = refused(dir.path(), &config, POWER);
    assert!(stderr.contains("no anchor"), "{stderr}");
    let adopt = yizhan(
        &config,
        dir.path(),
        &["journal", "init", "--adopt", "--reason", "anchor lost", "--staff", "S01"],
    );
    assert_eq!(adopt.status.code(), Some(0), "{}", text(&adopt.stderr));
    assert_eq!(yizhan(&config, dir.path(), POWER).status.code(), Some(0));

    for file in ["journal.db", "journal.db-wal", "journal.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    let out = yizhan(&config, dir.path(), WATER);
    assert_eq!(out.status.code(), Some(5), "a deleted journal is never silently recreated");
}

#[test]
fn a_journal_rolled_back_to_an_older_copy_is_refused() {
    let (dir, config) = kiosk_paid_once();
    // A backup taken between two payments: the database with its write-ahead log, if any.
    let files = ["journal.db", "journal.db-wal"];
    for file in files {
        let _ = std::fs::copy(dir.path().join(file), dir.path().join(format!("old-{file}")));
    }
    assert_eq!(yizhan(&config, dir.path(), POWER).status.code(), Some(0));
    for file in files {
        let _ = std::fs::remove_file(dir.path().join(file));
        let _ = std::fs::copy(dir.path().join(format!("old-{file}")), dir.path().join(file));
    }
    let _ = std::fs::remove_file(dir.path().join("journal.db-shm"));
    let stderr = refused(dir.path(), &config, WATER_AGAIN);
    assert!(stderr.contains("rolled back"), "{stderr}");
}

#[test]
fn a_broken_chain_stops_money_and_verify_reports_every_break() {
    let (dir, config) = kiosk_paid_once();
    assert_eq!(yizhan(&config, dir.path(), POWER).status.code(), Some(0));
    tamper(
        dir.path(),
        &format!(
            "{DROP_TRIGGERS} UPDATE transitions SET event = 'edited' WHERE seq = 2; \
             UPDATE transitions SET effects = 'edited too' WHERE seq = 5"
        ),
    );
    let verify = yizhan(&config, dir.path(), &["journal", "verify"]);
    let report = text(&verify.stdout);
    assert_eq!(verify.status.code(), Some(3), "{report}");
    assert!(report.contains("CHAIN BROKEN at seq 2") && report.contains("CHAIN BROKEN at seq 5"), "{report}");
    let stderr = refused(dir.path(), &config, WATER_AGAIN);
    assert!(stderr.contains("transition 5"), "the row is named: {stderr}");
}

#[test]
fn forged_payment_columns_are_found_by_verify_and_refused_at_start() {
    let (dir, config) = kiosk_paid_once();
    // A forged total, and a finished payment made to look unfinished (it would wedge every
    // later payment as "unsettled").
    tamper(dir.path(), "UPDATE payments SET total_fen = 1, terminal = 0");
    let verify = yizhan(&config, dir.path(), &["journal", "verify"]);
    let report = text(&verify.stdout);
    assert_eq!(verify.status.code(), Some(3), "{report}");
    assert!(report.contains("total_fen 1 but the order totals 3150"), "{report}");
    assert!(report.contains("flags terminal=false"), "{report}");
    let stderr = refused(dir.path(), &config, POWER);
    assert!(stderr.contains("disagree"), "{stderr}");
}

#[test]
fn the_lock_is_taken_before_the_journal_is_created() {
    let (dir, config) = kiosk();
    let _held = yizhan::journal_lock::JournalLock::acquire(&journal(dir.path())).unwrap();
    let out = yizhan(&config, dir.path(), WATER);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("another yizhan process"), "{}", text(&out.stderr));
    assert!(!journal(dir.path()).exists(), "the loser never opened (or migrated) the journal");
}

#[test]
fn start_up_problems_exit_2_naming_the_key_the_file_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    type ConfigEdit = Box<dyn Fn(String) -> String>;
    let cases: Vec<(ConfigEdit, &str)> = vec![
        (Box::new(|b: String| b.replace("id = \"SH-DEMO-0001\"", "id = \"SH-DEMO\\n0001\"")), "kiosk.id"),
        (Box::new(|b: String| b.replace("id = \"SH-DEMO-0001\"", "id = \"上海-0001\"")), "kiosk.id"),
        (Box::new(|b: String| b.replace("number = \"0001\"", "number = \"A1\"")), "kiosk.number"),
        (
            Box::new(|b: String| b.replace("journal = \"journal.db\"", "journal = \"/proc/journal.db\"")),
            "kiosk.journal",
        ),
        (Box::new(|b: String| b.replace("journal = \"journal.db\"", "journal = \"\"")), "kiosk.journal"),
        (
            Box::new(|b: String| b.replacen("sim_keys = ", "sim_keys = \"/nonexistent\" #", 1)),
            "backend.sim_keys",
        ),
        // An unsalted SHA-256 of a six-digit PIN is reversed in a moment: refused, saying why.
        (Box::new(|b: String| b.replacen("pin_hash = ", "pin_sha256 = ", 1)), "staff.pin_sha256"),
        (
            Box::new(|b: String| b.replacen("pin_hash = \"$argon2id", "pin_hash = \"$argon2i", 1)),
            "staff.pin_hash",
        ),
    ];
    for (edit, key) in cases {
        let config = config_with(dir.path(), &edit);
        let out = yizhan(&config, dir.path(), WATER);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}: {stderr}");
        assert!(stderr.contains(key), "{key} not named: {stderr}");
    }
    // The journal's path is a folder: named, with what was expected.
    let config = config_with(dir.path(), |b| b);
    std::fs::create_dir_all(dir.path().join("journal.db")).unwrap();
    let out = yizhan(&config, dir.path(), WATER);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is a folder"), "{}", text(&out.stderr));
}

#[test]
fn an_account_or_card_the_biller_does_not_know_exits_6_and_journals_nothing() {
    let (dir, config) = kiosk();
    let out = yizhan(
        &config,
        dir.path(),
        &["pay", "--utility", "water", "--account", "319999991", "--code", "134567890123456789"],
    );
    assert_eq!(out.status.code(), Some(6), "{}{}", text(&out.stdout), text(&out.stderr));
    let list = yizhan(&config, dir.path(), &["journal", "list"]);
    assert!(!text(&list.stdout).contains("YZ"), "nothing journaled: {}", text(&list.stdout));
}

/// Issue 9 item 18: prints and staff actions are hash-chained too; an edited staff action (who
/// settled what, and why) stops money like an edited payment row, naming the row.
#[test]
fn an_edited_staff_action_stops_money_and_is_named() {
    let (dir, config) = kiosk_paid_once();
    tamper(
        dir.path(),
        "DROP TRIGGER staff_actions_no_update; UPDATE staff_actions SET staff_id = 'S999' WHERE id = 1",
    );
    let stderr = refused(dir.path(), &config, WATER_AGAIN);
    assert!(stderr.contains("staff_actions row 1"), "{stderr}");
    let list = yizhan(&config, dir.path(), &["journal", "list"]);
    assert_eq!(text(&list.stdout).matches("YZ").count(), 1, "no second order: {}", text(&list.stdout));
}

/// `yizhan doctor` on site: every line ✔ for a sound kiosk; an edited journal is a ✗ that
/// names the row and says what to do, and the exit code says something is wrong.
#[test]
fn the_doctor_finds_nothing_wrong_with_a_sound_kiosk_and_names_an_edited_journal() {
    let (dir, config) = kiosk_paid_once();
    let sound = yizhan(&config, dir.path(), &["doctor"]);
    let said = text(&sound.stdout);
    assert_eq!(sound.status.code(), Some(0), "{said}{}", text(&sound.stderr));
    assert!(said.contains("✔ journal verified: 6 transitions"), "{said}");
    assert!(said.contains("✔ Printer: paper ok") && said.contains("✔ Note acceptor"), "{said}");
    assert!(said.contains("– no fleet hub configured") && said.contains("✔ disk: "), "{said}");
    assert!(!said.contains('✗'), "{said}");

    tamper(dir.path(), &format!("{DROP_TRIGGERS} UPDATE transitions SET event = 'edited' WHERE seq = 2"));
    let edited = yizhan(&config, dir.path(), &["doctor"]);
    let said = text(&edited.stdout);
    assert_eq!(edited.status.code(), Some(1), "{said}");
    assert!(said.contains("✗ journal: ") && said.contains("CHAIN BROKEN at seq 2"), "{said}");
    assert!(said.contains("→ no money is taken"), "with what to do: {said}");
}
