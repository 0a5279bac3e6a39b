//! ACP signMethod 11 (SHA-256 with a shared secure key), as the UnionPay SDK's secure-key method
//! computes it: `sha256hex(sorted "k=v&…" + "&" + sha256hex(secureKey))`, lower-case hex.
//! Every non-empty field except `signature` is signed.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The form fields of one ACP request or reply, in key order.
pub type Fields = BTreeMap<String, String>;

/// `k=v&k=v…` over the non-empty fields except `signature`, in key order.
pub fn string_to_sign(fields: &Fields) -> String {
    crate::signed_text::sorted_pairs(fields, "signature")
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The `signature` value of `fields` under `secure_key`.
pub fn sign(fields: &Fields, secure_key: &str) -> String {
    sha256_hex(&format!("{}&{}", string_to_sign(fields), sha256_hex(secure_key)))
}

/// Whether `fields` carries a correct `signature`. A missing one is not correct.
pub fn verify(fields: &Fields, secure_key: &str) -> bool {
    match fields.get("signature") {
        Some(given) if !given.is_empty() => given.eq_ignore_ascii_case(&sign(fields, secure_key)),
        _ => false,
    }
}
