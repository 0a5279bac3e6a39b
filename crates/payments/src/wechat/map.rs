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

/// What a reverse reply says. The v2 reply never says whether money went back (it has no state
/// field), so a `Done` is always followed by a query read by [`reversed`].
#[derive(Debug, PartialEq, Eq)]
pub enum Reverse {
    Done,
    /// Refused or to be retried.
    Other(ReverseReply),
}

/// reverse, §1.6 step 5: `recall=Y` always means "call again", whatever the result says.
pub fn reverse(reply: &Params) -> Reverse {
    if field(reply, "recall") == "Y" {
        let detail = format!("recall=Y {}", describe(reply)).trim().to_string();
        return Reverse::Other(ReverseReply::Retry { detail });
    }
    if is_success(reply) {
        return Reverse::Done;
    }
    Reverse::Other(match err_code(reply) {
        // Older than 7 days, or an order WeChat does not know: only a refund can settle it.
        "REVERSE_EXPIRE" | "ORDERNOTEXIST" | "INVALID_TRANSACTIONID" | "TRADE_ERROR" => {
            ReverseReply::Refused { detail: describe(reply) }
        }
        c if CONFIG_CODES.contains(&c) => ReverseReply::Refused { detail: describe(reply) },
        // SYSTEMERROR, USERPAYING and anything unknown: try again.
        _ => ReverseReply::Retry { detail: describe(reply) },
    })
}

/// The orderquery that follows a successful reverse: did money go back?
///
/// - `REFUND`: it had been paid.
/// - `REVOKED` (also `CLOSED`/`PAYERROR`): closed; a reversed *paid* order is reported `REVOKED`
///   too, so whether it had been paid is read from `time_end` (支付完成时间), which only an order
///   that was paid carries.
/// - Anything else (still `SUCCESS`/`NOTPAY`/`USERPAYING`, "not found", an error, an unknown
///   state): the reverse has not shown yet or the answer is unclear, so "retry" (reverse is
///   idempotent), never a guess.
pub fn reversed(query: &Params) -> ReverseReply {
    let retry = |why: String| ReverseReply::Retry { detail: format!("reversed, but the query says {why}") };
    if !is_success(query) {
        return retry(describe(query));
    }
    match field(query, "trade_state") {
        "REFUND" => ReverseReply::Done { refunded: true },
        "REVOKED" | "CLOSED" | "PAYERROR" => {
            ReverseReply::Done { refunded: !field(query, "time_end").is_empty() }
        }
        other => retry(format!("trade_state {other:?}")),
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
    fn after_a_reverse_the_query_tells_whether_money_went_back_or_it_is_retried() {
        let state = |pairs: &[(&str, &str)]| {
            let mut all = vec![("result_code", "SUCCESS"), ("transaction_id", "T1")];
            all.extend_from_slice(pairs);
            reversed(&reply(&all))
        };
        assert_eq!(state(&[("trade_state", "REFUND")]), ReverseReply::Done { refunded: true });
        // Real WeChat reports a reversed paid order as REVOKED: its payment time gives it away.
        assert_eq!(
            state(&[("trade_state", "REVOKED"), ("time_end", "20261123104205")]),
            ReverseReply::Done { refunded: true }
        );
        assert_eq!(state(&[("trade_state", "REVOKED")]), ReverseReply::Done { refunded: false });
        assert_eq!(state(&[("trade_state", "CLOSED")]), ReverseReply::Done { refunded: false });
        for unclear in ["SUCCESS", "NOTPAY", "USERPAYING", "ACCEPT", "", "MYSTERY"] {
            assert!(matches!(state(&[("trade_state", unclear)]), ReverseReply::Retry { .. }), "{unclear}");
        }
        let failed = reply(&[("result_code", "FAIL"), ("err_code", "SYSTEMERROR")]);
        assert!(matches!(reversed(&failed), ReverseReply::Retry { .. }));
        let not_found = reply(&[("result_code", "FAIL"), ("err_code", "ORDERNOTEXIST")]);
        assert!(matches!(reversed(&not_found), ReverseReply::Retry { .. }));
    }

    #[test]
    fn reverse_and_refund_codes() {
        let fail = |code: &str| reply(&[("result_code", "FAIL"), ("err_code", code)]);
        let retry = |r: Reverse| matches!(r, Reverse::Other(ReverseReply::Retry { .. }));
        let refused = |r: Reverse| matches!(r, Reverse::Other(ReverseReply::Refused { .. }));
        assert!(retry(reverse(&fail("SYSTEMERROR"))));
        assert!(retry(reverse(&fail("USERPAYING"))));
        assert!(refused(reverse(&fail("REVERSE_EXPIRE"))));
        assert!(refused(reverse(&fail("ORDERNOTEXIST"))));
        assert!(refused(reverse(&fail("SIGNERROR"))));
        assert_eq!(reverse(&reply(&[("result_code", "SUCCESS"), ("recall", "N")])), Reverse::Done);
        let recall = reply(&[("result_code", "SUCCESS"), ("recall", "Y")]);
        assert!(retry(reverse(&recall)), "recall=Y wins over SUCCESS");
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
