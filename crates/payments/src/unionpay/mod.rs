//! UnionPay QR payment codes (云闪付付款码) through the acquirer's ACP-style form API (payments.md
//! §3.1): consume, query, 消费撤销 and 退货, `version=5.1.0`, `signMethod=11`.
//!
//! ACP names a transaction by `orderId` *and* `txnTime` (the merchant's send time, Beijing
//! `YYYYMMDDhhmmss`): a query must carry the queried transaction's own `txnTime`, not the time of
//! the query, and a request with the same `orderId` and a *new* `txnTime` is a new transaction.
//! So every transaction we send carries a journaled send time, the same on every retry: the
//! consume [`PayRequest::sent_at`], the cancel the `reverse_sent_at` of [`UnionPayClient::cancel`],
//! the refund [`RefundRequest::sent_at`]; a retry after a lost reply is then an idempotent replay,
//! never a second cancel or a second 退货.
//!
//! Cancel and refund name the original by `origQryId`, which the kiosk does not journal; so they
//! first query the original. When that query does not yield a `queryId` (no reply, a bad
//! signature, an unexpected code), nothing is sent: the answer is "retry"/"unknown", never a
//! guess. When the acquirer answers that the original does not exist (`34`), there is nothing to
//! cancel or refund: "refused", and the order query says "not found", so the core can close it.
//! (ACP's QR product also accepts `origOrderId` + `origTxnTime` instead of `origQryId`; we do not
//! use it, because cancel must know the original's state anyway to say whether money went back.)

pub mod file;
pub(crate) mod map;
pub mod sign;

use crate::beijing;
use crate::check::Verdict;
use crate::config::{timeouts, ConfigError, UnionPayConfig};
use crate::request::{OrderCall, PayRequest, RefundRequest};
use crate::transport::{error_chain, Http};
use kiosk_core::channel::acp_order_id;
use kiosk_core::{PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply, Ts};
use map::Named;
use secrecy::ExposeSecret;
use sign::Fields;
use std::time::Duration;

const FORM: &str = "application/x-www-form-urlencoded;charset=UTF-8";
/// Back-end transactions: consume, cancel, refund.
pub(crate) const BACK_PATH: &str = "/gateway/api/backTransReq.do";
/// Single-transaction query.
pub(crate) const QUERY_PATH: &str = "/gateway/api/queryTrans.do";
/// File transfer (txnType 76): the day's files.
pub(crate) const FILE_PATH: &str = "/gateway/api/fileTransRequest.do";

/// A configured UnionPay (acquirer) client.
#[derive(Clone, Debug)]
pub struct UnionPayClient {
    http: Http,
    config: UnionPayConfig,
}

/// What a query tells cancel and refund about the original consume.
struct Original {
    query_id: String,
    state: OriginalState,
}

/// The original consume's `origRespCode`, as far as cancel cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OriginalState {
    /// `00`: the customer was charged.
    Paid,
    /// `03`/`04`/`05`: not settled yet; it may complete until the cancel closes it.
    Processing,
    /// Anything else: failed, no money taken.
    NotPaid,
}

/// Why the original consume could not be named.
enum Lookup {
    /// `34`: the acquirer has no consume under this `orderId` + `txnTime`.
    NotFound(String),
    /// No reply, a bad signature, another order, an unexpected code: ask again later.
    Unclear(String),
}

impl UnionPayClient {
    pub fn new(config: &UnionPayConfig) -> Result<UnionPayClient, ConfigError> {
        config.validate()?;
        let limits = timeouts(config.connect_timeout_ms, config.request_timeout_ms, config.pay_timeout_ms);
        let http = Http::new(limits, None)
            .map_err(|e| ConfigError::Http { key: "unionpay".into(), reason: error_chain(&e) })?;
        Ok(UnionPayClient { http, config: config.clone() })
    }

    /// The merchant account's fee rate (parts per million), as configured.
    pub fn fee_rate_ppm(&self) -> Option<u32> {
        self.config.fee_rate_ppm
    }

    /// Whether the channel's host can be reached now (the network path, not the API).
    pub async fn reaches(&self) -> bool {
        self.http.reaches(&self.config.base_url).await
    }

    /// Consume (txnType 01, txnSubType 06: payment code scanned by the merchant).
    pub async fn pay(&self, request: &PayRequest) -> PayReply {
        let mut fields = self.common("01", "06", request.order.as_str(), request.sent_at);
        fields.insert("txnAmt".into(), request.total.0.to_string());
        fields.insert("currencyCode".into(), "156".into());
        fields.insert("qrNo".into(), request.code.expose().to_string());
        fields.insert("termId".into(), request.kiosk_id.clone());
        let named = Named { order_id: request.order.as_str(), amount: request.total };
        let reply = match self.call(BACK_PATH, fields, self.http.timeouts.pay).await {
            Ok(reply) => map::pay(&reply, named),
            Err(detail) => PayReply::Unknown { detail },
        };
        crate::log_reply("unionpay", &request.order, "pay", &reply);
        reply
    }

    /// Query (txnType 00) of the consume with our order number, sent at `call.sent_at`; the reply
    /// must name our order and amount.
    pub async fn query(&self, call: &OrderCall) -> QueryReply {
        let reply = match self.query_fields(call).await {
            Ok(reply) => map::query(&reply, named(call)),
            Err(detail) => QueryReply::Unknown { detail },
        };
        crate::log_reply("unionpay", &call.order, "query", &reply);
        reply
    }

    /// 消费撤销 (txnType 31) of the consume of `call`: closes an unpaid order, gives back a paid
    /// one. Its own order number is derived from ours and its `txnTime` is `reverse_sent_at`, the
    /// journaled time of the first cancel attempt: a retry is a replay of the same cancel.
    pub async fn cancel(&self, call: &OrderCall, reverse_sent_at: Ts) -> ReverseReply {
        let reply = self.cancel_original(call, reverse_sent_at).await;
        crate::log_reply("unionpay", &call.order, "cancel", &reply);
        reply
    }

    async fn cancel_original(&self, call: &OrderCall, reverse_sent_at: Ts) -> ReverseReply {
        let original = match self.original(call).await {
            Ok(original) => original,
            Err(Lookup::NotFound(detail)) => {
                return ReverseReply::Refused {
                    detail: format!("the acquirer has no such consume, nothing to cancel: {detail}"),
                }
            }
            Err(Lookup::Unclear(detail)) => {
                return ReverseReply::Retry { detail: format!("no origQryId to cancel: {detail}") }
            }
        };
        let own_id = acp_order_id(&format!("{}C", call.order));
        let mut fields = self.common("31", "00", &own_id, reverse_sent_at);
        fields.insert("origQryId".into(), original.query_id.clone());
        fields.insert("txnAmt".into(), call.total.0.to_string());
        let reply = match self.call(BACK_PATH, fields, self.http.timeouts.request).await {
            Ok(reply) => reply,
            Err(detail) => return ReverseReply::Retry { detail },
        };
        let own = Named { order_id: &own_id, amount: call.total };
        match (map::cancel(&reply, own), original.state) {
            (map::Cancel::Done, OriginalState::Paid) => ReverseReply::Done { refunded: Some(true) },
            (map::Cancel::Done, OriginalState::NotPaid) => ReverseReply::Done { refunded: Some(false) },
            // It might have completed between the query and the cancel: ask again. ACP reports
            // the consume's own result, which a later cancel does not change.
            (map::Cancel::Done, OriginalState::Processing) => match self.query(call).await {
                QueryReply::Paid { .. } => ReverseReply::Done { refunded: Some(true) },
                QueryReply::Failed { .. } => ReverseReply::Done { refunded: Some(false) },
                other => {
                    ReverseReply::Retry { detail: format!("cancelled, but then the query said {other:?}") }
                }
            },
            (map::Cancel::Other(reply), _) => reply,
        }
    }

    /// 退货 (txnType 04) whose order number is the stable refund number and whose `txnTime` is
    /// the refund's own journaled [`RefundRequest::sent_at`]. `00` is "accepted":
    /// [`Self::refund_status`] tells when the money has arrived.
    pub async fn refund(&self, request: &RefundRequest) -> RefundReply {
        let original_call = OrderCall {
            order: request.order.clone(),
            total: request.order_total,
            sent_at: request.order_sent_at,
        };
        let reply = match self.original(&original_call).await {
            Err(Lookup::NotFound(detail)) => RefundReply::Refused {
                detail: format!("the acquirer has no such consume to refund: {detail}"),
            },
            Err(Lookup::Unclear(detail)) => {
                RefundReply::Unknown { detail: format!("no origQryId to refund: {detail}") }
            }
            Ok(original) => {
                let own_id = acp_order_id(&request.refund_no);
                let mut fields = self.common("04", "00", &own_id, request.sent_at);
                fields.insert("origQryId".into(), original.query_id);
                fields.insert("txnAmt".into(), request.amount.0.to_string());
                let own = Named { order_id: &own_id, amount: request.amount };
                match self.call(BACK_PATH, fields, self.http.timeouts.request).await {
                    Ok(reply) => map::refund(&reply, own),
                    Err(detail) => RefundReply::Unknown { detail },
                }
            }
        };
        crate::log_reply("unionpay", &request.order, "refund", &reply);
        reply
    }

    /// Query (txnType 00) of the 退货 itself: its own `orderId` (from the refund number) and
    /// `txnTime` ([`RefundRequest::sent_at`]).
    pub async fn refund_status(&self, request: &RefundRequest) -> RefundQueryReply {
        let own_id = acp_order_id(&request.refund_no);
        let fields = self.common("00", "00", &own_id, request.sent_at);
        let own = Named { order_id: &own_id, amount: request.amount };
        let reply = match self.call(QUERY_PATH, fields, self.http.timeouts.request).await {
            Ok(reply) => map::refund_query(&reply, own),
            Err(detail) => RefundQueryReply::Unknown { detail },
        };
        crate::log_reply("unionpay", &request.order, "refund_status", &reply);
        reply
    }

    async fn query_fields(&self, call: &OrderCall) -> Result<Fields, String> {
        let fields = self.common("00", "00", call.order.as_str(), call.sent_at);
        self.call(QUERY_PATH, fields, self.http.timeouts.request).await
    }

    /// The original consume as the acquirer reports it, or why it could not be learnt.
    async fn original(&self, call: &OrderCall) -> Result<Original, Lookup> {
        let reply = self.query_fields(call).await.map_err(Lookup::Unclear)?;
        let field = |key: &str| reply.get(key).map(String::as_str).unwrap_or("");
        let described = || format!("query answered respCode={} {}", field("respCode"), field("respMsg"));
        match field("respCode") {
            "00" => {}
            map::NOT_FOUND => return Err(Lookup::NotFound(described().trim().to_string())),
            _ => return Err(Lookup::Unclear(described().trim().to_string())),
        }
        let state = match field("origRespCode") {
            "" => return Err(Lookup::Unclear("query answered without origRespCode".into())),
            "00" => OriginalState::Paid,
            c if map::PROCESSING.contains(&c) => OriginalState::Processing,
            _ => OriginalState::NotPaid,
        };
        if let Verdict::Other(detail) | Verdict::Unclear(detail) =
            map::verdict(&reply, named(call), state == OriginalState::Paid)
        {
            return Err(Lookup::Unclear(format!("query answered about another consume: {detail}")));
        }
        match field("queryId") {
            "" => Err(Lookup::Unclear("query answered without queryId".into())),
            id => Ok(Original { query_id: id.to_string(), state }),
        }
    }

    /// The fields every request carries. `txn_time` is the send time of the transaction the
    /// request *names*: its own for consume, cancel and refund, the consume's for a query.
    fn common(&self, txn_type: &str, sub_type: &str, order_id: &str, txn_time: Ts) -> Fields {
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
        fields.insert("txnTime".into(), txn_time_of(txn_time));
        fields
    }

    /// The acquirer's file of settlement date `date` (txnType 76, fileType 00): the ZM rows, each
    /// with its fee. `98` (the file is not there) is an error for a past day, read again later.
    pub async fn statement(
        &self,
        date: chrono::NaiveDate,
    ) -> Result<Vec<crate::statement::StatementRow>, crate::statement::StatementError> {
        file::parse_received(&self.fetch_statement(date).await?, date, &self.config.mer_id)
    }

    /// The reply's `fileContent` of `date` as received (Base64 text; empty when the day is not
    /// over and its file not there yet).
    pub async fn fetch_statement(
        &self,
        date: chrono::NaiveDate,
    ) -> Result<Vec<u8>, crate::statement::StatementError> {
        let fetch = |detail: String| crate::statement::StatementError::Fetch { channel: "unionpay", detail };
        let mut fields = Fields::new();
        for (key, value) in [
            ("version", "5.1.0"),
            ("encoding", "UTF-8"),
            ("signMethod", "11"),
            ("txnType", "76"),
            ("txnSubType", "01"),
            ("bizType", "000000"),
            ("accessType", "0"),
            ("fileType", "00"),
            ("merId", &self.config.mer_id),
        ] {
            fields.insert(key.to_string(), value.to_string());
        }
        fields.insert("settleDate".into(), date.format("%m%d").to_string());
        fields.insert("txnTime".into(), txn_time_of(Ts(chrono::Utc::now().timestamp_millis())));
        let reply = self.call_for_file(FILE_PATH, fields).await.map_err(fetch)?;
        match reply.get("respCode").map(String::as_str) {
            Some("00") => {}
            // Not there yet for a day not over: nothing booked that the next read cannot show. For
            // a past day the file should be there; its absence is never read as "no rows".
            Some("98") if date >= crate::beijing::now().date_naive() => return Ok(Vec::new()),
            code => {
                let message = reply.get("respMsg").cloned().unwrap_or_default();
                return Err(fetch(format!("respCode {} {message}", code.unwrap_or("missing"))));
            }
        }
        // The file of the day asked for, and no other.
        let asked = date.format("%m%d").to_string();
        if reply.get("settleDate").is_some_and(|d| *d != asked) {
            return Err(fetch(format!("the reply is the file of {:?}, not {asked}", reply["settleDate"])));
        }
        let content = reply.get("fileContent").ok_or_else(|| fetch("no fileContent".into()))?;
        Ok(content.clone().into_bytes())
    }

    /// The merchant the statements are of (`merId`).
    pub fn merchant(&self) -> &str {
        &self.config.mer_id
    }

    /// Signs and posts; returns the reply only if it is signed by the acquirer for our merchant.
    async fn call(&self, path: &str, fields: Fields, timeout: Duration) -> Result<Fields, String> {
        let body = self.signed_body(fields)?;
        let url = format!("{}{path}", self.config.base_url);
        let bytes = self.http.post(&url, FORM, body, timeout).await.map_err(|e| e.to_string())?;
        self.checked_reply(&bytes)
    }

    /// [`UnionPayClient::call`] for a reply that carries a day's file (larger than any API reply).
    async fn call_for_file(&self, path: &str, fields: Fields) -> Result<Fields, String> {
        let body = self.signed_body(fields)?;
        let url = format!("{}{path}", self.config.base_url);
        let bytes = self.http.post_for_file(&url, FORM, body).await.map_err(|e| e.to_string())?;
        self.checked_reply(&bytes)
    }

    fn signed_body(&self, mut fields: Fields) -> Result<String, String> {
        let signature = sign::sign(&fields, self.config.secure_key.expose_secret());
        fields.insert("signature".into(), signature);
        serde_urlencoded::to_string(&fields).map_err(|e| e.to_string())
    }

    /// The reply's fields, if it is signed by the acquirer for our merchant.
    fn checked_reply(&self, bytes: &[u8]) -> Result<Fields, String> {
        let reply: Fields =
            serde_urlencoded::from_bytes(bytes).map_err(|e| format!("reply is not a form: {e}"))?;
        if !sign::verify(&reply, self.config.secure_key.expose_secret()) {
            return Err("reply signature missing or invalid".into());
        }
        if reply.get("merId").is_some_and(|id| *id != self.config.mer_id) {
            return Err("reply is for another merId".into());
        }
        Ok(reply)
    }
}

/// ACP `txnTime`: Beijing wall-clock time, `YYYYMMDDhhmmss`.
pub(crate) fn txn_time_of(ts: Ts) -> String {
    beijing::from_ts(ts).format("%Y%m%d%H%M%S").to_string()
}

/// The consume `call` names.
fn named(call: &OrderCall) -> Named<'_> {
    Named { order_id: call.order.as_str(), amount: call.total }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txn_time_is_beijing_wall_clock_of_the_given_instant() {
        // 2026-11-23 02:42:05.999 UTC is 10:42:05 in Beijing.
        let ts =
            Ts(chrono::DateTime::parse_from_rfc3339("2026-11-23T02:42:05.999Z").unwrap().timestamp_millis());
        assert_eq!(txn_time_of(ts), "20261123104205");
    }
}
