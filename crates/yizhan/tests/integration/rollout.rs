//! A signed update rolled out through the hub (PostgreSQL, mutual TLS), end to end: two
//! kiosks, each with version 1.0.0 installed from its package in a scratch root. The hub refuses
//! a tampered package; a good version goes to one kiosk first, then to the other once the first
//! reports it healthy, and the roll-out is done; a broken version is rolled back by the first
//! kiosk's updater, and the roll-out stops by itself before the second kiosk is offered it.

use crate::hubkit;
use crate::support;

use std::path::{Path, PathBuf};

use fleet::package::PackageSignature;
use hubkit::{rollout_state, TestHub};
use support::cli::{config_with, text, yizhan, BIN};
use support::debian::{dpkg_in, installed, kiosk_package, must, operator_keys, scratch_root};

/// Runs `yizhan` off the async threads (the hub under test runs on them).
use support::cli::yizhan_async as run;

struct Kiosk {
    id: String,
    root: PathBuf,
    config: PathBuf,
    data: PathBuf,
}

impl Kiosk {
    /// A kiosk with 1.0.0 installed in its own scratch root, paired with `hub`.
    async fn install_and_pair(hub: &TestHub, dir: &Path, id: &str, v1: &Path, public: &Path) -> Kiosk {
        let root = dir.join("root");
        scratch_root(&root);
        must(dpkg_in(&root).arg("--install").arg(v1));
        let config = config_with(dir, |body| {
            format!(
                "{}\n[hub]\nurl = \"{}\"\n\n[updates]\npublic_key = {:?}\nroot = {:?}\nhealth_settle_s = 1\n",
                body.replace("id = \"SH-DEMO-0001\"", &format!("id = \"{id}\"")),
                hub.url(),
                public.display().to_string(),
                root.display().to_string()
            )
        });
        let data = dir.join("data");
        let ticket = hub.ticket(id).await.to_qr_text();
        let paired = run(&config, &data, &["hub", "pair", &ticket]).await;
        assert!(paired.status.success(), "{}", text(&paired.stderr));
        Kiosk { id: id.into(), root, config, data }
    }

    /// A heartbeat, and the commands in its answer carried out.
    async fn sync(&self) -> String {
        let synced = run(&self.config, &self.data, &["hub", "sync"]).await;
        assert!(synced.status.success(), "{}", text(&synced.stderr));
        text(&synced.stdout)
    }

    /// The root updater's run for the staged version (asked for as the idle kiosk asks); the
    /// kiosk started in the background as systemd would, and stopped again after.
    async fn install(&self, public: &Path, health_timeout_s: u64) -> std::process::Output {
        assert!(run(&self.config, &self.data, &["update", "request"]).await.status.success());
        let pid = self.data.join("kiosk.pid");
        let start = format!(
            "(sleep 4 | {}/usr/bin/yizhan --config {} --data-dir {} run --headless >/dev/null 2>&1) & echo $! > {}",
            self.root.display(),
            self.config.display(),
            self.data.display(),
            pid.display()
        );
        let stop = format!(
            "pkill -P $(cat {0} 2>/dev/null) 2>/dev/null; kill $(cat {0} 2>/dev/null) 2>/dev/null; true",
            pid.display()
        );
        let args = [
            "update",
            "apply",
            "--root",
            self.root.to_str().unwrap(),
            "--key",
            public.to_str().unwrap(),
            "--stop",
            &stop,
            "--start",
            &start,
            "--health-timeout-s",
            &health_timeout_s.to_string(),
        ]
        .map(str::to_string);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&self.config, &self.data, &args).await;
        std::process::Command::new("sh").arg("-c").arg(&stop).status().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        output
    }
}

/// A package of `version` around `binary`, signed with `yizhan update sign`.
fn signed(dir: &Path, version: &str, binary: &Path, key: &Path) -> (PathBuf, PackageSignature) {
    let deb = kiosk_package(dir, version, binary);
    let data = dir.join("signing");
    let signed = yizhan(
        Path::new("unused.toml"),
        &data,
        &["update", "sign", "--key", key.to_str().unwrap(), deb.to_str().unwrap()],
    );
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    let sig = std::fs::read_to_string(deb.with_extension("deb.sig")).unwrap();
    (deb, PackageSignature::parse(&sig).unwrap())
}

async fn offered(hub: &TestHub, rollout: i64) -> Vec<(String, String)> {
    sqlx::query_as("SELECT kiosk_id, state FROM rollout_kiosks WHERE rollout_id = $1 ORDER BY kiosk_id")
        .bind(rollout)
        .fetch_all(hub.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_rolls_out_by_cohort_and_a_broken_one_stops_the_rollout_by_itself() {
    let hub = TestHub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let packages = dir.path().join("packages");
    std::fs::create_dir_all(&packages).unwrap();
    let (private, public) = operator_keys(dir.path(), 21);
    let key = fleet::package::load_public_key(&public).unwrap();
    let (v1, v1_sig) = signed(&packages, "1.0.0", Path::new(BIN), &private);
    let (v2, v2_sig) = signed(&packages, "2.0.0", Path::new(BIN), &private);
    let broken = dir.path().join("broken-yizhan");
    std::fs::write(&broken, "#!/bin/sh\nexit 1\n").unwrap();
    let (v3, v3_sig) = signed(&packages, "3.0.0", &broken, &private);

    // The hub takes only what the operator signed, as signed.
    let mut tampered = std::fs::read(&v2).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let refused = hub::packages::add(hub.pool(), &key, &v2_sig, &tampered, "ops").await;
    assert!(refused.unwrap_err().to_string().contains("tampered"));
    for (deb, sig) in [(&v1, &v1_sig), (&v2, &v2_sig), (&v3, &v3_sig)] {
        assert!(hub::packages::add(hub.pool(), &key, sig, &std::fs::read(deb).unwrap(), "ops")
            .await
            .unwrap());
    }

    let mut kiosks = Vec::new();
    for id in ["SH-PD-0101", "SH-PD-0102"] {
        let kiosk_dir = dir.path().join(id);
        std::fs::create_dir_all(&kiosk_dir).unwrap();
        let kiosk = Kiosk::install_and_pair(&hub, &kiosk_dir, id, &v1, &public).await;
        kiosk.sync().await;
        kiosks.push(kiosk);
    }
    let by_id = |id: &str| kiosks.iter().find(|k| k.id == id).unwrap();

    // 2.0.0: one kiosk first, then every kiosk; nobody may fail.
    let rollout =
        hub::rollouts::start(hub.pool(), "yizhan", "2.0.0", (&[1, 0], 0), "ops", Default::default())
            .await
            .unwrap();
    let first = offered(&hub, rollout).await;
    assert_eq!(first.len(), 1, "one kiosk first: {first:?}");
    let first = by_id(&first[0].0);
    let said = first.sync().await;
    assert!(said.contains("1 command(s) carried out"), "{said}");
    let staged = run(&first.config, &first.data, &["update", "status"]).await;
    assert!(text(&staged.stdout).contains("staged: 2.0.0"), "{}", text(&staged.stdout));
    hub::rollouts::advance_running(hub.pool(), Default::default()).await.unwrap();
    assert_eq!(offered(&hub, rollout).await.len(), 1, "the next stage waits for the first kiosk's health");

    let applied = first.install(&public, 120).await;
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    assert_eq!(installed(&first.root), "2.0.0");
    first.sync().await;
    hub::rollouts::advance_running(hub.pool(), Default::default()).await.unwrap();
    let both = offered(&hub, rollout).await;
    assert_eq!(both.len(), 2, "{both:?}");
    let second = kiosks.iter().find(|k| k.id != first.id).unwrap();
    second.sync().await;
    assert!(second.install(&public, 120).await.status.success());
    second.sync().await;
    hub::rollouts::advance_running(hub.pool(), Default::default()).await.unwrap();
    assert_eq!(rollout_state(hub.pool(), rollout).await.0, "done");
    let progress = hub::rollouts::progress(hub.pool(), rollout).await.unwrap();
    assert_eq!((progress.offered, progress.installed, progress.failed), (2, 2, 0));

    // 3.0.0 cannot start: the first kiosk's updater rolls it back, and the roll-out stops by
    // itself before anyone else gets it.
    let rollout =
        hub::rollouts::start(hub.pool(), "yizhan", "3.0.0", (&[1, 0], 0), "ops", Default::default())
            .await
            .unwrap();
    let first = offered(&hub, rollout).await;
    assert_eq!(first.len(), 1);
    let first = by_id(&first[0].0);
    first.sync().await;
    let applied = first.install(&public, 3).await;
    assert!(text(&applied.stderr).contains("rolled back to 2.0.0"), "{}", text(&applied.stderr));
    assert_eq!(installed(&first.root), "2.0.0");
    first.sync().await;
    hub::rollouts::advance_running(hub.pool(), Default::default()).await.unwrap();
    let (state, reason) = rollout_state(hub.pool(), rollout).await;
    assert_eq!(state, "stopped");
    let reason = reason.unwrap();
    assert!(
        reason.contains("1 of 1 kiosks offered 3.0.0 in this stage refused it or rolled it back"),
        "{reason}"
    );
    assert_eq!(offered(&hub, rollout).await, vec![(first.id.clone(), "failed".to_string())]);
    let detail: String = sqlx::query_scalar("SELECT detail FROM rollout_kiosks WHERE rollout_id = $1")
        .bind(rollout)
        .fetch_one(hub.pool())
        .await
        .unwrap();
    assert!(detail.contains("did not report healthy"), "{detail}");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'rollout.stop' AND actor = 'hub'")
            .fetch_one(hub.pool())
            .await
            .unwrap();
    assert_eq!(audited, 1);
}
