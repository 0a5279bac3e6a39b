//! Operator accounts and sessions: argon2id passwords, four roles, a session cookie whose token
//! the database keeps only as a hash, and a CSRF token per session.

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::audit;

/// What an operator may do. Each role can do what the ones before it can, except that finance
/// and hall supervisors do different work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Takes kiosks of their halls out of and back into service, asks for diagnostics,
    /// acknowledges alerts.
    HallSupervisor,
    /// Settles suspense payments and works the reconciliation desk; acknowledges alerts.
    Finance,
    /// Everything, and kiosks, operators and the audit log.
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "hall_supervisor" => Some(Role::HallSupervisor),
            "finance" => Some(Role::Finance),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::HallSupervisor => "hall_supervisor",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }

    /// Settles payments in suspense (finance's decision from the statements).
    pub fn settles(self) -> bool {
        matches!(self, Role::Finance | Role::Admin)
    }

    /// Creates and revokes kiosks, reads the audit log.
    pub fn administers(self) -> bool {
        self == Role::Admin
    }
}

/// A signed-in operator.
#[derive(Clone, Debug)]
pub struct Operator {
    pub name: String,
    pub role: Role,
    /// The hall a hall supervisor answers for (none for the other roles).
    pub hall: Option<String>,
    pub csrf: String,
}

impl Operator {
    /// Takes a kiosk standing in `hall` out of or back into service and asks it for diagnostics:
    /// an admin any, a hall supervisor their own hall's.
    pub fn commands_kiosks_in(&self, hall: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::HallSupervisor => self.hall.as_deref() == Some(hall),
            Role::Viewer | Role::Finance => false,
        }
    }

    /// Acknowledges an alert of a kiosk in `hall`: finance and admins any, a hall supervisor
    /// their own hall's.
    pub fn acknowledges_in(&self, hall: &str) -> bool {
        match self.role {
            Role::Admin | Role::Finance => true,
            Role::HallSupervisor => self.hall.as_deref() == Some(hall),
            Role::Viewer => false,
        }
    }
}

/// How long a session lasts without signing in again: one working shift.
const SESSION_HOURS: i32 = 12;

/// What was wrong with an account to be set.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a hall supervisor needs the hall they answer for")]
    HallMissing,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Creates (or resets the password, role and hall of) operator `name`. `hall` is kept for a hall
/// supervisor, who must have one, and ignored for the other roles.
pub async fn upsert(
    pool: &PgPool,
    name: &str,
    password: &str,
    role: Role,
    hall: Option<&str>,
    by: &str,
) -> Result<(), AccountError> {
    let hall = match (role, hall.map(str::trim).filter(|h| !h.is_empty())) {
        (Role::HallSupervisor, None) => return Err(AccountError::HallMissing),
        (Role::HallSupervisor, hall) => hall,
        _ => None,
    };
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO operators (name, password_hash, role, hall) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, \
             hall = EXCLUDED.hall, disabled_at = NULL",
    )
    .bind(name)
    .bind(hash)
    .bind(role.as_str())
    .bind(hall)
    .execute(&mut *tx)
    .await?;
    // A new password ends the sessions the old one opened.
    sqlx::query("DELETE FROM operator_sessions WHERE operator = $1").bind(name).execute(&mut *tx).await?;
    let detail = serde_json::json!({ "role": role.as_str(), "hall": hall });
    audit::record(&mut tx, by, "operator.set", name, detail).await?;
    Ok(tx.commit().await?)
}

/// Failed sign-ins of one name within [`LOCKOUT_MINUTES`] after which it is refused.
const MAX_FAILURES: i64 = 5;
const LOCKOUT_MINUTES: i32 = 15;

/// Sign-in attempts on one name take turns in this process (a name always maps to the same
/// lock), so a burst of guesses in parallel cannot all read the failure count before any is
/// recorded. Waiting holds no database connection. With several hub instances, one attempt
/// per instance at a time.
static TURNS: [tokio::sync::Mutex<()>; 64] = [const { tokio::sync::Mutex::const_new(()) }; 64];

fn turn_for(name: &str) -> &'static tokio::sync::Mutex<()> {
    let digest = Sha256::digest(name.as_bytes());
    &TURNS[usize::from(digest[0]) % TURNS.len()]
}

/// Checks a sign-in; on success opens a session and returns its cookie token. Every attempt is
/// in the audit log (never the password). After [`MAX_FAILURES`] failures of a name within a
/// quarter of an hour, that name is refused without checking until the quarter has passed.
/// Attempts on one name take turns ([`turn_for`]); no database connection is held while one
/// waits or while the password is hashed.
pub async fn sign_in(pool: &PgPool, name: &str, password: &str) -> Result<Option<String>, sqlx::Error> {
    let shown_name: String = name.chars().take(64).collect();
    let _turn = turn_for(&shown_name).lock().await;
    let recent_failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'console.sign_in_failed' AND actor = $1 \
         AND at > now() - make_interval(mins => $2)",
    )
    .bind(&shown_name)
    .bind(LOCKOUT_MINUTES)
    .fetch_one(pool)
    .await?;
    let row: Option<(String,)> =
        sqlx::query_as("SELECT password_hash FROM operators WHERE name = $1 AND disabled_at IS NULL")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    // Without an account the hash still runs, so a wrong name takes as long as a wrong password.
    let known = row.is_some();
    let stored = row.map(|r| r.0).unwrap_or_else(|| DUMMY_HASH.to_owned());
    let password = password.to_owned();
    // argon2 takes tens of milliseconds of CPU: off the threads that serve the kiosks.
    let matches = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    let good = known && matches && recent_failures < MAX_FAILURES;
    let mut tx = pool.begin().await?;
    if !good {
        audit::record(&mut tx, &shown_name, "console.sign_in_failed", "", serde_json::json!({})).await?;
        tx.commit().await?;
        return Ok(None);
    }
    let token = random_token();
    sqlx::query("DELETE FROM operator_sessions WHERE expires_at < now()").execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO operator_sessions (token_hash, operator, csrf, expires_at) \
         VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
    )
    .bind(token_hash(&token))
    .bind(name)
    .bind(random_token())
    .bind(SESSION_HOURS)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx, name, "console.sign_in", "", serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(Some(token))
}

/// The operator of a live session.
pub async fn session(pool: &PgPool, token: &str) -> Result<Option<Operator>, sqlx::Error> {
    let row: Option<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT o.name, o.role, o.hall, s.csrf FROM operator_sessions s JOIN operators o ON o.name = s.operator \
         WHERE s.token_hash = $1 AND s.expires_at > now() AND o.disabled_at IS NULL",
    )
    .bind(token_hash(token))
    .fetch_optional(pool)
    .await?;
    Ok(row
        .and_then(|(name, role, hall, csrf)| Some(Operator { name, role: Role::parse(&role)?, hall, csrf })))
}

/// Disables operator `name` (someone who left): their sessions end and they cannot sign in;
/// the name stays in the audit log. `operator set` enables it again. Returns false when there
/// is no such enabled operator.
pub async fn disable(pool: &PgPool, name: &str, by: &str) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let disabled =
        sqlx::query("UPDATE operators SET disabled_at = now() WHERE name = $1 AND disabled_at IS NULL")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
    if disabled {
        sqlx::query("DELETE FROM operator_sessions WHERE operator = $1").bind(name).execute(&mut *tx).await?;
        audit::record(&mut tx, by, "operator.disable", name, serde_json::json!({})).await?;
    }
    tx.commit().await?;
    Ok(disabled)
}

/// Ends a session.
pub async fn sign_out(pool: &PgPool, token: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM operator_sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(&mut *tx)
        .await?;
    audit::record(&mut tx, name, "console.sign_out", "", serde_json::json!({})).await?;
    tx.commit().await
}

/// Compares a form's CSRF token with the session's, in constant time.
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A valid argon2id hash of a random password nobody knows, verified against when the name is
/// unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2T7bXtqxrLOc8sXEwUV0dZ0TN7FIL3hCyJdgbuH4ruk";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_and_only_admins_administer() {
        for role in [Role::Viewer, Role::HallSupervisor, Role::Finance, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Finance.settles() && !Role::HallSupervisor.settles() && !Role::Viewer.settles());
        assert!(Role::Admin.administers() && !Role::HallSupervisor.administers());
    }

    #[test]
    fn a_hall_supervisor_answers_for_their_own_hall_only() {
        let operator = |role, hall: Option<&str>| Operator {
            name: "x".into(),
            role,
            hall: hall.map(str::to_owned),
            csrf: String::new(),
        };
        let (xuhui, pudong) = ("徐汇区服务大厅", "浦东新区服务大厅");
        let supervisor = operator(Role::HallSupervisor, Some(xuhui));
        assert!(supervisor.commands_kiosks_in(xuhui) && supervisor.acknowledges_in(xuhui));
        assert!(!supervisor.commands_kiosks_in(pudong) && !supervisor.acknowledges_in(pudong));
        let without_hall = operator(Role::HallSupervisor, None);
        assert!(!without_hall.commands_kiosks_in(xuhui) && !without_hall.acknowledges_in(xuhui));
        let admin = operator(Role::Admin, None);
        assert!(admin.commands_kiosks_in(pudong) && admin.acknowledges_in(pudong));
        let finance = operator(Role::Finance, None);
        assert!(!finance.commands_kiosks_in(xuhui) && finance.acknowledges_in(pudong));
        let viewer = operator(Role::Viewer, None);
        assert!(
            !viewer.commands_kiosks_in(xuhui)
                && !viewer.acknowledges_in(xuhui)
                && !viewer.acknowledges_in(pudong)
        );
    }

    #[tokio::test]
    async fn attempts_on_one_name_take_turns() {
        assert!(std::ptr::eq(turn_for("wang.hall"), turn_for("wang.hall")));
        let first = turn_for("wang.hall").lock().await;
        assert!(turn_for("wang.hall").try_lock().is_err(), "a second attempt meanwhile waits");
        drop(first);
        assert!(turn_for("wang.hall").try_lock().is_ok(), "its turn once the first is checked");
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        assert!(csrf_matches("abc123", "abc123"));
        assert!(!csrf_matches("abc123", "abc12"));
        assert!(!csrf_matches("abc123", "abc124"));
        assert!(!csrf_matches("abc123", ""));
    }

    #[test]
    fn the_dummy_hash_is_a_hash_that_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
