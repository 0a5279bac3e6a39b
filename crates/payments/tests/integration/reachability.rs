//! The probe that tells the kiosk whether a payment code can be paid at all: real sockets on
//! loopback, the simulators answering, and a port nobody listens on.

use crate::common;

use payments::ChannelClients;

/// A loopback URL on a port that was free a moment ago: nothing answers there.
fn nobody_listens() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn the_channels_are_reachable_while_they_answer_and_not_when_the_network_is_gone() {
    // Behind a proxy the probe never withdraws codes; this test is about the direct path.
    for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        std::env::remove_var(name);
    }
    let world = common::world().await;
    assert!(world.clients.any_reachable().await, "the simulators answer");

    let mut config = world.sims.client_config(&common::keys_dir());
    for base_url in [
        &mut config.wechat.as_mut().unwrap().base_url,
        &mut config.alipay.as_mut().unwrap().base_url,
        &mut config.unionpay.as_mut().unwrap().base_url,
    ] {
        *base_url = nobody_listens();
    }
    let unreachable = ChannelClients::new(&config).unwrap();
    assert!(!unreachable.any_reachable().await, "no channel answers");

    // One channel back is enough for payment codes.
    config.alipay.as_mut().unwrap().base_url = world.sims.alipay.url();
    assert!(ChannelClients::new(&config).unwrap().any_reachable().await);
}

#[tokio::test]
async fn no_channel_configured_is_no_channel_reachable() {
    assert!(!ChannelClients::default().any_reachable().await);
}
