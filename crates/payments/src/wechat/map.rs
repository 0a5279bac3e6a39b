//! WeChat v2 replies → kiosk replies, exactly per payments.md §1.4 (micropay), §1.5 (orderquery),
//! §1.6 (reverse) and §1.8 (refund, refundquery). Input is a reply whose envelope and signature
//! were already checked; anything not covered by a table row is "unknown", never a failure. A
//! reply that names another `out_trade_no` or `total_fee` than ours is a mismatch (see
//! [`crate::check`]).

use super::sign::Params;
use crate::check::{judge, judge_query, Echo, Verdict};
use crate::request::{OrderCall, RefundRequest};
use kiosk_core::{FailKind, PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply};

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

fn present<'a>(reply: &'a Params, key: &str) -> Option<&'a str> {
    reply.get(key).map(String::as_str)
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

/// How echoes are judged: [`judge`] for a pay reply (both, where money moved: §1.3 lists
/// them), [`judge_query`] for an orderquery's answer (one is enough: §1.5 names neither).
type Check = fn(&[Echo<'_>], bool) -> Verdict;

/// `out_trade_no` and `total_fee` of a pay or query reply against ours; `required` when the
/// reply claims money moved.
fn order_verdict(reply: &Params, call: &OrderCall, required: bool, check: Check) -> Verdict {
    check(
        &[
            Echo::text("out_trade_no", call.order.as_str(), present(reply, "out_trade_no")),
            Echo::fen("total_fee", call.total, present(reply, "total_fee")),
        ],
        required,
    )
}

/// micropay, §1.4.
pub fn pay(reply: &Params, call: &OrderCall) -> PayReply {
    match order_verdict(reply, call, is_success(reply), judge) {
        Verdict::Other(detail) => return PayReply::Mismatch { detail },
        Verdict::Unclear(detail) => return PayReply::Unknown { detail },
        Verdict::Ours => {}
    }
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
pub fn query(reply: &Params, call: &OrderCall) -> QueryReply {
    let money = is_success(reply) && matches!(field(reply, "trade_state"), "SUCCESS" | "REFUND");
    match order_verdict(reply, call, money, judge_query) {
        Verdict::Other(detail) => return QueryReply::Mismatch { detail },
        Verdict::Unclear(detail) => return QueryReply::Unknown { detail },
        Verdict::Ours => {}
    }
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
        state @ ("PAYERROR" | "CLOSED") => QueryReply::Failed { code: state.to_string() },
        // Reversed: of a paid order or of an unpaid one, the state alone does not say.
        "REVOKED" => QueryReply::Closed { code: "REVOKED".into() },
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

/// The orderquery that follows a successful reverse: did money go back? Only what the protocol
/// guarantees counts:
///
/// - `REFUND`: it had been paid, and the money went back (`Some(true)`).
/// - `REVOKED` with a `time_end` (支付完成时间, which only a paid order has): `Some(true)`.
/// - `REVOKED` without `time_end`: closed, but a `REVOKED` reply need not carry `time_end`, so
///   its absence does not prove the order was never paid: `None`.
/// - `CLOSED`, `PAYERROR`: closed without payment (`Some(false)`).
/// - `ORDERNOTEXIST`: the channel never saw the order (a pay request lost on the way, F2), so
///   the reverse closed nothing. "Refused", like a reverse answered `ORDERNOTEXIST`: the
///   machine then waits out the payment code's validity before "not charged", so a delayed copy
///   of the pay request can no longer take money. Retrying the reverse would never settle it.
/// - Anything else (still `SUCCESS`/`NOTPAY`/`USERPAYING`, an error, an unknown state), or a
///   reply about another order or amount: the reverse has not shown yet or the answer is
///   unclear, so "retry" (reverse is idempotent), never a guess.
pub fn reversed(query: &Params, call: &OrderCall) -> ReverseReply {
    let retry = |why: String| ReverseReply::Retry { detail: format!("reversed, but the query says {why}") };
    if !is_success(query) {
        if err_code(query) == "ORDERNOTEXIST" {
            return ReverseReply::Refused { detail: "reversed, but the channel has no such order".into() };
        }
        return retry(describe(query));
    }
    let paid = !field(query, "time_end").is_empty();
    let refunded = match field(query, "trade_state") {
        "REFUND" => Some(true),
        "REVOKED" if paid => Some(true),
        "REVOKED" => None,
        "CLOSED" | "PAYERROR" => Some(false),
        other => return retry(format!("trade_state {other:?}")),
    };
    match order_verdict(query, call, refunded == Some(true), judge_query) {
        Verdict::Other(detail) => retry(format!("another order: {detail}")),
        Verdict::Unclear(detail) => retry(detail),
        Verdict::Ours => ReverseReply::Done { refunded },
    }
}

/// refund, §1.8: `SUCCESS` only means WeChat *accepted* the refund (it pays out later; the refund
/// query tells when). The same `out_refund_no` is safe to send again, so anything unclear is
/// unknown.
pub fn refund(reply: &Params, request: &RefundRequest) -> RefundReply {
    match refund_verdict(reply, request, ("out_refund_no", "refund_fee"), is_success(reply)) {
        Verdict::Other(detail) => {
            return RefundReply::Unknown { detail: format!("another refund: {detail}") }
        }
        Verdict::Unclear(detail) => return RefundReply::Unknown { detail },
        Verdict::Ours => {}
    }
    if is_success(reply) {
        return RefundReply::Accepted;
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

/// The refund's echoed order, refund number and amounts against ours; `keys` name the refund
/// number and refund amount fields (the refund reply's, or the first refund of a refund query).
fn refund_verdict(
    reply: &Params,
    request: &RefundRequest,
    (refund_no_key, fee_key): (&'static str, &'static str),
    required: bool,
) -> Verdict {
    judge(
        &[
            Echo::text("out_trade_no", request.order.as_str(), present(reply, "out_trade_no")),
            Echo::text(refund_no_key, &request.refund_no, present(reply, refund_no_key)),
            Echo::fen(fee_key, request.amount, present(reply, fee_key)),
            Echo::fen("total_fee", request.order_total, present(reply, "total_fee")),
        ],
        required,
    )
}

/// refundquery by `out_refund_no`, §1.8: the source of truth for a refund WeChat accepted.
/// WeChat answers with the refunds as a list (`refund_count`, `out_refund_no_$n`,
/// `refund_status_$n`, `refund_fee_$n`); asked by `out_refund_no` it lists that one, at `_0`.
pub fn refund_query(reply: &Params, request: &RefundRequest) -> RefundQueryReply {
    if !is_success(reply) {
        return match err_code(reply) {
            "REFUNDNOTEXIST" => RefundQueryReply::NotFound,
            _ => RefundQueryReply::Unknown { detail: describe(reply) },
        };
    }
    let status = field(reply, "refund_status_0");
    match refund_verdict(reply, request, ("out_refund_no_0", "refund_fee_0"), true) {
        Verdict::Other(detail) => {
            return RefundQueryReply::Unknown { detail: format!("another refund: {detail}") }
        }
        Verdict::Unclear(detail) => return RefundQueryReply::Unknown { detail },
        Verdict::Ours => {}
    }
    match status {
        "SUCCESS" => RefundQueryReply::Refunded,
        "PROCESSING" => RefundQueryReply::Pending,
        "CHANGE" | "REFUNDCLOSE" => RefundQueryReply::Failed { code: status.to_string() },
        other => RefundQueryReply::Unknown { detail: format!("refund_status_0 {other:?}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::{Fen, OrderRef, Ts};

    fn reply(pairs: &[(&str, &str)]) -> Params {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn call() -> OrderCall {
        OrderCall { order: OrderRef::new("YZ00000001").unwrap(), total: Fen(100), sent_at: Ts(0) }
    }

    fn refund_request() -> RefundRequest {
        RefundRequest {
            order: OrderRef::new("YZ00000001").unwrap(),
            refund_no: "YZ00000001R0".into(),
            order_total: Fen(100),
            amount: Fen(40),
            order_sent_at: Ts(0),
            sent_at: Ts(1),
        }
    }

    /// A SUCCESS reply about our order, plus `pairs`.
    fn ours(pairs: &[(&str, &str)]) -> Params {
        let mut all = vec![
            ("result_code", "SUCCESS"),
            ("transaction_id", "T1"),
            ("out_trade_no", "YZ00000001"),
            ("total_fee", "100"),
        ];
        all.extend_from_slice(pairs);
        reply(&all)
    }

    #[test]
    fn every_trade_state_of_the_query_table() {
        let state = |s: &str| query(&ours(&[("trade_state", s)]), &call());
        assert_eq!(state("SUCCESS"), QueryReply::Paid { channel_txn: "T1".into() });
        assert_eq!(state("REFUND"), QueryReply::PaidThenRefunded { channel_txn: "T1".into() });
        for waiting in ["NOTPAY", "USERPAYING", "ACCEPT"] {
            assert_eq!(state(waiting), QueryReply::Waiting, "{waiting}");
        }
        for failed in ["PAYERROR", "CLOSED"] {
            assert_eq!(state(failed), QueryReply::Failed { code: failed.into() });
        }
        // A reverse of a paid order and of an unpaid one both read REVOKED.
        assert_eq!(state("REVOKED"), QueryReply::Closed { code: "REVOKED".into() });
        assert!(matches!(state("MYSTERY"), QueryReply::Unknown { .. }));
        let paid_without_id = query(
            &reply(&[
                ("result_code", "SUCCESS"),
                ("trade_state", "SUCCESS"),
                ("out_trade_no", "YZ00000001"),
                ("total_fee", "100"),
            ]),
            &call(),
        );
        assert!(matches!(paid_without_id, QueryReply::Unknown { .. }));
    }

    #[test]
    fn a_reply_about_another_order_or_amount_is_a_mismatch_never_paid() {
        let other_order = ours(&[("trade_state", "SUCCESS"), ("out_trade_no", "YZ00000002")]);
        assert!(
            matches!(query(&other_order, &call()), QueryReply::Mismatch { ref detail } if detail.contains("YZ00000002"))
        );
        let other_amount = ours(&[("trade_state", "SUCCESS"), ("total_fee", "1")]);
        assert!(
            matches!(query(&other_amount, &call()), QueryReply::Mismatch { ref detail } if detail.contains("total_fee"))
        );
        assert!(matches!(pay(&other_order, &call()), PayReply::Mismatch { .. }));
        assert!(matches!(pay(&other_amount, &call()), PayReply::Mismatch { .. }));
        // Even a refusal that names another order is not about ours.
        let fail_other =
            reply(&[("result_code", "FAIL"), ("err_code", "NOTENOUGH"), ("out_trade_no", "X0000000")]);
        assert!(matches!(pay(&fail_other, &call()), PayReply::Mismatch { .. }));
        // A pay SUCCESS without a field §1.3 lists proves nothing: unknown. An orderquery's
        // SUCCESS (§1.5 names neither field) needs one of them, and none that differs.
        for missing in ["out_trade_no", "total_fee"] {
            let mut r = ours(&[("trade_state", "SUCCESS")]);
            r.remove(missing);
            assert!(matches!(pay(&r, &call()), PayReply::Unknown { ref detail } if detail.contains(missing)));
            assert!(matches!(query(&r, &call()), QueryReply::Paid { .. }));
        }
        let mut bare = ours(&[("trade_state", "SUCCESS")]);
        bare.remove("out_trade_no");
        bare.remove("total_fee");
        assert!(
            matches!(query(&bare, &call()), QueryReply::Unknown { ref detail } if detail.contains("out_trade_no or total_fee"))
        );
        // A still-open order need not echo the amount.
        let waiting = reply(&[("result_code", "SUCCESS"), ("trade_state", "NOTPAY")]);
        assert_eq!(query(&waiting, &call()), QueryReply::Waiting);
        assert_eq!(pay(&ours(&[]), &call()), PayReply::Paid { channel_txn: "T1".into() });
    }

    #[test]
    fn after_a_reverse_only_what_the_query_guarantees_says_money_went_back() {
        let state = |pairs: &[(&str, &str)]| reversed(&ours(pairs), &call());
        assert_eq!(state(&[("trade_state", "REFUND")]), ReverseReply::Done { refunded: Some(true) });
        // A reversed paid order is REVOKED: its payment time gives it away when present.
        assert_eq!(
            state(&[("trade_state", "REVOKED"), ("time_end", "20261123104205")]),
            ReverseReply::Done { refunded: Some(true) }
        );
        // A REVOKED reply need not carry time_end: its absence proves nothing (it said false).
        assert_eq!(state(&[("trade_state", "REVOKED")]), ReverseReply::Done { refunded: None });
        assert_eq!(state(&[("trade_state", "CLOSED")]), ReverseReply::Done { refunded: Some(false) });
        assert_eq!(state(&[("trade_state", "PAYERROR")]), ReverseReply::Done { refunded: Some(false) });
        for unclear in ["SUCCESS", "NOTPAY", "USERPAYING", "ACCEPT", "", "MYSTERY"] {
            assert!(matches!(state(&[("trade_state", unclear)]), ReverseReply::Retry { .. }), "{unclear}");
        }
        let failed = reply(&[("result_code", "FAIL"), ("err_code", "SYSTEMERROR")]);
        assert!(matches!(reversed(&failed, &call()), ReverseReply::Retry { .. }));
        // The channel never had the order (F2): no reverse will ever settle it; the machine
        // waits out the code's validity instead.
        let not_found = reply(&[("result_code", "FAIL"), ("err_code", "ORDERNOTEXIST")]);
        assert!(matches!(reversed(&not_found, &call()), ReverseReply::Refused { .. }));
        // About another order or amount: never "money went back" for ours.
        let other = state(&[("trade_state", "REFUND"), ("out_trade_no", "YZ00000002")]);
        assert!(
            matches!(other, ReverseReply::Retry { ref detail } if detail.contains("another order")),
            "{other:?}"
        );
        let other = state(&[("trade_state", "REVOKED"), ("time_end", "20261123104205"), ("total_fee", "99")]);
        assert!(matches!(other, ReverseReply::Retry { .. }), "{other:?}");
        let mut bare = ours(&[("trade_state", "REFUND")]);
        bare.remove("total_fee");
        bare.remove("out_trade_no");
        assert!(matches!(reversed(&bare, &call()), ReverseReply::Retry { .. }));
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
        let request = refund_request();
        for unknown in ["SYSTEMERROR", "BIZERR_NEED_RETRY", "NOTENOUGH", "FREQUENCY_LIMITED", "NEW_CODE"] {
            assert!(matches!(refund(&fail(unknown), &request), RefundReply::Unknown { .. }), "{unknown}");
        }
        for refused in
            ["ORDERNOTEXIST", "TRADE_OVERDUE", "USER_ACCOUNT_ABNORMAL", "INVALID_REQ_TOO_MUCH", "PARAM_ERROR"]
        {
            assert!(matches!(refund(&fail(refused), &request), RefundReply::Refused { .. }), "{refused}");
        }
        let paid_without_id = pay(
            &reply(&[("result_code", "SUCCESS"), ("out_trade_no", "YZ00000001"), ("total_fee", "100")]),
            &call(),
        );
        assert!(matches!(paid_without_id, PayReply::Unknown { .. }));
    }

    #[test]
    fn a_refund_success_is_only_accepted_and_the_refund_query_tells_the_rest() {
        let request = refund_request();
        let accepted = reply(&[
            ("result_code", "SUCCESS"),
            ("out_trade_no", "YZ00000001"),
            ("out_refund_no", "YZ00000001R0"),
            ("refund_fee", "40"),
            ("total_fee", "100"),
        ]);
        assert_eq!(refund(&accepted, &request), RefundReply::Accepted);
        let mut other = accepted.clone();
        other.insert("out_refund_no".into(), "YZ00000001R1".into());
        assert!(matches!(refund(&other, &request), RefundReply::Unknown { .. }));
        let mut bare = accepted.clone();
        bare.remove("refund_fee");
        assert!(matches!(refund(&bare, &request), RefundReply::Unknown { .. }));

        let status = |s: &str| {
            refund_query(
                &reply(&[
                    ("result_code", "SUCCESS"),
                    ("out_trade_no", "YZ00000001"),
                    ("total_fee", "100"),
                    ("refund_count", "1"),
                    ("out_refund_no_0", "YZ00000001R0"),
                    ("refund_fee_0", "40"),
                    ("refund_status_0", s),
                ]),
                &request,
            )
        };
        assert_eq!(status("SUCCESS"), RefundQueryReply::Refunded);
        assert_eq!(status("PROCESSING"), RefundQueryReply::Pending);
        assert_eq!(status("CHANGE"), RefundQueryReply::Failed { code: "CHANGE".into() });
        assert_eq!(status("REFUNDCLOSE"), RefundQueryReply::Failed { code: "REFUNDCLOSE".into() });
        assert!(matches!(status("NEW"), RefundQueryReply::Unknown { .. }));
        let not_exist = reply(&[("result_code", "FAIL"), ("err_code", "REFUNDNOTEXIST")]);
        assert_eq!(refund_query(&not_exist, &request), RefundQueryReply::NotFound);
        let error = reply(&[("result_code", "FAIL"), ("err_code", "SYSTEMERROR")]);
        assert!(matches!(refund_query(&error, &request), RefundQueryReply::Unknown { .. }));
        let another = reply(&[
            ("result_code", "SUCCESS"),
            ("out_trade_no", "YZ00000001"),
            ("total_fee", "100"),
            ("out_refund_no_0", "YZ00000001R2"),
            ("refund_fee_0", "40"),
            ("refund_status_0", "SUCCESS"),
        ]);
        assert!(matches!(refund_query(&another, &request), RefundQueryReply::Unknown { .. }));
    }
}
