//! Reading, as root, what the kiosk's own user wrote in its folder: every folder below the data
//! directory and the file itself opened without following a link (`O_NOFOLLOW`, one component
//! at a time with `openat`), without waiting on a FIFO (`O_NONBLOCK`), only a plain file, and
//! never more than the caller's limit. The data directory itself is trusted: its parent is root's.

use std::io::{self, Read};
use std::path::Path;

use rustix::fs::{openat, Mode, OFlags, CWD};

/// The bytes of `base/folders…/file`, read as described above.
pub fn read(base: &Path, folders: &[&str], file: &str, limit: u64) -> io::Result<Vec<u8>> {
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir = openat(CWD, base, dir_flags, Mode::empty())?;
    for folder in folders {
        dir = openat(&dir, *folder, dir_flags | OFlags::NOFOLLOW, Mode::empty())?;
    }
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    read_whole(std::fs::File::from(openat(&dir, file, flags, Mode::empty())?), limit)
}

/// All of an opened file, if it is a plain file of at most `limit` bytes.
pub fn read_whole(file: std::fs::File, limit: u64) -> io::Result<Vec<u8>> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a plain file"));
    }
    if meta.len() > limit {
        return Err(io::Error::other(format!("larger than {limit} bytes")));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::other(format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_oversize_files_are_refused_anywhere_below_the_base() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("updates/staged");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("plain"), b"12345").unwrap();
        assert_eq!(read(base.path(), &["updates", "staged"], "plain", 5).unwrap(), b"12345");
        assert!(read(base.path(), &["updates", "staged"], "plain", 4)
            .unwrap_err()
            .to_string()
            .contains("larger"));

        let elsewhere = base.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("secret"), b"root's").unwrap();
        std::os::unix::fs::symlink(elsewhere.join("secret"), dir.join("link")).unwrap();
        let refused = read(base.path(), &["updates", "staged"], "link", 100).unwrap_err();
        assert_eq!(refused.raw_os_error(), Some(libc::ELOOP), "{refused}");
        // A linked folder on the way is refused as well.
        std::os::unix::fs::symlink(&elsewhere, base.path().join("updates/linked")).unwrap();
        assert!(read(base.path(), &["updates", "linked"], "secret", 100).is_err());
        // A FIFO does not hang the reader.
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        assert!(read(base.path(), &["updates", "staged"], "fifo", 100)
            .unwrap_err()
            .to_string()
            .contains("plain"));
    }
}
