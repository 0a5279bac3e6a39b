//! WeChat Pay v2 付款码支付 client (payments.md §1): micropay, orderquery, reverse, refund and the
//! daily bill, XML over HTTPS, HMAC-SHA256 signed both ways.

pub(crate) mod bill;
pub(crate) mod map;
pub mod sign;
pub(crate) mod xml;

use crate::config::{timeouts, ConfigError, WeChatConfig};
use crate::request::{PayRequest, RefundRequest};
use crate::statement::{StatementError, StatementRow};
use crate::transport::Http;
use chrono::NaiveDate;
use kiosk_core::{OrderRef, PayReply, QueryReply, RefundReply, ReverseReply};
use rand::distributions::{Alphanumeric, DistString};
use sign::{Params, SignType};
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

impl WeChatClient {
    /// Checks `config`, loads the optional client certificate and builds the HTTP client.
    pub fn new(config: &WeChatConfig) -> Result<WeChatClient, ConfigError> {
        config.validate()?;
        let identity = match &config.client_identity_pem {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|source| ConfigError::Read {
                    key: "wechat.client_identity_pem".into(),
                    path: path.clone(),
                    source,
                })?;
                Some(reqwest::Identity::from_pem(&pem).map_err(|e| ConfigError::BadKey {
                    key: "wechat.client_identity_pem".into(),
                    path: path.clone(),
                    reason: e.to_string(),
                })?)
            }
            None => None,
        };
        let limits = timeouts(config.connect_timeout_ms, config.request_timeout_ms, config.pay_timeout_ms);
        let http = Http::new(limits, identity)
            .map_err(|e| ConfigError::Http { key: "wechat".into(), reason: e.to_string() })?;
        Ok(WeChatClient { http, config: config.clone() })
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
            Ok(reply) => map::pay(&reply),
            Err(detail) => PayReply::Unknown { detail },
        };
        crate::log_reply("wechat", &request.order, "pay", &reply);
        reply
    }

    /// `/pay/orderquery` by our order number.
    pub async fn query(&self, order: &OrderRef) -> QueryReply {
        let reply = match self.call("/pay/orderquery", order_params(order), self.http.timeouts.request).await
        {
            Ok(reply) => map::query(&reply),
            Err(detail) => QueryReply::Unknown { detail },
        };
        crate::log_reply("wechat", order, "query", &reply);
        reply
    }

    /// `/secapi/pay/reverse`: closes an unpaid order, refunds a paid one (§1.6).
    ///
    /// The v2 reverse reply does not say which, so a successful reverse is followed by one query
    /// and [`map::reversed`] reads the answer. When that query fails or does not settle the
    /// question the answer is "retry": reverse is idempotent, and guessing `refunded: false`
    /// would misreport a paid order.
    pub async fn reverse(&self, order: &OrderRef) -> ReverseReply {
        let reply = match self
            .call("/secapi/pay/reverse", order_params(order), self.http.timeouts.request)
            .await
        {
            Ok(reply) => match map::reverse(&reply) {
                map::Reverse::Done => {
                    match self.call("/pay/orderquery", order_params(order), self.http.timeouts.request).await
                    {
                        Ok(query) => map::reversed(&query),
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

    /// `/secapi/pay/refund` with the stable `out_refund_no`.
    pub async fn refund(&self, request: &RefundRequest) -> RefundReply {
        let mut params = order_params(&request.order);
        params.insert("out_refund_no".into(), request.refund_no.clone());
        params.insert("total_fee".into(), request.order_total.0.to_string());
        params.insert("refund_fee".into(), request.amount.0.to_string());
        let reply = match self.call("/secapi/pay/refund", params, self.http.timeouts.request).await {
            Ok(reply) => map::refund(&reply),
            Err(detail) => RefundReply::Unknown { detail },
        };
        crate::log_reply("wechat", &request.order, "refund", &reply);
        reply
    }

    /// `/pay/downloadbill` (`bill_type=ALL`) for the Beijing calendar day `date`.
    pub async fn statement(&self, date: NaiveDate) -> Result<Vec<StatementRow>, StatementError> {
        let fetch = |detail: String| StatementError::Fetch { channel: "wechat", detail };
        let mut params = Params::new();
        params.insert("bill_date".into(), date.format("%Y%m%d").to_string());
        params.insert("bill_type".into(), "ALL".into());
        let body = xml::encode(&self.signed(params));
        let url = format!("{}/pay/downloadbill", self.config.base_url);
        let bytes = self.http.post_for_file(&url, XML, body).await.map_err(|e| fetch(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| fetch("bill is not UTF-8".into()))?;
        // A failure comes back as an XML envelope instead of the file.
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
        bill::parse(&text)
    }

    /// Adds the account ids, a nonce and the signature.
    fn signed(&self, mut params: Params) -> Params {
        params.insert("appid".into(), self.config.appid.clone());
        params.insert("mch_id".into(), self.config.mch_id.clone());
        params.insert("nonce_str".into(), Alphanumeric.sample_string(&mut rand::thread_rng(), 32));
        params.insert("sign_type".into(), SignType::HmacSha256.wire().into());
        let signature = sign::sign(&params, self.config.api_key.expose(), SignType::HmacSha256);
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
        if !sign::verify(&reply, self.config.api_key.expose(), SignType::HmacSha256) {
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
