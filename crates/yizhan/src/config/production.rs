//! What a production build (no `sim` feature) refuses to start with: a configuration that only
//! makes sense for the demo. The demo defaults are convenient and public — the embedded back end,
//! simulated devices, the simulators' keys — so a real kiosk must say what it is instead of
//! falling into them by leaving a key out.
//!
//! The check is compiled in every build (so it is tested with the rest) but applied when the
//! configuration is loaded only in a build without the simulators.

use super::{BackendMode, ConfigError, KioskConfig};
use payments::demo_keys::{is_demo_key_file, is_demo_pin_hash, is_demo_secret};
use payments::ExposeSecret;
use std::path::Path;

/// A value left as the example's placeholder ("change-me…", "ChangeMe…").
fn is_placeholder(value: &str) -> bool {
    value.to_ascii_lowercase().replace(['-', '_'], "").contains("changeme")
}

/// One reason a production kiosk will not start with this configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The key at fault.
    pub key: &'static str,
    /// What is expected there instead.
    pub expected: &'static str,
}

impl Refusal {
    /// As a configuration error of `file`.
    pub fn in_file(self, file: &Path) -> ConfigError {
        ConfigError::Invalid {
            file: file.to_path_buf(),
            key: self.key.into(),
            expected: self.expected.into(),
        }
    }
}

/// Every reason `config` is demo-only, in the order a reader of the file meets them; empty when
/// a production build may run it. Key file paths must already be resolved (as `load` does).
pub fn production_refusals(config: &KioskConfig) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    let mut refuse = |key, expected| refusals.push(Refusal { key, expected });
    match config.backend.mode {
        None => refuse(
            "backend.mode",
            "mode = \"remote\", written out: a production build does not fall back to the demo's embedded back end",
        ),
        Some(BackendMode::Embedded) => refuse(
            "backend.mode",
            "\"remote\": \"embedded\" runs the channel and biller simulators, which a production build does not have",
        ),
        Some(BackendMode::Remote) => {}
    }
    if config.devices.simulated {
        refuse(
            "devices.simulated",
            "false, with each device's real port: a production build has no simulators",
        );
    }
    if config.timing.divisor != 1 {
        refuse(
            "timing.divisor",
            "1: the channels' official timers (a larger divisor is for demos and tests)",
        );
    }
    const PUBLIC: &str = "the real key: this one is the simulators' public demo key";
    const PLACEHOLDER: &str = "the real key: this is the example's placeholder";
    if let Some(payments) = &config.payments {
        for key in payments.demo_keys_in_use(Path::new("")) {
            refuse(key, PUBLIC);
        }
        let secrets = [
            ("payments.wechat.api_key", payments.wechat.as_ref().map(|w| w.api_key.expose_secret())),
            (
                "payments.unionpay.secure_key",
                payments.unionpay.as_ref().map(|u| u.secure_key.expose_secret()),
            ),
        ];
        for (key, secret) in secrets {
            if secret.is_some_and(is_placeholder) {
                refuse(key, PLACEHOLDER);
            }
        }
    }
    if let Some(billers) = &config.billers {
        let entries = [
            ("billers.water.key", Some(&billers.water)),
            ("billers.power.key", Some(&billers.power)),
            ("billers.gas.key", Some(&billers.gas)),
            ("billers.joint.key", billers.joint.as_ref()),
        ];
        for (key, entry) in entries {
            match entry.map(|e| e.key.as_str()) {
                Some(k) if is_demo_secret(k) => refuse(key, PUBLIC),
                Some(k) if is_placeholder(k) => refuse(key, PLACEHOLDER),
                _ => {}
            }
        }
    }
    if let Some(receipts) = &config.receipts {
        const PROVES_NOTHING: &str =
            "this kiosk's own Ed25519 key pair: the demo keys are public, so its receipts would prove nothing";
        if is_demo_key_file(&receipts.signing_key) {
            refuse("receipts.signing_key", PROVES_NOTHING);
        }
        if is_demo_key_file(&receipts.verifying_key) {
            refuse("receipts.verifying_key", PROVES_NOTHING);
        }
    }
    if config.staff.iter().any(|m| is_demo_pin_hash(&m.pin_hash)) {
        refuse("staff.pin_hash", "each member's own PIN hash: the demo member's PIN (246810) is public");
    }
    refusals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> KioskConfig {
        KioskConfig::parse(Path::new("kiosk.toml"), text).unwrap()
    }

    const KIOSK: &str = r#"
        [kiosk]
        id = "SH-PD-0001"
        number = "0001"
        service_phone = "021-12345678"
    "#;

    fn keys(name: &str) -> String {
        format!("{}/../../config/sim-keys/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn the_demo_configuration_is_refused_for_every_demo_only_part() {
        let demo =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/kiosk.toml")).unwrap();
        let mut demo = config(&demo);
        demo.resolve_paths(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config")));
        let keys: Vec<&str> = production_refusals(&demo).iter().map(|r| r.key).collect();
        assert_eq!(
            keys,
            [
                "backend.mode",
                "devices.simulated",
                "receipts.signing_key",
                "receipts.verifying_key",
                "staff.pin_hash"
            ]
        );
    }

    #[test]
    fn a_left_out_mode_is_refused_and_embedded_too() {
        let refused = production_refusals(&config(KIOSK));
        assert_eq!(refused.len(), 1);
        assert!(refused[0].expected.contains("written out"), "{refused:?}");
        let embedded = config(&format!("{KIOSK}\n[backend]\nmode = \"embedded\"\n"));
        assert!(production_refusals(&embedded)[0].expected.contains("simulators"));
    }

    fn remote_example() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/examples/remote.toml"))
            .unwrap()
    }

    #[test]
    fn the_example_production_configuration_is_refused_only_for_its_placeholders() {
        let keys: Vec<&str> = production_refusals(&config(&remote_example())).iter().map(|r| r.key).collect();
        assert_eq!(
            keys,
            [
                "payments.wechat.api_key",
                "payments.unionpay.secure_key",
                "billers.water.key",
                "billers.power.key",
                "billers.gas.key",
                "billers.joint.key"
            ]
        );
        let filled = remote_example()
            .replace("ChangeMe32CharacterApiKey0000000", "Merchant32CharacterApiKey1234567")
            .replace("change-me-", "merchant-");
        assert_eq!(production_refusals(&config(&filled)), []);
    }

    #[test]
    fn demo_timers_and_the_demo_billers_keys_are_refused() {
        let text = remote_example()
            .replace("divisor = 1 ", "divisor = 10 ")
            .replace("change-me-water-key-0000", "yizhan-demo-water-biller-key");
        let refused = production_refusals(&config(&text));
        assert!(refused.iter().any(|r| r.key == "timing.divisor"), "{refused:?}");
        let water = refused.iter().find(|r| r.key == "billers.water.key").unwrap();
        assert!(water.expected.contains("public demo key"), "{water:?}");
    }

    #[test]
    fn remote_with_the_demo_channel_keys_is_refused_key_by_key() {
        let text = remote_example()
            .replace("change-me-", "merchant-")
            .replace("ChangeMe32CharacterApiKey0000000", "YizhanSimulatorApiKey0123456789a")
            .replace("/etc/yizhan/alipay-app-private.pem", &keys("alipay-app-private.pem"))
            .replace("/etc/yizhan/alipay-public.pem", &keys("alipay-platform-public.pem"));
        let keys: Vec<&str> = production_refusals(&config(&text)).iter().map(|r| r.key).collect();
        assert_eq!(
            keys,
            [
                "payments.wechat.api_key",
                "payments.alipay.app_private_key_path",
                "payments.alipay.alipay_public_key_path"
            ]
        );
    }
}
