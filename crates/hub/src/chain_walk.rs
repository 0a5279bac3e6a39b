//! Central verification of a kiosk's hash chain: pure code, no database.
//!
//! The hub recomputes every shipped row's hash from the row's own fields and its predecessor's
//! hash (`journal::chain`), so a kiosk that edits, drops or re-orders rows, or ships a different
//! history under the same seq numbers, is caught here and not only by the kiosk's own check.

use fleet::wire::ShippedTransition;
use journal::chain::{chain_hash, ChainFields};

/// Where verification stands: every row up to `seq` checked, the last one's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub seq: i64,
    pub hash: String,
}

/// Why the chain stops holding at a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Rows `from..=to` never arrived: the kiosk's journal lacks them.
    Gap { from: i64, to: i64 },
    /// The row names another predecessor than the row before it.
    WrongPredecessor { seq: i64 },
    /// The row's fields do not hash to its hash: it was edited.
    EditedRow { seq: i64 },
}

impl Problem {
    /// The first transition it concerns.
    pub fn seq(&self) -> i64 {
        match self {
            Problem::Gap { from, .. } => *from,
            Problem::WrongPredecessor { seq } | Problem::EditedRow { seq } => *seq,
        }
    }

    /// The alert's kind and subject for this problem.
    pub fn alert_key(&self) -> (&'static str, String) {
        match self {
            Problem::Gap { from, to } => ("chain_gap", format!("seq {from}–{to}")),
            Problem::WrongPredecessor { seq } | Problem::EditedRow { seq } => {
                ("chain_break", format!("seq {seq}"))
            }
        }
    }

    /// For people.
    pub fn describe(&self) -> String {
        match self {
            Problem::Gap { from, to } if from == to => {
                format!("transition {from} is missing from the kiosk's journal")
            }
            Problem::Gap { from, to } => {
                format!("transitions {from} to {to} are missing from the kiosk's journal")
            }
            Problem::WrongPredecessor { seq } => {
                format!("transition {seq} does not follow the one before it (rows removed or re-ordered)")
            }
            Problem::EditedRow { seq } => format!("transition {seq} was changed after it was written"),
        }
    }
}

/// Walks `rows` (in seq order, each after `from.seq`) from `from` to their end, and returns
/// where it got to and every problem on the way. After a problem the walk goes on from the row
/// where it was found, that row's own hash taken as the next link: so each later edit or removal
/// is found on its own and not hidden behind the first, and the hub never stops checking a
/// kiosk that once had one.
pub fn walk<'a>(
    from: &Verified,
    rows: impl IntoIterator<Item = &'a ShippedTransition>,
) -> (Verified, Vec<Problem>) {
    let mut at = from.clone();
    let mut problems = Vec::new();
    for row in rows {
        if row.seq <= at.seq {
            continue;
        }
        if row.seq != at.seq + 1 {
            problems.push(Problem::Gap { from: at.seq + 1, to: row.seq - 1 });
        } else if row.prev_hash != at.hash {
            problems.push(Problem::WrongPredecessor { seq: row.seq });
        }
        if recompute(row) != row.hash {
            problems.push(Problem::EditedRow { seq: row.seq });
        }
        at = Verified { seq: row.seq, hash: row.hash.clone() };
    }
    (at, problems)
}

/// The hash `row` must have, from its fields and its stated predecessor.
pub fn recompute(row: &ShippedTransition) -> String {
    chain_hash(
        &row.prev_hash,
        &ChainFields {
            seq: row.seq,
            payment_id: &row.payment_id,
            at: row.at,
            from_state: &row.from_state,
            to_state: &row.to_state,
            event: &row.event,
            effects: &row.effects,
            snapshot: &row.snapshot,
        },
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use journal::GENESIS;

    /// A chain of `n` rows as a kiosk would ship them, built here from the spec's encoding.
    pub(crate) fn chain(n: i64) -> Vec<ShippedTransition> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut row = ShippedTransition {
                    seq,
                    payment_id: format!("K1-{:06}", (seq + 2) / 3),
                    at: 1_764_990_000_000 + seq,
                    from_state: "Quoted".into(),
                    to_state: "AwaitingChannel".into(),
                    event: "Confirm".into(),
                    effects: "[]".into(),
                    snapshot: format!("{{\"total_fen\":{}}}", seq * 100),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                row.hash = recompute(&row);
                prev = row.hash.clone();
                row
            })
            .collect()
    }

    fn start() -> Verified {
        Verified { seq: 0, hash: GENESIS.into() }
    }

    #[test]
    fn an_intact_chain_verifies_to_its_end_in_one_or_many_batches() {
        let rows = chain(10);
        assert_eq!(walk(&start(), &rows), (Verified { seq: 10, hash: rows[9].hash.clone() }, vec![]));
        let (half, none) = walk(&start(), &rows[..4]);
        assert_eq!(none, vec![]);
        assert_eq!(walk(&half, &rows[4..]).0.seq, 10);
        assert_eq!(walk(&half, &rows).0.seq, 10, "rows already verified are passed over");
    }

    #[test]
    fn an_edited_row_is_named_and_the_walk_goes_on_past_it() {
        let mut rows = chain(6);
        rows[3].snapshot = "{\"total_fen\":1}".into();
        let (at, problems) = walk(&start(), &rows);
        assert_eq!(at.seq, 6, "the rows after it still chain to its stated hash");
        assert_eq!(problems, vec![Problem::EditedRow { seq: 4 }]);
    }

    #[test]
    fn a_row_rehashed_after_an_edit_breaks_the_next_link() {
        let mut rows = chain(6);
        rows[3].snapshot = "{\"total_fen\":1}".into();
        rows[3].hash = recompute(&rows[3]);
        assert_eq!(walk(&start(), &rows).1, vec![Problem::WrongPredecessor { seq: 5 }]);
    }

    #[test]
    fn a_deleted_row_is_a_gap_named_by_its_seqs() {
        let mut rows = chain(8);
        rows.drain(2..4);
        let (at, problems) = walk(&start(), &rows);
        assert_eq!(at.seq, 8);
        assert_eq!(problems, vec![Problem::Gap { from: 3, to: 4 }]);
        assert_eq!(problems[0].describe(), "transitions 3 to 4 are missing from the kiosk's journal");
    }

    #[test]
    fn every_later_problem_is_found_after_the_first() {
        let mut rows = chain(20);
        rows[2].snapshot = "{\"total_fen\":1}".into();
        rows[9].effects = "[\"refund\"]".into();
        rows.remove(14);
        let (at, problems) = walk(&start(), &rows);
        assert_eq!(at.seq, 20);
        assert_eq!(
            problems,
            vec![
                Problem::EditedRow { seq: 3 },
                Problem::EditedRow { seq: 10 },
                Problem::Gap { from: 15, to: 15 }
            ]
        );
    }

    #[test]
    fn a_chain_started_from_another_history_breaks_at_its_first_row() {
        let rows = chain(3);
        let elsewhere = Verified { seq: 0, hash: "f".repeat(64) };
        assert_eq!(walk(&elsewhere, &rows).1, vec![Problem::WrongPredecessor { seq: 1 }]);
    }
}
