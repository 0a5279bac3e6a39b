//! Opening the kiosk's journal so that money can be trusted to it.
//!
//! A kiosk that has ever journaled must know it: the journal's identity and the tip of its chain
//! live in the anchor file ([`crate::anchor`]) too, so [`Journal::open_trusted`] refuses — and the
//! kiosk takes no money — when the journal is missing or emptied, rolled back to an older copy,
//! swapped for another journal, fails SQLite's `PRAGMA integrity_check`, breaks its hash chain
//! (checked from the last verified checkpoint, so a start on a year of payments stays fast), or
//! holds payment rows that disagree with their chained transitions. Only an explicit staff command
//! ([`Journal::init_new`], `yizhan journal init --new-kiosk`) starts a fresh journal, and
//! [`Journal::adopt`] re-anchors an intact journal whose anchor was lost; both are journaled as
//! staff actions with the reason.

use std::path::{Path, PathBuf};

use crate::anchor::{Anchor, AnchorError, AnchorFile};
use crate::chain::{ChainBreak, GENESIS};
use crate::error::JournalError;
use crate::journal::Journal;
use crate::model::StaffAction;
use crate::reads::{AuditBreak, DerivedRow, RowMismatch};

/// Whether a journal that does not exist yet may be started by opening it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenPolicy {
    /// A kiosk with neither journal nor anchor starts both (the demo and tests, whose data
    /// folders are new each time).
    StartIfNew,
    /// Nothing is ever started implicitly: a real kiosk starts its journal by staff command.
    ExistingOnly,
}

/// Who starts (or re-anchors) a journal, and why: journaled as a staff action in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJournal {
    pub kiosk_id: String,
    pub staff_id: String,
    pub reason: String,
    /// Milliseconds since the epoch.
    pub at: i64,
}

/// How the runtime reads a snapshot, so the journal can check the `payments` columns against
/// the chained transitions without knowing the domain types.
pub struct RowCheck<'a> {
    /// `(terminal, parked)` of a state label; `None` for a label the runtime does not know.
    pub flags_of: &'a (dyn Fn(&str) -> Option<(bool, bool)> + Sync),
    /// The columns a snapshot implies.
    pub derive: &'a (dyn Fn(&str) -> Result<DerivedRow, String> + Sync),
}

/// A journal that passed every start-up check.
#[derive(Debug)]
pub struct Started {
    pub journal: Journal,
    pub journal_id: String,
    /// Transitions checked now (from the last checkpoint).
    pub checked: u64,
    /// The journal was started by this open (nothing existed before).
    pub created: bool,
}

/// Why the journal cannot be trusted with money. Each says what was found and where.
#[derive(Debug, thiserror::Error)]
pub enum Distrust {
    #[error("the journal {path} is missing or empty, but its anchor {anchor} says this kiosk has journaled {seq} transitions; no money is taken until staff restore it or start a new one (`yizhan journal init --new-kiosk --reason ...`)")]
    Missing { path: PathBuf, anchor: PathBuf, seq: i64 },
    #[error("no journal at {path}: this kiosk's journal is started by staff (`yizhan journal init --new-kiosk --reason ...`)")]
    NotStarted { path: PathBuf },
    #[error("the journal {path} has no anchor at {anchor}: if it is this kiosk's own journal, staff re-anchor it (`yizhan journal init --adopt --reason ...`)")]
    AnchorMissing { path: PathBuf, anchor: PathBuf },
    #[error("the journal ends at transition {journal_seq}, but its anchor records {anchor_seq}: it was rolled back to an older copy or cut")]
    RolledBack { journal_seq: i64, anchor_seq: i64 },
    #[error("transition {seq} is not the one the anchor recorded: the journal was replaced or rewritten")]
    Replaced { seq: i64 },
    #[error("the journal {path} is journal {found:?}, but the anchor belongs to {expected:?}: another kiosk's journal?")]
    WrongJournal { path: PathBuf, expected: String, found: String },
    #[error("the journal database fails its integrity check: {detail}")]
    Corrupt { detail: String },
    #[error("the journal's hash chain is broken at {} place(s): {}", .breaks.len(), list_breaks(.breaks))]
    ChainBroken { breaks: Vec<ChainBreak> },
    #[error("{} payment row(s) disagree with their chained transitions; first {}: {}", .rows.len(), .rows[0].id, .rows[0].what)]
    RowsDisagree { rows: Vec<RowMismatch> },
    #[error("the journal's record of prints and staff actions is broken at {} place(s); first: {} row {}: {}", .breaks.len(), .breaks[0].table, .breaks[0].id, .breaks[0].reason)]
    AuditBroken { breaks: Vec<AuditBreak> },
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    #[error("{0}")]
    Journal(#[from] JournalError),
}

impl Journal {
    /// Opens the kiosk's journal at `path` with its anchor at `anchor_path` and checks it (see
    /// the module documentation). Call with the money lock held (the schema may be migrated).
    pub async fn open_trusted(
        path: &Path,
        anchor_path: &Path,
        policy: OpenPolicy,
        new: &NewJournal,
        rows: &RowCheck<'_>,
    ) -> Result<Started, Distrust> {
        let anchor = AnchorFile::open(anchor_path)?;
        let exists = std::fs::metadata(path).map(|m| m.len() > 0).unwrap_or(false);
        match (exists, anchor) {
            (false, Some(anchor)) => Err(Distrust::Missing {
                path: path.to_path_buf(),
                anchor: anchor_path.to_path_buf(),
                seq: anchor.current().seq,
            }),
            (false, None) if policy == OpenPolicy::StartIfNew => {
                let journal = Journal::start_new(path, anchor_path, new).await?;
                let journal_id = journal.journal_id().await?.unwrap_or_default();
                Ok(Started { journal, journal_id, checked: 0, created: true })
            }
            (false, None) => Err(Distrust::NotStarted { path: path.to_path_buf() }),
            (true, None) => {
                Err(Distrust::AnchorMissing { path: path.to_path_buf(), anchor: anchor_path.to_path_buf() })
            }
            (true, Some(anchor)) => Journal::check_existing(path, anchor, rows).await,
        }
    }

    async fn check_existing(
        path: &Path,
        mut anchor: AnchorFile,
        rows: &RowCheck<'_>,
    ) -> Result<Started, Distrust> {
        let journal = Journal::open(path).await.map_err(|e| Distrust::Corrupt { detail: describe(&e) })?;
        journal.integrity().await?;
        let expected = anchor.current().clone();
        let found = journal.journal_id().await?.unwrap_or_default();
        if found != expected.journal_id {
            return Err(Distrust::WrongJournal {
                path: path.to_path_buf(),
                expected: expected.journal_id,
                found,
            });
        }
        let head = journal.chain_head().await?;
        if head.seq < expected.seq {
            return Err(Distrust::RolledBack { journal_seq: head.seq, anchor_seq: expected.seq });
        }
        if expected.seq > 0 && journal.hash_at(expected.seq).await?.as_deref() != Some(expected.hash.as_str())
        {
            return Err(Distrust::Replaced { seq: expected.seq });
        }
        let report = journal.verify_chain_from(expected.verified_seq, &expected.verified_hash).await?;
        if !report.breaks.is_empty() {
            return Err(Distrust::ChainBroken { breaks: report.breaks });
        }
        let mismatches = journal.check_payment_rows(rows, Some(expected.verified_seq)).await?;
        if !mismatches.is_empty() {
            return Err(Distrust::RowsDisagree { rows: mismatches });
        }
        anchor.advance(head.seq, &head.hash, Some((head.seq, &head.hash)))?;
        journal.note_committed(head.seq);
        Ok(Started {
            journal: journal.with_anchor(anchor),
            journal_id: found,
            checked: report.rows,
            created: false,
        })
    }

    /// Checks the whole chain from its first row and every payment row against it; returns the
    /// rows checked. Start-up checks only what follows the last verified checkpoint (fast on a
    /// year of payments); this catches an edit to an older row, and runs before the first money
    /// of a process moves (see the kiosk runtime).
    pub async fn verify_whole(&self, rows: &RowCheck<'_>) -> Result<u64, Distrust> {
        let report = self.verify_chain().await?;
        if !report.breaks.is_empty() {
            return Err(Distrust::ChainBroken { breaks: report.breaks });
        }
        let mismatches = self.check_payment_rows(rows, None).await?;
        if !mismatches.is_empty() {
            return Err(Distrust::RowsDisagree { rows: mismatches });
        }
        // Prints and staff actions are chained too. Rows written before they were chained (an
        // upgraded journal) are reported by `journal verify`, not held against the kiosk.
        let audit: Vec<AuditBreak> =
            self.verify_audit().await?.into_iter().filter(|b| !b.reason.starts_with("unchained")).collect();
        if !audit.is_empty() {
            return Err(Distrust::AuditBroken { breaks: audit });
        }
        Ok(report.rows)
    }

    /// Starts a new journal and its anchor where neither exists.
    async fn start_new(path: &Path, anchor_path: &Path, new: &NewJournal) -> Result<Journal, Distrust> {
        let journal = Journal::open(path).await?;
        let journal_id = new_journal_id(path, new.at);
        journal.write_facts(&journal_id, new).await?;
        journal
            .anchored_by_staff(anchor_path, journal_id, 0, GENESIS.to_owned(), new, "journal_started")
            .await
    }

    /// Anchors the journal at its head (`seq`, `hash`, verified up to there), then journals the
    /// staff action that did it, who and why.
    async fn anchored_by_staff(
        self,
        anchor_path: &Path,
        journal_id: String,
        seq: i64,
        hash: String,
        new: &NewJournal,
        action: &str,
    ) -> Result<Journal, Distrust> {
        let anchor = AnchorFile::create(
            anchor_path,
            Anchor {
                journal_id,
                seq,
                hash: hash.clone(),
                verified_seq: seq,
                verified_hash: hash,
                generation: 0,
            },
        )?;
        let journal = self.with_anchor(anchor);
        journal
            .record_staff_action(&StaffAction {
                at: new.at,
                staff_id: new.staff_id.clone(),
                action: action.into(),
                payment_id: None,
                detail: new.reason.clone(),
            })
            .await?;
        Ok(journal)
    }

    /// Staff: sets whatever journal and anchor exist aside (renamed, never deleted) and starts a
    /// new journal, journaling who and why in it. Returns the new journal and where the old files
    /// went.
    pub async fn init_new(
        path: &Path,
        anchor_path: &Path,
        new: &NewJournal,
    ) -> Result<(Journal, Vec<PathBuf>), Distrust> {
        let mut kept = Vec::new();
        for file in
            [path.to_path_buf(), sibling(path, "-wal"), sibling(path, "-shm"), anchor_path.to_path_buf()]
        {
            if file.exists() {
                let aside = sibling(&file, &format!(".replaced-{}", new.at));
                std::fs::rename(&file, &aside)
                    .map_err(|source| AnchorError::Io { path: file.clone(), source })?;
                kept.push(aside);
            }
        }
        let journal = Journal::start_new(path, anchor_path, new).await?;
        Ok((journal, kept))
    }

    /// Staff: re-anchors an existing journal whose anchor is lost or damaged, after checking the
    /// whole journal (integrity, every transition, every payment row). The old anchor, if any, is
    /// set aside.
    pub async fn adopt(
        path: &Path,
        anchor_path: &Path,
        new: &NewJournal,
        rows: &RowCheck<'_>,
    ) -> Result<Journal, Distrust> {
        if !std::fs::metadata(path).map(|m| m.len() > 0).unwrap_or(false) {
            return Err(Distrust::NotStarted { path: path.to_path_buf() });
        }
        let journal = Journal::open(path).await.map_err(|e| Distrust::Corrupt { detail: describe(&e) })?;
        journal.integrity().await?;
        journal.verify_whole(rows).await?;
        let journal_id = match journal.journal_id().await? {
            Some(id) => id,
            None => {
                let id = new_journal_id(path, new.at);
                journal.write_facts(&id, new).await?;
                id
            }
        };
        if anchor_path.exists() {
            let aside = sibling(anchor_path, &format!(".replaced-{}", new.at));
            std::fs::rename(anchor_path, &aside)
                .map_err(|source| AnchorError::Io { path: anchor_path.to_path_buf(), source })?;
        }
        let head = journal.chain_head().await?;
        journal.anchored_by_staff(anchor_path, journal_id, head.seq, head.hash, new, "journal_adopted").await
    }

    /// SQLite's `PRAGMA integrity_check` as it reports: `["ok"]` when the file is sound.
    pub async fn integrity_report(&self) -> Result<Vec<String>, JournalError> {
        Ok(sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&self.pool).await?)
    }

    /// `PRAGMA integrity_check`: every page, index and constraint of the file.
    async fn integrity(&self) -> Result<(), Distrust> {
        let found = self.integrity_report().await.map_err(|e| Distrust::Corrupt { detail: describe(&e) })?;
        if found.len() == 1 && found[0] == "ok" {
            Ok(())
        } else {
            Err(Distrust::Corrupt { detail: found.join("; ") })
        }
    }

    /// The journal's identity (`journal_meta.journal_id`), if it has one.
    pub async fn journal_id(&self) -> Result<Option<String>, JournalError> {
        Ok(sqlx::query_scalar("SELECT value FROM journal_meta WHERE key = 'journal_id'")
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn write_facts(&self, journal_id: &str, new: &NewJournal) -> Result<(), JournalError> {
        let mut tx = crate::journal::begin_write(&self.pool).await?;
        for (key, value) in [
            ("journal_id", journal_id.to_owned()),
            ("kiosk_id", new.kiosk_id.clone()),
            ("created_at", new.at.to_string()),
        ] {
            sqlx::query("INSERT INTO journal_meta (key, value) VALUES (?1, ?2)")
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A journal id unique to this file and moment: no two kiosks, no two starts share one.
fn new_journal_id(path: &Path, at: i64) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(path.as_os_str().as_encoded_bytes());
    h.update(at.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(rand::random::<[u8; 16]>());
    hex::encode(&h.finalize()[..16])
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn describe(e: &JournalError) -> String {
    use std::error::Error;
    match e.source() {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// "transition 2 (row content does not match its hash (edited)), transition 5 (…)", at most ten.
fn list_breaks(breaks: &[ChainBreak]) -> String {
    let mut named: Vec<String> =
        breaks.iter().take(10).map(|b| format!("transition {} ({})", b.seq, b.reason)).collect();
    if breaks.len() > 10 {
        named.push(format!("and {} more", breaks.len() - 10));
    }
    named.join(", ")
}
