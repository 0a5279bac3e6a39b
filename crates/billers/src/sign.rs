//! Message signing of the biller contract (openapi/biller-api.yaml, "Signing").
//!
//! Requests are signed with HMAC-SHA256 over `METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY`, replies over
//! `TIMESTAMP\nNONCE\nREQUEST_NONCE\nBODY`, each with the biller's shared key; the signature
//! travels as lower-case hex. `REQUEST_NONCE` is the nonce of the request the reply answers (also
//! echoed in [`HEADER_REQUEST_NONCE`]): it binds a reply to its request, so a signed answer to one
//! request (a refusal, say) cannot be replayed as the answer to another. The same functions serve the client and the simulators so that both sides agree by
//! construction, and the tests pin them to an independently computed vector.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The kiosk's identity (our terminal id), sent with every request.
pub const HEADER_KIOSK: &str = "x-yizhan-kiosk";
/// Unix seconds when the message was signed.
pub const HEADER_TIMESTAMP: &str = "x-yizhan-timestamp";
/// A fresh random value per message, so that a captured request cannot be replayed.
pub const HEADER_NONCE: &str = "x-yizhan-nonce";
/// Lower-case hex HMAC-SHA256 of the string to sign.
pub const HEADER_SIGNATURE: &str = "x-yizhan-signature";
/// On a reply: the nonce of the request it answers, echoed (and covered by the reply signature).
pub const HEADER_REQUEST_NONCE: &str = "x-yizhan-request-nonce";

/// How far a signed timestamp may be from the receiver's clock, either way.
pub const MAX_SKEW_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// The bytes a request signature covers.
pub fn request_string(method: &str, path: &str, timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut text = format!("{method}\n{path}\n{timestamp}\n{nonce}\n").into_bytes();
    text.extend_from_slice(body);
    text
}

/// The bytes a reply signature covers: the reply's own timestamp and nonce, the nonce of the
/// request it answers, and the body.
pub fn reply_string(timestamp: &str, nonce: &str, request_nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut text = format!("{timestamp}\n{nonce}\n{request_nonce}\n").into_bytes();
    text.extend_from_slice(body);
    text
}

/// The lower-case hex HMAC-SHA256 of `message` under `key`.
pub fn sign(key: &[u8], message: &[u8]) -> String {
    hex::encode(mac(key, message).finalize().into_bytes())
}

/// True when `signature_hex` is the HMAC of `message` under `key`. The comparison is constant
/// time; malformed hex is simply "does not verify".
pub fn verify(key: &[u8], message: &[u8], signature_hex: &str) -> bool {
    match hex::decode(signature_hex.trim()) {
        Ok(signature) => mac(key, message).verify_slice(&signature).is_ok(),
        Err(_) => false,
    }
}

/// True when a signed Unix-seconds timestamp is within [`MAX_SKEW_SECS`] of `now_secs`. A value
/// that is not a number is never fresh.
pub fn timestamp_is_fresh(timestamp: &str, now_secs: i64) -> bool {
    timestamp
        .parse::<i64>()
        .ok()
        .and_then(|ts| now_secs.checked_sub(ts))
        .is_some_and(|skew| skew.abs() <= MAX_SKEW_SECS)
}

/// A new random nonce: 16 bytes, hex.
pub fn new_nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Unix seconds now, from the system clock.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn mac(key: &[u8], message: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_the_same_key_and_message() {
        let message = request_string("GET", "/v1/accounts/1/bill", "1", "n", b"");
        let signature = sign(b"key", &message);
        assert!(verify(b"key", &message, &signature));
        assert!(!verify(b"other", &message, &signature));
        assert!(!verify(b"key", b"tampered", &signature));
        assert!(!verify(b"key", &message, "not hex"));
        assert!(!verify(b"key", &message, ""));
    }

    #[test]
    fn a_reply_signature_covers_the_request_nonce() {
        let message = reply_string("1", "reply-nonce", "request-a", b"{}");
        let signature = sign(b"key", &message);
        assert!(verify(b"key", &message, &signature));
        assert!(!verify(b"key", &reply_string("1", "reply-nonce", "request-b", b"{}"), &signature));
    }

    #[test]
    fn stale_or_garbled_timestamps_are_not_fresh() {
        assert!(timestamp_is_fresh("1000", 1000 + MAX_SKEW_SECS));
        assert!(timestamp_is_fresh("1000", 1000 - MAX_SKEW_SECS));
        assert!(!timestamp_is_fresh("1000", 1001 + MAX_SKEW_SECS));
        assert!(!timestamp_is_fresh("abc", 1000));
        assert!(!timestamp_is_fresh(&i64::MIN.to_string(), i64::MAX));
    }
}
