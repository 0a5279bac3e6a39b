//! Roll-outs in the hub, with kiosks speaking the real API (mutual TLS) but no package installed
//! (crates/yizhan/tests/integration/rollout.rs installs real ones): packages checked at upload and never
//! replaced; a stage that waits for every kiosk's health; refusals and roll-backs counted against
//! the stage's allowed share until the roll-out stops by itself; an offer with no outcome in time
//! counted as failed; silent kiosks not offered; offers not yet handed over withdrawn and staged
//! ones cancelled when it stops; one roll-out at a time.

use crate::common;

use common::{healthy_beat, rollout_state, scalar, texts, TestHub, TestKiosk};
use fleet::package::{PackageSignature, SigningKey};
use fleet::wire::{CommandAck, CommandAction, UpdateReport};
use hub::packages::PackageRefused;
use hub::rollouts::{self, RolloutRefused};

fn operator() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

async fn add(hub: &TestHub, version: &str) -> Vec<u8> {
    let bytes = format!("the yizhan package, version {version}").into_bytes();
    let signature = PackageSignature::sign(&operator(), "yizhan", version, "amd64", &bytes);
    assert!(hub::packages::add(hub.pool(), &operator().verifying_key(), &signature, &bytes, "ops")
        .await
        .unwrap());
    bytes
}

/// A heartbeat with `update`; the install commands in the answer.
async fn beat(kiosk: &TestKiosk, update: Option<UpdateReport>) -> Vec<(i64, String)> {
    let mut beat = healthy_beat();
    beat.update = update;
    let reply = kiosk.client.heartbeat(&beat).await.unwrap();
    reply
        .commands
        .into_iter()
        .filter_map(|c| match c.action {
            CommandAction::InstallUpdate { version, .. } => Some((c.id, version)),
            _ => None,
        })
        .collect()
}

fn report(installed: &str, phase: &str, version: &str, detail: &str) -> Option<UpdateReport> {
    Some(UpdateReport {
        installed: Some(installed.into()),
        phase: phase.into(),
        version: Some(version.into()),
        detail: detail.into(),
    })
}

async fn offered(hub: &TestHub, rollout: i64) -> Vec<String> {
    sqlx::query_scalar("SELECT kiosk_id FROM rollout_kiosks WHERE rollout_id = $1 ORDER BY stage, kiosk_id")
        .bind(rollout)
        .fetch_all(hub.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_hub_takes_only_signed_packages_and_never_replaces_a_version() {
    let hub = TestHub::start().await;
    let key = operator().verifying_key();
    let bytes = add(&hub, "2.0.0").await;
    let signature = PackageSignature::sign(&operator(), "yizhan", "2.0.0", "amd64", &bytes);
    assert!(
        !hub::packages::add(hub.pool(), &key, &signature, &bytes, "ops").await.unwrap(),
        "the same again"
    );
    let mut tampered = bytes.clone();
    tampered[0] ^= 1;
    let refused = hub::packages::add(hub.pool(), &key, &signature, &tampered, "ops").await.unwrap_err();
    assert!(refused.to_string().contains("tampered"), "{refused}");
    let stranger =
        PackageSignature::sign(&SigningKey::from_bytes(&[7; 32]), "yizhan", "2.0.1", "amd64", &bytes);
    let refused = hub::packages::add(hub.pool(), &key, &stranger, &bytes, "ops").await.unwrap_err();
    assert!(refused.to_string().contains("not signed by the operator"), "{refused}");
    let other = b"other bytes".to_vec();
    let resigned = PackageSignature::sign(&operator(), "yizhan", "2.0.0", "amd64", &other);
    let refused = hub::packages::add(hub.pool(), &key, &resigned, &other, "ops").await.unwrap_err();
    assert!(matches!(refused, PackageRefused::Replaced { .. }), "{refused}");
    assert_eq!(
        hub::rollouts::start(hub.pool(), "yizhan", "9.9.9", (&[1, 0], 10), "ops", Default::default())
            .await
            .unwrap_err()
            .to_string(),
        RolloutRefused::NoPackage("yizhan".into(), "9.9.9".into()).to_string()
    );
    let listed = hub::packages::list(hub.pool()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].size as usize, bytes.len());
}

#[tokio::test]
async fn stages_wait_for_health_and_failures_past_the_share_stop_the_rollout() {
    let hub = TestHub::start().await;
    add(&hub, "2.0.0").await;
    let mut kiosks = Vec::new();
    for n in 1..=4 {
        let kiosk = hub.kiosk(&format!("SH-XH-010{n}")).await;
        beat(&kiosk, report("1.0.0", "idle", "1.0.0", "")).await;
        kiosks.push(kiosk);
    }
    let kiosk = |id: &str| kiosks.iter().find(|k| k.id == id).unwrap();

    // One, then three, then all; half of a stage may fail.
    let id = rollouts::start(hub.pool(), "yizhan", "2.0.0", (&[1, 3, 0], 50), "ops", Default::default())
        .await
        .unwrap();
    assert!(matches!(
        rollouts::start(hub.pool(), "yizhan", "2.0.0", (&[1], 0), "ops", Default::default()).await,
        Err(RolloutRefused::AnotherRunning)
    ));
    let first = offered(&hub, id).await;
    assert_eq!(first.len(), 1);
    let first = kiosk(&first[0]);
    let commands = beat(first, report("1.0.0", "idle", "1.0.0", "")).await;
    assert_eq!(commands.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(), ["2.0.0"]);
    first.client.ack(&CommandAck { id: commands[0].0, done: true, detail: "staged".into() }).await.unwrap();
    // Staged is not healthy: the stage waits.
    beat(first, report("1.0.0", "staged", "2.0.0", "2.0.0 staged")).await;
    rollouts::advance(hub.pool(), id, Default::default()).await.unwrap();
    assert_eq!(offered(&hub, id).await.len(), 1);
    beat(first, report("2.0.0", "healthy", "2.0.0", "2.0.0 installed and healthy")).await;
    rollouts::advance(hub.pool(), id, Default::default()).await.unwrap();
    let three = offered(&hub, id).await;
    assert_eq!(three.len(), 3, "{three:?}");

    // Of the two new ones, one refuses to stage it (1 of the stage's 2: within 50 %), one is
    // healthy.
    let (refuser, healthy) = (kiosk(&three[1]), kiosk(&three[2]));
    let commands = beat(refuser, None).await;
    let detail = "refused: the fall-back package 1.0.0: the hub holds no package yizhan 1.0.0";
    refuser.client.ack(&CommandAck { id: commands[0].0, done: false, detail: detail.into() }).await.unwrap();
    beat(healthy, report("2.0.0", "healthy", "2.0.0", "")).await;
    rollouts::advance(hub.pool(), id, Default::default()).await.unwrap();
    let all = offered(&hub, id).await;
    assert_eq!(all.len(), 4, "the last stage: every kiosk");
    let (state, reason) = rollout_state(hub.pool(), id).await;
    assert_eq!((state.as_str(), reason), ("running", None));

    // The last kiosk, alone in the last stage, rolls it back: past 50 %. It stops by itself.
    let last = kiosk(&all[3]);
    beat(
        last,
        report(
            "1.0.0",
            "rolled_back",
            "2.0.0",
            "2.0.0 rolled back to 1.0.0: it did not report healthy within 600 s",
        ),
    )
    .await;
    rollouts::advance(hub.pool(), id, Default::default()).await.unwrap();
    let (state, reason) = rollout_state(hub.pool(), id).await;
    assert_eq!(state, "stopped");
    let reason = reason.unwrap();
    let expected = "in stage 3: 1 of 1 kiosks offered 2.0.0 in this stage refused it or rolled it back \
                    (at most 50% allowed)";
    assert!(reason.contains(expected), "{reason}");
    let progress = rollouts::progress(hub.pool(), id).await.unwrap();
    assert_eq!((progress.offered, progress.installed, progress.failed), (4, 2, 2));
    let failed =
        texts(hub.pool(), "SELECT detail FROM rollout_kiosks WHERE state = 'failed' ORDER BY kiosk_id").await;
    assert!(
        failed.iter().any(|d| d.contains("did not report healthy"))
            && failed.iter().any(|d| d.contains("refused"))
    );
}

#[tokio::test]
async fn stopping_withdraws_the_offers_not_yet_handed_over_and_cancels_the_others() {
    let hub = TestHub::start().await;
    add(&hub, "2.0.0").await;
    let a = hub.kiosk("SH-XH-0201").await;
    let b = hub.kiosk("SH-XH-0202").await;
    // A kiosk not heard from lately is not offered anything.
    let silent = hub.kiosk("SH-XH-0203").await;
    sqlx::query("UPDATE kiosks SET last_seen_at = now() - interval '1 hour' WHERE id = $1")
        .bind(&silent.id)
        .execute(hub.pool())
        .await
        .unwrap();
    beat(&a, None).await;
    beat(&b, None).await;
    let id =
        rollouts::start(hub.pool(), "yizhan", "2.0.0", (&[0], 100), "ops", Default::default()).await.unwrap();
    assert_eq!(offered(&hub, id).await, vec![a.id.clone(), b.id.clone()], "{} is silent", silent.id);
    // One kiosk has its offer (and may have staged it); the other has not called since.
    assert_eq!(beat(&a, None).await.len(), 1);
    assert!(rollouts::stop(hub.pool(), id, "ops", "a bug found in testing").await.unwrap());
    assert!(!rollouts::stop(hub.pool(), id, "ops", "again").await.unwrap(), "stopped once");
    assert!(beat(&b, None).await.is_empty(), "the offer was withdrawn before it was handed over");
    let mut beat_a = healthy_beat();
    beat_a.update = None;
    let reply = a.client.heartbeat(&beat_a).await.unwrap();
    let cancels: Vec<_> = reply
        .commands
        .iter()
        .filter(|c| matches!(&c.action, CommandAction::CancelUpdate { version } if version == "2.0.0"))
        .collect();
    assert_eq!(cancels.len(), 1, "the kiosk holding the offer is told to drop it: {:?}", reply.commands);
    assert!(
        !reply.commands.iter().any(|c| matches!(c.action, CommandAction::InstallUpdate { .. })),
        "the offer it had, not acknowledged yet, is not handed over again: {:?}",
        reply.commands
    );
    // The next roll-out may start.
    add(&hub, "2.0.1").await;
    rollouts::start(hub.pool(), "yizhan", "2.0.1", (&[1], 0), "ops", Default::default()).await.unwrap();
    let audited = scalar(hub.pool(), "SELECT count(*) FROM audit_log WHERE action LIKE 'rollout.%'").await;
    assert_eq!(audited, 3, "two starts and a stop");
}

#[tokio::test]
async fn an_offer_with_no_outcome_in_time_counts_as_failed() {
    let hub = TestHub::start().await;
    add(&hub, "2.0.0").await;
    let kiosk = hub.kiosk("SH-XH-0301").await;
    beat(&kiosk, None).await;
    let id = rollouts::start(hub.pool(), "yizhan", "2.0.0", (&[1, 0], 0), "ops", Default::default())
        .await
        .unwrap();
    assert_eq!(beat(&kiosk, None).await.len(), 1);
    // Staged, then never idle (or gone): a day and a half later the offer has no outcome.
    sqlx::query("UPDATE rollout_kiosks SET updated_at = now() - interval '37 hours'")
        .execute(hub.pool())
        .await
        .unwrap();
    rollouts::advance(hub.pool(), id, Default::default()).await.unwrap();
    let (state, detail): (String, Option<String>) =
        sqlx::query_as("SELECT state, detail FROM rollout_kiosks").fetch_one(hub.pool()).await.unwrap();
    assert_eq!(state, "failed");
    assert!(detail.unwrap().contains("no outcome within 36 h"));
    rollouts::advance(hub.pool(), id, Default::default()).await.unwrap();
    let state: String = sqlx::query_scalar("SELECT state FROM rollouts").fetch_one(hub.pool()).await.unwrap();
    assert_eq!(state, "stopped");
    // It may hold the version staged all the same: it is told to drop it.
    let mut quiet = healthy_beat();
    quiet.update = None;
    let reply = kiosk.client.heartbeat(&quiet).await.unwrap();
    assert!(reply
        .commands
        .iter()
        .any(|c| matches!(&c.action, CommandAction::CancelUpdate { version } if version == "2.0.0")));
}
