//! What the simulators put on the wire, written here and not borrowed from the clients: the
//! simulators are a second opinion, so a mistake in a client's XML writer or signature code
//! cannot be mirrored by the simulator it is tested against and go unseen. (The simulators do
//! read requests with the clients' parsers; what they *send*, and the signatures they check, are
//! their own.) Their signers are checked against the same outside vectors as the clients', in
//! `tests/integration/signature_vectors.rs`.

use base64::Engine;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use std::collections::BTreeMap;

/// WeChat v2's two signature methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeChatSign {
    Md5,
    HmacSha256,
}

impl WeChatSign {
    /// The request's `sign_type`; absent means MD5 (WeChat's default). `None`: not a method.
    pub fn of_request(value: Option<&str>) -> Option<WeChatSign> {
        match value.unwrap_or("") {
            "" | "MD5" => Some(WeChatSign::Md5),
            "HMAC-SHA256" => Some(WeChatSign::HmacSha256),
            _ => None,
        }
    }
}

/// Sorted `k=v` pairs of the non-empty fields other than `skip`, joined by `&`.
fn sorted_pairs(fields: &BTreeMap<String, String>, skip: &str) -> String {
    let mut pairs: Vec<(&String, &String)> =
        fields.iter().filter(|(k, v)| k.as_str() != skip && !v.is_empty()).collect();
    pairs.sort();
    let mut text = String::new();
    for (index, (key, value)) in pairs.into_iter().enumerate() {
        if index > 0 {
            text.push('&');
        }
        text.push_str(key);
        text.push('=');
        text.push_str(value);
    }
    text
}

/// WeChat's v2 `sign`: `…&key=<API key>`, MD5 or HMAC-SHA256 keyed with the API key, upper hex.
pub fn wechat_sign(fields: &BTreeMap<String, String>, api_key: &str, method: WeChatSign) -> String {
    let text = format!("{}&key={api_key}", sorted_pairs(fields, "sign"));
    let digest: Vec<u8> = match method {
        WeChatSign::Md5 => Md5::digest(text.as_bytes()).to_vec(),
        WeChatSign::HmacSha256 => match Hmac::<Sha256>::new_from_slice(api_key.as_bytes()) {
            Ok(mut mac) => {
                mac.update(text.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC takes keys of any length.
            Err(_) => Vec::new(),
        },
    };
    digest.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// Whether a WeChat request carries the right `sign` for `method`.
pub(crate) fn wechat_signed_by(fields: &BTreeMap<String, String>, api_key: &str, method: WeChatSign) -> bool {
    fields.get("sign").is_some_and(|given| given.to_ascii_uppercase() == wechat_sign(fields, api_key, method))
}

/// A flat WeChat XML body: digits as plain text, everything else in CDATA (WeChat mixes both).
pub(crate) fn wechat_xml(fields: &BTreeMap<String, String>) -> String {
    let mut out = String::from("<xml>\n");
    for (key, value) in fields {
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("  <{key}>{value}</{key}>\n"));
        } else {
            // A CDATA section cannot hold "]]>": end it before the ">" and open another.
            let safe = value.split("]]>").collect::<Vec<_>>().join("]]]]><![CDATA[>");
            out.push_str(&format!("  <{key}><![CDATA[{safe}]]></{key}>\n"));
        }
    }
    out.push_str("</xml>");
    out
}

fn sha256_lower_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// ACP signMethod 11: `sha256(sorted pairs + "&" + sha256(secure key))`, lower hex.
pub fn acp_sign(fields: &BTreeMap<String, String>, secure_key: &str) -> String {
    sha256_lower_hex(&format!("{}&{}", sorted_pairs(fields, "signature"), sha256_lower_hex(secure_key)))
}

/// Whether an ACP request carries the right `signature`.
pub(crate) fn acp_signed(fields: &BTreeMap<String, String>, secure_key: &str) -> bool {
    fields.get("signature").is_some_and(|given| given.to_ascii_lowercase() == acp_sign(fields, secure_key))
}

/// Alipay's platform signature: SHA256withRSA (PKCS#1 v1.5) over the exact bytes, base64.
#[derive(Clone, Debug)]
pub(crate) struct PlatformSigner(rsa::pkcs1v15::SigningKey<Sha256>);

impl PlatformSigner {
    pub fn new(key: rsa::RsaPrivateKey) -> PlatformSigner {
        PlatformSigner(rsa::pkcs1v15::SigningKey::new(key))
    }

    pub fn sign(&self, content: &[u8]) -> String {
        use rsa::signature::{SignatureEncoding, Signer};
        match self.0.try_sign(content) {
            Ok(signature) => base64::engine::general_purpose::STANDARD.encode(signature.to_vec()),
            Err(_) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_xml_writer_keeps_cdata_closed() {
        let xml = wechat_xml(&map(&[("a", "x]]>y"), ("n", "42")]));
        assert!(xml.contains("<n>42</n>") && xml.contains("<a><![CDATA[x]]]]><![CDATA[>y]]></a>"), "{xml}");
    }
}
