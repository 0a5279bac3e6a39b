//! A kiosk's heartbeat: its status stored as last seen, its conditions counted towards alerts,
//! and the commands waiting for it handed over in the answer.

use fleet::wire::{Heartbeat, HeartbeatReply};
use sqlx::PgPool;

use crate::alerts::{kind, rules, store as alerts, Rules};
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
    let stored_through: i64 = sqlx::query_scalar(
        "UPDATE kiosks SET last_seen_at = now(), last_heartbeat = $2, reported_head_seq = $3 WHERE id = $1 RETURNING stored_through",
    )
    .bind(kiosk_id)
    .bind(status)
    .bind(beat.head.seq)
    .fetch_one(&mut *tx)
    .await?;
    if beat.head.seq < stored_through {
        let detail = format!(
            "the kiosk's journal ends at transition {} but the hub holds {}: it was rolled back to an older copy",
            beat.head.seq, stored_through
        );
        alerts::raise(&mut tx, kiosk_id, kind::ROLLBACK, "", &detail).await?;
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    alerts::apply_heartbeat(&mut tx, kiosk_id, &rules::observe(beat, rules, now_ms)).await?;
    let commands = commands::hand_over(&mut tx, kiosk_id).await?;
    tx.commit().await?;
    Ok(HeartbeatReply { commands })
}
