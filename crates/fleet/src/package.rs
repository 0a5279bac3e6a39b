//! Signed update packages: what the operator signs (offline, with an Ed25519 key the hub never
//! holds), what the hub checks when a package is uploaded, and what the kiosk and its updater
//! check again before anything is installed — so neither a hub broken into nor a tampered
//! download can put software on a kiosk.
//!
//! The signature covers the package's name, version and architecture and the SHA-256 of its
//! bytes, under a fixed prefix: a package signed as one version (or for one machine) cannot be
//! passed off as another, and a signature made for anything else cannot be replayed as a
//! package's.

use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signer, Verifier};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The largest package anyone takes (a kiosk's is tens of megabytes).
pub const MAX_PACKAGE_BYTES: u64 = 512 * 1024 * 1024;

/// The signature file beside a package (`<package>.deb.sig`), JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageSignature {
    /// The Debian package's name (`yizhan`).
    pub package: String,
    /// Its Debian version (`1.2.0-1`).
    pub version: String,
    /// Its Debian architecture (`amd64`, `arm64`, `all`).
    pub architecture: String,
    /// SHA-256 of the .deb's bytes, hex.
    pub sha256: String,
    /// Ed25519 over [`signed_message`], base64.
    pub signature: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PackageError {
    #[error("the package's SHA-256 is {actual}, its signature file says {claimed}: the download is damaged or tampered with")]
    Digest { claimed: String, actual: String },
    #[error("the signature does not verify with the operator's key: the package was not signed by the operator, or was altered")]
    Signature,
    #[error("the signature is not base64 of 64 bytes")]
    Malformed,
    #[error("key {0}: {1}")]
    Key(String, String),
    #[error("the signature file is not valid JSON: {0}")]
    File(String),
}

/// A package's signature file: the package's path with `.sig` after it.
pub fn signature_path(package: &Path) -> std::path::PathBuf {
    let mut path = package.as_os_str().to_owned();
    path.push(".sig");
    path.into()
}

/// What is signed: a fixed prefix, then the name, version, architecture and digest, one per line.
pub fn signed_message(package: &str, version: &str, architecture: &str, sha256: &str) -> Vec<u8> {
    format!("yizhan-package-v1\n{package}\n{version}\n{architecture}\n{sha256}\n").into_bytes()
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl PackageSignature {
    /// Signs a package's bytes as `package` at `version` for `architecture`.
    pub fn sign(
        key: &SigningKey,
        package: &str,
        version: &str,
        architecture: &str,
        bytes: &[u8],
    ) -> PackageSignature {
        let sha256 = sha256_hex(bytes);
        let signature = key.sign(&signed_message(package, version, architecture, &sha256));
        PackageSignature {
            package: package.to_string(),
            version: version.to_string(),
            architecture: architecture.to_string(),
            sha256,
            signature: base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
        }
    }

    /// The signature alone: this file was signed by the holder of `key`.
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<(), PackageError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(self.signature.trim())
            .map_err(|_| PackageError::Malformed)?;
        let raw: [u8; 64] = raw.try_into().map_err(|_| PackageError::Malformed)?;
        let signature = ed25519_dalek::Signature::from_bytes(&raw);
        let message = signed_message(&self.package, &self.version, &self.architecture, &self.sha256);
        key.verify(&message, &signature).map_err(|_| PackageError::Signature)
    }

    /// `bytes` are the package this file signs, and the operator signed it.
    pub fn verify(&self, key: &VerifyingKey, bytes: &[u8]) -> Result<(), PackageError> {
        let actual = sha256_hex(bytes);
        if actual != self.sha256 {
            return Err(PackageError::Digest { claimed: self.sha256.clone(), actual });
        }
        self.verify_signature(key)
    }

    pub fn parse(text: &str) -> Result<PackageSignature, PackageError> {
        serde_json::from_str(text).map_err(|e| PackageError::File(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a signature serialises")
    }
}

/// The operator's public key: an SPKI PEM (`openssl pkey -pubout`).
pub fn load_public_key(path: &Path) -> Result<VerifyingKey, PackageError> {
    let bad = |why: String| PackageError::Key(path.display().to_string(), why);
    let pem = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    VerifyingKey::from_public_key_pem(&pem).map_err(|_| bad("not an Ed25519 public key PEM".into()))
}

/// The operator's private key: a PKCS#8 PEM (`openssl genpkey -algorithm ed25519`).
pub fn load_private_key(path: &Path) -> Result<SigningKey, PackageError> {
    let bad = |why: String| PackageError::Key(path.display().to_string(), why);
    let pem = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|_| bad("not an Ed25519 private key PEM".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_signed_package_verifies_and_any_change_is_refused() {
        let bytes = b"!<arch>\ndebian-binary   ...".to_vec();
        let signed = PackageSignature::sign(&key(7), "yizhan", "1.2.0", "amd64", &bytes);
        let public = key(7).verifying_key();
        assert_eq!(signed.verify(&public, &bytes), Ok(()));
        assert_eq!(PackageSignature::parse(&signed.to_json()).unwrap(), signed);

        let mut tampered = bytes.clone();
        tampered[3] ^= 1;
        assert!(matches!(signed.verify(&public, &tampered), Err(PackageError::Digest { .. })));
        // Relabelled as another version, or signed by someone else: refused.
        let relabelled = PackageSignature { version: "9.9.9".into(), ..signed.clone() };
        assert_eq!(relabelled.verify(&public, &bytes), Err(PackageError::Signature));
        let other_machine = PackageSignature { architecture: "arm64".into(), ..signed.clone() };
        assert_eq!(other_machine.verify(&public, &bytes), Err(PackageError::Signature));
        assert_eq!(signed.verify(&key(8).verifying_key(), &bytes), Err(PackageError::Signature));
        let garbled = PackageSignature { signature: "not base64!".into(), ..signed.clone() };
        assert_eq!(garbled.verify(&public, &bytes), Err(PackageError::Malformed));
        assert!(PackageSignature::parse("{").is_err());
    }

    #[test]
    fn the_signed_message_is_the_documented_one() {
        assert_eq!(
            signed_message("yizhan", "1.0", "amd64", "ab"),
            b"yizhan-package-v1\nyizhan\n1.0\namd64\nab\n".to_vec()
        );
    }
}
