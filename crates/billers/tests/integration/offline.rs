//! The contract's pure parts: the signature, pinned to vectors computed independently (Python's
//! `hmac` module), and the reconciliation parser, which must refuse garbage without panicking.

use billers::recon::{self, ReconError};
use billers::sign;
use proptest::prelude::*;

const KEY: &[u8] = b"yizhan-test-key-0123";

#[test]
fn hmac_matches_the_published_example() {
    // The HMAC-SHA256 example of RFC 2104 implementations (key "key", the quick brown fox).
    assert_eq!(
        sign::sign(b"key", b"The quick brown fox jumps over the lazy dog"),
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
}

#[test]
fn request_signature_vector() {
    // python3: hmac.new(b'yizhan-test-key-0123', b'POST\n/v1/write-offs\n1764000000\n'
    //   b'0123456789abcdef0123456789abcdef\n{"reference":"YZTEST00000001-1"}', hashlib.sha256).hexdigest()
    let message = sign::request_string(
        "POST",
        "/v1/write-offs",
        "1764000000",
        "0123456789abcdef0123456789abcdef",
        br#"{"reference":"YZTEST00000001-1"}"#,
    );
    let expected = "ff4c9313c2c025c963b71b6594496423412f27e9ebf9baf354ef415f766cdbad";
    assert_eq!(sign::sign(KEY, &message), expected);
    assert!(sign::verify(KEY, &message, expected));
    assert!(sign::verify(KEY, &message, &expected.to_uppercase()));
}

#[test]
fn reply_signature_vector() {
    // python3: hmac.new(b'yizhan-test-key-0123', b'1764000000\nfedcba9876543210\n'
    //   b'0123456789abcdef0123456789abcdef\n{"status":"not_found","reference":"R"}',
    //   hashlib.sha256).hexdigest()
    let message = sign::reply_string(
        "1764000000",
        "fedcba9876543210",
        "0123456789abcdef0123456789abcdef",
        br#"{"status":"not_found","reference":"R"}"#,
    );
    let expected = "157ee7f64408837a53d502a04426a4c4369f1951603bf13c5a219345a9e6489a";
    assert_eq!(sign::sign(KEY, &message), expected);
    // The same reply answering another request does not verify.
    let other = sign::reply_string(
        "1764000000",
        "fedcba9876543210",
        "ffffffffffffffffffffffffffffffff",
        br#"{"status":"not_found","reference":"R"}"#,
    );
    assert!(!sign::verify(KEY, &other, expected));
}

#[test]
fn refusal_reply_signature_vector() {
    // python3: as above, over b'1764000000\nfedcba9876543210\n0123456789abcdef0123456789abcdef\n'
    //   b'{"code":"BILL_CHANGED","message":"the bill changed since it was fetched",'
    //   b'"reference":"YZTEST00000001-1"}'
    let body = br#"{"code":"BILL_CHANGED","message":"the bill changed since it was fetched","reference":"YZTEST00000001-1"}"#;
    let message =
        sign::reply_string("1764000000", "fedcba9876543210", "0123456789abcdef0123456789abcdef", body);
    let expected = "7f2ec583dd3ea03a3683016c1710a368d8c4b9439fd58978350720ec6af65343";
    assert_eq!(sign::sign(KEY, &message), expected);
}

#[test]
fn the_openapi_file_documents_every_path_and_the_vector() {
    let spec = include_str!("../../openapi/biller-api.yaml");
    for path in billers::wire::paths::ALL {
        assert!(spec.contains(&format!("\n  {path}:\n")), "{path} is not documented");
    }
    assert!(spec.contains("ff4c9313c2c025c963b71b6594496423412f27e9ebf9baf354ef415f766cdbad"));
    assert!(spec.contains("7f2ec583dd3ea03a3683016c1710a368d8c4b9439fd58978350720ec6af65343"));
    assert!(spec.contains("X-Yizhan-Request-Nonce"));
    assert!(spec.contains("426695a0efdb59b9eaedaf0b5ca3eddf013cc2a7f9e283437704ea605f421e6d"));
    assert!(spec.contains(billers::wire::codes::UNKNOWN_HOLDER));
    assert!(spec.contains(billers::wire::codes::AMOUNT_OUT_OF_LIMITS));
    for field in ["min_fen:", "max_fen:", "step_fen:", "pending:", "PendingPurchase:", "256 KiB"] {
        assert!(spec.contains(field), "{field} is not documented");
    }
    // Contract 1.1: the done replies and the status name the account and amount they hold.
    assert!(spec.contains("required: [result, reference, biller_txn, account, amount_fen]"));
    assert!(spec.contains("required: [status, reference, biller_txn, account, amount_fen]"));
}

#[test]
fn the_holder_digest_is_the_sha256_of_the_id_number_and_nothing_else_is_digested() {
    // python3: hashlib.sha256(b'11010519491231002X').hexdigest() (the GB 11643 example number).
    assert_eq!(
        billers::holder_digest("11010519491231002X").as_deref(),
        Some("426695a0efdb59b9eaedaf0b5ca3eddf013cc2a7f9e283437704ea605f421e6d")
    );
    let digest = billers::holder_digest("11010519491231002X").unwrap();
    assert!(billers::is_holder_digest(&digest));
    assert!(billers::is_holder_digest(billers::sim::DEMO_HOLDER));
    for not_an_id in
        ["", "11010519491231002x", "11010519491231002", "11010519491231002XX", "1101051949123100 X"]
    {
        assert_eq!(billers::holder_digest(not_an_id), None, "{not_an_id:?}");
    }
    assert!(!billers::is_holder_digest(&digest.to_uppercase()));
    assert!(!billers::is_holder_digest("11010519491231002X"));
}

#[test]
fn garbage_files_are_errors() {
    for garbage in ["", "\n\n", "hello", "1|2|3", "0|0\nnot|a|row", "x|0\n", "0|-1\n", "\u{feff}"] {
        assert!(recon::parse(garbage).is_err(), "{garbage:?} accepted");
    }
    assert_eq!(recon::parse("  \n"), Err(ReconError::Empty));
}

proptest! {
    #[test]
    fn any_text_is_parsed_or_refused_without_panic(text in any::<String>()) {
        let _ = recon::parse(&text);
    }

    #[test]
    fn near_miss_files_are_parsed_or_refused_without_panic(text in "[0-9|\\-\r\n a-z]{0,200}") {
        let _ = recon::parse(&text);
    }

    #[test]
    fn well_formed_files_round_trip(amounts in proptest::collection::vec(1i64..10_000_000, 0..20)) {
        let rows: Vec<_> = amounts
            .iter()
            .enumerate()
            .map(|(i, fen)| recon::ReconRow {
                date: "2026-11-23".into(),
                serial: format!("{i:06}"),
                reference: format!("YZTEST{i:08}-1"),
                account: kiosk_core::AccountNo::from_trusted("310000005"),
                amount: kiosk_core::Fen(*fen),
                channel: "wechat".into(),
                kind: recon::ReconKind::Pay,
            })
            .collect();
        let file = recon::parse(&recon::render(&rows)).unwrap();
        prop_assert_eq!(file.rows, rows);
    }
}
