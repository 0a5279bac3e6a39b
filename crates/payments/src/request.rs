//! What the kiosk asks a channel to do. The idempotency keys (`order`, `refund_no`) and the send
//! times that name a transaction (`sent_at`) come from the journal and are reused on every retry
//! (payments.md §8 R2).

use kiosk_core::{Fen, OrderRef, PaymentCode, Ts};

/// One pay attempt: charge `total` to the scanned `code` under the order number `order`.
#[derive(Clone, Debug)]
pub struct PayRequest {
    pub order: OrderRef,
    pub total: Fen,
    /// The scanned bearer token. Its `Debug` is masked; it is sent once and never logged.
    pub code: PaymentCode,
    /// Short text the customer sees in the wallet ("上海水费 3100000017" style, no personal data).
    pub description: String,
    /// The kiosk's id: WeChat `device_info`, Alipay `terminal_id`, UnionPay `termId`.
    pub kiosk_id: String,
    /// When the kiosk sent this pay (the journaled `Payment.pay_sent_at`). UnionPay's ACP names
    /// a transaction by `orderId` *and* `txnTime`, so the consume carries this time and every
    /// later query of it must carry the very same one; WeChat and Alipay ignore it.
    pub sent_at: Ts,
}

impl PayRequest {
    /// The follow-up calls (query, reverse) of this pay.
    pub fn call(&self) -> OrderCall {
        OrderCall { order: self.order.clone(), total: self.total, sent_at: self.sent_at }
    }
}

/// Which transaction a follow-up call names, and what the channel must report of it.
///
/// A signed reply that speaks of another order number or another amount than these proves
/// nothing about our order: it maps to `Mismatch`, never to "paid".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderCall {
    /// Our order number (`out_trade_no`, UnionPay `orderId`).
    pub order: OrderRef,
    /// What the pay asked for: WeChat `total_fee`, Alipay `total_amount`, UnionPay `txnAmt`.
    pub total: Fen,
    /// When the pay was sent ([`PayRequest::sent_at`]): UnionPay finds the consume by `orderId`
    /// *and* this time; WeChat and Alipay ignore it.
    pub sent_at: Ts,
}

/// One refund with a stable refund number: a retry sends the same number, so the channel refunds
/// at most once (§1.8, §2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequest {
    pub order: OrderRef,
    pub refund_no: String,
    /// What the order was paid in total (WeChat wants it beside the refund amount).
    pub order_total: Fen,
    pub amount: Fen,
    /// When the original pay was sent ([`PayRequest::sent_at`]): UnionPay queries the original
    /// consume by it before refunding. WeChat and Alipay ignore it.
    pub order_sent_at: Ts,
    /// When this refund was first sent, journaled with it and passed unchanged on every retry
    /// and refund query. UnionPay names the 退货 by its own `orderId` *and* this `txnTime`: the
    /// same pair is an idempotent replay, a new time would be a second refund. WeChat and Alipay
    /// ignore it (their refund number alone is the key).
    pub sent_at: Ts,
}
