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
//! - [`cash`]: the cash boxes' collections (from the heartbeats) against the amounts counted
//!   out of them (entered by finance), compared by the run of the collection's day.
//!
//! The matching itself is `kiosk_core::recon`'s, the same code a kiosk's `yizhan recon` runs.

pub mod accounts;
pub mod cash;
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

/// Held (as a transaction lock) by the instance taking a scheduled turn, so that hub instances
/// sharing a database do not fetch the same files at once.
const TURN_LOCK: i64 = 0x0072_6563_6f6e; // "recon" in ASCII

/// How many days back the schedule looks for a day not reconciled completely (a hub that was
/// down, files that came late); older days are reconciled on demand.
pub const BACKLOG_DAYS: i64 = 7;

/// The scheduled turn (`yizhan-hub serve --accounts`): each day of the last [`BACKLOG_DAYS`] up to
/// the newest whose files are final ([`Day::latest_complete`]) that has no *complete* run (every
/// account's file of it and the next read final, nothing unreadable) has its files fetched and is
/// reconciled, oldest first. Returns the runs made; none when another instance is taking its turn.
pub async fn scheduled_turn(
    pool: &PgPool,
    clients: &accounts::Clients,
    now: Ts,
) -> Result<Vec<RunSummary>, sqlx::Error> {
    let mut turn = pool.begin().await?;
    let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(TURN_LOCK)
        .fetch_one(&mut *turn)
        .await?;
    if !mine {
        return Ok(Vec::new());
    }
    let newest = Day::latest_complete(now);
    let mut runs = Vec::new();
    for back in (0..BACKLOG_DAYS).rev() {
        let day = Day(newest.0 - back);
        let done: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM recon_runs WHERE day = $1 AND complete)")
                .bind(day.date())
                .fetch_one(pool)
                .await?;
        if done {
            continue;
        }
        let fetched = clients.fetch(pool, &day.booking_days()).await?;
        for failed in &fetched.failed {
            tracing::warn!(%failed, "a statement could not be fetched; the day is tried again later");
        }
        let mut run = run_day(pool, day.date(), now).await?;
        // Said with the run: a file of the next day that could not be fetched leaves the day
        // incomplete without being "unreadable" (a file not final is not read as whole anyway).
        run.unreadable.extend(fetched.failed.into_iter().map(|f| format!("not fetched: {f}")));
        runs.push(run);
    }
    turn.commit().await?;
    Ok(runs)
}
