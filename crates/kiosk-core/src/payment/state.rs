//! The states of a payment (payments.md §8), each carrying the data it needs to resume.

use crate::money::Fen;
use crate::outcome::{CardWriteData, FailKind};
use crate::time::Ts;
use serde::{Deserialize, Serialize};

/// Where a payment stands. Every variant is journaled before any effect it asks for is carried
/// out, so a restart resumes from exactly here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum State {
    /// Confirmed by the customer, nothing sent yet.
    Ordered,
    /// The pay request is (about to be) on the wire.
    PaySent,
    /// The outcome of the pay request is not known yet; the order is polled.
    PayPending { next_query_at: Ts, queries: u32, not_found: u32, in_flight: bool },
    /// No money moved for this order number. Terminal; a rescan is a new order.
    PayFailed { kind: FailKind, code: String, message: String },
    /// Closing the order: reverse / cancel / 撤销. From here on the order is never written off (R7).
    Reversing { next_at: Ts, attempts: u32, in_flight: bool, checking: bool },
    /// Closed. `refunded`: `Some(true)` money had been taken and was given back, `Some(false)`
    /// none was taken, `None` the channel does not say which (either way the customer is whole).
    /// Terminal.
    Reversed { refunded: Option<bool> },
    /// The channel has never seen the order and will not close it: the pay request was lost on
    /// its way (F2/F6). A request that arrives late carries the customer's payment code, which is
    /// valid for about a minute (payments.md §2.2 [A8]; WeChat's and UnionPay's codes refresh
    /// every minute too), so once `query_at` (the pay's send time plus the channel's
    /// `code_expires_after`) has passed, one more "not found" proves nothing was or can be
    /// charged. `reverses`: the reverse attempts already spent, for when the channel turns out
    /// to hold the order after all and the reverse is sent again (its budget is not reset).
    AwaitCodeExpiry {
        query_at: Ts,
        queries: u32,
        in_flight: bool,
        #[serde(default)]
        reverses: u32,
    },
    /// The channel has the money; write-offs come next.
    Paid,
    /// Write-offs are under way; each line's progress is in `Payment::lines`.
    WriteOffSent,
    /// Every line is written off.
    WrittenOff,
    /// Money is going back for lines that could not be written off (or the whole order, R7).
    Refunding,
    /// Every refund still owed has been accepted by the channel, which pays it out later (WeChat
    /// and UnionPay refunds arrive in minutes to days, payments.md §1.8): the refund query is
    /// asked on a backoff until each has arrived. Parked: it does not block new sales.
    RefundPending,
    /// A prepaid purchase is being written to the customer's card, then confirmed.
    CardWriting { step: CardStep },
    /// Paid and written off, but the card does not hold the purchase yet (待写卡): 补写卡 later.
    AwaitCardWrite { detail: String },
    /// Every fen delivered to the billers (some lines may have been refunded). Terminal.
    Done,
    /// Every fen refunded. Terminal.
    Refunded,
    /// The customer left before paying; nothing was sent. Terminal.
    Abandoned,
    /// The outcome could not be settled online yet; it is asked again at `next_check_at` (a
    /// backoff over days, journaled), and staff and the T+1 statements can settle it.
    Suspense {
        reason: SuspenseReason,
        /// When to ask the other side again; `None`: only staff or the statements can settle it.
        #[serde(default)]
        next_check_at: Option<Ts>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum CardStep {
    Writing,
    Confirming { attempts: u32, next_at: Ts, in_flight: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspenseReason {
    /// The channel never confirmed the reverse: the customer may or may not have been charged.
    ReverseUnconfirmed,
    /// Paid, but a biller never confirmed or refused a write-off.
    WriteOffUnconfirmed,
    /// A refund was refused or never confirmed.
    RefundUnconfirmed,
    /// The card holds the purchase, but the biller never took the confirmation.
    CardConfirmUnconfirmed,
    /// A signed channel reply named another order or amount than ours: nothing may be reversed
    /// or written off on its word (the order number could be someone else's). Staff and the
    /// statements settle it.
    ChannelMismatch,
    /// A cash payment's biller refused a line (or its prepayment): the kiosk gives no change
    /// back, so staff pay that cash out at the counter against the slip.
    CashOwed,
}

impl SuspenseReason {
    /// Why the payment is in suspense, for the slip and staff.
    pub fn describe(self) -> catalogue::Text {
        match self {
            SuspenseReason::ReverseUnconfirmed => {
                catalogue::Text::new("the payment could not be confirmed as cancelled")
            }
            SuspenseReason::WriteOffUnconfirmed => {
                catalogue::Text::new("the biller did not confirm the payment")
            }
            SuspenseReason::RefundUnconfirmed => catalogue::Text::new("the refund was not confirmed"),
            SuspenseReason::CardConfirmUnconfirmed => {
                catalogue::Text::new("the card write was not confirmed to the biller")
            }
            SuspenseReason::ChannelMismatch => {
                catalogue::Text::new("the payment channel's reply did not match the order")
            }
            SuspenseReason::CashOwed => {
                catalogue::Text::new("the biller did not take this cash: it is paid back at the counter")
            }
        }
    }
}

/// Progress of one order line at its biller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "write_off")]
pub enum LineState {
    NotStarted,
    /// The write-off request is on the wire.
    Sent {
        attempts: u32,
    },
    /// The outcome is unknown; the status is queried (or the request resent if the biller
    /// never saw it) at `next_at`.
    Checking {
        attempts: u32,
        next_at: Ts,
        in_flight: bool,
    },
    WrittenOff {
        biller_txn: String,
        card: Option<CardWriteData>,
    },
    /// Definitely not written off: this line's money goes back.
    Rejected {
        code: String,
        message: String,
    },
    /// Retries exhausted without an answer: suspense, never a refund (it may yet be written off).
    Unconfirmed,
}

impl LineState {
    /// The biller transaction of a line staff declared delivered: credited by hand (at the
    /// counter, under the counter's own reference), never by a write-off of ours.
    pub const BY_STAFF: &'static str = "per staff";

    pub fn is_resolved(&self) -> bool {
        matches!(self, LineState::WrittenOff { .. } | LineState::Rejected { .. } | LineState::Unconfirmed)
    }

    /// Written off because staff said so, not because a biller answered our write-off.
    pub fn written_off_by_staff(&self) -> bool {
        matches!(self, LineState::WrittenOff { biller_txn, .. } if biller_txn == Self::BY_STAFF)
    }
}

/// One refund with its stable refund number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundItem {
    pub refund_no: String,
    /// When the refund was first sent: UnionPay names a refund by its order id *and* this time
    /// (txnTime), so every retry must carry the same one, or it is a second refund.
    #[serde(default)]
    pub sent_at: Option<Ts>,
    pub amount: Fen,
    /// The order lines refunded; empty for the whole order (R7). One refund covers every line
    /// refused at once: WeChat wants a minute between two refunds of one order (payments.md §1.8).
    pub lines: Vec<usize>,
    pub attempts: u32,
    pub status: RefundStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum RefundStatus {
    InFlight,
    RetryAt {
        next_at: Ts,
    },
    /// The channel accepted it; the refund query is asked at `next_check_at` until it arrives.
    Accepted {
        next_check_at: Ts,
        checks: u32,
        in_flight: bool,
    },
    Refunded,
    Refused {
        detail: String,
    },
    Unconfirmed,
}

impl RefundStatus {
    pub fn is_resolved(&self) -> bool {
        matches!(self, RefundStatus::Refunded | RefundStatus::Refused { .. } | RefundStatus::Unconfirmed)
    }
}

impl State {
    /// The journal's and the spec's name for the state.
    pub fn label(&self) -> &'static str {
        match self {
            State::Ordered => "ORDERED",
            State::PaySent => "PAY_SENT",
            State::PayPending { .. } => "PAY_PENDING",
            State::PayFailed { .. } => "PAY_FAILED",
            State::Reversing { .. } => "REVERSING",
            State::AwaitCodeExpiry { .. } => "AWAIT_CODE_EXPIRY",
            State::RefundPending => "REFUND_PENDING",
            State::Reversed { .. } => "REVERSED",
            State::Paid => "PAID",
            State::WriteOffSent => "WRITEOFF_SENT",
            State::WrittenOff => "WRITTEN_OFF",
            State::Refunding => "REFUNDING",
            State::CardWriting { .. } => "CARD_WRITING",
            State::AwaitCardWrite { .. } => "AWAIT_CARD_WRITE",
            State::Done => "DONE",
            State::Refunded => "REFUNDED",
            State::Abandoned => "ABANDONED",
            State::Suspense { .. } => "SUSPENSE",
        }
    }

    /// A state's journal label in words staff read ("SUSPENSE" is 待确认); None for a label no
    /// state has.
    pub fn words_of_label(label: &str) -> Option<catalogue::Text> {
        Some(match label {
            "ORDERED" => catalogue::Text::new("ordered"),
            "PAY_SENT" => catalogue::Text::new("payment request sent"),
            "PAY_PENDING" => catalogue::Text::new("waiting for the customer to approve"),
            "PAY_FAILED" => catalogue::Text::new("payment failed"),
            "REVERSING" => catalogue::Text::new("being cancelled"),
            "AWAIT_CODE_EXPIRY" => catalogue::Text::new("waiting for the payment code to expire"),
            "REFUND_PENDING" => catalogue::Text::new("refund accepted, on its way"),
            "REVERSED" => catalogue::Text::new("cancelled"),
            "PAID" => catalogue::Text::new("money received"),
            "WRITEOFF_SENT" => catalogue::Text::new("write-off sent"),
            "WRITTEN_OFF" => catalogue::Text::new("written off"),
            "REFUNDING" => catalogue::Text::new("refunding"),
            "CARD_WRITING" => catalogue::Text::new("writing the card"),
            "AWAIT_CARD_WRITE" => catalogue::Text::new("waiting for a card rewrite"),
            "DONE" => catalogue::Text::new("done"),
            "REFUNDED" => catalogue::Text::new("refunded"),
            "ABANDONED" => catalogue::Text::new("abandoned before paying"),
            "SUSPENSE" => catalogue::Text::new("in suspense"),
            _ => return None,
        })
    }

    /// `(terminal, parked)` of a state by its journal label, so that a journal row's flags can be
    /// checked against its state without its snapshot; `None` for a label no state has.
    pub fn flags_of_label(label: &str) -> Option<(bool, bool)> {
        const TERMINAL: &[&str] = &["PAY_FAILED", "REVERSED", "DONE", "REFUNDED", "ABANDONED"];
        const PARKED: &[&str] = &["SUSPENSE", "AWAIT_CARD_WRITE", "REFUND_PENDING"];
        const OTHER: &[&str] = &[
            "ORDERED",
            "PAY_SENT",
            "PAY_PENDING",
            "REVERSING",
            "AWAIT_CODE_EXPIRY",
            "PAID",
            "WRITEOFF_SENT",
            "WRITTEN_OFF",
            "REFUNDING",
            "CARD_WRITING",
        ];
        if TERMINAL.contains(&label) {
            Some((true, false))
        } else if PARKED.contains(&label) {
            Some((false, true))
        } else if OTHER.contains(&label) {
            Some((false, false))
        } else {
            None
        }
    }

    /// Nothing more will ever happen to the money.
    pub fn is_terminal(&self) -> bool {
        match self {
            State::PayFailed { .. }
            | State::Reversed { .. }
            | State::Done
            | State::Refunded
            | State::Abandoned => true,
            State::Ordered
            | State::PaySent
            | State::PayPending { .. }
            | State::Reversing { .. }
            | State::AwaitCodeExpiry { .. }
            | State::RefundPending
            | State::Paid
            | State::WriteOffSent
            | State::WrittenOff
            | State::Refunding
            | State::CardWriting { .. }
            | State::AwaitCardWrite { .. }
            | State::Suspense { .. } => false,
        }
    }

    /// Waiting for a person (staff, 补写卡), for the T+1 statements or for a slow channel (a
    /// refund on its way), not for this customer's session: such a payment does not block new
    /// sales. Its online checks run in the background (`Payment::next_deadline`).
    pub fn is_parked(&self) -> bool {
        matches!(self, State::Suspense { .. } | State::AwaitCardWrite { .. } | State::RefundPending)
    }

    /// Money may be in flight: the kiosk must settle this before it takes new money (R5).
    pub fn blocks_new_sales(&self) -> bool {
        !self.is_terminal() && !self.is_parked()
    }
}
