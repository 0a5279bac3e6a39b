//! The receipt as proof: a compact claim signed with the kiosk's Ed25519 key, carried in the QR.
//!
//! Elderly customers feel they have not paid without a stamped paper (`brief/FIELD-NOTES.md`);
//! the QR is our stamp, and anyone holding the kiosk's public key can check it, offline.
//!
//! ## Payload, version 1
//!
//! Text form: `YZR1.` followed by base64url (no padding) of these bytes:
//!
//! | Offset | Bytes | Field |
//! |---|---|---|
//! | 0 | 1 | version = `0x01` |
//! | 1 | 1 | outcome ([`ClaimOutcome`] code) |
//! | 2 | 8 | amount in fen, `i64` big-endian (what was actually paid) |
//! | 10 | 8 | time, Unix seconds `i64` big-endian |
//! | 18 | 1 + n | order reference: length byte, UTF-8 |
//! | … | 1 + n | channel transaction id (empty if none) |
//! | … | 1 + n | kiosk id |
//! | end − 64 | 64 | Ed25519 signature |
//!
//! The signature covers the ASCII domain tag `yizhan-receipt-v1` followed by every byte before
//! the signature, so a signature from another use of the key never verifies as a receipt. A
//! typical claim is ~140 bytes, ~190 characters: a version-9 QR at level M.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signature, Signer, Verifier};
/// The kiosk's receipt keys (Ed25519), re-exported so callers need no ed25519 dependency.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use kiosk_core::money::Fen;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Text prefix of a version-1 payload.
pub const PREFIX: &str = "YZR1.";
const VERSION: u8 = 1;
const DOMAIN: &[u8] = b"yizhan-receipt-v1";
const SIG_LEN: usize = 64;

/// How the payment ended, as the receipt states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimOutcome {
    /// Every bill paid.
    Paid = 1,
    /// Some bills paid, the rest refunded.
    PartlyPaid = 2,
    /// Nothing paid; the money went back.
    Refunded = 3,
    /// Cancelled or failed before any charge.
    NotCharged = 4,
    /// In suspense: take the slip to the counter.
    Pending = 5,
    /// Paid, the gas card still to be written.
    AwaitCardWrite = 6,
}

impl ClaimOutcome {
    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            1 => ClaimOutcome::Paid,
            2 => ClaimOutcome::PartlyPaid,
            3 => ClaimOutcome::Refunded,
            4 => ClaimOutcome::NotCharged,
            5 => ClaimOutcome::Pending,
            6 => ClaimOutcome::AwaitCardWrite,
            _ => return None,
        })
    }
}

/// What a receipt proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptClaim {
    /// Our order reference.
    pub order_ref: String,
    /// Amount paid, in fen.
    pub amount: Fen,
    /// The payment channel's transaction id ("" when there is none).
    pub channel_txn: String,
    /// The kiosk that printed it.
    pub kiosk_id: String,
    /// When, in Unix seconds.
    pub time: i64,
    /// How it ended.
    pub outcome: ClaimOutcome,
}

/// A claim that cannot be signed (a field over 255 bytes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// A text field is longer than its length byte allows.
    #[error("receipt field {0} is longer than 255 bytes")]
    FieldTooLong(&'static str),
}

/// Why a payload does not prove anything.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not a `YZR1.` payload (another QR, a payment code...).
    #[error("not a Yizhan receipt payload")]
    NotAReceipt,
    /// The text after the prefix is not base64url.
    #[error("receipt payload is not valid base64url")]
    BadEncoding,
    /// Too short, or a length byte runs past the end.
    #[error("receipt payload is truncated")]
    Truncated,
    /// A version this build does not know.
    #[error("unknown receipt payload version {0}")]
    UnknownVersion(u8),
    /// An outcome code this build does not know.
    #[error("unknown outcome code {0}")]
    UnknownOutcome(u8),
    /// A text field is not UTF-8.
    #[error("receipt field is not UTF-8")]
    BadText,
    /// Bytes between the last field and the signature.
    #[error("unexpected bytes in receipt payload")]
    TrailingBytes,
    /// The signature does not match this kiosk's key: forged or altered.
    #[error("signature does not verify: the receipt is not genuine")]
    BadSignature,
}

fn body(claim: &ReceiptClaim) -> Result<Vec<u8>, ClaimError> {
    let mut b = Vec::with_capacity(96);
    b.push(VERSION);
    b.push(claim.outcome as u8);
    b.extend_from_slice(&claim.amount.0.to_be_bytes());
    b.extend_from_slice(&claim.time.to_be_bytes());
    for (name, field) in
        [("order_ref", &claim.order_ref), ("channel_txn", &claim.channel_txn), ("kiosk_id", &claim.kiosk_id)]
    {
        let len = u8::try_from(field.len()).map_err(|_| ClaimError::FieldTooLong(name))?;
        b.push(len);
        b.extend_from_slice(field.as_bytes());
    }
    Ok(b)
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    [DOMAIN, body].concat()
}

/// Signs `claim`: the text to put in the receipt's QR.
pub fn sign(claim: &ReceiptClaim, key: &SigningKey) -> Result<String, ClaimError> {
    let mut bytes = body(claim)?;
    let sig = key.sign(&signed_message(&bytes));
    bytes.extend_from_slice(&sig.to_bytes());
    Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Checks a scanned payload against the kiosk's public key and returns what it proves.
/// Never panics, whatever the input.
pub fn verify(payload: &str, key: &VerifyingKey) -> Result<ReceiptClaim, VerifyError> {
    let b64 = payload.trim().strip_prefix(PREFIX).ok_or(VerifyError::NotAReceipt)?;
    let bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|_| VerifyError::BadEncoding)?;
    if bytes.len() < 18 + 3 + SIG_LEN {
        return Err(VerifyError::Truncated);
    }
    let (body, sig) = bytes.split_at(bytes.len() - SIG_LEN);
    if body[0] != VERSION {
        return Err(VerifyError::UnknownVersion(body[0]));
    }
    let sig = Signature::from_slice(sig).map_err(|_| VerifyError::BadSignature)?;
    key.verify(&signed_message(body), &sig).map_err(|_| VerifyError::BadSignature)?;
    // Only parsed once genuine: a forged payload tells nothing about our format.
    let outcome = ClaimOutcome::from_code(body[1]).ok_or(VerifyError::UnknownOutcome(body[1]))?;
    let num = |at: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&body[at..at + 8]);
        i64::from_be_bytes(a)
    };
    let (amount, time) = (Fen(num(2)), num(10));
    let mut at = 18;
    let mut text = || -> Result<String, VerifyError> {
        let len = usize::from(*body.get(at).ok_or(VerifyError::Truncated)?);
        let field = body.get(at + 1..at + 1 + len).ok_or(VerifyError::Truncated)?;
        at += 1 + len;
        String::from_utf8(field.to_vec()).map_err(|_| VerifyError::BadText)
    };
    let (order_ref, channel_txn, kiosk_id) = (text()?, text()?, text()?);
    if at != body.len() {
        return Err(VerifyError::TrailingBytes);
    }
    Ok(ReceiptClaim { order_ref, amount, channel_txn, kiosk_id, time, outcome })
}

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file cannot be read.
    #[error("cannot read key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Neither PEM (PKCS#8 / SPKI) nor a 32-byte raw or hex key.
    #[error("key file {0} is not a PKCS#8/SPKI PEM, nor 32 raw bytes, nor 64 hex digits")]
    Format(String),
}

fn read_key(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read { path: path.display().to_string(), source })
}

/// 32 raw bytes, or 64 hex digits (whitespace ignored).
fn raw32(bytes: &[u8]) -> Option<[u8; 32]> {
    if let Ok(a) = <[u8; 32]>::try_from(bytes) {
        return Some(a);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let hex: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if hex.len() != 64 {
        return None;
    }
    let mut a = [0u8; 32];
    for (i, out) in a.iter_mut().enumerate() {
        *out = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(a)
}

/// Loads the kiosk's signing key: a PKCS#8 PEM (`openssl genpkey -algorithm ed25519`), or a raw
/// 32-byte seed (binary or hex).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    load_key(path, |pem| SigningKey::from_pkcs8_pem(pem).ok(), |seed| Some(SigningKey::from_bytes(&seed)))
}

/// Loads a public key to verify with: an SPKI PEM (`openssl pkey -pubout`), or 32 raw bytes
/// (binary or hex).
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    load_key(path, |pem| VerifyingKey::from_public_key_pem(pem).ok(), |k| VerifyingKey::from_bytes(&k).ok())
}

/// Reads a key file as PEM (`from_pem`) when it starts like one, otherwise as 32 raw bytes
/// (`from_raw`); anything else is a format error naming the file.
fn load_key<K>(
    path: &Path,
    from_pem: impl FnOnce(&str) -> Option<K>,
    from_raw: impl FnOnce([u8; 32]) -> Option<K>,
) -> Result<K, KeyError> {
    let bytes = read_key(path)?;
    let bad = || KeyError::Format(path.display().to_string());
    if bytes.starts_with(b"-----BEGIN") {
        return std::str::from_utf8(&bytes).ok().and_then(from_pem).ok_or_else(bad);
    }
    raw32(&bytes).and_then(from_raw).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn claim() -> ReceiptClaim {
        ReceiptClaim {
            order_ref: "YZK1261123000042".into(),
            amount: Fen(7950),
            channel_txn: "4200001234202611230000001".into(),
            kiosk_id: "SH-PD-0001".into(),
            time: 1_795_405_325,
            outcome: ClaimOutcome::Paid,
        }
    }

    #[test]
    fn a_signed_claim_verifies_and_round_trips() {
        let payload = sign(&claim(), &key()).unwrap();
        assert!(payload.starts_with("YZR1."));
        assert!(payload.len() < 220, "fits a small QR: {}", payload.len());
        assert_eq!(verify(&payload, &key().verifying_key()), Ok(claim()));
    }

    #[test]
    fn the_layout_is_as_documented() {
        let payload = sign(&claim(), &key()).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&payload[5..]).unwrap();
        assert_eq!(bytes[0], 0x01); // version
        assert_eq!(bytes[1], 0x01); // outcome Paid
        assert_eq!(&bytes[2..10], &[0, 0, 0, 0, 0, 0, 0x1F, 0x0E]); // 7950 fen, i64 BE
        assert_eq!(bytes[18], 16); // order ref length
        assert_eq!(&bytes[19..35], b"YZK1261123000042");
        assert_eq!(bytes.len(), 18 + 17 + 26 + 11 + 64);
    }

    #[test]
    fn an_altered_amount_fails() {
        let payload = sign(&claim(), &key()).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(&payload[5..]).unwrap();
        bytes[9] ^= 0x01; // 7950 → 7951 fen
        let forged = format!("YZR1.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(verify(&forged, &key().verifying_key()), Err(VerifyError::BadSignature));
    }

    #[test]
    fn another_kiosks_key_fails() {
        let payload = sign(&claim(), &key()).unwrap();
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert_eq!(verify(&payload, &other), Err(VerifyError::BadSignature));
    }

    #[test]
    fn other_texts_are_not_receipts() {
        let k = key().verifying_key();
        assert_eq!(verify("134567890123456789", &k), Err(VerifyError::NotAReceipt));
        assert_eq!(verify("YZR1.***", &k), Err(VerifyError::BadEncoding));
        assert_eq!(verify("YZR1.AAAA", &k), Err(VerifyError::Truncated));
    }

    #[test]
    fn overlong_fields_cannot_be_signed() {
        let mut c = claim();
        c.kiosk_id = "K".repeat(256);
        assert_eq!(sign(&c, &key()), Err(ClaimError::FieldTooLong("kiosk_id")));
    }

    #[test]
    fn keys_load_from_hex_and_raw() {
        let dir = tempfile::tempdir().unwrap();
        let hex = dir.path().join("k.hex");
        std::fs::write(&hex, "07".repeat(32) + "\n").unwrap();
        assert_eq!(load_signing_key(&hex).unwrap().to_bytes(), [7u8; 32]);
        let raw = dir.path().join("k.bin");
        std::fs::write(&raw, [7u8; 32]).unwrap();
        assert_eq!(load_signing_key(&raw).unwrap().to_bytes(), [7u8; 32]);
        let junk = dir.path().join("k.txt");
        std::fs::write(&junk, "not a key").unwrap();
        assert!(matches!(load_signing_key(&junk), Err(KeyError::Format(_))));
    }

    proptest! {
        #[test]
        fn verify_never_panics(s in ".{0,300}", bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let k = key().verifying_key();
            let _ = verify(&s, &k);
            let _ = verify(&format!("YZR1.{}", URL_SAFE_NO_PAD.encode(&bytes)), &k);
        }
    }
}
