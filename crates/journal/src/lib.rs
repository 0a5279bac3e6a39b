//! The payment journal of the Yizhan kiosk: outbox and recovery point of the money side.
//!
//! Before any external call that can move money or change a card, the runtime commits the
//! payment's new state here, with its idempotency keys and absolute deadlines, and the commit is
//! fsync'd (`specs/payments.md` §8, rules R1, R2, R4). On start it calls
//! [`Journal::load_unfinished`] and resumes each payment from its stored state.
//!
//! The journal is deliberately independent of `kiosk-core`: it stores a state label, the
//! `terminal` and `parked` flags, the next deadline and an opaque JSON snapshot that the runtime
//! serialises. Every state change is also appended to `transitions`, an append-only table
//! (SQLite triggers refuse UPDATE and DELETE) whose rows form a SHA-256 hash chain ([`chain`]),
//! checked by [`Journal::verify_chain`].
//!
//! The bank card terminal's memory (its armed reversal and approved purchases, payments.md §3.2)
//! lives here too, bound to the payment it belongs to: see [`card_terminal`].
//!
//! Storage is SQLite through sqlx: WAL, `synchronous=FULL`, foreign keys, one connection, schema
//! migrations in `migrations/` embedded and run on open. For power-cut tests see [`crash`].

pub mod anchor;
pub mod card_terminal;
pub mod cash_box;
pub mod chain;
pub mod crash;
mod csv;
mod error;
mod journal;
mod model;
pub mod outbox;
mod reads;
mod trust;
mod validate;

pub use anchor::{Anchor, AnchorError, AnchorFile};
pub use card_terminal::{
    CardOpState, CardPurchase, CardRefund, CardReversal, CardReversalState, CardTerminalJournal,
};
pub use cash_box::{
    BoxCount, CashBoxJournal, Collection, IntakeRecord, NoteCustody, NoteRecord, StoredIntake, StoredNote,
};
pub use chain::{BreakReason, ChainBreak, ChainReport, GENESIS};
#[cfg(feature = "sim")]
pub use crash::{commits_in_this_process, power_cut, CRASH_ENV};
pub use error::JournalError;
pub use journal::Journal;
pub use model::{
    Durability, KeyRow, NewKey, NewPayment, PaymentRow, PrintKind, PrintRecord, PrintRow, Seq, StaffAction,
    StaffActionRow, TransitionRecord, TransitionRow,
};
pub use outbox::{CursorError, OutboxReader, ShipCursor, ShipMark};
pub use reads::{AuditBreak, ChainHead, DerivedRow, RowMismatch};
pub use trust::{Distrust, NewJournal, OpenPolicy, RowCheck, Started};
pub use validate::MAX_SUMMARY_BYTES;
