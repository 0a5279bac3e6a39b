//! Staff PINs at rest: a salted argon2id hash in the PHC string form
//! (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so that whoever reads `kiosk.toml` cannot recover a
//! six-digit PIN by trying all million of them against a plain digest.

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};

/// Hashes `pin` with a fresh random salt and OWASP's recommended argon2id cost (19 MiB, 2 passes):
/// what `yizhan staff hash-pin` prints for `[[staff]] pin_hash`.
pub fn hash(pin: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(pin.as_bytes(), &salt)?.to_string())
}

/// Whether `hash` is an argon2id PHC string that a PIN can be checked against.
pub fn is_pin_hash(hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| h.algorithm.as_str() == "argon2id" && h.hash.is_some())
}

/// Whether `pin` is the one `hash` was made from (its own cost parameters and salt are used).
pub fn matches(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(pin.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_check_only_their_pin() {
        let (a, b) = (hash("246810").unwrap(), hash("246810").unwrap());
        assert_ne!(a, b, "a fresh salt each time");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$") && is_pin_hash(&a), "{a}");
        assert!(matches("246810", &a) && matches("246810", &b));
        assert!(!matches("246811", &a) && !matches("", &a));
        // The old unsalted SHA-256 form, and garbage, are not PIN hashes.
        assert!(!is_pin_hash("7c2523c985881fb2c2b4cfbe917eb12c4c4b61e898ad4e7160cfca487ca3c4f3"));
        assert!(!is_pin_hash("$argon2id$"));
        assert!(!matches("246810", "not a hash"));
    }
}
