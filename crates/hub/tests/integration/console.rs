//! The operator console in a real headless Chromium: signing in, the fleet, a kiosk's page with
//! masked accounts, a command that reaches the kiosk, payment search, acknowledging an alert, a
//! new kiosk's pairing code that a kiosk then pairs with; and, over plain HTTP, that forms
//! without the session's CSRF token and operators without the role (or, for a hall supervisor,
//! outside their hall) are refused.
//!
//! With `UPDATE_GOLDEN=1` the screenshots are written to `docs/hub/`; otherwise to
//! `target/hub-screens/` (browser rendering differs between machines: they are pictures for
//! people, not goldens to compare).

use crate::browser;
use crate::common;

use browser::Browser;
use common::{healthy_beat, scalar, texts, TestHub, HALL};
use fleet::wire::Paper;
use hub::console::accounts::{self, Role};
use kiosk_core::recon::{Flag, Source, StatementKind};
use kiosk_core::Fen;

const PASSWORD: &str = "correct horse battery";

fn shot_dir() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = if std::env::var_os("UPDATE_GOLDEN").is_some() {
        root.join("docs/hub")
    } else {
        root.join("target/hub-screens")
    };
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(browser: &Browser, name: &str) {
    std::fs::write(shot_dir().join(format!("{name}.png")), browser.screenshot().await).unwrap();
}

/// A hub with operators of every role and a kiosk with payments, a paper alert and a suspense.
async fn hub_with_a_kiosk() -> (TestHub, common::TestKiosk) {
    let hub = TestHub::start().await;
    for (name, role) in [
        ("admin", Role::Admin),
        ("li.finance", Role::Finance),
        ("zhao.viewer", Role::Viewer),
        ("wang.hall", Role::HallSupervisor),
    ] {
        accounts::upsert(hub.pool(), name, PASSWORD, role, Some(HALL), "test").await.unwrap();
    }
    let mut kiosk = hub.kiosk("SH-XH-0001").await;
    kiosk.journal.pay(3).await;
    kiosk.shipper().await.ship_pending().await.unwrap();
    let mut beat = healthy_beat();
    beat.paper = Paper::Out;
    beat.head.seq = 9;
    kiosk.client.heartbeat(&beat).await.unwrap();
    (hub, kiosk)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_works_the_console_in_a_real_browser() {
    let (hub, kiosk) = hub_with_a_kiosk().await;
    let url = hub.url();
    let browser = Browser::start().await;

    browser.goto(&format!("{url}/console")).await;
    assert!(browser.url().await.ends_with("/console/login"), "signed out: sent to sign in");
    shot(&browser, "login").await;
    browser.type_into("#name", "admin").await;
    browser.type_into("#password", "wrong password").await;
    browser.click("#sign-in").await;
    browser.wait_text("#login-error", "用户名或密码错误").await;
    browser.type_into("#name", "admin").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#sign-in").await;

    // The fleet, in Chinese by default.
    let fleet = browser.wait_text("#fleet", "SH-XH-0001").await;
    assert!(fleet.contains("SH-XH-0001") && fleet.contains("服务中") && fleet.contains("缺纸"), "{fleet}");
    assert_eq!(browser.text("#summary").await, "终端 1 台，已上传付款 3 笔，缺口 0 处，未关闭告警 1 条");
    shot(&browser, "fleet-zh").await;
    browser.click_text("header a", "English").await;
    browser.wait_text("#fleet", "in service").await;
    assert_eq!(browser.text("#summary").await, "1 kiosks, 3 payments shipped, 0 gaps, 1 alerts");
    shot(&browser, "fleet-en").await;

    // One kiosk: devices, payments with the account masked, the chain, commands.
    browser.click_text("#fleet a", "SH-XH-0001").await;
    let payments = browser.wait_text("#payments", "32****0010").await;
    assert!(payments.contains("32****0010") && payments.contains("¥"), "{payments}");
    assert!(!browser.source().await.contains("3200000010"), "no full account number on the page");
    assert!(browser.text("#chain").await.contains("intact"));
    browser.type_into("input[name=reason]", "glass cleaning").await;
    browser.click_text("button", "Take out of service").await;
    let commands = browser.wait_text("#commands", "take_out_of_service").await;
    assert!(commands.contains("take_out_of_service") && commands.contains("admin"), "{commands}");
    let mut beat = healthy_beat();
    beat.head.seq = 9;
    let reply = kiosk.client.heartbeat(&beat).await.unwrap();
    assert_eq!(reply.commands.len(), 1, "the command reaches the kiosk with its next heartbeat");
    // A configuration, pushed by the admin from the kiosk's page.
    browser.type_into("#config-text", "[kiosk]\nid = \"SH-XH-0001\"\nnumber = \"0001\"\n").await;
    browser.click_text("button", "Push configuration").await;
    let config = browser.wait_text("#config", "version 1").await;
    assert!(config.contains("admin"), "{config}");
    shot(&browser, "kiosk").await;
    browser.scroll_to("#commands").await;
    shot(&browser, "kiosk-commands").await;

    // Payment search by order number.
    browser.goto(&format!("{url}/console/payments")).await;
    browser.type_into("#order", "K-000002").await;
    browser.click("#search").await;
    let found = browser.wait_text("#transitions", "PAID").await;
    assert!(found.contains("PAY_SENT") && found.contains("PAID"), "{found}");
    shot(&browser, "payment").await;

    // The paper alert, acknowledged.
    browser.goto(&format!("{url}/console/alerts")).await;
    browser.wait_text("#open-alerts", "Paper out").await;
    browser.click_text("#open-alerts button", "Acknowledge").await;
    browser.wait_text("#open-alerts", "acknowledged by admin").await;
    shot(&browser, "alerts").await;

    // A new kiosk: the pairing code and QR, which a kiosk then uses.
    browser.goto(&format!("{url}/console/kiosks/new")).await;
    browser.type_into("#kiosk-id", "SH-PD-0002").await;
    browser.type_into("#hall", "浦东新区塘桥数字小屋").await;
    browser.click_text("main button", "Create").await;
    let ticket = fleet::PairingTicket::from_qr_text(&browser.wait_text("#ticket", "yizhan-pair").await)
        .expect("a ticket");
    assert!(browser.source().await.contains("<svg"), "the QR is on the page");
    shot(&browser, "pairing").await;
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(fleet::pair(&ticket, &fleet::IdentityFiles::in_dir(dir.path())).await.unwrap(), "SH-PD-0002");

    // Software updates: a package the operator signed, ready to roll out.
    let key = fleet::package::SigningKey::from_bytes(&[5; 32]);
    let bytes = b"the yizhan package 2.0.0".to_vec();
    let signature = fleet::package::PackageSignature::sign(&key, "yizhan", "2.0.0", "amd64", &bytes);
    hub::packages::add(hub.pool(), &key.verifying_key(), &signature, &bytes, "ops").await.unwrap();
    browser.goto(&format!("{url}/console/updates")).await;
    browser.wait_text("#packages", "2.0.0").await;
    shot(&browser, "updates").await;

    browser.goto(&format!("{url}/console/audit")).await;
    let audit = browser.text("#audit").await;
    for action in [
        "console.sign_in_failed",
        "console.sign_in",
        "command.queue",
        "alert.acknowledge",
        "config.push",
        "kiosk.pairing_code",
        "kiosk.paired",
    ] {
        assert!(audit.contains(action), "{action} missing from the audit log:\n{audit}");
    }
    shot(&browser, "audit").await;
    browser.quit().await;
}

/// A browser stand-in over plain HTTP, signed in as `name`.
struct Session {
    http: reqwest::Client,
    cookie: String,
    /// The CSRF token on the session's pages.
    csrf: String,
    /// The kiosk's page as this operator sees it.
    kiosk_page: String,
}

impl Session {
    async fn sign_in(hub: &TestHub, name: &str) -> Session {
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let reply = http
            .post(format!("{}/console/login", hub.url()))
            .form(&[("name", name), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 303, "signed in");
        let cookie = reply.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let kiosk_page = http
            .get(format!("{}/console/kiosks/SH-XH-0001", hub.url()))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = kiosk_page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
            .expect("every page has the sign-out form");
        Session { http, cookie, csrf, kiosk_page }
    }

    async fn post(&self, url: &str, form: &[(&str, &str)]) -> reqwest::StatusCode {
        self.http.post(url).header("cookie", &self.cookie).form(form).send().await.unwrap().status()
    }

    /// Where a form sends the browser next.
    async fn post_and_follow(&self, url: &str, form: &[(&str, &str)]) -> String {
        let reply = self.http.post(url).header("cookie", &self.cookie).form(form).send().await.unwrap();
        assert_eq!(reply.status(), 303, "{url}");
        reply.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn get(&self, url: &str) -> reqwest::StatusCode {
        self.http.get(url).header("cookie", &self.cookie).send().await.unwrap().status()
    }

    async fn page(&self, url: &str) -> String {
        let reply = self.http.get(url).header("cookie", &self.cookie).send().await.unwrap();
        assert_eq!(reply.status(), 200, "{url}");
        reply.text().await.unwrap()
    }
}

/// A reconciliation run of 2026-12-05 on [`hub_with_a_kiosk`]'s hub, under which a test files on the
/// exception desk the differences it needs, as if the run had found them.
struct DeskRun {
    day: chrono::NaiveDate,
    run_id: i64,
}

impl DeskRun {
    async fn start(hub: &TestHub) -> DeskRun {
        let now = kiosk_core::Ts(chrono::Utc::now().timestamp_millis());
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let run = hub::recon::run_day(hub.pool(), day, now).await.unwrap();
        DeskRun { day, run_id: run.run_id }
    }

    /// Files `flag` on the desk as this run's, owned by `order` of the kiosk SH-XH-0001 and found
    /// in `source` (a statement, a biller), with `evidence`.
    async fn file(&self, hub: &TestHub, flag: &Flag, order: &str, source: &str, evidence: serde_json::Value) {
        let owner = Some(("SH-XH-0001", order));
        hub::recon::desk::file(hub.pool(), self.run_id, self.day, flag, owner, Some(source), evidence)
            .await
            .unwrap();
    }
}

async fn queued(hub: &TestHub) -> i64 {
    scalar(hub.pool(), "SELECT count(*) FROM commands").await
}

#[tokio::test]
async fn finance_settles_a_payment_in_suspense_and_a_hall_supervisor_may_not() {
    let (hub, kiosk) = hub_with_a_kiosk().await;
    let mut beat = healthy_beat();
    beat.head.seq = 9;
    beat.suspense.push(fleet::wire::SuspenseReport {
        order_ref: "YZ0001261206090000001".into(),
        amount_fen: 3_150,
        state: "SUSPENSE".into(),
        since_ms: chrono::Utc::now().timestamp_millis() - 3_600_000,
    });
    kiosk.client.heartbeat(&beat).await.unwrap();
    let action = format!("{}/console/kiosks/SH-XH-0001/commands", hub.url());
    let settle = |csrf: &str| -> Vec<(&'static str, String)> {
        vec![
            ("csrf", csrf.to_owned()),
            ("action", "settle".into()),
            ("order", "YZ0001261206090000001".into()),
            ("outcome", "returned".into()),
            ("reason", "WeChat statement: reversed".into()),
        ]
    };

    let supervisor = Session::sign_in(&hub, "wang.hall").await;
    assert!(!supervisor.kiosk_page.contains("value=\"settle\""));
    let form = settle(&supervisor.csrf);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(supervisor.post(&action, &form).await, 403);

    let finance = Session::sign_in(&hub, "li.finance").await;
    assert!(finance.kiosk_page.contains("value=\"settle\"") && finance.kiosk_page.contains("¥31.50"));
    let form = settle(&finance.csrf);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(finance.post(&action, &form).await, 303);
    let reply = kiosk.client.heartbeat(&beat).await.unwrap();
    assert_eq!(
        reply.commands.iter().map(|c| (c.operator.as_str(), c.action.clone())).collect::<Vec<_>>(),
        vec![(
            "li.finance",
            fleet::wire::CommandAction::SettleSuspense {
                order_ref: "YZ0001261206090000001".into(),
                outcome: "returned".into(),
                reason: "WeChat statement: reversed".into(),
            }
        )]
    );
}

/// A hall supervisor answers for their own hall: another hall's kiosk shows them no command
/// forms and refuses their commands and their acknowledgement of its alerts. The fleet page
/// shows every hall at a glance (theirs first) and one hall's kiosks on asking.
#[tokio::test]
async fn a_hall_supervisor_commands_and_acknowledges_for_their_own_hall_only() {
    let (hub, _kiosk) = hub_with_a_kiosk().await;
    let pudong = "浦东新区塘桥数字小屋";
    let other = hub.kiosk_in("SH-PD-0001", pudong).await;
    let mut beat = healthy_beat();
    beat.paper = Paper::Out;
    other.client.heartbeat(&beat).await.unwrap();
    let alert_of = |kiosk: &'static str| {
        sqlx::query_scalar::<_, i64>("SELECT id FROM alerts WHERE kiosk_id = $1 AND kind = 'paper_out'")
            .bind(kiosk)
            .fetch_one(hub.pool())
    };
    let (own_alert, other_alert) =
        (alert_of("SH-XH-0001").await.unwrap(), alert_of("SH-PD-0001").await.unwrap());
    let without_hall =
        accounts::upsert(hub.pool(), "no.hall", PASSWORD, Role::HallSupervisor, None, "test").await;
    assert!(matches!(without_hall, Err(accounts::AccountError::HallMissing)), "{without_hall:?}");

    let supervisor = Session::sign_in(&hub, "wang.hall").await;
    assert!(supervisor.kiosk_page.contains("value=\"diagnostics\""), "their own hall's kiosk");
    let other_page = supervisor.page(&format!("{}/console/kiosks/SH-PD-0001", hub.url())).await;
    assert!(!other_page.contains("value=\"diagnostics\""), "another hall's kiosk: no command forms");
    let command = |id: &str| format!("{}/console/kiosks/{id}/commands", hub.url());
    let form = [("csrf", supervisor.csrf.as_str()), ("action", "out"), ("reason", "glass cracked")];
    assert_eq!(supervisor.post(&command("SH-PD-0001"), &form).await, 403);
    assert_eq!(queued(&hub).await, 0);
    assert_eq!(supervisor.post(&command("SH-XH-0001"), &form).await, 303);
    assert_eq!(queued(&hub).await, 1);
    assert_eq!(supervisor.post(&command("SH-NONE-0001"), &form).await, 404);

    let alerts = supervisor.page(&format!("{}/console/alerts", hub.url())).await;
    assert!(alerts.contains(&format!("/console/alerts/{own_alert}/ack")), "{alerts}");
    assert!(!alerts.contains(&format!("/console/alerts/{other_alert}/ack")), "{alerts}");
    let ack = |id: i64| format!("{}/console/alerts/{id}/ack", hub.url());
    assert_eq!(supervisor.post(&ack(other_alert), &[("csrf", &supervisor.csrf)]).await, 403);
    // The kiosk's own page lists its open alerts with the form, which comes back to it.
    assert!(supervisor.kiosk_page.contains(&format!("/console/alerts/{own_alert}/ack")));
    let form = [("csrf", supervisor.csrf.as_str()), ("back", "/console/kiosks/SH-XH-0001")];
    assert_eq!(supervisor.post_and_follow(&ack(own_alert), &form).await, "/console/kiosks/SH-XH-0001");
    // Finance acknowledges any hall's; an admin commands any hall's kiosk.
    let finance = Session::sign_in(&hub, "li.finance").await;
    let form = [("csrf", finance.csrf.as_str()), ("back", "//evil.example/console/")];
    assert_eq!(finance.post_and_follow(&ack(other_alert), &form).await, "/console/alerts", "never elsewhere");
    let form = [("csrf", finance.csrf.as_str()), ("back", "/console/\r\nSet-Cookie: x=1")];
    assert_eq!(
        finance.post_and_follow(&ack(own_alert), &form).await,
        "/console/alerts",
        "nor a broken header"
    );
    let admin = Session::sign_in(&hub, "admin").await;
    let form = [("csrf", admin.csrf.as_str()), ("action", "diagnostics")];
    assert_eq!(admin.post(&command("SH-PD-0001"), &form).await, 303);
    let acked = scalar(hub.pool(), "SELECT count(*) FROM alerts WHERE acked_at IS NOT NULL").await;
    assert_eq!((acked, queued(&hub).await), (2, 2));

    // The halls at a glance, the supervisor's own first (by name, Xuhui comes first; Pudong's
    // supervisor sees Pudong first); one hall's kiosks on asking.
    let halls_of =
        |page: &str| page[page.find("id=\"halls\"").unwrap()..page.find("id=\"fleet\"").unwrap()].to_owned();
    let fleet = supervisor.page(&format!("{}/console", hub.url())).await;
    let halls = halls_of(&fleet);
    assert!(halls.find(HALL).unwrap() < halls.find(pudong).unwrap(), "{halls}");
    accounts::upsert(hub.pool(), "chen.pudong", PASSWORD, Role::HallSupervisor, Some(pudong), "test")
        .await
        .unwrap();
    let pudong_supervisor = Session::sign_in(&hub, "chen.pudong").await;
    let theirs = halls_of(&pudong_supervisor.page(&format!("{}/console", hub.url())).await);
    assert!(theirs.find(pudong).unwrap() < theirs.find(HALL).unwrap(), "{theirs}");
    assert!(fleet.contains("SH-XH-0001") && fleet.contains("SH-PD-0001"));
    let link = "/console?hall=%E6%B5%A6%E4%B8%9C%E6%96%B0%E5%8C%BA%E5%A1%98%E6%A1%A5%E6%95%B0%E5%AD%97%E5%B0%8F%E5%B1%8B";
    assert!(halls.contains(link), "{halls}");
    let one_hall = supervisor.page(&format!("{}{link}", hub.url())).await;
    let kiosks = &one_hall[one_hall.find("id=\"fleet\"").unwrap()..];
    assert!(kiosks.contains("SH-PD-0001") && !kiosks.contains("SH-XH-0001"), "{kiosks}");
}

#[tokio::test]
async fn a_disabled_operator_is_signed_out_and_cannot_sign_in_again() {
    let (hub, _kiosk) = hub_with_a_kiosk().await;
    let viewer = Session::sign_in(&hub, "zhao.viewer").await;
    let fleet = format!("{}/console", hub.url());
    assert_eq!(viewer.get(&fleet).await, 200);
    assert!(accounts::disable(hub.pool(), "zhao.viewer", "admin").await.unwrap());
    assert_eq!(viewer.get(&fleet).await, 303, "the session ended: sent to sign in");
    assert_eq!(accounts::sign_in(hub.pool(), "zhao.viewer", PASSWORD).await.unwrap(), None);
    assert!(!accounts::disable(hub.pool(), "zhao.viewer", "admin").await.unwrap(), "disabled once");
}

#[tokio::test]
async fn what_a_kiosk_reports_is_shown_as_text_never_as_markup() {
    let (hub, kiosk) = hub_with_a_kiosk().await;
    let mut beat = healthy_beat();
    beat.head.seq = 9;
    beat.software_version = "<img src=x onerror=alert(1)>".into();
    beat.devices[1].detail = "<script>alert('scanner')</script>".into();
    kiosk.client.heartbeat(&beat).await.unwrap();
    let page = Session::sign_in(&hub, "zhao.viewer").await.kiosk_page;
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(&#39;scanner&#39;)&lt;/script&gt;"));
}

#[tokio::test]
async fn a_form_without_the_session_token_or_the_role_changes_nothing() {
    let (hub, _kiosk) = hub_with_a_kiosk().await;
    let action = format!("{}/console/kiosks/SH-XH-0001/commands", hub.url());

    let supervisor = Session::sign_in(&hub, "wang.hall").await;
    assert!(
        supervisor.kiosk_page.contains("value=\"diagnostics\""),
        "the supervisor's page carries the command forms"
    );
    assert_eq!(supervisor.post(&action, &[("csrf", &"0".repeat(64)), ("action", "in")]).await, 403);
    assert!(supervisor.post(&action, &[("action", "in")]).await.is_client_error());
    assert_eq!(queued(&hub).await, 0);
    assert_eq!(supervisor.post(&action, &[("csrf", &supervisor.csrf), ("action", "diagnostics")]).await, 303);
    assert_eq!(queued(&hub).await, 1);

    // A viewer sees no command forms; neither a viewer nor finance may send one, even with
    // their own session's token.
    let viewer = Session::sign_in(&hub, "zhao.viewer").await;
    assert!(!viewer.kiosk_page.contains("value=\"diagnostics\""));
    let finance = Session::sign_in(&hub, "li.finance").await;
    for session in [&viewer, &finance] {
        assert_eq!(session.post(&action, &[("csrf", &session.csrf), ("action", "in")]).await, 403);
    }
    assert_eq!(queued(&hub).await, 1);
    assert_eq!(viewer.get(&format!("{}/console/audit", hub.url())).await, 403, "the audit log is for admins");

    // The alert and revoke forms want the token too.
    let alert = scalar(hub.pool(), "SELECT id FROM alerts LIMIT 1").await;
    let ack = format!("{}/console/alerts/{alert}/ack", hub.url());
    assert_eq!(supervisor.post(&ack, &[("csrf", &"1".repeat(64))]).await, 403);
    let revoke = format!("{}/console/kiosks/SH-XH-0001/revoke", hub.url());
    let admin = Session::sign_in(&hub, "admin").await;
    assert_eq!(admin.post(&revoke, &[("csrf", &"2".repeat(64))]).await, 403);
    assert_eq!(supervisor.post(&revoke, &[("csrf", &supervisor.csrf)]).await, 403, "only admins revoke");
    let (acked, revoked): (bool, bool) = sqlx::query_as(
        "SELECT (SELECT acked_at IS NOT NULL FROM alerts WHERE id = $1), (SELECT revoked_at IS NOT NULL FROM kiosks WHERE id = 'SH-XH-0001')",
    )
    .bind(alert)
    .fetch_one(hub.pool())
    .await
    .unwrap();
    assert_eq!((acked, revoked), (false, false));

    // Signed out: the pages send the browser to sign in.
    let anonymous = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = anonymous.get(format!("{}/console", hub.url())).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/console/login");
    assert!(page.headers().get("content-security-policy").is_some());
}

#[tokio::test]
async fn an_admin_pushes_a_configuration_the_hub_numbers_keeps_and_hands_over() {
    let (hub, kiosk) = hub_with_a_kiosk().await;
    let action = format!("{}/console/kiosks/SH-XH-0001/config", hub.url());
    let body = "[kiosk]\r\nid = \"SH-XH-0001\"\r\nnumber = \"0001\"\r\nservice_phone = \"021-962777\"\r\n";

    let supervisor = Session::sign_in(&hub, "wang.hall").await;
    assert!(!supervisor.kiosk_page.contains("config-text"), "the push form is the admin's");
    assert_eq!(supervisor.post(&action, &[("csrf", &supervisor.csrf), ("config", body)]).await, 403);
    let admin = Session::sign_in(&hub, "admin").await;
    assert!(admin.kiosk_page.contains("config-text"));
    assert_eq!(admin.post(&action, &[("csrf", &"3".repeat(64)), ("config", body)]).await, 403);
    // What the hub can see is wrong is refused at once, and nothing is queued.
    let other = body.replace("SH-XH-0001", "SH-XH-0002");
    assert_eq!(admin.post(&action, &[("csrf", &admin.csrf), ("config", &other)]).await, 400);
    assert_eq!(admin.post(&action, &[("csrf", &admin.csrf), ("config", "[kiosk\nid=")]).await, 400);
    assert_eq!(queued(&hub).await, 0);

    assert_eq!(admin.post(&action, &[("csrf", &admin.csrf), ("config", body)]).await, 303);
    assert_eq!(admin.post(&action, &[("csrf", &admin.csrf), ("config", body)]).await, 303);
    let mut beat = healthy_beat();
    beat.head.seq = 9;
    let reply = kiosk.client.heartbeat(&beat).await.unwrap();
    let unix = body.replace("\r\n", "\n");
    let versions: Vec<_> = reply
        .commands
        .iter()
        .map(|c| match &c.action {
            fleet::wire::CommandAction::PushConfig { version, config, sha256 } => {
                assert_eq!(
                    (config.as_str(), sha256.clone()),
                    (unix.as_str(), fleet::wire::config_sha256(&unix))
                );
                *version
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(versions, vec![1, 2], "numbered per kiosk, in order");

    // The kiosk says it runs version 2: the page says so, and offers the last text to edit.
    beat.config_version = 2;
    kiosk.client.heartbeat(&beat).await.unwrap();
    let page = Session::sign_in(&hub, "admin").await.kiosk_page;
    let section = &page[page.find("id=\"config\"").unwrap()..];
    assert!(section.contains("<b>version 2</b>") || section.contains("<b>版本 2</b>"), "{section}");
    assert!(section.contains("021-962777"), "the form holds the last version pushed");
    let audited =
        texts(hub.pool(), "SELECT detail::text FROM audit_log WHERE action = 'command.queue'").await;
    assert!(
        audited.iter().all(|d| !d.contains("021-962777")),
        "the text is kept once, not in the log: {audited:?}"
    );
}

#[tokio::test]
async fn an_admin_starts_and_stops_a_rollout_on_the_updates_page() {
    let (hub, _kiosk) = hub_with_a_kiosk().await;
    let key = fleet::package::SigningKey::from_bytes(&[5; 32]);
    let bytes = b"the yizhan package 2.0.0".to_vec();
    let signature = fleet::package::PackageSignature::sign(&key, "yizhan", "2.0.0", "amd64", &bytes);
    hub::packages::add(hub.pool(), &key.verifying_key(), &signature, &bytes, "ops").await.unwrap();
    let url = format!("{}/console/updates", hub.url());
    let start = format!("{url}/rollouts");

    let viewer = Session::sign_in(&hub, "zhao.viewer").await;
    assert_eq!(viewer.get(&url).await, 403, "the updates page is the admins'");
    let form =
        [("csrf", viewer.csrf.as_str()), ("version", "2.0.0"), ("cohorts", "1,0"), ("max_failure_pct", "10")];
    assert_eq!(viewer.post(&start, &form).await, 403);

    let admin = Session::sign_in(&hub, "admin").await;
    let page = admin.page(&url).await;
    assert!(page.contains("yizhan 2.0.0") && page.contains("<option>2.0.0</option>"), "{page}");
    let bad =
        [("csrf", admin.csrf.as_str()), ("version", "2.0.0"), ("cohorts", "5,1"), ("max_failure_pct", "10")];
    assert_eq!(admin.post(&start, &bad).await, 400, "stages must grow");
    let form =
        [("csrf", admin.csrf.as_str()), ("version", "2.0.0"), ("cohorts", "1,0"), ("max_failure_pct", "10")];
    assert_eq!(admin.post_and_follow(&start, &form).await, "/console/updates");
    let page = admin.page(&url).await;
    let rollouts = &page[page.find("id=\"rollouts\"").unwrap()..];
    assert!(rollouts.contains("running") && rollouts.contains("1 → *"), "{rollouts}");
    assert!(page.contains("SH-XH-0001"), "the kiosk offered it is listed");
    let id = scalar(hub.pool(), "SELECT id FROM rollouts").await;
    let stop = format!("{url}/rollouts/{id}/stop");
    assert_eq!(
        admin.post_and_follow(&stop, &[("csrf", &admin.csrf), ("reason", "wrong build")]).await,
        "/console/updates"
    );
    let page = admin.page(&url).await;
    assert!(page.contains("stopped") && page.contains("wrong build"), "{page}");
}

/// Finance works the exception desk in a real browser: the run's figures, an open difference,
/// its evidence side by side (the order's transitions; the file it was compared with, by hash),
/// and resolving it with a reason, which the audit log keeps. A hall supervisor may not see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_resolves_a_reconciliation_exception_in_a_real_browser() {
    let (hub, _kiosk) = hub_with_a_kiosk().await;
    let run = DeskRun::start(&hub).await;
    let flag = Flag::AmountDiffers { key: "K-000002".into(), local: Fen(1_111), external: Fen(1_000) };
    let sha256 = "5e".repeat(32);
    let evidence = serde_json::json!({
        "files": [{ "source": "wechat", "merchant": "10000100", "day": "2026-12-05", "sha256": sha256, "final_copy": true }],
        "journal": { "kiosk_id": "SH-XH-0001", "seq": 6, "state": "PAID", "total_fen": 1_111 },
    });
    run.file(&hub, &flag, "K-000002", "wechat", evidence).await;
    let id = hub::recon::desk::open(hub.pool(), 10).await.unwrap()[0].id;

    let supervisor = Session::sign_in(&hub, "wang.hall").await;
    assert_eq!(supervisor.get(&format!("{}/console/recon", hub.url())).await, 403);

    let browser = Browser::start().await;
    browser.goto(&format!("{}/console", hub.url())).await;
    browser.type_into("#name", "li.finance").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#sign-in").await;
    browser.wait_text("#fleet", "SH-XH-0001").await;
    browser.click_text("header a", "对账").await;
    browser.wait_text("#recon-runs", "2026-12-05").await;
    // The day's result per statement and biller: WeChat has one open difference.
    browser.wait_text("#by-source", "wechat").await;
    let figures = hub::recon::desk::by_source(hub.pool(), run.day).await.unwrap();
    assert_eq!(
        figures.iter().map(|f| (f.source.as_str(), f.open, f.resolved)).collect::<Vec<_>>(),
        [("wechat", 1, 0)]
    );
    let open = browser.wait_text("#exceptions", "AMOUNT_DIFFERS").await;
    assert!(open.contains("K-000002 local ¥11.11 external ¥10.00"), "{open}");
    browser.click_text("#exceptions a", &id.to_string()).await;
    let journal_side = browser.wait_text("#journal-side", "PAID").await;
    assert!(journal_side.contains("SH-XH-0001 #"), "{journal_side}");
    let files_side = browser.text("#files-side").await;
    assert!(files_side.contains(&sha256) && files_side.contains("终版"), "{files_side}");
    shot(&browser, "exception-desk").await;
    browser.type_into("#resolution", "WeChat corrected the bill, ticket 2026-1205-7").await;
    browser.click_text("#resolve button", "标记为已处理").await;
    let resolved = browser.wait_text("#resolved", "li.finance").await;
    assert!(resolved.contains("ticket 2026-1205-7"), "{resolved}");
    browser.click_text("header a", "对账").await;
    browser.wait_text("#exceptions", "无").await;
    // On demand: the newest final day, over the files the hub holds; audited.
    browser.click_text("#run-now button", "立即对账").await;
    let ran = || async {
        let audited = "SELECT count(*) FROM audit_log WHERE action = 'recon.run' AND actor = 'li.finance'";
        scalar(hub.pool(), audited).await == 1
    };
    assert!(common::eventually(std::time::Duration::from_secs(10), ran).await, "the run is audited");
    browser.wait_text("#recon-runs", "非终版").await;
    let runs = scalar(hub.pool(), "SELECT count(*) FROM recon_runs").await;
    assert_eq!(runs, 2);
    browser.quit().await;
    let form = [("csrf", supervisor.csrf.as_str()), ("day", "2026-12-05")];
    assert_eq!(supervisor.post(&format!("{}/console/recon/run", hub.url()), &form).await, 403);

    let audited: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT actor, detail FROM audit_log WHERE action = 'recon.resolve'")
            .fetch_all(hub.pool())
            .await
            .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].0, "li.finance");
    assert_eq!(audited[0].1["reason"], "WeChat corrected the bill, ticket 2026-1205-7");
}

/// Finance enters what was counted out of a cassette on the Reconciliation page: refused when
/// it is not an amount or the operator is not finance; recorded once, audited, and the
/// collection's day reconciled at once, a short count then on the desk with both counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_records_a_cash_count_and_a_short_one_goes_to_the_desk() {
    let (hub, kiosk) = hub_with_a_kiosk().await;
    let mut beat = healthy_beat();
    beat.cash_collections = vec![fleet::wire::CashCollectionReport {
        id: 7,
        at_ms: chrono::Utc::now().timestamp_millis() - 60_000,
        staff_id: "S001".into(),
        notes: 3,
        sum_fen: 30_000,
        unknown: 0,
        uncertain: 1,
    }];
    kiosk.client.heartbeat(&beat).await.unwrap();
    let finance = Session::sign_in(&hub, "li.finance").await;
    let recon = format!("{}/console/recon", hub.url());
    let page = finance.page(&recon).await;
    assert!(page.contains("/console/recon/cash/SH-XH-0001/7"), "the form for the uncounted collection");
    let action = format!("{}/console/recon/cash/SH-XH-0001/7", hub.url());
    let supervisor = Session::sign_in(&hub, "wang.hall").await;
    assert_eq!(supervisor.post(&action, &[("csrf", &supervisor.csrf), ("counted", "300")]).await, 403);
    assert_eq!(finance.post(&action, &[("csrf", &finance.csrf), ("counted", "三百")]).await, 400);
    assert_eq!(
        finance.post(&action, &[("csrf", "forged"), ("counted", "290")]).await,
        403,
        "not the session's"
    );
    let next = finance.post_and_follow(&action, &[("csrf", &finance.csrf), ("counted", "290.00")]).await;
    assert_eq!(next, "/console/recon");
    assert_eq!(finance.post(&action, &[("csrf", &finance.csrf), ("counted", "300")]).await, 409, "once");

    let open = hub::recon::desk::open(hub.pool(), 10).await.unwrap();
    let short = open.iter().find(|e| e.kind == "CASH_DIFFERS").expect("the short count is on the desk");
    assert!(short.detail.contains("SH-XH-0001/cash/7 journaled ¥300.00 counted ¥290.00"), "{}", short.detail);
    let page = finance.page(&format!("{}/console/recon/exceptions/{}", hub.url(), short.id)).await;
    assert!(page.contains("id=\"count-side\">¥290.00 li.finance"), "{page}");
    let audited =
        scalar(hub.pool(), "SELECT count(*) FROM audit_log WHERE action = 'recon.cash_count'").await;
    assert_eq!(audited, 1);
}

/// On a `NOT_AT_BILLER` difference finance has its kiosk ask the biller again, on a `CHANNEL_ONLY`
/// charge give the order back: the command is
/// queued for that kiosk (audited as a command) and shown with the difference until the kiosk
/// answers; another kind of difference offers no such button and refuses the form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_has_the_kiosk_ask_the_biller_again_from_the_desk() {
    let (hub, _kiosk) = hub_with_a_kiosk().await;
    let run = DeskRun::start(&hub).await;
    let lacking = Flag::NotAtBiller { reference: "K-000002-L0".into(), amount: Fen(3_150) };
    let other = Flag::LocalOnly { order: "K-000003".into(), amount: Fen(100) };
    let evidence = serde_json::json!({ "files": [], "journal": null });
    for (flag, order) in [(&lacking, "K-000002"), (&other, "K-000003")] {
        run.file(&hub, flag, order, "biller:water", evidence.clone()).await;
    }
    let open = hub::recon::desk::open(hub.pool(), 10).await.unwrap();
    let id_of = |kind: &str| open.iter().find(|e| e.kind == kind).unwrap().id;
    let finance = Session::sign_in(&hub, "li.finance").await;
    let page = async |id: i64| finance.page(&format!("{}/console/recon/exceptions/{id}", hub.url())).await;
    assert!(!page(id_of("LOCAL_ONLY")).await.contains("write-off-again"));
    let refused = format!("{}/console/recon/exceptions/{}/write-off-again", hub.url(), id_of("LOCAL_ONLY"));
    assert_eq!(finance.post(&refused, &[("csrf", finance.csrf.as_str())]).await, 409);

    let lacking_id = id_of("NOT_AT_BILLER");
    assert!(page(lacking_id).await.contains("再次查询销账"));
    let action = format!("{}/console/recon/exceptions/{lacking_id}/write-off-again", hub.url());
    let supervisor = Session::sign_in(&hub, "wang.hall").await;
    assert_eq!(supervisor.post(&action, &[("csrf", supervisor.csrf.as_str())]).await, 403);
    let next = finance.post_and_follow(&action, &[("csrf", finance.csrf.as_str())]).await;
    assert_eq!(next, format!("/console/recon/exceptions/{lacking_id}"));
    let queued: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT kiosk_id, action FROM commands").fetch_all(hub.pool()).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].0, "SH-XH-0001");
    assert_eq!(
        serde_json::from_value::<fleet::wire::CommandAction>(queued[0].1.clone()).unwrap(),
        fleet::wire::CommandAction::ResendWriteOff {
            order_ref: "K-000002".into(),
            reference: "K-000002-L0".into()
        }
    );
    let shown = page(lacking_id).await;
    assert!(shown.contains("id=\"sent-to-kiosk\"") && shown.contains("等待终端执行"), "{shown}");

    // A charge the channel booked for an order the kiosk holds as never charged: give it back.
    let kept = Flag::ChannelOnly {
        source: Source::WeChatBill,
        order: "K-000004".into(),
        kind: StatementKind::Payment,
        amount: Fen(1_990),
    };
    let sha256 = "7a".repeat(32);
    let files = serde_json::json!({ "files": [{ "source": "wechat", "sha256": sha256 }], "journal": null });
    run.file(&hub, &kept, "K-000004", "wechat", files).await;
    let open = hub::recon::desk::open(hub.pool(), 10).await.unwrap();
    let kept_id = open.iter().find(|e| e.kind == "CHANNEL_ONLY").unwrap().id;
    assert!(page(kept_id).await.contains("经原渠道退款"));
    let action = format!("{}/console/recon/exceptions/{kept_id}/refund", hub.url());
    assert_eq!(supervisor.post(&action, &[("csrf", supervisor.csrf.as_str())]).await, 403);
    finance.post_and_follow(&action, &[("csrf", finance.csrf.as_str())]).await;
    let (action,): (serde_json::Value,) =
        sqlx::query_as("SELECT action FROM commands ORDER BY id DESC LIMIT 1")
            .fetch_one(hub.pool())
            .await
            .unwrap();
    assert_eq!(
        serde_json::from_value::<fleet::wire::CommandAction>(action).unwrap(),
        fleet::wire::CommandAction::RefundPerStatement {
            order_ref: "K-000004".into(),
            source: "wechat".into(),
            amount_fen: 1_990,
            files: vec![sha256]
        }
    );
    // The write-off form is not the refund's: each difference allows only its own.
    let wrong = format!("{}/console/recon/exceptions/{kept_id}/write-off-again", hub.url());
    assert_eq!(finance.post(&wrong, &[("csrf", finance.csrf.as_str())]).await, 409);
}
