//! ACP replies → kiosk replies (payments.md §3.1). A query's `respCode=00` only says the query
//! worked; the payment's own state is `origRespCode`: 00 paid, 03/04/05 still processing, anything
//! else failed. For the barcode consume itself `respCode=00` only says *accepted* [U4]: the result
//! is learnt by a query, so `00` is "unknown, query now" and never "paid". Of the other consume
//! codes only those that reject the request before anything reaches the payer's account are
//! definite failures; everything else is "unknown" and settled by a query. A reply that names
//! another `orderId` or `txnAmt` than the request's is a mismatch (see [`crate::check`]).

use super::sign::Fields;
use crate::check::{judge, Echo, Verdict};
use kiosk_core::{FailKind, Fen, PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply};

/// Still in progress: communication timeout, state unknown, accepted.
pub(crate) const PROCESSING: &[&str] = &["03", "04", "05"];
/// The request itself was refused (class C), before any money could move: 10 message format,
/// 11 signature, 13 missing fields (the 1x group is the message check), 31 merchant state,
/// 32 no permission for this transaction, 43 no permission for this business.
const CONFIG_CODES: &[&str] = &["10", "11", "13", "31", "32", "43"];
/// Refused before routing to the payer (class F): 33 amount over the limit, 61 invalid payment
/// code. Issuer and risk answers (30, 38, 6x other than 61) come back after routing and are left
/// to the query, like every code not listed here; 42/74/75 even say the account was debited.
const CUSTOMER_CODES: &[&str] = &["33", "61"];
/// Original transaction missing, in the wrong state or not matching: cancel/refund impossible.
const ORIGINAL_CODES: &[&str] = &["35", "36"];
/// A query's "no such transaction" (查无此交易): the acquirer has nothing under this
/// `orderId` + `txnTime`.
pub(crate) const NOT_FOUND: &str = "34";

fn field<'a>(reply: &'a Fields, key: &str) -> &'a str {
    reply.get(key).map(String::as_str).unwrap_or("")
}

fn describe(reply: &Fields) -> String {
    format!("respCode={} {}", field(reply, "respCode"), field(reply, "respMsg")).trim().to_string()
}

/// The transaction a request names: its `orderId` and the amount it carries, which the reply
/// echoes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Named<'a> {
    pub order_id: &'a str,
    pub amount: Fen,
}

/// `orderId` and `txnAmt` of a reply against the request's; `required` where the reply says
/// money moved.
pub(crate) fn verdict(reply: &Fields, named: Named<'_>, required: bool) -> Verdict {
    judge(
        &[
            Echo::text("orderId", named.order_id, reply.get("orderId").map(String::as_str)),
            Echo::fen("txnAmt", named.amount, reply.get("txnAmt").map(String::as_str)),
        ],
        required,
    )
}

/// Consume (txnType 01). Never `Paid`: only a query's `origRespCode=00` says that.
pub fn pay(reply: &Fields, named: Named<'_>) -> PayReply {
    match verdict(reply, named, false) {
        Verdict::Other(detail) => return PayReply::Mismatch { detail },
        Verdict::Unclear(detail) => return PayReply::Unknown { detail },
        Verdict::Ours => {}
    }
    let code = field(reply, "respCode");
    match code {
        "00" => PayReply::Unknown { detail: "respCode=00: accepted, the query tells the result".into() },
        "12" => PayReply::AlreadyUsed { code: "12".into() },
        c if CUSTOMER_CODES.contains(&c) => PayReply::Failed {
            kind: FailKind::Customer,
            code: c.to_string(),
            message: field(reply, "respMsg").to_string(),
        },
        c if CONFIG_CODES.contains(&c) => PayReply::Failed {
            kind: FailKind::Config,
            code: c.to_string(),
            message: field(reply, "respMsg").to_string(),
        },
        _ => PayReply::Unknown { detail: describe(reply) },
    }
}

/// Query (txnType 00) of the consume.
pub fn query(reply: &Fields, named: Named<'_>) -> QueryReply {
    let paid = field(reply, "respCode") == "00" && field(reply, "origRespCode") == "00";
    match verdict(reply, named, paid) {
        Verdict::Other(detail) => return QueryReply::Mismatch { detail },
        Verdict::Unclear(detail) => return QueryReply::Unknown { detail },
        Verdict::Ours => {}
    }
    match field(reply, "respCode") {
        "00" => match field(reply, "origRespCode") {
            "00" => match field(reply, "queryId") {
                "" => QueryReply::Unknown { detail: "origRespCode=00 without queryId".into() },
                id => QueryReply::Paid { channel_txn: id.to_string() },
            },
            "" => QueryReply::Unknown { detail: "respCode=00 without origRespCode".into() },
            c if PROCESSING.contains(&c) => QueryReply::Waiting,
            c => QueryReply::Failed { code: format!("origRespCode={c}") },
        },
        NOT_FOUND => QueryReply::NotFound,
        _ => QueryReply::Unknown { detail: describe(reply) },
    }
}

/// What a 消费撤销 reply says; whether money went back comes from the original's query.
#[derive(Debug, PartialEq, Eq)]
pub enum Cancel {
    /// `00`: cancelled.
    Done,
    /// Refused or to be retried.
    Other(ReverseReply),
}

/// 消费撤销 (txnType 31); `named` is the cancel itself (its own `orderId`, the full amount).
pub fn cancel(reply: &Fields, named: Named<'_>) -> Cancel {
    if let Verdict::Other(detail) | Verdict::Unclear(detail) = verdict(reply, named, false) {
        return Cancel::Other(ReverseReply::Retry {
            detail: format!("cancel reply about another: {detail}"),
        });
    }
    match field(reply, "respCode") {
        "00" => Cancel::Done,
        c if ORIGINAL_CODES.contains(&c) || CONFIG_CODES.contains(&c) => {
            Cancel::Other(ReverseReply::Refused { detail: describe(reply) })
        }
        _ => Cancel::Other(ReverseReply::Retry { detail: describe(reply) }),
    }
}

/// 退货 (txnType 04); `named` is the refund itself. `00` only says the acquirer *accepted* it:
/// the money arrives later, as the query of the refund's own `orderId`/`txnTime` tells.
pub fn refund(reply: &Fields, named: Named<'_>) -> RefundReply {
    if let Verdict::Other(detail) | Verdict::Unclear(detail) = verdict(reply, named, false) {
        return RefundReply::Unknown { detail: format!("refund reply about another: {detail}") };
    }
    match field(reply, "respCode") {
        "00" => RefundReply::Accepted,
        c if ORIGINAL_CODES.contains(&c) || CONFIG_CODES.contains(&c) || c == "33" => {
            RefundReply::Refused { detail: describe(reply) }
        }
        _ => RefundReply::Unknown { detail: describe(reply) },
    }
}

/// Query (txnType 00) of a refund by its own `orderId` and `txnTime`.
pub fn refund_query(reply: &Fields, named: Named<'_>) -> RefundQueryReply {
    let refunded = field(reply, "respCode") == "00" && field(reply, "origRespCode") == "00";
    if let Verdict::Other(detail) | Verdict::Unclear(detail) = verdict(reply, named, refunded) {
        return RefundQueryReply::Unknown { detail: format!("another refund: {detail}") };
    }
    match field(reply, "respCode") {
        "00" => match field(reply, "origRespCode") {
            "00" => RefundQueryReply::Refunded,
            "" => RefundQueryReply::Unknown { detail: "respCode=00 without origRespCode".into() },
            c if PROCESSING.contains(&c) => RefundQueryReply::Pending,
            c => RefundQueryReply::Failed { code: format!("origRespCode={c}") },
        },
        NOT_FOUND => RefundQueryReply::NotFound,
        _ => RefundQueryReply::Unknown { detail: describe(reply) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(pairs: &[(&str, &str)]) -> Fields {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const OURS: Named<'static> = Named { order_id: "YZ00000001", amount: Fen(100) };

    fn ours(pairs: &[(&str, &str)]) -> Fields {
        let mut all = vec![("orderId", "YZ00000001"), ("txnAmt", "100")];
        all.extend_from_slice(pairs);
        reply(&all)
    }

    #[test]
    fn query_reads_orig_resp_code_only_when_the_query_worked() {
        let orig =
            |c: &str| query(&ours(&[("respCode", "00"), ("origRespCode", c), ("queryId", "Q1")]), OURS);
        assert_eq!(orig("00"), QueryReply::Paid { channel_txn: "Q1".into() });
        for processing in ["03", "04", "05"] {
            assert_eq!(orig(processing), QueryReply::Waiting);
        }
        assert_eq!(orig("01"), QueryReply::Failed { code: "origRespCode=01".into() });
        assert_eq!(orig("61"), QueryReply::Failed { code: "origRespCode=61".into() });
        assert!(matches!(query(&ours(&[("respCode", "00")]), OURS), QueryReply::Unknown { .. }));
        assert_eq!(query(&reply(&[("respCode", "34")]), OURS), QueryReply::NotFound);
        assert!(matches!(
            query(&ours(&[("respCode", "05"), ("origRespCode", "00")]), OURS),
            QueryReply::Unknown { .. }
        ));
    }

    #[test]
    fn a_query_about_another_order_or_amount_is_a_mismatch_and_paid_needs_both() {
        let paid = |pairs: &[(&str, &str)]| {
            let mut all = vec![("respCode", "00"), ("origRespCode", "00"), ("queryId", "Q1")];
            all.extend_from_slice(pairs);
            query(&reply(&all), OURS)
        };
        assert!(matches!(paid(&[("orderId", "YZ00000002"), ("txnAmt", "100")]), QueryReply::Mismatch { .. }));
        assert!(matches!(paid(&[("orderId", "YZ00000001"), ("txnAmt", "1")]), QueryReply::Mismatch { .. }));
        assert!(
            matches!(paid(&[("orderId", "YZ00000001")]), QueryReply::Unknown { ref detail } if detail.contains("txnAmt"))
        );
        assert!(
            matches!(paid(&[("txnAmt", "100")]), QueryReply::Unknown { ref detail } if detail.contains("orderId"))
        );
        assert_eq!(
            paid(&[("orderId", "YZ00000001"), ("txnAmt", "100")]),
            QueryReply::Paid { channel_txn: "Q1".into() }
        );
        let consume = reply(&[("respCode", "00"), ("orderId", "YZ00000002")]);
        assert!(matches!(pay(&consume, OURS), PayReply::Mismatch { .. }));
    }

    #[test]
    fn consume_00_is_only_accepted_and_only_pre_routing_refusals_are_failures() {
        let code = |c: &str| pay(&reply(&[("respCode", c), ("queryId", "Q1"), ("respMsg", "m")]), OURS);
        assert!(matches!(code("00"), PayReply::Unknown { .. }), "00 is accepted, not paid");
        assert_eq!(code("12"), PayReply::AlreadyUsed { code: "12".into() });
        for config in ["10", "11", "13", "31", "32", "43"] {
            assert!(matches!(code(config), PayReply::Failed { kind: FailKind::Config, .. }), "{config}");
        }
        for customer in ["33", "61"] {
            assert!(
                matches!(code(customer), PayReply::Failed { kind: FailKind::Customer, .. }),
                "{customer}"
            );
        }
        // Processing, issuer/risk answers after routing, "debited" codes and unknown codes.
        for unknown in
            ["01", "02", "03", "04", "05", "06", "30", "38", "42", "60", "64", "65", "74", "77", "99"]
        {
            assert!(matches!(code(unknown), PayReply::Unknown { .. }), "{unknown}");
        }
    }

    #[test]
    fn cancel_and_refund_codes() {
        assert_eq!(cancel(&reply(&[("respCode", "00")]), OURS), Cancel::Done);
        assert!(matches!(
            cancel(&reply(&[("respCode", "05")]), OURS),
            Cancel::Other(ReverseReply::Retry { .. })
        ));
        assert!(matches!(
            cancel(&reply(&[("respCode", "35")]), OURS),
            Cancel::Other(ReverseReply::Refused { .. })
        ));
        assert!(matches!(
            cancel(&reply(&[("respCode", "00"), ("orderId", "OTHER001")]), OURS),
            Cancel::Other(ReverseReply::Retry { .. })
        ));
        assert_eq!(refund(&reply(&[("respCode", "00")]), OURS), RefundReply::Accepted);
        assert!(matches!(refund(&reply(&[("respCode", "03")]), OURS), RefundReply::Unknown { .. }));
        assert!(matches!(refund(&reply(&[("respCode", "36")]), OURS), RefundReply::Refused { .. }));
        assert!(matches!(
            refund(&ours(&[("respCode", "00"), ("txnAmt", "99")]), OURS),
            RefundReply::Unknown { .. }
        ));
    }

    #[test]
    fn refund_query_codes() {
        let orig = |c: &str| refund_query(&ours(&[("respCode", "00"), ("origRespCode", c)]), OURS);
        assert_eq!(orig("00"), RefundQueryReply::Refunded);
        for processing in ["03", "04", "05"] {
            assert_eq!(orig(processing), RefundQueryReply::Pending);
        }
        assert_eq!(orig("01"), RefundQueryReply::Failed { code: "origRespCode=01".into() });
        assert_eq!(refund_query(&reply(&[("respCode", "34")]), OURS), RefundQueryReply::NotFound);
        assert!(matches!(
            refund_query(&reply(&[("respCode", "06")]), OURS),
            RefundQueryReply::Unknown { .. }
        ));
        assert!(matches!(
            refund_query(&reply(&[("respCode", "00"), ("origRespCode", "00")]), OURS),
            RefundQueryReply::Unknown { .. }
        ));
    }
}
