//! What the driver must remember across a power cut, and the [`TerminalMemory`] that keeps it.
//!
//! The driver owns no files. Whoever builds a [`crate::PaymentTerminal`] hands it a memory: the
//! kiosk's is its SQLite journal (`crates/journal`, module `card_terminal`, tables
//! `card_reversals`, `card_purchases`, `card_refunds`), so that the armed reversal and the
//! approved purchases live beside the payment they belong to, in one durable truth (architecture
//! rule 2). [`InProcessMemory`] keeps the same records in the process, for the driver's own
//! tests and tools; it is a stand-in for storage, not for a device, and forgets everything when
//! the process ends.
//!
//! What is remembered, per order (payments.md §3.2, C1):
//!
//! - **The reversal record** ([`ArmedReversal`]): written ([`TerminalMemory::arm`]) and durable
//!   **before** a sale frame leaves the kiosk, bound to that order, with its amount and the time
//!   it was armed. It stays [`ReversalState::Armed`] until a definite answer about that sale
//!   (approved or declined, from the sale's response or from QUERY_LAST naming the order), or
//!   until the order's own reversal is answered ([`ReversalState::Answered`]). A reversal the
//!   terminal declines is kept as [`ReversalState::Refused`]: never silently dropped.
//! - **The approved purchase** ([`CardTxn`]): voucher no., reference no., date, batch, auth code
//!   and amount, with its void and its refunds (and any still in doubt), for voids and refunds.
//!
//! No card number (masked or not) is ever remembered. Every method can fail; the driver turns a
//! failure into a definite "nothing was sent" failure or an unknown outcome, never ignores it.

use kiosk_core::{Fen, OrderRef};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

/// Where the reversal record of one order stands (the core's, where its rules live).
pub use kiosk_core::card_terminal::ReversalState;

/// A reversal record, armed before a sale: "if you do not hear that this sale was decided,
/// reverse it".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmedReversal {
    /// The order of the sale.
    pub order: OrderRef,
    /// Its amount.
    pub amount: Fen,
    /// When it was armed, milliseconds since the Unix epoch (UTC).
    pub armed_at: i64,
    /// Where it stands.
    pub state: ReversalState,
}

/// A refund of a card purchase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRecord {
    /// Our refund number (stable across retries).
    pub refund_no: String,
    /// Amount.
    pub amount: Fen,
    /// Where it stands.
    pub state: OpState,
}

/// State of a void or refund we sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpState {
    /// Sent (or about to be): the answer is not known yet.
    InDoubt,
    /// Approved by the terminal.
    Done,
    /// Refused for good.
    Refused,
}

impl OpState {
    /// The name used in the journal and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            OpState::InDoubt => "in_doubt",
            OpState::Done => "done",
            OpState::Refused => "refused",
        }
    }
}

/// An approved card purchase, with what voids and refunds need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardTxn {
    /// Our order.
    pub order: OrderRef,
    /// Approved amount.
    pub amount: Fen,
    /// Voucher no. (voids).
    pub voucher: String,
    /// Reference no. (refunds; reported as the channel transaction id).
    pub ref_no: String,
    /// Transaction date `YYYYMMDD` (refunds).
    pub date: String,
    /// Batch no.
    pub batch: String,
    /// Authorisation code.
    pub auth_code: String,
    /// The card's last four digits, for the receipt (never more of the number).
    pub card_tail: Option<String>,
    /// The void, if one was sent.
    pub void: Option<OpState>,
    /// Refunds sent.
    pub refunds: Vec<RefundRecord>,
}

impl CardTxn {
    /// Amount refunded so far (done refunds only).
    pub fn refunded(&self) -> Fen {
        Fen(self.refunds.iter().filter(|r| r.state == OpState::Done).map(|r| r.amount.0).sum())
    }
}

/// The memory could not be read or written. The driver never treats this as "nothing there".
#[derive(Debug, thiserror::Error)]
#[error("the bank card terminal's memory failed: {0}")]
pub struct MemoryError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl MemoryError {
    /// A failure described in words (for memories whose errors are not `Error` values).
    pub fn msg(text: impl Into<String>) -> MemoryError {
        MemoryError(text.into().into())
    }
}

/// What a [`crate::PaymentTerminal`] remembers across a power cut, bound to our order numbers.
///
/// Every write must be durable when its future completes (the kiosk's journal commits with
/// `synchronous=FULL`). Implementations are shared: the futures are `Send`.
pub trait TerminalMemory: Send + Sync {
    /// Every reversal record still [`ReversalState::Armed`], oldest first. The driver keeps this
    /// to at most one (no new sale while one is armed).
    fn armed(&self) -> impl Future<Output = Result<Vec<ArmedReversal>, MemoryError>> + Send;

    /// The reversal record of `order`, in whatever state.
    fn reversal(
        &self,
        order: &OrderRef,
    ) -> impl Future<Output = Result<Option<ArmedReversal>, MemoryError>> + Send;

    /// Arms (or re-arms) the reversal of `r.order`, durably, before the sale is sent.
    fn arm(&self, r: &ArmedReversal) -> impl Future<Output = Result<(), MemoryError>> + Send;

    /// Closes `order`'s record as `state` ([`ReversalState::Answered`] or
    /// [`ReversalState::Refused`]) with the terminal's words in `detail`, durably. A record that
    /// is absent or already answered is left as it is.
    fn disarm(
        &self,
        order: &OrderRef,
        state: ReversalState,
        detail: &str,
    ) -> impl Future<Output = Result<(), MemoryError>> + Send;

    /// The approved purchase of `order`, if we have one.
    fn txn(&self, order: &OrderRef) -> impl Future<Output = Result<Option<CardTxn>, MemoryError>> + Send;

    /// Saves `t` (its void and refunds included), durably.
    fn put_txn(&self, t: &CardTxn) -> impl Future<Output = Result<(), MemoryError>> + Send;
}

#[derive(Debug, Default)]
struct Records {
    reversals: BTreeMap<OrderRef, ArmedReversal>,
    txns: BTreeMap<OrderRef, CardTxn>,
    fail_writes: bool,
    fail_reads: bool,
}

/// The terminal's records kept in this process: for the driver's tests and tools. Clones share
/// the records, so a test can drop a terminal (a "restart") and build another on the same memory.
/// [`InProcessMemory::fail_writes`] / [`InProcessMemory::fail_reads`] make every later call fail,
/// to show that a memory failure is never taken for "nothing there".
#[derive(Clone, Debug, Default)]
pub struct InProcessMemory {
    records: Arc<Mutex<Records>>,
}

impl InProcessMemory {
    /// An empty memory.
    pub fn new() -> InProcessMemory {
        InProcessMemory::default()
    }

    fn lock(&self) -> MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// From now on every write fails (`true`) or succeeds again (`false`).
    pub fn fail_writes(&self, fail: bool) {
        self.lock().fail_writes = fail;
    }

    /// From now on every read fails (`true`) or succeeds again (`false`).
    pub fn fail_reads(&self, fail: bool) {
        self.lock().fail_reads = fail;
    }

    /// Every reversal record, whatever its state, by order.
    pub fn reversals(&self) -> Vec<ArmedReversal> {
        self.lock().reversals.values().cloned().collect()
    }

    fn read(&self) -> Result<MutexGuard<'_, Records>, MemoryError> {
        let records = self.lock();
        if records.fail_reads {
            return Err(MemoryError::msg("simulated read failure"));
        }
        Ok(records)
    }

    fn write(&self) -> Result<MutexGuard<'_, Records>, MemoryError> {
        let records = self.lock();
        if records.fail_writes {
            return Err(MemoryError::msg("simulated write failure"));
        }
        Ok(records)
    }
}

impl TerminalMemory for InProcessMemory {
    async fn armed(&self) -> Result<Vec<ArmedReversal>, MemoryError> {
        let records = self.read()?;
        let mut armed: Vec<ArmedReversal> =
            records.reversals.values().filter(|r| r.state == ReversalState::Armed).cloned().collect();
        armed.sort_by_key(|r| r.armed_at);
        Ok(armed)
    }

    async fn reversal(&self, order: &OrderRef) -> Result<Option<ArmedReversal>, MemoryError> {
        Ok(self.read()?.reversals.get(order).cloned())
    }

    async fn arm(&self, r: &ArmedReversal) -> Result<(), MemoryError> {
        let armed = ArmedReversal { state: ReversalState::Armed, ..r.clone() };
        self.write()?.reversals.insert(r.order.clone(), armed);
        Ok(())
    }

    async fn disarm(&self, order: &OrderRef, state: ReversalState, _detail: &str) -> Result<(), MemoryError> {
        let mut records = self.write()?;
        if let Some(r) = records.reversals.get_mut(order) {
            if r.state.is_open() {
                r.state = state;
            }
        }
        Ok(())
    }

    async fn txn(&self, order: &OrderRef) -> Result<Option<CardTxn>, MemoryError> {
        Ok(self.read()?.txns.get(order).cloned())
    }

    async fn put_txn(&self, t: &CardTxn) -> Result<(), MemoryError> {
        self.write()?.txns.insert(t.order.clone(), t.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(n: u32) -> OrderRef {
        OrderRef::new(format!("YZK12611230{n:05}")).unwrap()
    }

    fn armed(n: u32, at: i64) -> ArmedReversal {
        ArmedReversal { order: order(n), amount: Fen(7950), armed_at: at, state: ReversalState::Armed }
    }

    #[tokio::test]
    async fn a_clone_shares_the_records_and_a_refused_reversal_is_kept() {
        let memory = InProcessMemory::new();
        memory.arm(&armed(2, 20)).await.unwrap();
        memory.arm(&armed(1, 10)).await.unwrap();
        let restarted = memory.clone();
        let orders: Vec<OrderRef> = restarted.armed().await.unwrap().into_iter().map(|r| r.order).collect();
        assert_eq!(orders, [order(1), order(2)], "oldest first");

        restarted.disarm(&order(1), ReversalState::Refused, "terminal code 12").await.unwrap();
        assert_eq!(
            restarted.reversal(&order(1)).await.unwrap().map(|r| r.state),
            Some(ReversalState::Refused)
        );
        // Answered is final: a late "refused" does not reopen it.
        restarted.disarm(&order(2), ReversalState::Answered, "00").await.unwrap();
        restarted.disarm(&order(2), ReversalState::Refused, "12").await.unwrap();
        assert_eq!(memory.reversal(&order(2)).await.unwrap().map(|r| r.state), Some(ReversalState::Answered));
        assert!(memory.armed().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn failures_are_errors_not_missing_records() {
        let memory = InProcessMemory::new();
        memory.arm(&armed(1, 10)).await.unwrap();
        memory.fail_reads(true);
        assert!(memory.armed().await.is_err());
        assert!(memory.txn(&order(1)).await.is_err());
        memory.fail_reads(false);
        memory.fail_writes(true);
        assert!(memory.disarm(&order(1), ReversalState::Answered, "").await.is_err());
        assert_eq!(memory.armed().await.unwrap().len(), 1, "still armed");
    }
}
