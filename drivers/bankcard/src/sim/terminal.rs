//! A certified payment terminal, simulated: the ECR link of [`crate::codec`] on a pty, with the
//! state a real one keeps (last transaction, voucher counter, batch journal) and a ledger of
//! what it charged and gave back, by our order number, for tests to check "charged at most once".
//!
//! Behaviour of the link (the same rules the driver relies on):
//! - a good request frame is ACKed at once, a damaged one NAKed; a host NAK of a response makes
//!   the terminal send the response again (at most 3 times);
//! - a request record identical to the last money request is a retransmission: ACKed, answered
//!   with the stored response if there is one, never executed twice;
//! - `RV` reverses an approved sale with that reference (or answers `25`); `QL` answers the last
//!   transaction's record (`IP` while it runs, `NF` if there never was one).
//!
//! A real terminal goes online to its acquirer's host with every sale, void, refund and
//! reversal; the acquirer settles what stands and lists it in the merchant's settlement file.
//! [`TerminalSim::report_to`] gives the simulated one a host: each transaction it approves is
//! handed to it as a [`HostReport`] (the kiosk's simulated devices post them to the acquirer
//! simulator, which writes the file the hub reconciles).

use crate::codec::{decode_frame, Frame, Request, Response, ACK, NAK};
use crate::frame::{MaskedPan, RespCode, TransType};
use bytes::BytesMut;
use device::sim::{lock, Served};
use device::{FaultPlan, Pty, StableLink};
use kiosk_core::Fen;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the customer at the PIN pad does with the next sale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Customer {
    /// Card and PIN fine; the bank approves.
    Approve,
    /// The bank declines with this code (for example `51` insufficient funds).
    Decline(RespCode),
    /// Wrong PIN (`55`).
    WrongPin,
    /// The customer presses cancel (`CC`).
    Cancel,
}

/// Faults of hardware.md §6.5 and the link, applied to the next money request (sale, void,
/// refund, reversal) unless said otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TerminalFault {
    /// Approve (commit to the ledger), then never send the response.
    DropResponse,
    /// The request never reaches the terminal: no ACK, no transaction, for every retransmission
    /// of it. QUERY_LAST then knows nothing of it ("not found").
    LoseRequest,
    /// Power cut right after the ACK: if `commit`, the bank approved before the lights went out.
    /// The pty closes (the port vanishes) until [`TerminalSim::power_on`].
    PowerCut {
        /// Whether the sale was approved before the cut.
        commit: bool,
    },
    /// The sale stays "in progress" for this many QUERY_LAST polls, then completes with the
    /// customer's behaviour (its own response is never sent).
    InProgress {
        /// Polls answered `IP`.
        polls: u32,
    },
    /// NAK the next request frames this many times (any request, QUERY_LAST included).
    Nak {
        /// NAKs.
        times: u8,
    },
    /// The next money request (a reversal, say) is answered with this code and not executed:
    /// for example `12`, a reversal the host will not take.
    Refuse(RespCode),
}

/// One approved transaction as the terminal reports it to its acquirer's host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostReport {
    /// `Sale`, `Void`, `Refund` or `Reversal` (of the sale with this `reference`).
    pub trans: TransType,
    /// Our reference of the transaction: the order number (sale, void, reversal) or our refund
    /// number (refund).
    pub reference: String,
    /// A refund's order number; empty otherwise.
    pub original: String,
    /// The amount approved (of a reversal: the reversed sale's).
    pub amount: Fen,
    /// The merchant id (商户号) and terminal id (终端号) the terminal is set up with.
    pub merchant_id: String,
    /// See `merchant_id`.
    pub terminal_id: String,
    /// The batch no.
    pub batch: String,
    /// The voucher no. (the terminal's trace number).
    pub voucher: String,
    /// The reference no.; of a reversal, the reversed sale's.
    pub ref_no: String,
    /// Masked card number.
    pub pan: String,
    /// When the terminal approved it (UTC milliseconds).
    pub at: kiosk_core::Ts,
}

/// Where a simulated terminal reports what it approved: called under the terminal's lock, so
/// it must only hand the report on (spawn, send), never wait.
pub type HostLink = Arc<dyn Fn(HostReport) + Send + Sync>;

/// Money moved for one of our order numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Sales approved (more than one is a double charge).
    pub charges: u32,
    /// Sum approved.
    pub approved: Fen,
    /// Sum voided.
    pub voided: Fen,
    /// Sum reversed.
    pub reversed: Fen,
    /// Sum refunded.
    pub refunded: Fen,
}

impl LedgerEntry {
    /// What the customer is out of pocket.
    pub fn net(&self) -> Fen {
        Fen(self.approved.0 - self.voided.0 - self.reversed.0 - self.refunded.0)
    }
}

#[derive(Clone, Debug)]
struct JournalTxn {
    reference: String,
    amount: Fen,
    voucher: String,
    ref_no: String,
    undone: bool,
    refunded: Fen,
}

#[derive(Debug)]
struct InFlight {
    request: Request,
    polls_left: u32,
}

#[derive(Debug)]
struct State {
    customers: VecDeque<Customer>,
    think: Duration,
    faults: VecDeque<TerminalFault>,
    naks: u8,
    nak_all: bool,
    silent: bool,
    plan: FaultPlan,
    stan: u32,
    journal: Vec<JournalTxn>,
    last: Option<Response>,
    in_flight: Option<InFlight>,
    last_money_request: Option<Vec<u8>>,
    last_money_response: Option<Response>,
    lost: Option<Vec<u8>>,
    ledger: BTreeMap<String, LedgerEntry>,
    reversals_seen: Vec<String>,
    requests: Vec<TransType>,
    powered: bool,
    host: Option<Host>,
}

/// The host link, with a `Debug` that says only whether there is one.
#[derive(Clone)]
struct Host(HostLink);

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Host")
    }
}

impl State {
    fn report(&self, trans: TransType, approval: &Response, ref_no: &str) {
        let Some(Host(host)) = &self.host else { return };
        host(HostReport {
            trans,
            reference: approval.info.reference.clone(),
            original: approval.info.original.clone(),
            amount: approval.amount,
            merchant_id: approval.merchant_id.clone(),
            terminal_id: approval.terminal_id.clone(),
            batch: approval.batch.clone(),
            voucher: approval.voucher.clone(),
            ref_no: ref_no.to_string(),
            pan: approval.pan.as_ref().map(|p| p.as_receipt_text().to_string()).unwrap_or_default(),
            at: kiosk_core::Ts(chrono::Utc::now().timestamp_millis()),
        });
    }
}

impl Default for State {
    fn default() -> Self {
        State {
            customers: VecDeque::new(),
            think: Duration::ZERO,
            faults: VecDeque::new(),
            naks: 0,
            nak_all: false,
            silent: false,
            plan: FaultPlan::none(),
            stan: 0,
            journal: Vec::new(),
            last: None,
            in_flight: None,
            last_money_request: None,
            last_money_response: None,
            lost: None,
            ledger: BTreeMap::new(),
            reversals_seen: Vec::new(),
            requests: Vec::new(),
            powered: true,
            host: None,
        }
    }
}

/// A running simulated terminal.
#[derive(Debug)]
pub struct TerminalSim {
    state: Arc<Mutex<State>>,
    link: Option<StableLink>,
    path: PathBuf,
    /// The powered terminal's pty and task; `None` while the power is cut.
    port: Option<Served>,
}

impl TerminalSim {
    /// Opens a pty and starts answering. Must run inside a tokio runtime.
    pub fn start() -> std::io::Result<TerminalSim> {
        let mut sim = TerminalSim {
            state: Arc::new(Mutex::new(State::default())),
            link: None,
            path: PathBuf::new(),
            port: None,
        };
        sim.power_on()?;
        Ok(sim)
    }

    /// Like [`TerminalSim::start`], reachable through a symlink at `link` (a stable
    /// `/dev/serial/by-id` stand-in) that [`TerminalSim::power_on`] re-points after a power cut.
    pub fn start_linked(link: impl Into<PathBuf>) -> std::io::Result<TerminalSim> {
        let link = StableLink::new(link);
        let mut sim = TerminalSim {
            state: Arc::new(Mutex::new(State::default())),
            path: link.path().to_path_buf(),
            link: Some(link),
            port: None,
        };
        sim.power_on()?;
        Ok(sim)
    }

    /// The port the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Powers the terminal (back) on: a fresh pty, the link re-pointed. State survives.
    pub fn power_on(&mut self) -> std::io::Result<()> {
        self.port = None;
        let state = self.state.clone();
        let port = Served::start("bank terminal", |pty| run(pty, state))?;
        match &self.link {
            Some(link) => link.point_to(port.path())?,
            None => self.path = port.path().to_path_buf(),
        }
        self.lock().powered = true;
        self.port = Some(port);
        Ok(())
    }

    /// Cuts the power now: the pty closes, whatever is in flight stays as it is.
    pub fn power_cut(&mut self) {
        self.port = None;
        self.lock().powered = false;
        if let Some(link) = &self.link {
            let _ = link.remove();
        }
    }

    /// True unless the power is cut (by [`TerminalSim::power_cut`] or a fault).
    pub fn is_powered(&self) -> bool {
        self.lock().powered
    }

    /// The next customers, in order; after them every customer approves.
    pub fn push_customer(&self, c: Customer) {
        self.lock().customers.push_back(c);
    }

    /// Time the customer takes at the PIN pad.
    pub fn set_think_time(&self, d: Duration) {
        self.lock().think = d;
    }

    /// Queues a fault for the next money request (or, for [`TerminalFault::Nak`], frames).
    pub fn push_fault(&self, f: TerminalFault) {
        let mut s = self.lock();
        match f {
            TerminalFault::Nak { times } => s.naks = s.naks.saturating_add(times),
            other => s.faults.push_back(other),
        }
    }

    /// Forgets the queued faults and NAKs, and a request it was losing: the line is good again.
    pub fn clear_faults(&self) {
        let mut s = self.lock();
        s.faults.clear();
        s.naks = 0;
        s.lost = None;
    }

    /// Applies `plan` to every response frame (bad LRC = `Fault::CorruptChecksum`, which hits
    /// the LRC byte; truncate; garbage; delay; drop).
    pub fn set_fault_plan(&self, plan: FaultPlan) {
        self.lock().plan = plan;
    }

    /// Silent: powered but answering nothing, not even ACK.
    pub fn set_silent(&self, silent: bool) {
        self.lock().silent = silent;
    }

    /// A garbled link: while on, every request frame is NAKed at once and nothing is executed,
    /// so every call of the driver gives up quickly with its outcome unknown.
    pub fn set_nak_all(&self, on: bool) {
        self.lock().nak_all = on;
    }

    /// The ledger by our order number.
    pub fn ledger(&self) -> BTreeMap<String, LedgerEntry> {
        self.lock().ledger.clone()
    }

    /// The ledger entry of one order (default when nothing happened).
    pub fn entry(&self, order: &str) -> LedgerEntry {
        self.lock().ledger.get(order).cloned().unwrap_or_default()
    }

    /// Order numbers of every reversal (`RV`) received, in order.
    pub fn reversals_seen(&self) -> Vec<String> {
        self.lock().reversals_seen.clone()
    }

    /// Every request executed (retransmissions excluded), in order.
    pub fn requests(&self) -> Vec<TransType> {
        self.lock().requests.clone()
    }

    /// Reports every transaction approved from now on to `host` (see [`HostReport`]).
    pub fn report_to(&self, host: HostLink) {
        self.lock().host = Some(Host(host));
    }

    /// The voucher / STAN counter.
    pub fn stan(&self) -> u32 {
        self.lock().stan
    }
}

/// What the terminal does about one frame from the host.
#[derive(Default)]
struct Reply {
    /// ACK or NAK first.
    pre: Option<u8>,
    /// Customer time before the response.
    think: Duration,
    /// The response record.
    response: Option<Response>,
    /// The power goes out after the ACK.
    power_cut: bool,
}

impl Reply {
    fn nak() -> Reply {
        Reply { pre: Some(NAK), ..Reply::default() }
    }

    fn ack(response: Option<Response>) -> Reply {
        Reply { pre: Some(ACK), response, ..Reply::default() }
    }
}

async fn run(mut pty: Pty, state: Arc<Mutex<State>>) {
    let mut rx = BytesMut::with_capacity(1024);
    let mut last_sent: Option<Vec<u8>> = None;
    let mut resends = 0u8;
    let mut buf = vec![0u8; 1024];
    while let Ok(n @ 1..) = pty.master().read(&mut buf).await {
        rx.extend_from_slice(&buf[..n]);
        loop {
            let reply = match decode_frame(&mut rx) {
                Ok(None) => break,
                Ok(Some(Frame::Ack)) => {
                    resends = 0;
                    continue;
                }
                Ok(Some(Frame::Nak)) => {
                    // The host could not read our response: send it again, at most 3 times.
                    if let Some(frame) = last_sent.clone().filter(|_| resends < 3) {
                        resends += 1;
                        let out = lock(&state).plan.apply(frame);
                        tokio::time::sleep(out.delay).await;
                        if pty.master().write_all(&out.bytes).await.is_err() {
                            return;
                        }
                    }
                    continue;
                }
                Ok(Some(Frame::Data(rec))) => handle(&mut lock(&state), rec),
                Err(e) if e.wants_nak() && !lock(&state).silent => Reply::nak(),
                Err(_) => continue,
            };
            if let Some(b) = reply.pre {
                if pty.master().write_all(&[b]).await.is_err() {
                    return;
                }
            }
            if reply.power_cut {
                tracing::info!("bank terminal simulator: power cut");
                lock(&state).powered = false;
                return;
            }
            let Some(response) = reply.response else { continue };
            if !reply.think.is_zero() {
                tokio::time::sleep(reply.think).await;
            }
            let frame = wire::frame(&wire::response(&response));
            last_sent = Some(frame.clone());
            resends = 0;
            let out = lock(&state).plan.apply(frame);
            tokio::time::sleep(out.delay).await;
            if pty.master().write_all(&out.bytes).await.is_err() {
                return;
            }
        }
    }
}

fn handle(s: &mut State, rec: Vec<u8>) -> Reply {
    if s.silent || s.plan.is_silent() || s.lost.as_deref() == Some(&rec[..]) {
        return Reply::default();
    }
    if s.nak_all {
        return Reply::nak();
    }
    if s.naks > 0 {
        s.naks -= 1;
        return Reply::nak();
    }
    let Ok(req) = Request::decode(&rec) else { return Reply::nak() };
    if !req.trans.moves_money() {
        s.requests.push(TransType::QueryLast);
        return query_last(s);
    }
    if s.last_money_request.as_deref() == Some(&rec[..]) {
        // A retransmission (our ACK was lost): never execute twice.
        return Reply::ack(s.last_money_response.clone());
    }
    if s.faults.front() == Some(&TerminalFault::LoseRequest) {
        s.faults.pop_front();
        s.lost = Some(rec);
        return Reply::default();
    }
    s.last_money_request = Some(rec);
    s.last_money_response = None;
    if s.in_flight.is_some() {
        let mut busy = Response::bare(RespCode::IN_PROGRESS, req.trans);
        busy.info = req.info.clone();
        s.last_money_response = Some(busy.clone());
        return Reply::ack(Some(busy));
    }
    s.requests.push(req.trans);
    let fault = s.faults.pop_front();
    if let Some(TerminalFault::Refuse(code)) = fault {
        let refused = respond(s, code, &req, "交易拒绝");
        s.last_money_response = Some(refused.clone());
        return Reply::ack(Some(refused));
    }
    let reply = match req.trans {
        TransType::Sale => return sale(s, req, fault),
        TransType::Void => void(s, &req),
        TransType::Refund => refund(s, &req),
        TransType::Reversal => reversal(s, &req),
        TransType::QueryLast => return query_last(s),
    };
    match fault {
        Some(TerminalFault::DropResponse) => Reply::ack(None),
        Some(TerminalFault::PowerCut { .. }) => Reply { pre: Some(ACK), power_cut: true, ..Reply::default() },
        _ => {
            s.last_money_response = Some(reply.clone());
            Reply::ack(Some(reply))
        }
    }
}

fn respond(s: &mut State, code: RespCode, req: &Request, message: &str) -> Response {
    s.stan = (s.stan + 1) % 1_000_000;
    let now = chrono::Local::now();
    let date = now.format("%m%d").to_string();
    let approved = code == RespCode::APPROVED;
    let r = Response {
        code,
        issuer: "0102".into(),
        pan: MaskedPan::new("622202******0018"),
        voucher: format!("{:06}", s.stan),
        amount: req.amount,
        message: message.into(),
        merchant_id: "898310048990001".into(),
        terminal_id: "10000001".into(),
        batch: "000001".into(),
        date: date.clone(),
        time: now.format("%H%M%S").to_string(),
        ref_no: format!("{:012}", 310_000_000_000u64 + u64::from(s.stan)),
        auth_code: if approved { "A1B2C3".into() } else { String::new() },
        settle_date: date,
        reply_to: req.trans,
        trans: Some(req.trans),
        info: req.info.clone(),
    };
    s.last = Some(r.clone());
    r
}

fn decide(s: &mut State, req: &Request) -> Response {
    let (code, message) = match s.customers.pop_front().unwrap_or(Customer::Approve) {
        Customer::Approve => (RespCode::APPROVED, "交易成功"),
        Customer::Decline(code) => (code, "交易拒绝 请联系发卡行"),
        Customer::WrongPin => (RespCode::WRONG_PIN, "密码错误"),
        Customer::Cancel => (RespCode::CANCELLED, "交易已取消"),
    };
    let r = respond(s, code, req, message);
    if code == RespCode::APPROVED {
        let e = s.ledger.entry(req.info.reference.clone()).or_default();
        e.charges += 1;
        e.approved = Fen(e.approved.0 + req.amount.0);
        s.journal.push(JournalTxn {
            reference: req.info.reference.clone(),
            amount: req.amount,
            voucher: r.voucher.clone(),
            ref_no: r.ref_no.clone(),
            undone: false,
            refunded: Fen::ZERO,
        });
        s.report(TransType::Sale, &r, &r.ref_no);
    }
    r
}

fn sale(s: &mut State, req: Request, fault: Option<TerminalFault>) -> Reply {
    let think = s.think;
    match fault {
        Some(TerminalFault::InProgress { polls }) => {
            let mut ip = Response::bare(RespCode::IN_PROGRESS, TransType::Sale);
            ip.trans = Some(TransType::Sale);
            ip.amount = req.amount;
            ip.info = req.info.clone();
            s.last = Some(ip);
            s.in_flight = Some(InFlight { request: req, polls_left: polls });
            Reply::ack(None)
        }
        Some(TerminalFault::PowerCut { commit }) => {
            if commit {
                decide(s, &req);
            }
            Reply { pre: Some(ACK), power_cut: true, ..Reply::default() }
        }
        Some(TerminalFault::DropResponse) => {
            decide(s, &req);
            Reply::ack(None)
        }
        _ => {
            let r = decide(s, &req);
            s.last_money_response = Some(r.clone());
            Reply { pre: Some(ACK), think, response: Some(r), power_cut: false }
        }
    }
}

fn query_last(s: &mut State) -> Reply {
    if let Some(f) = &mut s.in_flight {
        if f.polls_left > 0 {
            f.polls_left -= 1;
        } else if let Some(f) = s.in_flight.take() {
            decide(s, &f.request);
        }
    }
    let response = match &s.last {
        Some(last) => Response { reply_to: TransType::QueryLast, ..last.clone() },
        None => Response::bare(RespCode::NO_TRANSACTION, TransType::QueryLast),
    };
    Reply::ack(Some(response))
}

fn void(s: &mut State, req: &Request) -> Response {
    let found = s.journal.iter_mut().find(|t| {
        !t.undone
            && t.voucher == req.orig_voucher
            && t.reference == req.info.reference
            && t.amount == req.amount
    });
    let Some(t) = found else { return respond(s, RespCode::ORIGINAL_NOT_FOUND, req, "原交易不存在") };
    t.undone = true;
    let e = s.ledger.entry(t.reference.clone()).or_default();
    e.voided = Fen(e.voided.0 + req.amount.0);
    let r = respond(s, RespCode::APPROVED, req, "撤销成功");
    s.report(TransType::Void, &r, &r.ref_no);
    r
}

fn refund(s: &mut State, req: &Request) -> Response {
    let found = s.journal.iter_mut().find(|t| !t.undone && t.ref_no == req.orig_ref_no);
    let Some(t) = found else { return respond(s, RespCode::ORIGINAL_NOT_FOUND, req, "原交易不存在") };
    if t.refunded.0 + req.amount.0 > t.amount.0 {
        return respond(s, RespCode(*b"64"), req, "退货金额超限");
    }
    t.refunded = Fen(t.refunded.0 + req.amount.0);
    let e = s.ledger.entry(t.reference.clone()).or_default();
    e.refunded = Fen(e.refunded.0 + req.amount.0);
    let r = respond(s, RespCode::APPROVED, req, "退货成功");
    s.report(TransType::Refund, &r, &r.ref_no);
    r
}

fn reversal(s: &mut State, req: &Request) -> Response {
    s.reversals_seen.push(req.info.reference.clone());
    let found = s.journal.iter_mut().find(|t| !t.undone && t.reference == req.info.reference);
    let Some(t) = found else {
        return respond(s, RespCode::ORIGINAL_NOT_FOUND, req, "无原交易 无需冲正");
    };
    t.undone = true;
    let (amount, reversed_ref_no) = (t.amount, t.ref_no.clone());
    let e = s.ledger.entry(t.reference.clone()).or_default();
    e.reversed = Fen(e.reversed.0 + amount.0);
    let req = Request { amount, ..req.clone() };
    let r = respond(s, RespCode::APPROVED, &req, "冲正成功");
    s.report(TransType::Reversal, &r, &reversed_ref_no);
    r
}

/// What the simulated terminal sends, written from hardware.md §6.4 and not with the driver's
/// codec: the response record field by field and its frame, so that a misread width, order or
/// check in the driver cannot be mirrored here.
mod wire {
    use crate::codec::Response;
    use crate::frame::TransType;

    /// `STX`, the record's length in four BCD digits, the record, `ETX`, then the XOR of every
    /// byte from the length to `ETX`.
    pub(super) fn frame(record: &[u8]) -> Vec<u8> {
        let n = record.len();
        let digit = |k: usize| ((n / k) % 10) as u8;
        let mut out = vec![0x02, digit(1000) << 4 | digit(100), digit(10) << 4 | digit(1)];
        out.extend_from_slice(record);
        out.push(0x03);
        out.push(out[1..].iter().fold(0, |x, b| x ^ b));
        out
    }

    /// The 252-byte response: code 2, issuer 4, masked card number 20, voucher 6, amount 12
    /// (fen, zero-padded), message 40 (GBK), merchant 15, terminal 8, batch 6, date 4, time 6,
    /// reference 12, authorisation 6, settlement date 4, the check (3 decimal digits, the XOR of
    /// all before it), then the type answered, the type described and the industry field (100:
    /// our reference and the original's, 32 each, then spaces).
    pub(super) fn response(r: &Response) -> Vec<u8> {
        let mut out = Vec::with_capacity(252);
        out.extend_from_slice(&r.code.0);
        left(&mut out, &r.issuer, 4);
        left(&mut out, r.pan.as_ref().map_or("", |p| p.as_receipt_text()), 20);
        left(&mut out, &r.voucher, 6);
        out.extend_from_slice(format!("{:012}", r.amount.0).as_bytes());
        gbk(&mut out, &r.message, 40);
        for (value, width) in [
            (&r.merchant_id, 15),
            (&r.terminal_id, 8),
            (&r.batch, 6),
            (&r.date, 4),
            (&r.time, 6),
            (&r.ref_no, 12),
            (&r.auth_code, 6),
            (&r.settle_date, 4),
        ] {
            left(&mut out, value, width);
        }
        let check = out.iter().fold(0u8, |x, b| x ^ b);
        out.extend_from_slice(format!("{check:03}").as_bytes());
        out.extend_from_slice(&code(r.reply_to));
        out.extend_from_slice(&r.trans.map_or(*b"  ", code));
        let industry = out.len();
        left(&mut out, &r.info.reference, 32);
        left(&mut out, &r.info.original, 32);
        out.resize(industry + 100, b' ');
        out
    }

    /// §6.4's type codes, and this project's QL (QUERY_LAST) and RV (reversal).
    fn code(t: TransType) -> [u8; 2] {
        match t {
            TransType::Sale => *b"00",
            TransType::Void => *b"01",
            TransType::Refund => *b"02",
            TransType::QueryLast => *b"QL",
            TransType::Reversal => *b"RV",
        }
    }

    /// Left-aligned, space-filled, cut to `width`.
    fn left(out: &mut Vec<u8>, text: &str, width: usize) {
        let bytes = &text.as_bytes()[..text.len().min(width)];
        out.extend_from_slice(bytes);
        out.resize(out.len() + width - bytes.len(), b' ');
    }

    /// GBK, cut before a character that would not fit, space-filled.
    fn gbk(out: &mut Vec<u8>, text: &str, width: usize) {
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        let mut end = 0;
        let mut at = 0;
        while at < bytes.len() {
            // A GBK character is two bytes when its first is a lead byte (81–FE), else one
            // (ASCII, and 80 for €).
            let size = if (0x81..=0xFE).contains(&bytes[at]) { 2 } else { 1 };
            if at + size > width {
                break;
            }
            at += size;
            end = at;
        }
        let end = end.min(bytes.len());
        out.extend_from_slice(&bytes[..end]);
        out.resize(out.len() + width - end, b' ');
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_frame_carries_a_bcd_length_and_the_xor_from_the_length_to_etx() {
            assert_eq!(frame(b"00"), [0x02, 0x00, 0x02, 0x30, 0x30, 0x03, 0x01]);
            assert_eq!(&frame(&[b' '; 252])[1..3], &[0x02, 0x52]);
        }

        #[test]
        fn the_message_is_cut_at_a_whole_character() {
            let mut out = Vec::new();
            gbk(&mut out, "交易成功交易成功交易成功交易成功交易成功交易成功", 41);
            assert_eq!(out.len(), 41);
            assert_eq!(out[40], b' ', "no half character");
        }
    }
}
