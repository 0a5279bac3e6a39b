//! A scan engine simulator on a pseudo-terminal: the real driver opens [`SimScanner::path`] with its
//! real serial code, and this side speaks the engine's bytes through this crate's own codec.
//!
//! Behaviour, like the real engines in manual-trigger mode (hardware.md §5.2):
//! - trigger (`SYN T CR`, `ESC 1`, `#SCNTRG1`) starts a scan; a code presented with
//!   [`SimScanner::present`] is sent (with a CR suffix) while a scan is on, and one read ends the
//!   scan. A code presented before the trigger waits, like a phone held to the window;
//! - untrigger stops the scan; Honeywell menu commands are echoed with `ACK` before their
//!   terminator, legacy Newland settings get a bare `ACK`, unified frames a unified reply; a menu
//!   setting named in [`SimOptions::refuse`] gets `NAK`;
//! - a [`Vendor::Passive`] engine sends every presented code at once;
//! - faults from a seeded [`FaultPlan`] apply to every outgoing frame (drop, truncate, delay,
//!   garbage burst, silent), plus explicit garbage, partial frames and bursts on command.
//!
//! `yizhan sim scanner` wraps this: it prints [`SimScanner::path`] and presents each line typed.

use crate::codec::{self, HostFrame};
use crate::frame::{Persistence, Status, Vendor};
use bytes::BytesMut;
use device::sim::Served;
use device::{FaultPlan, Pty};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// How the simulated engine is set up.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub vendor: Vendor,
    /// Suffix after each code: `\r` by default; `\r\n`, or empty for "no suffix" engines.
    pub suffix: Vec<u8>,
    /// Time from trigger (or presentation) to the code, like decoding time.
    pub read_delay: Duration,
    /// Settings this engine refuses with NAK.
    pub refuse: Vec<String>,
    pub faults: FaultPlan,
}

impl SimOptions {
    pub fn new(vendor: Vendor) -> SimOptions {
        SimOptions {
            vendor,
            suffix: vec![codec::CR],
            read_delay: Duration::from_millis(20),
            refuse: Vec::new(),
            faults: FaultPlan::none(),
        }
    }
}

/// What the simulator saw and did, for tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimLog {
    pub triggers: usize,
    pub untriggers: usize,
    /// Settings received, as the host sent them.
    pub settings: Vec<String>,
    /// Codes sent to the host (their count only: a log must not hold codes).
    pub codes_sent: usize,
    /// Bytes from the host the codec could not read.
    pub garbage_from_host: usize,
}

enum Order {
    Present(Vec<u8>),
    Raw(Vec<u8>),
    Partial { bytes: Vec<u8>, split: usize, pause: Duration },
    Burst(Vec<Vec<u8>>),
    Faults(FaultPlan),
}

/// A running simulated engine. Dropping it closes the pty (the driver sees the port vanish).
#[derive(Debug)]
pub struct SimScanner {
    port: Served,
    orders: mpsc::UnboundedSender<Order>,
    log: Arc<Mutex<SimLog>>,
}

impl SimScanner {
    /// Starts a simulated engine of `vendor` with default options. Must run in a tokio runtime.
    pub fn start(vendor: Vendor) -> std::io::Result<SimScanner> {
        SimScanner::start_with(SimOptions::new(vendor))
    }

    /// Starts a simulated engine.
    pub fn start_with(options: SimOptions) -> std::io::Result<SimScanner> {
        let (orders, rx) = mpsc::unbounded_channel();
        let log = Arc::new(Mutex::new(SimLog::default()));
        let shared = log.clone();
        let port = Served::start("scanner", |pty| {
            Engine { options, pty, log: shared, triggered: false, queue: VecDeque::new() }.run(rx)
        })?;
        Ok(SimScanner { port, orders, log })
    }

    /// The pty path to configure the driver with (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        self.port.path()
    }

    /// Holds a code to the window: sent at the next (or current) trigger.
    pub fn present(&self, code: &str) {
        self.present_bytes(code.as_bytes());
    }

    /// [`SimScanner::present`] for arbitrary symbol bytes (binary QR content).
    pub fn present_bytes(&self, bytes: &[u8]) {
        let _ = self.orders.send(Order::Present(bytes.to_vec()));
    }

    /// Sends raw bytes now, triggered or not (line noise, a stray frame).
    pub fn garbage(&self, bytes: &[u8]) {
        let _ = self.orders.send(Order::Raw(bytes.to_vec()));
    }

    /// Sends a code + suffix in two writes `pause` apart, split after `split` bytes, now.
    pub fn partial(&self, code: &str, split: usize, pause: Duration) {
        let _ = self.orders.send(Order::Partial { bytes: code.as_bytes().to_vec(), split, pause });
    }

    /// Sends several codes back to back in one write, now.
    pub fn burst(&self, codes: &[&str]) {
        let _ = self.orders.send(Order::Burst(codes.iter().map(|c| c.as_bytes().to_vec()).collect()));
    }

    /// Replaces the fault plan (e.g. `FaultPlan::powered_off()`).
    pub fn set_faults(&self, plan: FaultPlan) {
        let _ = self.orders.send(Order::Faults(plan));
    }

    /// What the engine saw so far.
    pub fn log(&self) -> SimLog {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Unplugs the engine: the pty closes.
    pub fn shutdown(self) {
        drop(self.port);
    }
}

struct Engine {
    options: SimOptions,
    pty: Pty,
    log: Arc<Mutex<SimLog>>,
    triggered: bool,
    queue: VecDeque<Vec<u8>>,
}

impl Engine {
    async fn run(mut self, mut orders: mpsc::UnboundedReceiver<Order>) {
        let mut rx = BytesMut::with_capacity(256);
        loop {
            tokio::select! {
                order = orders.recv() => match order {
                    None => return,
                    Some(order) => self.obey(order).await,
                },
                read = self.pty.master().read_buf(&mut rx) => match read {
                    Ok(0) | Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    Ok(_) => self.answer(&mut rx).await,
                },
            }
            if (self.triggered || self.options.vendor == Vendor::Passive) && !self.queue.is_empty() {
                tokio::time::sleep(self.options.read_delay).await;
                if let Some(code) = self.queue.pop_front() {
                    self.send_code(code).await;
                    self.triggered = false;
                }
            }
        }
    }

    async fn obey(&mut self, order: Order) {
        match order {
            Order::Present(code) => self.queue.push_back(code),
            Order::Raw(bytes) => self.write(&bytes).await,
            Order::Partial { bytes, split, pause } => {
                let mut frame = bytes;
                frame.extend_from_slice(&self.options.suffix);
                let split = split.min(frame.len());
                self.write(&frame[..split]).await;
                tokio::time::sleep(pause).await;
                self.write(&frame[split..]).await;
                self.log_mut(|l| l.codes_sent += 1);
            }
            Order::Burst(codes) => {
                let mut all = Vec::new();
                for code in &codes {
                    all.extend_from_slice(code);
                    all.extend_from_slice(&self.options.suffix);
                }
                self.write(&all).await;
                self.log_mut(|l| l.codes_sent += codes.len());
            }
            Order::Faults(plan) => self.options.faults = plan,
        }
    }

    async fn answer(&mut self, rx: &mut BytesMut) {
        loop {
            match codec::decode_host(rx) {
                Ok(None) => return,
                Err(e) => self.log_mut(|l| l.garbage_from_host += e.dropped()),
                Ok(Some(frame)) => {
                    let reply = self.react(frame);
                    if !reply.is_empty() {
                        self.send_faulty(reply).await;
                    }
                }
            }
        }
    }

    /// The engine's state change and reply bytes for one host frame.
    fn react(&mut self, frame: HostFrame) -> Vec<u8> {
        let refused = |s: &str| self.options.refuse.iter().any(|r| r == s);
        match frame {
            HostFrame::Trigger => {
                self.triggered = true;
                self.log_mut(|l| l.triggers += 1);
                if self.options.vendor == Vendor::NewlandUnified {
                    return unified_reply("SCNTRG1", Status::Ack);
                }
                Vec::new()
            }
            HostFrame::Untrigger => {
                self.triggered = false;
                self.log_mut(|l| l.untriggers += 1);
                if self.options.vendor == Vendor::NewlandUnified {
                    return unified_reply("SCNTRG0", Status::Ack);
                }
                Vec::new()
            }
            HostFrame::HoneywellMenu { settings, persistence } => {
                let mut out = Vec::new();
                for (i, setting) in settings.iter().enumerate() {
                    if i > 0 {
                        out.push(b';');
                    }
                    out.extend_from_slice(setting.as_bytes());
                    out.push(if refused(setting) { Status::NAK } else { Status::ACK });
                }
                out.push(if persistence == Persistence::Saved { b'.' } else { b'!' });
                self.log_mut(|l| l.settings.extend(settings));
                out
            }
            HostFrame::NewlandSetting(setting) => {
                let status = if refused(&setting) { Status::NAK } else { Status::ACK };
                self.log_mut(|l| l.settings.push(setting));
                vec![status]
            }
            HostFrame::NewlandUnified { setting, .. } => {
                let status = if refused(&setting) { Status::Nak } else { Status::Ack };
                let reply = unified_reply(&setting, status);
                self.log_mut(|l| l.settings.push(setting));
                reply
            }
        }
    }

    async fn send_code(&mut self, mut code: Vec<u8>) {
        code.extend_from_slice(&self.options.suffix);
        self.send_faulty(code).await;
        self.log_mut(|l| l.codes_sent += 1);
    }

    async fn send_faulty(&mut self, bytes: Vec<u8>) {
        let out = self.options.faults.apply(bytes);
        if !out.delay.is_zero() {
            tokio::time::sleep(out.delay).await;
        }
        self.write(&out.bytes).await;
    }

    async fn write(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let master = self.pty.master();
        if master.write_all(bytes).await.is_err() {
            tracing::debug!("simulated scanner: write failed");
        }
    }

    fn log_mut(&self, f: impl FnOnce(&mut SimLog)) {
        if let Ok(mut log) = self.log.lock() {
            f(&mut log);
        }
    }
}

/// A Newland "unified" reply, written here rather than taken from the driver's constants:
/// `02 01 30 30 30 30`, the setting, the status, `3B 03` (hardware.md §5.2 prints the `06` ACK
/// form; `05` ENQ and `15` NAK are the project's reading, shared with the driver).
fn unified_reply(setting: &str, status: Status) -> Vec<u8> {
    let mut out = vec![0x02, 0x01, 0x30, 0x30, 0x30, 0x30];
    out.extend_from_slice(setting.as_bytes());
    out.push(match status {
        Status::Ack => 0x06,
        Status::Enq => 0x05,
        Status::Nak => 0x15,
    });
    out.extend_from_slice(&[0x3B, 0x03]);
    out
}
