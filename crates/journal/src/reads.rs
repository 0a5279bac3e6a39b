//! Reading the journal: recovery queries, history, chain verification and export.

use std::io::Write;

use serde::Serialize;

use crate::chain::{ChainReport, Verifier, GENESIS};
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

    /// Recomputes every hash of the chain in seq order and reports the first place it breaks:
    /// an edited row, a deleted row (a gap in seq, or a truncated tail), a row pointing at the
    /// wrong predecessor. Reads the database, not the cache.
    pub async fn verify_chain(&self) -> Result<ChainReport, JournalError> {
        let mut verifier = Verifier::new();
        let mut after = 0_i64;
        loop {
            let page = self.page_after(after).await?;
            for row in &page {
                verifier.feed(row);
            }
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => after = last.seq,
                _ => break,
            }
        }
        let mut conn = self.pool.acquire().await?;
        let last_issued = last_issued_seq(&mut conn).await?;
        Ok(verifier.finish(last_issued))
    }

    /// The newest row of the chain, read from the database.
    pub async fn chain_head(&self) -> Result<ChainHead, JournalError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM transitions ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(row
            .map(|(seq, hash)| ChainHead { seq, hash })
            .unwrap_or_else(|| ChainHead { seq: 0, hash: GENESIS.to_owned() }))
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
        Ok(sqlx::query_as(select_transitions!("WHERE seq > ?1 ORDER BY seq LIMIT ?2"))
            .bind(after)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?)
    }
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
