//! [`PaymentTerminal`]: the bank card as a payment channel, with the four calls of every
//! channel client (`crates/payments`): pay, query, reverse, refund, keyed by our order number.
//!
//! The kiosk's payment machine journals its intent, then calls `pay`; on an unknown outcome it
//! calls `query` (QUERY_LAST); at its deadline it calls `reverse`. Each call is made by the
//! payment machine of the order it names, so whatever it sends is journaled against that order.
//! The driver adds the card terminal's own safety net (payments.md §3.2, C1), kept in a
//! [`TerminalMemory`] it is given (the kiosk's journal; the driver owns no files). The rules
//! below are decided in `kiosk_core::card_terminal` (pure, with its table of every case); this
//! driver reads the records (`records`), asks there, and carries the answer out:
//!
//! 1. **Armed reversal.** Before a sale frame leaves the kiosk, `{order, amount, armed_at}` is
//!    armed in the memory, durably ([`crate::store`]).
//! 2. **Disarm on a definite answer** about that sale: approved for the amount asked, or declined
//!    (from the sale's response or from QUERY_LAST naming our order), or its reversal answered.
//!    A last result "approved" for another amount settles nothing: the reversal stays armed.
//!    A reversal the terminal declines is kept as refused and `reverse` answers
//!    [`ReverseReply::Refused`]; it is never dropped with only a log line.
//! 3. **No new sale while another order's reversal is armed.** `pay` refuses with
//!    `REVERSAL_PENDING` before anything is sent (the customer is not charged). The armed
//!    reversal of order A goes out only through `reverse(A)` (or `refund(A)` when A's purchase
//!    was never heard of), called by A's own payment machine: never inside another order's
//!    call. A QUERY_LAST never waits for it: after a power cut the kiosk asks for the last
//!    result *first* (payments.md F15), and a sale QUERY_LAST finds approved is disarmed, not
//!    reversed.
//!
//! Outcomes never turn "unknown" into "failed": a timeout, a NAK'd or unacknowledged frame, a
//! bad LRC on every retransmission, a code we do not know, a memory that cannot be read or
//! written after something was sent, all give `Unknown` / `Retry`. `Failed` and `Refused` come
//! only from a definite terminal answer, or when nothing was sent.
//!
//! | Module | Job |
//! |---|---|
//! | this one | the terminal, its settings, the call that matches a response to its request, status |
//! | `records` | what the memory holds for an order: reading it for a sale, recording an approval, disarming |
//! | `sale` | `pay` and `query`: a purchase and the last result that settles it |
//! | `undo` | `reverse` and `refund`: the reversal by reference, the void by voucher, the refund |

mod records;
mod sale;
mod undo;

use crate::codec::{Request, Response};
use crate::config::TerminalConfig;
use crate::frame::{IndustryInfo, MaskedPan, TransType};
use crate::store::{ArmedReversal, CardTxn, MemoryError, TerminalMemory};
use crate::transport::{EcrLink, LinkError, LinkStats, LinkTiming};
use device::reconnect::{BackoffPolicy, Connector, Reconnecting};
use device::serial::SerialConnector;
use device::{DeviceState, DeviceStatus, MediaState};
use kiosk_core::{FailKind, Fen, OrderRef, PayReply};
use std::time::Duration;
use tokio::time::Instant;

/// Settings of the terminal client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerminalSettings {
    /// MIS-POS POS no.
    pub pos_no: String,
    /// MIS-POS operator.
    pub operator: String,
    /// Wait for a sale's response.
    pub transaction_timeout: Duration,
    /// Wait for other responses.
    pub query_timeout: Duration,
    /// Link protocol timing.
    pub link: LinkTiming,
}

impl Default for TerminalSettings {
    fn default() -> Self {
        TerminalSettings {
            pos_no: "00000001".into(),
            operator: "01".into(),
            transaction_timeout: Duration::from_secs(90),
            query_timeout: Duration::from_secs(5),
            link: LinkTiming::default(),
        }
    }
}

/// Why the terminal client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TerminalError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] device::TransportError),
}

/// What the terminal knows beyond online/offline, for `yizhan devices` and the staff screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerminalDetail {
    /// The order whose reversal is armed, if any.
    pub armed_reversal: Option<OrderRef>,
    /// The memory could not be read: no sale can be sent until it can.
    pub memory_error: Option<String>,
    /// Link counters.
    pub stats: LinkStats,
}

/// The approved purchase as the receipt shows it (masked card number, voucher, reference).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardReceipt {
    /// Masked card number.
    pub pan: Option<MaskedPan>,
    /// Issuer bank code.
    pub issuer: String,
    /// Voucher no.
    pub voucher: String,
    /// Reference no.
    pub ref_no: String,
    /// Authorisation code.
    pub auth_code: String,
    /// Batch no.
    pub batch: String,
    /// Terminal id.
    pub terminal_id: String,
    /// Merchant id.
    pub merchant_id: String,
}

/// A certified payment terminal spoken to over the ECR link, remembering its armed reversal and
/// approved purchases in `M`.
#[derive(Debug)]
pub struct PaymentTerminal<M, C: Connector = SerialConnector> {
    link: EcrLink<C>,
    memory: M,
    settings: TerminalSettings,
    last_receipt: Option<(OrderRef, CardReceipt)>,
}

impl<M: TerminalMemory> PaymentTerminal<M, SerialConnector> {
    /// The terminal of a `kiosk.toml` entry, remembering in `memory`. Does not open the port yet.
    pub fn from_config(cfg: &TerminalConfig, memory: M) -> Result<Self, TerminalError> {
        cfg.validate()?;
        let settings = TerminalSettings {
            pos_no: cfg.pos_no.clone(),
            operator: cfg.operator.clone(),
            transaction_timeout: Duration::from_millis(cfg.transaction_timeout_ms),
            query_timeout: Duration::from_millis(cfg.query_timeout_ms),
            link: cfg.link_timing(),
        };
        Ok(PaymentTerminal::new(
            SerialConnector::new(cfg.serial.clone()),
            cfg.serial.backoff(),
            settings,
            memory,
        ))
    }
}

/// The detail of an unknown outcome, for the journal and staff logs.
fn unknown(e: impl std::fmt::Display) -> String {
    format!("outcome unknown: {e}")
}

fn code_detail(r: &Response) -> String {
    if r.message.is_empty() {
        format!("terminal code {}", r.code)
    } else {
        format!("terminal code {}: {}", r.code, r.message)
    }
}

/// The detail of an unknown outcome after the memory failed.
fn memory_unknown(e: &MemoryError) -> String {
    tracing::error!(error = %e, "bank card terminal memory failed");
    format!("outcome unknown: {e}")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl<M: TerminalMemory, C: Connector> PaymentTerminal<M, C> {
    /// A terminal reached through `connector`, remembering its state in `memory`.
    pub fn new(connector: C, backoff: BackoffPolicy, settings: TerminalSettings, memory: M) -> Self {
        let link = EcrLink::new(Reconnecting::new(connector, backoff), settings.link);
        PaymentTerminal { link, memory, settings, last_receipt: None }
    }

    /// The memory the terminal keeps its records in.
    pub fn memory(&self) -> &M {
        &self.memory
    }

    /// The armed reversal (the sale whose outcome the driver has not heard), for the runtime
    /// to report. The oldest if, against the driver's own rule, there were several.
    pub async fn armed_reversal(&self) -> Result<Option<ArmedReversal>, MemoryError> {
        Ok(self.memory.armed().await?.into_iter().next())
    }

    /// The receipt data of the last purchase approved through this client, if it was `order`.
    pub fn receipt(&self, order: &OrderRef) -> Option<&CardReceipt> {
        self.last_receipt.as_ref().filter(|(o, _)| o == order).map(|(_, r)| r)
    }

    /// The approved purchase recorded for `order`.
    pub async fn recorded(&self, order: &OrderRef) -> Result<Option<CardTxn>, MemoryError> {
        self.memory.txn(order).await
    }

    /// Link counters.
    pub fn stats(&self) -> LinkStats {
        self.link.stats()
    }

    fn request(&self, trans: TransType, amount: Fen, info: IndustryInfo) -> Request {
        Request {
            pos_no: self.settings.pos_no.clone(),
            operator: self.settings.operator.clone(),
            trans,
            amount,
            orig_date: String::new(),
            orig_ref_no: String::new(),
            orig_voucher: String::new(),
            info,
        }
    }

    /// Sends `req` and returns the response that answers it; stale responses (another type or
    /// reference) are skipped until `wait` runs out.
    async fn call(&mut self, req: &Request, wait: Duration) -> Result<Response, LinkError> {
        let record = req.encode()?;
        let deadline = Instant::now() + wait;
        self.link.send_record(&record).await?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let rec = self.link.recv_record(left).await?;
            let r = Response::decode_answer(&rec, req)?;
            let ours = r.reply_to == req.trans
                && (req.trans == TransType::QueryLast || r.info.reference == req.info.reference);
            if ours {
                return Ok(r);
            }
            tracing::debug!(reply_to = ?r.reply_to, "stale terminal response skipped");
        }
    }

    /// QUERY_LAST: the terminal's last transaction.
    pub async fn query_last(&mut self) -> Result<Response, LinkError> {
        let req = self.request(TransType::QueryLast, Fen::ZERO, IndustryInfo::default());
        let wait = self.settings.query_timeout;
        self.call(&req, wait).await
    }

    /// Online when QUERY_LAST is answered.
    pub async fn device_status(&mut self) -> DeviceStatus<TerminalDetail> {
        let ok = self.query_last().await.is_ok();
        let (armed_reversal, memory_error) = match self.armed_reversal().await {
            Ok(armed) => (armed.map(|a| a.order), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let detail = TerminalDetail { armed_reversal, memory_error, stats: self.stats() };
        DeviceStatus {
            device: if ok { DeviceState::Online } else { DeviceState::Offline },
            media: MediaState::NotSupported,
            detail,
        }
    }
}

fn failed(kind: FailKind, code: &str, message: &str) -> PayReply {
    PayReply::Failed { kind, code: code.into(), message: message.into() }
}

/// The channel transaction id of a card purchase: its reference no. (检索参考号), which is what
/// the acquirer's statement carries; the voucher no. when the terminal sent none.
fn channel_txn(t: &CardTxn) -> String {
    if t.ref_no.is_empty() {
        format!("V{}", t.voucher)
    } else {
        t.ref_no.clone()
    }
}
