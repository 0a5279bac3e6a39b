//! Shared test set-up: the three simulators on loopback and clients configured against them.
#![allow(dead_code)]

use kiosk_core::{route_payment_code, Channel, Fen, OrderRef, PayReply, PaymentCode, Ts};
use payments::sim::{start_all, ChannelSimsConfig, LedgerEntry, LedgerKind, RunningChannelSims, SimHandle};
use payments::{ChannelClients, OrderCall, PayRequest, RefundRequest};
use simkit::Fault;
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

impl World {
    /// The simulator of one of the three QR channels.
    pub fn sim(&self, channel: Channel) -> &SimHandle {
        match channel {
            Channel::WeChat => &self.sims.wechat,
            Channel::Alipay => &self.sims.alipay,
            Channel::UnionPay => &self.sims.unionpay,
            other => panic!("no QR channel simulator for {other:?}"),
        }
    }
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

/// A fresh payment code of one of the three QR channels.
pub fn code(channel: Channel) -> PaymentCode {
    match channel {
        Channel::WeChat => wechat_code(),
        Channel::Alipay => alipay_code(),
        Channel::UnionPay => unionpay_code(),
        other => panic!("no QR payment code for {other:?}"),
    }
}

/// How many of `ledger`'s movements are of `kind`.
pub fn count(ledger: &[LedgerEntry], kind: LedgerKind) -> usize {
    ledger.iter().filter(|e| e.kind == kind).count()
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

/// A fresh order, paid `fen` with a fresh code of `channel`. The reply is not looked at: the
/// simulator books the charge either way, and UnionPay's consume only answers "accepted".
pub async fn paid(w: &World, channel: Channel, fen: i64) -> OrderRef {
    let order = order();
    w.clients.pay(&pay_request(&order, code(channel), fen)).await;
    order
}

/// A fresh order whose pay of `fen` with a fresh code of `channel` meets `fault` at that
/// channel's simulator, and the reply.
pub async fn pay_with_fault(w: &World, channel: Channel, fault: Fault, fen: i64) -> (OrderRef, PayReply) {
    let order = order();
    w.sim(channel).faults().inject("pay", fault, 1);
    let reply = w.clients.pay(&pay_request(&order, code(channel), fen)).await;
    (order, reply)
}

/// As [`pay_with_fault`], for a fault that leaves the pay Unknown (a lost request or reply, an
/// error that says nothing, a consume still in progress).
pub async fn pay_unknown(w: &World, channel: Channel, fault: Fault, fen: i64) -> OrderRef {
    let (order, reply) = pay_with_fault(w, channel, fault, fen).await;
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
    order
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
