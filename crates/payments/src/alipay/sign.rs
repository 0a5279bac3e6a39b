//! Alipay RSA2 (payments.md §2.4): SHA256withRSA, PKCS#1 v1.5, base64. Requests are signed over
//! the sorted `k=v&…` of every non-empty parameter except `sign`; replies over the raw text of
//! the `<method>_response` object (see `envelope`).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use std::collections::BTreeMap;

/// `k=v&k=v…` over the non-empty parameters except `sign`, in key order.
pub fn string_to_sign(params: &BTreeMap<String, String>) -> String {
    crate::signed_text::sorted_pairs(params, "sign")
}

/// A private key from PEM (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`) or from the bare
/// base64 DER that Alipay's key tool hands out.
pub fn parse_private_key(text: &str) -> Result<RsaPrivateKey, String> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        RsaPrivateKey::from_pkcs8_pem(text)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(text))
            .map_err(|e| format!("not a PKCS#8 or PKCS#1 RSA private key: {e}"))
    } else {
        let der = bare_der(text)?;
        RsaPrivateKey::from_pkcs8_der(&der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
            .map_err(|e| format!("not a PKCS#8 or PKCS#1 RSA private key: {e}"))
    }
}

/// A public key from PEM (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`) or bare base64 DER.
pub fn parse_public_key(text: &str) -> Result<RsaPublicKey, String> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        RsaPublicKey::from_public_key_pem(text)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(text))
            .map_err(|e| format!("not an SPKI or PKCS#1 RSA public key: {e}"))
    } else {
        let der = bare_der(text)?;
        RsaPublicKey::from_public_key_der(&der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
            .map_err(|e| format!("not an SPKI or PKCS#1 RSA public key: {e}"))
    }
}

fn bare_der(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    BASE64.decode(compact).map_err(|_| "neither PEM nor base64 DER".to_string())
}

/// Signs with the app's private key.
#[derive(Clone, Debug)]
pub struct RsaSigner(SigningKey<Sha256>);

impl RsaSigner {
    pub fn new(key: RsaPrivateKey) -> RsaSigner {
        RsaSigner(SigningKey::new(key))
    }

    /// base64 SHA256withRSA of `content`; `None` only if the RSA operation itself fails.
    pub fn sign(&self, content: &[u8]) -> Option<String> {
        self.0.try_sign(content).ok().map(|signature| BASE64.encode(signature.to_bytes()))
    }
}

/// Verifies with the other side's public key.
#[derive(Clone, Debug)]
pub struct RsaVerifier(VerifyingKey<Sha256>);

impl RsaVerifier {
    pub fn new(key: RsaPublicKey) -> RsaVerifier {
        RsaVerifier(VerifyingKey::new(key))
    }

    /// Whether `signature` (base64) is a valid RSA2 signature of `content`.
    pub fn verify(&self, content: &[u8], signature: &str) -> bool {
        let Ok(bytes) = BASE64.decode(signature.trim()) else {
            return false;
        };
        let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
            return false;
        };
        self.0.verify(content, &signature).is_ok()
    }
}
