//! [`PaymentTerminal`]: the bank card as a payment channel, with the four calls of every
//! channel client (`crates/payments`): pay, query, reverse, refund, keyed by our order number.
//!
//! The kiosk's payment machine journals its intent, then calls `pay`; on an unknown outcome it
//! calls `query` (QUERY_LAST); at its deadline it calls `reverse`. The driver adds the card
//! terminal's own safety net (payments.md §3.2, C1):
//!
//! 1. **Armed reversal.** Before a sale frame leaves the kiosk, `{order, amount}` is written to
//!    `<data_dir>/armed-reversal.json` and fsync'd ([`crate::store`]).
//! 2. **Disarm on a definite answer** about that sale: approved or declined (from the sale's
//!    response or from QUERY_LAST naming our order), or the reversal answered.
//! 3. **Send it before the next transaction.** Before any sale, void or refund, an armed reversal
//!    for another order is sent (`RV`, by our reference); while it stays unanswered no new
//!    transaction starts (the sale is refused with `REVERSAL_PENDING`: nothing was sent for it).
//!    A QUERY_LAST never waits for it: after a power cut the kiosk asks for the last result
//!    *first* (payments.md F15), and a sale QUERY_LAST finds approved is disarmed, not reversed.
//!
//! Outcomes never turn "unknown" into "failed": a timeout, a NAK'd or unacknowledged frame, a
//! bad LRC on every retransmission, a code we do not know, all give `Unknown` / `Retry`.
//! `Failed` and `Refused` come only from a definite terminal answer, or when nothing was sent.

use crate::codec::{Request, Response, MAX_AMOUNT};
use crate::config::TerminalConfig;
use crate::frame::{IndustryInfo, MaskedPan, TransType, Verdict};
use crate::store::{ArmedReversal, CardTxn, OpState, RefundRecord, StoreError, TxnStore};
use crate::transport::{EcrLink, LinkError, LinkStats, LinkTiming};
use device::reconnect::{BackoffPolicy, Connector, Reconnecting};
use device::serial::SerialConnector;
use device::{DeviceState, DeviceStatus, MediaState};
use kiosk_core::{FailKind, Fen, OrderRef, PayReply, QueryReply, RefundReply, ReverseReply};
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
    /// The data directory cannot be used.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the terminal knows beyond online/offline, for `yizhan devices` and the staff screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerminalDetail {
    /// The order whose reversal is armed, if any.
    pub armed_reversal: Option<OrderRef>,
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

/// A certified payment terminal spoken to over the ECR link.
#[derive(Debug)]
pub struct PaymentTerminal<C: Connector = SerialConnector> {
    link: EcrLink<C>,
    store: TxnStore,
    settings: TerminalSettings,
    last_receipt: Option<(OrderRef, CardReceipt)>,
}

impl PaymentTerminal<SerialConnector> {
    /// The terminal of a `kiosk.toml` entry. Does not open the port yet.
    pub fn from_config(cfg: &TerminalConfig) -> Result<Self, TerminalError> {
        cfg.validate()?;
        let settings = TerminalSettings {
            pos_no: cfg.pos_no.clone(),
            operator: cfg.operator.clone(),
            transaction_timeout: Duration::from_millis(cfg.transaction_timeout_ms),
            query_timeout: Duration::from_millis(cfg.query_timeout_ms),
            link: cfg.link_timing(),
        };
        let store = TxnStore::open(&cfg.data_dir)?;
        Ok(PaymentTerminal::new(
            SerialConnector::new(cfg.serial.clone()),
            cfg.serial.backoff(),
            settings,
            store,
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

fn full_date(mmdd: &str) -> String {
    let now = chrono::Local::now().date_naive();
    let today = now.format("%m%d").to_string();
    let year = if mmdd.len() == 4 && mmdd > today.as_str() {
        // December's purchase seen on 1 January.
        now.format("%Y").to_string().parse::<i32>().unwrap_or(2000) - 1
    } else {
        now.format("%Y").to_string().parse::<i32>().unwrap_or(2000)
    };
    if mmdd.len() == 4 {
        format!("{year:04}{mmdd}")
    } else {
        now.format("%Y%m%d").to_string()
    }
}

impl<C: Connector> PaymentTerminal<C> {
    /// A terminal reached through `connector`, remembering its state in `store`.
    pub fn new(connector: C, backoff: BackoffPolicy, settings: TerminalSettings, store: TxnStore) -> Self {
        let link = EcrLink::new(Reconnecting::new(connector, backoff), settings.link);
        PaymentTerminal { link, store, settings, last_receipt: None }
    }

    /// The armed reversal (the sale whose outcome the driver has not heard), for the runtime
    /// to journal and report. `None` also when the file cannot be read (logged).
    pub fn armed_reversal(&self) -> Option<ArmedReversal> {
        self.store.armed().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the armed reversal");
            None
        })
    }

    /// The receipt data of the last purchase approved through this client, if it was `order`.
    pub fn receipt(&self, order: &OrderRef) -> Option<&CardReceipt> {
        self.last_receipt.as_ref().filter(|(o, _)| o == order).map(|(_, r)| r)
    }

    /// The approved purchase recorded for `order`.
    pub fn recorded(&self, order: &OrderRef) -> Option<CardTxn> {
        self.store.txn(order).ok().flatten()
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
            let r = Response::decode(&rec)?;
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

    fn disarm_if(&self, order: &OrderRef) {
        match self.store.armed() {
            Ok(Some(a)) if a.order == *order => {
                if let Err(e) = self.store.disarm() {
                    tracing::error!(error = %e, "cannot disarm the reversal");
                } else {
                    tracing::info!(order = %order, "reversal disarmed");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot read the armed reversal"),
        }
    }

    fn remember_approval(&mut self, order: &OrderRef, r: &Response) -> String {
        let existing = self.store.txn(order).ok().flatten();
        let txn = existing.unwrap_or_else(|| CardTxn {
            order: order.clone(),
            amount: r.amount,
            voucher: r.voucher.clone(),
            ref_no: r.ref_no.clone(),
            date: full_date(&r.date),
            batch: r.batch.clone(),
            auth_code: r.auth_code.clone(),
            void: None,
            refunds: Vec::new(),
        });
        // The purchase is recorded before the reversal is disarmed: a crash in between leaves
        // an armed reversal of a recorded purchase, which is resolved by asking again.
        if let Err(e) = self.store.put_txn(&txn) {
            tracing::error!(error = %e, order = %order, "cannot record the approved purchase");
        }
        self.last_receipt = Some((
            order.clone(),
            CardReceipt {
                pan: r.pan.clone(),
                issuer: r.issuer.clone(),
                voucher: r.voucher.clone(),
                ref_no: r.ref_no.clone(),
                auth_code: r.auth_code.clone(),
                batch: r.batch.clone(),
                terminal_id: r.terminal_id.clone(),
                merchant_id: r.merchant_id.clone(),
            },
        ));
        self.disarm_if(order);
        channel_txn(&txn)
    }

    /// Sends the armed reversal of another order, if any. `Err` when it stays armed.
    async fn clear_armed(&mut self, except: Option<&OrderRef>) -> Result<(), String> {
        let armed = self.store.armed().map_err(unknown)?;
        let Some(a) = armed else { return Ok(()) };
        if Some(&a.order) == except {
            return Ok(());
        }
        tracing::info!(order = %a.order, "sending the armed reversal before the next transaction");
        match self.reversal(&a.order, a.amount).await {
            ReverseReply::Done { .. } | ReverseReply::Refused { .. } => Ok(()),
            ReverseReply::Retry { detail } => Err(detail),
        }
    }

    /// `RV` for `order`; disarms on any definite answer.
    async fn reversal(&mut self, order: &OrderRef, amount: Fen) -> ReverseReply {
        let req = self.request(TransType::Reversal, amount, IndustryInfo::order(order.as_str()));
        let wait = self.settings.query_timeout;
        let r = match self.call(&req, wait).await {
            Ok(r) => r,
            Err(e) => return ReverseReply::Retry { detail: unknown(e) },
        };
        let reply = match r.code.verdict() {
            Verdict::Approved => ReverseReply::Done { refunded: Some(true) },
            Verdict::NotFound => ReverseReply::Done { refunded: Some(false) },
            Verdict::Declined(_) => ReverseReply::Refused { detail: code_detail(&r) },
            Verdict::InProgress | Verdict::Unknown => {
                return ReverseReply::Retry { detail: code_detail(&r) };
            }
        };
        if matches!(reply, ReverseReply::Refused { .. }) {
            tracing::error!(order = %order, code = %r.code, "terminal refused a reversal; staff must check");
        }
        if let Ok(Some(mut t)) = self.store.txn(order) {
            if reply == (ReverseReply::Done { refunded: Some(true) }) {
                t.void = Some(OpState::Done);
                let _ = self.store.put_txn(&t).map_err(|e| tracing::error!(error = %e, "store"));
            }
        }
        self.disarm_if(order);
        reply
    }

    /// Purchase (`00`) of `amount` for `order`.
    pub async fn pay(&mut self, order: &OrderRef, amount: Fen) -> PayReply {
        if !(1..=MAX_AMOUNT).contains(&amount.0) {
            return failed(FailKind::Config, "AMOUNT", "amount out of range for the terminal");
        }
        // An approved purchase already on record: never charge twice.
        match self.store.txn(order) {
            Ok(Some(t)) if t.void.is_none() => return PayReply::Paid { channel_txn: channel_txn(&t) },
            Ok(Some(_)) => return PayReply::AlreadyUsed { code: "VOIDED".into() },
            Ok(None) => {}
            Err(e) => return failed(FailKind::Config, "STORE", &e.to_string()),
        }
        match self.store.armed() {
            Err(e) => return failed(FailKind::Config, "STORE", &e.to_string()),
            Ok(Some(a)) if a.order == *order => {
                // This very sale is in doubt: ask, never resend blindly.
                return match self.query(order).await {
                    QueryReply::Paid { channel_txn } => PayReply::Paid { channel_txn },
                    _ => PayReply::Unknown { detail: "an earlier attempt for this order is in doubt".into() },
                };
            }
            Ok(Some(_)) => {
                if let Err(detail) = self.clear_armed(Some(order)).await {
                    tracing::warn!(%detail, "armed reversal still unanswered; sale not sent");
                    return failed(
                        FailKind::Config,
                        "REVERSAL_PENDING",
                        "an earlier card transaction is still being reversed",
                    );
                }
            }
            Ok(None) => {}
        }
        let armed =
            ArmedReversal { order: order.clone(), amount, armed_at: chrono::Local::now().to_rfc3339() };
        if let Err(e) = self.store.arm(&armed) {
            return failed(FailKind::Config, "STORE", &e.to_string());
        }
        let req = self.request(TransType::Sale, amount, IndustryInfo::order(order.as_str()));
        let wait = self.settings.transaction_timeout;
        let r = match self.call(&req, wait).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(order = %order, error = %e, "sale outcome unknown; reversal stays armed");
                return PayReply::Unknown { detail: unknown(e) };
            }
        };
        match r.code.verdict() {
            Verdict::Approved if r.amount == amount => {
                PayReply::Paid { channel_txn: self.remember_approval(order, &r) }
            }
            Verdict::Approved => {
                tracing::error!(order = %order, "terminal approved a different amount; reversal stays armed");
                PayReply::Unknown { detail: "approved amount differs from the request".into() }
            }
            Verdict::Declined(kind) => {
                self.disarm_if(order);
                PayReply::Failed { kind, code: r.code.as_string(), message: r.message }
            }
            Verdict::InProgress | Verdict::NotFound | Verdict::Unknown => {
                PayReply::Unknown { detail: code_detail(&r) }
            }
        }
    }

    /// Last-result query for `order`: approved for this order → `Paid`; another order or none →
    /// `NotFound`; still running → `Waiting`.
    pub async fn query(&mut self, order: &OrderRef) -> QueryReply {
        let r = match self.query_last().await {
            Ok(r) => r,
            Err(e) => return QueryReply::Unknown { detail: unknown(e) },
        };
        let about_us = match r.trans {
            None => false,
            Some(TransType::Refund) => r.info.original == order.as_str(),
            Some(_) => r.info.reference == order.as_str(),
        };
        if !about_us {
            // The reversal (if armed) stays armed: it is answered `25` when nothing happened.
            return QueryReply::NotFound;
        }
        let verdict = r.code.verdict();
        match (r.trans, verdict) {
            (_, Verdict::InProgress) => QueryReply::Waiting,
            (Some(TransType::Sale), Verdict::Approved) => {
                QueryReply::Paid { channel_txn: self.remember_approval(order, &r) }
            }
            (Some(TransType::Sale), Verdict::Declined(_)) => {
                self.disarm_if(order);
                QueryReply::Failed { code: r.code.as_string() }
            }
            (Some(TransType::Void | TransType::Reversal | TransType::Refund), Verdict::Approved) => {
                self.disarm_if(order);
                let channel_txn = self.recorded(order).map_or_else(|| r.ref_no.clone(), |t| channel_txn(&t));
                QueryReply::PaidThenRefunded { channel_txn }
            }
            (Some(TransType::Reversal), Verdict::NotFound) => {
                self.disarm_if(order);
                QueryReply::Failed { code: r.code.as_string() }
            }
            _ => QueryReply::Unknown { detail: code_detail(&r) },
        }
    }

    /// Undo `order`: void by voucher no. when its approval is on record, otherwise a reversal
    /// by reference (the terminal reverses it if it was approved, answers `25` if it never was).
    pub async fn reverse(&mut self, order: &OrderRef) -> ReverseReply {
        if let Err(detail) = self.clear_armed(Some(order)).await {
            return ReverseReply::Retry { detail };
        }
        let txn = match self.store.txn(order) {
            Ok(t) => t,
            Err(e) => return ReverseReply::Retry { detail: e.to_string() },
        };
        let Some(mut t) = txn else {
            let amount = self.armed_reversal().filter(|a| a.order == *order).map_or(Fen::ZERO, |a| a.amount);
            return self.reversal(order, amount).await;
        };
        match t.void {
            Some(OpState::Done) => return ReverseReply::Done { refunded: Some(true) },
            Some(OpState::InDoubt) => {
                // The last void's answer was lost: ask before sending it again.
                match self.query_last().await {
                    Ok(r) if r.trans == Some(TransType::Void) && r.info.reference == order.as_str() => {
                        match r.code.verdict() {
                            Verdict::Approved => return self.void_done(&mut t, true),
                            Verdict::Declined(_) | Verdict::NotFound => return self.void_done(&mut t, false),
                            _ => return ReverseReply::Retry { detail: code_detail(&r) },
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return ReverseReply::Retry { detail: unknown(e) },
                }
            }
            Some(OpState::Refused) | None => {}
        }
        t.void = Some(OpState::InDoubt);
        if let Err(e) = self.store.put_txn(&t) {
            return ReverseReply::Retry { detail: e.to_string() };
        }
        let mut req = self.request(TransType::Void, t.amount, IndustryInfo::order(order.as_str()));
        req.orig_voucher = t.voucher.clone();
        let wait = self.settings.query_timeout;
        match self.call(&req, wait).await {
            Ok(r) => match r.code.verdict() {
                Verdict::Approved => self.void_done(&mut t, true),
                Verdict::Declined(_) | Verdict::NotFound => {
                    tracing::warn!(order = %order, code = %r.code, "void refused; a refund is needed");
                    self.void_done(&mut t, false)
                }
                Verdict::InProgress | Verdict::Unknown => ReverseReply::Retry { detail: code_detail(&r) },
            },
            Err(e) => ReverseReply::Retry { detail: unknown(e) },
        }
    }

    fn void_done(&mut self, t: &mut CardTxn, approved: bool) -> ReverseReply {
        // A void the terminal refuses (batch already settled) leaves the purchase standing: the
        // kiosk goes on to a refund, so nothing is recorded against it.
        t.void = approved.then_some(OpState::Done);
        if let Err(e) = self.store.put_txn(t) {
            tracing::error!(error = %e, "cannot record the void");
        }
        if approved {
            self.disarm_if(&t.order);
            ReverseReply::Done { refunded: Some(true) }
        } else {
            ReverseReply::Refused { detail: "terminal refused the void".into() }
        }
    }

    /// Refund (`02`) `amount` of `order`'s purchase under our stable `refund_no`.
    pub async fn refund(&mut self, order: &OrderRef, refund_no: &str, amount: Fen) -> RefundReply {
        if !IndustryInfo::valid_ref(refund_no) || refund_no.is_empty() || !amount.is_positive() {
            return RefundReply::Refused { detail: "bad refund number or amount".into() };
        }
        if let Err(detail) = self.clear_armed(None).await {
            return RefundReply::Unknown { detail };
        }
        let mut t = match self.store.txn(order) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return RefundReply::Refused {
                    detail: "no approved card purchase on record for this order".into(),
                }
            }
            Err(e) => return RefundReply::Unknown { detail: e.to_string() },
        };
        if t.void == Some(OpState::Done) {
            return RefundReply::Refused { detail: "the purchase was voided".into() };
        }
        if let Some(prev) = t.refunds.iter().find(|r| r.refund_no == refund_no) {
            match prev.state {
                OpState::Done => return RefundReply::Refunded,
                OpState::Refused => return RefundReply::Refused { detail: "refused earlier".into() },
                OpState::InDoubt => match self.query_last().await {
                    Ok(r) if r.trans == Some(TransType::Refund) && r.info.reference == refund_no => {
                        match r.code.verdict() {
                            Verdict::Approved => return self.refund_done(&mut t, refund_no, OpState::Done),
                            Verdict::Declined(_) | Verdict::NotFound => {
                                return self.refund_done(&mut t, refund_no, OpState::Refused)
                            }
                            _ => return RefundReply::Unknown { detail: code_detail(&r) },
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return RefundReply::Unknown { detail: unknown(e) },
                },
            }
        } else {
            let others = t.refunded();
            if others.0 + amount.0 > t.amount.0 {
                return RefundReply::Refused { detail: "refunds would exceed the purchase".into() };
            }
            t.refunds.push(RefundRecord { refund_no: refund_no.into(), amount, state: OpState::InDoubt });
        }
        if let Err(e) = self.store.put_txn(&t) {
            return RefundReply::Unknown { detail: e.to_string() };
        }
        let mut req = self.request(
            TransType::Refund,
            amount,
            IndustryInfo { reference: refund_no.into(), original: order.as_str().into() },
        );
        req.orig_date = t.date.clone();
        req.orig_ref_no = t.ref_no.clone();
        let wait = self.settings.query_timeout;
        match self.call(&req, wait).await {
            Ok(r) => match r.code.verdict() {
                Verdict::Approved => self.refund_done(&mut t, refund_no, OpState::Done),
                Verdict::Declined(_) | Verdict::NotFound => {
                    self.refund_done(&mut t, refund_no, OpState::Refused)
                }
                Verdict::InProgress | Verdict::Unknown => RefundReply::Unknown { detail: code_detail(&r) },
            },
            Err(e) => RefundReply::Unknown { detail: unknown(e) },
        }
    }

    fn refund_done(&mut self, t: &mut CardTxn, refund_no: &str, state: OpState) -> RefundReply {
        if let Some(r) = t.refunds.iter_mut().find(|r| r.refund_no == refund_no) {
            r.state = state;
        }
        if let Err(e) = self.store.put_txn(t) {
            tracing::error!(error = %e, "cannot record the refund");
        }
        match state {
            OpState::Done => RefundReply::Refunded,
            _ => RefundReply::Refused { detail: "terminal refused the refund".into() },
        }
    }

    /// Sends the armed reversal now, if there is one (for the runtime, once its own journal
    /// says that order is not paid). `Ok(None)`: nothing was armed.
    pub async fn send_armed_reversal(&mut self) -> Result<Option<ReverseReply>, StoreError> {
        let Some(a) = self.store.armed()? else { return Ok(None) };
        Ok(Some(self.reversal(&a.order, a.amount).await))
    }

    /// Online when QUERY_LAST is answered.
    pub async fn device_status(&mut self) -> DeviceStatus<TerminalDetail> {
        let ok = self.query_last().await.is_ok();
        let detail =
            TerminalDetail { armed_reversal: self.armed_reversal().map(|a| a.order), stats: self.stats() };
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
