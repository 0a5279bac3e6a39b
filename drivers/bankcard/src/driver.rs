//! [`PaymentTerminal`]: the bank card as a payment channel, with the four calls of every
//! channel client (`crates/payments`): pay, query, reverse, refund, keyed by our order number.
//!
//! The kiosk's payment machine journals its intent, then calls `pay`; on an unknown outcome it
//! calls `query` (QUERY_LAST); at its deadline it calls `reverse`. Each call is made by the
//! payment machine of the order it names, so whatever it sends is journaled against that order.
//! The driver adds the card terminal's own safety net (payments.md §3.2, C1), kept in a
//! [`TerminalMemory`] it is given (the kiosk's journal; the driver owns no files). The rules
//! below are decided in `kiosk_core::card_terminal` (pure, with its table of every case); this
//! file reads the records, asks there, and carries the answer out:
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

use crate::codec::{Request, Response, MAX_AMOUNT};
use crate::config::TerminalConfig;
use crate::frame::{IndustryInfo, MaskedPan, TransType};
use crate::store::{
    ArmedReversal, CardTxn, MemoryError, OpState, RefundRecord, ReversalState, TerminalMemory,
};
use crate::transport::{EcrLink, LinkError, LinkStats, LinkTiming};
use device::reconnect::{BackoffPolicy, Connector, Reconnecting};
use device::serial::SerialConnector;
use device::{DeviceState, DeviceStatus, MediaState};
use kiosk_core::card_terminal::{
    self as rules, AfterLastResult, AfterReversal, AfterSale, BeforeSale, LastKind, OpAnswer, Purchase,
    SaleRecords,
};
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

    /// Closes `order`'s reversal record as `state`; `Err` (the detail of an unknown outcome)
    /// when the memory failed.
    async fn disarm(&self, order: &OrderRef, state: ReversalState, detail: &str) -> Result<(), String> {
        self.memory.disarm(order, state, detail).await.map_err(|e| memory_unknown(&e))?;
        tracing::info!(order = %order, state = state.as_str(), "reversal record closed");
        Ok(())
    }

    /// Records the approval of `order` (unless already recorded), then disarms its reversal; the
    /// channel transaction id. `Err` when the memory failed: the outcome is then unknown to the
    /// caller, and asking again finds the same approval.
    async fn remember_approval(&mut self, order: &OrderRef, r: &Response) -> Result<String, String> {
        let existing = self.memory.txn(order).await.map_err(|e| memory_unknown(&e))?;
        let txn = match existing {
            Some(t) => t,
            None => {
                let t = CardTxn {
                    order: order.clone(),
                    amount: r.amount,
                    voucher: r.voucher.clone(),
                    ref_no: r.ref_no.clone(),
                    date: full_date(&r.date),
                    batch: r.batch.clone(),
                    auth_code: r.auth_code.clone(),
                    card_tail: r.pan.as_ref().and_then(MaskedPan::tail_digits).map(str::to_string),
                    void: None,
                    refunds: Vec::new(),
                };
                // The purchase is recorded before the reversal is disarmed: a crash in between
                // leaves an armed reversal of a recorded purchase, resolved by asking again.
                self.memory.put_txn(&t).await.map_err(|e| memory_unknown(&e))?;
                t
            }
        };
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
        self.disarm(order, ReversalState::Answered, "sale approved").await?;
        Ok(channel_txn(&txn))
    }

    /// `RV` for `order`. An answer (reversed, or "no such transaction") closes its record; a
    /// decline keeps it as refused and gives `Refused`, for the payment machine to settle.
    async fn reversal(&mut self, order: &OrderRef, amount: Fen) -> ReverseReply {
        let req = self.request(TransType::Reversal, amount, IndustryInfo::order(order.as_str()));
        let wait = self.settings.query_timeout;
        let r = match self.call(&req, wait).await {
            Ok(r) => r,
            Err(e) => return ReverseReply::Retry { detail: unknown(e) },
        };
        let detail = code_detail(&r);
        match rules::after_reversal(r.code.verdict()) {
            AfterReversal::Reversed => {
                match self.memory.txn(order).await {
                    Ok(Some(mut t)) => {
                        t.void = Some(OpState::Done);
                        if let Err(e) = self.memory.put_txn(&t).await {
                            return ReverseReply::Retry { detail: memory_unknown(&e) };
                        }
                    }
                    Ok(None) => {}
                    Err(e) => return ReverseReply::Retry { detail: memory_unknown(&e) },
                }
                match self.disarm(order, ReversalState::Answered, &detail).await {
                    Ok(()) => ReverseReply::Done { refunded: Some(true) },
                    Err(detail) => ReverseReply::Retry { detail },
                }
            }
            AfterReversal::NeverHappened => {
                match self.disarm(order, ReversalState::Answered, &detail).await {
                    Ok(()) => ReverseReply::Done { refunded: Some(false) },
                    Err(detail) => ReverseReply::Retry { detail },
                }
            }
            AfterReversal::Refused => {
                tracing::error!(order = %order, code = %r.code, "terminal refused a reversal; the record is kept");
                match self.disarm(order, ReversalState::Refused, &detail).await {
                    Ok(()) => ReverseReply::Refused { detail },
                    Err(detail) => ReverseReply::Retry { detail },
                }
            }
            AfterReversal::Retry => ReverseReply::Retry { detail },
        }
    }

    /// What the memory holds for a sale of `order` ([`rules::SaleRecords`]), its purchase on
    /// record, and another order whose reversal is armed (for the log). Read in the order the
    /// rules look (purchase, this order's reversal, the others'), and no further than the first
    /// record that decides: a later read that fails must not hide an earlier one that found
    /// something.
    async fn sale_records(
        &self,
        order: &OrderRef,
    ) -> Result<(Option<CardTxn>, SaleRecords, Option<OrderRef>), MemoryError> {
        let txn = self.memory.txn(order).await?;
        let purchase =
            txn.as_ref().map(|t| if t.void.is_none() { Purchase::Approved } else { Purchase::Voided });
        let mut records = SaleRecords { purchase, reversal: None, another_armed: false };
        if purchase.is_some() {
            return Ok((txn, records, None));
        }
        records.reversal = self.memory.reversal(order).await?.map(|r| r.state);
        if records.reversal.is_some_and(ReversalState::is_open) {
            return Ok((txn, records, None));
        }
        let another = self.memory.armed().await?.into_iter().map(|r| r.order).find(|armed| armed != order);
        records.another_armed = another.is_some();
        Ok((txn, records, another))
    }

    /// Purchase (`00`) of `amount` for `order`. Refused with `REVERSAL_PENDING`, before anything
    /// is sent, while another order's reversal is armed.
    pub async fn pay(&mut self, order: &OrderRef, amount: Fen) -> PayReply {
        if !(1..=MAX_AMOUNT).contains(&amount.0) {
            return failed(FailKind::Config, "AMOUNT", "amount out of range for the terminal");
        }
        let (txn, records, another) = match self.sale_records(order).await {
            Ok(found) => found,
            Err(e) => return failed(FailKind::Config, "MEMORY", &e.to_string()),
        };
        match rules::before_sale(records) {
            BeforeSale::AlreadyPaid => {
                return PayReply::Paid { channel_txn: txn.as_ref().map(channel_txn).unwrap_or_default() }
            }
            BeforeSale::AlreadyVoided => return PayReply::AlreadyUsed { code: "VOIDED".into() },
            BeforeSale::AskFirst => {
                return match self.query(order, amount).await {
                    QueryReply::Paid { channel_txn } => PayReply::Paid { channel_txn },
                    _ => PayReply::Unknown { detail: "an earlier attempt for this order is in doubt".into() },
                };
            }
            BeforeSale::InDoubt => {
                return PayReply::Unknown {
                    detail: "an earlier attempt for this order is in doubt: its reversal was refused".into(),
                };
            }
            BeforeSale::AnotherArmed => {
                tracing::warn!(order = %order, armed = ?another, "another order's reversal is armed; sale not sent");
                return failed(
                    FailKind::Config,
                    "REVERSAL_PENDING",
                    "an earlier card transaction is still being reversed; nothing was charged",
                );
            }
            BeforeSale::ArmAndSend => {}
        }
        let armed =
            ArmedReversal { order: order.clone(), amount, armed_at: now_ms(), state: ReversalState::Armed };
        if let Err(e) = self.memory.arm(&armed).await {
            return failed(FailKind::Config, "MEMORY", &e.to_string());
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
        match rules::after_sale(r.code.verdict(), r.amount == amount) {
            AfterSale::Record => match self.remember_approval(order, &r).await {
                Ok(channel_txn) => PayReply::Paid { channel_txn },
                Err(detail) => PayReply::Unknown { detail },
            },
            AfterSale::OtherAmount => {
                tracing::error!(order = %order, "terminal approved a different amount; reversal stays armed");
                PayReply::Unknown { detail: "approved amount differs from the request".into() }
            }
            AfterSale::Declined(kind) => {
                match self.disarm(order, ReversalState::Answered, &code_detail(&r)).await {
                    Ok(()) => PayReply::Failed { kind, code: r.code.as_string(), message: r.message },
                    Err(detail) => PayReply::Unknown { detail },
                }
            }
            AfterSale::KeepArmed => PayReply::Unknown { detail: code_detail(&r) },
        }
    }

    /// Last-result query for `order` of `amount`: a sale approved for this order *and this
    /// amount* → `Paid`; approved for another amount → `Unknown` (the reversal stays armed);
    /// another order or none → `NotFound`; still running → `Waiting`.
    pub async fn query(&mut self, order: &OrderRef, amount: Fen) -> QueryReply {
        let r = match self.query_last().await {
            Ok(r) => r,
            Err(e) => return QueryReply::Unknown { detail: unknown(e) },
        };
        let about_us = match r.trans {
            None => false,
            Some(TransType::Refund) => r.info.original == order.as_str(),
            Some(_) => r.info.reference == order.as_str(),
        };
        let kind = match r.trans {
            Some(TransType::Sale) => LastKind::Sale,
            Some(TransType::Void | TransType::Refund) => LastKind::Undo { reversal: false },
            Some(TransType::Reversal) => LastKind::Undo { reversal: true },
            Some(TransType::QueryLast) | None => LastKind::Other,
        };
        match rules::after_last_result(kind, about_us, r.code.verdict(), r.amount == amount) {
            // The reversal (if armed) stays armed: it is answered `25` when nothing happened.
            AfterLastResult::NotOurs => QueryReply::NotFound,
            AfterLastResult::Waiting => QueryReply::Waiting,
            AfterLastResult::Record => match self.remember_approval(order, &r).await {
                Ok(channel_txn) => QueryReply::Paid { channel_txn },
                Err(detail) => QueryReply::Unknown { detail },
            },
            AfterLastResult::OtherAmount => {
                tracing::error!(
                    order = %order,
                    approved = r.amount.0,
                    expected = amount.0,
                    "last result approved another amount; reversal stays armed"
                );
                QueryReply::Unknown {
                    detail: format!(
                        "the last result approved {} fen for this order, not {} fen",
                        r.amount.0, amount.0
                    ),
                }
            }
            AfterLastResult::Declined | AfterLastResult::NeverHappened => {
                match self.disarm(order, ReversalState::Answered, &code_detail(&r)).await {
                    Ok(()) => QueryReply::Failed { code: r.code.as_string() },
                    Err(detail) => QueryReply::Unknown { detail },
                }
            }
            AfterLastResult::Undone => {
                if let Err(detail) = self.disarm(order, ReversalState::Answered, &code_detail(&r)).await {
                    return QueryReply::Unknown { detail };
                }
                match self.memory.txn(order).await {
                    Ok(t) => QueryReply::PaidThenRefunded {
                        channel_txn: t.map_or_else(|| r.ref_no.clone(), |t| channel_txn(&t)),
                    },
                    Err(e) => QueryReply::Unknown { detail: memory_unknown(&e) },
                }
            }
            AfterLastResult::Unknown => QueryReply::Unknown { detail: code_detail(&r) },
        }
    }

    /// Undo `order`: void by voucher no. when its approval is on record, otherwise a reversal
    /// by reference (the terminal reverses it if it was approved, answers `25` if it never was).
    /// Only `order`'s own records are touched: another order's armed reversal is never sent here.
    pub async fn reverse(&mut self, order: &OrderRef) -> ReverseReply {
        let txn = match self.memory.txn(order).await {
            Ok(t) => t,
            Err(e) => return ReverseReply::Retry { detail: memory_unknown(&e) },
        };
        let Some(mut t) = txn else {
            let amount = match self.memory.reversal(order).await {
                Ok(record) => record.map_or(Fen::ZERO, |r| r.amount),
                Err(e) => return ReverseReply::Retry { detail: memory_unknown(&e) },
            };
            return self.reversal(order, amount).await;
        };
        match t.void {
            Some(OpState::Done) => return ReverseReply::Done { refunded: Some(true) },
            Some(OpState::InDoubt) => {
                // The last void's answer was lost: ask before sending it again.
                match self.query_last().await {
                    Ok(r) if r.trans == Some(TransType::Void) && r.info.reference == order.as_str() => {
                        match rules::after_void_or_refund(r.code.verdict()) {
                            OpAnswer::Done => return self.void_done(&mut t, true).await,
                            OpAnswer::Refused => return self.void_done(&mut t, false).await,
                            OpAnswer::Unknown => return ReverseReply::Retry { detail: code_detail(&r) },
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return ReverseReply::Retry { detail: unknown(e) },
                }
            }
            Some(OpState::Refused) | None => {}
        }
        t.void = Some(OpState::InDoubt);
        if let Err(e) = self.memory.put_txn(&t).await {
            return ReverseReply::Retry { detail: memory_unknown(&e) };
        }
        let mut req = self.request(TransType::Void, t.amount, IndustryInfo::order(order.as_str()));
        req.orig_voucher = t.voucher.clone();
        let wait = self.settings.query_timeout;
        match self.call(&req, wait).await {
            Ok(r) => match rules::after_void_or_refund(r.code.verdict()) {
                OpAnswer::Done => self.void_done(&mut t, true).await,
                OpAnswer::Refused => {
                    tracing::warn!(order = %order, code = %r.code, "void refused; a refund is needed");
                    self.void_done(&mut t, false).await
                }
                OpAnswer::Unknown => ReverseReply::Retry { detail: code_detail(&r) },
            },
            Err(e) => ReverseReply::Retry { detail: unknown(e) },
        }
    }

    async fn void_done(&mut self, t: &mut CardTxn, approved: bool) -> ReverseReply {
        // A void the terminal refuses (batch already settled) leaves the purchase standing: the
        // kiosk goes on to a refund, so nothing is recorded against it.
        t.void = approved.then_some(OpState::Done);
        if let Err(e) = self.memory.put_txn(t).await {
            return ReverseReply::Retry { detail: memory_unknown(&e) };
        }
        if !approved {
            return ReverseReply::Refused { detail: "terminal refused the void".into() };
        }
        match self.disarm(&t.order, ReversalState::Answered, "voided").await {
            Ok(()) => ReverseReply::Done { refunded: Some(true) },
            Err(detail) => ReverseReply::Retry { detail },
        }
    }

    /// Refund (`02`) `amount` of `order`'s purchase under our stable `refund_no`. When no
    /// approval of `order` was ever heard but its reversal record is still open for the same
    /// amount (the statements showed the charge), the whole amount goes back by that reversal.
    pub async fn refund(&mut self, order: &OrderRef, refund_no: &str, amount: Fen) -> RefundReply {
        if !IndustryInfo::valid_ref(refund_no) || refund_no.is_empty() || !amount.is_positive() {
            return RefundReply::Refused { detail: "bad refund number or amount".into() };
        }
        let mut t = match self.memory.txn(order).await {
            Ok(Some(t)) => t,
            Ok(None) => return self.refund_by_reversal(order, amount).await,
            Err(e) => return RefundReply::Unknown { detail: memory_unknown(&e) },
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
                        match rules::after_void_or_refund(r.code.verdict()) {
                            OpAnswer::Done => {
                                return self.refund_done(&mut t, refund_no, OpState::Done).await
                            }
                            OpAnswer::Refused => {
                                return self.refund_done(&mut t, refund_no, OpState::Refused).await
                            }
                            OpAnswer::Unknown => return RefundReply::Unknown { detail: code_detail(&r) },
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
        if let Err(e) = self.memory.put_txn(&t).await {
            return RefundReply::Unknown { detail: memory_unknown(&e) };
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
            Ok(r) => match rules::after_void_or_refund(r.code.verdict()) {
                OpAnswer::Done => self.refund_done(&mut t, refund_no, OpState::Done).await,
                OpAnswer::Refused => self.refund_done(&mut t, refund_no, OpState::Refused).await,
                OpAnswer::Unknown => RefundReply::Unknown { detail: code_detail(&r) },
            },
            Err(e) => RefundReply::Unknown { detail: unknown(e) },
        }
    }

    /// The refund of a purchase never heard of: `order`'s own open reversal, for the whole amount.
    async fn refund_by_reversal(&mut self, order: &OrderRef, amount: Fen) -> RefundReply {
        let record = match self.memory.reversal(order).await {
            Ok(record) => record,
            Err(e) => return RefundReply::Unknown { detail: memory_unknown(&e) },
        };
        let open = record.is_some_and(|r| r.state.is_open() && r.amount == amount);
        if !open {
            return RefundReply::Refused {
                detail: "no approved card purchase on record for this order".into(),
            };
        }
        match self.reversal(order, amount).await {
            ReverseReply::Done { refunded: Some(true) } => RefundReply::Refunded,
            ReverseReply::Done { .. } => {
                RefundReply::Refused { detail: "the terminal holds no purchase for this order".into() }
            }
            ReverseReply::Refused { detail } => RefundReply::Refused { detail },
            ReverseReply::Retry { detail } => RefundReply::Unknown { detail },
        }
    }

    async fn refund_done(&mut self, t: &mut CardTxn, refund_no: &str, state: OpState) -> RefundReply {
        if let Some(r) = t.refunds.iter_mut().find(|r| r.refund_no == refund_no) {
            r.state = state;
        }
        if let Err(e) = self.memory.put_txn(t).await {
            return RefundReply::Unknown { detail: memory_unknown(&e) };
        }
        match state {
            OpState::Done => RefundReply::Refunded,
            _ => RefundReply::Refused { detail: "terminal refused the refund".into() },
        }
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
