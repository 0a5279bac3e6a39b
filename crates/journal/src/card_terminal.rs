//! The bank card terminal's memory, kept in the journal beside the payments it belongs to
//! (payments.md §3.2, C1; migration `20261210000000_card_terminal_memory.sql`).
//!
//! - `card_reversals`: one reversal record per payment at most, armed (committed, fsync'd)
//!   before the sale frame leaves the kiosk, with its amount and when it was armed; then
//!   answered, refused or settled ([`CardReversalState`]). Rows are never deleted.
//! - `card_purchases` and `card_refunds`: the purchase the terminal approved (voucher, reference
//!   no., date, batch, auth code, amount), its void and its refunds. The approval itself and a
//!   refund's number and amount never change (triggers refuse it); rows are never deleted.
//!
//! No card number is stored, masked or not: only its last four digits, for the receipt
//! (migration `20261220000000_card_purchase_tail.sql`). Like every journal write, each write
//! here is one `BEGIN IMMEDIATE` transaction on the journal's single connection, under the
//! writer mutex, durable when it returns (`synchronous=FULL`), and counted for the power-cut tests
//! ([`crate::crash`]). These rows are the terminal's working memory, not part of the hash chain:
//! what the money did is journaled as the payment's own transitions.
//!
//! The journal knows nothing of the driver: `crates/yizhan` maps these rows to the driver's
//! `bankcard::TerminalMemory`.

use std::sync::Arc;

use serde::Serialize;
use sqlx::{FromRow, SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

use crate::crash;
use crate::error::{classify, DbFailure, JournalError};
use crate::journal::{Journal, Writer};

/// Longest `detail` stored with a reversal record, in bytes.
pub const MAX_CARD_DETAIL_BYTES: usize = 512;

/// Where a payment's card reversal record stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardReversalState {
    /// Nothing definite heard about the sale: no new card sale may be sent.
    Armed,
    /// The sale was approved or declined, or its reversal was answered.
    Answered,
    /// The terminal declined the reversal; kept for the payment's own retries and for staff.
    Refused,
    /// Closed by the payment's journaled outcome (staff, statements) without being sent.
    Settled,
}

impl CardReversalState {
    /// The label stored in `card_reversals.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            CardReversalState::Armed => "armed",
            CardReversalState::Answered => "answered",
            CardReversalState::Refused => "refused",
            CardReversalState::Settled => "settled",
        }
    }

    fn parse(text: &str) -> Result<Self, JournalError> {
        Ok(match text {
            "armed" => CardReversalState::Armed,
            "answered" => CardReversalState::Answered,
            "refused" => CardReversalState::Refused,
            "settled" => CardReversalState::Settled,
            _ => return Err(JournalError::InvalidRecord { reason: "unknown card reversal state" }),
        })
    }
}

/// Where a void or refund the terminal was sent stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardOpState {
    /// Sent (or about to be), no answer yet.
    InDoubt,
    /// Approved by the terminal.
    Done,
    /// Refused for good.
    Refused,
}

impl CardOpState {
    /// The label stored in `void_state` / `card_refunds.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            CardOpState::InDoubt => "in_doubt",
            CardOpState::Done => "done",
            CardOpState::Refused => "refused",
        }
    }

    fn parse(text: &str) -> Result<Self, JournalError> {
        Ok(match text {
            "in_doubt" => CardOpState::InDoubt,
            "done" => CardOpState::Done,
            "refused" => CardOpState::Refused,
            _ => return Err(JournalError::InvalidRecord { reason: "unknown card operation state" }),
        })
    }
}

/// A payment's card reversal record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CardReversal {
    /// The payment (order reference) whose sale it would reverse.
    pub payment_id: String,
    /// The sale's amount in fen.
    pub amount_fen: i64,
    /// When it was armed (ms).
    pub armed_at: i64,
    /// Where it stands.
    pub state: CardReversalState,
    /// The terminal's words, or why the kiosk settled it.
    pub detail: String,
    /// When it last changed (ms).
    pub updated_at: i64,
}

/// A refund of a card purchase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CardRefund {
    /// Our refund number (stable across retries).
    pub refund_no: String,
    /// Amount in fen.
    pub amount_fen: i64,
    /// Where it stands.
    pub state: CardOpState,
}

/// A card purchase the terminal approved, with its void and refunds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CardPurchase {
    /// The payment (order reference).
    pub payment_id: String,
    /// Approved amount in fen.
    pub amount_fen: i64,
    /// Voucher no. (voids).
    pub voucher: String,
    /// Reference no. (refunds, statements).
    pub ref_no: String,
    /// Transaction date `YYYYMMDD`.
    pub txn_date: String,
    /// Batch no.
    pub batch: String,
    /// Authorisation code.
    pub auth_code: String,
    /// The card's last four digits, for the receipt; `None` when the terminal sent no number.
    pub card_tail: Option<String>,
    /// The void, if one was sent.
    pub void_state: Option<CardOpState>,
    /// Refunds sent, in the order they were first recorded.
    pub refunds: Vec<CardRefund>,
}

#[derive(FromRow)]
struct ReversalRow {
    payment_id: String,
    amount_fen: i64,
    armed_at: i64,
    state: String,
    detail: String,
    updated_at: i64,
}

impl TryFrom<ReversalRow> for CardReversal {
    type Error = JournalError;

    fn try_from(r: ReversalRow) -> Result<Self, JournalError> {
        Ok(CardReversal {
            state: CardReversalState::parse(&r.state)?,
            payment_id: r.payment_id,
            amount_fen: r.amount_fen,
            armed_at: r.armed_at,
            detail: r.detail,
            updated_at: r.updated_at,
        })
    }
}

#[derive(FromRow)]
struct PurchaseRow {
    payment_id: String,
    amount_fen: i64,
    voucher: String,
    ref_no: String,
    txn_date: String,
    batch: String,
    auth_code: String,
    card_tail: Option<String>,
    void_state: Option<String>,
}

#[derive(FromRow)]
struct RefundRow {
    refund_no: String,
    amount_fen: i64,
    state: String,
}

const SELECT_REVERSAL: &str =
    "SELECT payment_id, amount_fen, armed_at, state, detail, updated_at FROM card_reversals";

/// The card terminal's tables of a [`Journal`]: a cheap handle sharing the journal's one
/// connection and writer mutex, so the driver can own one while the runtime owns the journal.
#[derive(Clone, Debug)]
pub struct CardTerminalJournal {
    pool: SqlitePool,
    writer: Arc<Mutex<Option<Writer>>>,
    crash_after: Option<u64>,
}

impl Journal {
    /// The bank card terminal's memory in this journal.
    pub fn card_terminal(&self) -> CardTerminalJournal {
        CardTerminalJournal {
            pool: self.pool.clone(),
            writer: self.writer.clone(),
            crash_after: self.crash_after,
        }
    }
}

fn payment_error(e: sqlx::Error, payment_id: &str) -> JournalError {
    match classify(&e) {
        DbFailure::ForeignKey => JournalError::UnknownPayment { id: payment_id.to_owned() },
        _ => JournalError::Database(e),
    }
}

impl CardTerminalJournal {
    /// Arms the reversal of `payment_id`'s card sale of `amount_fen`, at `at`, before the sale is
    /// sent: a new record, or the payment's closed one armed again. Durable when it returns.
    pub async fn arm(&self, payment_id: &str, amount_fen: i64, at: i64) -> Result<(), JournalError> {
        if amount_fen <= 0 {
            return Err(JournalError::InvalidRecord { reason: "a card sale's amount is positive" });
        }
        let _writes = self.writer.lock().await;
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO card_reversals (payment_id, amount_fen, armed_at, state, detail, updated_at)
             VALUES (?1, ?2, ?3, 'armed', '', ?3)
             ON CONFLICT (payment_id) DO UPDATE
                SET amount_fen = excluded.amount_fen, armed_at = excluded.armed_at, state = 'armed',
                    detail = '', updated_at = excluded.updated_at",
        )
        .bind(payment_id)
        .bind(amount_fen)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|e| payment_error(e, payment_id))?;
        tx.commit().await?;
        crash::after_commit(self.crash_after);
        Ok(())
    }

    /// Closes `payment_id`'s record as `state` (not [`CardReversalState::Armed`]) with `detail`,
    /// if it is armed or refused; an answered or settled record is left as it is. Returns
    /// whether a record changed. Durable when it returns.
    pub async fn close(
        &self,
        payment_id: &str,
        state: CardReversalState,
        detail: &str,
        at: i64,
    ) -> Result<bool, JournalError> {
        if state == CardReversalState::Armed {
            return Err(JournalError::InvalidRecord { reason: "a reversal is armed only by arm()" });
        }
        if detail.len() > MAX_CARD_DETAIL_BYTES {
            return Err(JournalError::InvalidRecord { reason: "card reversal detail too long" });
        }
        let _writes = self.writer.lock().await;
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        let done = sqlx::query(
            "UPDATE card_reversals SET state = ?2, detail = ?3, updated_at = ?4
              WHERE payment_id = ?1 AND state IN ('armed', 'refused')",
        )
        .bind(payment_id)
        .bind(state.as_str())
        .bind(detail)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        crash::after_commit(self.crash_after);
        Ok(done.rows_affected() == 1)
    }

    /// `payment_id`'s reversal record, in whatever state.
    pub async fn reversal(&self, payment_id: &str) -> Result<Option<CardReversal>, JournalError> {
        let sql = format!("{SELECT_REVERSAL} WHERE payment_id = ?1");
        let row: Option<ReversalRow> =
            sqlx::query_as(&sql).bind(payment_id).fetch_optional(&self.pool).await?;
        row.map(CardReversal::try_from).transpose()
    }

    /// Every armed reversal, oldest first (served by the partial index `card_reversals_armed`).
    pub async fn armed(&self) -> Result<Vec<CardReversal>, JournalError> {
        let sql = format!("{SELECT_REVERSAL} WHERE state = 'armed' ORDER BY armed_at, payment_id");
        let rows: Vec<ReversalRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(CardReversal::try_from).collect()
    }

    /// Every reversal record of any state, oldest first, for staff and tests.
    pub async fn reversals(&self) -> Result<Vec<CardReversal>, JournalError> {
        let sql = format!("{SELECT_REVERSAL} ORDER BY armed_at, payment_id");
        let rows: Vec<ReversalRow> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        rows.into_iter().map(CardReversal::try_from).collect()
    }

    /// The approved card purchase of `payment_id`, with its void and refunds.
    pub async fn purchase(&self, payment_id: &str) -> Result<Option<CardPurchase>, JournalError> {
        let mut conn = self.pool.acquire().await?;
        let row: Option<PurchaseRow> = sqlx::query_as(
            "SELECT payment_id, amount_fen, voucher, ref_no, txn_date, batch, auth_code, card_tail, void_state
               FROM card_purchases WHERE payment_id = ?1",
        )
        .bind(payment_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(p) = row else { return Ok(None) };
        let refunds = read_refunds(&mut conn, payment_id).await?;
        Ok(Some(CardPurchase {
            void_state: p.void_state.as_deref().map(CardOpState::parse).transpose()?,
            payment_id: p.payment_id,
            amount_fen: p.amount_fen,
            voucher: p.voucher,
            ref_no: p.ref_no,
            txn_date: p.txn_date,
            batch: p.batch,
            auth_code: p.auth_code,
            card_tail: p.card_tail,
            refunds,
        }))
    }

    /// Records `p` at `at`: the approval the first time (never changed afterwards), its void,
    /// and each refund (new ones added, known ones moved to their new state), in one commit. A
    /// refund recorded before and missing from `p` stays as it was. Durable when it returns.
    pub async fn put_purchase(&self, p: &CardPurchase, at: i64) -> Result<(), JournalError> {
        if p.amount_fen <= 0 || p.refunds.iter().any(|r| r.amount_fen <= 0 || r.refund_no.is_empty()) {
            return Err(JournalError::InvalidRecord {
                reason: "card amounts are positive, refunds numbered",
            });
        }
        let _writes = self.writer.lock().await;
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO card_purchases (payment_id, amount_fen, voucher, ref_no, txn_date, batch, auth_code,
                                         void_state, recorded_at, updated_at, card_tail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)
             ON CONFLICT (payment_id) DO UPDATE
                SET amount_fen = excluded.amount_fen, voucher = excluded.voucher, ref_no = excluded.ref_no,
                    txn_date = excluded.txn_date, batch = excluded.batch, auth_code = excluded.auth_code,
                    void_state = excluded.void_state, updated_at = excluded.updated_at,
                    card_tail = excluded.card_tail",
        )
        .bind(&p.payment_id)
        .bind(p.amount_fen)
        .bind(&p.voucher)
        .bind(&p.ref_no)
        .bind(&p.txn_date)
        .bind(&p.batch)
        .bind(&p.auth_code)
        .bind(p.void_state.map(CardOpState::as_str))
        .bind(at)
        .bind(&p.card_tail)
        .execute(&mut *tx)
        .await
        .map_err(|e| payment_error(e, &p.payment_id))?;
        for r in &p.refunds {
            sqlx::query(
                "INSERT INTO card_refunds (payment_id, refund_no, amount_fen, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT (payment_id, refund_no) DO UPDATE
                    SET amount_fen = excluded.amount_fen, state = excluded.state,
                        updated_at = excluded.updated_at",
            )
            .bind(&p.payment_id)
            .bind(&r.refund_no)
            .bind(r.amount_fen)
            .bind(r.state.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        crash::after_commit(self.crash_after);
        Ok(())
    }
}

async fn read_refunds(
    conn: &mut SqliteConnection,
    payment_id: &str,
) -> Result<Vec<CardRefund>, JournalError> {
    let rows: Vec<RefundRow> = sqlx::query_as(
        "SELECT refund_no, amount_fen, state FROM card_refunds WHERE payment_id = ?1 ORDER BY rowid",
    )
    .bind(payment_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(CardRefund {
                state: CardOpState::parse(&r.state)?,
                refund_no: r.refund_no,
                amount_fen: r.amount_fen,
            })
        })
        .collect()
}
