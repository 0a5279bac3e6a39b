//! The serial scanner's async API: [`Scanner::scan`] triggers, waits for one code, untriggers.
//!
//! Built on `device`'s [`Reconnecting`] link (deadlines, inter-byte timeout, reopen of a vanished
//! port) and this crate's [`codec`](crate::codec). Policy, all of it from hardware.md §5:
//! - input that arrived before the scan started is discarded: a code shown to the window while no
//!   payment screen was up must never pay for anything;
//! - a window never exceeds 60 s (a WeChat code is valid for one minute);
//! - garbage is dropped and counted, and scanning goes on; a frame that starts and stalls longer
//!   than the inter-byte timeout is taken as ended (terminator `idle`), or, with terminator `cr`,
//!   taken only if it reads as a whole code (an engine left without its suffix) and otherwise
//!   dropped as torn;
//! - the engine is untriggered whatever happened, best effort.
//!
//! Scanned bytes are never logged: only their length, the garbage counts and the classification.

use crate::classify::{Classifier, Scanned};
use crate::codec::{self, DecodeError, Decoder, EncodeError};
use crate::config::{ScannerConfig, Terminator};
use crate::frame::{Command, Persistence, Reply, ScanData, Status, Vendor};
use device::TransportError;
use device::{Connector, DeviceState, DeviceStatus, MediaState, Reconnecting, SerialConnector, Timing};
use std::time::Duration;
use tokio::time::Instant;

/// Why a scan or a setting did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The window closed without a code: the normal "customer did not scan" outcome.
    #[error("no code was scanned within {waited:?}")]
    NoCode { waited: Duration },
    /// The engine answered NAK/ENQ to a command.
    #[error("the scanner refused a command ({status:?})")]
    Refused { status: Status },
    /// The engine did not answer a setting in time.
    #[error("the scanner did not answer a setting within {waited:?}")]
    NoReply { waited: Duration },
    /// We could not talk to the scanner (port absent, unplugged, closed).
    #[error("scanner link: {0}")]
    Transport(#[from] TransportError),
    #[error("scanner command: {0}")]
    Encode(#[from] EncodeError),
    #[error("bad scanner configuration: {0}")]
    Config(String),
}

impl ScanError {
    /// Whether the device itself is unreachable (as opposed to "no code" or "refused").
    pub fn is_offline(&self) -> bool {
        matches!(self, ScanError::Transport(_))
    }
}

/// One completed scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    /// What the code is.
    pub scanned: Scanned,
    /// From the start of the window to the code.
    pub elapsed: Duration,
    /// Garbage bytes dropped during the window (line noise, torn frames).
    pub garbage_bytes: usize,
}

/// What only a scanner reports in its [`DeviceStatus`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScannerDetail {
    pub vendor: Vendor,
    /// Garbage bytes dropped since the driver started.
    pub garbage_bytes: u64,
}

/// A scan engine on a serial line (or anything a [`Connector`] opens).
pub struct Scanner<C: Connector> {
    port: Reconnecting<C>,
    config: ScannerConfig,
    classifier: Classifier,
    decoder: Decoder,
    garbage_total: u64,
    configured: bool,
    last_error_offline: bool,
    /// A trigger was sent and no untrigger since: a scan that was dropped half-way (its caller
    /// gave up) leaves the engine reading; [`Scanner::untrigger_if_left`] turns it off.
    triggered: bool,
}

impl<C: Connector> std::fmt::Debug for Scanner<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("port", &self.port.connector().describe())
            .field("vendor", &self.config.vendor)
            .finish_non_exhaustive()
    }
}

impl Scanner<SerialConnector> {
    /// A scanner on the configured serial port. The port is opened on first use (and reopened
    /// after it vanishes), so this succeeds even while the scanner is unplugged.
    pub fn open(config: ScannerConfig) -> Result<Self, ScanError> {
        config.validate().map_err(ScanError::Config)?;
        let connector = SerialConnector::new(config.serial.clone());
        Ok(Scanner::with_connector(connector, config))
    }
}

impl<C: Connector> Scanner<C> {
    /// A scanner over any connector (tests, USB CDC adapters).
    pub fn with_connector(connector: C, config: ScannerConfig) -> Self {
        let port = Reconnecting::new(connector, config.serial.backoff());
        let classifier = Classifier::new(config.bills.clone());
        Scanner {
            port,
            config,
            classifier,
            decoder: Decoder::new(),
            garbage_total: 0,
            configured: false,
            last_error_offline: false,
            triggered: false,
        }
    }

    pub fn config(&self) -> &ScannerConfig {
        &self.config
    }

    /// The device-model status (XFS4IoT names). A scanner has no media.
    pub fn status(&self) -> DeviceStatus<ScannerDetail> {
        let detail = ScannerDetail { vendor: self.config.vendor, garbage_bytes: self.garbage_total };
        let device = if self.port.is_connected() && !self.last_error_offline {
            DeviceState::Online
        } else {
            DeviceState::Offline
        };
        DeviceStatus { device, media: MediaState::NotSupported, detail }
    }

    /// Opens the port if needed and sends the configured settings once per connection.
    pub async fn ensure_ready(&mut self) -> Result<(), ScanError> {
        let was_connected = self.port.is_connected();
        let r = self.port.link().await.map(|_| ());
        self.note(&r);
        r?;
        if !was_connected {
            self.configured = false;
        }
        if !self.configured {
            for setting in self.config.settings.clone() {
                self.apply_setting(&setting, Persistence::Temporary).await?;
            }
            self.configured = true;
        }
        Ok(())
    }

    /// Sends one vendor setting and waits for its acknowledgement. Honeywell and Newland unified
    /// echo the setting; Newland legacy answers a bare ACK.
    pub async fn apply_setting(
        &mut self,
        setting: &str,
        persistence: Persistence,
    ) -> Result<Reply, ScanError> {
        let cmd = Command::Setting { setting: setting.to_owned(), persistence };
        let bytes = codec::encode(self.config.vendor, &cmd)?;
        let waited = Duration::from_millis(self.config.setting_timeout_ms);
        let timing = Timing::new(waited, self.inter_byte());
        self.discard().await?;
        self.decoder = Decoder::new();
        if self.config.vendor == Vendor::Honeywell {
            self.decoder.expect_menu_reply();
        }
        let r = self.port.send(&bytes, timing).await;
        self.note(&r);
        r?;
        let deadline = Instant::now() + waited;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ScanError::NoReply { waited });
            }
            let timing = Timing::new(left, self.inter_byte());
            let decoder = &mut self.decoder;
            let r = self.port.read_frame(|buf| decoder.decode(buf), timing).await;
            self.note(&r);
            match r {
                Ok(Ok(Reply::Scan(data))) => {
                    tracing::debug!(len = data.len(), "scan during a setting ignored");
                }
                Ok(Ok(reply)) => {
                    return match reply.status() {
                        Some(Status::Ack) => Ok(reply),
                        Some(status) => Err(ScanError::Refused { status }),
                        None => continue,
                    };
                }
                Ok(Err(e)) => self.count_garbage(e),
                Err(TransportError::Timeout { .. }) => return Err(ScanError::NoReply { waited }),
                Err(TransportError::InterByteTimeout { .. }) => {
                    self.drop_partial().await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Triggers the engine, waits up to `window` (at most the configured maximum, never above 60 s)
    /// for one code, untriggers, and classifies the code.
    pub async fn scan(&mut self, window: Duration) -> Result<Scan, ScanError> {
        let window = window.min(self.config.max_window());
        let started = Instant::now();
        self.ensure_ready().await?;
        self.discard().await?;
        self.decoder = Decoder::new();
        let vendor = self.config.vendor;
        let timing = Timing::new(Duration::from_millis(self.config.setting_timeout_ms), self.inter_byte());
        if vendor.can_trigger() {
            // Marked before the send: a scan dropped while the trigger is on the wire may have
            // turned the engine on.
            self.triggered = true;
            let r = self.port.send(&codec::encode(vendor, &Command::Trigger)?, timing).await;
            self.note(&r);
            r?;
        }
        let mut garbage = 0usize;
        let outcome = self.wait_for_code(started + window, &mut garbage).await;
        if vendor.can_trigger() && !matches!(&outcome, Err(ScanError::Transport(_))) {
            if let Err(e) = self.untrigger(timing).await {
                tracing::warn!(error = %e, "scanner untrigger failed");
            }
        }
        if garbage > 0 {
            tracing::warn!(dropped = garbage, "scanner sent garbage during a scan; dropped");
        }
        let data = outcome?;
        let scanned = self.classifier.classify_bytes(data.expose());
        let kind = match &scanned {
            Scanned::PaymentCode(code) => code.channel().code(),
            Scanned::BillBarcode { .. } => "bill",
            Scanned::PairingTicket(_) => "pairing",
            Scanned::Garbage { .. } => "garbage",
        };
        tracing::info!(len = data.len(), kind, "scanned");
        Ok(Scan { scanned, elapsed: started.elapsed(), garbage_bytes: garbage })
    }

    /// Turns the engine off if a scan left it on: a scan future dropped by its caller (the
    /// customer pressed stop, the session ended) never reached its own untrigger. `Ok(true)`
    /// when an untrigger was sent.
    pub async fn untrigger_if_left(&mut self) -> Result<bool, ScanError> {
        if !self.triggered {
            return Ok(false);
        }
        let timing = Timing::new(Duration::from_millis(self.config.setting_timeout_ms), self.inter_byte());
        self.untrigger(timing).await?;
        Ok(true)
    }

    async fn untrigger(&mut self, timing: Timing) -> Result<(), ScanError> {
        let r = self.port.send(&codec::encode(self.config.vendor, &Command::Untrigger)?, timing).await;
        self.note(&r);
        r?;
        self.triggered = false;
        Ok(())
    }

    async fn wait_for_code(&mut self, deadline: Instant, garbage: &mut usize) -> Result<ScanData, ScanError> {
        let started = Instant::now();
        let idle_mode = self.config.terminator == Terminator::Idle;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ScanError::NoCode { waited: started.elapsed() });
            }
            let timing = Timing::new(left, self.inter_byte());
            let decoder = &mut self.decoder;
            let r = self.port.read_frame(|buf| decoder.decode(buf), timing).await;
            self.note(&r);
            match r {
                Ok(Ok(Reply::Scan(data))) if !data.is_empty() => return Ok(data),
                Ok(Ok(Reply::Scan(_))) => {}
                Ok(Ok(reply)) => match reply.status() {
                    Some(status) if !status.is_ack() => return Err(ScanError::Refused { status }),
                    _ => {}
                },
                Ok(Err(e)) => {
                    *garbage += e.dropped();
                    self.count_garbage(e);
                }
                Err(TransportError::Timeout { .. }) => {
                    return Err(ScanError::NoCode { waited: started.elapsed() });
                }
                Err(TransportError::InterByteTimeout { .. }) => {
                    // Silence ends the frame (hardware.md §5.1: the driver "also accepts an
                    // inter-character idle timeout" for engines without a suffix). An engine
                    // set up for CR whose frame stalls may have lost bytes: there the text
                    // counts only if it is a whole code, and a torn one is dropped.
                    let decoder = &mut self.decoder;
                    let r =
                        self.port.read_frame(|buf| decoder.decode_idle(buf), Timing::new(left, left)).await;
                    match r {
                        Ok(Ok(Reply::Scan(data)))
                            if !data.is_empty() && (idle_mode || self.is_whole_code(&data)) =>
                        {
                            return Ok(data)
                        }
                        Ok(Ok(Reply::Scan(data))) => *garbage += self.torn_frame_dropped(data.len()),
                        Ok(Err(e)) => {
                            *garbage += e.dropped();
                            self.count_garbage(e);
                        }
                        _ => {}
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn inter_byte(&self) -> Duration {
        match self.config.terminator {
            Terminator::Idle => Duration::from_millis(self.config.idle_gap_ms),
            Terminator::Cr => Duration::from_millis(self.config.serial.inter_byte_ms),
        }
    }

    async fn discard(&mut self) -> Result<(), ScanError> {
        let r = match self.port.link().await {
            Ok(link) => link.discard_input().await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = &r {
            if e.is_link_lost() {
                self.port.disconnect(e);
            }
        }
        self.note(&r);
        Ok(r?)
    }

    /// Drops a frame that started and stalled; returns the bytes dropped.
    async fn drop_partial(&mut self) -> usize {
        let mut n = 0;
        if let Ok(link) = self.port.link().await {
            n = link.buffered().len();
            link.consume(n);
            self.torn_frame_dropped(n);
        }
        self.decoder = Decoder::new();
        n
    }

    /// Counts `n` bytes of a frame that started and stalled, dropped; returns `n`.
    fn torn_frame_dropped(&mut self, n: usize) -> usize {
        self.garbage_total += n as u64;
        tracing::debug!(dropped = n, "stalled partial frame dropped");
        n
    }

    /// Whether `data`, ended by silence rather than CR, reads as a whole code of some kind.
    fn is_whole_code(&self, data: &ScanData) -> bool {
        !matches!(self.classifier.classify_bytes(data.expose()), Scanned::Garbage { .. })
    }

    fn count_garbage(&mut self, e: DecodeError) {
        self.garbage_total += e.dropped() as u64;
        tracing::debug!(error = %e, "scanner garbage");
    }

    fn note<T>(&mut self, r: &Result<T, TransportError>) {
        self.last_error_offline = match r {
            Ok(_) => false,
            Err(e) => e.is_link_lost() || matches!(e, TransportError::Offline { .. }),
        };
    }
}
