//! Shared test set-up: the three simulators on loopback and clients configured against them.
#![allow(dead_code)]

use kiosk_core::{route_payment_code, Fen, OrderRef, PaymentCode, Ts};
use payments::sim::{start_all, ChannelSimsConfig, RunningChannelSims};
use payments::{ChannelClients, OrderCall, PayRequest, RefundRequest};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/sim-keys")
}

pub struct World {
    pub sims: RunningChannelSims,
    pub clients: ChannelClients,
}

pub async fn world() -> World {
    world_with(|_| {}).await
}

/// Simulators with `edit` applied to the demo configuration, and clients against them.
pub async fn world_with(edit: impl FnOnce(&mut ChannelSimsConfig)) -> World {
    let mut config = ChannelSimsConfig::demo(&keys_dir());
    edit(&mut config);
    let sims = start_all(&config).await.expect("simulators start");
    let clients = ChannelClients::new(&sims.client_config(&keys_dir())).expect("clients build");
    World { sims, clients }
}

static NEXT: AtomicU64 = AtomicU64::new(1);

fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn order() -> OrderRef {
    OrderRef::new(format!("YZTEST{:012}", next())).expect("valid order ref")
}

pub fn wechat_code() -> PaymentCode {
    route_payment_code(&format!("134{:015}", next())).expect("wechat code")
}

pub fn alipay_code() -> PaymentCode {
    route_payment_code(&format!("2800{:014}", next())).expect("alipay code")
}

pub fn unionpay_code() -> PaymentCode {
    route_payment_code(&format!("62{:017}", next())).expect("unionpay code")
}

/// When the tests' pay requests were "sent": one instant for the whole test binary, so a query
/// can name the pay it follows (UnionPay's `txnTime`).
pub fn sent_at() -> Ts {
    static AT: OnceLock<Ts> = OnceLock::new();
    *AT.get_or_init(|| Ts(chrono::Utc::now().timestamp_millis()))
}

pub fn pay_request(order: &OrderRef, code: PaymentCode, fen: i64) -> PayRequest {
    PayRequest {
        order: order.clone(),
        total: Fen(fen),
        code,
        description: "上海水费 3100000017".into(),
        kiosk_id: "KIOSK0001".into(),
        sent_at: sent_at(),
    }
}

/// When the tests' reverses and refunds were first "sent" (UnionPay's `txnTime` of a cancel or
/// 退货): a second after the pay.
pub fn later_at() -> Ts {
    Ts(sent_at().0 + 1_000)
}

/// The follow-up calls (query, reverse) of the pay of `fen` under `order`.
pub fn call(order: &OrderRef, fen: i64) -> OrderCall {
    OrderCall { order: order.clone(), total: Fen(fen), sent_at: sent_at() }
}

pub fn refund_request(order: &OrderRef, total: i64, amount: i64) -> RefundRequest {
    RefundRequest {
        order: order.clone(),
        refund_no: order.whole_refund_no(),
        order_total: Fen(total),
        amount: Fen(amount),
        order_sent_at: sent_at(),
        sent_at: later_at(),
    }
}
