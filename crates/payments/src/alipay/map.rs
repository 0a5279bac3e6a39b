//! Alipay replies → kiosk replies, exactly per payments.md §2.2 (codes and sub_codes), the
//! `trade_status` list and the cancel `retry_flag`/`action` of §2.1. Input is a verified response
//! object; anything not in the tables is "unknown".

use kiosk_core::{FailKind, PayReply, QueryReply, RefundReply, ReverseReply};
use serde_json::{Map, Value};

pub type Reply = Map<String, Value>;

/// Authorisation, parameter and permission faults (class C).
const CONFIG_CODES: &[&str] = &["20001", "40001", "40002", "40006"];

fn field<'a>(reply: &'a Reply, key: &str) -> &'a str {
    reply.get(key).and_then(Value::as_str).unwrap_or("")
}

fn describe(reply: &Reply) -> String {
    let parts = [field(reply, "code"), field(reply, "sub_code"), field(reply, "sub_msg")];
    parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

/// `alipay.trade.pay`.
pub fn pay(reply: &Reply) -> PayReply {
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
pub fn query(reply: &Reply) -> QueryReply {
    match field(reply, "code") {
        "10000" => {
            let txn = field(reply, "trade_no");
            match field(reply, "trade_status") {
                "TRADE_SUCCESS" | "TRADE_FINISHED" if !txn.is_empty() => {
                    QueryReply::Paid { channel_txn: txn.to_string() }
                }
                "WAIT_BUYER_PAY" => QueryReply::Waiting,
                "TRADE_CLOSED" => QueryReply::Failed { code: "TRADE_CLOSED".into() },
                other => QueryReply::Unknown { detail: format!("trade_status {other:?}") },
            }
        }
        "40004" if field(reply, "sub_code") == "ACQ.TRADE_NOT_EXIST" => QueryReply::NotFound,
        _ => QueryReply::Unknown { detail: describe(reply) },
    }
}

/// `alipay.trade.cancel`: `retry_flag=Y` always means "call again".
pub fn cancel(reply: &Reply) -> ReverseReply {
    if field(reply, "retry_flag") == "Y" {
        return ReverseReply::Retry { detail: format!("retry_flag=Y {}", describe(reply)) };
    }
    match field(reply, "code") {
        "10000" => match field(reply, "action") {
            "refund" => ReverseReply::Done { refunded: true },
            "close" => ReverseReply::Done { refunded: false },
            // Absent: "not found or failed" (§2.1) is no proof that the order is closed; a
            // retry (cancel is idempotent) gets a definite action.
            "" => ReverseReply::Retry { detail: "cancel answered 10000 without an action".into() },
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

/// `alipay.trade.refund`: `fund_change=N` is an idempotent replay of a refund already made.
pub fn refund(reply: &Reply) -> RefundReply {
    match field(reply, "code") {
        "10000" => RefundReply::Refunded,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(value: serde_json::Value) -> Reply {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn every_trade_status() {
        let status = |s: &str| query(&reply(json!({"code":"10000","trade_status":s,"trade_no":"T1"})));
        assert_eq!(status("TRADE_SUCCESS"), QueryReply::Paid { channel_txn: "T1".into() });
        assert_eq!(status("TRADE_FINISHED"), QueryReply::Paid { channel_txn: "T1".into() });
        assert_eq!(status("WAIT_BUYER_PAY"), QueryReply::Waiting);
        assert_eq!(status("TRADE_CLOSED"), QueryReply::Failed { code: "TRADE_CLOSED".into() });
        assert!(matches!(status("NEW"), QueryReply::Unknown { .. }));
        assert!(matches!(query(&reply(json!({"code":"20000"}))), QueryReply::Unknown { .. }));
    }

    #[test]
    fn cancel_actions_and_refund_codes() {
        let cancel_of = |v| cancel(&reply(v));
        assert_eq!(
            cancel_of(json!({"code":"10000","action":"close"})),
            ReverseReply::Done { refunded: false }
        );
        assert_eq!(
            cancel_of(json!({"code":"10000","action":"refund"})),
            ReverseReply::Done { refunded: true }
        );
        assert!(matches!(cancel_of(json!({"code":"10000"})), ReverseReply::Retry { .. }), "no action");
        assert!(matches!(cancel_of(json!({"code":"10000","retry_flag":"Y"})), ReverseReply::Retry { .. }));
        assert!(matches!(cancel_of(json!({"code":"10000","action":"mystery"})), ReverseReply::Retry { .. }));
        assert!(matches!(cancel_of(json!({"code":"20000"})), ReverseReply::Retry { .. }));
        assert!(matches!(
            cancel_of(json!({"code":"40004","sub_code":"ACQ.TRADE_CANCEL_TIME_OUT"})),
            ReverseReply::Refused { .. }
        ));
        assert_eq!(refund(&reply(json!({"code":"10000","fund_change":"N"}))), RefundReply::Refunded);
        assert!(matches!(
            refund(&reply(json!({"code":"40004","sub_code":"ACQ.SELLER_BALANCE_NOT_ENOUGH"}))),
            RefundReply::Unknown { .. }
        ));
        assert!(matches!(
            refund(&reply(json!({"code":"40004","sub_code":"ACQ.TRADE_NOT_EXIST"}))),
            RefundReply::Refused { .. }
        ));
        assert!(matches!(pay(&reply(json!({"code":"10000"}))), PayReply::Unknown { .. }), "no trade_no");
        assert!(
            matches!(pay(&reply(json!({"code":10000,"trade_no":"T"}))), PayReply::Unknown { .. }),
            "not a string"
        );
    }
}
