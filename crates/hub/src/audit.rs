//! The audit log: every operator action (and every action the hub takes on an operator's behalf),
//! written in the same transaction as the action itself.

use sqlx::PgConnection;

/// Records `action` on `target` by `actor`.
pub async fn record(
    conn: &mut PgConnection,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO audit_log (actor, action, target, detail) VALUES ($1, $2, $3, $4)")
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .execute(conn)
        .await?;
    Ok(())
}
