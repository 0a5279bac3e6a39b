//! The journal's anchor: a small file beside (or, better, away from) the journal that remembers
//! which journal this kiosk keeps and how far its chain has reached, so that a journal that is
//! deleted, emptied, rolled back to an older copy or swapped for another kiosk's is noticed
//! instead of silently recreated.
//!
//! The file holds two fixed-size slots written in turn, each a line of JSON padded to
//! [`SLOT`] bytes and sealed with the SHA-256 of its content:
//!
//! ```text
//! slot = "YZANCHOR1 " json(Anchor) <spaces> " " hex(sha256(everything before this)) "\n"
//! ```
//!
//! A write goes to the slot the previous one did not use and is fsync'd, so a power cut in the
//! middle of a write leaves the other slot whole; reading takes the sealed slot with the highest
//! `generation`. The journal writes the anchor after every commit (the commit first: a journal
//! ahead of its anchor is normal after a power cut, one behind it is not).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes per slot.
pub const SLOT: usize = 512;
const MAGIC: &str = "YZANCHOR1 ";
const SEAL_HEX: usize = 64;

/// What the anchor remembers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The journal's identity, also stored inside the journal (`journal_meta`).
    pub journal_id: String,
    /// Highest seq known to be committed, and its hash.
    pub seq: i64,
    pub hash: String,
    /// Up to here the chain was verified at a start-up: the next start checks only what follows.
    pub verified_seq: i64,
    pub verified_hash: String,
    /// Counts writes; picks the slot and the newer of the two.
    pub generation: u64,
}

/// Why the anchor file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("cannot read or write the journal anchor {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the journal anchor {path} holds no intact slot (damaged or not an anchor file)")]
    Damaged { path: PathBuf },
}

/// An open anchor file.
#[derive(Debug)]
pub struct AnchorFile {
    path: PathBuf,
    file: File,
    current: Anchor,
}

impl AnchorFile {
    /// Reads the anchor at `path`; `Ok(None)` when there is no such file.
    pub fn open(path: &Path) -> Result<Option<AnchorFile>, AnchorError> {
        let io = |source| AnchorError::Io { path: path.to_path_buf(), source };
        let mut file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let current = bytes
            .chunks(SLOT)
            .filter_map(decode_slot)
            .max_by_key(|a| a.generation)
            .ok_or_else(|| AnchorError::Damaged { path: path.to_path_buf() })?;
        Ok(Some(AnchorFile { path: path.to_path_buf(), file, current }))
    }

    /// Creates a new anchor file (refusing to overwrite one) holding `anchor`.
    pub fn create(path: &Path, anchor: Anchor) -> Result<AnchorFile, AnchorError> {
        let io = |source| AnchorError::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(path).map_err(io)?;
        let mut created = AnchorFile { path: path.to_path_buf(), file, current: anchor.clone() };
        // Both slots, so that a torn first write still leaves one.
        created.write_slot(&anchor, 0)?;
        created.write_slot(&anchor, 1)?;
        sync_dir(path).map_err(io)?;
        Ok(created)
    }

    /// What the anchor holds.
    pub fn current(&self) -> &Anchor {
        &self.current
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a new chain tip (and, optionally, a new verified checkpoint); fsync'd before it
    /// returns.
    pub fn advance(
        &mut self,
        seq: i64,
        hash: &str,
        verified: Option<(i64, &str)>,
    ) -> Result<(), AnchorError> {
        let mut next = self.current.clone();
        next.seq = seq;
        next.hash = hash.to_owned();
        if let Some((verified_seq, verified_hash)) = verified {
            next.verified_seq = verified_seq;
            next.verified_hash = verified_hash.to_owned();
        }
        next.generation += 1;
        let slot = next.generation % 2;
        self.write_slot(&next, slot)?;
        self.current = next;
        Ok(())
    }

    fn write_slot(&mut self, anchor: &Anchor, slot: u64) -> Result<(), AnchorError> {
        let io = |source| AnchorError::Io { path: self.path.clone(), source };
        let bytes = encode_slot(anchor);
        self.file.seek(SeekFrom::Start(slot * SLOT as u64)).map_err(io)?;
        self.file.write_all(&bytes).map_err(io)?;
        self.file.sync_data().map_err(io)
    }
}

fn encode_slot(anchor: &Anchor) -> Vec<u8> {
    // An Anchor is plain strings and numbers: serialising it cannot fail.
    let json = serde_json::to_string(anchor).unwrap_or_default();
    let mut body = format!("{MAGIC}{json}");
    let width = SLOT - SEAL_HEX - 2;
    while body.len() < width {
        body.push(' ');
    }
    body.truncate(width);
    body.push(' ');
    let seal = hex::encode(Sha256::digest(body.as_bytes()));
    body.push_str(&seal);
    body.push('\n');
    body.into_bytes()
}

fn decode_slot(bytes: &[u8]) -> Option<Anchor> {
    if bytes.len() != SLOT || !bytes.starts_with(MAGIC.as_bytes()) || bytes[SLOT - 1] != b'\n' {
        return None;
    }
    let body = &bytes[..SLOT - SEAL_HEX - 1];
    let seal = std::str::from_utf8(&bytes[SLOT - SEAL_HEX - 1..SLOT - 1]).ok()?;
    if hex::encode(Sha256::digest(body)) != seal {
        return None;
    }
    let json = std::str::from_utf8(&body[MAGIC.len()..]).ok()?.trim_end();
    serde_json::from_str(json).ok()
}

/// fsyncs the folder holding `path`, so a newly created file's name survives a power cut.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => File::open(dir)?.sync_all(),
        None => File::open(".")?.sync_all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(seq: i64) -> Anchor {
        Anchor {
            journal_id: "J1".into(),
            seq,
            hash: format!("h{seq}"),
            verified_seq: 0,
            verified_hash: crate::GENESIS.into(),
            generation: 0,
        }
    }

    #[test]
    fn advances_survive_a_reopen_and_alternate_slots() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.anchor");
        let mut file = AnchorFile::create(&path, anchor(0)).unwrap();
        file.advance(1, "h1", None).unwrap();
        file.advance(2, "h2", Some((2, "h2"))).unwrap();
        let reopened = AnchorFile::open(&path).unwrap().unwrap();
        assert_eq!(reopened.current().seq, 2);
        assert_eq!(reopened.current().verified_seq, 2);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 * SLOT as u64);
    }

    #[test]
    fn a_torn_slot_falls_back_to_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.anchor");
        let mut file = AnchorFile::create(&path, anchor(0)).unwrap();
        file.advance(1, "h1", None).unwrap(); // slot 1
        file.advance(2, "h2", None).unwrap(); // slot 0
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[20] ^= 0x55; // tear slot 0
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(AnchorFile::open(&path).unwrap().unwrap().current().seq, 1);
        std::fs::write(&path, b"garbage").unwrap();
        assert!(matches!(AnchorFile::open(&path), Err(AnchorError::Damaged { .. })));
        assert!(AnchorFile::open(&dir.path().join("none")).unwrap().is_none());
    }

    #[test]
    fn create_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.anchor");
        AnchorFile::create(&path, anchor(0)).unwrap();
        assert!(AnchorFile::create(&path, anchor(0)).is_err());
    }
}
