//! UnionPay acquirer simulator, ACP style: `POST /gateway/api/backTransReq.do` (consume 01,
//! 消费撤销 31, 退货 04) and `POST /gateway/api/queryTrans.do` (query 00), form bodies signed with
//! signMethod 11 both ways.
//!
//! Like the real acquirer:
//! - a consume is answered `00` "accepted" whatever happens next (paid at once, waiting for the
//!   customer, or failing later); only a query tells the result (`origRespCode`);
//! - every transaction is named by `orderId` *and* `txnTime`: a query whose `txnTime` is not the
//!   transaction's own finds nothing (`34`); a consume reusing an `orderId` with another
//!   `txnTime` is a duplicate (`12`); a cancel or refund sent again with the same `orderId` and
//!   `txnTime` is a replay of the first (same answer, nothing done twice), while the same
//!   `orderId` with a *new* `txnTime` is a new transaction (a second 退货!), refused only when
//!   the refunds would exceed what was paid, or when the consume was already cancelled;
//! - cancel and refund name the original by `origQryId` only (missing: `13`; unknown: `35`). So,
//!   unlike the wallets' reverse by order number, a cancel can never close an order the acquirer
//!   has not seen;
//! - a 退货 `00` is only "accepted": the query of the refund's own `orderId`/`txnTime` says `05`
//!   until it is paid out, then `00` (or `01` when it failed, see
//!   [`SimHandle::end_next_refund`](super::SimHandle::end_next_refund)).

use super::book::{
    Book, LedgerKind, OrderState, PayOutcome, RefundEnding, RefundOutcome, RefundState, ReverseOutcome,
};
use super::faults::{bad_signature, finish, gate, pin_of, Gate};
use super::wire::{acp_sign, acp_signed};
use super::UnionPaySimConfig;
use crate::unionpay::sign::Fields;
use crate::unionpay::{BACK_PATH, FILE_PATH, QUERY_PATH};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use kiosk_core::Fen;
use secrecy::ExposeSecret;
use simkit::{Fault, FaultPlan};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A cancel or refund the acquirer took on, under its own `orderId` + `txnTime`.
#[derive(Clone, Debug)]
struct BackTxn {
    /// `31` or `04`.
    txn_type: String,
    orig_qry_id: String,
    amount: Fen,
    /// Its own id (`queryId`).
    query_id: String,
    /// For a refund: its key in the book.
    refund_key: Option<String>,
}

/// What the acquirer remembers beside the order book: the `txnTime` of each consume, and each
/// cancel and refund by (`orderId`, `txnTime`).
#[derive(Debug, Default)]
struct Acquirer {
    consumes: HashMap<String, String>,
    back: HashMap<(String, String), BackTxn>,
    seq: u64,
}

#[derive(Clone)]
struct Sim {
    config: UnionPaySimConfig,
    plan: FaultPlan,
    book: Book,
    acquirer: Arc<Mutex<Acquirer>>,
}

impl Sim {
    fn acquirer(&self) -> MutexGuard<'_, Acquirer> {
        self.acquirer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn txn_time(&self, order_id: &str) -> Option<String> {
        self.acquirer().consumes.get(order_id).cloned()
    }

    fn remember_txn_time(&self, order_id: &str, txn_time: &str) {
        self.acquirer().consumes.entry(order_id.to_string()).or_insert_with(|| txn_time.to_string());
    }
}

pub(crate) fn router(config: UnionPaySimConfig, plan: FaultPlan, book: Book) -> Router {
    Router::new()
        .route(BACK_PATH, post(back))
        .route(QUERY_PATH, post(query))
        .route(FILE_PATH, post(file_transfer))
        .with_state(Sim { config, plan, book, acquirer: Arc::default() })
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
        "txnAmt",
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
    let key = if corrupt { "not-the-secure-key" } else { sim.config.secure_key.expose_secret() };
    let signature = acp_sign(&fields, key);
    fields.insert("signature".into(), signature);
    let body = serde_urlencoded::to_string(&fields).unwrap_or_default();
    ([(axum::http::header::CONTENT_TYPE, "application/x-www-form-urlencoded;charset=UTF-8")], body)
        .into_response()
}

/// Checks the request; `Err` is the reply to send instead of doing the work.
fn check(sim: &Sim, request: &Fields, fault: &Option<Fault>) -> Result<(), Fields> {
    if request.get("signMethod").map(String::as_str) != Some("11")
        || !acp_signed(request, sim.config.secure_key.expose_secret())
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

/// A cancel or refund: its own name (`orderId`, `txnTime`) and what it asks. `Err` is the reply
/// to send: missing fields, or the answer to a replay.
struct BackRequest {
    key: (String, String),
    orig_qry_id: String,
    amount: Fen,
}

fn back_request(acquirer: &Acquirer, request: &Fields, txn_type: &str) -> Result<BackRequest, Fields> {
    let (Some(order_id), Some(txn_time), Some(orig_qry_id), Some(amount)) =
        (param(request, "orderId"), param(request, "txnTime"), param(request, "origQryId"), fen(request))
    else {
        return Err(reply(request, "13", "报文交易要素缺失"));
    };
    let key = (order_id.to_string(), txn_time.to_string());
    if let Some(known) = acquirer.back.get(&key) {
        // The same transaction sent again: answer as the first time, do nothing twice.
        if known.txn_type == txn_type && known.orig_qry_id == orig_qry_id && known.amount == amount {
            let mut fields = reply(request, "00", "成功");
            fields.insert("queryId".into(), known.query_id.clone());
            return Err(fields);
        }
        return Err(reply(request, "12", "重复交易"));
    }
    Ok(BackRequest { key, orig_qry_id: orig_qry_id.to_string(), amount })
}

/// A cancel or refund ([`back_request`]) and the original order it names ([`original`]); `Err`
/// is the reply to send.
fn back_and_original(
    sim: &Sim,
    acquirer: &Acquirer,
    request: &Fields,
    txn_type: &str,
) -> Result<(BackRequest, String), Fields> {
    let back = back_request(acquirer, request, txn_type)?;
    Ok((back, original(sim, request)?))
}

fn remember(
    acquirer: &mut Acquirer,
    back: BackRequest,
    txn_type: &str,
    query_id: Option<String>,
    refund_key: Option<String>,
) -> String {
    acquirer.seq += 1;
    let query_id = query_id.unwrap_or_else(|| format!("{}{:012}", txn_type, acquirer.seq));
    acquirer.back.insert(
        back.key,
        BackTxn {
            txn_type: txn_type.to_string(),
            orig_qry_id: back.orig_qry_id,
            amount: back.amount,
            query_id: query_id.clone(),
            refund_key,
        },
    );
    query_id
}

fn cancel(sim: &Sim, request: &Fields, fault: &Option<Fault>) -> Fields {
    // Held to the end: the same cancel sent twice at once is still one cancel.
    let mut acquirer = sim.acquirer();
    let (back, order) = match back_and_original(sim, &acquirer, request, "31") {
        Ok(found) => found,
        Err(fields) => return fields,
    };
    if matches!(fault, Some(Fault::RecallRetry)) {
        return reply(request, "05", "交易已受理，请稍后重试");
    }
    let Some(view) = sim.book.query(&order) else {
        return reply(request, "35", "原交易不存在或状态不正确");
    };
    if view.amount != back.amount {
        return reply(request, "36", "与原交易信息不符");
    }
    // Another cancel (another orderId/txnTime) of a consume already cancelled.
    if matches!(view.state, OrderState::Revoked { .. }) {
        return reply(request, "35", "原交易已撤销");
    }
    match sim.book.reverse(&order) {
        ReverseOutcome::Closed | ReverseOutcome::GaveBack => {
            let query_id = remember(&mut acquirer, back, "31", None, None);
            let mut fields = reply(request, "00", "成功");
            fields.insert("queryId".into(), query_id);
            fields
        }
        ReverseOutcome::NotReversible => reply(request, "35", "原交易状态不正确"),
    }
}

fn refund(sim: &Sim, request: &Fields) -> Fields {
    // Held to the end: the same refund sent twice at once is still one refund.
    let mut acquirer = sim.acquirer();
    let (back, order) = match back_and_original(sim, &acquirer, request, "04") {
        Ok(found) => found,
        Err(fields) => return fields,
    };
    let refund_no = back.key.0.clone();
    let refund_key = format!("{}@{}", back.key.0, back.key.1);
    match sim.book.refund(&order, &refund_key, &refund_no, back.amount) {
        RefundOutcome::Accepted { refund_txn, .. } => {
            let query_id = remember(&mut acquirer, back, "04", Some(refund_txn), Some(refund_key));
            let mut fields = reply(request, "00", "成功[退货已受理]");
            fields.insert("queryId".into(), query_id);
            fields
        }
        RefundOutcome::NotFound | RefundOutcome::NotPaid => reply(request, "35", "原交易不存在或状态不正确"),
        RefundOutcome::Exceeds => reply(request, "36", "退货金额超过原交易可退金额"),
        RefundOutcome::Mismatch => reply(request, "36", "与原交易信息不符"),
    }
}

/// The query's answer about a cancel or refund, named by its own `orderId` and `txnTime`.
fn back_state(sim: &Sim, request: &Fields, txn: &BackTxn) -> Fields {
    let (code, message) = match &txn.refund_key {
        None => ("00", "成功"),
        Some(key) => match sim.book.refund_status(key).map(|r| r.state) {
            Some(RefundState::Ended(RefundEnding::Success)) => ("00", "成功"),
            Some(RefundState::Processing) => ("05", "交易处理中"),
            Some(RefundState::Ended(_)) | None => ("01", "交易失败"),
        },
    };
    let mut fields = reply(request, "00", "成功");
    fields.insert("origRespCode".into(), code.into());
    fields.insert("origRespMsg".into(), message.into());
    fields.insert("queryId".into(), txn.query_id.clone());
    fields.insert("origQryId".into(), txn.orig_qry_id.clone());
    fields.insert("txnAmt".into(), txn.amount.0.to_string());
    fields
}

/// Answers a request to `endpoint` that only reads (a query, a file): the planned fault first,
/// then the checks, then `work`, signed (or not) as the fault says.
async fn answer(
    sim: &Sim,
    endpoint: &str,
    headers: &HeaderMap,
    body: &str,
    work: fn(&Sim, &Fields) -> Fields,
) -> Response {
    let request: Fields = serde_urlencoded::from_str(body).unwrap_or_default();
    let fault = match gate(&sim.plan, endpoint, headers).await {
        Gate::Answer(response) => return response,
        Gate::Proceed(fault) => fault,
    };
    let fields = match check(sim, &request, &fault) {
        Err(fields) => fields,
        Ok(()) => work(sim, &request),
    };
    finish(&fault, signed(sim, fields, bad_signature(&fault)))
}

async fn query(State(sim): State<Sim>, headers: HeaderMap, body: String) -> Response {
    answer(&sim, "query", &headers, &body, query_answer).await
}

/// A query names a transaction by its own `orderId` *and* `txnTime`: a cancel or refund, or the
/// consume.
fn query_answer(sim: &Sim, request: &Fields) -> Fields {
    let (Some(order_id), Some(txn_time)) = (param(request, "orderId"), param(request, "txnTime")) else {
        return reply(request, "13", "报文交易要素缺失");
    };
    let back = sim.acquirer().back.get(&(order_id.to_string(), txn_time.to_string())).cloned();
    if let Some(txn) = back {
        return back_state(sim, request, &txn);
    }
    let view = Some(order_id)
        .filter(|id| sim.txn_time(id).as_deref() == Some(txn_time))
        .and_then(|id| sim.book.query(id));
    let Some(view) = view else {
        return reply(request, "34", "查无此交易");
    };
    let (code, message) = match view.state {
        OrderState::UserPaying => ("05", "交易处理中"),
        // ACP reports the consume's own result; a later cancel/refund is another transaction.
        OrderState::Success | OrderState::Refunded | OrderState::Revoked { refunded: true } => ("00", "成功"),
        OrderState::PayError | OrderState::Revoked { refunded: false } => ("01", "交易失败"),
    };
    let mut fields = reply(request, "00", "成功");
    fields.insert("origRespCode".into(), code.into());
    fields.insert("origRespMsg".into(), message.into());
    fields.insert("queryId".into(), view.txn);
    fields.insert("txnAmt".into(), view.amount.0.to_string());
    fields
}

/// 文件传输 (txnType 76, fileType 00): the merchant's ZM file of `settleDate` (`MMDD`, the most
/// recent such date), from the ledger. Tomorrow's is not there yet: `98`.
async fn file_transfer(State(sim): State<Sim>, headers: HeaderMap, body: String) -> Response {
    answer(&sim, "statement", &headers, &body, day_file).await
}

fn day_file(sim: &Sim, request: &Fields) -> Fields {
    use super::unionpay_file::{file_content, settle_date_of, ZmRow};
    use chrono::Datelike;
    if param(request, "txnType") != Some("76") || param(request, "fileType") != Some("00") {
        return reply(request, "13", "报文交易要素缺失");
    }
    let today = crate::beijing::now().date_naive();
    let date =
        param(request, "settleDate")
            .filter(|d| d.len() == 4)
            .and_then(|d| chrono::NaiveDate::parse_from_str(&format!("{}{d}", today.year()), "%Y%m%d").ok())
            // The most recent such date, tomorrow included (whose file is not there yet).
            .map(|d| {
                if d > today.succ_opt().unwrap_or(today) {
                    d.with_year(d.year() - 1).unwrap_or(d)
                } else {
                    d
                }
            });
    let Some(date) = date else {
        return reply(request, "13", "settleDate格式错误");
    };
    let ledger = sim.book.ledger();
    let acquirer = sim.acquirer();
    let rows: Vec<ZmRow> = ledger
        .iter()
        .filter(|e| e.kind != LedgerKind::Closed && settle_date_of(e.at) == date)
        .map(|entry| {
            let consume_id = sim.book.query(&entry.out_trade_no).map(|v| v.txn).unwrap_or_default();
            // A cancel is filed under its own orderId, which only the acquirer's records hold.
            let cancel_order = || {
                acquirer
                    .back
                    .iter()
                    .find(|(_, t)| t.txn_type == "31" && t.orig_qry_id == consume_id)
                    .map(|((order, _), _)| order.clone())
                    .unwrap_or_else(|| entry.out_trade_no.clone())
            };
            let (txn_type, own_order, orig_order, fee) = match entry.kind {
                LedgerKind::Charge => {
                    let fee =
                        sim.book.stated_fee_millifen(&entry.out_trade_no, entry.amount, sim.config.fee_ppm);
                    // The acquirer states fees to the fen, rounded half up.
                    ("01", entry.out_trade_no.clone(), String::new(), (fee + 500) / 1_000)
                }
                LedgerKind::Reversal => ("31", cancel_order(), entry.out_trade_no.clone(), 0),
                _ => ("04", entry.refund_no.clone().unwrap_or_default(), entry.out_trade_no.clone(), 0),
            };
            ZmRow {
                txn_type,
                own_order,
                orig_order,
                query_id: entry.channel_txn.clone(),
                amount: entry.amount,
                fee,
                at: entry.at,
            }
        })
        .collect();
    // No file for a day not begun yet; today's grows as the day goes (like the wallets' bills,
    // read before the day is final it proves only what it holds).
    if date > today {
        return reply(request, "98", "文件不存在");
    }
    let (name, content) = file_content(&rows, &sim.config.mer_id, date);
    let mut fields = reply(request, "00", "成功");
    fields.insert("settleDate".into(), date.format("%m%d").to_string());
    fields.insert("fileType".into(), "00".into());
    fields.insert("fileName".into(), name);
    fields.insert("fileContent".into(), content);
    fields
}
