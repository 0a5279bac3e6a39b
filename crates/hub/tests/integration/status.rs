//! Heartbeats, alerts and commands: conditions become alerts only when they last, each alert is
//! opened once and delivered to the webhook once, silent kiosks are noticed, and commands reach
//! the kiosk until it acknowledges them.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, healthy_beat, open_alerts, scalar, TestHub};
use fleet::wire::{CommandAck, CommandAction, DeviceHealth, DeviceReport, Paper};

#[tokio::test]
async fn paper_out_is_raised_once_and_cleared_after_two_good_beats() {
    let hub = TestHub::start().await;
    let kiosk = hub.kiosk("SH-ST-001").await;
    let mut beat = healthy_beat();
    beat.paper = Paper::Out;
    for _ in 0..4 {
        kiosk.client.heartbeat(&beat).await.unwrap();
    }
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![("paper_out".into(), String::new())]);
    let alerts = scalar(hub.pool(), "SELECT count(*) FROM alerts").await;
    assert_eq!(alerts, 1, "four beats, one alert");

    beat.paper = Paper::Ok;
    kiosk.client.heartbeat(&beat).await.unwrap();
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await.len(), 1, "one good beat is not enough");
    kiosk.client.heartbeat(&beat).await.unwrap();
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![]);
}

#[tokio::test]
async fn a_flickering_sensor_and_a_one_poll_dropout_raise_nothing() {
    let hub = TestHub::start().await;
    let kiosk = hub.kiosk("SH-ST-002").await;
    for i in 0..10 {
        let mut beat = healthy_beat();
        beat.paper = if i % 2 == 0 { Paper::NearEnd } else { Paper::Ok };
        if i == 4 {
            beat.devices.push(DeviceReport {
                device: "scanner".into(),
                health: DeviceHealth::Fault,
                detail: "no answer".into(),
            });
        }
        kiosk.client.heartbeat(&beat).await.unwrap();
    }
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![]);
    let streaks = scalar(hub.pool(), "SELECT count(*) FROM alert_streaks").await;
    assert!(streaks <= 1, "counting stops when a condition is gone ({streaks} rows)");
}

#[tokio::test]
async fn an_old_suspense_payment_and_a_full_box_are_raised_with_their_subjects() {
    let hub = TestHub::start().await;
    let kiosk = hub.kiosk("SH-ST-003").await;
    let mut beat = healthy_beat();
    let two_days_ago = chrono::Utc::now().timestamp_millis() - 48 * 3_600_000;
    beat.suspense.push(fleet::wire::SuspenseReport {
        order_ref: "SH-ST-003-000042".into(),
        amount_fen: 12_800,
        state: "Unknown".into(),
        since_ms: two_days_ago,
    });
    beat.cash_box =
        Some(fleet::wire::CashBoxReport { present: true, full: true, notes: 600, total_fen: 3_000_000 });
    kiosk.client.heartbeat(&beat).await.unwrap();
    assert_eq!(
        open_alerts(hub.pool(), &kiosk.id).await,
        vec![("cash_box_full".into(), String::new()), ("suspense_old".into(), "SH-ST-003-000042".into())]
    );
}

#[tokio::test]
async fn a_silent_kiosk_is_raised_by_the_sweep_and_cleared_by_its_heartbeats_and_the_webhook_hears_both() {
    let received = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let webhook = start_webhook(received.clone()).await;
    let hub = TestHub::start_with(|c| {
        c.webhook = Some(webhook);
        c.silent_after = Duration::from_secs(180);
        c.sweep_every = Duration::from_millis(200);
    })
    .await;
    let kiosk = hub.kiosk("SH-ST-004").await;
    kiosk.client.heartbeat(&healthy_beat()).await.unwrap();
    // Four minutes without a heartbeat.
    sqlx::query("UPDATE kiosks SET last_seen_at = now() - interval '4 minutes' WHERE id = $1")
        .bind(&kiosk.id)
        .execute(hub.pool())
        .await
        .unwrap();
    let pool = hub.pool().clone();
    let id = kiosk.id.clone();
    assert!(
        eventually(Duration::from_secs(10), || {
            let (pool, id) = (pool.clone(), id.clone());
            async move { open_alerts(&pool, &id).await == vec![("silent".to_string(), String::new())] }
        })
        .await,
        "the sweep raises it"
    );
    kiosk.client.heartbeat(&healthy_beat()).await.unwrap();
    assert_eq!(
        open_alerts(hub.pool(), &kiosk.id).await.len(),
        1,
        "one heartbeat after a silence clears nothing"
    );
    kiosk.client.heartbeat(&healthy_beat()).await.unwrap();
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![]);

    assert!(
        eventually(Duration::from_secs(10), || {
            let received = received.clone();
            async move { received.lock().unwrap().len() >= 2 }
        })
        .await,
        "the webhook hears the opening and the clearing"
    );
    let received = received.lock().unwrap().clone();
    let events: Vec<(&str, &str)> =
        received.iter().map(|v| (v["event"].as_str().unwrap(), v["kind"].as_str().unwrap())).collect();
    assert_eq!(events, vec![("opened", "silent"), ("cleared", "silent")]);
    assert_eq!(received[0]["kiosk_id"], "SH-ST-004");
}

#[tokio::test]
async fn a_command_is_handed_over_until_acknowledged_and_audited_on_the_hub() {
    let hub = TestHub::start().await;
    let kiosk = hub.kiosk("SH-ST-005").await;
    let id = hub::commands::enqueue(
        hub.pool(),
        &kiosk.id,
        "li.supervisor",
        &CommandAction::TakeOutOfService { reason: "glass cleaning".into() },
    )
    .await
    .unwrap();
    let first = kiosk.client.heartbeat(&healthy_beat()).await.unwrap();
    assert_eq!(first.commands.len(), 1);
    assert_eq!(first.commands[0].id, id);
    assert_eq!(first.commands[0].operator, "li.supervisor");
    // The answer was lost: the next heartbeat hands it over again.
    let second = kiosk.client.heartbeat(&healthy_beat()).await.unwrap();
    assert_eq!(second.commands, first.commands);
    kiosk.client.ack(&CommandAck { id, done: true, detail: "out of service".into() }).await.unwrap();
    assert_eq!(kiosk.client.heartbeat(&healthy_beat()).await.unwrap().commands, vec![]);

    let actions: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, action FROM audit_log WHERE action LIKE 'command.%' ORDER BY id")
            .fetch_all(hub.pool())
            .await
            .unwrap();
    assert_eq!(
        actions,
        vec![
            ("li.supervisor".into(), "command.queue".into()),
            ("kiosk:SH-ST-005".into(), "command.ack".into())
        ]
    );
    // Another kiosk cannot acknowledge it.
    let other = hub.kiosk("SH-ST-006").await;
    let id2 = hub::commands::enqueue(hub.pool(), &kiosk.id, "li.supervisor", &CommandAction::ReturnToService)
        .await
        .unwrap();
    other.client.ack(&CommandAck { id: id2, done: true, detail: String::new() }).await.unwrap();
    assert_eq!(kiosk.client.heartbeat(&healthy_beat()).await.unwrap().commands.len(), 1);
}

/// A webhook receiver on loopback; returns its URL.
async fn start_webhook(received: Arc<Mutex<Vec<serde_json::Value>>>) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(v): axum::Json<serde_json::Value>| {
            let received = received.clone();
            async move {
                received.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

#[tokio::test]
async fn acknowledging_a_chain_alert_clears_it_and_the_next_incident_is_a_new_alert() {
    let received = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let webhook = start_webhook(received.clone()).await;
    let hub = TestHub::start_with(|c| c.webhook = Some(webhook)).await;
    let kiosk = hub.kiosk("SH-ST-007").await;
    let raise = || async {
        let mut conn = hub.pool().acquire().await.unwrap();
        hub::alerts::store::raise(&mut conn, &kiosk.id, "chain_break", "seq 5", "transition 5 was changed")
            .await
            .unwrap()
    };
    let first = raise().await.expect("opened");
    assert!(hub::alerts::store::acknowledge(hub.pool(), first, "li.finance").await.unwrap());
    assert_eq!(open_alerts(hub.pool(), &kiosk.id).await, vec![], "an operator has looked: cleared");
    let second = raise().await.expect("a new incident is a new alert, notified again");
    assert_ne!(first, second);
    // An observed condition (paper out) is only marked: it clears when the paper is back.
    let mut beat = healthy_beat();
    beat.paper = Paper::Out;
    kiosk.client.heartbeat(&beat).await.unwrap();
    let paper = scalar(hub.pool(), "SELECT id FROM alerts WHERE kind = 'paper_out'").await;
    hub::alerts::store::acknowledge(hub.pool(), paper, "wang.hall").await.unwrap();
    assert!(open_alerts(hub.pool(), &kiosk.id).await.contains(&("paper_out".into(), String::new())));
    assert!(
        eventually(Duration::from_secs(10), || {
            let received = received.clone();
            async move { received.lock().unwrap().len() >= 4 }
        })
        .await
    );
    let events: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .map(|v| format!("{} {}", v["event"].as_str().unwrap(), v["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        events,
        ["opened chain_break", "cleared chain_break", "opened chain_break", "opened paper_out"]
    );
}
