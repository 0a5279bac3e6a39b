//! Configuration of the three channel clients, as read from the kiosk's TOML. Unknown keys are
//! rejected so a typo cannot silently fall back to a default; [`ConfigError`] names the key at
//! fault and what was expected (never the secret value itself).

use crate::wechat::sign::SignType;
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::path::PathBuf;

/// The `[payments]` section: each channel is optional; an unconfigured channel answers "unknown".
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentsConfig {
    pub wechat: Option<WeChatConfig>,
    pub alipay: Option<AlipayConfig>,
    pub unionpay: Option<UnionPayConfig>,
    /// The card acquirer's portal, where the bank-card terminals' settlement files are fetched
    /// (reconciliation only: the terminal itself is `[devices.bankcard]`).
    pub card_acquirer: Option<CardAcquirerConfig>,
}

/// WeChat Pay v2 (XML, HMAC-SHA256 or MD5).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeChatConfig {
    /// `https://api.mch.weixin.qq.com`, or a simulator's URL.
    pub base_url: String,
    pub appid: String,
    pub mch_id: String,
    /// The 32-character v2 API key (商户平台 API 密钥).
    pub api_key: Secret,
    /// The kiosk's own IP, sent as `spbill_create_ip`.
    #[serde(default = "default_ip")]
    pub spbill_create_ip: String,
    /// The merchant's API certificate, presented on `/secapi/*` calls (reverse, refund), as the
    /// two files WeChat issues: `apiclient_cert.pem` (`client_cert_pem`) and `apiclient_key.pem`
    /// (`client_key_pem`), or one PEM file holding both (`client_identity_pem`). Required unless
    /// `base_url` is a loopback simulator: without it no reverse or refund can succeed, so an
    /// unknown payment could never be closed.
    #[serde(default)]
    pub client_identity_pem: Option<PathBuf>,
    #[serde(default)]
    pub client_cert_pem: Option<PathBuf>,
    #[serde(default)]
    pub client_key_pem: Option<PathBuf>,
    /// The v2 signature of requests and replies: `"HMAC-SHA256"` (default) or `"MD5"` (WeChat's
    /// own default, for merchant accounts set up that way).
    #[serde(default = "default_sign_type")]
    pub sign_type: SignType,
    #[serde(default = "default_connect_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_request_ms")]
    pub request_timeout_ms: u64,
    #[serde(default = "default_pay_ms")]
    pub pay_timeout_ms: u64,
    /// The fee the merchant account agreed, in parts per million of each payment (0.60% is
    /// 6000): reconciliation checks every charge's fee in the statement against it. Left out,
    /// fees are not checked.
    #[serde(default)]
    pub fee_rate_ppm: Option<u32>,
}

/// Alipay open platform (JSON replies, RSA2).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlipayConfig {
    /// `https://openapi.alipay.com` (the client posts to `/gateway.do`), or a simulator's URL.
    pub base_url: String,
    pub app_id: String,
    /// The app's RSA private key (PKCS#8 or PKCS#1 PEM, or bare base64 DER as Alipay hands it out).
    pub app_private_key_path: PathBuf,
    /// Alipay's public key, to verify replies (SPKI or PKCS#1 PEM, or bare base64 DER).
    pub alipay_public_key_path: PathBuf,
    #[serde(default = "default_connect_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_request_ms")]
    pub request_timeout_ms: u64,
    #[serde(default = "default_pay_ms")]
    pub pay_timeout_ms: u64,
    /// The fee the merchant account agreed, in parts per million of each payment (0.60% is
    /// 6000): reconciliation checks every charge's fee in the statement against it. Left out,
    /// fees are not checked.
    #[serde(default)]
    pub fee_rate_ppm: Option<u32>,
}

/// UnionPay QR payment codes through the acquirer's ACP-style form API (signMethod 11).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnionPayConfig {
    pub base_url: String,
    /// 15-character merchant id (`merId`).
    pub mer_id: String,
    /// The secure key shared with the acquirer.
    pub secure_key: Secret,
    #[serde(default = "default_connect_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_request_ms")]
    pub request_timeout_ms: u64,
    #[serde(default = "default_pay_ms")]
    pub pay_timeout_ms: u64,
    /// The fee the merchant account agreed, in parts per million of each payment (0.60% is
    /// 6000): reconciliation checks every charge's fee in the statement against it. Left out,
    /// fees are not checked.
    #[serde(default)]
    pub fee_rate_ppm: Option<u32>,
}

/// The card acquirer's merchant portal (the settlement files of the certified terminals).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardAcquirerConfig {
    pub base_url: String,
    /// The 15-digit merchant id (商户号) the terminals settle into.
    pub merchant_id: String,
    /// The portal key the acquirer issued, for the requests' HMAC-SHA256 signature.
    pub key: Secret,
    #[serde(default = "default_connect_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_request_ms")]
    pub request_timeout_ms: u64,
    /// The fee the merchant account agreed, in parts per million of each sale (a debit card's
    /// 0.50% is 5000): reconciliation checks every sale's fee in the file against it. Left out,
    /// fees are not checked.
    #[serde(default)]
    pub fee_rate_ppm: Option<u32>,
}

/// A shared secret from the configuration: `secrecy`'s string, wiped when dropped; its `Debug`
/// never shows it, so a config dump or an error report cannot leak it. Read it with
/// `ExposeSecret::expose_secret`, for signing only.
pub type Secret = secrecy::SecretString;

fn default_sign_type() -> SignType {
    SignType::HmacSha256
}
fn default_ip() -> String {
    "127.0.0.1".to_string()
}
fn default_connect_ms() -> u64 {
    3_000
}
fn default_request_ms() -> u64 {
    6_000
}
fn default_pay_ms() -> u64 {
    10_000
}

/// A configuration or key problem, found when the clients are built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `expected` says what the key should hold ("the 15-character merchant id").
    #[error("payments.{key}: should be {expected}")]
    Invalid { key: String, expected: &'static str },
    #[error("payments.{key}: cannot read {path}: {source}")]
    Read { key: String, path: PathBuf, source: std::io::Error },
    /// A key or certificate file that was read but cannot be used, and why.
    #[error("payments.{key}: {path} is not usable: {reason}")]
    BadKey { key: String, path: PathBuf, reason: String },
    #[error("payments.{key}: cannot build the HTTP client: {reason}")]
    Http { key: String, reason: String },
}

fn invalid(key: String, expected: &'static str) -> ConfigError {
    ConfigError::Invalid { key, expected }
}

fn check_url(section: &str, url: &str) -> Result<(), ConfigError> {
    let ok = (url.starts_with("http://") || url.starts_with("https://")) && !url.ends_with('/');
    ok.then_some(()).ok_or_else(|| {
        invalid(format!("{section}.base_url"), "an http:// or https:// URL without a trailing slash")
    })
}

/// Whether `url` (already checked by [`check_url`]) points at this machine: `localhost`, or a
/// loopback IPv4/IPv6 address.
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The three timeouts every channel section has: connect, request and pay (ms).
fn check_timeouts(section: &str, [connect, request, pay]: [u64; 3]) -> Result<(), ConfigError> {
    let values = [("connect_timeout_ms", connect), ("request_timeout_ms", request), ("pay_timeout_ms", pay)];
    for (name, ms) in values {
        if !(100..=120_000).contains(&ms) {
            return Err(invalid(format!("{section}.{name}"), "milliseconds between 100 and 120000"));
        }
    }
    Ok(())
}

fn check_token(section: &str, key: &str, value: &str, max: usize) -> Result<(), ConfigError> {
    let ok = !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(()).ok_or_else(|| invalid(format!("{section}.{key}"), "letters and digits only, not empty"))
}

impl PaymentsConfig {
    /// Checks every configured channel; the first problem, naming its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(wechat) = &self.wechat {
            wechat.validate()?;
        }
        if let Some(alipay) = &self.alipay {
            alipay.validate()?;
        }
        if let Some(unionpay) = &self.unionpay {
            unionpay.validate()?;
        }
        if let Some(acquirer) = &self.card_acquirer {
            acquirer.validate()?;
        }
        Ok(())
    }
}

impl WeChatConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_url("wechat", &self.base_url)?;
        check_fee_rate("wechat", self.fee_rate_ppm)?;
        check_token("wechat", "appid", &self.appid, 32)?;
        if self.mch_id.is_empty()
            || self.mch_id.len() > 32
            || !self.mch_id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid("wechat.mch_id".into(), "the merchant number, digits only"));
        }
        if self.api_key.expose_secret().len() != 32
            || !self.api_key.expose_secret().bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(invalid("wechat.api_key".into(), "the 32-character v2 API key (letters and digits)"));
        }
        if self.spbill_create_ip.parse::<std::net::IpAddr>().is_err() {
            return Err(invalid("wechat.spbill_create_ip".into(), "an IPv4 or IPv6 address"));
        }
        match (&self.client_identity_pem, &self.client_cert_pem, &self.client_key_pem) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(invalid(
                    "wechat.client_identity_pem".into(),
                    "left out when client_cert_pem and client_key_pem name the two files",
                ))
            }
            (None, Some(_), None) => {
                return Err(invalid(
                    "wechat.client_key_pem".into(),
                    "the merchant private key (apiclient_key.pem) that goes with client_cert_pem",
                ))
            }
            (None, None, Some(_)) => {
                return Err(invalid(
                    "wechat.client_cert_pem".into(),
                    "the merchant certificate (apiclient_cert.pem) that goes with client_key_pem",
                ))
            }
            (None, None, None) if !is_loopback(&self.base_url) => {
                return Err(invalid(
                    "wechat.client_cert_pem".into(),
                    "the merchant certificate (apiclient_cert.pem, with client_key_pem = apiclient_key.pem; \
                     or client_identity_pem with both in one file), needed for reverse and refund unless \
                     base_url is loopback",
                ))
            }
            _ => {}
        }
        check_timeouts("wechat", [self.connect_timeout_ms, self.request_timeout_ms, self.pay_timeout_ms])
    }
}

impl AlipayConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_url("alipay", &self.base_url)?;
        check_fee_rate("alipay", self.fee_rate_ppm)?;
        if self.app_id.is_empty() || !self.app_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("alipay.app_id".into(), "the numeric app id"));
        }
        check_timeouts("alipay", [self.connect_timeout_ms, self.request_timeout_ms, self.pay_timeout_ms])
    }
}

impl UnionPayConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_url("unionpay", &self.base_url)?;
        check_fee_rate("unionpay", self.fee_rate_ppm)?;
        if self.mer_id.len() != 15 || !self.mer_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid("unionpay.mer_id".into(), "the 15-character merchant id"));
        }
        if self.secure_key.expose_secret().len() < 16 {
            return Err(invalid(
                "unionpay.secure_key".into(),
                "the acquirer's secure key (at least 16 characters)",
            ));
        }
        check_timeouts("unionpay", [self.connect_timeout_ms, self.request_timeout_ms, self.pay_timeout_ms])
    }
}

impl CardAcquirerConfig {
    /// The portal is on this machine: the acquirer simulator, which simulated terminals report
    /// their approvals to (a real acquirer hears from its terminals itself).
    pub fn is_simulator(&self) -> bool {
        is_loopback(&self.base_url)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        check_url("card_acquirer", &self.base_url)?;
        check_fee_rate("card_acquirer", self.fee_rate_ppm)?;
        if self.merchant_id.len() != 15 || !self.merchant_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("card_acquirer.merchant_id".into(), "the 15-digit merchant id"));
        }
        if self.key.expose_secret().len() < 16 {
            return Err(invalid("card_acquirer.key".into(), "the portal key (at least 16 characters)"));
        }
        let timeouts = [self.connect_timeout_ms, self.request_timeout_ms, self.request_timeout_ms];
        check_timeouts("card_acquirer", timeouts)
    }
}

/// A fee rate above 5% is a typo (a rate in basis points or percent), not a contract.
fn check_fee_rate(channel: &str, ppm: Option<u32>) -> Result<(), ConfigError> {
    match ppm {
        Some(ppm) if ppm > 50_000 => Err(invalid(
            format!("{channel}.fee_rate_ppm"),
            "the fee in parts per million of the amount (0.60% is 6000), at most 50000",
        )),
        _ => Ok(()),
    }
}

pub(crate) fn timeouts(connect_ms: u64, request_ms: u64, pay_ms: u64) -> crate::transport::Timeouts {
    use std::time::Duration;
    crate::transport::Timeouts {
        connect: Duration::from_millis(connect_ms),
        request: Duration::from_millis(request_ms),
        pay: Duration::from_millis(pay_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "https://LOCALHOST:1/x",
            "http://[::1]:9",
            "http://127.3.2.1",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://api.mch.weixin.qq.com",
            "http://10.0.0.1:80",
            "http://127.0.0.1.example.com",
            "http://localhost.example.com",
            "http://[::2]:9",
            "http://user@example.com",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
