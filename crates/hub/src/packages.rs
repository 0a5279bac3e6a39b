//! Software packages the operator signed, kept for the kiosks to download. The hub checks the
//! signature when a package is added (a package nobody signed never reaches a roll-out) and
//! that the .deb is what it is signed as; the kiosks check both again — the hub is not trusted
//! with what runs on a kiosk.

use fleet::package::{PackageSignature, VerifyingKey};
use sqlx::PgPool;

use crate::audit;

/// A package is a program and its files; a kiosk's is tens of megabytes.
pub const MAX_PACKAGE_BYTES: usize = fleet::package::MAX_PACKAGE_BYTES as usize;

#[derive(Debug, thiserror::Error)]
pub enum PackageRefused {
    #[error("{0}")]
    Signature(#[from] fleet::package::PackageError),
    #[error("the package is larger than {MAX_PACKAGE_BYTES} bytes")]
    TooLarge,
    #[error("{package} {version} is here already, with other bytes: a version is never replaced")]
    Replaced { package: String, version: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A package as the console lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredPackage {
    pub package: String,
    pub version: String,
    pub sha256: String,
    pub size: i32,
    pub uploaded_by: String,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
}

/// Adds a signed package. Adding the very same one again changes nothing; other bytes under a
/// version already here are refused (a kiosk that has it must never meet another).
pub async fn add(
    pool: &PgPool,
    key: &VerifyingKey,
    signature: &PackageSignature,
    bytes: &[u8],
    operator: &str,
) -> Result<bool, PackageRefused> {
    if bytes.len() > MAX_PACKAGE_BYTES {
        return Err(PackageRefused::TooLarge);
    }
    signature.verify(key, bytes)?;
    let mut tx = pool.begin().await?;
    let existing: Option<String> =
        sqlx::query_scalar("SELECT sha256 FROM packages WHERE package = $1 AND version = $2 FOR UPDATE")
            .bind(&signature.package)
            .bind(&signature.version)
            .fetch_optional(&mut *tx)
            .await?;
    match existing {
        Some(sha256) if sha256 == signature.sha256 => return Ok(false),
        Some(_) => {
            return Err(PackageRefused::Replaced {
                package: signature.package.clone(),
                version: signature.version.clone(),
            })
        }
        None => {}
    }
    sqlx::query(
        "INSERT INTO packages (package, version, sha256, signature, body, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&signature.package)
    .bind(&signature.version)
    .bind(&signature.sha256)
    .bind(serde_json::to_value(signature).expect("a signature serialises"))
    .bind(bytes)
    .bind(operator)
    .execute(&mut *tx)
    .await?;
    let target = format!("{} {}", signature.package, signature.version);
    let detail = serde_json::json!({ "sha256": signature.sha256, "bytes": bytes.len() });
    audit::record(&mut tx, operator, "package.add", &target, detail).await?;
    tx.commit().await?;
    Ok(true)
}

/// A package's signature file, if the hub holds the package.
pub async fn signature(
    pool: &PgPool,
    package: &str,
    version: &str,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar("SELECT signature FROM packages WHERE package = $1 AND version = $2")
        .bind(package)
        .bind(version)
        .fetch_optional(pool)
        .await
}

/// A package's bytes, if the hub holds it.
pub async fn body(pool: &PgPool, package: &str, version: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT body FROM packages WHERE package = $1 AND version = $2")
        .bind(package)
        .bind(version)
        .fetch_optional(pool)
        .await
}

/// Every package, newest first.
pub async fn list(pool: &PgPool) -> Result<Vec<StoredPackage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT package, version, sha256, octet_length(body) AS size, uploaded_by, uploaded_at \
         FROM packages ORDER BY uploaded_at DESC",
    )
    .fetch_all(pool)
    .await
}
