//! WeChat Pay v2 付款码支付 client (payments.md §1): micropay, orderquery, reverse, refund,
//! refundquery and the daily bill, XML over HTTPS, signed both ways with the configured
//! `sign_type` (HMAC-SHA256 by default, or MD5).

pub(crate) mod bill;
pub(crate) mod map;
pub mod sign;
pub(crate) mod xml;

use crate::config::{timeouts, ConfigError, WeChatConfig};
use crate::request::{OrderCall, PayRequest, RefundRequest};
use crate::statement::{StatementError, StatementRow};
use crate::transport::{error_chain, Http};
use chrono::NaiveDate;
use kiosk_core::{OrderRef, PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply};
use rand::distributions::{Alphanumeric, DistString};
use secrecy::ExposeSecret;
use sign::Params;
use std::path::Path;
use std::time::Duration;

/// WeChat limits `body` to 128 bytes.
const MAX_BODY_BYTES: usize = 128;
const XML: &str = "text/xml; charset=utf-8";

/// A configured WeChat Pay v2 client.
#[derive(Clone, Debug)]
pub struct WeChatClient {
    http: Http,
    config: WeChatConfig,
}

/// The merchant certificate as configured: where it came from (for error messages) and the PEM
/// text reqwest reads (certificate, then private key).
struct MerchantCert {
    /// The key to blame when the TLS library refuses the pair, and its file.
    key: &'static str,
    path: std::path::PathBuf,
    /// Appended to the TLS library's reason: the other file, for a split pair.
    with: String,
    pem: Vec<u8>,
}

fn read_pem(key: &'static str, path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        key: key.to_string(),
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| ConfigError::BadKey {
        key: key.to_string(),
        path: path.to_path_buf(),
        reason: "not a PEM text file".into(),
    })
}

/// Whether `pem` has a `-----BEGIN <label>-----` block for a label ending in `suffix`.
fn has_block(pem: &str, suffix: &str) -> bool {
    pem.lines().any(|line| {
        line.trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .is_some_and(|label| label.ends_with(suffix))
    })
}

fn require_block(
    key: &'static str,
    path: &Path,
    pem: &str,
    suffix: &str,
    what: &str,
) -> Result<(), ConfigError> {
    if has_block(pem, suffix) {
        return Ok(());
    }
    Err(ConfigError::BadKey {
        key: key.to_string(),
        path: path.to_path_buf(),
        reason: format!("no {what} in it (a \"-----BEGIN …{suffix}-----\" block)"),
    })
}

/// Reads the configured certificate files: `client_cert_pem` + `client_key_pem` (as WeChat issues
/// them), or `client_identity_pem` (both in one file). Every problem names its key and file.
fn merchant_cert(config: &WeChatConfig) -> Result<Option<MerchantCert>, ConfigError> {
    const CERT: &str = "CERTIFICATE";
    const KEY: &str = "PRIVATE KEY";
    match (&config.client_identity_pem, &config.client_cert_pem, &config.client_key_pem) {
        (None, Some(cert_path), Some(key_path)) => {
            let cert = read_pem("wechat.client_cert_pem", cert_path)?;
            require_block("wechat.client_cert_pem", cert_path, &cert, CERT, "certificate")?;
            let key = read_pem("wechat.client_key_pem", key_path)?;
            require_block("wechat.client_key_pem", key_path, &key, KEY, "private key")?;
            let mut pem = cert.into_bytes();
            pem.push(b'\n');
            pem.extend_from_slice(key.as_bytes());
            Ok(Some(MerchantCert {
                key: "wechat.client_key_pem",
                path: key_path.clone(),
                with: format!(" (with the certificate {}, wechat.client_cert_pem)", cert_path.display()),
                pem,
            }))
        }
        (Some(path), None, None) => {
            let key = "wechat.client_identity_pem";
            let text = read_pem(key, path)?;
            require_block(key, path, &text, CERT, "certificate")?;
            require_block(key, path, &text, KEY, "private key")?;
            Ok(Some(MerchantCert { key, path: path.clone(), with: String::new(), pem: text.into_bytes() }))
        }
        // Other combinations were refused by `validate`.
        _ => Ok(None),
    }
}

impl WeChatClient {
    /// Checks `config`, loads the merchant certificate (if configured) and builds the HTTP client.
    pub fn new(config: &WeChatConfig) -> Result<WeChatClient, ConfigError> {
        config.validate()?;
        let cert = merchant_cert(config)?;
        let refused = |cert: &MerchantCert, reason: String| ConfigError::BadKey {
            key: cert.key.to_string(),
            path: cert.path.clone(),
            reason: format!("{reason}{}", cert.with),
        };
        let identity = match &cert {
            Some(cert) => {
                Some(reqwest::Identity::from_pem(&cert.pem).map_err(|e| refused(cert, error_chain(&e)))?)
            }
            None => None,
        };
        let limits = timeouts(config.connect_timeout_ms, config.request_timeout_ms, config.pay_timeout_ms);
        // The TLS library checks the key itself only here, when it builds its configuration.
        let http = Http::new(limits, identity).map_err(|e| match &cert {
            Some(cert) => refused(cert, error_chain(&e)),
            None => ConfigError::Http { key: "wechat".into(), reason: error_chain(&e) },
        })?;
        Ok(WeChatClient { http, config: config.clone() })
    }

    /// The merchant account's fee rate (parts per million), as configured.
    pub fn fee_rate_ppm(&self) -> Option<u32> {
        self.config.fee_rate_ppm
    }

    /// Whether the channel's host can be reached now (the network path, not the API).
    pub async fn reaches(&self) -> bool {
        self.http.reaches(&self.config.base_url).await
    }

    /// `/pay/micropay`.
    pub async fn pay(&self, request: &PayRequest) -> PayReply {
        let mut params = Params::new();
        params.insert("device_info".into(), request.kiosk_id.clone());
        params.insert("body".into(), truncate(&request.description, MAX_BODY_BYTES).to_string());
        params.insert("out_trade_no".into(), request.order.to_string());
        params.insert("total_fee".into(), request.total.0.to_string());
        params.insert("fee_type".into(), "CNY".into());
        params.insert("spbill_create_ip".into(), self.config.spbill_create_ip.clone());
        params.insert("auth_code".into(), request.code.expose().to_string());
        let reply = match self.call("/pay/micropay", params, self.http.timeouts.pay).await {
            Ok(reply) => map::pay(&reply, &request.call()),
            Err(detail) => PayReply::Unknown { detail },
        };
        crate::log_reply("wechat", &request.order, "pay", &reply);
        reply
    }

    /// `/pay/orderquery` by our order number; the reply must name our order and amount.
    pub async fn query(&self, call: &OrderCall) -> QueryReply {
        let reply =
            match self.call("/pay/orderquery", order_params(&call.order), self.http.timeouts.request).await {
                Ok(reply) => map::query(&reply, call),
                Err(detail) => QueryReply::Unknown { detail },
            };
        crate::log_reply("wechat", &call.order, "query", &reply);
        reply
    }

    /// `/secapi/pay/reverse`: closes an unpaid order, refunds a paid one (§1.6).
    ///
    /// The v2 reverse reply does not say which, so a successful reverse is followed by one query
    /// and [`map::reversed`] reads the answer. When that query fails or does not settle the
    /// question the answer is "retry": reverse is idempotent, and guessing would misreport.
    pub async fn reverse(&self, call: &OrderCall) -> ReverseReply {
        let order = &call.order;
        let reply = match self
            .call("/secapi/pay/reverse", order_params(order), self.http.timeouts.request)
            .await
        {
            Ok(reply) => match map::reverse(&reply) {
                map::Reverse::Done => {
                    match self.call("/pay/orderquery", order_params(order), self.http.timeouts.request).await
                    {
                        Ok(query) => map::reversed(&query, call),
                        Err(detail) => ReverseReply::Retry {
                            detail: format!("reversed, but the follow-up query failed: {detail}"),
                        },
                    }
                }
                map::Reverse::Other(reply) => reply,
            },
            Err(detail) => ReverseReply::Retry { detail },
        };
        crate::log_reply("wechat", order, "reverse", &reply);
        reply
    }

    /// `/secapi/pay/refund` with the stable `out_refund_no`. `SUCCESS` is only "accepted": the
    /// money arrives later, as [`Self::refund_status`] tells.
    pub async fn refund(&self, request: &RefundRequest) -> RefundReply {
        let mut params = order_params(&request.order);
        params.insert("out_refund_no".into(), request.refund_no.clone());
        params.insert("total_fee".into(), request.order_total.0.to_string());
        params.insert("refund_fee".into(), request.amount.0.to_string());
        let reply = match self.call("/secapi/pay/refund", params, self.http.timeouts.request).await {
            Ok(reply) => map::refund(&reply, request),
            Err(detail) => RefundReply::Unknown { detail },
        };
        crate::log_reply("wechat", &request.order, "refund", &reply);
        reply
    }

    /// `/pay/refundquery` by the refund's `out_refund_no`.
    pub async fn refund_status(&self, request: &RefundRequest) -> RefundQueryReply {
        let mut params = Params::new();
        params.insert("out_refund_no".into(), request.refund_no.clone());
        let reply = match self.call("/pay/refundquery", params, self.http.timeouts.request).await {
            Ok(reply) => map::refund_query(&reply, request),
            Err(detail) => RefundQueryReply::Unknown { detail },
        };
        crate::log_reply("wechat", &request.order, "refund_status", &reply);
        reply
    }

    /// `/pay/downloadbill` (`bill_type=ALL`) for the Beijing calendar day `date`, parsed.
    pub async fn statement(&self, date: NaiveDate) -> Result<Vec<StatementRow>, StatementError> {
        bill::parse_file(&self.fetch_statement(date).await?)
    }

    /// The downloadbill file of `date` as WeChat sent it, gzip'd (empty for a day without
    /// trades).
    pub async fn fetch_statement(&self, date: NaiveDate) -> Result<Vec<u8>, StatementError> {
        let fetch = |detail: String| StatementError::Fetch { channel: "wechat", detail };
        let mut params = Params::new();
        params.insert("bill_date".into(), date.format("%Y%m%d").to_string());
        params.insert("bill_type".into(), "ALL".into());
        // Compressed: a busy merchant's day is megabytes of text. Kept as received (gzip).
        params.insert("tar_type".into(), "GZIP".into());
        let body = xml::encode(&self.signed(params));
        let url = format!("{}/pay/downloadbill", self.config.base_url);
        let bytes = self.http.post_for_file(&url, XML, body).await.map_err(|e| fetch(e.to_string()))?;
        // A failure comes back as an XML envelope instead of the file.
        let text = String::from_utf8_lossy(&bytes);
        if text.trim_start().starts_with("<xml") {
            let reply = xml::decode(&text).map_err(|e| fetch(e.to_string()))?;
            let message = ["err_code_des", "return_msg", "err_code"]
                .iter()
                .filter_map(|k| reply.get(*k))
                .find(|v| !v.is_empty() && *v != "OK")
                .cloned()
                .unwrap_or_default();
            // WeChat publishes no file for a day without trades.
            if message.contains("No Bill Exist") {
                return Ok(Vec::new());
            }
            return Err(fetch(message));
        }
        Ok(bytes)
    }

    /// The merchant the statements are of (`mch_id`).
    pub fn merchant(&self) -> &str {
        &self.config.mch_id
    }

    /// Adds the account ids, a nonce and the signature.
    fn signed(&self, mut params: Params) -> Params {
        params.insert("appid".into(), self.config.appid.clone());
        params.insert("mch_id".into(), self.config.mch_id.clone());
        params.insert("nonce_str".into(), Alphanumeric.sample_string(&mut rand::thread_rng(), 32));
        params.insert("sign_type".into(), self.config.sign_type.wire().into());
        let signature = sign::sign(&params, self.config.api_key.expose_secret(), self.config.sign_type);
        params.insert("sign".into(), signature);
        params
    }

    /// Sends one call and returns the reply's fields if the reply is a signed, well-formed
    /// `return_code=SUCCESS` envelope for our merchant; otherwise why not, as the detail of an
    /// "unknown" answer.
    async fn call(&self, path: &str, params: Params, timeout: Duration) -> Result<Params, String> {
        let body = xml::encode(&self.signed(params));
        let url = format!("{}{path}", self.config.base_url);
        let bytes = self.http.post(&url, XML, body, timeout).await.map_err(|e| e.to_string())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| "reply is not UTF-8".to_string())?;
        let reply = xml::decode(text).map_err(|e| e.to_string())?;
        let return_code = reply.get("return_code").map(String::as_str).unwrap_or("");
        if return_code != "SUCCESS" {
            // Unsigned by WeChat's design, so it cannot prove that no money moved.
            let message = reply.get("return_msg").map(String::as_str).unwrap_or("");
            return Err(format!("return_code={return_code:?} {message}").trim().to_string());
        }
        // WeChat signs the reply the way the request was signed.
        if !sign::verify(&reply, self.config.api_key.expose_secret(), self.config.sign_type) {
            return Err("reply signature missing or invalid".into());
        }
        for (key, ours) in [("appid", &self.config.appid), ("mch_id", &self.config.mch_id)] {
            if reply.get(key).is_some_and(|theirs| theirs != ours) {
                return Err(format!("reply is for another {key}"));
            }
        }
        Ok(reply)
    }
}

fn order_params(order: &OrderRef) -> Params {
    let mut params = Params::new();
    params.insert("out_trade_no".into(), order.to_string());
    params
}

/// The longest prefix of `text` within `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    &text[..end]
}
