//! Rolling a signed package out to the fleet by cohort, after hawkBit's roll-out model: a few
//! kiosks first, then more, each stage only once every kiosk of the one before runs the new
//! version and said it is healthy; stopped by itself as soon as more than the allowed share of the
//! kiosks offered the version refused it or rolled it back.
//!
//! The hub learns the outcome from the kiosks: an install command acknowledged as not done
//! (the kiosk refused to stage it), and the `update` of each heartbeat (the version installed,
//! and whether the updater rolled it back). An offer with no outcome after
//! [`Timing::offer_timeout`] counts as failed, so a kiosk that never comes back cannot hold a
//! roll-out forever; a kiosk silent now is not offered anything. A turn ([`advance_running`])
//! runs every few seconds.
//!
//! The failure share is hawkBit's error threshold: the kiosks of the current stage that refused
//! the version or rolled it back, against the stage's size. Stopping (by hand or by itself)
//! withdraws the offers not handed over yet and tells the kiosks that staged the version to drop
//! it.

use fleet::wire::{CommandAction, UpdateReport};
use sqlx::{PgConnection, PgPool};

use crate::{audit, commands};

#[derive(Debug, thiserror::Error)]
pub enum RolloutRefused {
    #[error("cohorts must be one or more growing kiosk counts, 0 (every kiosk) only last: {0:?}")]
    Cohorts(Vec<i32>),
    #[error("the allowed failure share is a percentage, 0 to 100")]
    Share,
    #[error("the hub holds no package {0} {1}")]
    NoPackage(String, String),
    #[error("another roll-out is running: stop it first")]
    AnotherRunning,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A roll-out as the console lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Rollout {
    pub id: i64,
    pub package: String,
    pub version: String,
    pub cohorts: Vec<i32>,
    pub stage: i32,
    pub max_failure_pct: i32,
    pub state: String,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The clocks of a roll-out's turn.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// A kiosk not heard from for this long is not offered anything.
    pub silent_after: std::time::Duration,
    /// An offer with no outcome after this long counts as failed.
    pub offer_timeout: std::time::Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            silent_after: std::time::Duration::from_secs(180),
            // A night's idle hours at the least: installs wait for the hall to close.
            offer_timeout: std::time::Duration::from_secs(36 * 3600),
        }
    }
}

/// How far a roll-out has gone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Progress {
    pub offered: i64,
    pub installed: i64,
    pub failed: i64,
}

fn cohorts_valid(cohorts: &[i32]) -> bool {
    let Some((last, rest)) = cohorts.split_last() else { return false };
    let growing = rest.windows(2).all(|w| w[0] < w[1]) && rest.iter().all(|&n| n > 0);
    growing && (*last == 0 || (*last > 0 && rest.last().is_none_or(|&n| n < *last)))
}

/// Starts rolling `package` `version` out: `cohorts` are the kiosk counts offered it by the end
/// of each stage (`[2, 20, 0]`: two, then twenty, then all). A stage with fewer kiosks in
/// reach (heard from lately, not running the version) than it asks for goes with those.
pub async fn start(
    pool: &PgPool,
    package: &str,
    version: &str,
    (cohorts, max_failure_pct): (&[i32], i32),
    operator: &str,
    timing: Timing,
) -> Result<i64, RolloutRefused> {
    if !cohorts_valid(cohorts) {
        return Err(RolloutRefused::Cohorts(cohorts.to_vec()));
    }
    if !(0..=100).contains(&max_failure_pct) {
        return Err(RolloutRefused::Share);
    }
    let mut tx = pool.begin().await?;
    let held: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM packages WHERE package = $1 AND version = $2)")
            .bind(package)
            .bind(version)
            .fetch_one(&mut *tx)
            .await?;
    if !held {
        return Err(RolloutRefused::NoPackage(package.into(), version.into()));
    }
    let inserted = sqlx::query_scalar(
        "INSERT INTO rollouts (package, version, cohorts, max_failure_pct, created_by) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(package)
    .bind(version)
    .bind(cohorts)
    .bind(max_failure_pct)
    .bind(operator)
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(RolloutRefused::AnotherRunning)
        }
        Err(e) => return Err(e.into()),
    };
    let detail =
        serde_json::json!({ "version": version, "cohorts": cohorts, "max_failure_pct": max_failure_pct });
    audit::record(&mut tx, operator, "rollout.start", &format!("{package} {version}"), detail).await?;
    tx.commit().await?;
    advance(pool, id, timing).await?;
    Ok(id)
}

/// Stops a roll-out: no kiosk is offered the version any more (kiosks that staged it already
/// still install it; offers not yet handed over are withdrawn).
pub async fn stop(pool: &PgPool, id: i64, operator: &str, reason: &str) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let stopped = stop_in(&mut tx, id, reason, operator).await?;
    if stopped {
        audit::record(
            &mut tx,
            operator,
            "rollout.stop",
            &id.to_string(),
            serde_json::json!({ "reason": reason }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(stopped)
}

async fn stop_in(
    conn: &mut PgConnection,
    id: i64,
    reason: &str,
    operator: &str,
) -> Result<bool, sqlx::Error> {
    let version: Option<String> = sqlx::query_scalar(
        "UPDATE rollouts SET state = 'stopped', reason = $2 WHERE id = $1 AND state = 'running' RETURNING version",
    )
    .bind(id)
    .bind(reason)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(version) = version else { return Ok(false) };
    // Kiosks that were handed the offer and are not running the version may hold it (staged,
    // or still coming down): they drop it unless its install has begun.
    let holding: Vec<String> = sqlx::query_scalar(
        "SELECT rk.kiosk_id FROM rollout_kiosks rk JOIN commands c ON c.id = rk.command_id \
         WHERE rk.rollout_id = $1 AND rk.state <> 'installed' AND c.delivered_at IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let cancel = CommandAction::CancelUpdate { version };
    for kiosk in holding {
        commands::enqueue_in(conn, &kiosk, operator, &cancel).await?;
    }
    // No offer of this roll-out is handed over again, delivered before or not.
    sqlx::query(
        "UPDATE commands SET acked_at = now(), done = false, detail = 'withdrawn: the roll-out was stopped' \
         WHERE acked_at IS NULL AND id IN (SELECT command_id FROM rollout_kiosks WHERE rollout_id = $1)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Every roll-out, newest first.
pub async fn list(pool: &PgPool) -> Result<Vec<Rollout>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, package, version, cohorts, stage, max_failure_pct, state, reason, created_by, created_at \
         FROM rollouts ORDER BY id DESC",
    )
    .fetch_all(pool)
    .await
}

/// How far roll-out `id` has gone.
pub async fn progress(pool: &PgPool, id: i64) -> Result<Progress, sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) AS offered, count(*) FILTER (WHERE state = 'installed') AS installed, \
         count(*) FILTER (WHERE state = 'failed') AS failed FROM rollout_kiosks WHERE rollout_id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
}

/// One turn of the running roll-out, if there is one.
pub async fn advance_running(pool: &PgPool, timing: Timing) -> Result<(), sqlx::Error> {
    let running: Option<i64> =
        sqlx::query_scalar("SELECT id FROM rollouts WHERE state = 'running'").fetch_optional(pool).await?;
    match running {
        Some(id) => advance(pool, id, timing).await,
        None => Ok(()),
    }
}

/// Judges the stage, moves on or stops, and offers the version to the kiosks the stage still
/// lacks. The roll-out's row is locked throughout, so two hub instances never offer twice.
pub async fn advance(pool: &PgPool, id: i64, timing: Timing) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let rollout: Option<Rollout> = sqlx::query_as(
        "SELECT id, package, version, cohorts, stage, max_failure_pct, state, reason, created_by, created_at \
         FROM rollouts WHERE id = $1 AND state = 'running' FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(mut rollout) = rollout else { return Ok(()) };
    let waited = match timing.offer_timeout.as_secs() {
        s if s >= 3600 => format!("{} h", s / 3600),
        s => format!("{} min", s.div_ceil(60)),
    };
    sqlx::query(
        "UPDATE rollout_kiosks SET state = 'failed', detail = $3, updated_at = now() \
         WHERE rollout_id = $1 AND state = 'offered' AND updated_at < now() - make_interval(secs => $2)",
    )
    .bind(id)
    .bind(timing.offer_timeout.as_secs_f64())
    .bind(format!("no outcome within {waited} (silent, or never idle)"))
    .execute(&mut *tx)
    .await?;
    let (stage_size, failed, waiting): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE state = 'failed'), count(*) FILTER (WHERE state = 'offered') \
         FROM rollout_kiosks WHERE rollout_id = $1 AND stage = $2",
    )
    .bind(id)
    .bind(rollout.stage)
    .fetch_one(&mut *tx)
    .await?;
    if failed * 100 > i64::from(rollout.max_failure_pct) * stage_size {
        let reason = format!(
            "stopped by itself in stage {}: {failed} of {stage_size} kiosks offered {} in this stage refused it \
             or rolled it back (at most {}% allowed)",
            rollout.stage + 1,
            rollout.version,
            rollout.max_failure_pct
        );
        tracing::warn!(rollout = id, %reason, "roll-out stopped");
        stop_in(&mut tx, id, &reason, "hub").await?;
        audit::record(
            &mut tx,
            "hub",
            "rollout.stop",
            &id.to_string(),
            serde_json::json!({ "reason": reason }),
        )
        .await?;
        return tx.commit().await;
    }
    let mut offered: i64 = sqlx::query_scalar("SELECT count(*) FROM rollout_kiosks WHERE rollout_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    loop {
        let eligible = eligible(&mut tx, &rollout, timing.silent_after).await?;
        let target = match rollout.cohorts[rollout.stage as usize] {
            0 => offered + eligible.len() as i64,
            n => i64::from(n),
        };
        let wanted = (target - offered).max(0) as usize;
        let chosen = &eligible[..wanted.min(eligible.len())];
        offer(&mut tx, &rollout, chosen).await?;
        offered += chosen.len() as i64;
        // The stage is over when it has all its kiosks (or no more are there to offer) and
        // every one of them has an outcome.
        let stage_full = offered >= target || chosen.len() == eligible.len();
        if !(stage_full && waiting == 0 && chosen.is_empty()) {
            break;
        }
        if rollout.stage as usize + 1 == rollout.cohorts.len() {
            sqlx::query("UPDATE rollouts SET state = 'done' WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit::record(
                &mut tx,
                "hub",
                "rollout.done",
                &id.to_string(),
                serde_json::json!({ "offered": offered }),
            )
            .await?;
            break;
        }
        rollout.stage += 1;
        sqlx::query("UPDATE rollouts SET stage = $2 WHERE id = $1")
            .bind(id)
            .bind(rollout.stage)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Kiosks that may be offered the version: paired, not revoked, heard from lately, not offered
/// it yet, not running it already; in an order fixed per roll-out but spread across halls.
async fn eligible(
    conn: &mut PgConnection,
    rollout: &Rollout,
    silent_after: std::time::Duration,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT k.id FROM kiosks k WHERE k.revoked_at IS NULL \
         AND k.last_seen_at > now() - make_interval(secs => $3) \
         AND EXISTS (SELECT 1 FROM kiosk_certificates c WHERE c.kiosk_id = k.id AND c.revoked_at IS NULL) \
         AND NOT EXISTS (SELECT 1 FROM rollout_kiosks r WHERE r.rollout_id = $1 AND r.kiosk_id = k.id) \
         AND COALESCE(k.last_heartbeat -> 'update' ->> 'installed', '') <> $2 \
         ORDER BY md5(k.id || $1::text)",
    )
    .bind(rollout.id)
    .bind(&rollout.version)
    .bind(silent_after.as_secs_f64())
    .fetch_all(conn)
    .await
}

async fn offer(conn: &mut PgConnection, rollout: &Rollout, kiosks: &[String]) -> Result<(), sqlx::Error> {
    if kiosks.is_empty() {
        return Ok(());
    }
    let sha256: String =
        sqlx::query_scalar("SELECT sha256 FROM packages WHERE package = $1 AND version = $2")
            .bind(&rollout.package)
            .bind(&rollout.version)
            .fetch_one(&mut *conn)
            .await?;
    let action = CommandAction::InstallUpdate {
        package: rollout.package.clone(),
        version: rollout.version.clone(),
        sha256,
    };
    for kiosk in kiosks {
        let command = commands::enqueue_in(conn, kiosk, &rollout.created_by, &action).await?;
        sqlx::query(
            "INSERT INTO rollout_kiosks (rollout_id, kiosk_id, stage, command_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(rollout.id)
        .bind(kiosk)
        .bind(rollout.stage)
        .bind(command)
        .execute(&mut *conn)
        .await?;
    }
    tracing::info!(rollout = rollout.id, stage = rollout.stage + 1, kiosks = kiosks.len(), "update offered");
    Ok(())
}

/// What a heartbeat says of the running roll-out: the kiosk runs the version and is healthy, or
/// its updater rolled it back or refused it.
pub async fn observe(
    conn: &mut PgConnection,
    kiosk_id: &str,
    report: &UpdateReport,
) -> Result<(), sqlx::Error> {
    let offered: Option<(i64, String)> = sqlx::query_as(
        "SELECT r.id, r.version FROM rollout_kiosks rk JOIN rollouts r ON r.id = rk.rollout_id \
         WHERE rk.kiosk_id = $1 AND rk.state = 'offered' AND r.state = 'running'",
    )
    .bind(kiosk_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((rollout, version)) = offered else { return Ok(()) };
    let about_it = report.version.as_deref() == Some(version.as_str());
    let outcome = if report.installed.as_deref() == Some(version.as_str()) && report.phase == "healthy" {
        "installed"
    } else if about_it && matches!(report.phase.as_str(), "rolled_back" | "refused") {
        "failed"
    } else {
        return Ok(());
    };
    set_outcome(conn, rollout, kiosk_id, outcome, &report.detail).await
}

/// A kiosk acknowledged an install command as not done: it refused to stage the version.
pub async fn command_refused(
    conn: &mut PgConnection,
    command_id: i64,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE rollout_kiosks SET state = 'failed', detail = $2, updated_at = now() \
         WHERE command_id = $1 AND state = 'offered'",
    )
    .bind(command_id)
    .bind(detail)
    .execute(conn)
    .await
    .map(drop)
}

async fn set_outcome(
    conn: &mut PgConnection,
    rollout: i64,
    kiosk_id: &str,
    outcome: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE rollout_kiosks SET state = $3, detail = $4, updated_at = now() \
         WHERE rollout_id = $1 AND kiosk_id = $2 AND state = 'offered'",
    )
    .bind(rollout)
    .bind(kiosk_id)
    .bind(outcome)
    .bind(detail)
    .execute(conn)
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::cohorts_valid;

    #[test]
    fn cohorts_grow_and_only_the_last_may_be_everyone() {
        for good in [&[0][..], &[1], &[1, 0], &[2, 20, 0], &[5, 50]] {
            assert!(cohorts_valid(good), "{good:?}");
        }
        for bad in [&[][..], &[0, 5], &[5, 5], &[10, 2], &[-1, 0], &[1, 0, 0]] {
            assert!(!cohorts_valid(bad), "{bad:?}");
        }
    }
}
