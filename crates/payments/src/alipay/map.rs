//! Alipay replies → kiosk replies, exactly per payments.md §2.2 (codes and sub_codes), the
//! `trade_status` list and the cancel `retry_flag`/`action` of §2.1, and the refund's
//! `fund_change` (§2.5). Input is a verified response object; anything not in the tables is
//! "unknown". A reply that names another `out_trade_no` or `total_amount` than ours is a mismatch
//! (see [`crate::check`]).

use crate::check::{judge, judge_query, Echo, Verdict};
use crate::request::{OrderCall, RefundRequest};
use kiosk_core::{FailKind, OrderRef, PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply};
use serde_json::{Map, Value};

pub type Reply = Map<String, Value>;

/// Authorisation, parameter and permission faults (class C).
const CONFIG_CODES: &[&str] = &["20001", "40001", "40002", "40006"];

fn field<'a>(reply: &'a Reply, key: &str) -> &'a str {
    reply.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A field as the reply has it: `None` if absent; a non-string value (a number where a string
/// belongs) is marked as such, so it never passes for ours by accident.
fn present(reply: &Reply, key: &str) -> Option<String> {
    match reply.get(key)? {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        other => Some(format!("(not a string) {other}")),
    }
}

fn describe(reply: &Reply) -> String {
    let parts = [field(reply, "code"), field(reply, "sub_code"), field(reply, "sub_msg")];
    parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

/// How echoes are judged: [`judge`] for a pay reply (both, where money moved), [`judge_query`]
/// for a query's answer (one is enough: payments.md §2.1 lists `total_amount` only).
type Check = fn(&[Echo<'_>], bool) -> Verdict;

/// `out_trade_no` and `total_amount` (yuan) of a pay or query reply against ours; `required` when
/// the reply says money moved.
fn order_verdict(reply: &Reply, call: &OrderCall, required: bool, check: Check) -> Verdict {
    let order = present(reply, "out_trade_no");
    let amount = present(reply, "total_amount");
    check(
        &[
            Echo::text("out_trade_no", call.order.as_str(), order.as_deref()),
            Echo::yuan("total_amount", call.total, amount.as_deref()),
        ],
        required,
    )
}

/// `out_trade_no` alone (cancel, refund replies carry no order amount).
fn order_only(reply: &Reply, order: &OrderRef) -> Verdict {
    let theirs = present(reply, "out_trade_no");
    judge(&[Echo::text("out_trade_no", order.as_str(), theirs.as_deref())], false)
}

/// `alipay.trade.pay`.
pub fn pay(reply: &Reply, call: &OrderCall) -> PayReply {
    match order_verdict(reply, call, field(reply, "code") == "10000", judge) {
        Verdict::Other(detail) => return PayReply::Mismatch { detail },
        Verdict::Unclear(detail) => return PayReply::Unknown { detail },
        Verdict::Ours => {}
    }
    match field(reply, "code") {
        "10000" => match field(reply, "trade_no") {
            "" => PayReply::Unknown { detail: "10000 without trade_no".into() },
            txn => PayReply::Paid { channel_txn: txn.to_string() },
        },
        "10003" => PayReply::AwaitingPin,
        "40004" => match field(reply, "sub_code") {
            "ACQ.TRADE_HAS_SUCCESS" => PayReply::AlreadyUsed { code: "ACQ.TRADE_HAS_SUCCESS".into() },
            "ACQ.SYSTEM_ERROR" => PayReply::Unknown { detail: describe(reply) },
            sub if sub.starts_with("ACQ.") => PayReply::Failed {
                kind: FailKind::Customer,
                code: sub.to_string(),
                message: field(reply, "sub_msg").to_string(),
            },
            _ => PayReply::Unknown { detail: describe(reply) },
        },
        code if CONFIG_CODES.contains(&code) => PayReply::Failed {
            kind: FailKind::Config,
            code: format!("{code} {}", field(reply, "sub_code")).trim().to_string(),
            message: field(reply, "sub_msg").to_string(),
        },
        // 20000 and every code not in the table.
        _ => PayReply::Unknown { detail: describe(reply) },
    }
}

/// `alipay.trade.query`.
pub fn query(reply: &Reply, call: &OrderCall) -> QueryReply {
    let paid = field(reply, "code") == "10000"
        && matches!(field(reply, "trade_status"), "TRADE_SUCCESS" | "TRADE_FINISHED");
    match order_verdict(reply, call, paid, judge_query) {
        Verdict::Other(detail) => return QueryReply::Mismatch { detail },
        Verdict::Unclear(detail) => return QueryReply::Unknown { detail },
        Verdict::Ours => {}
    }
    match field(reply, "code") {
        "10000" => {
            // `trade_no` is Alipay's number for the trade, kept for the receipt and staff; the
            // query's answer need not carry it (payments.md §2.1), and the money is known
            // without it.
            let txn = field(reply, "trade_no");
            match field(reply, "trade_status") {
                "TRADE_SUCCESS" | "TRADE_FINISHED" => QueryReply::Paid { channel_txn: txn.to_string() },
                "WAIT_BUYER_PAY" => QueryReply::Waiting,
                // Unpaid and timed out, or paid and fully refunded (§2.2): not "not charged".
                "TRADE_CLOSED" => QueryReply::Closed { code: "TRADE_CLOSED".into() },
                other => QueryReply::Unknown { detail: format!("trade_status {other:?}") },
            }
        }
        "40004" if field(reply, "sub_code") == "ACQ.TRADE_NOT_EXIST" => QueryReply::NotFound,
        _ => QueryReply::Unknown { detail: describe(reply) },
    }
}

/// `alipay.trade.cancel`: `retry_flag=Y` always means "call again". A `10000` is done; whether
/// money went back is read from `action` only: `refund` yes, `close` no, absent: not said.
pub fn cancel(reply: &Reply, order: &OrderRef) -> ReverseReply {
    if field(reply, "retry_flag") == "Y" {
        return ReverseReply::Retry { detail: format!("retry_flag=Y {}", describe(reply)) };
    }
    if let Verdict::Other(detail) | Verdict::Unclear(detail) = order_only(reply, order) {
        return ReverseReply::Retry { detail: format!("cancel reply about another order: {detail}") };
    }
    match field(reply, "code") {
        "10000" => match field(reply, "action") {
            "refund" => ReverseReply::Done { refunded: Some(true) },
            "close" => ReverseReply::Done { refunded: Some(false) },
            "" => ReverseReply::Done { refunded: None },
            other => ReverseReply::Retry { detail: format!("unknown cancel action {other:?}") },
        },
        "40004" => match field(reply, "sub_code") {
            "ACQ.SYSTEM_ERROR" => ReverseReply::Retry { detail: describe(reply) },
            sub if sub.starts_with("ACQ.") => ReverseReply::Refused { detail: describe(reply) },
            _ => ReverseReply::Retry { detail: describe(reply) },
        },
        code if CONFIG_CODES.contains(&code) => ReverseReply::Refused { detail: describe(reply) },
        _ => ReverseReply::Retry { detail: describe(reply) },
    }
}

/// `alipay.trade.refund`: Alipay books the refund synchronously. `fund_change=Y` is this call's
/// refund, `N` an idempotent replay of one already made; both mean the money is back.
pub fn refund(reply: &Reply, request: &RefundRequest) -> RefundReply {
    if let Verdict::Other(detail) | Verdict::Unclear(detail) = order_only(reply, &request.order) {
        return RefundReply::Unknown { detail: format!("refund reply about another order: {detail}") };
    }
    match field(reply, "code") {
        "10000" => match field(reply, "fund_change") {
            "Y" | "N" => RefundReply::Refunded,
            other => RefundReply::Unknown { detail: format!("10000 with fund_change {other:?}") },
        },
        "40004" => match field(reply, "sub_code") {
            "ACQ.SYSTEM_ERROR" | "ACQ.SELLER_BALANCE_NOT_ENOUGH" => {
                RefundReply::Unknown { detail: describe(reply) }
            }
            sub if sub.starts_with("ACQ.") => RefundReply::Refused { detail: describe(reply) },
            _ => RefundReply::Unknown { detail: describe(reply) },
        },
        code if CONFIG_CODES.contains(&code) => RefundReply::Refused { detail: describe(reply) },
        _ => RefundReply::Unknown { detail: describe(reply) },
    }
}

/// `alipay.trade.fastpay.refund.query` by `out_trade_no` + `out_request_no`. A refund that
/// exists comes back with `refund_amount` (and, when asked for, `refund_status=REFUND_SUCCESS`);
/// one that does not exist is a bare `10000`.
pub fn refund_query(reply: &Reply, request: &RefundRequest) -> RefundQueryReply {
    match field(reply, "code") {
        "10000" => {}
        "40004" if field(reply, "sub_code") == "ACQ.TRADE_NOT_EXIST" => return RefundQueryReply::NotFound,
        _ => return RefundQueryReply::Unknown { detail: describe(reply) },
    }
    let (order, refund_no, amount) =
        (present(reply, "out_trade_no"), present(reply, "out_request_no"), present(reply, "refund_amount"));
    let verdict = judge(
        &[
            Echo::text("out_trade_no", request.order.as_str(), order.as_deref()),
            Echo::text("out_request_no", &request.refund_no, refund_no.as_deref()),
            Echo::yuan("refund_amount", request.amount, amount.as_deref()),
        ],
        false,
    );
    if let Verdict::Other(detail) | Verdict::Unclear(detail) = verdict {
        return RefundQueryReply::Unknown { detail: format!("another refund: {detail}") };
    }
    let has = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.is_empty());
    match field(reply, "refund_status") {
        "REFUND_SUCCESS" => RefundQueryReply::Refunded,
        "" if has(&amount) => RefundQueryReply::Refunded,
        "" if !has(&refund_no) => RefundQueryReply::NotFound,
        "" => RefundQueryReply::Unknown { detail: "out_request_no without refund_amount".into() },
        other => RefundQueryReply::Unknown { detail: format!("refund_status {other:?}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::{Fen, Ts};
    use serde_json::json;

    fn reply(value: serde_json::Value) -> Reply {
        value.as_object().cloned().unwrap_or_default()
    }

    fn call() -> OrderCall {
        OrderCall { order: OrderRef::new("YZ00000001").unwrap(), total: Fen(8650), sent_at: Ts(0) }
    }

    fn refund_request() -> RefundRequest {
        RefundRequest {
            order: OrderRef::new("YZ00000001").unwrap(),
            refund_no: "YZ00000001R1".into(),
            order_total: Fen(8650),
            amount: Fen(250),
            order_sent_at: Ts(0),
            sent_at: Ts(1),
        }
    }

    #[test]
    fn every_trade_status() {
        let status = |s: &str| {
            query(
                &reply(
                    json!({"code":"10000","trade_status":s,"trade_no":"T1","out_trade_no":"YZ00000001","total_amount":"86.50"}),
                ),
                &call(),
            )
        };
        assert_eq!(status("TRADE_SUCCESS"), QueryReply::Paid { channel_txn: "T1".into() });
        assert_eq!(status("TRADE_FINISHED"), QueryReply::Paid { channel_txn: "T1".into() });
        assert_eq!(status("WAIT_BUYER_PAY"), QueryReply::Waiting);
        assert_eq!(status("TRADE_CLOSED"), QueryReply::Closed { code: "TRADE_CLOSED".into() });
        assert!(matches!(status("NEW"), QueryReply::Unknown { .. }));
        assert!(matches!(query(&reply(json!({"code":"20000"})), &call()), QueryReply::Unknown { .. }));
    }

    #[test]
    fn a_paid_query_answer_with_only_the_fields_the_spec_lists_is_paid() {
        // payments.md §2.1: `trade_status`, `total_amount`, `buyer_pay_amount`, `receipt_amount`,
        // `send_pay_date`, `terminal_id`: no order number, no trade number.
        let listed = json!({"code":"10000","trade_status":"TRADE_SUCCESS","total_amount":"86.50",
            "buyer_pay_amount":"86.50","receipt_amount":"86.50","send_pay_date":"2026-12-07 10:00:00",
            "terminal_id":"K0001"});
        assert_eq!(query(&reply(listed), &call()), QueryReply::Paid { channel_txn: String::new() });
        // Another amount is still another trade; no echo at all proves nothing.
        let other = json!({"code":"10000","trade_status":"TRADE_SUCCESS","total_amount":"86.51"});
        assert!(matches!(query(&reply(other), &call()), QueryReply::Mismatch { .. }));
        let bare = json!({"code":"10000","trade_status":"TRADE_SUCCESS","trade_no":"T1"});
        assert!(matches!(query(&reply(bare), &call()), QueryReply::Unknown { .. }));
    }

    #[test]
    fn another_order_or_amount_is_a_mismatch_and_a_bare_success_is_unknown() {
        let paid = |extra: serde_json::Value| {
            let mut r = reply(
                json!({"code":"10000","trade_status":"TRADE_SUCCESS","trade_no":"T1","out_trade_no":"YZ00000001","total_amount":"86.5"}),
            );
            r.extend(reply(extra));
            r
        };
        assert_eq!(query(&paid(json!({})), &call()), QueryReply::Paid { channel_txn: "T1".into() });
        assert_eq!(pay(&paid(json!({})), &call()), PayReply::Paid { channel_txn: "T1".into() });
        for other in [
            json!({"out_trade_no":"YZ00000002"}),
            json!({"total_amount":"86.51"}),
            json!({"total_amount":"8650"}),
        ] {
            assert!(matches!(query(&paid(other.clone()), &call()), QueryReply::Mismatch { .. }), "{other}");
            assert!(matches!(pay(&paid(other.clone()), &call()), PayReply::Mismatch { .. }), "{other}");
        }
        // A number where the yuan string belongs is not ours either.
        assert!(matches!(pay(&paid(json!({"total_amount":86.5})), &call()), PayReply::Unknown { .. }));
        // A pay reply lacking a field Alipay's pay answer carries (§2.1) proves nothing; a
        // query's answer needs only one of them (see a_paid_query_answer_with_only_…).
        for missing in ["out_trade_no", "total_amount"] {
            let mut r = paid(json!({}));
            r.remove(missing);
            assert!(matches!(pay(&r, &call()), PayReply::Unknown { ref detail } if detail.contains(missing)));
            assert!(matches!(query(&r, &call()), QueryReply::Paid { .. }));
        }
        let waiting = reply(json!({"code":"10003"}));
        assert_eq!(pay(&waiting, &call()), PayReply::AwaitingPin);
    }

    #[test]
    fn cancel_actions_and_refund_codes() {
        let order = call().order;
        let cancel_of = |v| cancel(&reply(v), &order);
        assert_eq!(
            cancel_of(json!({"code":"10000","action":"close"})),
            ReverseReply::Done { refunded: Some(false) }
        );
        assert_eq!(
            cancel_of(json!({"code":"10000","action":"refund"})),
            ReverseReply::Done { refunded: Some(true) }
        );
        assert_eq!(cancel_of(json!({"code":"10000"})), ReverseReply::Done { refunded: None }, "no action");
        assert!(matches!(cancel_of(json!({"code":"10000","retry_flag":"Y"})), ReverseReply::Retry { .. }));
        assert!(matches!(cancel_of(json!({"code":"10000","action":"mystery"})), ReverseReply::Retry { .. }));
        assert!(matches!(
            cancel_of(json!({"code":"10000","action":"refund","out_trade_no":"YZ00000002"})),
            ReverseReply::Retry { .. }
        ));
        assert!(matches!(cancel_of(json!({"code":"20000"})), ReverseReply::Retry { .. }));
        assert!(matches!(
            cancel_of(json!({"code":"40004","sub_code":"ACQ.TRADE_CANCEL_TIME_OUT"})),
            ReverseReply::Refused { .. }
        ));
        let request = refund_request();
        assert_eq!(
            refund(&reply(json!({"code":"10000","fund_change":"Y"})), &request),
            RefundReply::Refunded
        );
        assert_eq!(
            refund(&reply(json!({"code":"10000","fund_change":"N"})), &request),
            RefundReply::Refunded
        );
        assert!(matches!(refund(&reply(json!({"code":"10000"})), &request), RefundReply::Unknown { .. }));
        assert!(matches!(
            refund(&reply(json!({"code":"10000","fund_change":"Y","out_trade_no":"YZ00000002"})), &request),
            RefundReply::Unknown { .. }
        ));
        assert!(matches!(
            refund(&reply(json!({"code":"40004","sub_code":"ACQ.SELLER_BALANCE_NOT_ENOUGH"})), &request),
            RefundReply::Unknown { .. }
        ));
        assert!(matches!(
            refund(&reply(json!({"code":"40004","sub_code":"ACQ.TRADE_NOT_EXIST"})), &request),
            RefundReply::Refused { .. }
        ));
        assert!(
            matches!(
                pay(
                    &reply(json!({"code":"10000","out_trade_no":"YZ00000001","total_amount":"86.50"})),
                    &call()
                ),
                PayReply::Unknown { .. }
            ),
            "no trade_no"
        );
        assert!(
            matches!(pay(&reply(json!({"code":10000,"trade_no":"T"})), &call()), PayReply::Unknown { .. }),
            "not a string"
        );
    }

    #[test]
    fn refund_query_reads_status_or_amount_and_a_bare_reply_is_not_found() {
        let request = refund_request();
        let of = |v| refund_query(&reply(v), &request);
        let found = json!({"code":"10000","out_trade_no":"YZ00000001","out_request_no":"YZ00000001R1","refund_amount":"2.50"});
        assert_eq!(of(found.clone()), RefundQueryReply::Refunded);
        let mut with_status = found.clone();
        with_status["refund_status"] = json!("REFUND_SUCCESS");
        assert_eq!(of(with_status), RefundQueryReply::Refunded);
        assert_eq!(of(json!({"code":"10000","msg":"Success"})), RefundQueryReply::NotFound);
        assert_eq!(of(json!({"code":"40004","sub_code":"ACQ.TRADE_NOT_EXIST"})), RefundQueryReply::NotFound);
        assert!(matches!(of(json!({"code":"20000"})), RefundQueryReply::Unknown { .. }));
        let mut other_amount = found.clone();
        other_amount["refund_amount"] = json!("2.51");
        assert!(matches!(of(other_amount), RefundQueryReply::Unknown { .. }));
        let mut other_no = found;
        other_no["out_request_no"] = json!("YZ00000001R2");
        assert!(matches!(of(other_no), RefundQueryReply::Unknown { .. }));
        assert!(matches!(
            of(json!({"code":"10000","out_request_no":"YZ00000001R1","refund_status":"MYSTERY"})),
            RefundQueryReply::Unknown { .. }
        ));
    }
}
