//! Signature algorithms against vectors computed independently (python3 hmac/hashlib and the
//! openssl command line), pasted here as literals. The simulators' own signers (written apart
//! from the clients', so neither can mirror the other's mistake) are held to the same vectors.

use payments::alipay::sign::{parse_private_key, parse_public_key, string_to_sign, RsaSigner, RsaVerifier};
use payments::sim::wire;
use payments::{unionpay, wechat};
use std::collections::BTreeMap;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

const WECHAT_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn wechat_params() -> BTreeMap<String, String> {
    map(&[
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ("sign_type", "HMAC-SHA256"),
        ("empty", ""),
        ("sign", "ignored"),
    ])
}

#[test]
fn wechat_string_to_sign_skips_empty_values_and_sign() {
    assert_eq!(
        wechat::sign::string_to_sign(&wechat_params()),
        "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA\
         &sign_type=HMAC-SHA256"
    );
}

#[test]
fn wechat_hmac_sha256_matches_python_hmac() {
    // python3: hmac.new(key, (s + "&key=" + key), sha256).hexdigest().upper()
    let want = "2C9DF1156522C0B2B03B4DBF3BCA5CACB602CBD5CA0F9E112458CF3E9855303B";
    assert_eq!(wechat::sign::sign(&wechat_params(), WECHAT_KEY, wechat::sign::SignType::HmacSha256), want);
    assert_eq!(
        wire::wechat_sign(&wechat_params(), WECHAT_KEY, wire::WeChatSign::HmacSha256),
        want,
        "simulator"
    );
}

#[test]
fn wechat_md5_matches_python_hashlib() {
    let mut params = wechat_params();
    params.remove("sign_type");
    let want = "9A0A8659F005D6984697E2CA0A9CF3B7";
    assert_eq!(wechat::sign::sign(&params, WECHAT_KEY, wechat::sign::SignType::Md5), want);
    assert_eq!(wire::wechat_sign(&params, WECHAT_KEY, wire::WeChatSign::Md5), want, "simulator");
}

#[test]
fn wechat_verify_rejects_a_changed_field_or_a_missing_sign() {
    use wechat::sign::{sign, verify, SignType};
    let mut params = wechat_params();
    let signature = sign(&params, WECHAT_KEY, SignType::HmacSha256);
    params.insert("sign".into(), signature.to_lowercase());
    assert!(verify(&params, WECHAT_KEY, SignType::HmacSha256), "hex case does not matter");
    params.insert("body".into(), "tampered".into());
    assert!(!verify(&params, WECHAT_KEY, SignType::HmacSha256));
    params.remove("sign");
    assert!(!verify(&params, WECHAT_KEY, SignType::HmacSha256));
}

#[test]
fn unionpay_sign_method_11_matches_python_hashlib() {
    // python3: sha256((s + "&" + sha256(secureKey).hexdigest())).hexdigest()
    let fields = map(&[
        ("version", "5.1.0"),
        ("encoding", "UTF-8"),
        ("signMethod", "11"),
        ("txnType", "01"),
        ("merId", "777290058110048"),
        ("orderId", "YZ0001261123000001"),
        ("txnAmt", "8650"),
        ("txnTime", "20261123101500"),
        ("qrNo", "6212345678901234567"),
        ("signature", "ignored"),
    ]);
    let want = "eca76afce31a5e100e4a32547eacc8f6d20777d314b822e24864f1f45b07ce60";
    assert_eq!(unionpay::sign::sign(&fields, "YizhanSimulatorSecureKey"), want);
    assert_eq!(wire::acp_sign(&fields, "YizhanSimulatorSecureKey"), want, "simulator");
}

fn key_text(name: &str) -> String {
    std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/sim-keys").join(name),
    )
    .expect("demo key present")
}

#[test]
fn alipay_rsa2_request_signature_matches_openssl() {
    let params = map(&[
        ("app_id", "2021000000000001"),
        ("method", "alipay.trade.pay"),
        ("charset", "utf-8"),
        ("sign_type", "RSA2"),
        ("timestamp", "2026-11-23 10:15:00"),
        ("version", "1.0"),
        ("biz_content", r#"{"out_trade_no":"YZ0001261123000001","total_amount":"86.50"}"#),
        ("format", ""),
    ]);
    let content = string_to_sign(&params);
    assert_eq!(
        content,
        r#"app_id=2021000000000001&biz_content={"out_trade_no":"YZ0001261123000001","total_amount":"86.50"}&charset=utf-8&method=alipay.trade.pay&sign_type=RSA2&timestamp=2026-11-23 10:15:00&version=1.0"#
    );
    // openssl dgst -sha256 -sign alipay-app-private.pem | base64 -w0
    let expected = "WrHWXFTuRXeOYqLX7394ZoZL68kD5IDM4ReSjgI34TedHRmuuskzFHQ9HpE4g5gKQuFbX9mA7f39HCrq1uwkkaMd1p1PB451aXFYmrj8H9YBySMAauSLqEJfYKp2UBrY+ZFxJx9LnyAskzA4uFtrtNbyB44V3ryO8RrSs/0/fW7ffFumajVjtnj4zX650k2736bGUbd4RGObhPoxc0fF8isZstiRBV71gLqA9Mb4zAxo45tJNjd9/b6sRFFEzQWGS69dJXEqsB9WdWHHJV2T9xANslxph5ZlL5ZZXXtmrbf05KXjMjRltyJh9no8WqbnLVml9FP6YBpHm7bC3mTvIQ==";
    let signer = RsaSigner::new(parse_private_key(&key_text("alipay-app-private.pem")).unwrap());
    assert_eq!(signer.sign(content.as_bytes()).as_deref(), Some(expected));
}

#[test]
fn alipay_reply_signature_from_openssl_verifies_and_a_changed_byte_does_not() {
    let verifier = RsaVerifier::new(parse_public_key(&key_text("alipay-platform-public.pem")).unwrap());
    let content = r#"{"code":"10000","msg":"Success","trade_no":"2026112322001400000000000001"}"#;
    // openssl dgst -sha256 -sign alipay-platform-private.pem | base64 -w0
    let signature = "hFzXxtpMbgxkx2QAgX4gX+tmce8t9qZyb3YGeH2BW80qJyFe8x2G77Q2NkJ/pM1e2qErDPEf/IJ3KPk+Jz8o9oxHM1AV8mn4YBwDX4yWSPbt+olRkTWx1Eu3amcXOl3bzfmTrcGCHbcU8IVtAgOK5V3RgxRXDcS3ffIhW0IQjPvRpaL8NThqIUYhC4ALPkq6nvKHciOsbLV/5mGUtz/caCyvnYL3objgujVPQvVMoCbPMX4jCUoAdrtJphCFcKmKODOExgzxxgVzw0pGsGPSP+XskFT1xVUkRVKAz5/pTom4jQKrN/7Qq+K/qqDOQfBemm65YxKTa76MnMkAXNXEEA==";
    assert!(verifier.verify(content.as_bytes(), signature));
    // Re-serialised with a space: not the signed bytes any more.
    let respaced = content.replace(r#""msg":"#, r#""msg": "#);
    assert!(!verifier.verify(respaced.as_bytes(), signature));
    assert!(!verifier.verify(content.as_bytes(), "not base64 at all!"));
    assert!(!verifier.verify(content.as_bytes(), ""));
}

#[test]
fn keys_load_from_pkcs8_pem_and_bare_base64() {
    let pem = key_text("alipay-app-private.pem");
    let bare: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert_eq!(parse_private_key(&pem).unwrap(), parse_private_key(&bare).unwrap());
    assert!(parse_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err());
    assert!(parse_public_key("garbage").is_err());
}
