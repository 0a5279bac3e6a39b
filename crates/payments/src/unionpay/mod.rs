//! UnionPay QR payment codes (云闪付付款码) through the acquirer's ACP-style form API (payments.md
//! §3.1): consume, query, 消费撤销 and 退货, `version=5.1.0`, `signMethod=11`.
//!
//! ACP identifies an original transaction by its `queryId`, which the kiosk does not journal; so
//! cancel and refund first query the order, then send `origQryId` when known and always
//! `origOrderId` (the acquirer's extension that lets it close an order it never saw, so that a
//! late consume cannot succeed after the kiosk gave up).

pub(crate) mod map;
pub mod sign;

use crate::beijing;
use crate::config::{timeouts, ConfigError, UnionPayConfig};
use crate::request::{PayRequest, RefundRequest};
use crate::transport::Http;
use kiosk_core::{OrderRef, PayReply, QueryReply, RefundReply, ReverseReply};
use sha2::{Digest, Sha256};
use sign::Fields;
use std::time::Duration;

const FORM: &str = "application/x-www-form-urlencoded;charset=UTF-8";
/// Back-end transactions: consume, cancel, refund.
pub(crate) const BACK_PATH: &str = "/gateway/api/backTransReq.do";
/// Single-transaction query.
pub(crate) const QUERY_PATH: &str = "/gateway/api/queryTrans.do";

/// A configured UnionPay (acquirer) client.
#[derive(Clone, Debug)]
pub struct UnionPayClient {
    http: Http,
    config: UnionPayConfig,
}

/// What a query tells cancel and refund about the original consume.
struct Original {
    query_id: Option<String>,
    amount: Option<String>,
    paid: bool,
}

impl UnionPayClient {
    pub fn new(config: &UnionPayConfig) -> Result<UnionPayClient, ConfigError> {
        config.validate()?;
        let limits = timeouts(config.connect_timeout_ms, config.request_timeout_ms, config.pay_timeout_ms);
        let http = Http::new(limits, None)
            .map_err(|e| ConfigError::Http { key: "unionpay".into(), reason: e.to_string() })?;
        Ok(UnionPayClient { http, config: config.clone() })
    }

    /// Consume (txnType 01, txnSubType 06: payment code scanned by the merchant).
    pub async fn pay(&self, request: &PayRequest) -> PayReply {
        let mut fields = self.common("01", "06", request.order.as_str());
        fields.insert("txnAmt".into(), request.total.0.to_string());
        fields.insert("currencyCode".into(), "156".into());
        fields.insert("qrNo".into(), request.code.expose().to_string());
        fields.insert("termId".into(), request.kiosk_id.clone());
        let reply = match self.call(BACK_PATH, fields, self.http.timeouts.pay).await {
            Ok(reply) => map::pay(&reply),
            Err(detail) => PayReply::Unknown { detail },
        };
        crate::log_reply("unionpay", &request.order, "pay", &reply);
        reply
    }

    /// Query (txnType 00) of the consume with our order number.
    pub async fn query(&self, order: &OrderRef) -> QueryReply {
        let reply = match self.query_fields(order).await {
            Ok(reply) => map::query(&reply),
            Err(detail) => QueryReply::Unknown { detail },
        };
        crate::log_reply("unionpay", order, "query", &reply);
        reply
    }

    /// 消费撤销 (txnType 31): closes an unpaid order, gives back a paid one. Its own order number
    /// is derived from ours, so a retry is the same transaction.
    pub async fn cancel(&self, order: &OrderRef) -> ReverseReply {
        let original = self.original(order).await;
        let mut fields = self.common("31", "00", &derived_order_id(&format!("{order}C")));
        add_original(&mut fields, order, &original);
        let reply = match self.call(BACK_PATH, fields, self.http.timeouts.request).await {
            Ok(reply) => map::cancel(&reply, original.paid),
            Err(detail) => ReverseReply::Retry { detail },
        };
        crate::log_reply("unionpay", order, "cancel", &reply);
        reply
    }

    /// 退货 (txnType 04) whose order number is the stable refund number.
    pub async fn refund(&self, request: &RefundRequest) -> RefundReply {
        let original = self.original(&request.order).await;
        let mut fields = self.common("04", "00", &derived_order_id(&request.refund_no));
        add_original(&mut fields, &request.order, &original);
        fields.insert("txnAmt".into(), request.amount.0.to_string());
        let reply = match self.call(BACK_PATH, fields, self.http.timeouts.request).await {
            Ok(reply) => map::refund(&reply),
            Err(detail) => RefundReply::Unknown { detail },
        };
        crate::log_reply("unionpay", &request.order, "refund", &reply);
        reply
    }

    async fn query_fields(&self, order: &OrderRef) -> Result<Fields, String> {
        let fields = self.common("00", "00", order.as_str());
        self.call(QUERY_PATH, fields, self.http.timeouts.request).await
    }

    /// Best effort: a failed query leaves every field unknown and the call goes on with
    /// `origOrderId` alone.
    async fn original(&self, order: &OrderRef) -> Original {
        match self.query_fields(order).await {
            Ok(reply) if reply.get("respCode").map(String::as_str) == Some("00") => {
                let nonempty = |key: &str| reply.get(key).filter(|v| !v.is_empty()).cloned();
                Original {
                    query_id: nonempty("queryId"),
                    amount: nonempty("txnAmt"),
                    paid: reply.get("origRespCode").map(String::as_str) == Some("00"),
                }
            }
            _ => Original { query_id: None, amount: None, paid: false },
        }
    }

    fn common(&self, txn_type: &str, sub_type: &str, order_id: &str) -> Fields {
        let mut fields = Fields::new();
        for (key, value) in [
            ("version", "5.1.0"),
            ("encoding", "UTF-8"),
            ("signMethod", "11"),
            ("txnType", txn_type),
            ("txnSubType", sub_type),
            ("bizType", "000000"),
            ("accessType", "0"),
            ("channelType", "08"),
            ("merId", &self.config.mer_id),
            ("orderId", order_id),
        ] {
            fields.insert(key.to_string(), value.to_string());
        }
        fields.insert("txnTime".into(), beijing::now().format("%Y%m%d%H%M%S").to_string());
        fields
    }

    /// Signs and posts; returns the reply only if it is signed by the acquirer for our merchant.
    async fn call(&self, path: &str, mut fields: Fields, timeout: Duration) -> Result<Fields, String> {
        let signature = sign::sign(&fields, self.config.secure_key.expose());
        fields.insert("signature".into(), signature);
        let body = serde_urlencoded::to_string(&fields).map_err(|e| e.to_string())?;
        let url = format!("{}{path}", self.config.base_url);
        let bytes = self.http.post(&url, FORM, body, timeout).await.map_err(|e| e.to_string())?;
        let reply: Fields =
            serde_urlencoded::from_bytes(&bytes).map_err(|e| format!("reply is not a form: {e}"))?;
        if !sign::verify(&reply, self.config.secure_key.expose()) {
            return Err("reply signature missing or invalid".into());
        }
        if reply.get("merId").is_some_and(|id| *id != self.config.mer_id) {
            return Err("reply is for another merId".into());
        }
        Ok(reply)
    }
}

fn add_original(fields: &mut Fields, order: &OrderRef, original: &Original) {
    fields.insert("origOrderId".into(), order.to_string());
    if let Some(id) = &original.query_id {
        fields.insert("origQryId".into(), id.clone());
    }
    if let Some(amount) = &original.amount {
        fields.insert("txnAmt".into(), amount.clone());
    }
}

/// ACP order ids are 8–32 letters or digits. A longer derived number (our refund numbers can
/// reach 34 characters) is replaced by 32 hex digits of its SHA-256: stable, so retries match.
pub(crate) fn derived_order_id(text: &str) -> String {
    if (8..=32).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        text.to_string()
    } else {
        hex::encode_upper(&Sha256::digest(text.as_bytes())[..16])
    }
}
