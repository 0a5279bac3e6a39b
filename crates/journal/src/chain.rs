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
    let seq = f.seq.to_string();
    let at = f.at.to_string();
    fields_hash(
        prev_hash,
        &[&seq, f.payment_id, &at, f.from_state, f.to_state, f.event, f.effects, f.snapshot],
    )
}

/// The chain hash of any row given as its fields in a fixed order: the same length-prefixed
/// encoding as the transitions, used for the audit tables (prints, staff actions).
pub fn fields_hash<S: AsRef<str>>(prev_hash: &str, fields: &[S]) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    for field in fields {
        let field = field.as_ref();
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
    /// Every place where it does not hold, in seq order (at most [`MAX_BREAKS`]).
    pub breaks: Vec<ChainBreak>,
    /// Seq and hash of the last row examined: where a later check can start from.
    pub last_seq: i64,
    pub last_hash: String,
}

/// How many breaks a report lists; past that it says only that there were more.
pub const MAX_BREAKS: usize = 1000;

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
    /// The row cannot be read at all (a damaged page, a value of the wrong type).
    Unreadable {
        /// What SQLite said.
        cause: String,
    },
    /// The row an earlier check verified no longer has the hash it had then.
    CheckpointMismatch,
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
            BreakReason::Unreadable { cause } => write!(f, "row cannot be read: {cause}"),
            BreakReason::CheckpointMismatch => {
                f.write_str("row differs from what an earlier verification saw (rewritten)")
            }
        }
    }
}

/// Checks rows one at a time, in seq order, remembering every break. Pure, so the rules can be
/// tested without a database and the journal can feed it page by page.
#[derive(Debug)]
pub(crate) struct Verifier {
    rows: u64,
    last_seq: i64,
    last_hash: String,
    breaks: Vec<ChainBreak>,
}

impl Verifier {
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Verifier::starting_after(0, GENESIS)
    }

    /// A check that trusts everything up to `seq` (whose hash is `hash`): the incremental check
    /// from the last verified checkpoint.
    pub(crate) fn starting_after(seq: i64, hash: &str) -> Self {
        Verifier { rows: 0, last_seq: seq, last_hash: hash.to_owned(), breaks: Vec::new() }
    }

    /// A row that could not be read: the chain breaks there, and the next row is checked
    /// against nothing (its own hash only).
    pub(crate) fn unreadable(&mut self, seq: i64, cause: String) {
        self.rows += 1;
        self.break_at(seq, BreakReason::Unreadable { cause });
        self.last_seq = seq;
        self.last_hash.clear();
    }

    pub(crate) fn feed(&mut self, row: &TransitionRow) {
        self.rows += 1;
        let reason = if row.seq != self.last_seq + 1 {
            Some(BreakReason::Gap { expected: self.last_seq + 1 })
        } else if !self.last_hash.is_empty() && row.prev_hash != self.last_hash {
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
        ChainReport {
            rows: self.rows,
            first_broken: self.breaks.first().cloned(),
            breaks: self.breaks,
            last_seq: self.last_seq,
            last_hash: self.last_hash,
        }
    }

    pub(crate) fn break_at(&mut self, seq: i64, reason: BreakReason) {
        if self.breaks.len() < MAX_BREAKS {
            self.breaks.push(ChainBreak { seq, reason });
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
        let report = v.finish(2);
        assert!(report.is_intact() && report.breaks.is_empty() && report.rows == 2);
        assert_eq!(report.last_hash, r2.hash);
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

    #[test]
    fn every_break_is_reported_not_only_the_first() {
        let r1 = row(1, GENESIS, "a");
        let mut r2 = row(2, &r1.hash, "b");
        let r3 = row(3, &r2.hash, "c");
        r2.event = "edited".into();
        let r5 = row(5, &r3.hash, "e");
        let mut v = Verifier::new();
        for r in [&r1, &r2, &r3, &r5] {
            v.feed(r);
        }
        v.unreadable(6, "database disk image is malformed".into());
        let r7 = row(7, "whatever", "g");
        v.feed(&r7);
        let report = v.finish(8);
        let seqs: Vec<i64> = report.breaks.iter().map(|b| b.seq).collect();
        assert_eq!(seqs, vec![2, 5, 6, 8], "{report:?}");
        assert!(matches!(report.breaks[2].reason, BreakReason::Unreadable { .. }));
    }
}
