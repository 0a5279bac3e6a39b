//! Configuration: the documented TOML shape parses; typos and bad values are refused with the key
//! at fault named and no secret echoed.

use payments::wechat::sign::SignType;
use payments::{ChannelClients, ConfigError, PaymentsConfig};

/// The merchant account both examples' `[wechat]` table starts with (a macro, for `concat!`).
macro_rules! wechat_account {
    () => {
        r#"
[wechat]
base_url = "https://api.mch.weixin.qq.com"
appid = "wx2421b1c4370ec43b"
mch_id = "10000100"
api_key = "YizhanSimulatorApiKey0123456789a"
"#
    };
}

const EXAMPLE: &str = concat!(
    wechat_account!(),
    r#"spbill_create_ip = "10.0.0.21"
client_identity_pem = "FIXTURES/wechat-apiclient-test.pem"
pay_timeout_ms = 10000

[alipay]
base_url = "https://openapi.alipay.com"
app_id = "2021000000000001"
app_private_key_path = "KEYS/alipay-app-private.pem"
alipay_public_key_path = "KEYS/alipay-platform-public.pem"

[unionpay]
base_url = "https://acquirer.example.cn"
mer_id = "777290058110048"
secure_key = "YizhanSimulatorSecureKey"
connect_timeout_ms = 2000
request_timeout_ms = 6000
"#
);

fn example() -> PaymentsConfig {
    let keys = env!("CARGO_MANIFEST_DIR").to_string() + "/../../config/sim-keys";
    let fixtures = env!("CARGO_MANIFEST_DIR").to_string() + "/tests/fixtures";
    let text = EXAMPLE.replace("KEYS", &keys).replace("FIXTURES", &fixtures);
    toml::from_str(&text).expect("example parses")
}

#[test]
fn the_documented_example_builds_all_three_clients() {
    let config = example();
    let clients = ChannelClients::new(&config).unwrap();
    assert!(clients.wechat.is_some() && clients.alipay.is_some() && clients.unionpay.is_some());
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("YizhanSimulatorApiKey") && !shown.contains("YizhanSimulatorSecureKey"),
        "{shown}"
    );
}

#[test]
fn unknown_keys_are_refused() {
    let typo = EXAMPLE.replace("pay_timeout_ms = 10000", "pay_timout_ms = 10000");
    let error = toml::from_str::<PaymentsConfig>(&typo).unwrap_err().to_string();
    assert!(error.contains("pay_timout_ms"), "{error}");
}

fn build_error(edit: impl FnOnce(&mut PaymentsConfig)) -> String {
    let mut config = example();
    edit(&mut config);
    match ChannelClients::new(&config) {
        Err(error) => error.to_string(),
        Ok(_) => panic!("expected a configuration error"),
    }
}

#[test]
fn bad_values_name_the_key_and_what_was_expected() {
    let e = build_error(|c| c.wechat.as_mut().unwrap().api_key = payments::Secret::from("short-secret"));
    assert!(e.contains("wechat.api_key") && e.contains("32-character") && !e.contains("short-secret"), "{e}");
    let e = build_error(|c| c.wechat.as_mut().unwrap().base_url = "ftp://x/".into());
    assert!(e.contains("wechat.base_url"), "{e}");
    let e = build_error(|c| c.wechat.as_mut().unwrap().pay_timeout_ms = 0);
    assert!(e.contains("wechat.pay_timeout_ms") && e.contains("milliseconds"), "{e}");
    let e = build_error(|c| c.unionpay.as_mut().unwrap().mer_id = "123".into());
    assert!(e.contains("unionpay.mer_id") && e.contains("15-character"), "{e}");
    let e = build_error(|c| c.alipay.as_mut().unwrap().app_private_key_path = "/nonexistent/key.pem".into());
    assert!(e.contains("alipay.app_private_key_path") && e.contains("/nonexistent/key.pem"), "{e}");
}

#[test]
fn a_public_key_where_a_private_key_belongs_is_a_bad_key() {
    let mut config = example();
    let alipay = config.alipay.as_mut().unwrap();
    alipay.app_private_key_path = alipay.alipay_public_key_path.clone();
    assert!(matches!(ChannelClients::new(&config), Err(ConfigError::BadKey { .. })));
}

#[test]
fn wechat_needs_the_client_certificate_unless_it_talks_to_a_loopback_simulator() {
    let e = build_error(|c| c.wechat.as_mut().unwrap().client_identity_pem = None);
    assert!(
        e.contains("wechat.client_cert_pem")
            && e.contains("client_key_pem")
            && e.contains("reverse and refund"),
        "{e}"
    );
    let mut config = example();
    let wechat = config.wechat.as_mut().unwrap();
    wechat.client_identity_pem = None;
    wechat.base_url = "http://127.0.0.1:18080".into();
    assert!(ChannelClients::new(&config).is_ok(), "a loopback simulator needs no certificate");
}

/// The fixture's certificate and key as the two files WeChat issues, in a temporary directory.
struct SplitCert {
    dir: tempfile::TempDir,
}

impl SplitCert {
    fn new() -> SplitCert {
        let pem = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wechat-apiclient-test.pem"),
        )
        .unwrap();
        let start = pem.find("-----BEGIN PRIVATE KEY-----").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("apiclient_cert.pem"), &pem[..start]).unwrap();
        std::fs::write(dir.path().join("apiclient_key.pem"), &pem[start..]).unwrap();
        SplitCert { dir }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        std::fs::write(self.path(name), text).unwrap();
        self.path(name)
    }

    /// The example configuration with `cert` and `key` as the two files.
    fn config(&self, cert: &std::path::Path, key: &std::path::Path) -> PaymentsConfig {
        let mut config = example();
        let wechat = config.wechat.as_mut().unwrap();
        wechat.client_identity_pem = None;
        wechat.client_cert_pem = Some(cert.to_path_buf());
        wechat.client_key_pem = Some(key.to_path_buf());
        config
    }
}

const SPLIT: &str = concat!(
    wechat_account!(),
    r#"client_cert_pem = "DIR/apiclient_cert.pem"
client_key_pem = "DIR/apiclient_key.pem"
sign_type = "MD5"
"#
);

#[test]
fn the_certificate_and_key_as_the_two_files_wechat_issues() {
    let split = SplitCert::new();
    let text = SPLIT.replace("DIR", &split.dir.path().display().to_string());
    let config: PaymentsConfig = toml::from_str(&text).expect("two-file example parses");
    let wechat = config.wechat.as_ref().unwrap();
    assert_eq!(wechat.sign_type, SignType::Md5);
    assert!(ChannelClients::new(&config).unwrap().wechat.is_some());
}

#[test]
fn a_missing_unreadable_or_bad_certificate_file_names_its_key_its_path_and_the_cause() {
    let split = SplitCert::new();
    let (cert, key) = (split.path("apiclient_cert.pem"), split.path("apiclient_key.pem"));
    let error = |config: PaymentsConfig| match ChannelClients::new(&config) {
        Err(error) => error.to_string(),
        Ok(_) => panic!("expected a configuration error"),
    };
    let check = |e: &str, key: &str, path: &std::path::Path, cause: &str| {
        assert!(
            e.contains(key) && e.contains(&path.display().to_string()) && e.contains(cause),
            "{e:?} should name {key}, {} and {cause:?}",
            path.display()
        );
        assert!(!e.contains("builder error"), "{e}");
    };

    let missing = split.path("nope.pem");
    check(&error(split.config(&missing, &key)), "wechat.client_cert_pem", &missing, "No such file");
    check(&error(split.config(&cert, &missing)), "wechat.client_key_pem", &missing, "No such file");
    // The key where the certificate belongs, and the other way round.
    check(&error(split.config(&key, &key)), "wechat.client_cert_pem", &key, "no certificate");
    check(&error(split.config(&cert, &cert)), "wechat.client_key_pem", &cert, "no private key");
    let not_pem = split.write("binary.pem", "\u{0}\u{1}not a pem");
    check(&error(split.config(&cert, &not_pem)), "wechat.client_key_pem", &not_pem, "no private key");
    // PEM armour around something that is not a key: only the TLS library can tell, and its
    // reason is passed on, never its bare "builder error".
    let garbage = split
        .write("garbage.pem", "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n");
    let e = error(split.config(&cert, &garbage));
    check(&e, "wechat.client_key_pem", &garbage, "private key");
    assert!(e.contains(&cert.display().to_string()), "the certificate it was paired with: {e}");
    // A directory cannot be read as a file.
    check(
        &error(split.config(split.dir.path(), &key)),
        "wechat.client_cert_pem",
        split.dir.path(),
        "cannot read",
    );

    // Half a pair, or both styles at once, is refused by name.
    let mut only_cert = split.config(&cert, &key);
    only_cert.wechat.as_mut().unwrap().client_key_pem = None;
    let e = error(only_cert);
    assert!(e.contains("wechat.client_key_pem") && e.contains("apiclient_key.pem"), "{e}");
    let mut both = split.config(&cert, &key);
    both.wechat.as_mut().unwrap().client_identity_pem = Some(cert.clone());
    assert!(error(both).contains("wechat.client_identity_pem"));
    // The combined file still works, and a broken one is named by its key.
    let combined =
        split.write("combined.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    let mut config = example();
    config.wechat.as_mut().unwrap().client_identity_pem = Some(combined.clone());
    check(&error(config), "wechat.client_identity_pem", &combined, "no private key");
}

#[test]
fn sign_type_is_hmac_sha256_by_default_md5_on_request_and_nothing_else() {
    assert_eq!(example().wechat.unwrap().sign_type, SignType::HmacSha256);
    let md5 = EXAMPLE.replace("pay_timeout_ms = 10000", "pay_timeout_ms = 10000\nsign_type = \"MD5\"");
    assert_eq!(toml::from_str::<PaymentsConfig>(&md5).unwrap().wechat.unwrap().sign_type, SignType::Md5);
    let sha1 = EXAMPLE.replace("pay_timeout_ms = 10000", "pay_timeout_ms = 10000\nsign_type = \"SHA1\"");
    let e = toml::from_str::<PaymentsConfig>(&sha1).unwrap_err().to_string();
    assert!(e.contains("sign_type") && e.contains("HMAC-SHA256") && e.contains("MD5"), "{e}");
}

#[test]
fn an_invalid_value_reads_as_one_sentence_without_doubled_words() {
    let e = build_error(|c| c.unionpay.as_mut().unwrap().mer_id = "123".into());
    assert_eq!(e, "payments.unionpay.mer_id: should be the 15-character merchant id");
    // As the kiosk wraps it ("…: expected {payments error}"), "expected" appears once.
    assert!(!e.contains("expected"), "{e}");
}

#[test]
fn the_remote_example_payments_section_uses_only_keys_we_know() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/examples/remote.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    let section = file["payments"].clone();
    let config: PaymentsConfig = section.try_into().expect("[payments] of remote.toml parses");
    let wechat = config.wechat.unwrap();
    assert!(wechat.client_cert_pem.is_some() && wechat.client_key_pem.is_some());
    assert_eq!(wechat.sign_type, SignType::HmacSha256);
}
