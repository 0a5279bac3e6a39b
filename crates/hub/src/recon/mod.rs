//! Reconciliation (对账) across the fleet, in the hub (issue 15): every payment of the central
//! journal against its channel's statement and its billers' files, per accounting day.
//!
//! - [`accounts`]: the merchant accounts whose files are read, and fetching them (stored as
//!   received, with their hash, before anything parses them: [`crate::statements`]).
//! - [`files`]: the stored files of some days, parsed into the pure matcher's `Files`.
//! - `journal_view`: each payment as its kiosk last journaled it.
//! - [`run_day`]: one run: `kiosk_core::recon::match_day`, the scratch pool, the desk, and
//!   settling suspense by a command to the kiosk (which journals `Reconciled` with the files'
//!   hashes).
//! - [`desk`]: the exception desk's store.
//!
//! The matching itself is `kiosk_core::recon`'s, the same code a kiosk's `yizhan recon` runs.

pub mod accounts;
pub mod desk;
pub mod files;
mod journal_view;
mod run;

pub use run::{run_day, RunSummary};

use kiosk_core::recon::Day;
use kiosk_core::Ts;
use sqlx::PgPool;

/// The actor of what reconciliation does by itself (its commands, in the audit log).
pub const OPERATOR: &str = "recon";

/// Held by the instance reconciling, so that hub instances sharing a database take turns.
const TURN_LOCK: i64 = 0x0072_6563_6f6e; // "recon" in ASCII

/// The scheduled turn (`yizhan-hub serve --accounts`): once the newest day whose files are final
/// ([`Day::latest_complete`]) has no run that read every file, fetch its files and the next
/// day's, and reconcile it. A turn that could not read everything is tried again next time.
/// Returns the run, if one was made.
pub async fn scheduled_turn(
    pool: &PgPool,
    clients: &accounts::Clients,
    now: Ts,
) -> Result<Option<RunSummary>, sqlx::Error> {
    let mut lock = pool.acquire().await?;
    let mine: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(TURN_LOCK).fetch_one(&mut *lock).await?;
    if !mine {
        return Ok(None);
    }
    let turn = async {
        let day = Day::latest_complete(now);
        let done: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM recon_runs WHERE day = $1 AND files->'unreadable' = '[]'::jsonb)",
        )
        .bind(day.date())
        .fetch_one(pool)
        .await?;
        if done {
            return Ok(None);
        }
        let fetched = clients.fetch(pool, &day.booking_days()).await?;
        for failed in &fetched.failed {
            tracing::warn!(%failed, "a statement could not be fetched; the day is tried again later");
        }
        run_day(pool, day.date(), now).await.map(Some)
    }
    .await;
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(TURN_LOCK).execute(&mut *lock).await?;
    turn
}
