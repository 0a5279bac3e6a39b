//! Values going into and coming out of the journal.
//!
//! The journal does not know the domain types of `kiosk-core`: a payment is a state label, two
//! flags, a deadline and an opaque JSON snapshot that the runtime serialises and deserialises.
//! Times are milliseconds since the Unix epoch (UTC), supplied by the caller, so the journal reads
//! no clock and tests are deterministic. Money is integer fen.

use serde::Serialize;
use sqlx::FromRow;

use crate::error::JournalError;

/// Position of a transition in the journal's single, global, hash-chained sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Seq(pub i64);

/// An idempotency key to journal with a payment: created once, reused on every retry (rule R2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewKey {
    /// The key itself, e.g. an `out_trade_no`, `out_refund_no` or biller reference.
    pub key: String,
    /// What the key is for, e.g. `"pay"`, `"refund"`, `"writeoff"`.
    pub purpose: String,
}

impl NewKey {
    /// Convenience constructor.
    pub fn new(key: impl Into<String>, purpose: impl Into<String>) -> Self {
        NewKey { key: key.into(), purpose: purpose.into() }
    }
}

/// A payment to journal for the first time, with its first state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPayment {
    /// Order reference; the payment's identity.
    pub id: String,
    /// Which kiosk took the order.
    pub kiosk_id: String,
    /// When the order was made (ms); also the time of the first transition and of the keys.
    pub created_at: i64,
    /// Amount of the whole order in fen.
    pub total_fen: i64,
    /// Payment channel, if already known.
    pub channel: Option<String>,
    /// First state label, e.g. `"ORDERED"`.
    pub state: String,
    /// The state is final: nothing left to do for this payment.
    pub terminal: bool,
    /// Unfinished but not blocking new sales (SUSPENSE, AWAIT_CARD_WRITE).
    pub parked: bool,
    /// Absolute deadline of the state's timer (ms), so a restart continues the same timer (R4).
    pub next_deadline: Option<i64>,
    /// The runtime's serialised payment (JSON).
    pub snapshot: String,
    /// Short, redacted summary of the event that created the payment.
    pub event: String,
    /// Short summary of the effects about to be carried out.
    pub effects: String,
    /// Idempotency keys journaled in the same commit.
    pub keys: Vec<NewKey>,
}

/// A state change of an existing payment. The journal fills in `from_state` from the stored
/// payment row, so the chain always records what was really there before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionRecord {
    /// Order reference of the payment.
    pub payment_id: String,
    /// The state the writer believes the payment is in. When given and the journal holds another,
    /// nothing is written ([`crate::JournalError::StaleState`]): two writers never both move a
    /// payment from the same state (optimistic concurrency).
    pub expected_from: Option<String>,
    /// The seq of the payment's last transition as the writer read it. When given and the
    /// payment has moved since (even back to the same state), nothing is written
    /// ([`crate::JournalError::StaleState`]): for a writer in another process, such as
    /// `yizhan recon`, whose copy may be older than a state label can tell.
    pub expected_seq: Option<i64>,
    /// When the change happened (ms); also becomes the payment's `updated_at`.
    pub at: i64,
    /// New state label.
    pub to_state: String,
    /// The new state is final.
    pub terminal: bool,
    /// The new state is parked (unfinished, not blocking new sales).
    pub parked: bool,
    /// Absolute deadline of the new state's timer (ms); `None` clears it.
    pub next_deadline: Option<i64>,
    /// `Some` sets the channel; `None` keeps the stored one (a channel is chosen once, at scan).
    pub channel: Option<String>,
    /// The runtime's serialised payment after the change (JSON).
    pub snapshot: String,
    /// Short, redacted summary of the event.
    pub event: String,
    /// Short summary of the effects about to be carried out.
    pub effects: String,
    /// New idempotency keys (e.g. `out_refund_no` at REFUND_INTENT), journaled in the same commit.
    pub keys: Vec<NewKey>,
}

/// A payment as stored: its latest state.
#[derive(Clone, Debug, PartialEq, Eq, FromRow, Serialize)]
pub struct PaymentRow {
    /// Order reference.
    pub id: String,
    /// Kiosk that took the order.
    pub kiosk_id: String,
    /// When the order was made (ms).
    pub created_at: i64,
    /// Amount in fen.
    pub total_fen: i64,
    /// Payment channel, if known.
    pub channel: Option<String>,
    /// Latest state label.
    pub state: String,
    /// The state is final.
    pub terminal: bool,
    /// The state is parked.
    pub parked: bool,
    /// Absolute deadline of the state's timer (ms).
    pub next_deadline: Option<i64>,
    /// Latest serialised payment (JSON): the snapshot of transition `last_seq`, which is where the
    /// journal stores it.
    pub snapshot: String,
    /// Time of the latest transition (ms).
    pub updated_at: i64,
    /// Seq of the latest transition.
    pub last_seq: i64,
}

/// A [`PaymentRow`] as the join reads it: the snapshot is `None` when the transition `last_seq`
/// points at is missing.
#[derive(FromRow)]
pub(crate) struct JoinedPayment {
    id: String,
    kiosk_id: String,
    created_at: i64,
    total_fen: i64,
    channel: Option<String>,
    state: String,
    terminal: bool,
    parked: bool,
    next_deadline: Option<i64>,
    snapshot: Option<String>,
    updated_at: i64,
    last_seq: i64,
}

impl TryFrom<JoinedPayment> for PaymentRow {
    type Error = JournalError;

    fn try_from(j: JoinedPayment) -> Result<Self, JournalError> {
        let Some(snapshot) = j.snapshot else {
            return Err(JournalError::MissingTransition { id: j.id, seq: j.last_seq });
        };
        Ok(PaymentRow {
            id: j.id,
            kiosk_id: j.kiosk_id,
            created_at: j.created_at,
            total_fen: j.total_fen,
            channel: j.channel,
            state: j.state,
            terminal: j.terminal,
            parked: j.parked,
            next_deadline: j.next_deadline,
            snapshot,
            updated_at: j.updated_at,
            last_seq: j.last_seq,
        })
    }
}

/// One stored transition.
#[derive(Clone, Debug, PartialEq, Eq, FromRow, Serialize)]
pub struct TransitionRow {
    /// Position in the global chain.
    pub seq: i64,
    /// Order reference.
    pub payment_id: String,
    /// When it happened (ms).
    pub at: i64,
    /// State before; empty for a payment's first transition.
    pub from_state: String,
    /// State after.
    pub to_state: String,
    /// Short event summary.
    pub event: String,
    /// Short effects summary.
    pub effects: String,
    /// Serialised payment after the transition (JSON).
    pub snapshot: String,
    /// Hash of the previous row in the chain (64 zeros for the first row).
    pub prev_hash: String,
    /// This row's chain hash; see [`crate::chain`].
    pub hash: String,
}

/// A journaled idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, FromRow, Serialize)]
pub struct KeyRow {
    /// The key.
    pub key: String,
    /// The payment that owns it.
    pub payment_id: String,
    /// What it is for.
    pub purpose: String,
    /// When it was journaled (ms).
    pub created_at: i64,
}

/// Kind of printout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrintKind {
    /// The receipt of a finished payment.
    Receipt,
    /// A slip for an unfinished one (e.g. "keep this, refund pending").
    Slip,
    /// A repeated receipt (rule R6: printing may repeat, it never moves money).
    Reprint,
}

impl PrintKind {
    /// The label stored in the `prints.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            PrintKind::Receipt => "receipt",
            PrintKind::Slip => "slip",
            PrintKind::Reprint => "reprint",
        }
    }
}

/// A printout to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintRecord {
    /// Order reference of the payment printed for.
    pub payment_id: String,
    /// When (ms).
    pub at: i64,
    /// What was printed.
    pub kind: PrintKind,
    /// Printer outcome, e.g. `"ok"`, `"paper-out"`.
    pub outcome: String,
}

/// A recorded printout.
#[derive(Clone, Debug, PartialEq, Eq, FromRow, Serialize)]
pub struct PrintRow {
    /// Row id.
    pub id: i64,
    /// Order reference.
    pub payment_id: String,
    /// When (ms).
    pub at: i64,
    /// `receipt`, `slip` or `reprint`.
    pub kind: String,
    /// Printer outcome.
    pub outcome: String,
}

/// Something a staff member did at the kiosk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAction {
    /// When (ms).
    pub at: i64,
    /// Who (staff number, not a name).
    pub staff_id: String,
    /// What, e.g. `"resolve-suspense"`.
    pub action: String,
    /// The payment concerned, if any.
    pub payment_id: Option<String>,
    /// Short, redacted detail.
    pub detail: String,
}

/// A recorded staff action.
#[derive(Clone, Debug, PartialEq, Eq, FromRow, Serialize)]
pub struct StaffActionRow {
    /// Row id.
    pub id: i64,
    /// When (ms).
    pub at: i64,
    /// Who.
    pub staff_id: String,
    /// What.
    pub action: String,
    /// The payment concerned, if any.
    pub payment_id: Option<String>,
    /// Detail.
    pub detail: String,
}

/// The journal's durability settings as the database reports them on the live connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Durability {
    /// `PRAGMA journal_mode`; must be `wal`.
    pub journal_mode: String,
    /// `PRAGMA synchronous`; must be 2 (FULL), so every commit is fsync'd.
    pub synchronous: i64,
    /// `PRAGMA foreign_keys`; must be 1.
    pub foreign_keys: i64,
}
