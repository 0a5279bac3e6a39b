//! A kiosk's heartbeat: its status stored as last seen, its conditions counted towards alerts,
//! and the commands waiting for it handed over in the answer.

use fleet::wire::{Heartbeat, HeartbeatReply};
use sqlx::PgPool;

use crate::alerts::{rules, store as alerts, Rules};
use crate::commands;

/// Records `beat` from `kiosk_id` and returns the commands waiting for it.
pub async fn record(
    pool: &PgPool,
    kiosk_id: &str,
    beat: &Heartbeat,
    rules: &Rules,
) -> Result<HeartbeatReply, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let status = serde_json::to_value(beat).expect("a heartbeat always serialises");
    // The head is recorded, not judged: a heartbeat reads it before the shipper (another task)
    // ships newer rows, so it may lag what the hub holds. Rollbacks are found by the shipper's
    // batches, whose head is read before their rows (`ingest`).
    sqlx::query("UPDATE kiosks SET last_seen_at = now(), last_heartbeat = $2 WHERE id = $1")
        .bind(kiosk_id)
        .bind(status)
        .execute(&mut *tx)
        .await?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    alerts::apply_heartbeat(&mut tx, kiosk_id, &rules::observe(beat, rules, now_ms)).await?;
    if let Some(report) = &beat.update {
        crate::rollouts::observe(&mut tx, kiosk_id, report).await?;
    }
    crate::recon::cash::observe(&mut tx, kiosk_id, &beat.cash_collections).await?;
    let commands = commands::hand_over(&mut tx, kiosk_id).await?;
    tx.commit().await?;
    Ok(HeartbeatReply { commands })
}
