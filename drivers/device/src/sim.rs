//! What every serial simulator shares (the `sim` feature): a pseudo-terminal, the task that
//! answers on its master side, the path the real driver opens, and the end of both when the
//! simulator's handle is dropped — the port vanishes, as when a device is unplugged.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use device::sim::Served;
//! let served = Served::start("echo", |mut pty| async move {
//!     use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!     let mut buf = [0u8; 64];
//!     while let Ok(n @ 1..) = pty.master().read(&mut buf).await {
//!         if pty.master().write_all(&buf[..n]).await.is_err() {
//!             return;
//!         }
//!     }
//! })?;
//! println!("open {}", served.path().display());
//! # Ok(()) }
//! ```

use crate::Pty;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use tokio::task::JoinHandle;

/// One simulated port: its path and the task serving it. Dropping it stops the task and closes
/// the pty. Must be started inside a tokio runtime.
#[derive(Debug)]
pub struct Served {
    path: PathBuf,
    task: JoinHandle<()>,
}

impl Served {
    /// Opens a pty and spawns `serve` on it; `name` goes into the log line.
    pub fn start<F, Fut>(name: &str, serve: F) -> std::io::Result<Served>
    where
        F: FnOnce(Pty) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let pty = Pty::open()?;
        let path = pty.slave_path().to_path_buf();
        let task = tokio::spawn(serve(pty));
        tracing::info!(path = %path.display(), "{name} simulator listening");
        Ok(Served { path, task })
    }

    /// The port the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Locks a simulator's state, carrying on after a panic elsewhere (a test that failed while
/// holding it must not hide the simulator from the next assertion).
pub fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The serial settings a test opens a simulator's port with: `command_timeout_ms` for a reply
/// (a silent device shows in well under a second), 50 ms between bytes, reconnects from 20 ms
/// to 100 ms.
pub fn quick_serial(path: &Path, command_timeout_ms: u64) -> crate::SerialConfig {
    let mut serial = crate::SerialConfig::new(path);
    serial.command_timeout_ms = command_timeout_ms;
    serial.inter_byte_ms = 50;
    serial.reconnect_min_ms = 20;
    serial.reconnect_max_ms = 100;
    serial
}
