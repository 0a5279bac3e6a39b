//! One process at a time may move money with a journal: the kiosk, or `yizhan recover`, or
//! `yizhan pay` — never two, or both would drive the same payment. An exclusive `flock` on a
//! file beside the journal says so; the kernel drops it when the process dies (power cut,
//! SIGKILL), so a stale lock never blocks a restart. Read-only commands (journal list/show/
//! verify/export/reprint) do not take it, so staff can look while the kiosk runs.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct JournalLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another yizhan process is moving money with {0} (the kiosk is running?); try again when it has stopped")]
    Held(PathBuf),
    #[error("cannot lock {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl JournalLock {
    /// Takes the lock for the journal at `journal`, without waiting.
    pub fn acquire(journal: &Path) -> Result<JournalLock, LockError> {
        let mut name = journal.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| LockError::Io { path: path.clone(), source })?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| LockError::Io { path: path.clone(), source })?;
        // std's try_lock is flock(LOCK_EX | LOCK_NB) on Linux.
        match file.try_lock() {
            Ok(()) => Ok(JournalLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Held(journal.to_path_buf())),
            Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.db");
        let first = JournalLock::acquire(&journal).unwrap();
        assert!(matches!(JournalLock::acquire(&journal), Err(LockError::Held(_))));
        drop(first);
        assert!(JournalLock::acquire(&journal).is_ok());
    }
}
