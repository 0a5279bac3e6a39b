//! Configuration: the documented TOML shape parses; typos and bad values are refused with the key
//! at fault named and no secret echoed.

use payments::{ChannelClients, ConfigError, PaymentsConfig};

const EXAMPLE: &str = r#"
[wechat]
base_url = "https://api.mch.weixin.qq.com"
appid = "wx2421b1c4370ec43b"
mch_id = "10000100"
api_key = "YizhanSimulatorApiKey0123456789a"
spbill_create_ip = "10.0.0.21"
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
"#;

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
    let e = build_error(|c| c.wechat.as_mut().unwrap().api_key = payments::Secret::new("short-secret"));
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
    assert!(e.contains("wechat.client_identity_pem") && e.contains("reverse and refund"), "{e}");
    let mut config = example();
    let wechat = config.wechat.as_mut().unwrap();
    wechat.client_identity_pem = None;
    wechat.base_url = "http://127.0.0.1:18080".into();
    assert!(ChannelClients::new(&config).is_ok(), "a loopback simulator needs no certificate");
}
