//! UnionPay acquirer simulator, ACP style: `POST /gateway/api/backTransReq.do` (consume 01,
//! 消费撤销 31, 退货 04) and `POST /gateway/api/queryTrans.do` (query 00), form bodies signed with
//! signMethod 11 both ways.
//!
//! Like the real acquirer:
//! - a consume is answered `00` "accepted" whatever happens next (paid at once, waiting for the
//!   customer, or failing later); only a query tells the result (`origRespCode`);
//! - a transaction is named by `orderId` *and* `txnTime`: a query whose `txnTime` is not the
//!   consume's own finds nothing (`34`), and a consume reusing an `orderId` with another
//!   `txnTime` is a duplicate (`12`);
//! - cancel and refund name the original by `origQryId` only (missing: `13`; unknown: `35`). So,
//!   unlike the wallets' reverse by order number, a cancel can never close an order the acquirer
//!   has not seen.

use super::book::{Book, OrderState, PayOutcome, RefundOutcome, ReverseOutcome};
use super::faults::{bad_signature, finish, gate, pin_of, Gate};
use super::UnionPaySimConfig;
use crate::unionpay::sign::{self, Fields};
use crate::unionpay::{BACK_PATH, QUERY_PATH};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use kiosk_core::Fen;
use simkit::{Fault, FaultPlan};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
struct Sim {
    config: UnionPaySimConfig,
    plan: FaultPlan,
    book: Book,
    /// The `txnTime` each consume was sent with, by `orderId`.
    txn_times: Arc<Mutex<HashMap<String, String>>>,
}

impl Sim {
    fn txn_time(&self, order_id: &str) -> Option<String> {
        self.txn_times.lock().unwrap_or_else(|p| p.into_inner()).get(order_id).cloned()
    }

    fn remember_txn_time(&self, order_id: &str, txn_time: &str) {
        let mut times = self.txn_times.lock().unwrap_or_else(|p| p.into_inner());
        times.entry(order_id.to_string()).or_insert_with(|| txn_time.to_string());
    }
}

pub(crate) fn router(config: UnionPaySimConfig, plan: FaultPlan, book: Book) -> Router {
    Router::new().route(BACK_PATH, post(back)).route(QUERY_PATH, post(query)).with_state(Sim {
        config,
        plan,
        book,
        txn_times: Arc::default(),
    })
}

/// Reply fields: the request's identifying fields echoed, plus the result.
fn reply(request: &Fields, code: &str, message: &str) -> Fields {
    let mut fields = Fields::new();
    for key in [
        "version",
        "encoding",
        "txnType",
        "txnSubType",
        "bizType",
        "accessType",
        "merId",
        "orderId",
        "txnTime",
    ] {
        if let Some(value) = request.get(key) {
            fields.insert(key.into(), value.clone());
        }
    }
    fields.insert("signMethod".into(), "11".into());
    fields.insert("respCode".into(), code.into());
    fields.insert("respMsg".into(), message.into());
    fields
}

fn signed(sim: &Sim, mut fields: Fields, corrupt: bool) -> Response {
    let key = if corrupt { "not-the-secure-key" } else { sim.config.secure_key.expose() };
    let signature = sign::sign(&fields, key);
    fields.insert("signature".into(), signature);
    let body = serde_urlencoded::to_string(&fields).unwrap_or_default();
    ([(axum::http::header::CONTENT_TYPE, "application/x-www-form-urlencoded;charset=UTF-8")], body)
        .into_response()
}

/// Checks the request; `Err` is the reply to send instead of doing the work.
fn check(sim: &Sim, request: &Fields, fault: &Option<Fault>) -> Result<(), Fields> {
    if request.get("signMethod").map(String::as_str) != Some("11")
        || !sign::verify(request, sim.config.secure_key.expose())
    {
        return Err(reply(request, "11", "验证签名失败"));
    }
    if request.get("merId") != Some(&sim.config.mer_id) {
        return Err(reply(request, "31", "商户状态不正确"));
    }
    if let Some(Fault::ErrorCode { code }) = fault {
        return Err(reply(request, code, "simulated error"));
    }
    Ok(())
}

fn param<'a>(request: &'a Fields, key: &str) -> Option<&'a str> {
    request.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

fn fen(request: &Fields) -> Option<Fen> {
    param(request, "txnAmt").and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > 0).map(Fen)
}

async fn back(State(sim): State<Sim>, headers: HeaderMap, body: String) -> Response {
    let request: Fields = serde_urlencoded::from_str(&body).unwrap_or_default();
    let endpoint = match param(&request, "txnType") {
        Some("31") => "reverse",
        Some("04") => "refund",
        _ => "pay",
    };
    let fault = match gate(&sim.plan, endpoint, &headers).await {
        Gate::Answer(response) => return response,
        Gate::Proceed(fault) => fault,
    };
    let fields = match check(&sim, &request, &fault) {
        Err(fields) => fields,
        Ok(()) => match param(&request, "txnType") {
            Some("01") => consume(&sim, &request, &fault),
            Some("31") => cancel(&sim, &request, &fault),
            Some("04") => refund(&sim, &request),
            _ => reply(&request, "10", "报文格式错误"),
        },
    };
    let fields = match &fault {
        Some(Fault::ErrorAfterCommit { code }) => reply(&request, code, "simulated error"),
        _ => fields,
    };
    finish(&fault, signed(&sim, fields, bad_signature(&fault)))
}

fn consume(sim: &Sim, request: &Fields, fault: &Option<Fault>) -> Fields {
    let (Some(order_id), Some(txn_time), Some(code), Some(amount)) =
        (param(request, "orderId"), param(request, "txnTime"), param(request, "qrNo"), fen(request))
    else {
        return reply(request, "13", "报文交易要素缺失");
    };
    if sim.txn_time(order_id).is_some_and(|known| known != txn_time) {
        return reply(request, "12", "重复交易");
    }
    let outcome = sim.book.pay(order_id, code, amount, pin_of(fault));
    if sim.book.query(order_id).is_some() {
        sim.remember_txn_time(order_id, txn_time);
    }
    match outcome {
        // Accepted: paid now, waiting for the customer, or failing later, the query tells.
        PayOutcome::Paid { txn } | PayOutcome::UserPaying { txn } => {
            let mut fields = reply(request, "00", "成功[交易已受理]");
            fields.insert("queryId".into(), txn);
            fields
        }
        PayOutcome::AuthCodeUsed => reply(request, "61", "付款码无效"),
        _ => reply(request, "12", "重复交易"),
    }
}

/// The original order a cancel or refund names by `origQryId`; `Err` is the reply to send.
fn original(sim: &Sim, request: &Fields) -> Result<String, Fields> {
    let Some(id) = param(request, "origQryId") else {
        return Err(reply(request, "13", "报文交易要素缺失"));
    };
    sim.book.order_of_txn(id).ok_or_else(|| reply(request, "35", "原交易不存在或状态不正确"))
}

fn cancel(sim: &Sim, request: &Fields, fault: &Option<Fault>) -> Fields {
    let order = match original(sim, request) {
        Ok(order) => order,
        Err(fields) => return fields,
    };
    if matches!(fault, Some(Fault::RecallRetry)) {
        return reply(request, "05", "交易已受理，请稍后重试");
    }
    match sim.book.reverse(&order) {
        ReverseOutcome::Closed | ReverseOutcome::GaveBack => reply(request, "00", "成功"),
        ReverseOutcome::NotReversible => reply(request, "35", "原交易状态不正确"),
    }
}

fn refund(sim: &Sim, request: &Fields) -> Fields {
    let order = match original(sim, request) {
        Ok(order) => order,
        Err(fields) => return fields,
    };
    let (Some(refund_no), Some(amount)) = (param(request, "orderId"), fen(request)) else {
        return reply(request, "13", "报文交易要素缺失");
    };
    match sim.book.refund(&order, refund_no, amount) {
        RefundOutcome::Refunded { refund_txn, .. } => {
            let mut fields = reply(request, "00", "成功");
            fields.insert("queryId".into(), refund_txn);
            fields
        }
        RefundOutcome::NotFound | RefundOutcome::NotPaid => reply(request, "35", "原交易不存在或状态不正确"),
        RefundOutcome::Exceeds | RefundOutcome::Mismatch => reply(request, "36", "与原交易信息不符"),
    }
}

async fn query(State(sim): State<Sim>, headers: HeaderMap, body: String) -> Response {
    let request: Fields = serde_urlencoded::from_str(&body).unwrap_or_default();
    let fault = match gate(&sim.plan, "query", &headers).await {
        Gate::Answer(response) => return response,
        Gate::Proceed(fault) => fault,
    };
    let fields = match check(&sim, &request, &fault) {
        Err(fields) => fields,
        // Found only by the consume's own orderId *and* txnTime.
        Ok(()) => match param(&request, "orderId")
            .filter(|id| sim.txn_time(id).as_deref() == param(&request, "txnTime"))
            .and_then(|id| sim.book.query(id))
        {
            None => reply(&request, "34", "查无此交易"),
            Some(view) => {
                let (code, message) = match view.state {
                    OrderState::UserPaying => ("05", "交易处理中"),
                    // ACP reports the consume's own result; a later cancel/refund is another
                    // transaction.
                    OrderState::Success | OrderState::Refunded | OrderState::Revoked { refunded: true } => {
                        ("00", "成功")
                    }
                    OrderState::PayError | OrderState::Revoked { refunded: false } => ("01", "交易失败"),
                };
                let mut fields = reply(&request, "00", "成功");
                fields.insert("origRespCode".into(), code.into());
                fields.insert("origRespMsg".into(), message.into());
                fields.insert("queryId".into(), view.txn);
                fields.insert("txnAmt".into(), view.amount.0.to_string());
                fields
            }
        },
    };
    finish(&fault, signed(&sim, fields, bad_signature(&fault)))
}
