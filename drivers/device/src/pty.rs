//! Pseudo-terminals for simulators (architecture rule 4; lamassu's pty emulators are the
//! precedent, without their hard-coded paths).
//!
//! [`Pty::open`] makes a fresh pair: the simulator keeps the master side ([`PtyMaster`],
//! `AsyncRead + AsyncWrite`), the driver opens [`Pty::slave_path`] with its real serial code. The
//! pty keeps its own slave descriptor open so the master never sees EIO while the driver closes
//! and reopens the port. Dropping the [`Pty`] closes both: the slave path vanishes, and a driver
//! still holding it gets I/O errors, as with an unplugged adapter.
//!
//! [`StableLink`] plays `/dev/serial/by-id/...`: a symlink the driver is configured with. A
//! reconnect test removes it, drops the pty, opens a new one and re-points the link.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A pseudo-terminal pair in raw mode.
#[derive(Debug)]
pub struct Pty {
    master: PtyMaster,
    slave_path: PathBuf,
    _slave: OwnedFd,
}

impl Pty {
    /// Opens a new pair and puts the terminal in raw mode (no echo, no line editing, no CR/LF
    /// translation: bytes pass untouched). Must run inside a tokio runtime.
    pub fn open() -> io::Result<Pty> {
        use rustix::fs::{Mode, OFlags};
        use rustix::pty::OpenptFlags;
        let master = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        rustix::pty::grantpt(&master)?;
        rustix::pty::unlockpt(&master)?;
        let name = rustix::pty::ptsname(&master, Vec::new())?;
        let slave_path = PathBuf::from(name.to_string_lossy().into_owned());
        let slave =
            rustix::fs::open(&slave_path, OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC, Mode::empty())?;
        let mut termios = rustix::termios::tcgetattr(&slave)?;
        termios.make_raw();
        rustix::termios::tcsetattr(&slave, rustix::termios::OptionalActions::Now, &termios)?;
        let flags = rustix::fs::fcntl_getfl(&master)?;
        rustix::fs::fcntl_setfl(&master, flags | OFlags::NONBLOCK)?;
        // SAFETY: `master` is an `OwnedFd` we just opened; it stays open and unreplaced for as
        // long as the `AsyncFd` owns it.
        let fd = unsafe { AsyncFd::register(master)? };
        Ok(Pty { master: PtyMaster { fd }, slave_path, _slave: slave })
    }

    /// The path the driver opens (`/dev/pts/N`).
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// The simulator's side.
    pub fn master(&mut self) -> &mut PtyMaster {
        &mut self.master
    }
}

/// The master side of a [`Pty`]: what the simulator reads the driver's bytes from and writes
/// the device's replies to.
#[derive(Debug)]
pub struct PtyMaster {
    fd: AsyncFd<OwnedFd>,
}

impl AsyncRead for PtyMaster {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let mut guard = ready!(this.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard
                .try_io(|fd| rustix::io::read(fd.get_ref().as_fd(), &mut *unfilled).map_err(io::Error::from))
            {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for PtyMaster {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            let mut guard = ready!(this.fd.poll_write_ready(cx))?;
            match guard.try_io(|fd| rustix::io::write(fd.get_ref().as_fd(), data).map_err(io::Error::from)) {
                Ok(r) => return Poll::Ready(r),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A symlink standing in for a stable `/dev/serial/by-id/...` path.
#[derive(Debug, Clone)]
pub struct StableLink {
    path: PathBuf,
}

impl StableLink {
    /// A link at `path` (not created until [`StableLink::point_to`]).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StableLink { path: path.into() }
    }

    /// The path to configure the driver with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Points the link at `target`, replacing it atomically if it exists (like udev does).
    pub fn point_to(&self, target: &Path) -> io::Result<()> {
        let tmp = self.path.with_extension("tmp-link");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(target, &tmp)?;
        std::fs::rename(&tmp, &self.path)
    }

    /// Removes the link, as udev does when the device is unplugged. Absent is fine.
    pub fn remove(&self) -> io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn bytes_cross_a_pty_untouched_in_both_directions() {
        let mut pty = Pty::open().unwrap();
        let mut slave =
            tokio::fs::OpenOptions::new().read(true).write(true).open(pty.slave_path()).await.unwrap();
        // CR, LF, DLE EOT and 0xFF must not be translated or eaten by the line discipline.
        let bytes = [0x0D, 0x0A, 0x10, 0x04, 0x01, 0xFF, 0x03];
        slave.write_all(&bytes).await.unwrap();
        let mut got = [0u8; 7];
        pty.master().read_exact(&mut got).await.unwrap();
        assert_eq!(got, bytes);
        pty.master().write_all(&[0x12, 0x0D]).await.unwrap();
        let mut back = [0u8; 2];
        slave.read_exact(&mut back).await.unwrap();
        assert_eq!(back, [0x12, 0x0D]);
    }

    #[test]
    fn a_stable_link_is_repointed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let link = StableLink::new(dir.path().join("usb-printer"));
        link.point_to(Path::new("/dev/null")).unwrap();
        assert_eq!(std::fs::read_link(link.path()).unwrap(), Path::new("/dev/null"));
        link.point_to(Path::new("/dev/zero")).unwrap();
        assert_eq!(std::fs::read_link(link.path()).unwrap(), Path::new("/dev/zero"));
        link.remove().unwrap();
        assert!(!link.path().exists());
        link.remove().unwrap();
    }
}
