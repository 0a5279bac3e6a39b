//! WeChat Pay v2 signatures (payments.md §1.7): every non-empty parameter except `sign`, sorted by
//! key, joined `k=v&…`, then `&key=<API key>`; MD5 or HMAC-SHA256 (keyed with the API key), upper
//! hex. Replies are signed the same way, so the same code verifies them.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use std::collections::BTreeMap;

/// The flat field map of a v2 request or reply. A `BTreeMap` keeps keys in ASCII order, which is
/// the order the signature needs.
pub type Params = BTreeMap<String, String>;

/// The `sign_type` of a v2 call, as configured (`sign_type = "HMAC-SHA256"` or `"MD5"`) and as
/// sent. The kiosk signs with HMAC-SHA256 unless configured otherwise; WeChat's own default is MD5,
/// and the simulator answers in whichever the request names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SignType {
    #[serde(rename = "MD5")]
    Md5,
    #[serde(rename = "HMAC-SHA256")]
    HmacSha256,
}

impl SignType {
    /// The wire value of `sign_type`; an absent one means MD5.
    pub fn from_wire(value: Option<&str>) -> Option<SignType> {
        match value {
            None | Some("") | Some("MD5") => Some(SignType::Md5),
            Some("HMAC-SHA256") => Some(SignType::HmacSha256),
            Some(_) => None,
        }
    }

    pub fn wire(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }
}

/// `k=v&k=v…` over the non-empty parameters except `sign`, in key order.
pub fn string_to_sign(params: &Params) -> String {
    crate::signed_text::sorted_pairs(params, "sign")
}

/// The `sign` value of `params` under `key`.
pub fn sign(params: &Params, key: &str, sign_type: SignType) -> String {
    let text = format!("{}&key={key}", string_to_sign(params));
    match sign_type {
        SignType::Md5 => hex::encode_upper(Md5::digest(text.as_bytes())),
        SignType::HmacSha256 => {
            // HMAC accepts keys of any length, so this never takes the `Err` branch.
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
                return String::new();
            };
            mac.update(text.as_bytes());
            hex::encode_upper(mac.finalize().into_bytes())
        }
    }
}

/// Whether `params` carries a correct `sign` under `key`. A missing sign is not correct.
pub fn verify(params: &Params, key: &str, sign_type: SignType) -> bool {
    match params.get("sign") {
        Some(given) if !given.is_empty() => given.eq_ignore_ascii_case(&sign(params, key, sign_type)),
        _ => false,
    }
}
