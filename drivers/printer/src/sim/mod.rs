//! The printer simulator: the real ESC/POS bytes over a pseudo-terminal (architecture rule 4).
//!
//! [`PrinterSim::start`] opens a pty and spawns a task that parses everything the driver sends
//! ([`parser`]), keeps a [`Transcript`] per receipt, and answers `DLE EOT n` and `GS r 1` from
//! its state ([`state`]). Tests and `yizhan sim printer` steer it through the handle: out of
//! paper, near-end, cover open, cutter jam, silent (powered off), paper running out after K
//! bytes, or a [`device::FaultPlan`] on its replies. Dropping the handle closes the pty: the
//! port vanishes, as when a printer is unplugged.

pub mod parser;
pub mod render;
pub mod state;
pub mod transcript;

pub use transcript::{Item, Transcript};

use crate::status::Paper;
use device::sim::Served;
use device::{FaultPlan, Pty};
use state::SimState;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running simulated printer.
#[derive(Debug)]
pub struct PrinterSim {
    state: Arc<Mutex<SimState>>,
    port: Served,
}

impl PrinterSim {
    /// Opens a pty and starts answering on it. Must run inside a tokio runtime.
    pub fn start() -> std::io::Result<PrinterSim> {
        let state = Arc::new(Mutex::new(SimState::default()));
        let shared = state.clone();
        let port = Served::start("printer", |pty| run(pty, shared))?;
        Ok(PrinterSim { state, port })
    }

    /// The port the driver opens.
    pub fn path(&self) -> &Path {
        self.port.path()
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        device::sim::lock(&self.state)
    }

    /// Loads paper, or sets it near its end, or takes it out.
    pub fn set_paper(&self, paper: Paper) {
        self.lock().paper = paper;
    }

    /// Opens or closes the cover.
    pub fn set_cover_open(&self, open: bool) {
        self.lock().cover_open = open;
    }

    /// Jams or frees the autocutter.
    pub fn set_cutter_error(&self, jammed: bool) {
        self.lock().cutter_error = jammed;
    }

    /// Powers the printer off (no byte comes back) or on.
    pub fn set_silent(&self, silent: bool) {
        self.lock().silent = silent;
    }

    /// Paper runs out after `bytes` more bytes of print data.
    pub fn run_out_of_paper_after(&self, bytes: u64) {
        self.lock().run_out_after(bytes);
    }

    /// Applies `plan` to the simulator's replies.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.lock().faults = plan;
    }

    /// Every receipt printed so far, oldest first (torn ones included, flagged).
    pub fn receipts(&self) -> Vec<Transcript> {
        self.lock().receipts().to_vec()
    }

    /// The last receipt that was cut whole (not torn).
    pub fn last_receipt(&self) -> Option<Transcript> {
        self.lock().receipts().iter().rev().find(|t| t.cut && !t.torn).cloned()
    }

    /// Status requests answered so far.
    pub fn status_requests(&self) -> u64 {
        self.lock().status_requests
    }
}

async fn run(mut pty: Pty, state: Arc<Mutex<SimState>>) {
    let mut parser = parser::Parser::new();
    let mut buf = vec![0u8; 4096];
    while let Ok(n @ 1..) = pty.master().read(&mut buf).await {
        let replies: Vec<_> = {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            parser.feed(&buf[..n]).into_iter().filter_map(|p| s.apply(p)).collect()
        };
        for out in replies {
            if !out.delay.is_zero() {
                tokio::time::sleep(out.delay).await;
            }
            if !out.bytes.is_empty() && pty.master().write_all(&out.bytes).await.is_err() {
                return;
            }
        }
    }
}
