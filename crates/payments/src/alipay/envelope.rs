//! Alipay's reply envelope: `{"<method>_response":{…},"sign":"…"}`. The signature covers the exact
//! bytes of the response object as sent, so the object is taken from the raw body as a
//! `RawValue` and never re-serialised.

use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The parts of a reply: the raw response object and its signature, if any.
#[derive(Debug)]
pub struct Envelope<'a> {
    /// Exact text of the `<method>_response` (or `error_response`) object.
    pub content: &'a str,
    pub sign: Option<String>,
}

/// `alipay.trade.pay` → `alipay_trade_pay_response`.
pub fn response_key(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

/// Splits `body` into its response object and signature.
pub fn split<'a>(body: &'a str, method: &str) -> Result<Envelope<'a>, String> {
    let fields: BTreeMap<String, &'a RawValue> =
        serde_json::from_str(body).map_err(|e| format!("reply is not a JSON object: {e}"))?;
    let content = fields
        .get(&response_key(method))
        .or_else(|| fields.get("error_response"))
        .ok_or_else(|| format!("reply has no {}", response_key(method)))?
        .get();
    if !content.starts_with('{') {
        return Err("response is not an object".into());
    }
    let sign = match fields.get("sign") {
        Some(raw) => Some(serde_json::from_str::<String>(raw.get()).map_err(|_| "sign is not a string")?),
        None => None,
    };
    Ok(Envelope { content, sign })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_exact_bytes_of_the_response_object() {
        let body = r#"{"alipay_trade_pay_response": {"code":"10000", "msg" :"Success","total_amount":"0.01"},"sign":"c2ln"}"#;
        let envelope = split(body, "alipay.trade.pay").unwrap();
        assert_eq!(envelope.content, r#"{"code":"10000", "msg" :"Success","total_amount":"0.01"}"#);
        assert_eq!(envelope.sign.as_deref(), Some("c2ln"));
    }

    #[test]
    fn refuses_bodies_without_a_response_object() {
        for bad in ["", "{", "[]", r#"{"other":{}}"#, r#"{"alipay_trade_pay_response":"x"}"#] {
            assert!(split(bad, "alipay.trade.pay").is_err(), "{bad:?}");
        }
        let unsigned = split(r#"{"error_response":{"code":"40002"}}"#, "alipay.trade.pay").unwrap();
        assert!(unsigned.sign.is_none());
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5_000, ..ProptestConfig::default() })]

        /// Arbitrary bodies, and JSON-shaped ones, split into an envelope or an error, never a panic.
        #[test]
        fn splitting_arbitrary_bodies_never_panics(
            text in prop_oneof![
                any::<String>(),
                "\\{\"alipay_trade_pay_response\":[\\{\\}\\[\\]\",:a-z0-9\\\\]{0,60}(,\"sign\":\"[a-zA-Z0-9+/=]{0,20}\")?\\}?",
            ]
        ) {
            let _ = super::split(&text, "alipay.trade.pay");
        }
    }
}
