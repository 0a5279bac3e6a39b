//! What the outside world answered, as the core understands it. Channel and biller clients turn
//! every wire reply (and every missing or unverifiable one) into exactly one of these values;
//! the payment machine turns them into state. "Unknown" is an answer, never an error (rule R3).

use serde::{Deserialize, Serialize};

/// Why a definite failure happened, so the customer and staff are told the right thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailKind {
    /// The customer can fix it: refresh the code, another card, enough balance (class F).
    Customer,
    /// A request or configuration fault on our side; staff must be alerted (class C).
    Config,
}

/// The reply to a pay request (WeChat micropay, Alipay trade.pay, UnionPay QR consume, card 0200).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum PayReply {
    /// Paid now: SUCCESS / 10000 / respCode 00 with a transaction id.
    Paid { channel_txn: String },
    /// The customer must confirm on the phone (USERPAYING, 10003).
    AwaitingPin,
    /// The channel says this order number was already paid or used (ORDERPAID, OUT_TRADE_NO_USED,
    /// ACQ.TRADE_HAS_SUCCESS): only a query can tell us the truth, never a failure.
    AlreadyUsed { code: String },
    /// No money moved for this order number (class F or C); a rescan needs a new order number.
    Failed { kind: FailKind, code: String, message: String },
    /// No reply, a timeout, a 5xx, an unverifiable signature, SYSTEMERROR, BANKERROR, 20000, or a
    /// code we do not know: the money may or may not have moved.
    Unknown { detail: String },
    /// A signed reply that speaks of another order or another amount than ours (`out_trade_no`,
    /// `total_fee`, `total_amount`, `txnAmt`): it proves nothing about our order, and acting on
    /// it (reversing, writing off) could touch someone else's money. Suspense, never "paid".
    Mismatch { detail: String },
}

/// The reply to an order query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum QueryReply {
    Paid {
        channel_txn: String,
    },
    /// Still open: NOTPAY, USERPAYING, ACCEPT, WAIT_BUYER_PAY, origRespCode 03/04/05.
    Waiting,
    /// The channel took the money and has since refunded it (WeChat REFUND).
    PaidThenRefunded {
        channel_txn: String,
    },
    /// Closed without money: PAYERROR, CLOSED, a failed origRespCode.
    Failed {
        code: String,
    },
    /// Closed, but the state does not say whether money had been taken (and given back):
    /// WeChat REVOKED (a reverse, of a paid order or not) and Alipay TRADE_CLOSED (unpaid and timed
    /// out, or paid and fully refunded; payments.md §2.2). Never "not charged".
    Closed {
        code: String,
    },
    /// ORDERNOTEXIST / ACQ.TRADE_NOT_EXIST: not (yet) known to the channel.
    NotFound,
    Unknown {
        detail: String,
    },
    /// The reply names another order or amount than ours: see [`PayReply::Mismatch`].
    Mismatch {
        detail: String,
    },
}

/// The reply to a reverse (WeChat) / cancel (Alipay) / 消费撤销 (UnionPay) / reversal (card).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum ReverseReply {
    /// The order is closed. `refunded`: `Some(true)` money had been taken and was given back,
    /// `Some(false)` none had been taken, `None` the channel's answer does not say which (a
    /// WeChat `REVOKED` need not carry `time_end`): the customer is told "any amount taken has
    /// been returned", which is true either way.
    Done { refunded: Option<bool> },
    /// Try again: recall=Y, retry_flag=Y, an error, no reply.
    Retry { detail: String },
    /// The channel will not reverse this order (for example too old): a refund is needed if it
    /// was paid.
    Refused { detail: String },
}

/// The reply to a refund with a stable refund number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum RefundReply {
    /// The money is back with the customer: a refund the channel books synchronously (Alipay
    /// `fund_change=Y`, or `N` on an idempotent replay of one that was).
    Refunded,
    /// The channel took the request but pays it out later (WeChat v2 refund `SUCCESS`, UnionPay
    /// 退货 `00`): only the refund query tells when it has arrived (payments.md §1.8).
    Accepted,
    Unknown {
        detail: String,
    },
    /// The channel refuses this refund for good; only staff can settle it.
    Refused {
        detail: String,
    },
}

/// The reply to a refund query (WeChat `refundquery`, UnionPay query of the refund's own
/// orderId/txnTime, Alipay `alipay.trade.fastpay.refund.query`) by our stable refund number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum RefundQueryReply {
    /// SUCCESS / origRespCode 00 / REFUND_SUCCESS: the money is back.
    Refunded,
    /// PROCESSING / origRespCode 03, 04, 05: accepted, still on its way.
    Pending,
    /// CHANGE (the customer's card or balance could not take it) or REFUNDCLOSE, or a failed
    /// origRespCode: the refund will not arrive by itself; staff must settle it.
    Failed {
        code: String,
    },
    /// The channel has no refund under this number: it never arrived, so it may be sent again.
    NotFound,
    Unknown {
        detail: String,
    },
}

/// Data the biller issues for a prepaid card purchase, to be written to the customer's IC card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardWriteData {
    /// The purchase sequence the meter checks; a replayed sequence is ignored by the meter.
    pub purchase_seq: u32,
    /// Opaque bytes for the card, hex.
    pub data_hex: String,
}

/// The reply to a write-off (销账) or prepaid purchase keyed by our biller reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum WriteOffReply {
    /// Written off now, or "already written off" for our reference (DEF0002-like).
    WrittenOff {
        biller_txn: String,
        card: Option<CardWriteData>,
    },
    /// Definite failure: nothing was written off for this reference (bill changed, account
    /// closed, biller refuses). The money for this line must go back to the customer.
    Rejected {
        code: String,
        message: String,
    },
    Unknown {
        detail: String,
    },
}

/// The reply to a write-off status query (销账结果查询).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum WriteOffStatus {
    WrittenOff {
        biller_txn: String,
        card: Option<CardWriteData>,
    },
    /// The biller never saw our reference: safe to send the write-off again with it.
    NotFound,
    Rejected {
        code: String,
        message: String,
    },
    Unknown {
        detail: String,
    },
}

/// The reply to a confirmation that purchase data reached the card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum ConfirmReply {
    Confirmed,
    Unknown { detail: String },
}

/// What the card reader found after writing (or on restart, when checking) a purchase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum CardWriteResult {
    /// Read back and verified: the card holds our purchase sequence.
    Verified,
    /// Pulled out, write or verify failed, or no card: the purchase waits for 补写卡.
    NotWritten { detail: String },
}
