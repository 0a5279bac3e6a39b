//! The hash chain over `transitions`, in seq order.
//!
//! Each row stores `prev_hash` (the previous row's `hash`, or [`GENESIS`] for the first row) and
//!
//! ```text
//! hash = lowercase_hex(sha256(prev_hash || "\n" || canonical(row)))
//! ```
//!
//! where `canonical(row)` encodes, in this order, `seq`, `payment_id`, `at`, `from_state`,
//! `to_state`, `event`, `effects` and `snapshot`, each as
//!
//! ```text
//! <byte length of the UTF-8 value, decimal> ":" <value> "\n"
//! ```
//!
//! with `seq` and `at` written as decimal integers (a leading `-` if negative). The length prefix
//! makes the encoding unambiguous whatever the fields contain (newlines, colons, digits), so two
//! different rows can never encode to the same bytes.
//!
//! The chain makes an edited, inserted or deleted row visible to [`crate::Journal::verify_chain`].
//! Someone who rewrites the whole tail, hashes included, is not detected by the chain alone: anchor
//! it by printing or sending [`crate::Journal::chain_head`] elsewhere (e.g. on the daily report).

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

use crate::model::TransitionRow;

/// `prev_hash` of the very first row: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of a transition that the hash covers.
#[derive(Clone, Copy, Debug)]
pub struct ChainFields<'a> {
    /// Position in the chain.
    pub seq: i64,
    /// Order reference.
    pub payment_id: &'a str,
    /// Time (ms).
    pub at: i64,
    /// State before.
    pub from_state: &'a str,
    /// State after.
    pub to_state: &'a str,
    /// Event summary.
    pub event: &'a str,
    /// Effects summary.
    pub effects: &'a str,
    /// Snapshot JSON.
    pub snapshot: &'a str,
}

impl<'a> From<&'a TransitionRow> for ChainFields<'a> {
    fn from(r: &'a TransitionRow) -> Self {
        ChainFields {
            seq: r.seq,
            payment_id: &r.payment_id,
            at: r.at,
            from_state: &r.from_state,
            to_state: &r.to_state,
            event: &r.event,
            effects: &r.effects,
            snapshot: &r.snapshot,
        }
    }
}

/// Computes a row's chain hash from the previous row's hash and the row's fields.
pub fn chain_hash(prev_hash: &str, f: &ChainFields<'_>) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    let seq = f.seq.to_string();
    let at = f.at.to_string();
    for field in [&seq, f.payment_id, &at, f.from_state, f.to_state, f.event, f.effects, f.snapshot] {
        h.update(field.len().to_string().as_bytes());
        h.update(b":");
        h.update(field.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Result of [`crate::Journal::verify_chain`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Number of transition rows examined.
    pub rows: u64,
    /// The first place where the chain does not hold, if any.
    pub first_broken: Option<ChainBreak>,
}

impl ChainReport {
    /// True when every row checked out.
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// Where and why the chain breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// Seq of the first row that does not verify (for a truncated tail: the first missing seq).
    pub seq: i64,
    /// What is wrong there.
    pub reason: BreakReason,
}

/// Why a chain check failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum BreakReason {
    /// The row's content no longer matches its hash: it was edited.
    HashMismatch,
    /// The row does not point at the hash of the row before it.
    PrevHashMismatch,
    /// Rows are missing before this one (seqs are contiguous from 1 in an intact journal).
    Gap {
        /// The seq that should have come next.
        expected: i64,
    },
    /// Rows are missing at the end: the database once handed out seqs up to `last_issued`.
    TruncatedTail {
        /// Highest seq ever committed (the largest `payments.last_seq`).
        last_issued: i64,
    },
}

impl fmt::Display for BreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakReason::HashMismatch => f.write_str("row content does not match its hash (edited)"),
            BreakReason::PrevHashMismatch => f.write_str("prev_hash does not match the previous row"),
            BreakReason::Gap { expected } => write!(f, "rows missing: expected seq {expected}"),
            BreakReason::TruncatedTail { last_issued } => {
                write!(f, "rows missing at the end: seqs were issued up to {last_issued}")
            }
        }
    }
}

/// Checks rows one at a time, in seq order, remembering the first break. Pure, so the rules can
/// be tested without a database and the journal can feed it page by page.
#[derive(Debug)]
pub(crate) struct Verifier {
    rows: u64,
    last_seq: i64,
    last_hash: String,
    first_broken: Option<ChainBreak>,
}

impl Verifier {
    pub(crate) fn new() -> Self {
        Verifier { rows: 0, last_seq: 0, last_hash: GENESIS.to_owned(), first_broken: None }
    }

    pub(crate) fn feed(&mut self, row: &TransitionRow) {
        self.rows += 1;
        let reason = if row.seq != self.last_seq + 1 {
            Some(BreakReason::Gap { expected: self.last_seq + 1 })
        } else if row.prev_hash != self.last_hash {
            Some(BreakReason::PrevHashMismatch)
        } else if chain_hash(&row.prev_hash, &ChainFields::from(row)) != row.hash {
            Some(BreakReason::HashMismatch)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.break_at(row.seq, reason);
        }
        self.last_seq = row.seq;
        self.last_hash.clone_from(&row.hash);
    }

    /// Ends the check; `last_issued` is the highest seq the database ever handed out.
    pub(crate) fn finish(mut self, last_issued: i64) -> ChainReport {
        if last_issued > self.last_seq {
            self.break_at(self.last_seq + 1, BreakReason::TruncatedTail { last_issued });
        }
        ChainReport { rows: self.rows, first_broken: self.first_broken }
    }

    fn break_at(&mut self, seq: i64, reason: BreakReason) {
        if self.first_broken.is_none() {
            self.first_broken = Some(ChainBreak { seq, reason });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, prev: &str, event: &str) -> TransitionRow {
        let mut r = TransitionRow {
            seq,
            payment_id: "P1".into(),
            at: 1_000 + seq,
            from_state: "A".into(),
            to_state: "B".into(),
            event: event.into(),
            effects: String::new(),
            snapshot: "{}".into(),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        r.hash = chain_hash(prev, &ChainFields::from(&r));
        r
    }

    #[test]
    fn hash_is_lowercase_sha256_hex() {
        let h = chain_hash(GENESIS, &ChainFields::from(&row(1, GENESIS, "e")));
        assert_eq!(h.len(), 64);
        assert!(h.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    }

    #[test]
    fn encoding_is_unambiguous_when_fields_shift_text() {
        let mut a = row(1, GENESIS, "x\n1:y");
        a.effects = String::new();
        let mut b = row(1, GENESIS, "x");
        b.effects = "y".into();
        assert_ne!(chain_hash(GENESIS, &(&a).into()), chain_hash(GENESIS, &(&b).into()));
    }

    #[test]
    fn intact_chain_verifies() {
        let r1 = row(1, GENESIS, "a");
        let r2 = row(2, &r1.hash, "b");
        let mut v = Verifier::new();
        v.feed(&r1);
        v.feed(&r2);
        assert_eq!(v.finish(2), ChainReport { rows: 2, first_broken: None });
    }

    #[test]
    fn edit_gap_and_truncation_are_reported() {
        let r1 = row(1, GENESIS, "a");
        let mut r2 = row(2, &r1.hash, "b");
        r2.event = "changed".into();
        let mut v = Verifier::new();
        v.feed(&r1);
        v.feed(&r2);
        assert_eq!(v.finish(2).first_broken.map(|b| b.reason), Some(BreakReason::HashMismatch));

        let r3 = row(3, &r2.hash, "c");
        let mut v = Verifier::new();
        v.feed(&r1);
        v.feed(&r3);
        assert_eq!(
            v.finish(3).first_broken,
            Some(ChainBreak { seq: 3, reason: BreakReason::Gap { expected: 2 } })
        );

        let mut v = Verifier::new();
        v.feed(&r1);
        assert_eq!(
            v.finish(2).first_broken,
            Some(ChainBreak { seq: 2, reason: BreakReason::TruncatedTail { last_issued: 2 } })
        );
    }
}
