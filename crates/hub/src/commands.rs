//! Operator commands to kiosks: queued here with the operator's name, handed to the kiosk with
//! its next heartbeat's answer (again with every answer until the kiosk acknowledges it, so a
//! lost answer loses nothing; the kiosk journals each command id once and ignores repeats), and
//! acknowledged with the outcome. Each step is in the audit log.

use fleet::wire::{Command, CommandAck, CommandAction};
use sqlx::{PgConnection, PgPool};

use crate::audit;

/// A command as the console lists it.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct QueuedCommand {
    pub id: i64,
    pub kiosk_id: String,
    pub operator: String,
    pub action: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    pub acked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub done: Option<bool>,
    pub detail: Option<String>,
}

/// Queues `action` for `kiosk_id` on behalf of `operator`. Returns the command's id.
pub async fn enqueue(
    pool: &PgPool,
    kiosk_id: &str,
    operator: &str,
    action: &CommandAction,
) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let id = enqueue_in(&mut tx, kiosk_id, operator, action).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`enqueue`] within the caller's transaction, its audit record with it.
pub async fn enqueue_in(
    conn: &mut PgConnection,
    kiosk_id: &str,
    operator: &str,
    action: &CommandAction,
) -> Result<i64, sqlx::Error> {
    let mut body = serde_json::to_value(action).expect("a command always serialises");
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO commands (kiosk_id, operator, action) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(kiosk_id)
    .bind(operator)
    .bind(&body)
    .fetch_one(&mut *conn)
    .await?;
    // A pushed file is kept whole elsewhere; the log names it by its hash.
    if let Some(config) = body.get_mut("config") {
        *config = serde_json::Value::String("…".into());
    }
    audit::record(conn, operator, "command.queue", kiosk_id, serde_json::json!({ "id": id, "action": body }))
        .await?;
    Ok(id)
}

/// The commands waiting for `kiosk_id`, oldest first, marked as delivered.
pub async fn hand_over(conn: &mut PgConnection, kiosk_id: &str) -> Result<Vec<Command>, sqlx::Error> {
    let rows: Vec<(i64, String, serde_json::Value)> = sqlx::query_as(
        "UPDATE commands SET delivered_at = COALESCE(delivered_at, now()) \
         WHERE kiosk_id = $1 AND acked_at IS NULL RETURNING id, operator, action",
    )
    .bind(kiosk_id)
    .fetch_all(conn)
    .await?;
    let mut commands: Vec<Command> = rows
        .into_iter()
        .filter_map(|(id, operator, action)| match serde_json::from_value(action) {
            Ok(action) => Some(Command { id, operator, action }),
            Err(e) => {
                tracing::error!(id, error = %e, "a queued command cannot be read; left undelivered");
                None
            }
        })
        .collect();
    commands.sort_by_key(|c| c.id);
    Ok(commands)
}

/// Records the kiosk's acknowledgement. A command of another kiosk, or one already
/// acknowledged, is left alone (returns false).
pub async fn acknowledge(pool: &PgPool, kiosk_id: &str, ack: &CommandAck) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE commands SET acked_at = now(), done = $3, detail = $4 WHERE id = $1 AND kiosk_id = $2 AND acked_at IS NULL",
    )
    .bind(ack.id)
    .bind(kiosk_id)
    .bind(ack.done)
    .bind(&ack.detail)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if done && !ack.done {
        // An install the kiosk would not stage counts against its roll-out.
        crate::rollouts::command_refused(&mut tx, ack.id, &ack.detail).await?;
    }
    if done {
        let actor = format!("kiosk:{kiosk_id}");
        audit::record(
            &mut tx,
            &actor,
            "command.ack",
            kiosk_id,
            serde_json::json!({ "id": ack.id, "done": ack.done }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done)
}

/// A kiosk's commands, newest first.
pub async fn list(pool: &PgPool, kiosk_id: &str, limit: i64) -> Result<Vec<QueuedCommand>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kiosk_id, operator, action, created_at, delivered_at, acked_at, done, detail \
         FROM commands WHERE kiosk_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(kiosk_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}
