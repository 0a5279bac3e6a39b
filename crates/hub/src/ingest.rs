//! Taking in a batch of a kiosk's journal: stored idempotently, its chain verified centrally,
//! every contradiction kept as evidence and raised as an alert.
//!
//! One transaction per batch, with the kiosk's row locked (`FOR UPDATE`), so two hub instances
//! given the same kiosk's batches take them one after the other. What the hub does with each kind
//! of batch:
//!
//! | the batch                                          | the hub                                     |
//! |----------------------------------------------------|---------------------------------------------|
//! | rows after what it holds                           | stores them, walks the chain over them      |
//! | rows it holds already, same hashes                 | nothing (a resend after a lost answer)      |
//! | rows it holds already, other hashes                | keeps its copy, files a conflict, `chain_fork` |
//! | a kiosk head behind what it holds                  | `rollback` (an old copy of the journal)     |
//! | another journal id                                 | stores nothing, `journal_replaced`          |
//! | a cursor ahead of what it holds (hub restored)     | answers with what it holds: the kiosk resends |
//! | rows that skip seqs, or do not chain               | stores them, `chain_gap` / `chain_break` for each, walks on |

use fleet::wire::{ShipBatch, ShippedTransition};
use sqlx::{PgConnection, PgPool};

use crate::alerts::{kind, store as alerts};
use crate::chain_walk::{self, Verified};

/// The kiosk's central state, as the ingest reads and writes it.
#[derive(Debug, sqlx::FromRow)]
struct KioskChain {
    journal_id: Option<String>,
    stored_through: i64,
    verified_seq: i64,
    verified_hash: String,
    chain_state: String,
}

/// What one batch did, for the caller's log and the tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ingested {
    pub ack: i64,
    pub stored: u64,
    pub duplicates: u64,
    pub conflicts: u64,
}

/// Takes in `batch` from `kiosk_id`.
pub async fn ingest(pool: &PgPool, kiosk_id: &str, batch: &ShipBatch) -> Result<Ingested, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut kiosk: KioskChain = sqlx::query_as(
        "SELECT journal_id, stored_through, verified_seq, verified_hash, chain_state FROM kiosks WHERE id = $1 FOR UPDATE",
    )
    .bind(kiosk_id)
    .fetch_one(&mut *tx)
    .await?;
    let mut result = Ingested { ack: kiosk.stored_through, ..Ingested::default() };

    match kiosk.journal_id.as_deref() {
        None => {
            sqlx::query("UPDATE kiosks SET journal_id = $2 WHERE id = $1")
                .bind(kiosk_id)
                .bind(&batch.journal_id)
                .execute(&mut *tx)
                .await?;
            kiosk.journal_id = Some(batch.journal_id.clone());
        }
        Some(ours) if ours != batch.journal_id => {
            let detail = format!(
                "the kiosk now ships journal {} but the hub holds journal {ours}: the journal was replaced",
                batch.journal_id
            );
            alerts::raise(&mut tx, kiosk_id, kind::JOURNAL_REPLACED, &batch.journal_id, &detail).await?;
            tx.commit().await?;
            return Ok(result);
        }
        Some(_) => {}
    }

    sqlx::query("UPDATE kiosks SET reported_head_seq = $2 WHERE id = $1")
        .bind(kiosk_id)
        .bind(batch.head.seq)
        .execute(&mut *tx)
        .await?;
    if batch.head.seq < kiosk.stored_through {
        let detail = format!(
            "the kiosk's journal ends at transition {} but the hub holds {}: it was rolled back to an older copy",
            batch.head.seq, kiosk.stored_through
        );
        alerts::raise(&mut tx, kiosk_id, kind::ROLLBACK, "", &detail).await?;
    }

    let rows = sorted_unique(&batch.rows);
    let (held, fresh): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.seq <= kiosk.stored_through);
    result.conflicts = compare_held(&mut tx, kiosk_id, &batch.journal_id, &held).await?;
    result.duplicates = held.len() as u64 - result.conflicts;
    // The head the kiosk reports must match the hub's copy where the hub has that row.
    if batch.head.seq > 0
        && batch.head.seq <= kiosk.stored_through
        && held.iter().all(|r| r.seq != batch.head.seq)
    {
        result.conflicts += compare_head(&mut tx, kiosk_id, batch).await?;
    }

    if batch.after_seq > kiosk.stored_through {
        // The kiosk believes the hub holds more than it does (the hub's database was restored
        // from a backup): store nothing past the hole, answer with what is held.
        tx.commit().await?;
        return Ok(result);
    }

    if !fresh.is_empty() {
        result.stored = insert(&mut tx, kiosk_id, &fresh).await?;
        let last = fresh.last().map(|r| r.seq).unwrap_or(kiosk.stored_through);
        let start = Verified { seq: kiosk.verified_seq, hash: kiosk.verified_hash.clone() };
        // Rows stored while an older hub stood still at a break are walked first, once.
        let unwalked = if kiosk.verified_seq < kiosk.stored_through {
            held_rows(&mut tx, kiosk_id, kiosk.verified_seq, kiosk.stored_through).await?
        } else {
            Vec::new()
        };
        let (reached, problems) = chain_walk::walk(&start, unwalked.iter().chain(fresh.iter().copied()));
        raise_chain_alerts(&mut tx, kiosk_id, &problems).await?;
        if !problems.is_empty() || kiosk.chain_state != "intact" {
            // Broken while a chain alert is unacknowledged (`alerts::store::acknowledge`).
            let open = alerts::chain_alert_open(&mut tx, kiosk_id).await?;
            kiosk.chain_state = if open { "broken" } else { "intact" }.into();
        }
        kiosk.verified_seq = reached.seq;
        kiosk.verified_hash = reached.hash;
        kiosk.stored_through = last;
        sqlx::query(
            "UPDATE kiosks SET stored_through = $2, verified_seq = $3, verified_hash = $4, chain_state = $5 WHERE id = $1",
        )
        .bind(kiosk_id)
        .bind(kiosk.stored_through)
        .bind(kiosk.verified_seq)
        .bind(&kiosk.verified_hash)
        .bind(&kiosk.chain_state)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    result.ack = kiosk.stored_through;
    Ok(result)
}

/// Chain alerts one batch raises one by one; past them, one alert sums up the rest (a journal
/// rewritten throughout must not bury every other alert).
const CHAIN_ALERTS_PER_BATCH: usize = 20;

async fn raise_chain_alerts(
    conn: &mut PgConnection,
    kiosk_id: &str,
    problems: &[chain_walk::Problem],
) -> Result<(), sqlx::Error> {
    for problem in problems.iter().take(CHAIN_ALERTS_PER_BATCH) {
        let (alert_kind, subject) = problem.alert_key();
        alerts::raise(conn, kiosk_id, alert_kind, &subject, &problem.describe()).await?;
    }
    let rest = problems.get(CHAIN_ALERTS_PER_BATCH..).unwrap_or_default();
    if let (Some(first), Some(last)) = (rest.first(), rest.last()) {
        let subject = format!("seq {}–{}", first.seq(), last.seq());
        let detail = format!("{} more problems in the chain between transitions {subject}", rest.len());
        alerts::raise(conn, kiosk_id, kind::CHAIN_BREAK, &subject, &detail).await?;
    }
    Ok(())
}

/// The rows the hub holds after `after` through `through`, in seq order, as they were shipped.
async fn held_rows(
    conn: &mut PgConnection,
    kiosk_id: &str,
    after: i64,
    through: i64,
) -> Result<Vec<ShippedTransition>, sqlx::Error> {
    type Row = (i64, String, i64, String, String, String, String, String, String, String);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, payment_id, at_ms, from_state, to_state, event, effects, snapshot, prev_hash, hash \
         FROM transitions WHERE kiosk_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
    )
    .bind(kiosk_id)
    .bind(after)
    .bind(through)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, payment_id, at, from_state, to_state, event, effects, snapshot, prev_hash, hash)| {
            ShippedTransition {
                seq,
                payment_id,
                at,
                from_state,
                to_state,
                event,
                effects,
                snapshot,
                prev_hash,
                hash,
            }
        })
        .collect())
}

/// The hash of the row the hub holds at `seq`.
async fn held_hash(conn: &mut PgConnection, kiosk_id: &str, seq: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT hash FROM transitions WHERE kiosk_id = $1 AND seq = $2")
        .bind(kiosk_id)
        .bind(seq)
        .fetch_optional(conn)
        .await
}

/// The batch's rows in seq order, one per seq (a hostile batch may repeat or shuffle them).
fn sorted_unique(rows: &[ShippedTransition]) -> Vec<&ShippedTransition> {
    let mut sorted: Vec<&ShippedTransition> = rows.iter().collect();
    sorted.sort_by_key(|r| r.seq);
    sorted.dedup_by_key(|r| r.seq);
    sorted.retain(|r| r.seq > 0);
    sorted
}

/// Compares rows the hub holds already with the offered ones; files each difference. Returns
/// how many differed.
async fn compare_held(
    conn: &mut PgConnection,
    kiosk_id: &str,
    journal_id: &str,
    offered: &[&ShippedTransition],
) -> Result<u64, sqlx::Error> {
    if offered.is_empty() {
        return Ok(0);
    }
    let seqs: Vec<i64> = offered.iter().map(|r| r.seq).collect();
    let held: std::collections::HashMap<i64, String> = sqlx::query_as::<_, (i64, String)>(
        "SELECT seq, hash FROM transitions WHERE kiosk_id = $1 AND seq = ANY($2)",
    )
    .bind(kiosk_id)
    .bind(&seqs)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let mut conflicts = 0;
    for row in offered {
        match held.get(&row.seq) {
            Some(hash) if *hash == row.hash => {}
            Some(hash) => {
                conflicts += 1;
                conflict(conn, kiosk_id, journal_id, row.seq, hash, &row.hash, Some(row)).await?;
            }
            // Held through stored_through but missing: a gap the kiosk's journal also had.
            None => {}
        }
    }
    Ok(conflicts)
}

/// Compares the kiosk's reported head with the hub's row at that seq.
async fn compare_head(
    conn: &mut PgConnection,
    kiosk_id: &str,
    batch: &ShipBatch,
) -> Result<u64, sqlx::Error> {
    match held_hash(conn, kiosk_id, batch.head.seq).await? {
        Some(hash) if hash != batch.head.hash => {
            conflict(conn, kiosk_id, &batch.journal_id, batch.head.seq, &hash, &batch.head.hash, None)
                .await?;
            Ok(1)
        }
        _ => Ok(0),
    }
}

/// Files a row the kiosk offered that contradicts the hub's copy (kept whole when it came as a
/// row, so the other history's payments are not lost), and raises one `chain_fork` alert per
/// kiosk: a rewritten history is one incident however many rows it spans.
async fn conflict(
    conn: &mut PgConnection,
    kiosk_id: &str,
    journal_id: &str,
    seq: i64,
    held: &str,
    offered: &str,
    row: Option<&ShippedTransition>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chain_conflicts (kiosk_id, seq, held_hash, offered_hash, offered_row, journal_id) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(kiosk_id)
    .bind(seq)
    .bind(held)
    .bind(offered)
    .bind(row.map(|r| serde_json::to_value(r).expect("a row always serialises")))
    .bind(journal_id)
    .execute(&mut *conn)
    .await?;
    let detail = format!(
        "the kiosk's transition {seq} differs from the copy the hub received earlier: its history was rewritten \
         (every differing row is kept in chain_conflicts)"
    );
    alerts::raise(conn, kiosk_id, kind::CHAIN_FORK, "", &detail).await?;
    Ok(())
}

/// Inserts rows in one statement (arrays unnested); a row already there is left alone.
async fn insert(
    conn: &mut PgConnection,
    kiosk_id: &str,
    rows: &[&ShippedTransition],
) -> Result<u64, sqlx::Error> {
    macro_rules! column {
        ($field:ident) => {
            rows.iter().map(|r| r.$field.clone()).collect::<Vec<_>>()
        };
    }
    let done = sqlx::query(
        "INSERT INTO transitions (kiosk_id, seq, payment_id, at_ms, from_state, to_state, event, effects, snapshot, prev_hash, hash) \
         SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) \
         ON CONFLICT (kiosk_id, seq) DO NOTHING",
    )
    .bind(kiosk_id)
    .bind(column!(seq))
    .bind(column!(payment_id))
    .bind(column!(at))
    .bind(column!(from_state))
    .bind(column!(to_state))
    .bind(column!(event))
    .bind(column!(effects))
    .bind(column!(snapshot))
    .bind(column!(prev_hash))
    .bind(column!(hash))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
