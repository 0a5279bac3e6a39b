//! ACP replies → kiosk replies (payments.md §3.1). A query's `respCode=00` only says the query
//! worked; the payment's own state is `origRespCode`: 00 paid, 03/04/05 still processing, anything
//! else failed. For the consume itself only `00` is a result; codes outside the groups below are
//! "unknown" and settled by a query.

use super::sign::Fields;
use kiosk_core::{FailKind, PayReply, QueryReply, RefundReply, ReverseReply};

/// Still in progress: communication timeout, state unknown, accepted.
const PROCESSING: &[&str] = &["03", "04", "05"];
/// Message format, signature, missing fields, merchant state, permissions (class C).
const CONFIG_CODES: &[&str] = &["10", "11", "13", "30", "31", "32", "43"];
/// Amount over the limit, invalid payment code, insufficient balance, account state (class F).
const CUSTOMER_CODES: &[&str] = &["33", "61", "65", "77"];
/// Original transaction missing, in the wrong state or not matching: cancel/refund impossible.
const ORIGINAL_CODES: &[&str] = &["35", "36"];

fn field<'a>(reply: &'a Fields, key: &str) -> &'a str {
    reply.get(key).map(String::as_str).unwrap_or("")
}

fn describe(reply: &Fields) -> String {
    format!("respCode={} {}", field(reply, "respCode"), field(reply, "respMsg")).trim().to_string()
}

/// Consume (txnType 01).
pub fn pay(reply: &Fields) -> PayReply {
    let code = field(reply, "respCode");
    match code {
        "00" => match field(reply, "queryId") {
            "" => PayReply::Unknown { detail: "respCode=00 without queryId".into() },
            id => PayReply::Paid { channel_txn: id.to_string() },
        },
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

/// Query (txnType 00).
pub fn query(reply: &Fields) -> QueryReply {
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
        "34" => QueryReply::NotFound,
        _ => QueryReply::Unknown { detail: describe(reply) },
    }
}

/// 消费撤销 (txnType 31). `was_paid` comes from the query made before the cancel.
pub fn cancel(reply: &Fields, was_paid: bool) -> ReverseReply {
    match field(reply, "respCode") {
        "00" => ReverseReply::Done { refunded: was_paid },
        c if ORIGINAL_CODES.contains(&c) || CONFIG_CODES.contains(&c) => {
            ReverseReply::Refused { detail: describe(reply) }
        }
        _ => ReverseReply::Retry { detail: describe(reply) },
    }
}

/// 退货 (txnType 04).
pub fn refund(reply: &Fields) -> RefundReply {
    match field(reply, "respCode") {
        "00" => RefundReply::Refunded,
        c if ORIGINAL_CODES.contains(&c) || CONFIG_CODES.contains(&c) || c == "33" => {
            RefundReply::Refused { detail: describe(reply) }
        }
        _ => RefundReply::Unknown { detail: describe(reply) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(pairs: &[(&str, &str)]) -> Fields {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn query_reads_orig_resp_code_only_when_the_query_worked() {
        let orig = |c: &str| query(&reply(&[("respCode", "00"), ("origRespCode", c), ("queryId", "Q1")]));
        assert_eq!(orig("00"), QueryReply::Paid { channel_txn: "Q1".into() });
        for processing in ["03", "04", "05"] {
            assert_eq!(orig(processing), QueryReply::Waiting);
        }
        assert_eq!(orig("01"), QueryReply::Failed { code: "origRespCode=01".into() });
        assert_eq!(orig("61"), QueryReply::Failed { code: "origRespCode=61".into() });
        assert!(matches!(query(&reply(&[("respCode", "00")])), QueryReply::Unknown { .. }));
        assert_eq!(query(&reply(&[("respCode", "34")])), QueryReply::NotFound);
        assert!(matches!(
            query(&reply(&[("respCode", "05"), ("origRespCode", "00")])),
            QueryReply::Unknown { .. }
        ));
    }

    #[test]
    fn cancel_and_refund_codes() {
        assert_eq!(cancel(&reply(&[("respCode", "00")]), true), ReverseReply::Done { refunded: true });
        assert!(matches!(cancel(&reply(&[("respCode", "05")]), false), ReverseReply::Retry { .. }));
        assert!(matches!(cancel(&reply(&[("respCode", "35")]), false), ReverseReply::Refused { .. }));
        assert_eq!(refund(&reply(&[("respCode", "00")])), RefundReply::Refunded);
        assert!(matches!(refund(&reply(&[("respCode", "03")])), RefundReply::Unknown { .. }));
        assert!(matches!(refund(&reply(&[("respCode", "36")])), RefundReply::Refused { .. }));
    }
}
