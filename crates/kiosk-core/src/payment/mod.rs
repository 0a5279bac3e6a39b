//! The payment state machine (payments.md §8): `Payment::step(event, now, policy)` is the one
//! function that changes a payment. It returns the effects the runtime must carry out *after* it
//! has journaled the new state (rule R1).
//!
//! The run loop (crates/yizhan) is: feed one event → if the step changed the payment, journal it
//! (fsync) → carry out the effects, each of whose replies is fed back as the next event → when no
//! effect is pending, sleep until `next_deadline()` and feed `Event::Tick`.

mod policy;
mod reconciled;
mod settlement;
mod state;
mod step;

pub use policy::{backoff, ChannelTiming, Policy, Retry};
pub use settlement::Settlement;
pub use state::{CardStep, LineState, RefundItem, RefundStatus, State, SuspenseReason};

use crate::channel::Channel;
use crate::order::Order;
use crate::outcome::*;
use crate::time::Ts;
use serde::{Deserialize, Serialize};

/// One payment: one order, one order number at one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub order: Order,
    pub channel: Option<Channel>,
    /// SHA-256 of the payment code (never the code: it is a bearer token).
    pub code_digest: Option<String>,
    pub pay_sent_at: Option<Ts>,
    /// Absolute: survives a restart (R4).
    pub pay_deadline: Option<Ts>,
    pub channel_txn: Option<String>,
    /// Per order line, in order.
    pub lines: Vec<LineState>,
    pub refunds: Vec<RefundItem>,
    /// When the first reverse / cancel / 撤销 was sent: UnionPay names the cancel by it (txnTime),
    /// so every retry must carry the same time or it would be a second transaction.
    #[serde(default)]
    pub reverse_sent_at: Option<Ts>,
    /// Online checks made while in SUSPENSE so far: picks the next gap of the backoff.
    #[serde(default)]
    pub suspense_checks: u32,
    /// A top-up's purchase was written to the card and read back (the receipt says so only
    /// then: a payment settled by staff or the statements may never have reached the card).
    #[serde(default)]
    pub card_verified: bool,
    /// The "refund accepted" receipt was offered (`Effect::PrintReceipt`; whether paper comes
    /// out is the customer's choice) on the first entry into REFUND_PENDING: a refund lost and
    /// accepted again comes back there long after the customer left.
    #[serde(default)]
    pub pending_receipt_offered: bool,
    pub state: State,
}

/// Everything that can happen to a payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    /// A payment code was scanned for this order: send the pay request.
    PayWith {
        channel: Channel,
        code_digest: String,
    },
    /// The customer backed out before paying.
    Cancel,
    PayReplied {
        reply: PayReply,
    },
    QueryReplied {
        reply: QueryReply,
    },
    ReverseReplied {
        reply: ReverseReply,
    },
    WriteOffReplied {
        line: usize,
        reply: WriteOffReply,
    },
    WriteOffStatusReplied {
        line: usize,
        reply: WriteOffStatus,
    },
    RefundReplied {
        item: usize,
        reply: RefundReply,
    },
    RefundStatusReplied {
        item: usize,
        reply: RefundQueryReply,
    },
    CardWritten {
        result: CardWriteResult,
    },
    CardConfirmReplied {
        reply: ConfirmReply,
    },
    /// 补写卡: the customer (or staff) asks to write a waiting purchase to the card again.
    RewriteCard,
    /// Continue after a journaled waypoint (PAID, WRITTEN_OFF): the runtime feeds it back at once.
    Proceed,
    /// Time passed; the machine checks its deadlines.
    Tick,
    /// The process restarted; whatever was in flight may or may not have reached the other side.
    Resume,
    /// The day's statements speak about a payment in SUSPENSE (payments.md §6): an external
    /// outcome overrides the local "unknown", and the override is journaled.
    Reconciled {
        evidence: StatementEvidence,
    },
    /// Staff ask for the online check of a payment in SUSPENSE (or a refund's query) now rather
    /// than at its scheduled time; it is the same check, with the same idempotency keys.
    Recheck,
    /// Staff settle a payment in SUSPENSE by hand after checking the channel's and the billers'
    /// books; journaled with who and why.
    StaffResolved {
        staff_id: String,
        outcome: StaffOutcome,
        reason: String,
    },
    /// Finance found, in the channel's statement, a charge of this order that the kiosk holds
    /// as never taken (failed, or reversed without being paid), and nothing given back: the whole
    /// order goes back to the customer through the channel, like any refund (journaled first,
    /// under the order's stable whole-order refund number). `source` (`Source::code`) and
    /// `amount` are the statement's, checked against the order's channel and total; `files`:
    /// SHA-256 of the statements that show the charge.
    ChargedPerStatement {
        staff_id: String,
        source: String,
        amount: crate::money::Fen,
        files: Vec<String>,
    },
}

/// What staff found when they settled a payment by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffOutcome {
    /// The money reached the billers: every line is written off.
    Delivered,
    /// The money went back to the customer (refunded or reversed at the channel).
    Returned,
    /// The customer was never charged.
    NotCharged,
}

impl StaffOutcome {
    pub fn code(self) -> &'static str {
        match self {
            StaffOutcome::Delivered => "delivered",
            StaffOutcome::Returned => "returned",
            StaffOutcome::NotCharged => "not-charged",
        }
    }
}

impl std::str::FromStr for StaffOutcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "delivered" => Ok(StaffOutcome::Delivered),
            "returned" => Ok(StaffOutcome::Returned),
            "not-charged" => Ok(StaffOutcome::NotCharged),
            other => Err(format!("unknown outcome {other:?}: expected delivered, returned or not-charged")),
        }
    }
}

/// What the channel's and the billers' daily files show about one order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementEvidence {
    /// The channel booked a payment for the order.
    pub charged: bool,
    /// The channel booked a reverse (撤销) of the whole order.
    pub reversed: bool,
    /// Refund numbers the channel booked.
    pub refunds: Vec<String>,
    /// Per order line: the biller's file holds its reference as written off.
    pub written_off: Vec<bool>,
    /// The files cover every day the order could have been booked on (the order's day and the
    /// next): only then does a missing charge mean "not charged".
    pub complete: bool,
    /// SHA-256 (hex) of each statement and biller file the evidence was read from, when the
    /// reader kept them (the hub does): journaled with the transition it causes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// Files named in a journaled event: each SHA-256 while they fit the journal's line (up to
/// eight); beyond, how many and one SHA-256 over their sorted hashes, one per line.
fn files_note(files: &[String]) -> String {
    const LISTED: usize = 8;
    match files.len() {
        0 => String::new(),
        n if n <= LISTED => format!(" files sha256 {}", files.join(" ")),
        n => {
            use sha2::{Digest, Sha256};
            let mut sorted = files.to_vec();
            sorted.sort();
            let digest = hex::encode(Sha256::digest(sorted.join("\n").as_bytes()));
            format!(" {n} files, sha256 of their sorted sha256 lines {digest}")
        }
    }
}

impl StatementEvidence {
    /// The files, for the journaled event: each hash while they fit the journal's line (up to
    /// eight); beyond, how many and one SHA-256 over their sorted hashes, one per line.
    pub fn files_note(&self) -> String {
        files_note(&self.files)
    }

    /// Why this evidence does not settle a payment in suspense (when `Reconciled` changes
    /// nothing), in words for staff.
    pub fn why_unsettled(&self) -> &'static str {
        if self.charged {
            "the files do not show where all the money went"
        } else if self.complete {
            "no charge in complete files, but the kiosk saw money move"
        } else {
            "not every file that could hold its rows is read and final"
        }
    }
}

/// Something the runtime must do after journaling. Each external call's reply comes back as an
/// event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    /// Send the pay request (the runtime holds the payment code in memory only).
    Pay,
    Query,
    Reverse,
    /// Write off line `line` (or buy its prepaid purchase) with its biller reference.
    WriteOff {
        line: usize,
    },
    CheckWriteOff {
        line: usize,
    },
    Refund {
        item: usize,
    },
    /// Ask the channel whether accepted refund `item` has arrived.
    CheckRefund {
        item: usize,
    },
    /// Write line 0's purchase to the card and read it back.
    WriteCard,
    ConfirmCardWrite,
    /// Feed `Event::Proceed` (after this state is journaled).
    Proceed,
    /// Offer the receipt for a finished payment (printing is repeatable, never a trigger, R6).
    PrintReceipt,
    /// Print the "take this slip to the counter" slip for a payment in suspense or awaiting 补写卡.
    PrintSlip,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Stepped {
    /// False when the event was stale or did not apply: nothing to journal, no effects.
    pub changed: bool,
    pub effects: Vec<Effect>,
}

impl Payment {
    /// A new payment for a confirmed order (state ORDERED).
    pub fn new(order: Order) -> Payment {
        let lines = vec![LineState::NotStarted; order.lines.len()];
        Payment {
            order,
            channel: None,
            code_digest: None,
            pay_sent_at: None,
            pay_deadline: None,
            channel_txn: None,
            lines,
            refunds: Vec::new(),
            reverse_sent_at: None,
            suspense_checks: 0,
            card_verified: false,
            pending_receipt_offered: false,
            state: State::Ordered,
        }
    }

    /// A new payment for cash already credited to `order` ([`crate::cash`]): journaled as
    /// ORDERED with its channel, so a restart goes on to PAID instead of abandoning it.
    pub fn for_cash(order: Order) -> Payment {
        Payment { channel: Some(Channel::Cash), ..Payment::new(order) }
    }

    /// Paid with cash from the kiosk's acceptor.
    pub fn is_cash(&self) -> bool {
        self.channel == Some(Channel::Cash)
    }

    pub fn id(&self) -> &str {
        self.order.reference.as_str()
    }

    /// Applies one event. See the module documentation for the run loop.
    pub fn step(&mut self, event: Event, now: Ts, policy: &Policy) -> Stepped {
        let before = self.clone();
        let effects = step::apply(self, event, now, policy);
        Stepped { changed: *self != before, effects }
    }

    /// When the machine next wants a `Tick`, if ever.
    pub fn next_deadline(&self) -> Option<Ts> {
        match &self.state {
            State::PayPending { next_query_at, in_flight: false, .. } => Some(*next_query_at),
            State::Reversing { next_at, in_flight: false, .. } => Some(*next_at),
            State::AwaitCodeExpiry { query_at, in_flight: false, .. } => Some(*query_at),
            State::RefundPending => self
                .refunds
                .iter()
                .filter_map(|r| match r.status {
                    RefundStatus::Accepted { next_check_at, in_flight: false, .. } => Some(next_check_at),
                    _ => None,
                })
                .min(),
            State::Suspense { next_check_at, .. } => *next_check_at,
            State::WriteOffSent => self
                .lines
                .iter()
                .filter_map(|l| match l {
                    LineState::Checking { next_at, in_flight: false, .. } => Some(*next_at),
                    _ => None,
                })
                .min(),
            State::Refunding => self
                .refunds
                .iter()
                .filter_map(|r| match r.status {
                    RefundStatus::RetryAt { next_at } => Some(next_at),
                    _ => None,
                })
                .min(),
            State::CardWriting { step: CardStep::Confirming { next_at, in_flight: false, .. } } => {
                Some(*next_at)
            }
            _ => None,
        }
    }

    /// Where every fen stands; see [`Settlement`].
    pub fn settlement(&self) -> Settlement {
        settlement::of(self)
    }

    /// The refund number of each refund, for journaling as idempotency keys when created.
    pub fn refund_numbers(&self) -> impl Iterator<Item = &str> {
        self.refunds.iter().map(|r| r.refund_no.as_str())
    }
}

impl Event {
    /// The summary for a log line: as [`Event::summary`], without staff's free-text reason (it
    /// may name a person; it is journaled, never logged).
    pub fn log_summary(&self) -> String {
        match self {
            Event::StaffResolved { staff_id, outcome, .. } => {
                format!("staff_resolved by {staff_id}: {}", outcome.code())
            }
            other => other.summary(),
        }
    }

    /// A one-line description for the journal and logs: no payment code, no account number.
    pub fn summary(&self) -> String {
        match self {
            Event::PayWith { channel, .. } => format!("pay_with {channel}"),
            Event::Cancel => "cancel".into(),
            Event::PayReplied { reply } => format!("pay: {}", pay_summary(reply)),
            Event::QueryReplied { reply } => format!("query: {}", query_summary(reply)),
            Event::ReverseReplied { reply } => format!("reverse: {}", reverse_summary(reply)),
            Event::WriteOffReplied { line, reply } => {
                format!("write_off line {}: {}", line + 1, write_off_summary(reply))
            }
            Event::WriteOffStatusReplied { line, reply } => {
                format!("write_off_status line {}: {}", line + 1, write_off_status_summary(reply))
            }
            Event::RefundReplied { item, reply } => format!("refund {}: {}", item + 1, refund_summary(reply)),
            Event::RefundStatusReplied { item, reply } => {
                format!("refund_status {}: {}", item + 1, refund_status_summary(reply))
            }
            Event::CardWritten { result } => match result {
                CardWriteResult::Verified => "card: written and verified".into(),
                CardWriteResult::NotWritten { .. } => "card: not written".into(),
            },
            Event::CardConfirmReplied { reply } => match reply {
                ConfirmReply::Confirmed => "card_confirm: confirmed".into(),
                ConfirmReply::Unknown { .. } => "card_confirm: unknown".into(),
            },
            Event::RewriteCard => "rewrite_card".into(),
            Event::Proceed => "proceed".into(),
            Event::Tick => "tick".into(),
            Event::Resume => "resume".into(),
            Event::Reconciled { evidence } => format!(
                "reconciled: charged={} reversed={} refunds={} written_off={:?} complete={}{}",
                evidence.charged,
                evidence.reversed,
                evidence.refunds.len(),
                evidence.written_off,
                evidence.complete,
                evidence.files_note()
            ),
            Event::Recheck => "recheck".into(),
            // The reason is staff's own words; bounded so the journal's summary limit holds.
            Event::StaffResolved { staff_id, outcome, reason } => format!(
                "staff_resolved by {staff_id}: {} ({})",
                outcome.code(),
                reason.chars().take(200).collect::<String>()
            ),
            Event::ChargedPerStatement { staff_id, source, amount, files } => format!(
                "charged_per_statement by {staff_id}: {amount} in the {source} statement, the whole order goes back{}",
                files_note(files)
            ),
        }
    }
}

// Summaries go into the journal and the logs: codes and ids only, never the free text of a reply
// (a biller's message could name a person).

fn pay_summary(reply: &PayReply) -> String {
    match reply {
        PayReply::Paid { channel_txn } => format!("paid txn={channel_txn}"),
        PayReply::AwaitingPin => "awaiting PIN".into(),
        PayReply::AlreadyUsed { code } => format!("already used ({code})"),
        PayReply::Failed { code, .. } => format!("failed ({code})"),
        PayReply::Unknown { .. } => "unknown".into(),
        PayReply::Mismatch { .. } => "reply names another order or amount".into(),
    }
}

fn query_summary(reply: &QueryReply) -> String {
    match reply {
        QueryReply::Paid { channel_txn } => format!("paid txn={channel_txn}"),
        QueryReply::Waiting => "waiting".into(),
        QueryReply::PaidThenRefunded { channel_txn } => format!("paid then refunded txn={channel_txn}"),
        QueryReply::Failed { code } => format!("failed ({code})"),
        QueryReply::Closed { code } => format!("closed ({code})"),
        QueryReply::NotFound => "not found".into(),
        QueryReply::Unknown { .. } => "unknown".into(),
        QueryReply::Mismatch { .. } => "reply names another order or amount".into(),
    }
}

fn reverse_summary(reply: &ReverseReply) -> String {
    match reply {
        ReverseReply::Done { refunded: Some(true) } => "closed, money returned".into(),
        ReverseReply::Done { refunded: Some(false) } => "closed, nothing taken".into(),
        ReverseReply::Done { refunded: None } => "closed, any amount taken returned".into(),
        ReverseReply::Retry { .. } => "retry".into(),
        ReverseReply::Refused { .. } => "refused".into(),
    }
}

fn write_off_summary(reply: &WriteOffReply) -> String {
    match reply {
        WriteOffReply::WrittenOff { biller_txn, .. } => format!("written off txn={biller_txn}"),
        WriteOffReply::Rejected { code, .. } => format!("rejected ({code})"),
        WriteOffReply::Unknown { .. } => "unknown".into(),
    }
}

fn write_off_status_summary(reply: &WriteOffStatus) -> String {
    match reply {
        WriteOffStatus::WrittenOff { biller_txn, .. } => format!("written off txn={biller_txn}"),
        WriteOffStatus::NotFound => "not found".into(),
        WriteOffStatus::Rejected { code, .. } => format!("rejected ({code})"),
        WriteOffStatus::Unknown { .. } => "unknown".into(),
    }
}

fn refund_summary(reply: &RefundReply) -> String {
    match reply {
        RefundReply::Refunded => "refunded".into(),
        RefundReply::Accepted => "accepted".into(),
        RefundReply::Unknown { .. } => "unknown".into(),
        RefundReply::Refused { .. } => "refused".into(),
    }
}

fn refund_status_summary(reply: &RefundQueryReply) -> String {
    match reply {
        RefundQueryReply::Refunded => "refunded".into(),
        RefundQueryReply::Pending => "pending".into(),
        RefundQueryReply::Failed { code } => format!("failed ({code})"),
        RefundQueryReply::NotFound => "not found".into(),
        RefundQueryReply::Unknown { .. } => "unknown".into(),
    }
}

impl Effect {
    /// Whether only the kiosk process carries this out: a call, or the step after one. A
    /// reconciliation run beside the kiosk journals the new state and leaves these to it.
    /// Printing is repeatable and never a trigger (R6): a receipt can be printed again from the
    /// journal.
    pub fn needs_the_kiosk(&self) -> bool {
        match self {
            Effect::PrintReceipt | Effect::PrintSlip => false,
            Effect::Pay
            | Effect::Query
            | Effect::Reverse
            | Effect::WriteOff { .. }
            | Effect::CheckWriteOff { .. }
            | Effect::Refund { .. }
            | Effect::CheckRefund { .. }
            | Effect::WriteCard
            | Effect::ConfirmCardWrite
            | Effect::Proceed => true,
        }
    }

    pub fn summary(&self) -> String {
        match self {
            Effect::Pay => "pay".into(),
            Effect::Query => "query".into(),
            Effect::Reverse => "reverse".into(),
            Effect::WriteOff { line } => format!("write_off line {}", line + 1),
            Effect::CheckWriteOff { line } => format!("check_write_off line {}", line + 1),
            Effect::Refund { item } => format!("refund {}", item + 1),
            Effect::CheckRefund { item } => format!("check_refund {}", item + 1),
            Effect::WriteCard => "write_card".into(),
            Effect::ConfirmCardWrite => "confirm_card_write".into(),
            Effect::Proceed => "proceed".into(),
            Effect::PrintReceipt => "print_receipt".into(),
            Effect::PrintSlip => "print_slip".into(),
        }
    }
}
