//! The kiosk in a fleet, end to end: the `yizhan` binary pays, pairs with a real hub (mutual
//! TLS, PostgreSQL), ships its journal, keeps paying while the hub is down and catches up when
//! it returns, obeys the operator's out-of-service command between customers, and takes up a
//! configuration the operator pushes once it has checked it.

use crate::hubkit;
use crate::support;

use std::path::{Path, PathBuf};

use fleet::wire::CommandAction;
use hubkit::{central_rows, chain_state, TestHub};
use support::cli::{config_with, text};

/// Runs `yizhan` off the async threads (the hub under test runs on them).
use support::cli::yizhan_async as run;

/// Pays the demo power bill (each `yizhan pay` starts the embedded billers afresh) with a fresh
/// WeChat code; the output.
async fn pay(config: &Path, data: &Path) -> std::process::Output {
    let account = "3200000010";
    let code = format!("13{:016}", rand::random::<u64>() % 10_000_000_000_000_000);
    run(config, data, &["pay", "--utility", "power", "--account", account, "--code", &code]).await
}

async fn local_head(data: &Path) -> i64 {
    let reader = journal::OutboxReader::open(&data.join("journal.db")).await.unwrap();
    reader.head().await.unwrap().seq
}

fn kiosk_config(dir: &Path, hub_url: &str) -> PathBuf {
    config_with(dir, |body| format!("{body}\n[hub]\nurl = \"{hub_url}\"\nheartbeat_every_s = 5\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_pays_with_the_hub_down_pairs_ships_catches_up_and_obeys_the_operator() {
    let mut hub = TestHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = kiosk_config(dir.path(), &hub.url());
    let kiosk_id = "SH-PD-0001";

    // Not paired yet: it pays all the same.
    let paid = pay(&config, &data).await;
    assert!(paid.status.success(), "{}\n{}", text(&paid.stdout), text(&paid.stderr));
    let unpaired = run(&config, &data, &["hub", "sync"]).await;
    assert_eq!(unpaired.status.code(), Some(1));
    assert!(
        text(&unpaired.stderr).contains("yizhan hub pair") || text(&unpaired.stderr).contains("not paired"),
        "{}",
        text(&unpaired.stderr)
    );

    let ticket = hub.ticket(kiosk_id).await.to_qr_text();
    let paired = run(&config, &data, &["hub", "pair", &ticket]).await;
    assert!(paired.status.success(), "{}", text(&paired.stderr));
    let synced = run(&config, &data, &["hub", "sync"]).await;
    assert!(synced.status.success(), "{}", text(&synced.stderr));
    let head = local_head(&data).await;
    assert!(head >= 4, "a payment is several transitions ({head})");
    assert_eq!(central_rows(hub.pool(), kiosk_id).await, head);
    assert_eq!(chain_state(hub.pool(), kiosk_id).await, (head, head, "intact".into()));
    let doctor = run(&config, &data, &["doctor"]).await;
    assert!(
        text(&doctor.stdout).contains("reachable; it accepts this kiosk's certificate"),
        "{}",
        text(&doctor.stdout)
    );

    // The hub goes down: the kiosk takes two more payments.
    hub.stop().await;
    for _ in 0..2 {
        let paid = pay(&config, &data).await;
        assert!(paid.status.success(), "payments never wait for the hub: {}", text(&paid.stderr));
    }
    let offline = run(&config, &data, &["hub", "sync"]).await;
    assert_eq!(offline.status.code(), Some(1));
    let doctor = run(&config, &data, &["doctor"]).await;
    assert_eq!(doctor.status.code(), Some(1), "{}", text(&doctor.stdout));
    assert!(text(&doctor.stdout).contains("✗ fleet hub https://"), "{}", text(&doctor.stdout));
    hub.restart().await;
    let synced = run(&config, &data, &["hub", "sync"]).await;
    assert!(synced.status.success(), "{}", text(&synced.stderr));
    let head = local_head(&data).await;
    assert_eq!(central_rows(hub.pool(), kiosk_id).await, head, "caught up, nothing lost or doubled");
    assert_eq!(chain_state(hub.pool(), kiosk_id).await, (head, head, "intact".into()));

    // The operator takes it out of service: the next customer is refused, until it is back.
    let reason = "screen glass cracked";
    hub::commands::enqueue(
        hub.pool(),
        kiosk_id,
        "wang.hall",
        &CommandAction::TakeOutOfService { reason: reason.into() },
    )
    .await
    .unwrap();
    let synced = run(&config, &data, &["hub", "sync"]).await;
    assert!(text(&synced.stdout).contains("1 command(s) carried out"), "{}", text(&synced.stdout));
    // The acknowledgement was lost: the hub hands the command over again. It is not journaled
    // twice (and taking out of service again changes nothing).
    sqlx::query("UPDATE commands SET acked_at = NULL").execute(hub.pool()).await.unwrap();
    let again = run(&config, &data, &["hub", "sync"]).await;
    assert!(text(&again.stdout).contains("1 command(s) carried out"), "{}", text(&again.stdout));
    let refused = pay(&config, &data).await;
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains(reason), "{}", text(&refused.stderr));
    hub::commands::enqueue(hub.pool(), kiosk_id, "wang.hall", &CommandAction::ReturnToService).await.unwrap();
    hub::commands::enqueue(hub.pool(), kiosk_id, "wang.hall", &CommandAction::Diagnostics).await.unwrap();
    run(&config, &data, &["hub", "sync"]).await;
    let paid = pay(&config, &data).await;
    assert!(paid.status.success(), "{}", text(&paid.stderr));

    // Diagnostics: the devices, the journal, and what the kiosk logged lately (here, at the
    // test's `warn` level: that it started out of service), scrubbed as the log is.
    let report: String =
        sqlx::query_scalar("SELECT detail FROM commands WHERE action->>'kind' = 'diagnostics' AND done")
            .fetch_one(hub.pool())
            .await
            .unwrap();
    assert!(report.contains("Printer: ") && report.contains("journal: "), "{report}");
    let log = report.split_once("log lines:").map(|(_, log)| log).unwrap_or_default();
    assert!(log.contains("out of service by the operator's order"), "{report}");

    // Its acknowledgement lost, diagnostics are answered afresh, not "already answered". A
    // command kind this kiosk does not know (from a newer hub) is refused, and the command
    // after it still comes.
    sqlx::query("UPDATE commands SET acked_at = NULL, detail = NULL WHERE action->>'kind' = 'diagnostics'")
        .execute(hub.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO commands (kiosk_id, operator, action) VALUES ($1, 'wang.hall', '{\"kind\":\"reboot_printer\"}')")
        .bind(kiosk_id)
        .execute(hub.pool())
        .await
        .unwrap();
    hub::commands::enqueue(hub.pool(), kiosk_id, "wang.hall", &CommandAction::ReturnToService).await.unwrap();
    let synced = run(&config, &data, &["hub", "sync"]).await;
    assert!(synced.status.success(), "{}", text(&synced.stderr));
    let answers: Vec<(String, Option<bool>, Option<String>)> = sqlx::query_as(
        "SELECT action->>'kind', done, detail FROM commands \
         WHERE id >= (SELECT id FROM commands WHERE action->>'kind' = 'diagnostics') ORDER BY id",
    )
    .fetch_all(hub.pool())
    .await
    .unwrap();
    let (kinds, done): (Vec<&str>, Vec<Option<bool>>) =
        answers.iter().map(|(k, d, _)| (k.as_str(), *d)).unzip();
    assert_eq!(kinds, ["diagnostics", "reboot_printer", "return_to_service"]);
    assert_eq!(done, [Some(true), Some(false), Some(true)], "{answers:?}");
    assert!(answers[0].2.as_deref().unwrap_or("").contains("journal: "), "{answers:?}");
    assert!(answers[1].2.as_deref().unwrap_or("").contains("does not know this command"), "{answers:?}");

    // Both commands acknowledged on the hub, and journaled on the kiosk under the operator.
    let acked: i64 = sqlx::query_scalar("SELECT count(*) FROM commands WHERE acked_at IS NOT NULL AND done")
        .fetch_one(hub.pool())
        .await
        .unwrap();
    assert_eq!(acked, 4, "out, in, diagnostics, in again");
    let journal = journal::Journal::open(&data.join("journal.db")).await.unwrap();
    let actions = journal.staff_actions(10, 0).await.unwrap();
    let by_hub: Vec<_> =
        actions.iter().filter(|a| a.action == "hub-command").map(|a| a.staff_id.as_str()).collect();
    assert_eq!(by_hub, vec!["hub:wang.hall"; 5], "the unknown one is on record too");
}

/// How the newest command ended: done, and the kiosk's words.
async fn last_outcome(hub: &TestHub) -> (Option<bool>, Option<String>) {
    sqlx::query_as("SELECT done, detail FROM commands ORDER BY id DESC LIMIT 1")
        .fetch_one(hub.pool())
        .await
        .unwrap()
}

/// The kiosk's latest staff actions of one kind, newest first.
async fn staff_actions_named(kiosk: &support::TestKiosk, action: &str) -> Vec<journal::StaffActionRow> {
    let latest = kiosk.backend.runtime.journal.staff_actions(20, 0).await.unwrap();
    latest.into_iter().filter(|a| a.action == action).collect()
}

/// A kiosk paired with a hub, holding a payment in suspense which the hub has heard of: by
/// default a WeChat one (the customer never entered the PIN, the reverse went unanswered).
struct SuspenseAtTheHub {
    hub: TestHub,
    kiosk: support::TestKiosk,
    payment: kiosk_core::Payment,
    settings: yizhan::hub_link::HubSettings,
    client: fleet::HubClient,
    reader: journal::OutboxReader,
}

impl SuspenseAtTheHub {
    async fn start() -> SuspenseAtTheHub {
        SuspenseAtTheHub::start_with(async |kiosk: &support::TestKiosk| {
            let (payment, code) = kiosk.pay_into_suspense(3150).await;
            kiosk.channel(&code).faults().clear();
            payment
        })
        .await
    }

    /// The payment `suspense` leaves in suspense at a fresh kiosk.
    async fn start_with(
        suspense: impl AsyncFnOnce(&support::TestKiosk) -> kiosk_core::Payment,
    ) -> SuspenseAtTheHub {
        let at_hub = SuspenseAtTheHub::paying(suspense).await;
        assert!(
            matches!(at_hub.payment.state, kiosk_core::State::Suspense { .. }),
            "{:?}",
            at_hub.payment.state
        );
        let reported: serde_json::Value =
            sqlx::query_scalar("SELECT last_heartbeat FROM kiosks WHERE id = 'SH-TEST-0001'")
                .fetch_one(at_hub.hub.pool())
                .await
                .unwrap();
        assert_eq!(
            reported["suspense"][0]["order_ref"],
            at_hub.payment.id(),
            "the hub sees the payment in suspense"
        );
        at_hub
    }

    /// A fresh kiosk paired with a fresh hub, after `pay` paid at it; one heartbeat sent.
    async fn paying(pay: impl AsyncFnOnce(&support::TestKiosk) -> kiosk_core::Payment) -> SuspenseAtTheHub {
        let hub = TestHub::start().await;
        let kiosk = support::TestKiosk::start().await;
        let payment = pay(&kiosk).await;

        let data = kiosk.dir.path();
        let config_file = config_with(data, |body| body);
        let settings = yizhan::hub_link::HubSettings {
            url: hub.url(),
            identity: fleet::IdentityFiles::in_dir(&data.join("hub")),
            identity_dir: data.join("hub"),
            data_dir: data.to_path_buf(),
            config_place: yizhan::hub_link::config_push::ConfigPlace::new(&config_file, data),
            running: std::sync::Arc::new(yizhan::config::KioskConfig::load(&config_file).unwrap()),
            journal: data.join("journal.db"),
            ship_every: std::time::Duration::from_secs(10),
            heartbeat_every: std::time::Duration::from_secs(30),
            package_installed: None,
        };
        fleet::pair(&hub.ticket("SH-TEST-0001").await, &settings.identity).await.unwrap();
        let client = settings.client().unwrap();
        let reader = journal::OutboxReader::open(&settings.journal).await.unwrap();
        yizhan::hub_link::beat_once(&kiosk.backend, &client, &reader, &settings).await.unwrap();
        let reported: serde_json::Value =
            sqlx::query_scalar("SELECT last_heartbeat FROM kiosks WHERE id = 'SH-TEST-0001'")
                .fetch_one(hub.pool())
                .await
                .unwrap();
        // The merchant accounts the kiosk takes money into, for reconciliation.
        let wechat = serde_json::json!({ "source": "wechat", "merchant": "10000100" });
        assert!(reported["merchants"].as_array().unwrap().contains(&wechat), "{}", reported["merchants"]);
        SuspenseAtTheHub { hub, kiosk, payment, settings, client, reader }
    }

    async fn beat(&self) -> usize {
        yizhan::hub_link::beat_once(&self.kiosk.backend, &self.client, &self.reader, &self.settings)
            .await
            .unwrap()
    }
}

/// Item 51 and the operators: a customer's 呼叫工作人员 at a linked kiosk reaches the hub as a
/// `help_called` alert at once (the running link's heartbeat is woken by the call, not left to
/// its interval), is journaled once however often it is pressed, and ends when staff sign in at
/// the kiosk. The customer is told staff are coming only while the hub answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_for_staff_is_an_alert_at_the_hub_until_staff_sign_in_at_the_kiosk() {
    let mut at_hub = SuspenseAtTheHub::paying(async |kiosk: &support::TestKiosk| {
        let account = kiosk.account(kiosk_core::Utility::Water, 2740);
        kiosk.pay(kiosk_core::Utility::Water, &account, support::wechat_code()).await
    })
    .await;
    let runtime = &at_hub.kiosk.backend.runtime;
    assert!(runtime.help.has_line(), "the hub answered the first heartbeat");
    // The link's own heartbeat loop, with an interval no test waits out: only a call wakes it.
    at_hub.settings.heartbeat_every = std::time::Duration::from_secs(3600);
    let link = yizhan::hub_link::start(at_hub.kiosk.backend.clone(), at_hub.settings.clone()).await;
    let link = link.expect("paired");
    let pool = at_hub.hub.pool().clone();
    let open_help = async || -> Vec<String> {
        sqlx::query_scalar(
            "SELECT detail FROM alerts WHERE kiosk_id = 'SH-TEST-0001' AND kind = 'help_called' \
             AND cleared_at IS NULL",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    // The loop's first beat goes at once: wait for it, so that the next can only be the call's.
    let sent_at = async || -> serde_json::Value {
        sqlx::query_scalar("SELECT last_heartbeat->'sent_at_ms' FROM kiosks WHERE id = 'SH-TEST-0001'")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = sent_at().await;
    let beaten = hubkit::eventually(std::time::Duration::from_secs(20), async || sent_at().await != before);
    assert!(beaten.await, "the link's first heartbeat");
    assert!(open_help().await.is_empty());

    runtime.call_for_help().await;
    runtime.call_for_help().await;
    assert_eq!(staff_actions_named(&at_hub.kiosk, "help.called").await.len(), 1, "one call, pressed twice");
    let alerted =
        hubkit::eventually(std::time::Duration::from_secs(20), async || !open_help().await.is_empty());
    assert!(alerted.await, "the call reached the hub without waiting for the hour's heartbeat");
    let open = open_help().await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(open[0].contains("called for staff at"), "{open:?}");
    drop(link);

    runtime.staff_arrived("S001").await;
    let answered = staff_actions_named(&at_hub.kiosk, "help.answered").await;
    assert_eq!(answered.len(), 1);
    assert!(answered[0].detail.contains("S001"), "{:?}", answered[0].detail);
    at_hub.beat().await;
    assert!(open_help().await.is_empty(), "staff signed in: the alert is cleared");
    runtime.staff_arrived("S002").await;
    assert_eq!(staff_actions_named(&at_hub.kiosk, "help.answered").await.len(), 1, "nothing to answer");
}

/// Finance settles a payment in suspense from the console: the kiosk journals it as a staff
/// resolution by `hub:<operator>`, between customers; a command handed over again does not
/// settle twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_settles_a_suspense_payment_from_the_hub() {
    let SuspenseAtTheHub { hub, kiosk, payment, settings, client, reader } = SuspenseAtTheHub::start().await;
    let settle = CommandAction::SettleSuspense {
        order_ref: payment.id().to_owned(),
        outcome: "returned".into(),
        reason: "WeChat statement 2026-12-06: reversed".into(),
    };
    hub::commands::enqueue(hub.pool(), "SH-TEST-0001", "li.finance", &settle).await.unwrap();
    // A customer is paying at the kiosk: the heartbeat does not wait for them; the settling is
    // left for the next one (the hub hands it over again).
    let customer = kiosk.backend.runtime.between_customers().await;
    let beat = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        yizhan::hub_link::beat_once(&kiosk.backend, &client, &reader, &settings),
    )
    .await;
    assert!(beat.is_ok(), "the heartbeat waited behind the customer");
    assert!(kiosk.backend.runtime.load(payment.id()).await.unwrap().state.is_parked());
    let acked: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT acked_at FROM commands").fetch_one(hub.pool()).await.unwrap();
    assert_eq!(acked, None, "not acknowledged: it comes again");
    let on_record = kiosk.backend.runtime.journal.staff_actions(20, 0).await.unwrap();
    assert!(!on_record.iter().any(|a| a.action == "hub-command"), "not on record as handed over yet");
    drop(customer);
    assert_eq!(yizhan::hub_link::beat_once(&kiosk.backend, &client, &reader, &settings).await.unwrap(), 1);
    let settled = kiosk.backend.runtime.load(payment.id()).await.unwrap();
    assert!(settled.state.is_terminal(), "{:?}", settled.state);
    let (done, detail): (Option<bool>, Option<String>) =
        sqlx::query_as("SELECT done, detail FROM commands").fetch_one(hub.pool()).await.unwrap();
    assert_eq!(done, Some(true), "{detail:?}");

    // The acknowledgement was lost: handed over again, it finds the payment settled.
    sqlx::query("UPDATE commands SET acked_at = NULL").execute(hub.pool()).await.unwrap();
    yizhan::hub_link::beat_once(&kiosk.backend, &client, &reader, &settings).await.unwrap();
    let detail: Option<String> =
        sqlx::query_scalar("SELECT detail FROM commands").fetch_one(hub.pool()).await.unwrap();
    assert_eq!(detail.as_deref(), Some("already settled"));
    let resolutions: Vec<_> =
        staff_actions_named(&kiosk, "resolve_suspense").await.into_iter().map(|a| a.staff_id).collect();
    assert_eq!(resolutions, vec!["hub:li.finance"], "settled once, by the operator");
}

/// The hub's reconciliation settles a payment in suspense from the files it read: the kiosk
/// feeds the evidence to the payment through its own machinery, and the transition it journals
/// names the files by their hashes. Evidence that settles nothing changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hubs_reconciliation_settles_a_suspense_payment_naming_the_files() {
    let at_hub = SuspenseAtTheHub::start().await;
    let (hub, payment) = (&at_hub.hub, &at_hub.payment);
    let journal = &at_hub.kiosk.backend.runtime.journal;
    let paper_before = journal.prints(payment.id()).await.unwrap().len();
    let unsettling = kiosk_core::payment::StatementEvidence {
        complete: false,
        written_off: vec![false],
        files: vec!["11".repeat(32)],
        ..Default::default()
    };
    let first = CommandAction::ReconcileSuspense { order_ref: payment.id().to_owned(), evidence: unsettling };
    hub::commands::enqueue(hub.pool(), "SH-TEST-0001", hub::recon::OPERATOR, &first).await.unwrap();
    assert_eq!(at_hub.beat().await, 1);
    let (done, detail): (Option<bool>, Option<String>) =
        sqlx::query_as("SELECT done, detail FROM commands").fetch_one(hub.pool()).await.unwrap();
    assert_eq!(done, Some(false));
    assert!(detail.unwrap_or_default().contains("stays in suspense"));
    assert!(at_hub.kiosk.backend.runtime.load(payment.id()).await.unwrap().state.is_parked());

    // Complete WeChat files without the charge: never charged.
    let hashes = vec!["ab".repeat(32), "cd".repeat(32)];
    let evidence = kiosk_core::payment::StatementEvidence {
        complete: true,
        written_off: vec![false],
        files: hashes.clone(),
        ..Default::default()
    };
    let settle = CommandAction::ReconcileSuspense { order_ref: payment.id().to_owned(), evidence };
    hub::commands::enqueue(hub.pool(), "SH-TEST-0001", hub::recon::OPERATOR, &settle).await.unwrap();
    assert_eq!(at_hub.beat().await, 1);
    let settled = at_hub.kiosk.backend.runtime.load(payment.id()).await.unwrap();
    assert!(settled.state.is_terminal(), "{:?}", settled.state);
    let transitions = at_hub.kiosk.backend.runtime.journal.transitions(payment.id()).await.unwrap();
    let last = transitions.last().unwrap();
    assert_eq!(last.from_state, "SUSPENSE");
    assert!(last.event.contains(&format!("files sha256 {} {}", hashes[0], hashes[1])), "{last:?}");
    let (done, detail) = last_outcome(hub).await;
    assert_eq!(done, Some(true), "{detail:?}");
    let paper_after = journal.prints(payment.id()).await.unwrap().len();
    assert_eq!(paper_after, paper_before, "nothing printed for a customer long gone");
    // Handed over again (a lost acknowledgement): nothing to settle, nothing journaled twice.
    sqlx::query("UPDATE commands SET acked_at = NULL WHERE done").execute(hub.pool()).await.unwrap();
    at_hub.beat().await;
    let after = at_hub.kiosk.backend.runtime.journal.transitions(payment.id()).await.unwrap();
    assert_eq!(after.len(), transitions.len());
}

/// The biller's file lacks a write-off the kiosk journaled as done (NOT_AT_BILLER): finance has
/// the kiosk ask the biller again. The biller that lost it gets the same write-off again (the
/// same reference: never twice); asked once more, the biller has it and nothing is sent; each
/// outcome is journaled. A reference that is not one of the order's lines is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_has_the_kiosk_ask_the_biller_again_about_a_write_off_its_file_lacks() {
    let at_hub = SuspenseAtTheHub::paying(async |kiosk: &support::TestKiosk| {
        let account = kiosk.account(kiosk_core::Utility::Water, 2_480);
        kiosk.pay(kiosk_core::Utility::Water, &account, support::wechat_code()).await
    })
    .await;
    let (hub, kiosk, payment) = (&at_hub.hub, &at_hub.kiosk, &at_hub.payment);
    assert_eq!(payment.state, kiosk_core::State::Done);
    let reference = payment.order.lines[0].biller_ref.clone();
    let water = &kiosk.backend.sims.as_ref().unwrap().billers.water.sim;
    assert!(water.lose_write_off(&reference), "the biller's books lose it");
    assert!(water.ledger().write_off(&reference).is_none());

    let again =
        CommandAction::ResendWriteOff { order_ref: payment.id().to_owned(), reference: reference.clone() };
    hub::commands::enqueue(hub.pool(), "SH-TEST-0001", "li.finance", &again).await.unwrap();
    assert_eq!(at_hub.beat().await, 1);
    let (done, detail) = last_outcome(hub).await;
    assert_eq!(done, Some(true), "{detail:?}");
    assert!(detail.as_deref().unwrap_or("").contains("never had it; sent again"), "{detail:?}");
    let ledger = water.ledger();
    assert_eq!(ledger.count(&reference), 1, "written off once, under the same reference");
    assert_eq!(ledger.write_off(&reference).unwrap().amount_fen, 2_480);

    // Asked again: the biller has it; nothing is sent.
    hub::commands::enqueue(hub.pool(), "SH-TEST-0001", "li.finance", &again).await.unwrap();
    assert_eq!(at_hub.beat().await, 1);
    let (done, detail) = last_outcome(hub).await;
    assert_eq!(done, Some(true));
    assert!(detail.as_deref().unwrap_or("").contains("the biller holds the write-off"), "{detail:?}");
    assert_eq!(water.ledger().count(&reference), 1);
    let found: Vec<_> = staff_actions_named(kiosk, "write-off-again")
        .await
        .into_iter()
        .map(|a| (a.staff_id, a.payment_id))
        .collect();
    assert_eq!(found, vec![("hub:li.finance".to_owned(), Some(payment.id().to_owned())); 2]);
    // R1: the write-off sent again was journaled before it was sent, once (the second time
    // nothing was sent).
    let actions = kiosk.backend.runtime.journal.staff_actions(20, 0).await.unwrap();
    let sending: Vec<_> = actions.iter().filter(|a| a.action == "write-off-again-sending").collect();
    assert_eq!(sending.len(), 1, "{actions:?}");
    let first_outcome = actions.iter().filter(|a| a.action == "write-off-again").map(|a| a.id).min().unwrap();
    assert!(sending[0].id < first_outcome, "the intent before the outcome");
    assert_eq!(kiosk.backend.runtime.load(payment.id()).await.unwrap().state, kiosk_core::State::Done);

    // Not a write-off of this order: refused, nothing sent.
    let stranger =
        CommandAction::ResendWriteOff { order_ref: payment.id().to_owned(), reference: "W-NOT-OURS".into() };
    hub::commands::enqueue(hub.pool(), "SH-TEST-0001", "li.finance", &stranger).await.unwrap();
    assert_eq!(at_hub.beat().await, 1);
    let (done, detail) = last_outcome(hub).await;
    assert_eq!(done, Some(false));
    assert!(detail.as_deref().unwrap_or("").contains("nothing was sent"), "{detail:?}");
}

/// WeChat answered "not enough balance" after it had taken the money (its own fault): the kiosk
/// holds the order as failed, the bill shows the charge (CHANNEL_ONLY). Finance has the kiosk
/// give it back: the whole order is refunded through WeChat as the payment's own transitions,
/// naming the statement; asked again, nothing more is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_has_the_kiosk_give_back_a_charge_it_holds_as_never_taken() {
    let at_hub = SuspenseAtTheHub::paying(async |kiosk: &support::TestKiosk| {
        let lie = support::Fault::ErrorAfterCommit { code: "NOTENOUGH".into() };
        kiosk.pay_with_fault(kiosk_core::Utility::Water, 1_990, &support::wechat_code(), lie).await
    })
    .await;
    let (hub, kiosk, payment) = (&at_hub.hub, &at_hub.kiosk, &at_hub.payment);
    assert!(matches!(payment.state, kiosk_core::State::PayFailed { .. }), "{:?}", payment.state);
    let wechat = &kiosk.backend.sims.as_ref().unwrap().channels.wechat;
    let charged = |kind| wechat.ledger().iter().any(|e| e.out_trade_no == payment.id() && e.kind == kind);
    assert!(charged(payments::sim::LedgerKind::Charge), "WeChat kept the money");

    let bill = "cd".repeat(32);
    let give_back = |source: &str, amount_fen: i64| CommandAction::RefundPerStatement {
        order_ref: payment.id().to_owned(),
        source: source.into(),
        amount_fen,
        files: vec![bill.clone()],
    };
    // Another channel's statement, or another amount: not this order's charge; nothing sent.
    for wrong in [give_back("alipay", 1_990), give_back("wechat", 1_000)] {
        hub::commands::enqueue(hub.pool(), "SH-TEST-0001", "li.finance", &wrong).await.unwrap();
        assert_eq!(at_hub.beat().await, 1);
        let (done, detail) = last_outcome(hub).await;
        assert_eq!(done, Some(false), "{detail:?}");
        assert!(detail.as_deref().unwrap_or("").contains("nothing sent"), "{detail:?}");
    }
    let id = hub::commands::enqueue(hub.pool(), "SH-TEST-0001", "li.finance", &give_back("wechat", 1_990))
        .await
        .unwrap();
    assert_eq!(at_hub.beat().await, 1);
    let (done, detail) = last_outcome(hub).await;
    assert_eq!(done, Some(true), "{detail:?}");
    let after = kiosk.backend.runtime.load(payment.id()).await.unwrap();
    assert!(
        matches!(after.state, kiosk_core::State::Refunded | kiosk_core::State::RefundPending),
        "{:?}",
        after.state
    );
    assert_eq!(after.refunds[0].refund_no, payment.order.reference.whole_refund_no());
    let transitions = kiosk.backend.runtime.journal.transitions(payment.id()).await.unwrap();
    let found = transitions.iter().find(|t| t.from_state == "PAY_FAILED").expect("the finding is journaled");
    assert!(
        found.event.contains("charged_per_statement by hub:li.finance: ¥19.90 in the wechat"),
        "{found:?}"
    );
    assert!(found.event.contains(&bill), "{found:?}");

    // Handed over again (the acknowledgement was lost): found done, nothing sent again.
    sqlx::query("UPDATE commands SET acked_at = NULL, done = NULL WHERE id = $1")
        .bind(id)
        .execute(hub.pool())
        .await
        .unwrap();
    assert_eq!(at_hub.beat().await, 1);
    let (done, detail) = last_outcome(hub).await;
    assert_eq!(done, Some(true), "{detail:?}");
    assert!(detail.as_deref().unwrap_or("").contains("given back at this command already"), "{detail:?}");
    let refunds_at_wechat = wechat
        .ledger()
        .iter()
        .filter(|e| e.out_trade_no == payment.id() && e.kind == payments::sim::LedgerKind::Refund)
        .count();
    assert!(refunds_at_wechat <= 1, "never given back twice: {refunds_at_wechat}");
    assert_eq!(kiosk.backend.runtime.load(payment.id()).await.unwrap().refunds.len(), 1);
}

/// A bank-card sale whose answer was lost (approved at the terminal; the link then garbled every
/// frame) is in suspense: the kiosk had given up on it and asked for its reversal, unanswered.
/// The simulated terminal reported the approval to the acquirer's host, as a real one goes
/// online; the hub fetches the merchant's settlement file from the acquirer's portal, finds the
/// order number the kiosk gave the terminal, and sends the settling. The kiosk journals it
/// naming the file and gives the money back as its machine says for a charge it had decided
/// to reverse: through the terminal, by the armed reversal. Charged once, returned once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_sale_in_doubt_settles_from_the_acquirers_settlement_file() {
    use crate::card_reversal::{a_sale_left_in_doubt, next_card_customer, terminal_sim};
    let at_hub = SuspenseAtTheHub::start_with(async |kiosk: &support::TestKiosk| {
        a_sale_left_in_doubt(kiosk, 4_560).await
    })
    .await;
    let (hub, kiosk, payment) = (&at_hub.hub, &at_hub.kiosk, &at_hub.payment);
    let sims = kiosk.backend.sims.as_ref().unwrap();
    let merchant = "898310048990001";
    let reported: serde_json::Value =
        sqlx::query_scalar("SELECT last_heartbeat FROM kiosks").fetch_one(hub.pool()).await.unwrap();
    let account = serde_json::json!({ "source": "bankcard-settlement", "merchant": merchant });
    assert!(reported["merchants"].as_array().unwrap().contains(&account), "{}", reported["merchants"]);
    fleet::Shipper::open(&at_hub.settings.journal, at_hub.settings.client().unwrap())
        .await
        .unwrap()
        .ship_pending()
        .await
        .unwrap();
    // The terminal's report has reached the acquirer.
    while !sims.channels.card_acquirer.ledger().iter().any(|e| e.out_trade_no == payment.id()) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let accounts = hub::recon::accounts::AccountsFile {
        payments: sims.payments_config(),
        billers: Some(sims.billers_config()),
    };
    let now = kiosk_core::Ts(chrono::Utc::now().timestamp_millis());
    let today = kiosk_core::recon::Day::of(now);
    accounts.clients().unwrap().fetch(hub.pool(), &[today]).await.unwrap();
    let summary = hub::recon::run_day(hub.pool(), today.date(), now).await.unwrap();
    assert_eq!(summary.settled, 1, "{summary:?}");
    let card_file = hub::statements::latest(hub.pool(), merchant, "bankcard-settlement", today.date())
        .await
        .unwrap()
        .expect("the settlement file is kept");
    let rows =
        payments::parse_statement(kiosk_core::Channel::BankCard, &card_file.body, today.date(), merchant);
    assert!(rows.unwrap().iter().any(|r| r.out_trade_no == payment.id()), "the sale is in the file");

    assert_eq!(at_hub.beat().await, 1);
    let settled = kiosk.backend.runtime.load(payment.id()).await.unwrap();
    assert!(settled.state.is_terminal(), "{:?}", settled.state);
    let money = settled.settlement();
    assert!(money.balances() && money.returned == kiosk_core::Fen(4_560), "{money:?}");
    let transitions = kiosk.backend.runtime.journal.transitions(payment.id()).await.unwrap();
    let reconciled = transitions.iter().find(|t| t.from_state == "SUSPENSE").unwrap();
    assert!(reconciled.event.contains(&card_file.sha256), "{reconciled:?}");
    let terminal = terminal_sim(kiosk);
    assert_eq!(terminal.reversals_seen(), [payment.id()], "returned by its own reversal");
    let entry = terminal.entry(payment.id());
    assert_eq!((entry.charges, entry.net()), (1, kiosk_core::Fen::ZERO), "charged once, returned once");
    let record = kiosk.backend.runtime.journal.card_terminal().reversal(payment.id()).await.unwrap().unwrap();
    assert_ne!(record.state, journal::CardReversalState::Armed);

    // The next card customer pays as usual.
    let next = next_card_customer(kiosk, 900).await;
    assert_eq!(next.state, kiosk_core::State::Done);
}

/// The operator pushes a configuration: the kiosk checks it as it checks its own file, stages
/// it, puts it in place when no customer is there (here: `hub sync`, which holds the journal's
/// lock and serves nobody), keeps the old file, and reports the version it runs. A push that
/// does not pass the kiosk's checks changes nothing and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_pushes_a_configuration_the_kiosk_checks_stages_and_applies() {
    let hub = TestHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = kiosk_config(dir.path(), &hub.url());
    let kiosk_id = "SH-PD-0001";
    // The hub refuses a file naming another kiosk: this one's file names it.
    let named =
        std::fs::read_to_string(&config).unwrap().replace("id = \"SH-DEMO-0001\"", "id = \"SH-PD-0001\"");
    std::fs::write(&config, named).unwrap();
    let ticket = hub.ticket(kiosk_id).await.to_qr_text();
    let paired = run(&config, &data, &["hub", "pair", &ticket]).await;
    assert!(paired.status.success(), "{}", text(&paired.stderr));
    let installed = std::fs::read_to_string(&config).unwrap();
    assert!(installed.contains("service_phone = \"021-12345678\""), "the demo's phone: {installed}");

    // A push the kiosk refuses: the number is the kiosk's four digits (the hub cannot know).
    let bad = installed.replace("number = \"0001\"", "number = \"12\"");
    assert_ne!(bad, installed);
    let version = hub::configs::push(hub.pool(), kiosk_id, "zhao.admin", &bad).await.unwrap();
    assert_eq!(version, 1);
    let synced = run(&config, &data, &["hub", "sync"]).await;
    assert!(synced.status.success(), "{}", text(&synced.stderr));
    assert!(!text(&synced.stdout).contains("configuration version"), "{}", text(&synced.stdout));
    let (done, detail) = last_outcome(&hub).await;
    assert_eq!(done, Some(false));
    assert!(detail.as_deref().unwrap_or("").contains("kiosk.number"), "{detail:?}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), installed, "nothing changed");

    // A good one: another service phone.
    let good = installed.replace("021-12345678", "021-962777");
    let version = hub::configs::push(hub.pool(), kiosk_id, "zhao.admin", &good).await.unwrap();
    assert_eq!(version, 2);
    let synced = run(&config, &data, &["hub", "sync"]).await;
    assert!(synced.status.success(), "{}", text(&synced.stderr));
    assert!(text(&synced.stdout).contains("configuration version 2 applied"), "{}", text(&synced.stdout));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), good);
    let mut previous = config.as_os_str().to_owned();
    previous.push(".previous");
    assert_eq!(std::fs::read_to_string(previous).unwrap(), installed, "the old file is kept");
    let (done, detail) = last_outcome(&hub).await;
    assert_eq!(done, Some(true), "{detail:?}");

    // The kiosk now runs it, and says so in its heartbeat.
    let synced = run(&config, &data, &["hub", "sync"]).await;
    assert!(synced.status.success(), "{}", text(&synced.stderr));
    let reported: serde_json::Value = sqlx::query_scalar("SELECT last_heartbeat FROM kiosks WHERE id = $1")
        .bind(kiosk_id)
        .fetch_one(hub.pool())
        .await
        .unwrap();
    assert_eq!(reported["config_version"], 2);

    // What ties the kiosk to its money and its fleet is changed on site, never from the hub.
    let moved =
        good.replace("[hub]\n", "[hub]\nship_every_s = 7\n").replace(&hub.url(), "https://127.0.0.1:1");
    hub::configs::push(hub.pool(), kiosk_id, "zhao.admin", &moved).await.unwrap();
    run(&config, &data, &["hub", "sync"]).await;
    let detail: Option<String> = sqlx::query_scalar("SELECT detail FROM commands ORDER BY id DESC LIMIT 1")
        .fetch_one(hub.pool())
        .await
        .unwrap();
    assert!(detail.as_deref().unwrap_or("").contains("[hub]"), "{detail:?}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), good);

    // Kiosk and operator journal the same pushes: the hub's audit log and the kiosk's staff actions.
    let journal = journal::Journal::open(&data.join("journal.db")).await.unwrap();
    let pushes: Vec<_> = journal
        .staff_actions(10, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "hub-command" && a.detail.contains("push configuration"))
        .map(|a| a.staff_id)
        .collect();
    assert_eq!(pushes, vec!["hub:zhao.admin"; 3]);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'config.push'")
        .fetch_one(hub.pool())
        .await
        .unwrap();
    assert_eq!(audited, 3);
}

/// A `yizhan run --headless` child that is killed when the test ends, passed or failed.
/// A kiosk `id` configured in `dir` for `hub` (its `[hub]` section with `hub_lines` added),
/// paired by `yizhan hub pair`: its configuration file, its data folder and the file's text.
async fn paired_kiosk(hub: &TestHub, dir: &Path, id: &str, hub_lines: &str) -> (PathBuf, PathBuf, String) {
    let data = dir.join("data");
    let config = kiosk_config(dir, &hub.url());
    let named = std::fs::read_to_string(&config)
        .unwrap()
        .replace("id = \"SH-DEMO-0001\"", &format!("id = \"{id}\""))
        .replace("heartbeat_every_s = 5\n", &format!("heartbeat_every_s = 5\n{hub_lines}"));
    std::fs::write(&config, &named).unwrap();
    let ticket = hub.ticket(id).await.to_qr_text();
    let paired = run(&config, &data, &["hub", "pair", &ticket]).await;
    assert!(paired.status.success(), "{}", text(&paired.stderr));
    (config, data, named)
}

struct RunningKiosk(std::process::Child);

impl RunningKiosk {
    /// `yizhan run --headless`, its commands from a pipe, what it prints in `out`.
    fn start(config: &Path, data: &Path, out: &Path) -> RunningKiosk {
        let child = std::process::Command::new(support::cli::BIN)
            .arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(data)
            .args(["run", "--headless"])
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::fs::File::create(out).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        RunningKiosk(child)
    }
}

impl Drop for RunningKiosk {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A kiosk in service takes up a pushed configuration by itself: its heartbeat brings the
/// command, it stages the file, and when nobody is paying it starts afresh in the same process
/// (same pid, same standard input), runs the new file and reports its version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_in_service_takes_up_a_pushed_configuration_between_customers() {
    use std::io::Write;
    let hub = TestHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, data, named) = paired_kiosk(&hub, dir.path(), "SH-PD-0003", "").await;

    let out = dir.path().join("kiosk.out");
    let mut kiosk = RunningKiosk::start(&config, &data, &out);
    let pid = kiosk.0.id();

    let pushed = named.replace("021-12345678", "021-962777");
    assert_eq!(hub::configs::push(hub.pool(), "SH-PD-0003", "zhao.admin", &pushed).await.unwrap(), 1);
    let mut running = serde_json::Value::Null;
    for _ in 0..300 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        running =
            sqlx::query_scalar("SELECT last_heartbeat->'config_version' FROM kiosks WHERE id = 'SH-PD-0003'")
                .fetch_one(hub.pool())
                .await
                .unwrap_or(serde_json::Value::Null);
        if running == 1 {
            break;
        }
    }
    assert_eq!(
        running,
        1,
        "the kiosk reports the pushed version:\n{}",
        std::fs::read_to_string(&out).unwrap()
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), pushed);
    assert_eq!(kiosk.0.try_wait().unwrap(), None, "still running");
    assert_eq!(kiosk.0.id(), pid);

    // The same process, afresh: it still reads its commands from the same standard input.
    kiosk.0.stdin.as_mut().unwrap().write_all(b"quit\n").unwrap();
    let status = tokio::task::spawn_blocking(move || kiosk.0.wait()).await.unwrap().unwrap();
    assert!(status.success());
    let said = std::fs::read_to_string(&out).unwrap();
    assert!(said.contains("starting afresh"), "{said}");
    assert_eq!(said.matches("(headless)").count(), 2, "started twice in one process:\n{said}");
}

/// A kiosk in service, its link to the hub running, while the hub is down: customers pay as
/// ever, and when the hub returns the kiosk's own link ships every row, exactly, with the chain
/// intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_kiosk_pays_with_its_hub_down_and_its_link_catches_up_when_it_returns() {
    use std::io::Write;
    let mut hub = TestHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, data, _) = paired_kiosk(&hub, dir.path(), "SH-PD-0004", "ship_every_s = 1\n").await;
    hub.stop().await;

    let out = dir.path().join("kiosk.out");
    let mut kiosk = RunningKiosk::start(&config, &data, &out);
    let stdin = kiosk.0.stdin.as_mut().unwrap();
    for (utility, account, code) in
        [("power", "3200000010", "134567890123456711"), ("water", "310000005", "134567890123456722")]
    {
        writeln!(stdin, "pay {utility} {account} {code}").unwrap();
    }
    writeln!(stdin, "list").unwrap();
    stdin.flush().unwrap();
    let paid_lines =
        |said: &str| said.lines().filter(|l| l.starts_with("  YZ") && l.ends_with(" DONE")).count();
    let mut said = String::new();
    for _ in 0..600 {
        said = std::fs::read_to_string(&out).unwrap();
        if paid_lines(&said) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(paid_lines(&said), 2, "both customers paid with the hub down:\n{said}");

    hub.restart().await;
    let (mut head, mut central) = (-1, 0);
    for _ in 0..900 {
        head = local_head(&data).await;
        central = central_rows(hub.pool(), "SH-PD-0004").await;
        if central == head {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(central, head, "the running kiosk's link shipped every row once the hub was back");
    assert_eq!(chain_state(hub.pool(), "SH-PD-0004").await, (head, head, "intact".into()));
    writeln!(kiosk.0.stdin.as_mut().unwrap(), "quit").unwrap();
}
