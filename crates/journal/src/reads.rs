//! Reading the journal: recovery queries, history, chain verification and export.

use std::io::Write;

use serde::Serialize;
use sqlx::SqlitePool;

use crate::chain::{fields_hash, BreakReason, ChainReport, Verifier, GENESIS};
use crate::csv;
use crate::error::JournalError;
use crate::journal::{last_issued_seq, Journal};
use crate::model::{Durability, JoinedPayment, KeyRow, PaymentRow, PrintRow, StaffActionRow, TransitionRow};

/// Rows fetched per page when walking the whole chain, to bound memory on a long journal.
const PAGE: i64 = 512;

/// `SELECT` of a [`PaymentRow`]: the `payments` columns plus the snapshot of the payment's latest
/// transition, found by primary key through `last_seq`. A `LEFT JOIN`, so a payment whose latest
/// transition is missing is reported ([`JournalError::MissingTransition`]) rather than skipped.
macro_rules! select_payments {
    ($($rest:literal)*) => {
        concat!(
            "SELECT p.id, p.kiosk_id, p.created_at, p.total_fen, p.channel, p.state, p.terminal, p.parked, ",
            "p.next_deadline, t.snapshot, p.updated_at, p.last_seq FROM payments AS p ",
            "LEFT JOIN transitions AS t ON t.seq = p.last_seq AND t.payment_id = p.id ",
            $($rest),*
        )
    };
}

/// `SELECT` of every `transitions` column, in [`TransitionRow`] order.
macro_rules! select_transitions {
    ($($rest:literal)*) => {
        concat!(
            "SELECT seq, payment_id, at, from_state, to_state, event, effects, snapshot, prev_hash, hash ",
            "FROM transitions ",
            $($rest),*
        )
    };
}

/// The columns of a `payments` row as its latest chained snapshot implies them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedRow {
    pub kiosk_id: String,
    pub created_at: i64,
    pub total_fen: i64,
    pub channel: Option<String>,
    pub state: String,
}

/// A `payments` row that says something its chained transitions do not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowMismatch {
    /// Order reference.
    pub id: String,
    /// What differs, in words.
    pub what: String,
}

/// A print or staff-action row that breaks its table's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    /// `prints` or `staff_actions`.
    pub table: &'static str,
    pub id: i64,
    pub reason: String,
}

/// The newest row of the chain, to anchor it outside the kiosk (daily report, back office).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainHead {
    /// Seq of the last row; 0 for an empty journal.
    pub seq: i64,
    /// Its hash; [`GENESIS`] for an empty journal.
    pub hash: String,
}

impl Journal {
    /// One payment by order reference.
    pub async fn get(&self, id: &str) -> Result<Option<PaymentRow>, JournalError> {
        let row: Option<JoinedPayment> =
            sqlx::query_as(select_payments!("WHERE p.id = ?1")).bind(id).fetch_optional(&self.pool).await?;
        row.map(PaymentRow::try_from).transpose()
    }

    /// The greatest order number journaled that starts with `prefix` and is `len` characters
    /// long (one kiosk number's order numbers), if any: order numbers carry their time, so a
    /// start hands out only later ones. A cash intake holds its order number before (or
    /// without) a payment, so its number counts too: a customer who inserted nothing still
    /// used one.
    pub async fn greatest_payment_id(
        &self,
        prefix: &str,
        len: usize,
    ) -> Result<Option<String>, JournalError> {
        let query =
            "SELECT max(id) FROM (SELECT id FROM payments UNION ALL SELECT order_ref FROM cash_intakes) \
                     WHERE substr(id, 1, length(?1)) = ?1 AND length(id) = ?2";
        let len = i64::try_from(len).unwrap_or(i64::MAX);
        Ok(sqlx::query_scalar(query).bind(prefix).bind(len).fetch_one(&self.pool).await?)
    }

    /// The restart scan (payments.md §8): payments neither terminal nor parked, oldest first.
    /// Served by the partial index `payments_unfinished`.
    pub async fn load_unfinished(&self) -> Result<Vec<PaymentRow>, JournalError> {
        let rows: Vec<JoinedPayment> = sqlx::query_as(select_payments!(
            "WHERE p.terminal = 0 AND p.parked = 0 ORDER BY p.created_at, p.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(PaymentRow::try_from).collect()
    }

    /// Parked payments (SUSPENSE, AWAIT_CARD_WRITE) waiting for staff or reconciliation, oldest first.
    pub async fn load_parked(&self) -> Result<Vec<PaymentRow>, JournalError> {
        let rows: Vec<JoinedPayment> =
            sqlx::query_as(select_payments!("WHERE p.parked = 1 ORDER BY p.created_at, p.id"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(PaymentRow::try_from).collect()
    }

    /// A page of payments, newest first.
    pub async fn list(&self, limit: u32, offset: u32) -> Result<Vec<PaymentRow>, JournalError> {
        let rows: Vec<JoinedPayment> =
            sqlx::query_as(select_payments!("ORDER BY p.created_at DESC, p.id DESC LIMIT ?1 OFFSET ?2"))
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(PaymentRow::try_from).collect()
    }

    /// Every transition of one payment, in order.
    pub async fn transitions(&self, payment_id: &str) -> Result<Vec<TransitionRow>, JournalError> {
        Ok(sqlx::query_as(select_transitions!("WHERE payment_id = ?1 ORDER BY seq"))
            .bind(payment_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The idempotency keys of one payment, in the order they were journaled.
    pub async fn keys(&self, payment_id: &str) -> Result<Vec<KeyRow>, JournalError> {
        Ok(sqlx::query_as(
            "SELECT key, payment_id, purpose, created_at FROM idempotency_keys
              WHERE payment_id = ?1 ORDER BY created_at, rowid",
        )
        .bind(payment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Who owns a key: after [`JournalError::AlreadyRecorded`], tells the caller what to reuse.
    pub async fn find_key(&self, key: &str) -> Result<Option<KeyRow>, JournalError> {
        Ok(sqlx::query_as("SELECT key, payment_id, purpose, created_at FROM idempotency_keys WHERE key = ?1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Printouts made for a payment, in order.
    pub async fn prints(&self, payment_id: &str) -> Result<Vec<PrintRow>, JournalError> {
        Ok(sqlx::query_as(
            "SELECT id, payment_id, at, kind, outcome FROM prints WHERE payment_id = ?1 ORDER BY id",
        )
        .bind(payment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A page of staff actions, newest first.
    pub async fn staff_actions(&self, limit: u32, offset: u32) -> Result<Vec<StaffActionRow>, JournalError> {
        Ok(sqlx::query_as(
            "SELECT id, at, staff_id, action, payment_id, detail FROM staff_actions
              ORDER BY id DESC LIMIT ?1 OFFSET ?2",
        )
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The newest staff action named one of `actions`, if any.
    pub async fn latest_staff_action_of(
        &self,
        actions: &[&str],
    ) -> Result<Option<StaffActionRow>, JournalError> {
        let names = serde_json::to_string(actions).expect("a list of names is JSON");
        Ok(sqlx::query_as(
            "SELECT id, at, staff_id, action, payment_id, detail FROM staff_actions
              WHERE action IN (SELECT value FROM json_each(?1)) ORDER BY id DESC LIMIT 1",
        )
        .bind(names)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Recomputes every hash of the chain in seq order and reports the first place it breaks:
    /// an edited row, a deleted row (a gap in seq, or a truncated tail), a row pointing at the
    /// wrong predecessor. Reads the database, not the cache.
    pub async fn verify_chain(&self) -> Result<ChainReport, JournalError> {
        self.verify_chain_from(0, GENESIS).await
    }

    /// [`Journal::verify_chain`] from a checkpoint: the row `seq` must still have `hash`, and
    /// every row after it is checked. Every break is reported, and a row that cannot be read is
    /// named with SQLite's reason instead of ending the check.
    pub async fn verify_chain_from(&self, seq: i64, hash: &str) -> Result<ChainReport, JournalError> {
        let mut verifier = Verifier::starting_after(seq, hash);
        if seq > 0 && self.hash_at(seq).await.ok().flatten().as_deref() != Some(hash) {
            verifier.break_at(seq, BreakReason::CheckpointMismatch);
        }
        let mut after = seq;
        loop {
            let page = match self.page_after(after).await {
                Ok(page) => page,
                // A damaged page: read row by row to name each unreadable one.
                Err(_) => match self.rows_one_by_one(after, &mut verifier).await {
                    Some(last) => {
                        after = last;
                        continue;
                    }
                    None => break,
                },
            };
            for row in &page {
                verifier.feed(row);
            }
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => after = last.seq,
                _ => break,
            }
        }
        let mut conn = self.pool.acquire().await?;
        let last_issued = last_issued_seq(&mut conn).await.unwrap_or(0);
        Ok(verifier.finish(last_issued))
    }

    /// Reads the rows after `after` one at a time, up to a page's worth, feeding good rows and
    /// naming bad ones. Returns the last seq read, or `None` when there is nothing after `after`.
    async fn rows_one_by_one(&self, after: i64, verifier: &mut Verifier) -> Option<i64> {
        let max: i64 =
            sqlx::query_scalar("SELECT MAX(seq) FROM transitions").fetch_one(&self.pool).await.ok()?;
        if max <= after {
            return None;
        }
        let end = (after + PAGE).min(max);
        for seq in after + 1..=end {
            let row: Result<Option<TransitionRow>, _> = sqlx::query_as(select_transitions!("WHERE seq = ?1"))
                .bind(seq)
                .fetch_optional(&self.pool)
                .await;
            match row {
                Ok(Some(row)) => verifier.feed(&row),
                Ok(None) => {}
                Err(e) => verifier.unreadable(seq, e.to_string()),
            }
        }
        Some(end)
    }

    /// The hash of transition `seq`, if it exists.
    pub async fn hash_at(&self, seq: i64) -> Result<Option<String>, JournalError> {
        Ok(sqlx::query_scalar("SELECT hash FROM transitions WHERE seq = ?1")
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Checks every `payments` row against its chained transitions: the row's latest transition
    /// exists, belongs to it and is its newest; its state is that transition's; its flags are
    /// the state's. Rows changed after `since_seq` (all rows when `None`), and every unfinished
    /// or parked one, are also checked against the columns their snapshot implies (total,
    /// kiosk, time, channel), so a forged `total_fen` or `terminal` cannot pass.
    #[allow(clippy::type_complexity)]
    pub async fn check_payment_rows(
        &self,
        check: &crate::trust::RowCheck<'_>,
        since_seq: Option<i64>,
    ) -> Result<Vec<RowMismatch>, JournalError> {
        type Row = (
            String,
            String,
            i64,
            i64,
            Option<String>,
            String,
            bool,
            bool,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT p.id, p.kiosk_id, p.created_at, p.total_fen, p.channel, p.state, p.terminal, p.parked,
                    p.last_seq, t.payment_id, t.to_state, t.snapshot,
                    (SELECT MAX(seq) FROM transitions AS n WHERE n.payment_id = p.id)
               FROM payments AS p LEFT JOIN transitions AS t ON t.seq = p.last_seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut found = Vec::new();
        for (
            id,
            kiosk_id,
            created_at,
            total_fen,
            channel,
            state,
            terminal,
            parked,
            last_seq,
            owner,
            to_state,
            snapshot,
            newest,
        ) in rows
        {
            let mut what = Vec::new();
            if owner.as_deref() != Some(id.as_str()) {
                what.push(format!(
                    "its latest transition {last_seq} is missing or belongs to another payment"
                ));
            } else if newest != Some(last_seq) {
                what.push(format!(
                    "points at transition {last_seq}, but its newest is {}",
                    newest.unwrap_or(0)
                ));
            }
            if to_state.as_deref().is_some_and(|s| s != state) {
                what.push(format!("state {state} but its transition says {}", to_state.unwrap_or_default()));
            }
            match (check.flags_of)(&state) {
                None => what.push(format!("unknown state {state}")),
                Some(flags) if flags != (terminal, parked) => {
                    what.push(format!("flags terminal={terminal} parked={parked} do not fit state {state}"))
                }
                Some(_) => {}
            }
            let deep = since_seq.is_none_or(|since| last_seq > since) || !terminal || parked;
            if let (true, Some(snapshot)) = (deep, snapshot) {
                match (check.derive)(&snapshot) {
                    Err(e) => what.push(format!("snapshot unreadable: {e}")),
                    Ok(d) => {
                        if d.total_fen != total_fen {
                            what.push(format!("total_fen {total_fen} but the order totals {}", d.total_fen));
                        }
                        if d.kiosk_id != kiosk_id {
                            what.push(format!("kiosk_id {kiosk_id:?} but the order says {:?}", d.kiosk_id));
                        }
                        if d.created_at != created_at {
                            what.push(format!("created_at {created_at} but the order says {}", d.created_at));
                        }
                        if d.channel.is_some() && d.channel != channel {
                            what.push(format!("channel {channel:?} but the payment says {:?}", d.channel));
                        }
                        if d.state != state {
                            what.push(format!("state {state} but the snapshot is in {}", d.state));
                        }
                    }
                }
            }
            if !what.is_empty() {
                found.push(RowMismatch { id, what: what.join("; ") });
            }
        }
        Ok(found)
    }

    /// Recomputes the chains of the audit tables (prints, staff actions). Rows from before they
    /// were chained (empty hash) are reported as unchained.
    pub async fn verify_audit(&self) -> Result<Vec<AuditBreak>, JournalError> {
        let mut breaks = Vec::new();
        let prints: Vec<(i64, String, i64, String, String, String, String)> = sqlx::query_as(
            "SELECT id, payment_id, at, kind, outcome, prev_hash, hash FROM prints ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut prev = GENESIS.to_owned();
        for (id, payment_id, at, kind, outcome, prev_hash, hash) in prints {
            let fields = crate::journal::print_fields(id, &payment_id, &at.to_string(), &kind, &outcome);
            audit_row(&mut breaks, "prints", id, &mut prev, &prev_hash, &hash, &fields);
        }
        type StaffRow = (i64, i64, String, String, Option<String>, String, String, String);
        let staff: Vec<StaffRow> = sqlx::query_as(
            "SELECT id, at, staff_id, action, payment_id, detail, prev_hash, hash FROM staff_actions ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut prev = GENESIS.to_owned();
        for (id, at, staff_id, action, payment_id, detail, prev_hash, hash) in staff {
            let fields = crate::journal::staff_fields(
                id,
                &at.to_string(),
                &staff_id,
                &action,
                payment_id.as_deref().unwrap_or(""),
                &detail,
            );
            audit_row(&mut breaks, "staff_actions", id, &mut prev, &prev_hash, &hash, &fields);
        }
        Ok(breaks)
    }

    /// The newest row of the chain, read from the database.
    pub async fn chain_head(&self) -> Result<ChainHead, JournalError> {
        head(&self.pool).await
    }

    /// Writes every transition as CSV (header `payment_id,seq,at,from_state,to_state,event,hash`,
    /// `at` as ISO 8601 UTC with milliseconds), in seq order. Returns the number of data rows.
    /// Snapshots are left out: they may hold account numbers and belong to the journal only.
    pub async fn export_csv<W: Write>(&self, mut writer: W) -> Result<u64, JournalError> {
        csv::write_record(&mut writer, &csv::HEADER).map_err(JournalError::Export)?;
        let mut rows = 0_u64;
        let mut after = 0_i64;
        loop {
            let page = self.page_after(after).await?;
            for row in &page {
                csv::write_transition(&mut writer, row).map_err(JournalError::Export)?;
                rows += 1;
            }
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => after = last.seq,
                _ => break,
            }
        }
        writer.flush().map_err(JournalError::Export)?;
        Ok(rows)
    }

    /// The durability settings as the live connection reports them, for a start-up self-check.
    pub async fn durability(&self) -> Result<Durability, JournalError> {
        let mut conn = self.pool.acquire().await?;
        let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *conn).await?;
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await?;
        Ok(Durability { journal_mode, synchronous, foreign_keys })
    }

    async fn page_after(&self, after: i64) -> Result<Vec<TransitionRow>, JournalError> {
        transitions_after(&self.pool, after, PAGE).await
    }
}

/// Up to `limit` transitions after seq `after`, in seq order: the journal's own paging and the
/// outbox's batches ([`crate::OutboxReader`]), on whichever connection pool asks.
pub(crate) async fn transitions_after(
    pool: &SqlitePool,
    after: i64,
    limit: i64,
) -> Result<Vec<TransitionRow>, JournalError> {
    Ok(sqlx::query_as(select_transitions!("WHERE seq > ?1 ORDER BY seq LIMIT ?2"))
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// The newest row of the chain; seq 0 and [`GENESIS`] for an empty journal.
pub(crate) async fn head(pool: &SqlitePool) -> Result<ChainHead, JournalError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM transitions ORDER BY seq DESC LIMIT 1")
            .fetch_optional(pool)
            .await?;
    Ok(row
        .map(|(seq, hash)| ChainHead { seq, hash })
        .unwrap_or_else(|| ChainHead { seq: 0, hash: GENESIS.to_owned() }))
}

/// Checks one audit row against the previous one's hash; moves `prev` on.
fn audit_row(
    breaks: &mut Vec<AuditBreak>,
    table: &'static str,
    id: i64,
    prev: &mut String,
    prev_hash: &str,
    hash: &str,
    fields: &[String],
) {
    let reason = if hash.is_empty() {
        Some("unchained (written before audit rows were chained)".to_owned())
    } else if prev_hash != prev.as_str() {
        Some("prev_hash does not match the previous row (a row was removed or inserted)".to_owned())
    } else if fields_hash(prev_hash, fields) != hash {
        Some("row content does not match its hash (edited)".to_owned())
    } else {
        None
    };
    if let Some(reason) = reason {
        breaks.push(AuditBreak { table, id, reason });
    }
    *prev = hash.to_owned();
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    /// The plans of the joined reads: the outer loop on the payments index, the snapshot by the
    /// transitions primary key, no sort step.
    #[tokio::test]
    async fn joined_reads_use_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("journal.sqlite")).await.unwrap();
        for (sql, index) in [
            (
                select_payments!("WHERE p.terminal = 0 AND p.parked = 0 ORDER BY p.created_at, p.id"),
                "payments_unfinished",
            ),
            (select_payments!("WHERE p.parked = 1 ORDER BY p.created_at, p.id"), "payments_parked"),
            (
                select_payments!("ORDER BY p.created_at DESC, p.id DESC LIMIT ?1 OFFSET ?2"),
                "payments_created",
            ),
            (select_payments!("WHERE p.id = ?1"), "sqlite_autoindex_payments_1"),
        ] {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let plan = sqlx::query(&explain).fetch_all(&j.pool).await.unwrap();
            let detail: Vec<String> = plan.iter().map(|r| r.get::<String, _>("detail")).collect();
            let detail = detail.join("; ");
            assert!(detail.contains(index), "{sql}: {detail}");
            assert!(detail.contains("SEARCH t USING INTEGER PRIMARY KEY"), "{sql}: {detail}");
            assert!(!detail.contains("TEMP B-TREE"), "{sql}: {detail}");
        }
    }
}
