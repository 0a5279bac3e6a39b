//! What a production build (no `sim` feature) refuses to start with: a configuration that only
//! makes sense for the demo. The demo defaults are convenient and public — the embedded back end,
//! simulated devices, the simulators' keys — so a real kiosk must say what it is instead of
//! falling into them by leaving a key out.
//!
//! The check is compiled in every build (so it is tested with the rest) but applied when the
//! configuration is loaded only in a build without the simulators.

use super::{BackendMode, ConfigError, KioskConfig};
use std::path::Path;

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
    if let Some(payments) = &config.payments {
        for key in payments.demo_keys_in_use(Path::new("")) {
            refuse(key, "the channel's real key: this one is the simulators' public demo key");
        }
    }
    if let Some(receipts) = &config.receipts {
        if payments::demo_keys::is_demo_key_file(&receipts.signing_key) {
            refuse(
                "receipts.signing_key",
                "this kiosk's own Ed25519 key: the demo key is public, so its receipts would prove nothing",
            );
        }
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
        assert_eq!(keys, ["backend.mode", "devices.simulated", "receipts.signing_key"]);
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
    fn the_example_production_configuration_passes() {
        assert_eq!(production_refusals(&config(&remote_example())), []);
    }

    #[test]
    fn remote_with_the_demo_channel_keys_is_refused_key_by_key() {
        let text = remote_example()
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
