//! Configurations pushed to kiosks. The hub checks what it can without the kiosk's files (size,
//! TOML, the kiosk's own id), numbers each kiosk's versions from 1, keeps every version, and
//! queues the push as a command; the kiosk checks the rest as it checks its own file at start-up
//! and applies it between customers. Its heartbeat's `config_version` says what it runs.

use fleet::wire::CommandAction;
use sqlx::PgPool;

use crate::{audit, commands};

/// A kiosk's configuration file is a page of settings; anything much larger is a mistake.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;

/// Why the hub will not push a configuration.
#[derive(Debug, thiserror::Error)]
pub enum PushRefused {
    #[error("the configuration is larger than {MAX_CONFIG_BYTES} bytes")]
    TooLarge,
    #[error("the configuration is not TOML: {0}")]
    NotToml(String),
    /// `[kiosk] id` is missing or names another kiosk: the file was meant for someone else.
    #[error("the configuration's [kiosk] id is {found:?}, not {kiosk:?}")]
    OtherKiosk { kiosk: String, found: Option<String> },
    #[error("no such kiosk, or it is revoked")]
    NoSuchKiosk,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// One pushed version, as the console shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PushedConfig {
    pub version: i64,
    pub body: String,
    pub sha256: String,
    pub pushed_by: String,
    pub pushed_at: chrono::DateTime<chrono::Utc>,
    pub command_id: i64,
}

/// What the hub checks before queuing `body` for `kiosk_id`.
pub fn check(kiosk_id: &str, body: &str) -> Result<(), PushRefused> {
    if body.len() > MAX_CONFIG_BYTES {
        return Err(PushRefused::TooLarge);
    }
    let table: toml::Table =
        body.parse().map_err(|e: toml::de::Error| PushRefused::NotToml(e.message().to_owned()))?;
    let found = table.get("kiosk").and_then(|k| k.get("id")).and_then(|id| id.as_str()).map(str::to_owned);
    if found.as_deref() != Some(kiosk_id) {
        return Err(PushRefused::OtherKiosk { kiosk: kiosk_id.to_owned(), found });
    }
    Ok(())
}

/// Checks `body`, gives it the kiosk's next version number, keeps it and queues it, all in one
/// transaction (two operators pushing at once get two versions, in order). Returns the version.
pub async fn push(pool: &PgPool, kiosk_id: &str, operator: &str, body: &str) -> Result<i64, PushRefused> {
    check(kiosk_id, body)?;
    let mut tx = pool.begin().await?;
    // The kiosk's row, locked: versions are handed out one at a time.
    let live: Option<bool> =
        sqlx::query_scalar("SELECT revoked_at IS NULL FROM kiosks WHERE id = $1 FOR UPDATE")
            .bind(kiosk_id)
            .fetch_optional(&mut *tx)
            .await?;
    if live != Some(true) {
        return Err(PushRefused::NoSuchKiosk);
    }
    let version: i64 =
        sqlx::query_scalar("SELECT COALESCE(max(version), 0) + 1 FROM kiosk_configs WHERE kiosk_id = $1")
            .bind(kiosk_id)
            .fetch_one(&mut *tx)
            .await?;
    let action = CommandAction::push_config(version, body.to_owned());
    let CommandAction::PushConfig { sha256, .. } = &action else { unreachable!("built just above") };
    let sha256 = sha256.clone();
    let command_id = commands::enqueue_in(&mut tx, kiosk_id, operator, &action).await?;
    sqlx::query(
        "INSERT INTO kiosk_configs (kiosk_id, version, body, sha256, pushed_by, command_id) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(kiosk_id)
    .bind(version)
    .bind(body)
    .bind(&sha256)
    .bind(operator)
    .bind(command_id)
    .execute(&mut *tx)
    .await?;
    // The text stays in kiosk_configs (it may name key files); the log keeps its hash.
    audit::record(
        &mut tx,
        operator,
        "config.push",
        kiosk_id,
        serde_json::json!({ "version": version, "sha256": sha256, "command": command_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// The last version pushed to `kiosk_id`, if any.
pub async fn latest(pool: &PgPool, kiosk_id: &str) -> Result<Option<PushedConfig>, sqlx::Error> {
    sqlx::query_as(
        "SELECT version, body, sha256, pushed_by, pushed_at, command_id FROM kiosk_configs \
         WHERE kiosk_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(kiosk_id)
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hub_refuses_what_is_plainly_wrong() {
        let good = "[kiosk]\nid = \"SH-PD-0001\"\nnumber = \"0001\"\n";
        assert!(check("SH-PD-0001", good).is_ok());
        assert!(
            matches!(check("SH-PD-0002", good), Err(PushRefused::OtherKiosk { found: Some(f), .. }) if f == "SH-PD-0001")
        );
        assert!(matches!(check("SH-PD-0001", "[kiosk\nid = 1"), Err(PushRefused::NotToml(_))));
        assert!(matches!(
            check("SH-PD-0001", "[devices]\nsimulated = true\n"),
            Err(PushRefused::OtherKiosk { found: None, .. })
        ));
        let huge = format!("{good}# {}\n", "x".repeat(MAX_CONFIG_BYTES));
        assert!(matches!(check("SH-PD-0001", &huge), Err(PushRefused::TooLarge)));
    }
}
