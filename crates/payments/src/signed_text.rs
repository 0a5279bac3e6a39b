//! The text a request is signed over, on all three channels, and a WeChat or UnionPay reply
//! verified over (Alipay verifies its replies over the raw response text): `k=v&k=v…` over the
//! non-empty fields except the signature itself, in key order (WeChat v2 and Alipay exclude
//! `sign`, UnionPay ACP `signature`). Each channel then signs it its own way (HMAC or MD5 with
//! the key appended, RSA2, SHA-256 of it with the key's digest).

use std::collections::BTreeMap;

/// `k=v&k=v…` over the non-empty `fields` except `signature_field`, in key order.
pub(crate) fn sorted_pairs(fields: &BTreeMap<String, String>, signature_field: &str) -> String {
    fields
        .iter()
        .filter(|(k, v)| k.as_str() != signature_field && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}
