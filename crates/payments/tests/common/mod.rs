//! Shared test set-up: the three simulators on loopback and clients configured against them.
#![allow(dead_code)]

use kiosk_core::{
    route_payment_code, Channel, FailKind, Fen, OrderRef, PayReply, PaymentCode, QueryReply,
    RefundQueryReply, RefundReply, ReverseReply, Ts,
};
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

    /// The query of the pay of `fen` under `order`.
    pub async fn query(&self, channel: Channel, order: &OrderRef, fen: i64) -> QueryReply {
        self.clients.query(channel, &call(order, fen)).await
    }

    /// The reverse of the pay of `fen` under `order`, sent at [`later_at`].
    pub async fn reverse(&self, channel: Channel, order: &OrderRef, fen: i64) -> ReverseReply {
        self.clients.reverse(channel, &call(order, fen), later_at()).await
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

/// A fresh order paid `fen` with a fresh code of `channel`, the reply saying paid at once (as
/// UnionPay's consume never does), and the channel's transaction.
pub async fn paid_at_once(w: &World, channel: Channel, fen: i64) -> (OrderRef, String) {
    let order = order();
    let reply = w.clients.pay(&pay_request(&order, code(channel), fen)).await;
    let PayReply::Paid { channel_txn } = reply else {
        panic!("expected Paid, got {reply:?}");
    };
    (order, channel_txn)
}

/// A fresh order whose pay of `fen` with a fresh code of `channel` meets `fault` at that
/// channel's simulator, and the reply.
pub async fn pay_with_fault(w: &World, channel: Channel, fault: Fault, fen: i64) -> (OrderRef, PayReply) {
    let order = order();
    w.sim(channel).faults().inject("pay", fault, 1);
    let reply = w.clients.pay(&pay_request(&order, code(channel), fen)).await;
    (order, reply)
}

/// A pay of a fresh order with `code`, already used, fails as the customer's, with `wire` for its
/// error code.
pub async fn reuse_is_refused(w: &World, code: PaymentCode, wire: &str) {
    let reused = w.clients.pay(&pay_request(&order(), code, 100)).await;
    assert!(
        matches!(reused, PayReply::Failed { kind: FailKind::Customer, ref code, .. } if code == wire),
        "{reused:?}"
    );
}

/// As [`pay_with_fault`], for a fault that leaves the pay Unknown (a lost request or reply, an
/// error that says nothing, a consume still in progress).
pub async fn pay_unknown(w: &World, channel: Channel, fault: Fault, fen: i64) -> OrderRef {
    let (order, reply) = pay_with_fault(w, channel, fault, fen).await;
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
    order
}

/// A fresh order of `fen` whose PIN comes `pin_ms` after the pay: a query says it is waiting, and
/// `wait_ms` later, once the PIN has come, that it is paid. The pay's reply.
pub async fn pin_comes_later(w: &World, channel: Channel, fen: i64, pin_ms: u64, wait_ms: u64) -> PayReply {
    let (order, reply) = pay_with_fault(w, channel, Fault::UserPaying { ms: Some(pin_ms) }, fen).await;
    assert_eq!(w.query(channel, &order, fen).await, QueryReply::Waiting);
    tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
    assert!(matches!(w.query(channel, &order, fen).await, QueryReply::Paid { .. }));
    reply
}

/// A fresh order of `fen` whose PIN never comes, reversed: the reverse is `Done { refunded }`, a
/// late PIN cannot pay the order, and a query then says `after`. The order and the pay's reply.
pub async fn reversed_while_waiting(
    w: &World,
    channel: Channel,
    fen: i64,
    refunded: Option<bool>,
    after: QueryReply,
) -> (OrderRef, PayReply) {
    let (order, reply) = pay_with_fault(w, channel, Fault::UserPaying { ms: None }, fen).await;
    assert_eq!(w.reverse(channel, &order, fen).await, ReverseReply::Done { refunded });
    assert!(!w.sim(channel).enter_pin(order.as_str()), "a late PIN must not pay a reversed order");
    assert_eq!(w.query(channel, &order, fen).await, after);
    (order, reply)
}

/// The reverse of the paid `order` of `fen`: done, the money known to have gone back, and one
/// reversal in the channel's ledger.
pub async fn reverse_gives_back(w: &World, channel: Channel, order: &OrderRef, fen: i64) {
    assert_eq!(w.reverse(channel, order, fen).await, ReverseReply::Done { refunded: Some(true) });
    assert_eq!(count(&w.sim(channel).ledger(), LedgerKind::Reversal), 1);
}

/// A fresh order paid `fen` with a fresh code of `channel`, and the request of a refund of `amount`
/// of it.
pub async fn paid_to_refund(w: &World, channel: Channel, fen: i64, amount: i64) -> (OrderRef, RefundRequest) {
    let order = paid(w, channel, fen).await;
    let refund = refund_request(&order, fen, amount);
    (order, refund)
}

/// `refund` with its first reply lost: that call is Unknown, and the retries answer `retried`, one
/// answer each.
pub async fn refund_after_lost_reply(
    w: &World,
    channel: Channel,
    refund: &RefundRequest,
    retried: &[RefundReply],
) {
    w.sim(channel).faults().inject("refund", Fault::DropReply, 1);
    assert!(matches!(w.clients.refund(channel, refund).await, RefundReply::Unknown { .. }));
    for answer in retried {
        assert_eq!(&w.clients.refund(channel, refund).await, answer);
    }
}

/// `refund`, unknown to the refund query before its call (which answers `answer`) and found
/// refunded after it.
pub async fn refund_found_after_the_call(
    w: &World,
    channel: Channel,
    refund: &RefundRequest,
    answer: RefundReply,
) {
    assert_eq!(w.clients.refund_status(channel, refund).await, RefundQueryReply::NotFound);
    assert_eq!(w.clients.refund(channel, refund).await, answer);
    assert_eq!(w.clients.refund_status(channel, refund).await, RefundQueryReply::Refunded);
}

/// A refund of `amount` of the pay of `total` under `order` is refused.
pub async fn refund_is_refused(w: &World, channel: Channel, order: &OrderRef, total: i64, amount: i64) {
    let reply = w.clients.refund(channel, &refund_request(order, total, amount)).await;
    assert!(matches!(reply, RefundReply::Refused { .. }), "{reply:?}");
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
