//! The hub's PostgreSQL: a connection pool and the embedded migrations (`migrations/`), run at
//! start. Several hub instances may start at once: sqlx takes an advisory lock while migrating.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

/// The schema migrations, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects to `url` and brings the schema up to date.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}
