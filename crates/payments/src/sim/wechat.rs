//! WeChat Pay v2 simulator: `/pay/micropay`, `/pay/orderquery`, `/secapi/pay/reverse`,
//! `/secapi/pay/refund`, `/pay/refundquery`, `/pay/downloadbill`. Verifies the client's
//! signature with the `sign_type` the request names (MD5 when absent, or HMAC-SHA256) and signs
//! its reply the same way.

use super::book::{
    Book, LedgerKind, OrderState, PayOutcome, RefundEnding, RefundOutcome, RefundState, ReverseOutcome,
};
use super::faults::{bad_signature, finish, gate, pin_of, Gate};
use super::wire::{wechat_sign, wechat_signed_by, wechat_xml, WeChatSign};
use super::WeChatSimConfig;
use crate::beijing;
use crate::wechat::bill::{COLUMNS, SUMMARY_HEADER};
use crate::wechat::xml;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::NaiveDate;
use kiosk_core::Fen;
use secrecy::ExposeSecret;
use simkit::{Fault, FaultPlan};
use std::collections::BTreeMap;

/// The fields of a WeChat request or reply.
type Params = BTreeMap<String, String>;

#[derive(Clone)]
struct Sim {
    config: WeChatSimConfig,
    plan: FaultPlan,
    book: Book,
}

#[derive(Clone, Copy)]
enum Call {
    Pay,
    Query,
    Reverse,
    Refund,
    RefundQuery,
    Statement,
}

impl Call {
    fn endpoint(self) -> &'static str {
        match self {
            Call::Pay => "pay",
            Call::Query => "query",
            Call::Reverse => "reverse",
            Call::Refund => "refund",
            Call::RefundQuery => "refund_query",
            Call::Statement => "statement",
        }
    }
}

pub(crate) fn router(config: WeChatSimConfig, plan: FaultPlan, book: Book) -> Router {
    let sim = Sim { config, plan, book };
    Router::new()
        .route("/pay/micropay", post(|s: State<Sim>, h: HeaderMap, b: String| handle(s, h, b, Call::Pay)))
        .route("/pay/orderquery", post(|s: State<Sim>, h: HeaderMap, b: String| handle(s, h, b, Call::Query)))
        .route(
            "/secapi/pay/reverse",
            post(|s: State<Sim>, h: HeaderMap, b: String| handle(s, h, b, Call::Reverse)),
        )
        .route(
            "/secapi/pay/refund",
            post(|s: State<Sim>, h: HeaderMap, b: String| handle(s, h, b, Call::Refund)),
        )
        .route(
            "/pay/refundquery",
            post(|s: State<Sim>, h: HeaderMap, b: String| handle(s, h, b, Call::RefundQuery)),
        )
        .route(
            "/pay/downloadbill",
            post(|s: State<Sim>, h: HeaderMap, b: String| handle(s, h, b, Call::Statement)),
        )
        .with_state(sim)
}

/// A reply under construction: business fields plus how to sign it.
struct Reply {
    fields: Params,
}

impl Reply {
    fn ok() -> Reply {
        let mut fields = Params::new();
        fields.insert("result_code".into(), "SUCCESS".into());
        Reply { fields }
    }

    fn error(code: &str, description: &str) -> Reply {
        let mut fields = Params::new();
        fields.insert("result_code".into(), "FAIL".into());
        fields.insert("err_code".into(), code.into());
        fields.insert("err_code_des".into(), description.into());
        Reply { fields }
    }

    fn with(mut self, key: &str, value: impl Into<String>) -> Reply {
        self.fields.insert(key.into(), value.into());
        self
    }
}

/// An unsigned communication-level failure, as WeChat sends for unreadable requests.
fn return_fail(message: &str) -> Response {
    let mut fields = Params::new();
    fields.insert("return_code".into(), "FAIL".into());
    fields.insert("return_msg".into(), message.into());
    xml_response(wechat_xml(&fields))
}

fn xml_response(body: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

async fn handle(State(sim): State<Sim>, headers: HeaderMap, body: String, call: Call) -> Response {
    let fault = match gate(&sim.plan, call.endpoint(), &headers).await {
        Gate::Answer(response) => return response,
        Gate::Proceed(fault) => fault,
    };
    let Ok(request) = xml::decode(&body) else {
        return finish(&fault, return_fail("XML格式错误"));
    };
    let Some(sign_type) = WeChatSign::of_request(request.get("sign_type").map(String::as_str)) else {
        return finish(&fault, return_fail("sign_type参数错误"));
    };
    let reply = if request.get("appid") != Some(&sim.config.appid)
        || request.get("mch_id") != Some(&sim.config.mch_id)
    {
        Reply::error("APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
    } else if !wechat_signed_by(&request, sim.config.api_key.expose_secret(), sign_type) {
        Reply::error("SIGNERROR", "签名错误")
    } else if let Some(Fault::ErrorCode { code }) = &fault {
        Reply::error(code, "simulated error")
    } else {
        match call {
            Call::Pay => pay(&sim, &request, &fault),
            Call::Query => query(&sim, &request),
            Call::Reverse => reverse(&sim, &request, &fault),
            Call::Refund => refund(&sim, &request),
            Call::RefundQuery => refund_query(&sim, &request),
            Call::Statement => match statement(&sim, &request) {
                // `tar_type=GZIP`: the same file, gzip'd.
                Ok(file) if param(&request, "tar_type") == Some("GZIP") => {
                    let headers = [(axum::http::header::CONTENT_TYPE, "application/octet-stream")];
                    return finish(&fault, (headers, gzip(file.as_bytes())).into_response());
                }
                Ok(file) => return finish(&fault, file.into_response()),
                Err(reply) => reply,
            },
        }
    };
    let reply = match &fault {
        Some(Fault::ErrorAfterCommit { code }) => Reply::error(code, "simulated error"),
        _ => reply,
    };
    finish(&fault, signed(&sim, reply, sign_type, bad_signature(&fault)))
}

fn signed(sim: &Sim, reply: Reply, sign_type: WeChatSign, corrupt: bool) -> Response {
    let mut fields = reply.fields;
    fields.insert("return_code".into(), "SUCCESS".into());
    fields.insert("return_msg".into(), "OK".into());
    fields.insert("appid".into(), sim.config.appid.clone());
    fields.insert("mch_id".into(), sim.config.mch_id.clone());
    fields.insert("nonce_str".into(), format!("{:016x}", rand::random::<u64>()));
    let key = if corrupt { "not-the-merchant-key" } else { sim.config.api_key.expose_secret() };
    let signature = wechat_sign(&fields, key, sign_type);
    fields.insert("sign".into(), signature);
    xml_response(wechat_xml(&fields))
}

fn param<'a>(request: &'a Params, key: &str) -> Option<&'a str> {
    request.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

fn fen(request: &Params, key: &str) -> Option<Fen> {
    param(request, key).and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > 0).map(Fen)
}

fn pay(sim: &Sim, request: &Params, fault: &Option<Fault>) -> Reply {
    let (Some(out_trade_no), Some(code), Some(total), Some(_), Some(_)) = (
        param(request, "out_trade_no"),
        param(request, "auth_code"),
        fen(request, "total_fee"),
        param(request, "body"),
        param(request, "spbill_create_ip"),
    ) else {
        return Reply::error("PARAM_ERROR", "缺少参数");
    };
    match sim.book.pay(out_trade_no, code, total, pin_of(fault)) {
        PayOutcome::Paid { txn } => Reply::ok()
            .with("out_trade_no", out_trade_no)
            .with("transaction_id", txn)
            .with("total_fee", total.0.to_string())
            .with("cash_fee", total.0.to_string())
            .with("trade_type", "MICROPAY")
            .with("bank_type", "CFT")
            .with("openid", "oSimulatedOpenId000000000000")
            .with("time_end", beijing::now().format("%Y%m%d%H%M%S").to_string()),
        PayOutcome::UserPaying { .. } => Reply::error("USERPAYING", "需要用户输入支付密码"),
        PayOutcome::AuthCodeUsed => Reply::error("AUTH_CODE_ERROR", "每个二维码仅限使用一次，请刷新再试"),
        PayOutcome::OrderPaid => Reply::error("ORDERPAID", "订单已支付"),
        PayOutcome::OrderClosed => Reply::error("ORDERCLOSED", "订单已关闭"),
        PayOutcome::OrderReversed => Reply::error("ORDERREVERSED", "订单已撤销"),
        PayOutcome::BuyerMismatch => Reply::error("BUYER_MISMATCH", "支付帐号错误"),
        PayOutcome::OutTradeNoUsed => Reply::error("OUT_TRADE_NO_USED", "商户订单号重复"),
    }
}

fn query(sim: &Sim, request: &Params) -> Reply {
    let Some(out_trade_no) = param(request, "out_trade_no") else {
        return Reply::error("PARAM_ERROR", "缺少参数");
    };
    let Some(view) = sim.book.query(out_trade_no) else {
        return Reply::error("ORDERNOTEXIST", "此交易订单号不存在");
    };
    let state = match view.state {
        OrderState::UserPaying => "USERPAYING",
        OrderState::Success => "SUCCESS",
        OrderState::PayError => "PAYERROR",
        // Reversed, paid or not, is 已撤销 as on real WeChat; only a paid one has a payment time.
        OrderState::Revoked { .. } => "REVOKED",
        // Refunds through the refund API: 转入退款.
        OrderState::Refunded => "REFUND",
    };
    let mut reply = Reply::ok().with("out_trade_no", out_trade_no).with("trade_state", state);
    // An order only a reverse ever named (its pay was lost) has no amount to report.
    if view.amount.is_positive() {
        reply = reply.with("total_fee", view.amount.0.to_string());
    }
    if let Some(paid_at) = view.paid_at {
        reply = reply
            .with("transaction_id", view.txn)
            .with("trade_type", "MICROPAY")
            .with("cash_fee", view.amount.0.to_string());
        // A REVOKED reply need not carry the payment time; by default this one does not.
        let revoked = matches!(view.state, OrderState::Revoked { .. });
        if !revoked || sim.config.revoked_time_end {
            reply = reply.with("time_end", time_text(paid_at));
        }
    }
    reply
}

fn time_text(at: kiosk_core::Ts) -> String {
    beijing::from_ts(at).format("%Y%m%d%H%M%S").to_string()
}

fn reverse(sim: &Sim, request: &Params, fault: &Option<Fault>) -> Reply {
    let Some(out_trade_no) = param(request, "out_trade_no") else {
        return Reply::error("PARAM_ERROR", "缺少参数");
    };
    if matches!(fault, Some(Fault::RecallRetry)) {
        return Reply::error("SYSTEMERROR", "接口返回错误").with("recall", "Y");
    }
    // By out_trade_no, an order WeChat has never seen is closed too (and stays closed, so a pay
    // request that arrives late is refused with ORDERREVERSED): what reverse is for after a lost
    // pay request (§10 F2). The reply is the same as for any closed order.
    match sim.book.reverse(out_trade_no) {
        ReverseOutcome::Closed | ReverseOutcome::GaveBack => Reply::ok().with("recall", "N"),
        ReverseOutcome::NotReversible => {
            Reply::error("TRADE_ERROR", "订单已退款，不能撤销").with("recall", "N")
        }
    }
}

fn refund(sim: &Sim, request: &Params) -> Reply {
    let (Some(out_trade_no), Some(refund_no), Some(amount), Some(total)) = (
        param(request, "out_trade_no"),
        param(request, "out_refund_no"),
        fen(request, "refund_fee"),
        fen(request, "total_fee"),
    ) else {
        return Reply::error("PARAM_ERROR", "缺少参数");
    };
    let Some(view) = sim.book.query(out_trade_no) else {
        return Reply::error("ORDERNOTEXIST", "此交易订单号不存在");
    };
    if view.amount != total {
        return Reply::error("PARAM_ERROR", "订单金额与原订单不一致");
    }
    match sim.book.refund(out_trade_no, refund_no, refund_no, amount) {
        // Taken on: WeChat pays it out later, as the refund query tells.
        RefundOutcome::Accepted { refund_txn, .. } => Reply::ok()
            .with("out_trade_no", out_trade_no)
            .with("transaction_id", view.txn)
            .with("out_refund_no", refund_no)
            .with("refund_id", refund_txn)
            .with("refund_fee", amount.0.to_string())
            .with("total_fee", view.amount.0.to_string())
            .with("cash_fee", view.amount.0.to_string()),
        RefundOutcome::NotFound => Reply::error("ORDERNOTEXIST", "此交易订单号不存在"),
        RefundOutcome::NotPaid => Reply::error("ERROR", "订单未支付或已撤销"),
        RefundOutcome::Exceeds => Reply::error("ERROR", "退款金额大于可退金额"),
        RefundOutcome::Mismatch => Reply::error("PARAM_ERROR", "退款单号已用于其他退款"),
    }
}

/// `/pay/refundquery` by `out_refund_no`: the one refund, listed at index 0.
fn refund_query(sim: &Sim, request: &Params) -> Reply {
    let Some(refund_no) = param(request, "out_refund_no") else {
        return Reply::error("PARAM_ERROR", "缺少参数");
    };
    let Some(refund) = sim.book.refund_status(refund_no) else {
        return Reply::error("REFUNDNOTEXIST", "退款订单查询失败");
    };
    let order = sim.book.query(&refund.out_trade_no);
    let status = match refund.state {
        RefundState::Processing => "PROCESSING",
        RefundState::Ended(ending) => ending.wire(),
    };
    let mut reply = Reply::ok()
        .with("out_trade_no", refund.out_trade_no.as_str())
        .with("refund_count", "1")
        .with("out_refund_no_0", refund.refund_no.as_str())
        .with("refund_id_0", refund.refund_txn.as_str())
        .with("refund_fee_0", refund.amount.0.to_string())
        .with("refund_status_0", status)
        .with("refund_channel_0", "ORIGINAL");
    if let Some(order) = order {
        reply = reply
            .with("transaction_id", order.txn)
            .with("total_fee", order.amount.0.to_string())
            .with("cash_fee", order.amount.0.to_string());
    }
    if let (RefundState::Ended(RefundEnding::Success), Some(at)) = (refund.state, refund.settled_at) {
        let text = beijing::from_ts(at).format("%Y-%m-%d %H:%M:%S").to_string();
        reply = reply.with("refund_success_time_0", text);
    }
    reply
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// The downloadbill file of one day, built from the ledger; a signed error reply if bad.
fn statement(sim: &Sim, request: &Params) -> Result<String, Reply> {
    let date = param(request, "bill_date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        .ok_or_else(|| Reply::error("PARAM_ERROR", "bill_date格式错误"))?;
    let entries: Vec<_> = sim
        .book
        .ledger()
        .into_iter()
        .filter(|e| e.kind != LedgerKind::Closed && beijing::date_of(e.at) == date)
        .collect();
    if entries.is_empty() {
        return Err(Reply::error("20002", "No Bill Exist"));
    }
    let yuan = |f: Fen| f.to_yuan_string();
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    let (mut paid, mut refunded, mut fees) = (Fen::ZERO, Fen::ZERO, 0i64);
    // WeChat states fees to 0.00001 yuan: thousandths of a fen.
    let fee_text = |milli: i64| format!("{}.{:05}", milli / 100_000, milli % 100_000);
    let ppm = sim.config.fee_ppm;
    let rate = format!("{}.{:02}%", ppm / 10_000, ppm % 10_000 / 100);
    for entry in &entries {
        let order_txn =
            sim.book.query(&entry.out_trade_no).map(|v| v.txn).unwrap_or_else(|| entry.channel_txn.clone());
        let zero = Fen::ZERO;
        let (state, settle, refund_id, refund_no, refund) = match entry.kind {
            LedgerKind::Charge => ("SUCCESS", entry.amount, "", "", zero),
            LedgerKind::Refund => (
                "REFUND",
                zero,
                entry.channel_txn.as_str(),
                entry.refund_no.as_deref().unwrap_or(""),
                entry.amount,
            ),
            _ => ("REVOKED", zero, "", "", entry.amount),
        };
        let fee = if entry.kind == LedgerKind::Charge {
            sim.book.stated_fee_millifen(&entry.out_trade_no, entry.amount, ppm)
        } else {
            0
        };
        fees += fee;
        paid = paid + settle;
        refunded = refunded + refund;
        let order_amount = if entry.kind == LedgerKind::Refund { zero } else { entry.amount };
        let cells = [
            beijing::from_ts(entry.at).format("%Y-%m-%d %H:%M:%S").to_string(),
            sim.config.appid.clone(),
            sim.config.mch_id.clone(),
            "0".into(),
            String::new(),
            order_txn,
            entry.out_trade_no.clone(),
            "oSimulatedOpenId000000000000".into(),
            "MICROPAY".into(),
            state.into(),
            "CFT".into(),
            "CNY".into(),
            yuan(settle),
            "0.00".into(),
            refund_id.into(),
            refund_no.into(),
            yuan(refund),
            "0.00".into(),
            if refund_no.is_empty() { String::new() } else { "ORIGINAL".into() },
            if refund_no.is_empty() { String::new() } else { "SUCCESS".into() },
            "utility bill".into(),
            String::new(),
            fee_text(fee),
            rate.clone(),
            yuan(order_amount),
            yuan(refund),
            String::new(),
        ];
        let row: Vec<String> = cells.iter().map(|c| format!("`{c}")).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "{SUMMARY_HEADER},应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    ));
    out.push_str(&format!(
        "`{},`{},`{},`0.00,`{},`{},`{}\r\n",
        entries.len(),
        yuan(paid),
        yuan(refunded),
        fee_text(fees),
        yuan(paid),
        yuan(refunded)
    ));
    Ok(out)
}
