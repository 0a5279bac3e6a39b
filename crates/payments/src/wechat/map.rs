//! WeChat v2 replies → kiosk replies, exactly per payments.md §1.4 (micropay), §1.5 (orderquery),
//! §1.6 (reverse) and §1.8 (refund). Input is a reply whose envelope and signature were already
//! checked; anything not covered by a table row is "unknown", never a failure.

use super::sign::Params;
use kiosk_core::{FailKind, PayReply, QueryReply, RefundReply, ReverseReply};

/// Request or configuration faults (class C): fail and alarm.
const CONFIG_CODES: &[&str] = &[
    "PARAM_ERROR",
    "LACK_PARAMS",
    "SIGNERROR",
    "XML_FORMAT_ERROR",
    "REQUIRE_POST_METHOD",
    "NOT_UTF8",
    "NOAUTH",
    "APPID_NOT_EXIST",
    "MCHID_NOT_EXIST",
    "APPID_MCHID_NOT_MATCH",
];

/// Definite failures the customer can act on (class F).
const CUSTOMER_CODES: &[&str] = &[
    "AUTHCODEEXPIRE",
    "AUTH_CODE_ERROR",
    "AUTH_CODE_INVALID",
    "NOTENOUGH",
    "NOTSUPORTCARD",
    "ORDERCLOSED",
    "ORDERREVERSED",
    "BUYER_MISMATCH",
];

fn field<'a>(reply: &'a Params, key: &str) -> &'a str {
    reply.get(key).map(String::as_str).unwrap_or("")
}

fn is_success(reply: &Params) -> bool {
    field(reply, "result_code") == "SUCCESS"
}

fn err_code(reply: &Params) -> &str {
    field(reply, "err_code")
}

fn describe(reply: &Params) -> String {
    format!("{} {}", err_code(reply), field(reply, "err_code_des")).trim().to_string()
}

/// micropay, §1.4.
pub fn pay(reply: &Params) -> PayReply {
    if is_success(reply) {
        return match field(reply, "transaction_id") {
            "" => PayReply::Unknown { detail: "SUCCESS without transaction_id".into() },
            txn => PayReply::Paid { channel_txn: txn.to_string() },
        };
    }
    let code = err_code(reply);
    match code {
        "USERPAYING" => PayReply::AwaitingPin,
        "ORDERPAID" | "OUT_TRADE_NO_USED" => PayReply::AlreadyUsed { code: code.to_string() },
        c if CUSTOMER_CODES.contains(&c) => failed(FailKind::Customer, reply),
        c if CONFIG_CODES.contains(&c) => failed(FailKind::Config, reply),
        // SYSTEMERROR, BANKERROR and every code not in the table.
        _ => PayReply::Unknown { detail: describe(reply) },
    }
}

fn failed(kind: FailKind, reply: &Params) -> PayReply {
    PayReply::Failed {
        kind,
        code: err_code(reply).to_string(),
        message: field(reply, "err_code_des").to_string(),
    }
}

/// orderquery, §1.5.
pub fn query(reply: &Params) -> QueryReply {
    if !is_success(reply) {
        return match err_code(reply) {
            "ORDERNOTEXIST" => QueryReply::NotFound,
            _ => QueryReply::Unknown { detail: describe(reply) },
        };
    }
    let txn = field(reply, "transaction_id");
    match field(reply, "trade_state") {
        "SUCCESS" if !txn.is_empty() => QueryReply::Paid { channel_txn: txn.to_string() },
        "REFUND" if !txn.is_empty() => QueryReply::PaidThenRefunded { channel_txn: txn.to_string() },
        "NOTPAY" | "USERPAYING" | "ACCEPT" => QueryReply::Waiting,
        state @ ("PAYERROR" | "CLOSED" | "REVOKED") => QueryReply::Failed { code: state.to_string() },
        other => QueryReply::Unknown { detail: format!("trade_state {other:?}") },
    }
}

/// reverse, §1.6 step 5: `recall=Y` always means "call again", whatever the result says.
/// `refunded` comes from a follow-up query (WeChat's reverse reply does not say).
pub fn reverse(reply: &Params, refunded: bool) -> ReverseReply {
    if field(reply, "recall") == "Y" {
        return ReverseReply::Retry { detail: format!("recall=Y {}", describe(reply)).trim().to_string() };
    }
    if is_success(reply) {
        return ReverseReply::Done { refunded };
    }
    match err_code(reply) {
        // Older than 7 days, or an order WeChat does not know: only a refund can settle it.
        "REVERSE_EXPIRE" | "ORDERNOTEXIST" | "INVALID_TRANSACTIONID" | "TRADE_ERROR" => {
            ReverseReply::Refused { detail: describe(reply) }
        }
        c if CONFIG_CODES.contains(&c) => ReverseReply::Refused { detail: describe(reply) },
        // SYSTEMERROR, USERPAYING and anything unknown: try again.
        _ => ReverseReply::Retry { detail: describe(reply) },
    }
}

/// refund, §1.8: the same `out_refund_no` is safe to send again, so anything unclear is unknown.
pub fn refund(reply: &Params) -> RefundReply {
    if is_success(reply) {
        return RefundReply::Refunded;
    }
    match err_code(reply) {
        "ORDERNOTEXIST"
        | "ERROR"
        | "TRADE_OVERDUE"
        | "USER_ACCOUNT_ABNORMAL"
        | "INVALID_REQ_TOO_MUCH"
        | "INVALID_TRANSACTIONID" => RefundReply::Refused { detail: describe(reply) },
        c if CONFIG_CODES.contains(&c) => RefundReply::Refused { detail: describe(reply) },
        // SYSTEMERROR, BIZERR_NEED_RETRY, NOTENOUGH (merchant balance), FREQUENCY_LIMITED, unknown.
        _ => RefundReply::Unknown { detail: describe(reply) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(pairs: &[(&str, &str)]) -> Params {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_trade_state_of_the_query_table() {
        let state = |s: &str| {
            query(&reply(&[("result_code", "SUCCESS"), ("trade_state", s), ("transaction_id", "T1")]))
        };
        assert_eq!(state("SUCCESS"), QueryReply::Paid { channel_txn: "T1".into() });
        assert_eq!(state("REFUND"), QueryReply::PaidThenRefunded { channel_txn: "T1".into() });
        for waiting in ["NOTPAY", "USERPAYING", "ACCEPT"] {
            assert_eq!(state(waiting), QueryReply::Waiting, "{waiting}");
        }
        for failed in ["PAYERROR", "CLOSED", "REVOKED"] {
            assert_eq!(state(failed), QueryReply::Failed { code: failed.into() });
        }
        assert!(matches!(state("MYSTERY"), QueryReply::Unknown { .. }));
        let paid_without_id = query(&reply(&[("result_code", "SUCCESS"), ("trade_state", "SUCCESS")]));
        assert!(matches!(paid_without_id, QueryReply::Unknown { .. }));
    }

    #[test]
    fn reverse_and_refund_codes() {
        let fail = |code: &str| reply(&[("result_code", "FAIL"), ("err_code", code)]);
        assert!(matches!(reverse(&fail("SYSTEMERROR"), false), ReverseReply::Retry { .. }));
        assert!(matches!(reverse(&fail("USERPAYING"), false), ReverseReply::Retry { .. }));
        assert!(matches!(reverse(&fail("REVERSE_EXPIRE"), false), ReverseReply::Refused { .. }));
        assert!(matches!(reverse(&fail("SIGNERROR"), false), ReverseReply::Refused { .. }));
        let recall = reply(&[("result_code", "SUCCESS"), ("recall", "Y")]);
        assert!(matches!(reverse(&recall, false), ReverseReply::Retry { .. }), "recall=Y wins over SUCCESS");
        assert_eq!(refund(&reply(&[("result_code", "SUCCESS")])), RefundReply::Refunded);
        for unknown in ["SYSTEMERROR", "BIZERR_NEED_RETRY", "NOTENOUGH", "FREQUENCY_LIMITED", "NEW_CODE"] {
            assert!(matches!(refund(&fail(unknown)), RefundReply::Unknown { .. }), "{unknown}");
        }
        for refused in
            ["ORDERNOTEXIST", "TRADE_OVERDUE", "USER_ACCOUNT_ABNORMAL", "INVALID_REQ_TOO_MUCH", "PARAM_ERROR"]
        {
            assert!(matches!(refund(&fail(refused)), RefundReply::Refused { .. }), "{refused}");
        }
        let paid_without_id = pay(&reply(&[("result_code", "SUCCESS")]));
        assert!(matches!(paid_without_id, PayReply::Unknown { .. }));
    }
}
