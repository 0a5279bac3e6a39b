//! What the driver must remember across a power cut, in a data directory it owns.
//!
//! ```text
//! <data_dir>/armed-reversal.json     the armed reversal (at most one), payments.md §3.2 / C1
//! <data_dir>/txn/<ORDER>.json        one approved card purchase: voucher no., reference no.,
//!                                    date, batch; its void and refunds (and any still in doubt)
//! ```
//!
//! Every write goes to a temporary file, is fsync'd, renamed over the target, and the directory
//! is fsync'd: after a power cut a file is either the old or the new version, never half. The
//! armed reversal is written **before** the sale frame leaves the kiosk, and removed only on a
//! definite answer about that sale. The kiosk's journal stays the master record (architecture
//! rule 2): [`crate::PaymentTerminal::armed_reversal`] shows this file so the runtime can journal
//! and report it. No card number (masked or not) is ever written here.

use kiosk_core::{Fen, OrderRef};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A reversal armed before a sale: "if you do not hear that this sale was decided, reverse it
/// before the next transaction".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmedReversal {
    /// The order of the sale.
    pub order: OrderRef,
    /// Its amount.
    pub amount: Fen,
    /// When it was armed (RFC 3339, kiosk clock), for staff.
    pub armed_at: String,
}

/// A refund of a card purchase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    /// Our refund number (stable across retries).
    pub refund_no: String,
    /// Amount.
    pub amount: Fen,
    /// Where it stands.
    pub state: OpState,
}

/// State of a void or refund we sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    /// Sent (or about to be): the answer is not known yet.
    InDoubt,
    /// Approved by the terminal.
    Done,
    /// Refused for good.
    Refused,
}

/// An approved card purchase, with what voids and refunds need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardTxn {
    /// Our order.
    pub order: OrderRef,
    /// Approved amount.
    pub amount: Fen,
    /// Voucher no. (voids).
    pub voucher: String,
    /// Reference no. (refunds; reported as the channel transaction id).
    pub ref_no: String,
    /// Transaction date `YYYYMMDD` (refunds).
    pub date: String,
    /// Batch no.
    pub batch: String,
    /// Authorisation code.
    pub auth_code: String,
    /// The void, if one was sent.
    #[serde(default)]
    pub void: Option<OpState>,
    /// Refunds sent.
    #[serde(default)]
    pub refunds: Vec<RefundRecord>,
}

impl CardTxn {
    /// Amount refunded so far (done refunds only).
    pub fn refunded(&self) -> Fen {
        Fen(self.refunds.iter().filter(|r| r.state == OpState::Done).map(|r| r.amount.0).sum())
    }
}

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// File system error.
    #[error("bank-card data directory {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The reason.
        #[source]
        source: io::Error,
    },
    /// A file is not what we wrote.
    #[error("bank-card record {path} is corrupt: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The reason.
        #[source]
        source: serde_json::Error,
    },
}

/// The driver's files.
#[derive(Clone, Debug)]
pub struct TxnStore {
    dir: PathBuf,
}

const ARMED: &str = "armed-reversal.json";

impl TxnStore {
    /// Opens (creating) the store in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<TxnStore, StoreError> {
        let dir = dir.into();
        let txn = dir.join("txn");
        fs::create_dir_all(&txn).map_err(|source| StoreError::Io { path: txn.clone(), source })?;
        Ok(TxnStore { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
        move |source| StoreError::Io { path: path.to_path_buf(), source }
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let tmp = path.with_extension("tmp");
        let mut f =
            OpenOptions::new().write(true).create(true).truncate(true).open(&tmp).map_err(Self::io(&tmp))?;
        f.write_all(bytes).map_err(Self::io(&tmp))?;
        f.sync_all().map_err(Self::io(&tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(Self::io(path))?;
        Self::sync_dir(path.parent().unwrap_or(&self.dir))
    }

    fn sync_dir(dir: &Path) -> Result<(), StoreError> {
        File::open(dir).and_then(|d| d.sync_all()).map_err(Self::io(dir))
    }

    fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, StoreError> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StoreError::Corrupt { path: path.to_path_buf(), source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io { path: path.to_path_buf(), source }),
        }
    }

    fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
        // Our own plain structs of strings and integers: serialising cannot fail.
        serde_json::to_vec_pretty(value).unwrap_or_default()
    }

    /// The armed reversal, if any.
    pub fn armed(&self) -> Result<Option<ArmedReversal>, StoreError> {
        Self::read(&self.dir.join(ARMED))
    }

    /// Arms a reversal (durably: returns after fsync).
    pub fn arm(&self, r: &ArmedReversal) -> Result<(), StoreError> {
        self.write_atomic(&self.dir.join(ARMED), &Self::to_json(r))
    }

    /// Disarms (durably). Absent is fine.
    pub fn disarm(&self) -> Result<(), StoreError> {
        let path = self.dir.join(ARMED);
        match fs::remove_file(&path) {
            Ok(()) => Self::sync_dir(&self.dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    fn txn_path(&self, order: &OrderRef) -> PathBuf {
        // OrderRef is 8–32 upper-case letters and digits: a safe file name.
        self.dir.join("txn").join(format!("{}.json", order.as_str()))
    }

    /// The approved purchase of `order`, if we have one.
    pub fn txn(&self, order: &OrderRef) -> Result<Option<CardTxn>, StoreError> {
        Self::read(&self.txn_path(order))
    }

    /// Saves `t` (durably).
    pub fn put_txn(&self, t: &CardTxn) -> Result<(), StoreError> {
        self.write_atomic(&self.txn_path(&t.order), &Self::to_json(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_survives_reopen_and_disarm_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = TxnStore::open(dir.path()).unwrap();
        assert_eq!(s.armed().unwrap(), None);
        let r = ArmedReversal {
            order: OrderRef::new("YZK1261123000042").unwrap(),
            amount: Fen(7950),
            armed_at: "2026-01-01T08:00:00+08:00".into(),
        };
        s.arm(&r).unwrap();
        let again = TxnStore::open(dir.path()).unwrap();
        assert_eq!(again.armed().unwrap(), Some(r));
        again.disarm().unwrap();
        again.disarm().unwrap();
        assert_eq!(s.armed().unwrap(), None);
        assert!(!dir.path().join("armed-reversal.tmp").exists());
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_missing_reversal() {
        let dir = tempfile::tempdir().unwrap();
        let s = TxnStore::open(dir.path()).unwrap();
        fs::write(dir.path().join(ARMED), b"{half").unwrap();
        assert!(matches!(s.armed(), Err(StoreError::Corrupt { .. })));
    }
}
