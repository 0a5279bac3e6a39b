//! The order book every channel simulator shares (payments.md §9): one state per order number,
//! single-use payment codes, the PIN wait evaluated lazily against the wall clock, reverse that
//! closes or gives back, refunds idempotent by their key, bounded by what was paid, and paid out
//! now or later (PROCESSING, then SUCCESS or a failure), and the **ledger** of what money the
//! channel moved. The channel modules only translate their wire format to and from it.

use crate::beijing;
use kiosk_core::{Fen, Ts};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One movement (or closing) recorded by a simulated channel: what tests and reconciliation
/// compare against the kiosk's journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub out_trade_no: String,
    /// The channel's transaction id (the refund's own id for refunds).
    pub channel_txn: String,
    pub kind: LedgerKind,
    /// Positive; zero for `Closed`.
    pub amount: Fen,
    /// Our refund number, for `Refund` entries.
    #[serde(default)]
    pub refund_no: Option<String>,
    pub at: Ts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// The customer was charged.
    Charge,
    /// A refund (by refund number) gave money back.
    Refund,
    /// A paid order was reversed/cancelled: the whole amount went back.
    Reversal,
    /// An unpaid (or unknown) order was closed: no money moved, and none can move later.
    Closed,
}

/// How the customer behaves on their phone after the scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pin {
    /// No PIN needed: paid at once.
    NotNeeded,
    /// PIN entered after this long (evaluated when anyone next looks).
    After(Duration),
    /// PIN never entered (or wrong every time): stays waiting.
    Never,
    /// The customer cancels the PIN dialog: the payment fails.
    Cancels,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OrderState {
    UserPaying,
    Success,
    PayError,
    /// Reversed/cancelled; `refunded` says whether it had been paid.
    Revoked {
        refunded: bool,
    },
    /// Paid, with one or more refunds.
    Refunded,
}

/// What a query sees.
#[derive(Clone, Debug)]
pub(crate) struct OrderView {
    pub state: OrderState,
    pub txn: String,
    pub amount: Fen,
    pub refunded: Fen,
    pub paid_at: Option<Ts>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PayOutcome {
    Paid {
        txn: String,
    },
    UserPaying {
        txn: String,
    },
    AuthCodeUsed,
    OrderPaid,
    OrderClosed,
    OrderReversed,
    BuyerMismatch,
    /// Same order number with other parameters (another amount).
    OutTradeNoUsed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReverseOutcome {
    /// Closed without money (unpaid, failed, or unknown until now).
    Closed,
    /// It had been paid; the money went back.
    GaveBack,
    /// Refunds were already made: reverse is no longer possible, only refunds.
    NotReversible,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RefundOutcome {
    /// Taken on (and, for a channel that books refunds at once, paid out). `fresh=false`: an
    /// idempotent replay of the same key, nothing new was done.
    Accepted {
        refund_txn: String,
        fresh: bool,
        total_refunded: Fen,
    },
    NotFound,
    NotPaid,
    Exceeds,
    /// The refund number was used for another order or amount.
    Mismatch,
}

#[derive(Debug)]
struct Order {
    amount: Fen,
    code: String,
    txn: String,
    state: OrderState,
    pin_at: Option<Instant>,
    paid_at: Option<Ts>,
    refunded: Fen,
}

/// How a refund the channel took on ends. WeChat pays refunds out later: the refund query says
/// `PROCESSING`, then `SUCCESS`, or `CHANGE` (the customer's card or balance could not take it)
/// or `REFUNDCLOSE` (closed); the acquirer's 退货 alike (origRespCode 05, then 00 or a failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundEnding {
    Success,
    Change,
    #[serde(rename = "REFUNDCLOSE")]
    RefundClose,
}

impl RefundEnding {
    /// WeChat's `refund_status` word.
    pub fn wire(self) -> &'static str {
        match self {
            RefundEnding::Success => "SUCCESS",
            RefundEnding::Change => "CHANGE",
            RefundEnding::RefundClose => "REFUNDCLOSE",
        }
    }
}

/// Where a refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefundState {
    /// Taken on, not paid out yet.
    Processing,
    Ended(RefundEnding),
}

/// When a refund the channel took on is paid out: after it has been seen `PROCESSING` by this
/// many refund queries *and* this long after it was taken on. Both zero: at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RefundTiming {
    pub pending_queries: u32,
    pub pending_for: Duration,
}

/// What a refund query sees.
#[derive(Clone, Debug)]
pub(crate) struct RefundView {
    pub out_trade_no: String,
    pub refund_no: String,
    pub refund_txn: String,
    pub amount: Fen,
    pub state: RefundState,
    /// When it was paid out, for `Ended(Success)`.
    pub settled_at: Option<Ts>,
}

#[derive(Debug)]
struct RefundRecord {
    out_trade_no: String,
    /// Our refund number, as the ledger and statement show it.
    refund_no: String,
    amount: Fen,
    refund_txn: String,
    state: RefundState,
    /// How it will end once due.
    ending: RefundEnding,
    taken_at: Instant,
    /// Refund queries that have seen it `PROCESSING`.
    queries: u32,
    settled_at: Option<Ts>,
}

#[derive(Debug, Default)]
struct Inner {
    orders: HashMap<String, Order>,
    used_codes: HashSet<String>,
    /// By the channel's idempotency key: the refund number (wallets), or the acquirer's
    /// `orderId` + `txnTime` of the 退货.
    refunds: HashMap<String, RefundRecord>,
    ledger: Vec<LedgerEntry>,
    seq: u64,
    timing: RefundTiming,
    /// Endings queued for the next refunds taken on (default: `Success`).
    endings: VecDeque<RefundEnding>,
    /// Seeded statement errors: fen added to the fee the statement states for an order's charge.
    fee_errors: HashMap<String, i64>,
}

/// The order book of one simulated channel. Clones share it.
#[derive(Clone, Debug)]
pub(crate) struct Book {
    inner: Arc<Mutex<Inner>>,
    /// Prefix of the transaction ids this channel hands out.
    txn_prefix: &'static str,
    /// Whether refunds are paid out later (WeChat, the acquirer) and so may end in a failure;
    /// otherwise (Alipay) a refund taken on is paid out at once, always.
    deferred_refunds: bool,
}

impl Book {
    pub fn new(txn_prefix: &'static str) -> Book {
        Book { inner: Arc::default(), txn_prefix, deferred_refunds: false }
    }

    /// A book whose refunds are paid out after `timing` and may be made to fail
    /// ([`Book::end_next_refund`]).
    pub fn with_deferred_refunds(txn_prefix: &'static str, timing: RefundTiming) -> Book {
        let book = Book { inner: Arc::default(), txn_prefix, deferred_refunds: true };
        book.lock().timing = timing;
        book
    }

    /// Locks the book and settles PINs and refunds that are due, so every reader sees
    /// wall-clock truth.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the book half-updated: every update is one statement.
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        let Inner { orders, ledger, refunds, timing, .. } = &mut *inner;
        for (out_trade_no, order) in orders.iter_mut() {
            if order.state == OrderState::UserPaying && order.pin_at.is_some_and(|at| at <= now) {
                charge(ledger, out_trade_no, order);
            }
        }
        for record in refunds.values_mut() {
            settle_if_due(record, *timing, orders, ledger);
        }
        inner
    }

    /// The next refund taken on ends this way instead of `Success` (deferred refunds only).
    pub fn end_next_refund(&self, ending: RefundEnding) {
        self.lock().endings.push_back(ending);
    }

    fn next_txn(&self, inner: &mut Inner) -> String {
        inner.seq += 1;
        let stamp = beijing::now().format("%Y%m%d%H%M%S");
        format!("{}{stamp}{:07}", self.txn_prefix, inner.seq)
    }

    pub fn pay(&self, out_trade_no: &str, code: &str, amount: Fen, pin: Pin) -> PayOutcome {
        let mut inner = self.lock();
        if let Some(order) = inner.orders.get(out_trade_no) {
            return match order.state {
                OrderState::Success | OrderState::Refunded => PayOutcome::OrderPaid,
                OrderState::PayError => PayOutcome::OrderClosed,
                OrderState::Revoked { .. } => PayOutcome::OrderReversed,
                OrderState::UserPaying if order.amount != amount => PayOutcome::OutTradeNoUsed,
                OrderState::UserPaying if order.code != code => PayOutcome::BuyerMismatch,
                OrderState::UserPaying => PayOutcome::UserPaying { txn: order.txn.clone() },
            };
        }
        if !inner.used_codes.insert(code.to_string()) {
            return PayOutcome::AuthCodeUsed;
        }
        let txn = self.next_txn(&mut inner);
        let mut order = Order {
            amount,
            code: code.to_string(),
            txn: txn.clone(),
            state: OrderState::UserPaying,
            pin_at: None,
            paid_at: None,
            refunded: Fen::ZERO,
        };
        let outcome = match pin {
            Pin::NotNeeded => {
                charge(&mut inner.ledger, out_trade_no, &mut order);
                PayOutcome::Paid { txn }
            }
            Pin::After(wait) => {
                order.pin_at = Some(Instant::now() + wait);
                PayOutcome::UserPaying { txn }
            }
            Pin::Never => PayOutcome::UserPaying { txn },
            Pin::Cancels => {
                order.state = OrderState::PayError;
                PayOutcome::UserPaying { txn }
            }
        };
        inner.orders.insert(out_trade_no.to_string(), order);
        outcome
    }

    /// The customer enters the PIN now. False if the order is not waiting for one (for example,
    /// it was reversed: a late PIN cannot succeed).
    pub fn enter_pin(&self, out_trade_no: &str) -> bool {
        let mut inner = self.lock();
        let Inner { orders, ledger, .. } = &mut *inner;
        match orders.get_mut(out_trade_no) {
            Some(order) if order.state == OrderState::UserPaying => {
                charge(ledger, out_trade_no, order);
                true
            }
            _ => false,
        }
    }

    pub fn query(&self, out_trade_no: &str) -> Option<OrderView> {
        let inner = self.lock();
        inner.orders.get(out_trade_no).map(|o| OrderView {
            state: o.state,
            txn: o.txn.clone(),
            amount: o.amount,
            refunded: o.refunded,
            paid_at: o.paid_at,
        })
    }

    /// The order number of a transaction id (UnionPay's `origQryId`).
    pub fn order_of_txn(&self, txn: &str) -> Option<String> {
        let inner = self.lock();
        inner.orders.iter().find(|(_, o)| o.txn == txn).map(|(no, _)| no.clone())
    }

    /// Reverse/cancel: idempotent. An order never seen is recorded as closed, so a pay request
    /// that arrives late fails with "order reversed".
    pub fn reverse(&self, out_trade_no: &str) -> ReverseOutcome {
        let mut inner = self.lock();
        let txn = self.next_txn(&mut inner);
        let Inner { orders, ledger, .. } = &mut *inner;
        let order = orders.entry(out_trade_no.to_string()).or_insert_with(|| Order {
            amount: Fen::ZERO,
            code: String::new(),
            txn,
            state: OrderState::PayError,
            pin_at: None,
            paid_at: None,
            refunded: Fen::ZERO,
        });
        let (outcome, entry) = match order.state {
            OrderState::Revoked { refunded: true } => return ReverseOutcome::GaveBack,
            OrderState::Revoked { refunded: false } => return ReverseOutcome::Closed,
            OrderState::Refunded => return ReverseOutcome::NotReversible,
            OrderState::Success => {
                order.state = OrderState::Revoked { refunded: true };
                (ReverseOutcome::GaveBack, (LedgerKind::Reversal, order.amount))
            }
            OrderState::UserPaying | OrderState::PayError => {
                order.state = OrderState::Revoked { refunded: false };
                (ReverseOutcome::Closed, (LedgerKind::Closed, Fen::ZERO))
            }
        };
        ledger.push(LedgerEntry {
            out_trade_no: out_trade_no.to_string(),
            channel_txn: order.txn.clone(),
            kind: entry.0,
            amount: entry.1,
            refund_no: None,
            at: beijing::now_ts(),
        });
        outcome
    }

    /// Takes on a refund of `amount` of `out_trade_no` under the idempotency `key` (`refund_no`
    /// is what the ledger shows). The same key again is a replay; the sum of all refunds never
    /// exceeds what was paid.
    pub fn refund(&self, out_trade_no: &str, key: &str, refund_no: &str, amount: Fen) -> RefundOutcome {
        let mut inner = self.lock();
        if let Some(record) = inner.refunds.get(key) {
            if record.out_trade_no != out_trade_no || record.amount != amount {
                return RefundOutcome::Mismatch;
            }
            let refund_txn = record.refund_txn.clone();
            let total_refunded = inner.orders.get(out_trade_no).map(|o| o.refunded).unwrap_or_default();
            return RefundOutcome::Accepted { refund_txn, fresh: false, total_refunded };
        }
        let refund_txn = self.next_txn(&mut inner);
        let Some(order) = inner.orders.get_mut(out_trade_no) else {
            return RefundOutcome::NotFound;
        };
        if !matches!(order.state, OrderState::Success | OrderState::Refunded) {
            return RefundOutcome::NotPaid;
        }
        if !amount.is_positive() || amount > order.amount - order.refunded {
            return RefundOutcome::Exceeds;
        }
        // Reserved now, so a second refund cannot exceed the payment while this one is on its way.
        order.refunded = order.refunded + amount;
        order.state = OrderState::Refunded;
        let total_refunded = order.refunded;
        let ending = match self.deferred_refunds {
            true => inner.endings.pop_front().unwrap_or(RefundEnding::Success),
            false => RefundEnding::Success,
        };
        let timing = if self.deferred_refunds { inner.timing } else { RefundTiming::default() };
        let mut record = RefundRecord {
            out_trade_no: out_trade_no.to_string(),
            refund_no: refund_no.to_string(),
            amount,
            refund_txn: refund_txn.clone(),
            state: RefundState::Processing,
            ending,
            taken_at: Instant::now(),
            queries: 0,
            settled_at: None,
        };
        let Inner { orders, ledger, refunds, .. } = &mut *inner;
        settle_if_due(&mut record, timing, orders, ledger);
        refunds.insert(key.to_string(), record);
        RefundOutcome::Accepted { refund_txn, fresh: true, total_refunded }
    }

    /// Where the refund under `key` stands; a query that finds it still processing counts
    /// towards [`RefundTiming::pending_queries`].
    pub fn refund_status(&self, key: &str) -> Option<RefundView> {
        let mut inner = self.lock();
        let record = inner.refunds.get_mut(key)?;
        if record.state == RefundState::Processing {
            record.queries += 1;
        }
        Some(RefundView {
            out_trade_no: record.out_trade_no.clone(),
            refund_no: record.refund_no.clone(),
            refund_txn: record.refund_txn.clone(),
            amount: record.amount,
            state: record.state,
            settled_at: record.settled_at,
        })
    }

    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.lock().ledger.clone()
    }

    /// Adds an entry the kiosk knows nothing about (a "channel-only" statement row).
    pub fn add_entry(&self, entry: LedgerEntry) {
        self.lock().ledger.push(entry);
    }

    /// Leaves the `kind` row of `out_trade_no` out of the statement (a row the channel lost).
    /// False if there is no such row.
    pub fn omit_entry(&self, out_trade_no: &str, kind: LedgerKind) -> bool {
        let mut inner = self.lock();
        let before = inner.ledger.len();
        inner.ledger.retain(|e| !(e.out_trade_no == out_trade_no && e.kind == kind));
        inner.ledger.len() != before
    }

    /// The statement will state the fee of `out_trade_no`'s charge off by `fen`.
    pub fn misstate_fee(&self, out_trade_no: &str, fen: i64) {
        self.lock().fee_errors.insert(out_trade_no.to_string(), fen);
    }

    /// The fee the statement states for a charge of `amount` at `ppm` parts per million, in
    /// thousandths of a fen rounded half up (the wallets' precision), seeded errors included.
    pub fn stated_fee_millifen(&self, out_trade_no: &str, amount: Fen, ppm: u32) -> i64 {
        let exact = (amount.0 * i64::from(ppm) + 500) / 1_000;
        exact + self.lock().fee_errors.get(out_trade_no).copied().unwrap_or(0) * 1_000
    }

    /// Changes the amount of the charge of `out_trade_no` as the statement will report it. False
    /// if there is no such charge.
    pub fn amend_charge(&self, out_trade_no: &str, amount: Fen) -> bool {
        let mut inner = self.lock();
        let mut found = false;
        for entry in inner.ledger.iter_mut() {
            if entry.out_trade_no == out_trade_no && entry.kind == LedgerKind::Charge {
                entry.amount = amount;
                found = true;
            }
        }
        found
    }
}

/// Ends a processing refund whose time has come: paid out (a ledger entry), or failed (its
/// amount is refundable again).
fn settle_if_due(
    record: &mut RefundRecord,
    timing: RefundTiming,
    orders: &mut HashMap<String, Order>,
    ledger: &mut Vec<LedgerEntry>,
) {
    let due = record.queries >= timing.pending_queries && record.taken_at.elapsed() >= timing.pending_for;
    if record.state != RefundState::Processing || !due {
        return;
    }
    record.state = RefundState::Ended(record.ending);
    if record.ending == RefundEnding::Success {
        let now = beijing::now_ts();
        record.settled_at = Some(now);
        ledger.push(LedgerEntry {
            out_trade_no: record.out_trade_no.clone(),
            channel_txn: record.refund_txn.clone(),
            kind: LedgerKind::Refund,
            amount: record.amount,
            refund_no: Some(record.refund_no.clone()),
            at: now,
        });
    } else if let Some(order) = orders.get_mut(&record.out_trade_no) {
        order.refunded = order.refunded - record.amount;
        if order.refunded == Fen::ZERO {
            order.state = OrderState::Success;
        }
    }
}

fn charge(ledger: &mut Vec<LedgerEntry>, out_trade_no: &str, order: &mut Order) {
    let now = beijing::now_ts();
    order.state = OrderState::Success;
    order.paid_at = Some(now);
    ledger.push(LedgerEntry {
        out_trade_no: out_trade_no.to_string(),
        channel_txn: order.txn.clone(),
        kind: LedgerKind::Charge,
        amount: order.amount,
        refund_no: None,
        at: now,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_single_use_and_resends_see_the_order() {
        let book = Book::new("T");
        assert!(matches!(book.pay("A0000001", "c1", Fen(100), Pin::NotNeeded), PayOutcome::Paid { .. }));
        assert_eq!(book.pay("A0000001", "c1", Fen(100), Pin::NotNeeded), PayOutcome::OrderPaid);
        assert_eq!(book.pay("A0000002", "c1", Fen(100), Pin::NotNeeded), PayOutcome::AuthCodeUsed);
        assert!(matches!(book.pay("A0000003", "c2", Fen(100), Pin::Never), PayOutcome::UserPaying { .. }));
        assert_eq!(book.pay("A0000003", "c3", Fen(100), Pin::Never), PayOutcome::BuyerMismatch);
        assert_eq!(book.pay("A0000003", "c2", Fen(200), Pin::Never), PayOutcome::OutTradeNoUsed);
    }

    #[test]
    fn reverse_closes_unpaid_gives_back_paid_and_blocks_late_pins() {
        let book = Book::new("T");
        book.pay("B0000001", "c1", Fen(100), Pin::Never);
        assert_eq!(book.reverse("B0000001"), ReverseOutcome::Closed);
        assert!(!book.enter_pin("B0000001"));
        book.pay("B0000002", "c2", Fen(250), Pin::NotNeeded);
        assert_eq!(book.reverse("B0000002"), ReverseOutcome::GaveBack);
        assert_eq!(book.reverse("B0000002"), ReverseOutcome::GaveBack);
        assert_eq!(book.reverse("B0000003"), ReverseOutcome::Closed);
        assert_eq!(book.pay("B0000003", "c3", Fen(1), Pin::NotNeeded), PayOutcome::OrderReversed);
        let kinds: Vec<_> = book.ledger().iter().map(|e| (e.kind, e.amount)).collect();
        assert_eq!(
            kinds,
            [
                (LedgerKind::Closed, Fen(0)),
                (LedgerKind::Charge, Fen(250)),
                (LedgerKind::Reversal, Fen(250)),
                (LedgerKind::Closed, Fen(0))
            ]
        );
    }

    #[test]
    fn refunds_are_idempotent_by_key_and_bounded_by_the_amount() {
        let book = Book::new("T");
        book.pay("C0000001", "c1", Fen(300), Pin::NotNeeded);
        assert!(matches!(
            book.refund("C0000001", "R1", "R1", Fen(200)),
            RefundOutcome::Accepted { fresh: true, .. }
        ));
        assert!(matches!(
            book.refund("C0000001", "R1", "R1", Fen(200)),
            RefundOutcome::Accepted { fresh: false, .. }
        ));
        assert_eq!(book.refund("C0000001", "R1", "R1", Fen(100)), RefundOutcome::Mismatch);
        assert_eq!(book.refund("C0000001", "R2", "R2", Fen(101)), RefundOutcome::Exceeds);
        assert_eq!(book.refund("C0000009", "R3", "R3", Fen(1)), RefundOutcome::NotFound);
        let refunds = book.ledger().iter().filter(|e| e.kind == LedgerKind::Refund).count();
        assert_eq!(refunds, 1);
    }

    #[test]
    fn deferred_refunds_are_processing_for_a_while_and_may_fail() {
        let timing = RefundTiming { pending_queries: 2, pending_for: Duration::ZERO };
        let book = Book::with_deferred_refunds("T", timing);
        book.pay("E0000001", "c1", Fen(300), Pin::NotNeeded);
        book.refund("E0000001", "R1", "R1", Fen(100));
        let state = |key: &str| book.refund_status(key).map(|v| v.state);
        assert_eq!(state("R1"), Some(RefundState::Processing));
        assert!(book.ledger().iter().all(|e| e.kind != LedgerKind::Refund), "not paid out yet");
        assert_eq!(state("R1"), Some(RefundState::Processing));
        assert_eq!(state("R1"), Some(RefundState::Ended(RefundEnding::Success)));
        assert_eq!(book.ledger().iter().filter(|e| e.kind == LedgerKind::Refund).count(), 1);
        // A failed refund gives nothing back, and its amount may be refunded again.
        book.end_next_refund(RefundEnding::Change);
        book.refund("E0000001", "R2", "R2", Fen(200));
        assert_eq!(book.refund("E0000001", "R3", "R3", Fen(1)), RefundOutcome::Exceeds, "reserved");
        for _ in 0..3 {
            book.refund_status("R2");
        }
        assert_eq!(state("R2"), Some(RefundState::Ended(RefundEnding::Change)));
        assert!(matches!(book.refund("E0000001", "R3", "R3", Fen(200)), RefundOutcome::Accepted { .. }));
        assert_eq!(state("R9"), None);
        // A book that pays out at once ignores queued endings.
        let now = Book::new("T");
        now.pay("E0000002", "c2", Fen(100), Pin::NotNeeded);
        now.end_next_refund(RefundEnding::RefundClose);
        now.refund("E0000002", "R1", "R1", Fen(100));
        assert_eq!(now.refund_status("R1").map(|v| v.state), Some(RefundState::Ended(RefundEnding::Success)));
    }

    #[test]
    fn a_pin_entered_later_is_seen_by_the_next_reader() {
        let book = Book::new("T");
        book.pay("D0000001", "c1", Fen(100), Pin::After(Duration::from_millis(0)));
        assert_eq!(book.query("D0000001").map(|v| v.state), Some(OrderState::Success));
    }
}
