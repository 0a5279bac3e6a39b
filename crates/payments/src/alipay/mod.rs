//! Alipay 当面付 barcode-pay client (payments.md §2): `alipay.trade.pay`, `.query`, `.cancel`,
//! `.refund`, `alipay.trade.fastpay.refund.query` and the bill download URL, form-posted to the
//! gateway, RSA2 signed both ways.

pub(crate) mod bill;
pub(crate) mod envelope;
pub(crate) mod map;
pub mod sign;

use crate::beijing;
use crate::config::{timeouts, AlipayConfig, ConfigError};
use crate::request::{OrderCall, PayRequest, RefundRequest};
use crate::statement::{StatementError, StatementRow};
use crate::transport::{error_chain, Http};
use chrono::NaiveDate;
use kiosk_core::{PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply};
use serde_json::json;
use sign::{RsaSigner, RsaVerifier};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const FORM: &str = "application/x-www-form-urlencoded;charset=utf-8";
/// Alipay limits `subject` to 256 characters.
const MAX_SUBJECT_CHARS: usize = 256;

/// A configured Alipay client.
#[derive(Clone, Debug)]
pub struct AlipayClient {
    http: Http,
    gateway: String,
    app_id: String,
    signer: RsaSigner,
    verifier: RsaVerifier,
    fee_rate_ppm: Option<u32>,
}

impl AlipayClient {
    /// Checks `config`, loads both keys and builds the HTTP client.
    pub fn new(config: &AlipayConfig) -> Result<AlipayClient, ConfigError> {
        config.validate()?;
        let private =
            read_key("alipay.app_private_key_path", &config.app_private_key_path, sign::parse_private_key)?;
        let public = read_key(
            "alipay.alipay_public_key_path",
            &config.alipay_public_key_path,
            sign::parse_public_key,
        )?;
        let limits = timeouts(config.connect_timeout_ms, config.request_timeout_ms, config.pay_timeout_ms);
        let http = Http::new(limits, None)
            .map_err(|e| ConfigError::Http { key: "alipay".into(), reason: error_chain(&e) })?;
        Ok(AlipayClient {
            http,
            gateway: format!("{}/gateway.do", config.base_url),
            app_id: config.app_id.clone(),
            signer: RsaSigner::new(private),
            verifier: RsaVerifier::new(public),
            fee_rate_ppm: config.fee_rate_ppm,
        })
    }

    /// The merchant account's fee rate (parts per million), as configured.
    pub fn fee_rate_ppm(&self) -> Option<u32> {
        self.fee_rate_ppm
    }

    /// Whether the channel's host can be reached now (the network path, not the API).
    pub async fn reaches(&self) -> bool {
        self.http.reaches(&self.gateway).await
    }

    /// `alipay.trade.pay`, scene `bar_code`; the amount goes on the wire in yuan.
    pub async fn pay(&self, request: &PayRequest) -> PayReply {
        let subject: String = request.description.chars().take(MAX_SUBJECT_CHARS).collect();
        let biz = json!({
            "out_trade_no": request.order.as_str(),
            "scene": "bar_code",
            "auth_code": request.code.expose(),
            "product_code": "FACE_TO_FACE_PAYMENT",
            "subject": subject,
            "total_amount": request.total.to_yuan_string(),
            "terminal_id": request.kiosk_id,
        });
        let reply = match self.send("alipay.trade.pay", &biz, self.http.timeouts.pay).await {
            Ok(reply) => map::pay(&reply, &request.call()),
            Err(detail) => PayReply::Unknown { detail },
        };
        crate::log_reply("alipay", &request.order, "pay", &reply);
        reply
    }

    /// `alipay.trade.query` by our order number; the reply must name our order and amount.
    pub async fn query(&self, call: &OrderCall) -> QueryReply {
        let biz = json!({ "out_trade_no": call.order.as_str() });
        let reply = match self.send("alipay.trade.query", &biz, self.http.timeouts.request).await {
            Ok(reply) => map::query(&reply, call),
            Err(detail) => QueryReply::Unknown { detail },
        };
        crate::log_reply("alipay", &call.order, "query", &reply);
        reply
    }

    /// `alipay.trade.cancel`: closes an unpaid order, refunds a paid one (`action`).
    pub async fn cancel(&self, call: &OrderCall) -> ReverseReply {
        let biz = json!({ "out_trade_no": call.order.as_str() });
        let reply = match self.send("alipay.trade.cancel", &biz, self.http.timeouts.request).await {
            Ok(reply) => map::cancel(&reply, &call.order),
            Err(detail) => ReverseReply::Retry { detail },
        };
        crate::log_reply("alipay", &call.order, "cancel", &reply);
        reply
    }

    /// `alipay.trade.refund` with the stable `out_request_no`.
    pub async fn refund(&self, request: &RefundRequest) -> RefundReply {
        let biz = json!({
            "out_trade_no": request.order.as_str(),
            "refund_amount": request.amount.to_yuan_string(),
            "out_request_no": request.refund_no,
        });
        let reply = match self.send("alipay.trade.refund", &biz, self.http.timeouts.request).await {
            Ok(reply) => map::refund(&reply, request),
            Err(detail) => RefundReply::Unknown { detail },
        };
        crate::log_reply("alipay", &request.order, "refund", &reply);
        reply
    }

    /// `alipay.trade.fastpay.refund.query` by our order number and the stable `out_request_no`.
    pub async fn refund_status(&self, request: &RefundRequest) -> RefundQueryReply {
        let biz = json!({
            "out_trade_no": request.order.as_str(),
            "out_request_no": request.refund_no,
        });
        let method = "alipay.trade.fastpay.refund.query";
        let reply = match self.send(method, &biz, self.http.timeouts.request).await {
            Ok(reply) => map::refund_query(&reply, request),
            Err(detail) => RefundQueryReply::Unknown { detail },
        };
        crate::log_reply("alipay", &request.order, "refund_status", &reply);
        reply
    }

    /// The trade bill of Beijing day `date`: asks for the download URL, then fetches the zip and
    /// reads it ([`bill::parse_zip`]).
    pub async fn statement(&self, date: NaiveDate) -> Result<Vec<StatementRow>, StatementError> {
        bill::parse_zip(&self.fetch_statement(date).await?)
    }

    /// The trade bill of `date` as Alipay's 30-second URL served it: a zip of GBK CSV files.
    pub async fn fetch_statement(&self, date: NaiveDate) -> Result<Vec<u8>, StatementError> {
        let fetch = |detail: String| StatementError::Fetch { channel: "alipay", detail };
        let method = "alipay.data.dataservice.bill.downloadurl.query";
        let biz = json!({ "bill_type": "trade", "bill_date": date.format("%Y-%m-%d").to_string() });
        let reply = self.send(method, &biz, self.http.timeouts.request).await.map_err(fetch)?;
        let url = map::Reply::get(&reply, "bill_download_url").and_then(|v| v.as_str()).unwrap_or("");
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            let code = reply.get("sub_code").or_else(|| reply.get("code")).cloned().unwrap_or_default();
            return Err(fetch(format!("no bill_download_url ({code})")));
        }
        self.http.get(url).await.map_err(|e| fetch(e.to_string()))
    }

    /// The merchant the statements are of (the app id).
    pub fn merchant(&self) -> &str {
        &self.app_id
    }

    /// Signs and posts one call; returns the response object only if its signature verifies.
    async fn send(
        &self,
        method: &str,
        biz: &serde_json::Value,
        timeout: Duration,
    ) -> Result<map::Reply, String> {
        let mut params = BTreeMap::new();
        params.insert("app_id".to_string(), self.app_id.clone());
        params.insert("method".to_string(), method.to_string());
        params.insert("format".to_string(), "JSON".to_string());
        params.insert("charset".to_string(), "utf-8".to_string());
        params.insert("sign_type".to_string(), "RSA2".to_string());
        params.insert("timestamp".to_string(), beijing::now().format("%Y-%m-%d %H:%M:%S").to_string());
        params.insert("version".to_string(), "1.0".to_string());
        params.insert("biz_content".to_string(), biz.to_string());
        let signature =
            self.signer.sign(sign::string_to_sign(&params).as_bytes()).ok_or("could not sign the request")?;
        params.insert("sign".to_string(), signature);
        let body = serde_urlencoded::to_string(&params).map_err(|e| e.to_string())?;

        let bytes = self.http.post(&self.gateway, FORM, body, timeout).await.map_err(|e| e.to_string())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| "reply is not UTF-8".to_string())?;
        let envelope = envelope::split(text, method)?;
        let signature = envelope.sign.ok_or("reply is not signed")?;
        if !self.verifier.verify(envelope.content.as_bytes(), &signature) {
            return Err("reply signature invalid".into());
        }
        serde_json::from_str(envelope.content).map_err(|e| format!("response object: {e}"))
    }
}

pub(crate) fn read_key<K>(
    key: &str,
    path: &Path,
    parse: fn(&str) -> Result<K, String>,
) -> Result<K, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        key: key.to_string(),
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).map_err(|reason| ConfigError::BadKey {
        key: key.to_string(),
        path: path.to_path_buf(),
        reason,
    })
}
