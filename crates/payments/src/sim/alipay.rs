//! Alipay simulator: the `/gateway.do` methods `alipay.trade.pay`, `.query`, `.cancel`,
//! `.refund`, `alipay.trade.fastpay.refund.query` and
//! `alipay.data.dataservice.bill.downloadurl.query`, plus `GET /bill/{date}` where
//! the download URL points (a zip of GBK CSV files, as Alipay serves it). Verifies the app's RSA2
//! signature; signs the exact text of each `<method>_response` object with the platform key.

use super::alipay_bill;
use super::book::{Book, OrderState, PayOutcome, RefundEnding, RefundOutcome, RefundState, ReverseOutcome};
use super::faults::{bad_signature, finish, gate, pin_of, Gate};
use super::wire::PlatformSigner;
use super::{AlipaySimConfig, SimError};
use crate::alipay::envelope::response_key;
use crate::alipay::read_key;
use crate::alipay::sign::{self, RsaVerifier};
use crate::beijing;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::NaiveDate;
use kiosk_core::Fen;
use serde_json::{Map, Value};
use simkit::{Fault, FaultPlan};
use std::collections::BTreeMap;
use std::sync::Arc;

struct Sim {
    app_id: String,
    url: String,
    verifier: RsaVerifier,
    signer: PlatformSigner,
    plan: FaultPlan,
    book: Book,
    fee_ppm: u32,
}

type Shared = State<Arc<Sim>>;

pub(crate) fn router(
    config: &AlipaySimConfig,
    url: String,
    plan: FaultPlan,
    book: Book,
) -> Result<Router, SimError> {
    let public =
        read_key("alipay_sim.app_public_key_path", &config.app_public_key_path, sign::parse_public_key)?;
    let private = read_key(
        "alipay_sim.platform_private_key_path",
        &config.platform_private_key_path,
        sign::parse_private_key,
    )?;
    let sim = Sim {
        app_id: config.app_id.clone(),
        url,
        verifier: RsaVerifier::new(public),
        signer: PlatformSigner::new(private),
        plan,
        book,
        fee_ppm: config.fee_ppm,
    };
    Ok(Router::new()
        .route("/gateway.do", post(gateway))
        .route("/bill/{date}", get(bill))
        .with_state(Arc::new(sim)))
}

/// The response object of one call.
struct Reply(Map<String, Value>);

impl Reply {
    fn ok() -> Reply {
        let mut map = Map::new();
        map.insert("code".into(), "10000".into());
        map.insert("msg".into(), "Success".into());
        Reply(map)
    }

    fn error(code: &str, sub_code: &str, sub_msg: &str) -> Reply {
        let mut map = Map::new();
        let msg = match code {
            "10003" => "WAIT_USER_PAY",
            "20000" => "Service Currently Unavailable",
            "40002" => "Invalid Arguments",
            _ => "Business Failed",
        };
        map.insert("code".into(), code.into());
        map.insert("msg".into(), msg.into());
        if !sub_code.is_empty() {
            map.insert("sub_code".into(), sub_code.into());
            map.insert("sub_msg".into(), sub_msg.into());
        }
        Reply(map)
    }

    fn business(sub_code: &str, sub_msg: &str) -> Reply {
        Reply::error("40004", sub_code, sub_msg)
    }

    fn with(mut self, key: &str, value: impl Into<Value>) -> Reply {
        self.0.insert(key.into(), value.into());
        self
    }
}

fn endpoint(method: &str) -> &'static str {
    match method {
        "alipay.trade.pay" => "pay",
        "alipay.trade.query" => "query",
        "alipay.trade.cancel" => "reverse",
        "alipay.trade.refund" => "refund",
        "alipay.trade.fastpay.refund.query" => "refund_query",
        _ => "statement",
    }
}

async fn gateway(State(sim): Shared, headers: HeaderMap, body: String) -> Response {
    let params: BTreeMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let method = params.get("method").cloned().unwrap_or_default();
    let fault = match gate(&sim.plan, endpoint(&method), &headers).await {
        Gate::Answer(response) => return response,
        Gate::Proceed(fault) => fault,
    };
    let biz: Option<Map<String, Value>> =
        params.get("biz_content").and_then(|b| serde_json::from_str(b).ok());
    let signature_ok = params.get("sign_type").map(String::as_str) == Some("RSA2")
        && params
            .get("sign")
            .is_some_and(|s| sim.verifier.verify(sign::string_to_sign(&params).as_bytes(), s));
    let reply = if params.get("app_id") != Some(&sim.app_id) {
        Reply::error("40002", "isv.invalid-app-id", "无效的AppID参数")
    } else if !signature_ok {
        Reply::error("40002", "isv.invalid-signature", "验签出错")
    } else if let Some(Fault::ErrorCode { code }) = &fault {
        error_code(code)
    } else if let Some(biz) = biz {
        match method.as_str() {
            "alipay.trade.pay" => pay(&sim, &biz, &fault),
            "alipay.trade.query" => query(&sim, &biz),
            "alipay.trade.cancel" => cancel(&sim, &biz, &fault),
            "alipay.trade.refund" => refund(&sim, &biz),
            "alipay.trade.fastpay.refund.query" => refund_query(&sim, &biz),
            "alipay.data.dataservice.bill.downloadurl.query" => bill_url(&sim, &biz),
            _ => Reply::error("40002", "isv.invalid-method", "不存在的方法名"),
        }
    } else {
        Reply::error("40002", "isv.invalid-parameter", "biz_content无效")
    };
    let reply = match &fault {
        Some(Fault::ErrorAfterCommit { code }) => error_code(code),
        _ => reply,
    };
    finish(&fault, signed(&sim, &method, reply, bad_signature(&fault)))
}

/// A fault's code: `ACQ.*` is a 40004 sub_code; a bare number is a top-level code.
fn error_code(code: &str) -> Reply {
    if code.starts_with("ACQ.") {
        Reply::business(code, "simulated error")
    } else if code == "20000" {
        Reply::error("20000", "isp.unknow-error", "系统繁忙")
    } else if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
        Reply::error(code, "isv.simulated", "simulated error")
    } else {
        Reply::business(code, "simulated error")
    }
}

/// `{"<method>_response":<object>,"sign":"…"}` with the signature over the object's exact text.
fn signed(sim: &Sim, method: &str, reply: Reply, corrupt: bool) -> Response {
    let content = Value::Object(reply.0).to_string();
    let signed_text = if corrupt { format!("{content} ") } else { content.clone() };
    let signature = sim.signer.sign(signed_text.as_bytes());
    let key = if method.is_empty() { "error_response".to_string() } else { response_key(method) };
    let body = format!("{{\"{key}\":{content},\"sign\":{}}}", Value::String(signature));
    ([(axum::http::header::CONTENT_TYPE, "application/json;charset=utf-8")], body).into_response()
}

fn text<'a>(biz: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    biz.get(key).and_then(Value::as_str).filter(|v| !v.is_empty())
}

fn yuan(biz: &Map<String, Value>, key: &str) -> Option<Fen> {
    text(biz, key).and_then(|v| Fen::parse_yuan(v).ok()).filter(|f| f.is_positive())
}

fn missing() -> Reply {
    Reply::error("40002", "isv.missing-parameter", "缺少必选参数")
}

fn pay(sim: &Sim, biz: &Map<String, Value>, fault: &Option<Fault>) -> Reply {
    let (Some(out_trade_no), Some(code), Some(total), Some("bar_code"), Some(_)) = (
        text(biz, "out_trade_no"),
        text(biz, "auth_code"),
        yuan(biz, "total_amount"),
        text(biz, "scene"),
        text(biz, "subject"),
    ) else {
        return missing();
    };
    match sim.book.pay(out_trade_no, code, total, pin_of(fault)) {
        PayOutcome::Paid { txn } => Reply::ok()
            .with("trade_no", txn)
            .with("out_trade_no", out_trade_no)
            .with("buyer_logon_id", "sim***@example.com")
            .with("total_amount", total.to_yuan_string())
            .with("receipt_amount", total.to_yuan_string())
            .with("gmt_payment", beijing::now().format("%Y-%m-%d %H:%M:%S").to_string()),
        PayOutcome::UserPaying { txn } => Reply::error("10003", "", "")
            .with("trade_no", txn)
            .with("out_trade_no", out_trade_no)
            .with("total_amount", total.to_yuan_string()),
        PayOutcome::AuthCodeUsed => {
            Reply::business("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败")
        }
        PayOutcome::OrderPaid => Reply::business("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"),
        PayOutcome::OrderClosed | PayOutcome::OrderReversed => {
            Reply::business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        }
        PayOutcome::BuyerMismatch => Reply::business("ACQ.TRADE_BUYER_NOT_MATCH", "交易买家不匹配"),
        PayOutcome::OutTradeNoUsed => Reply::business("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改"),
    }
}

fn query(sim: &Sim, biz: &Map<String, Value>) -> Reply {
    let Some(out_trade_no) = text(biz, "out_trade_no") else {
        return missing();
    };
    let Some(view) = sim.book.query(out_trade_no) else {
        return Reply::business("ACQ.TRADE_NOT_EXIST", "交易不存在");
    };
    let status = match view.state {
        OrderState::UserPaying => "WAIT_BUYER_PAY",
        OrderState::Success => "TRADE_SUCCESS",
        OrderState::Refunded if view.refunded < view.amount => "TRADE_SUCCESS",
        _ => "TRADE_CLOSED",
    };
    let reply = Reply::ok()
        .with("trade_no", view.txn)
        .with("out_trade_no", out_trade_no)
        .with("trade_status", status);
    // An order only a cancel ever named (its pay was lost) has no amount to report.
    match view.amount.is_positive() {
        true => reply.with("total_amount", view.amount.to_yuan_string()),
        false => reply,
    }
}

fn cancel(sim: &Sim, biz: &Map<String, Value>, fault: &Option<Fault>) -> Reply {
    let Some(out_trade_no) = text(biz, "out_trade_no") else {
        return missing();
    };
    if matches!(fault, Some(Fault::RecallRetry)) {
        return Reply::business("ACQ.SYSTEM_ERROR", "系统错误").with("retry_flag", "Y");
    }
    let known = sim.book.query(out_trade_no).is_some();
    let reply = Reply::ok().with("out_trade_no", out_trade_no).with("retry_flag", "N");
    match sim.book.reverse(out_trade_no) {
        ReverseOutcome::Closed if known => reply.with("action", "close"),
        // Unknown until now: like Alipay's cancel by out_trade_no, the order is recorded closed
        // (a late pay then fails with ACQ.TRADE_HAS_CLOSE), but the reply has no `action`, which
        // the client cannot tell from "not found or failed" and so retries; the retry finds the
        // closed order and answers `close`.
        ReverseOutcome::Closed => reply,
        ReverseOutcome::GaveBack => reply.with("action", "refund"),
        ReverseOutcome::NotReversible => {
            Reply::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法").with("retry_flag", "N")
        }
    }
}

fn refund(sim: &Sim, biz: &Map<String, Value>) -> Reply {
    let (Some(out_trade_no), Some(amount), Some(refund_no)) =
        (text(biz, "out_trade_no"), yuan(biz, "refund_amount"), text(biz, "out_request_no"))
    else {
        return missing();
    };
    match sim.book.refund(out_trade_no, refund_no, refund_no, amount) {
        // Alipay pays a refund out at once: `fund_change=Y`, or `N` on a replay.
        RefundOutcome::Accepted { refund_txn: _, fresh, total_refunded } => {
            let txn = sim.book.query(out_trade_no).map(|v| v.txn).unwrap_or_default();
            Reply::ok()
                .with("trade_no", txn)
                .with("out_trade_no", out_trade_no)
                .with("fund_change", if fresh { "Y" } else { "N" })
                .with("refund_fee", total_refunded.to_yuan_string())
        }
        RefundOutcome::NotFound => Reply::business("ACQ.TRADE_NOT_EXIST", "交易不存在"),
        RefundOutcome::NotPaid => Reply::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"),
        RefundOutcome::Exceeds => Reply::business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"),
        RefundOutcome::Mismatch => Reply::business("ACQ.CONTEXT_INCONSISTENT", "退款请求号已用于其他退款"),
    }
}

/// `alipay.trade.fastpay.refund.query`: a refund that exists comes back with its amount and
/// `REFUND_SUCCESS`; one that does not is a bare `10000`, as on Alipay.
fn refund_query(sim: &Sim, biz: &Map<String, Value>) -> Reply {
    let (Some(out_trade_no), Some(refund_no)) = (text(biz, "out_trade_no"), text(biz, "out_request_no"))
    else {
        return missing();
    };
    let Some(order) = sim.book.query(out_trade_no) else {
        return Reply::business("ACQ.TRADE_NOT_EXIST", "交易不存在");
    };
    match sim.book.refund_status(refund_no) {
        Some(refund)
            if refund.out_trade_no == out_trade_no
                && refund.state == RefundState::Ended(RefundEnding::Success) =>
        {
            Reply::ok()
                .with("trade_no", order.txn)
                .with("out_trade_no", out_trade_no)
                .with("out_request_no", refund_no)
                .with("total_amount", order.amount.to_yuan_string())
                .with("refund_amount", refund.amount.to_yuan_string())
                .with("refund_status", "REFUND_SUCCESS")
        }
        _ => Reply::ok(),
    }
}

fn bill_url(sim: &Sim, biz: &Map<String, Value>) -> Reply {
    match text(biz, "bill_date").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
        Some(date) => {
            Reply::ok().with("bill_download_url", format!("{}/bill/{}", sim.url, date.format("%Y-%m-%d")))
        }
        None => Reply::business("isv.invalid-bill-date", "账单日期格式不正确"),
    }
}

/// The bill of one day, from the ledger: a zip of the GBK detail and summary CSV files
/// ([`super::alipay_bill`]).
async fn bill(State(sim): Shared, headers: HeaderMap, Path(date): Path<String>) -> Response {
    let fault = match gate(&sim.plan, "statement", &headers).await {
        Gate::Answer(response) => return response,
        Gate::Proceed(fault) => fault,
    };
    let Ok(date) = NaiveDate::parse_from_str(&date, "%Y-%m-%d") else {
        return (StatusCode::NOT_FOUND, "no such bill").into_response();
    };
    let trade_no = |entry: &super::book::LedgerEntry| {
        sim.book.query(&entry.out_trade_no).map(|v| v.txn).unwrap_or_else(|| entry.channel_txn.clone())
    };
    let exported_at = beijing::now().format("%Y年%m月%d日 %H:%M:%S").to_string();
    // Alipay states 服务费 to the fen.
    let fee = |entry: &super::book::LedgerEntry| {
        Fen((sim.book.stated_fee_millifen(&entry.out_trade_no, entry.amount, sim.fee_ppm) + 500) / 1_000)
    };
    let (detail, summary) = alipay_bill::files(&sim.book.ledger(), trade_no, fee, date, &exported_at);
    let zip = alipay_bill::zip(&detail, &summary, date);
    let headers = [(axum::http::header::CONTENT_TYPE, "application/zip")];
    finish(&fault, (headers, zip).into_response())
}
