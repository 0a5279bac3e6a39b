//! Shipping the journal to the hub: the outbox pattern.
//!
//! The journal already is the outbox: every transition is committed there first, in seq order,
//! hash-chained. The shipper reads what follows the hub's acknowledged mark on a read-only
//! connection of its own, sends it in batches, and stores the hub's answer as the new mark. A
//! payment never waits for any of it; a kiosk offline for days ships everything when the hub
//! answers again, in order, from exactly where the hub's answer says.

use std::path::Path;
use std::time::Duration;

use journal::{OutboxReader, ShipCursor, ShipMark};

use crate::client::{HubClient, HubError};
use crate::wire::{Head, ShipBatch, ShippedTransition};

/// Rows per batch: about 250 KiB of JSON before gzip, one request of a few milliseconds.
pub const BATCH_ROWS: u32 = 500;

/// Why a round of shipping stopped.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error("cannot read the journal: {0}")]
    Journal(#[from] journal::JournalError),
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error(transparent)]
    Cursor(#[from] journal::CursorError),
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShipRound {
    /// Rows sent (rows the hub already had count too: it answers with its own mark).
    pub rows_sent: u64,
    pub batches: u32,
    /// The hub holds every row up to here.
    pub stored_through: i64,
    /// The kiosk's own head when the round ended.
    pub head_seq: i64,
}

impl ShipRound {
    /// Nothing is left to ship.
    pub fn caught_up(&self) -> bool {
        self.stored_through >= self.head_seq
    }
}

/// Ships one kiosk's journal.
#[derive(Debug)]
pub struct Shipper {
    reader: OutboxReader,
    cursor: ShipCursor,
    client: HubClient,
    journal_id: String,
    /// The hub has answered once since the shipper opened: an empty round need not ask again.
    synced: std::sync::atomic::AtomicBool,
}

impl Shipper {
    /// A shipper for the journal file at `journal_path`, its mark kept beside it.
    pub async fn open(journal_path: &Path, client: HubClient) -> Result<Shipper, ShipError> {
        let reader = OutboxReader::open(journal_path).await?;
        let journal_id = reader.journal_id().await?;
        let mut cursor_path = journal_path.as_os_str().to_owned();
        cursor_path.push(".shipped");
        Ok(Shipper {
            reader,
            cursor: ShipCursor::at(Path::new(&cursor_path)),
            client,
            journal_id,
            synced: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The hub's last acknowledged mark, as stored.
    pub fn mark(&self) -> ShipMark {
        self.cursor.load(&self.journal_id)
    }

    /// Sends everything after the mark, batch by batch, until the hub holds the head or a call
    /// fails. Each answer is stored before the next batch is read.
    pub async fn ship_pending(&self) -> Result<ShipRound, ShipError> {
        let mut mark = self.mark();
        // A mark past this journal's end belongs to a newer copy of it (the journal was rolled
        // back): what this copy writes from its end on must still be offered.
        let head_seq = self.reader.head().await?.seq;
        if mark.acked_seq > head_seq {
            mark.acked_seq = head_seq;
            self.store_mark(&mark).await?;
        }
        let mut round = ShipRound { stored_through: mark.acked_seq, ..ShipRound::default() };
        loop {
            let head = self.reader.head().await?;
            round.head_seq = head.seq;
            let rows = self.reader.transitions_after(mark.acked_seq, BATCH_ROWS).await?;
            // An empty batch goes once after start: the answer tells the kiosk where the hub
            // stands (a hub restored from a backup asks for rows again) and the hub where the
            // kiosk's head is.
            let synced = self.synced.load(std::sync::atomic::Ordering::Relaxed);
            if rows.is_empty() && (round.batches > 0 || synced) {
                return Ok(round);
            }
            let batch = ShipBatch {
                journal_id: self.journal_id.clone(),
                head: Head { seq: head.seq, hash: head.hash },
                after_seq: mark.acked_seq,
                rows: rows.into_iter().map(ShippedTransition::from).collect(),
            };
            let sent = batch.rows.len() as u64;
            // The newest row this kiosk knows of: its head, or a row committed since.
            let known = batch.rows.last().map_or(batch.head.seq, |r| r.seq.max(batch.head.seq));
            let ack = self.client.ship(&batch).await?;
            round.rows_sent += sent;
            round.batches += 1;
            round.stored_through = ack.stored_through;
            self.synced.store(true, std::sync::atomic::Ordering::Relaxed);
            // The hub's answer wins, back as well as forward, but never past this journal's own
            // end: a journal rolled back to an older copy must still ship what it writes next
            // (the hub files it as a fork, whole), not skip it as "held".
            let new_mark = ack.stored_through.min(known);
            if new_mark != mark.acked_seq {
                mark.acked_seq = new_mark;
                self.store_mark(&mark).await?;
            } else if sent > 0 {
                // The hub kept nothing of a non-empty batch: it refuses this journal's rows
                // (a fork it has alerted on). Sending them again now would only repeat that.
                return Ok(round);
            }
            if mark.acked_seq >= round.head_seq && sent < u64::from(BATCH_ROWS) {
                return Ok(round);
            }
            if mark.acked_seq < ack.stored_through && sent > 0 && mark.acked_seq == known {
                // Everything this journal has was offered; the hub holds more (a rollback it has
                // alerted on). Wait for new rows.
                return Ok(round);
            }
        }
    }

    /// Stores the mark off the async threads (a rename and two fsyncs).
    async fn store_mark(&self, mark: &ShipMark) -> Result<(), ShipError> {
        let (cursor, mark) = (self.cursor.clone(), mark.clone());
        tokio::task::spawn_blocking(move || cursor.store(&mark))
            .await
            .expect("storing the mark does not panic")
            .map_err(ShipError::from)
    }

    /// Ships for ever: every `every` when caught up, sooner while rows are waiting, backing off
    /// up to five minutes while the hub does not answer. Stops when `stop` turns true.
    pub async fn run(self, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut backoff = every;
        loop {
            let wait = match self.ship_pending().await {
                Ok(round) => {
                    backoff = every;
                    if round.rows_sent > 0 {
                        tracing::debug!(
                            rows = round.rows_sent,
                            through = round.stored_through,
                            "journal shipped"
                        );
                    }
                    every
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_s = backoff.as_secs(), "journal shipping failed; retrying later");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(300));
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}
