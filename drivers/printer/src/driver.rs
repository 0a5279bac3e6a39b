//! The receipt printer's async API: status before money, print with checks, typed errors.
//!
//! `print` is "status → send → status": a printer that cannot print is refused before a byte is
//! sent (the kiosk asked [`ReceiptPrinter::status`] before taking money, but paper can run out in
//! between); the job is sent in command-aligned chunks with a real-time paper check after each
//! (real-time commands are answered even while print data is buffered, hardware.md §4.2); and the
//! status is read again at the end. Paper running out on the way is
//! [`PrintError::PaperOutDuringPrint`], so the caller can tell the customer and offer a reprint
//! once staff load paper. Limits: without a completion barrier (`GS ( H`), "after" means after
//! the bytes were accepted, which on serial printers with small buffers is close to printed.

use crate::config::PrinterConfig;
use crate::job::{self, Job, JobError};
use crate::layout::{lay_out, PaperWidth};
use crate::status::{Paper, PrinterStatus, StatusError, StatusQuery};
use bytes::BytesMut;
use device::link::Timing;
use device::reconnect::{BackoffPolicy, Connector, Reconnecting};
use device::{AnyConnector, DeviceStatus, TransportError};
use kiosk_core::receipt::Receipt;

/// Why a receipt was not printed (whole).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    /// The printer cannot print now (paper out, cover open, cutter jammed, offline); nothing
    /// was sent.
    #[error("printer not ready (paper {:?}, cover open {}, cutter error {})", .0.paper, .0.cover_open, .0.cutter_error)]
    NotReady(PrinterStatus),
    /// Paper ran out while the receipt printed: the customer holds a torn receipt. Reprint
    /// after loading paper.
    #[error("paper ran out during printing ({sent} of {total} bytes sent)")]
    PaperOutDuringPrint {
        /// Bytes sent before it was noticed.
        sent: usize,
        /// Bytes of the whole job.
        total: usize,
    },
    /// Another fault appeared during the print (cover opened, cutter jammed).
    #[error("printer fault during printing")]
    FaultDuringPrint(PrinterStatus),
    /// The printer could not be reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The printer answered a status request with a byte that is not a status.
    #[error(transparent)]
    Status(#[from] StatusError),
    /// The receipt could not be turned into ESC/POS.
    #[error(transparent)]
    Job(#[from] JobError),
}

impl PrintError {
    /// True when printing again (after staff fix the printer) may succeed.
    pub fn reprint_may_help(&self) -> bool {
        !matches!(self, PrintError::Job(_))
    }
}

/// What a finished print reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrintReport {
    /// Bytes sent.
    pub bytes: usize,
    /// Status read after the print (near-end shows here).
    pub status_after: PrinterStatus,
}

/// An ESC/POS receipt printer on any byte-stream transport.
#[derive(Debug)]
pub struct ReceiptPrinter<C: Connector = AnyConnector> {
    port: Reconnecting<C>,
    paper: PaperWidth,
    timing: Timing,
    chunk: usize,
}

impl ReceiptPrinter<AnyConnector> {
    /// The printer of a `kiosk.toml` entry (serial or USB). Does not open the port yet.
    pub fn from_config(cfg: &PrinterConfig) -> Result<Self, TransportError> {
        cfg.validate()?;
        let port = cfg.port();
        let connector = port.connector(Some(device::usb::CLASS_PRINTER))?;
        Ok(ReceiptPrinter::new(connector, cfg.paper, port.timing(), port.backoff())
            .with_chunk(cfg.chunk_bytes))
    }
}

fn one_status(buf: &mut BytesMut) -> Result<Option<u8>, StatusError> {
    let Some(b) = device::take(buf, 1).map(|v| v[0]) else { return Ok(None) };
    if crate::status::is_status_byte(b) {
        Ok(Some(b))
    } else {
        Err(StatusError::BadPattern(b))
    }
}

impl<C: Connector> ReceiptPrinter<C> {
    /// A printer reached through `connector`.
    pub fn new(connector: C, paper: PaperWidth, timing: Timing, backoff: BackoffPolicy) -> Self {
        ReceiptPrinter { port: Reconnecting::new(connector, backoff), paper, timing, chunk: 256 }
    }

    /// Sets the chunk size (bytes between paper checks).
    pub fn with_chunk(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(16);
        self
    }

    /// Roll width.
    pub fn paper(&self) -> PaperWidth {
        self.paper
    }

    /// True while the port is open.
    pub fn is_connected(&self) -> bool {
        self.port.is_connected()
    }

    async fn query(&mut self, q: StatusQuery) -> Result<u8, PrintError> {
        let mut last = None;
        // One retry: a noise byte on the line must not make a healthy printer look broken.
        for _ in 0..2 {
            match self.port.request(&q.command(), one_status, self.timing).await? {
                Ok(b) => return Ok(b),
                Err(e) => last = Some(e),
            }
        }
        Err(last.map_or(PrintError::Transport(TransportError::Closed), PrintError::Status))
    }

    /// Reads `DLE EOT 1..4`.
    pub async fn try_status(&mut self) -> Result<PrinterStatus, PrintError> {
        let mut r = [0u8; 4];
        for (i, q) in StatusQuery::ALL.into_iter().enumerate() {
            r[i] = self.query(q).await?;
        }
        Ok(PrinterStatus::from_replies(r)?)
    }

    /// The printer's status; [`PrinterStatus::unreachable`] when it cannot be read. Call before
    /// taking money: `can_print_receipt()` says whether to promise a receipt.
    pub async fn status(&mut self) -> PrinterStatus {
        match self.try_status().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "printer status unavailable");
                PrinterStatus::unreachable()
            }
        }
    }

    /// The device-model view of [`ReceiptPrinter::status`].
    pub async fn device_status(&mut self) -> DeviceStatus<PrinterStatus> {
        self.status().await.device_status()
    }

    /// The job `print_receipt` would send.
    pub fn job_for(&self, receipt: &Receipt, qr: Option<&str>) -> Result<Job, JobError> {
        job::build(&lay_out(receipt, self.paper, qr), self.paper)
    }

    /// Lays out and prints `receipt`, with `qr` (the signed proof) when given.
    pub async fn print_receipt(
        &mut self,
        receipt: &Receipt,
        qr: Option<&str>,
    ) -> Result<PrintReport, PrintError> {
        let job = self.job_for(receipt, qr)?;
        self.print_job(&job).await
    }

    /// Prints a prepared job: status → chunks with paper checks → status.
    pub async fn print_job(&mut self, job: &Job) -> Result<PrintReport, PrintError> {
        let before = self.try_status().await?;
        if !before.can_print_receipt() {
            return Err(PrintError::NotReady(before));
        }
        let total = job.len();
        let mut sent = 0;
        for chunk in job.chunks(self.chunk) {
            if let Err(e) = self.port.send(&chunk, self.timing).await {
                // A printer that stopped for paper may stop taking bytes: say why if we can.
                if self.paper_out().await {
                    return Err(PrintError::PaperOutDuringPrint { sent, total });
                }
                return Err(e.into());
            }
            sent += chunk.len();
            let sensor = self.query(StatusQuery::PaperSensor).await?;
            if sensor & 0x60 != 0 {
                return Err(PrintError::PaperOutDuringPrint { sent, total });
            }
        }
        let after = self.try_status().await?;
        if after.paper == Paper::Out {
            return Err(PrintError::PaperOutDuringPrint { sent, total });
        }
        if !after.can_print_receipt() {
            return Err(PrintError::FaultDuringPrint(after));
        }
        Ok(PrintReport { bytes: total, status_after: after })
    }

    async fn paper_out(&mut self) -> bool {
        matches!(self.query(StatusQuery::PaperSensor).await, Ok(b) if b & 0x60 != 0)
    }
}
