//! Classifier table: every payment channel prefix, bill barcodes, and garbage of every kind
//! (hardware.md §5.3–§5.4). Payment-code rules are kiosk-core's; these rows check we use them.

use kiosk_core::{Channel, Utility};
use scanner::bill::BillCodeError;
use scanner::{classify, Classifier, ClassifierConfig, GarbageReason, Scanned};

fn channel(text: &str) -> Option<Channel> {
    match classify(text) {
        Scanned::PaymentCode(code) => Some(code.channel()),
        _ => None,
    }
}

fn reason(text: &str) -> Option<GarbageReason> {
    match classify(text) {
        Scanned::Garbage { reason } => Some(reason),
        _ => None,
    }
}

#[test]
fn every_payment_channel_prefix() {
    // WeChat: 18 digits, 10–15.
    for p in 10..=15 {
        assert_eq!(channel(&format!("{p}4567890123456789")), Some(Channel::WeChat), "prefix {p}");
    }
    // Alipay: 16–24 digits, 25–30.
    for p in 25..=30 {
        for len in [16, 20, 24] {
            let code = format!("{p}{}", "1".repeat(len - 2));
            assert_eq!(channel(&code), Some(Channel::Alipay), "{p} len {len}");
        }
    }
    // UnionPay: 19 digits, 62.
    assert_eq!(channel("6212345678901234567"), Some(Channel::UnionPay));
    // With the engine's suffix, surrounding blanks or an AIM identifier (]Q1 = QR).
    assert_eq!(channel("134567890123456789\r\n"), Some(Channel::WeChat));
    assert_eq!(channel("]Q1284567890123456789"), Some(Channel::Alipay));
}

#[test]
fn near_misses_are_not_payment_codes() {
    assert_eq!(channel("13456789012345678"), None); // 17 digits
    assert_eq!(channel("164567890123456789"), None); // 16 is no scheme
    assert_eq!(channel("2845678901234567890123456"), None); // 25 digits
    assert_eq!(channel("621234567890123456"), None); // 18 digits starting 62
    assert_eq!(channel("13 4567 8901 2345 6789"), Some(Channel::WeChat)); // spaces are stripped
}

#[test]
fn yzb_bill_barcodes() {
    let power = classify("YZB231000000118");
    match power {
        Scanned::BillBarcode { utility: Some(Utility::Power), account } => {
            assert_eq!(account.as_str(), "3100000011");
            assert_eq!(format!("{account:?}"), "AccountNo(31****0011)");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        classify("]C0YZB13100000051"),
        Scanned::BillBarcode { utility: Some(Utility::Water), .. }
    ));
    assert!(matches!(classify("YZB331000000116"), Scanned::BillBarcode { utility: Some(Utility::Gas), .. }));
    assert_eq!(reason("YZB231000000119"), Some(GarbageReason::BadBillBarcode(BillCodeError::CheckDigit)));
    assert_eq!(reason("YZB431000000118"), Some(GarbageReason::BadBillBarcode(BillCodeError::UnknownUtility)));
    assert_eq!(reason("YZB2310"), Some(GarbageReason::BadBillBarcode(BillCodeError::CheckDigit)));
    assert_eq!(reason("YZBX"), Some(GarbageReason::BadBillBarcode(BillCodeError::NotDigits)));
}

#[test]
fn bare_account_numbers() {
    // 9 digits + Luhn: only the water rule fits.
    assert!(matches!(classify("310000005"), Scanned::BillBarcode { utility: Some(Utility::Water), .. }));
    // 10 digits + Luhn: power and gas both fit, the screen must ask.
    assert!(matches!(classify("3100000011"), Scanned::BillBarcode { utility: None, .. }));
    // Wrong check digit: garbage.
    assert_eq!(reason("3100000012"), Some(GarbageReason::UnknownDigits { len: 10 }));
    // Switched off by configuration.
    let strict = Classifier::new(ClassifierConfig { bare_accounts: false, ..ClassifierConfig::default() });
    assert!(matches!(strict.classify("310000005"), Scanned::Garbage { .. }));
}

#[test]
fn garbage_of_every_kind() {
    assert_eq!(reason(""), Some(GarbageReason::Empty));
    assert_eq!(reason(" \r\n"), Some(GarbageReason::Empty));
    assert_eq!(reason("12345"), Some(GarbageReason::UnknownDigits { len: 5 }));
    assert_eq!(reason("0"), Some(GarbageReason::UnknownDigits { len: 1 }));
    assert_eq!(reason("https://www.sh.sgcc.com.cn/bill?id=1"), Some(GarbageReason::Url));
    assert_eq!(reason("www.example.com"), Some(GarbageReason::Url));
    assert_eq!(reason("wxp://f2f0abcdefg"), Some(GarbageReason::CollectCode));
    assert_eq!(reason("https://qr.alipay.com/fkx12345"), Some(GarbageReason::CollectCode));
    assert_eq!(reason("https://qr.95516.com/00010000/0123"), Some(GarbageReason::CollectCode));
    assert_eq!(reason("hello kiosk"), Some(GarbageReason::Text));
    assert_eq!(reason("1345\u{0}67890"), Some(GarbageReason::Binary));
    let classifier = Classifier::default();
    assert!(matches!(
        classifier.classify_bytes(&[0xFF, 0xFE, 0x31]),
        Scanned::Garbage { reason: GarbageReason::Binary }
    ));
}

#[test]
fn every_garbage_reason_has_both_messages() {
    let all = [
        GarbageReason::Empty,
        GarbageReason::Binary,
        GarbageReason::Url,
        GarbageReason::CollectCode,
        GarbageReason::UnknownDigits { len: 3 },
        GarbageReason::BadBillBarcode(BillCodeError::CheckDigit),
        GarbageReason::Text,
    ];
    for r in all {
        assert!(
            r.message().in_lang(catalogue::Lang::Zh).chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{r:?}"
        );
        assert!(
            r.message().in_lang(catalogue::Lang::En).is_ascii()
                && r.message().in_lang(catalogue::Lang::En).len() > 20,
            "{r:?}"
        );
    }
}

#[test]
fn classification_never_shows_a_code_in_debug() {
    let shown = format!("{:?}", classify("134567890123456789"));
    assert!(!shown.contains("134567890123456789"), "{shown}");
    let shown = format!("{:?}", classify("https://example/secret-token"));
    assert!(!shown.contains("secret"), "{shown}");
}

#[test]
fn classifier_config_reads_from_toml() {
    let cfg: ClassifierConfig = toml::from_str(
        r#"
        bare_accounts = false
        [accounts.water]
        min_len = 8
        max_len = 8
        check_digit = "none"
        "#,
    )
    .unwrap();
    assert!(!cfg.bare_accounts);
    assert_eq!(cfg.accounts[&Utility::Water].min_len, 8);
    // YZB with an 8-digit water account under that rule.
    let body = "112345678";
    let check = kiosk_core::utility::luhn_check_digit(body).unwrap();
    let c = Classifier::new(cfg);
    assert!(matches!(
        c.classify(&format!("YZB{body}{check}")),
        Scanned::BillBarcode { utility: Some(Utility::Water), .. }
    ));
}

#[test]
fn the_fleet_consoles_pairing_qr_is_its_own_kind_and_keeps_its_code_out_of_debug() {
    let text = "yizhan-pair:1;url=https://hub.example:8443;ca=00ff;code=K7Q2-9MPX";
    match classify(&format!("]Q1{text}\r\n")) {
        Scanned::PairingTicket(ticket) => {
            assert_eq!(ticket.expose(), text);
            assert!(!format!("{ticket:?}").contains("K7Q2"), "the one-time code is not in logs");
        }
        other => panic!("{other:?}"),
    }
    // Only the prefix at the start: a link that mentions it is a link.
    assert_eq!(reason("https://x.example/?yizhan-pair:1"), Some(GarbageReason::Url));
}
