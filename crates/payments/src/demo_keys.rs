//! The simulators' demo secrets and key files (`config/sim-keys`, the `sim` module's demo
//! configuration) are public: a real kiosk must never sign or verify with them. Only their
//! SHA-256 digests are kept here, so a production build can recognise them without carrying
//! them, and refuse to start.

use crate::config::PaymentsConfig;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::path::Path;

/// SHA-256 of every simulator's demo shared secret: the WeChat and UnionPay keys, the four
/// biller simulators' keys (`yizhan-demo-{water,power,gas,joint}-biller-key`) and the card
/// acquirer's portal key.
const DEMO_SECRETS: [&str; 7] = [
    "144c7a24e614c8059825420b1e1cf9079219e07f9ee805dad7d604b05475fcb2",
    "ec05a10fd42f40f7c0fa4fb548b5363d8f7954626d5451cee7976148eb350a99",
    "a5303deb027a5b8f663b741442b5b60e463206f65313cbdbdaefec364db1df30",
    "72653d6cc23de317e2f07d4dbeb64c50a10f94e4b6399b94882a09c7bfefa31c",
    "2116ba1449a9874d0d9ae52e3327cd533761795091925a5710e58d8cca5c6382",
    "1b386048318e5b205ae2cb8386dcdf4031d3c60e1af366640c0954bf989cac3c",
    "a0d37234bd55a43dad45804e09bd3848eaacc34eff460b0cdb90d61f0c0d02cc",
];

/// SHA-256 of the base64 body (no armour lines, no white space) of every PEM in
/// `config/sim-keys`: the Alipay app and platform pairs and the receipt-signing Ed25519 pair.
const DEMO_KEY_FILES: [&str; 6] = [
    "497be623d646d6c351400746793146a71f6889bf7fd6614d9d8dd5ae9c0c1c54",
    "9eb37d1c7c00dfbfbca6b080fde4523b97d6d9eae6dc498b76e2a53bcda32b5f",
    "7b2fc1c331d7817b3bc9780b5d181819189488d389a80f054cbebac4bab564d2",
    "3d2a4e9183c4b2716e0523d6e28e6c8f47b72ae567c1aadf4cb27f3c47b5c87f",
    "e4cff48e5d0071aa16576f62115ec57d5fcc0afd308a9807e87e7ff32229eea4",
    "7d14465aad5a0754b6e1c57c01a912f49483ce234e086efebfc3f4d6a26bb496",
];

/// SHA-256 of the demo staff member's stored PIN hash in `config/kiosk.toml` (S001, PIN 246810).
const DEMO_PIN_HASH: &str = "f2710cc41c556f0ec3c6ba58458d2980f13b82cef91617ee426e882922510ca7";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// True when `secret` is one of the simulators' demo secrets.
pub fn is_demo_secret(secret: &str) -> bool {
    DEMO_SECRETS.contains(&sha256_hex(secret.as_bytes()).as_str())
}

/// True when `pin_hash` is the demo staff member's stored PIN hash, whose PIN is public.
pub fn is_demo_pin_hash(pin_hash: &str) -> bool {
    sha256_hex(pin_hash.as_bytes()) == DEMO_PIN_HASH
}

/// True when the PEM file at `path` holds one of the demo keys (however it is wrapped). A file
/// that cannot be read is not judged here: loading it fails later with its own error.
pub fn is_demo_key_file(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    let body: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("-----"))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    DEMO_KEY_FILES.contains(&sha256_hex(body.as_bytes()).as_str())
}

impl PaymentsConfig {
    /// The keys of this configuration that are the simulators' public demo keys, by name
    /// (`payments.wechat.api_key`…); key file paths are taken relative to `base_dir`.
    pub fn demo_keys_in_use(&self, base_dir: &Path) -> Vec<&'static str> {
        let mut found = Vec::new();
        if self.wechat.as_ref().is_some_and(|w| is_demo_secret(w.api_key.expose_secret())) {
            found.push("payments.wechat.api_key");
        }
        if self.unionpay.as_ref().is_some_and(|u| is_demo_secret(u.secure_key.expose_secret())) {
            found.push("payments.unionpay.secure_key");
        }
        if self.card_acquirer.as_ref().is_some_and(|c| is_demo_secret(c.key.expose_secret())) {
            found.push("payments.card_acquirer.key");
        }
        if let Some(alipay) = &self.alipay {
            if is_demo_key_file(&base_dir.join(&alipay.app_private_key_path)) {
                found.push("payments.alipay.app_private_key_path");
            }
            if is_demo_key_file(&base_dir.join(&alipay.alipay_public_key_path)) {
                found.push("payments.alipay.alipay_public_key_path");
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sim-keys")
    }

    #[test]
    fn every_demo_key_file_is_recognised_and_a_fresh_one_is_not() {
        for name in [
            "alipay-app-private.pem",
            "alipay-app-public.pem",
            "alipay-platform-private.pem",
            "alipay-platform-public.pem",
            "receipt-ed25519-demo-private.pem",
            "receipt-ed25519-demo-public.pem",
        ] {
            assert!(is_demo_key_file(&keys().join(name)), "{name}");
        }
        let dir = tempfile::tempdir().unwrap();
        let rewrapped = dir.path().join("rewrapped.pem");
        // The same key with other line breaks and CRLF is still the demo key.
        let text = std::fs::read_to_string(keys().join("alipay-app-private.pem")).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let wrapped: Vec<String> =
            body.as_bytes().chunks(40).map(|c| String::from_utf8_lossy(c).into()).collect();
        std::fs::write(
            &rewrapped,
            format!(
                "-----BEGIN PRIVATE KEY-----\r\n{}\r\n-----END PRIVATE KEY-----\r\n",
                wrapped.join("\r\n")
            ),
        )
        .unwrap();
        assert!(is_demo_key_file(&rewrapped));
        let other = dir.path().join("other.pem");
        std::fs::write(
            &other,
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        assert!(!is_demo_key_file(&other));
        assert!(!is_demo_key_file(&dir.path().join("missing.pem")));
    }

    #[test]
    fn the_demo_secrets_are_recognised() {
        assert!(is_demo_secret("YizhanSimulatorApiKey0123456789a"));
        assert!(is_demo_secret("YizhanSimulatorSecureKey"));
        assert!(is_demo_secret("YizhanSimulatorPortalKey"));
        for biller in ["water", "power", "gas", "joint"] {
            assert!(is_demo_secret(&format!("yizhan-demo-{biller}-biller-key")), "{biller}");
        }
        assert!(!is_demo_secret("a-real-merchant-key-0123456789ab"));
    }
}
