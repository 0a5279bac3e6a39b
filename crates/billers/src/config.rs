//! Configuration of the biller clients: one entry per utility plus the joint-bill service, each
//! with its own endpoint, signing key and timeouts (the `[billers]` table of kiosk.toml).

use kiosk_core::{AccountRule, Utility};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Keys shorter than this are refused: an HMAC key must not be guessable.
pub const MIN_KEY_LEN: usize = 16;

/// `[billers]`: every biller the kiosk collects for. The joint service is optional; without it
/// the kiosk simply does not offer the joint bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillersConfig {
    pub water: BillerEntry,
    pub power: BillerEntry,
    pub gas: BillerEntry,
    #[serde(default)]
    pub joint: Option<BillerEntry>,
}

/// `[billers.<name>]`: how to reach one biller through our contract.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillerEntry {
    /// "https://water.example.cn/yizhan" — the contract's paths are appended to it.
    pub base_url: String,
    /// The HMAC-SHA256 key shared with this biller (its UTF-8 bytes), at least 16 characters.
    pub key: String,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// The whole request, reply included: after it the answer is "unknown".
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// The account-number rule; `AccountRule::default_for` the utility when absent.
    #[serde(default)]
    pub account_rule: Option<AccountRule>,
}

fn default_connect_timeout_ms() -> u64 {
    3_000
}

fn default_request_timeout_ms() -> u64 {
    10_000
}

/// A configuration value that cannot work, naming the key and what was expected. The values of
/// secret keys are never repeated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: expected {expected}{}", found.as_ref().map(|f| format!(", found {f:?}")).unwrap_or_default())]
pub struct ConfigError {
    /// The full key, "billers.water.base_url".
    pub key: String,
    pub expected: &'static str,
    pub found: Option<String>,
}

impl BillersConfig {
    /// Checks every entry; the first problem is reported.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for utility in Utility::ALL {
            self.entry(utility).validate(&format!("billers.{utility}"))?;
        }
        if let Some(joint) = &self.joint {
            joint.validate("billers.joint")?;
        }
        Ok(())
    }

    pub fn entry(&self, utility: Utility) -> &BillerEntry {
        match utility {
            Utility::Water => &self.water,
            Utility::Power => &self.power,
            Utility::Gas => &self.gas,
        }
    }
}

impl BillerEntry {
    pub fn new(base_url: impl Into<String>, key: impl Into<String>) -> BillerEntry {
        BillerEntry {
            base_url: base_url.into(),
            key: key.into(),
            connect_timeout_ms: default_connect_timeout_ms(),
            request_timeout_ms: default_request_timeout_ms(),
            account_rule: None,
        }
    }

    /// Checks the entry found at `prefix` ("billers.gas").
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let error = |field: &str, expected, found: Option<String>| ConfigError {
            key: format!("{prefix}.{field}"),
            expected,
            found,
        };
        self.parsed_base_url()
            .ok_or_else(|| error("base_url", "an http:// or https:// URL", Some(self.base_url.clone())))?;
        if self.key.chars().count() < MIN_KEY_LEN {
            return Err(error("key", "a shared key of at least 16 characters", None));
        }
        if self.connect_timeout_ms == 0 || self.connect_timeout_ms > 60_000 {
            let found = Some(self.connect_timeout_ms.to_string());
            return Err(error("connect_timeout_ms", "milliseconds between 1 and 60000", found));
        }
        if self.request_timeout_ms == 0 || self.request_timeout_ms > 120_000 {
            let found = Some(self.request_timeout_ms.to_string());
            return Err(error("request_timeout_ms", "milliseconds between 1 and 120000", found));
        }
        if let Some(rule) = &self.account_rule {
            if rule.min_len == 0 || rule.min_len > rule.max_len || rule.max_len > 32 {
                let found = Some(format!("{}..{}", rule.min_len, rule.max_len));
                return Err(error("account_rule", "1 <= min_len <= max_len <= 32", found));
            }
        }
        Ok(())
    }

    /// The base URL if it is a usable http(s) URL.
    pub(crate) fn parsed_base_url(&self) -> Option<reqwest::Url> {
        let url = reqwest::Url::parse(&self.base_url).ok()?;
        let usable = matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.query().is_none()
            && url.fragment().is_none();
        usable.then_some(url)
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

impl fmt::Debug for BillerEntry {
    /// Never prints the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BillerEntry")
            .field("base_url", &self.base_url)
            .field("key", &"<redacted>")
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("account_rule", &self.account_rule)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
        [water]
        base_url = "http://127.0.0.1:7101"
        key = "water-key-0123456789"
        [power]
        base_url = "https://power.example.cn/yizhan/"
        key = "power-key-0123456789"
        request_timeout_ms = 8000
        [gas]
        base_url = "http://127.0.0.1:7103"
        key = "gas-key-0123456789ab"
        account_rule = { min_len = 8, max_len = 12, check_digit = "none" }
    "#;

    #[test]
    fn parses_with_defaults() {
        let config: BillersConfig = toml::from_str(TOML).unwrap();
        config.validate().unwrap();
        assert_eq!(config.water.request_timeout_ms, 10_000);
        assert_eq!(config.power.request_timeout_ms, 8_000);
        assert!(config.joint.is_none());
        assert_eq!(config.gas.account_rule.as_ref().map(|r| r.max_len), Some(12));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = TOML.replace("request_timeout_ms = 8000", "timeout = 8000");
        let error = toml::from_str::<BillersConfig>(&text).unwrap_err().to_string();
        assert!(error.contains("timeout"), "{error}");
    }

    #[test]
    fn validation_names_the_key_and_hides_secrets() {
        let mut config: BillersConfig = toml::from_str(TOML).unwrap();
        config.power.base_url = "ftp://power".into();
        let error = config.validate().unwrap_err();
        assert_eq!(error.key, "billers.power.base_url");
        assert_eq!(
            error.to_string(),
            "billers.power.base_url: expected an http:// or https:// URL, found \"ftp://power\""
        );

        let mut config: BillersConfig = toml::from_str(TOML).unwrap();
        config.gas.key = "short-secret".into();
        let error = config.validate().unwrap_err().to_string();
        assert_eq!(error, "billers.gas.key: expected a shared key of at least 16 characters");
        assert!(!format!("{:?}", config.gas).contains("short-secret"));

        let mut config: BillersConfig = toml::from_str(TOML).unwrap();
        config.water.request_timeout_ms = 0;
        assert_eq!(config.validate().unwrap_err().key, "billers.water.request_timeout_ms");
    }
}
