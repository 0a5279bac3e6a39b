//! Kiosks and their identities: created by an operator, paired once with a one-time code,
//! known from then on by their client certificate, revocable.

use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::audit;

/// Letters and digits that cannot be mistaken for each other when typed from a screen (no 0/O,
/// 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// A pairing code is good for a day.
const CODE_LIFETIME_HOURS: i64 = 24;

/// Why an operator's request about a kiosk was refused.
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("there is no kiosk {0}")]
    Unknown(String),
    #[error("kiosk {0} is revoked; create it again under a new id")]
    Revoked(String),
    #[error("a kiosk id is 1–32 letters, digits, '-' or '_' (got {0:?})")]
    BadId(String),
    #[error("a hall is named in 1–64 characters (got {0} characters)")]
    BadHall(usize),
    #[error("kiosk {id} stands in {held}; a new code for it keeps its hall (not {asked})")]
    OtherHall { id: String, held: String, asked: String },
    #[error("the pairing code is unknown, used or expired")]
    BadCode,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A new pairing code: eight characters, shown as `XXXX-XXXX`.
pub fn new_code() -> String {
    let mut rng = rand::thread_rng();
    let chars: String =
        (0..8).map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char).collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// The code as stored: SHA-256 of its canonical form (upper case, no dash or spaces), so that
/// `k7q2 9mpx` typed at a kiosk is the same code.
pub fn code_hash(code: &str) -> String {
    let canonical: String =
        code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Creates kiosk `id` in `hall` (or, for an existing kiosk, issues a new code: a machine whose
/// disk or board was replaced pairs again under the same id, its journal restored; one with a
/// new journal is refused at its first batch as `journal_replaced` and needs a new id) and
/// returns its one-time pairing code.
pub async fn issue_pairing_code(
    pool: &PgPool,
    id: &str,
    hall: &str,
    operator: &str,
) -> Result<String, KioskError> {
    if !valid_id(id) {
        return Err(KioskError::BadId(id.to_owned()));
    }
    let hall = hall.trim();
    if !(1..=64).contains(&hall.chars().count()) {
        return Err(KioskError::BadHall(hall.chars().count()));
    }
    let code = new_code();
    let mut tx = pool.begin().await?;
    let known: Option<(Option<chrono::DateTime<chrono::Utc>>, String)> =
        sqlx::query_as("SELECT revoked_at, hall FROM kiosks WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    match known {
        Some((Some(_), _)) => return Err(KioskError::Revoked(id.to_owned())),
        // A typo in an existing id must not quietly move a kiosk to another hall (and out of
        // its supervisor's reach).
        Some((None, held)) if held != hall => {
            return Err(KioskError::OtherHall { id: id.to_owned(), held, asked: hall.to_owned() })
        }
        _ => {}
    }
    sqlx::query(
        "INSERT INTO kiosks (id, hall, pairing_code_hash, pairing_expires_at) \
         VALUES ($1, $2, $3, now() + make_interval(hours => $4)) \
         ON CONFLICT (id) DO UPDATE SET pairing_code_hash = EXCLUDED.pairing_code_hash, \
             pairing_expires_at = EXCLUDED.pairing_expires_at, hall = EXCLUDED.hall",
    )
    .bind(id)
    .bind(hall)
    .bind(code_hash(&code))
    .bind(CODE_LIFETIME_HOURS as i32)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx, operator, "kiosk.pairing_code", id, serde_json::json!({ "hall": hall })).await?;
    tx.commit().await?;
    Ok(code)
}

/// Redeems a pairing code: the code is used up, every earlier certificate of the kiosk is
/// revoked, and `sign` makes the new one (given the kiosk id; returns PEM and fingerprint).
/// Returns the kiosk id and the certificate's PEM.
pub async fn redeem<F>(pool: &PgPool, code: &str, sign: F) -> Result<(String, String), KioskError>
where
    F: FnOnce(&str) -> Result<(String, String), crate::tls::TlsError>,
{
    let mut tx = pool.begin().await?;
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE kiosks SET pairing_code_hash = NULL, pairing_expires_at = NULL, paired_at = now(), last_seen_at = now() \
         WHERE pairing_code_hash = $1 AND pairing_expires_at > now() AND revoked_at IS NULL RETURNING id",
    )
    .bind(code_hash(code))
    .fetch_optional(&mut *tx)
    .await?;
    let id = id.ok_or(KioskError::BadCode)?;
    let (pem, fingerprint) = sign(&id).map_err(|_| KioskError::BadCode)?;
    sqlx::query(
        "UPDATE kiosk_certificates SET revoked_at = now() WHERE kiosk_id = $1 AND revoked_at IS NULL",
    )
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO kiosk_certificates (fingerprint, kiosk_id) VALUES ($1, $2)")
        .bind(&fingerprint)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        &format!("kiosk:{id}"),
        "kiosk.paired",
        &id,
        serde_json::json!({ "certificate": fingerprint }),
    )
    .await?;
    tx.commit().await?;
    Ok((id, pem))
}

/// The kiosk a client certificate belongs to, if it is a live one.
pub async fn authenticate(pool: &PgPool, fingerprint: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.kiosk_id FROM kiosk_certificates c JOIN kiosks k ON k.id = c.kiosk_id \
         WHERE c.fingerprint = $1 AND c.revoked_at IS NULL AND k.revoked_at IS NULL",
    )
    .bind(fingerprint)
    .fetch_optional(pool)
    .await
}

/// Revokes kiosk `id` and its certificates: its next request is refused.
pub async fn revoke(pool: &PgPool, id: &str, operator: &str) -> Result<(), KioskError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE kiosks SET revoked_at = now(), pairing_code_hash = NULL WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 0 {
        return Err(KioskError::Unknown(id.to_owned()));
    }
    sqlx::query(
        "UPDATE kiosk_certificates SET revoked_at = now() WHERE kiosk_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx, operator, "kiosk.revoke", id, serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unambiguous_and_typed_forms_are_the_same_code() {
        for _ in 0..200 {
            let code = new_code();
            assert_eq!(code.len(), 9);
            assert!(code.chars().filter(|c| *c != '-').all(|c| CODE_ALPHABET.contains(&(c as u8))), "{code}");
        }
        assert_eq!(code_hash("K7Q2-9MPX"), code_hash(" k7q2 9mpx "));
        assert_ne!(code_hash("K7Q2-9MPX"), code_hash("K7Q2-9MPY"));
    }

    #[test]
    fn a_kiosk_id_is_short_and_plain() {
        assert!(valid_id("SH-XH-001"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id(&"x".repeat(33)));
    }
}
