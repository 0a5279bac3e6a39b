//! The flat XML of WeChat Pay v2: `<xml><key><![CDATA[value]]></key>…</xml>`. Decoding accepts
//! only that shape; anything else (nesting, a DTD, duplicates, a truncated document) is an error
//! the caller turns into "unknown", never a guess.

use super::sign::Params;
use quick_xml::events::Event;
use quick_xml::Reader;

/// More fields than any real reply has; a hostile body cannot make us build a huge map.
const MAX_FIELDS: usize = 256;

#[derive(Debug, thiserror::Error)]
#[error("not WeChat Pay XML: {0}")]
pub struct XmlError(String);

fn error(text: impl Into<String>) -> XmlError {
    XmlError(text.into())
}

/// Writes `params` as a v2 XML body, every value in CDATA.
pub fn encode(params: &Params) -> String {
    let mut out = String::from("<xml>");
    for (key, value) in params {
        // "]]>" cannot appear inside CDATA: close the section around it.
        let value = value.replace("]]>", "]]]]><![CDATA[>");
        out.push_str(&format!("<{key}><![CDATA[{value}]]></{key}>"));
    }
    out.push_str("</xml>");
    out
}

/// Reads a v2 XML body into its fields.
pub fn decode(text: &str) -> Result<Params, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut params = Params::new();
    let mut depth = 0usize;
    let mut field: Option<(String, String)> = None;
    let mut closed = false;
    loop {
        let event = reader.read_event().map_err(|e| error(e.to_string()))?;
        match event {
            Event::Start(start) => {
                if closed {
                    return Err(error("content after </xml>"));
                }
                depth += 1;
                let name = std::str::from_utf8(start.name().as_ref())
                    .map_err(|_| error("element name is not UTF-8"))?
                    .to_string();
                match depth {
                    1 if name == "xml" => {}
                    1 => return Err(error(format!("root element is <{name}>, not <xml>"))),
                    2 => field = Some((name, String::new())),
                    _ => return Err(error("nested elements")),
                }
            }
            Event::Empty(empty) if depth == 1 => {
                let name = std::str::from_utf8(empty.name().as_ref())
                    .map_err(|_| error("element name is not UTF-8"))?
                    .to_string();
                insert(&mut params, name, String::new())?;
            }
            Event::Text(text) if depth == 2 => {
                let value = text.unescape().map_err(|e| error(e.to_string()))?;
                if let Some((_, buffer)) = field.as_mut() {
                    buffer.push_str(&value);
                }
            }
            Event::CData(data) if depth == 2 => {
                let bytes = data.into_inner();
                let value = std::str::from_utf8(&bytes).map_err(|_| error("CDATA is not UTF-8"))?;
                if let Some((_, buffer)) = field.as_mut() {
                    buffer.push_str(value);
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    if let Some((name, value)) = field.take() {
                        insert(&mut params, name, value)?;
                    }
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    closed = true;
                }
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
            Event::DocType(_) => return Err(error("a DTD is not allowed")),
            _ => return Err(error("text or element out of place")),
        }
    }
    if !closed {
        return Err(error("document ends before </xml>"));
    }
    Ok(params)
}

fn insert(params: &mut Params, name: String, value: String) -> Result<(), XmlError> {
    if params.len() >= MAX_FIELDS {
        return Err(error("too many fields"));
    }
    if params.contains_key(&name) {
        return Err(error(format!("field <{name}> appears twice")));
    }
    params.insert(name, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cdata_and_plain_text_and_round_trips() {
        let params = decode(
            "<?xml version=\"1.0\"?><xml><return_code><![CDATA[SUCCESS]]></return_code>\
             <total_fee>1</total_fee><body>a &amp; b</body></xml>",
        )
        .unwrap();
        assert_eq!(params["return_code"], "SUCCESS");
        assert_eq!(params["total_fee"], "1");
        assert_eq!(params["body"], "a & b");
        let mut tricky = Params::new();
        tricky.insert("body".into(), "x]]>y".into());
        assert_eq!(decode(&encode(&tricky)).unwrap(), tricky);
    }

    #[test]
    fn an_error_says_each_word_once() {
        let error = decode("<xml><a>1</a>").unwrap_err().to_string();
        assert_eq!(error, "not WeChat Pay XML: document ends before </xml>");
    }

    #[test]
    fn refuses_everything_that_is_not_flat_xml() {
        for bad in [
            "",
            "<xml><a>1</a>",
            "<xml><a><b>1</b></a></xml>",
            "<root><a>1</a></root>",
            "<xml><a>1</a><a>2</a></xml>",
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><xml><a>&e;</a></xml>",
            "<xml><a>1</b></xml>",
            "<xml></xml><xml></xml>",
            "{\"json\":true}",
        ] {
            assert!(decode(bad).is_err(), "{bad:?} accepted");
        }
    }
}

#[cfg(test)]
mod fuzz {
    use crate::request::{OrderCall, RefundRequest};
    use kiosk_core::{Fen, OrderRef, Ts};
    use proptest::prelude::*;

    fn sample() -> (OrderCall, RefundRequest) {
        let order = OrderRef::new("YZ00000001").unwrap_or_else(|e| panic!("{e}"));
        let call = OrderCall { order: order.clone(), total: Fen(100), sent_at: Ts(0) };
        let refund = RefundRequest {
            refund_no: order.whole_refund_no(),
            order,
            order_total: Fen(100),
            amount: Fen(100),
            order_sent_at: Ts(0),
            sent_at: Ts(1),
        };
        (call, refund)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5_000, ..ProptestConfig::default() })]

        /// Any text, however hostile, decodes to fields or an error, and the reply mapping of
        /// whatever decodes never panics either.
        #[test]
        fn decoding_arbitrary_text_never_panics(text in any::<String>()) {
            if let Ok(params) = super::decode(&text) {
                let (call, refund) = sample();
                let _ = crate::wechat::map::pay(&params, &call);
                let _ = crate::wechat::map::query(&params, &call);
                let _ = crate::wechat::map::reverse(&params);
                let _ = crate::wechat::map::reversed(&params, &call);
                let _ = crate::wechat::map::refund(&params, &refund);
                let _ = crate::wechat::map::refund_query(&params, &refund);
            }
        }

        #[test]
        fn decoding_xml_shaped_text_never_panics(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("<xml>".to_string()), Just("</xml>".to_string()), Just("<![CDATA[".to_string()),
                    Just("]]>".to_string()), Just("<return_code>".to_string()), Just("</return_code>".to_string()),
                    Just("SUCCESS".to_string()), Just("&amp;".to_string()), Just("<!DOCTYPE x>".to_string()),
                    "[a-z_<>/]{0,8}",
                ],
                0..40,
            )
        ) {
            let text = parts.concat();
            if let Ok(params) = super::decode(&text) {
                let (call, _) = sample();
                let _ = crate::wechat::map::pay(&params, &call);
            }
        }
    }
}
