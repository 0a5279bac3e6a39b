//! The bank card terminal's money rules: the armed reversal ("if you do not hear that this sale
//! was decided, reverse it") and what each answer of the terminal means for the order. Pure and
//! exhaustive, like the payment machine; `drivers/bankcard` speaks the terminal's bytes, keeps
//! the records (in the journal) and asks here what to do.
//!
//! ```text
//! before a sale    approved on record → paid, never charge twice;   voided on record → used
//!                  this order's reversal armed → ask the last result (never resend blindly)
//!                  this order's reversal refused → in doubt;   another order's armed → refuse
//!                  otherwise → arm this order's reversal, then send
//! sale answered    approved, our amount → record, then close the reversal as answered
//!                  approved, another amount | in progress | unknown | not found → keep it armed
//!                  declined → close it as answered: no money moved
//! last result      not about this order → not found (the reversal stays armed)
//!                  sale approved, our amount → record, close;   another amount → keep armed
//!                  sale declined → close;   void / reversal / refund approved → close, paid then refunded
//!                  reversal "no such transaction" → close, failed;   in progress → wait
//! reversal (RV)    approved → the purchase is undone, close;   not found → it never happened, close
//!                  declined → keep the record as refused;   in progress | unknown → retry
//! void, refund     approved → done;   declined | not found → refused for good;   else unknown
//! ```

use crate::outcome::FailKind;

/// What a terminal response code means for the kiosk (the code table is the driver's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `00`: approved / done.
    Approved,
    /// A definite refusal: no money moved for this request.
    Declined(FailKind),
    /// `IP`: the transaction is still running at the terminal (customer at the PIN pad).
    InProgress,
    /// `NF` (no transaction at all) or `25` (no original transaction with that reference).
    NotFound,
    /// The terminal itself does not know (no answer from the bank, system error, MAC error) or
    /// a code the driver does not know: the money may or may not have moved.
    Unknown,
}

/// Where the reversal record of one order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReversalState {
    /// The sale was (or is about to be) sent and nothing definite has been heard: reverse it
    /// unless it turns out approved. While any order's record is armed, no new sale is sent.
    Armed,
    /// A definite answer closed it: the sale was approved or declined, or its reversal was
    /// answered (approved, or "no such transaction").
    Answered,
    /// The terminal declined the reversal: the customer may have been charged. Kept for staff
    /// and for the order's own later reverse; it does not block new sales.
    Refused,
    /// Closed by the kiosk's journal, not by the terminal: the order's payment was settled by
    /// staff or the statements, so the reversal was not sent (set by the kiosk, never by the
    /// driver).
    Settled,
}

impl ReversalState {
    /// The name used in the journal and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ReversalState::Armed => "armed",
            ReversalState::Answered => "answered",
            ReversalState::Refused => "refused",
            ReversalState::Settled => "settled",
        }
    }

    /// Still open: the sale may have charged the customer and nothing has closed the record
    /// (armed, or its reversal refused). Only an open record may be sent again as a reversal to
    /// return a charge the statements showed.
    pub fn is_open(self) -> bool {
        match self {
            ReversalState::Armed | ReversalState::Refused => true,
            ReversalState::Answered | ReversalState::Settled => false,
        }
    }
}

/// The order's approved purchase, as the terminal's memory holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purchase {
    /// Approved and standing.
    Approved,
    /// Approved, then voided.
    Voided,
}

/// What the memory holds when a sale for an order is about to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaleRecords {
    /// The order's purchase on record, if any.
    pub purchase: Option<Purchase>,
    /// The order's own reversal record, if any.
    pub reversal: Option<ReversalState>,
    /// Another order's reversal is armed.
    pub another_armed: bool,
}

/// Whether a sale may be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeforeSale {
    /// Approved already: answer paid, never charge twice.
    AlreadyPaid,
    /// Approved and voided already: the order is used.
    AlreadyVoided,
    /// This very sale is in doubt: ask the terminal's last result, never resend blindly.
    AskFirst,
    /// An earlier attempt's reversal was refused: the outcome stays unknown.
    InDoubt,
    /// Another order's reversal is armed: refuse before anything is sent.
    AnotherArmed,
    /// Arm this order's reversal (journaled), then send the sale.
    ArmAndSend,
}

/// The armed-reversal gate in front of every sale.
pub fn before_sale(records: SaleRecords) -> BeforeSale {
    match records {
        SaleRecords { purchase: Some(Purchase::Approved), .. } => BeforeSale::AlreadyPaid,
        SaleRecords { purchase: Some(Purchase::Voided), .. } => BeforeSale::AlreadyVoided,
        SaleRecords { reversal: Some(ReversalState::Armed), .. } => BeforeSale::AskFirst,
        SaleRecords { reversal: Some(ReversalState::Refused), .. } => BeforeSale::InDoubt,
        SaleRecords { another_armed: true, .. } => BeforeSale::AnotherArmed,
        SaleRecords {
            purchase: None,
            reversal: None | Some(ReversalState::Answered | ReversalState::Settled),
            another_armed: false,
        } => BeforeSale::ArmAndSend,
    }
}

/// What a sale's answer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterSale {
    /// Approved for our amount: record the purchase, then close the reversal as answered.
    Record,
    /// Approved for another amount: unknown, and the reversal stays armed.
    OtherAmount,
    /// Declined: close the reversal as answered; the payment failed.
    Declined(FailKind),
    /// Anything else: unknown, and the reversal stays armed.
    KeepArmed,
}

/// A sale's answer (`amount_matches`: the approved amount is the one asked for).
pub fn after_sale(verdict: Verdict, amount_matches: bool) -> AfterSale {
    match verdict {
        Verdict::Approved if amount_matches => AfterSale::Record,
        Verdict::Approved => AfterSale::OtherAmount,
        Verdict::Declined(kind) => AfterSale::Declined(kind),
        Verdict::InProgress | Verdict::NotFound | Verdict::Unknown => AfterSale::KeepArmed,
    }
}

/// The kind of the terminal's last transaction, as its last-result answer names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LastKind {
    /// A purchase.
    Sale,
    /// A void, refund or reversal: something that undoes a purchase.
    Undo { reversal: bool },
    /// None given, or one that says nothing about a purchase (a query).
    Other,
}

/// What the terminal's last result says about our order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterLastResult {
    /// About another order or none: not found here, and the reversal (if armed) stays armed —
    /// the terminal answers it `25` when nothing happened.
    NotOurs,
    /// Still running at the terminal.
    Waiting,
    /// Our sale, approved for our amount: record it, close the reversal; paid.
    Record,
    /// Our sale, approved for another amount: unknown, the reversal stays armed.
    OtherAmount,
    /// Our sale, declined: close the reversal; failed.
    Declined,
    /// Our purchase was undone (void, reversal or refund approved): close; paid then refunded.
    Undone,
    /// Our reversal found no such transaction: close; the sale never happened.
    NeverHappened,
    /// Anything else: unknown.
    Unknown,
}

/// Reads the last result (`about_us`: it carries our order's reference).
pub fn after_last_result(
    kind: LastKind,
    about_us: bool,
    verdict: Verdict,
    amount_matches: bool,
) -> AfterLastResult {
    if !about_us {
        return AfterLastResult::NotOurs;
    }
    match (kind, verdict) {
        (_, Verdict::InProgress) => AfterLastResult::Waiting,
        (LastKind::Sale, Verdict::Approved) if amount_matches => AfterLastResult::Record,
        (LastKind::Sale, Verdict::Approved) => AfterLastResult::OtherAmount,
        (LastKind::Sale, Verdict::Declined(_)) => AfterLastResult::Declined,
        (LastKind::Undo { .. }, Verdict::Approved) => AfterLastResult::Undone,
        (LastKind::Undo { reversal: true }, Verdict::NotFound) => AfterLastResult::NeverHappened,
        (LastKind::Sale, Verdict::NotFound | Verdict::Unknown)
        | (LastKind::Undo { .. }, Verdict::Declined(_) | Verdict::Unknown)
        | (LastKind::Undo { reversal: false }, Verdict::NotFound)
        | (LastKind::Other, _) => AfterLastResult::Unknown,
    }
}

/// What a reversal's answer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterReversal {
    /// Reversed: mark the purchase (if recorded) voided, close the record; refunded.
    Reversed,
    /// No such transaction: the sale never happened; close the record.
    NeverHappened,
    /// The terminal declined the reversal: keep the record as refused, for the payment machine
    /// and staff; the customer may have been charged.
    Refused,
    /// Not known: try again.
    Retry,
}

/// A reversal's answer.
pub fn after_reversal(verdict: Verdict) -> AfterReversal {
    match verdict {
        Verdict::Approved => AfterReversal::Reversed,
        Verdict::NotFound => AfterReversal::NeverHappened,
        Verdict::Declined(_) => AfterReversal::Refused,
        Verdict::InProgress | Verdict::Unknown => AfterReversal::Retry,
    }
}

/// What an answer to a void or a refund means for that operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpAnswer {
    /// Approved: done.
    Done,
    /// Declined, or the original was not found: refused for good (the kiosk goes on another
    /// way — a refund after a refused void, staff after a refused refund).
    Refused,
    /// Not known yet: ask again, never resend blindly.
    Unknown,
}

/// A void's or a refund's answer.
pub fn after_void_or_refund(verdict: Verdict) -> OpAnswer {
    match verdict {
        Verdict::Approved => OpAnswer::Done,
        Verdict::Declined(_) | Verdict::NotFound => OpAnswer::Refused,
        Verdict::InProgress | Verdict::Unknown => OpAnswer::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_VERDICTS: [Verdict; 6] = [
        Verdict::Approved,
        Verdict::Declined(FailKind::Customer),
        Verdict::Declined(FailKind::Config),
        Verdict::InProgress,
        Verdict::NotFound,
        Verdict::Unknown,
    ];

    fn records(
        purchase: Option<Purchase>,
        reversal: Option<ReversalState>,
        another_armed: bool,
    ) -> SaleRecords {
        SaleRecords { purchase, reversal, another_armed }
    }

    #[test]
    fn a_sale_is_sent_only_with_nothing_armed_and_nothing_on_record() {
        use ReversalState::*;
        let states = [None, Some(Armed), Some(Answered), Some(Refused), Some(Settled)];
        for purchase in [None, Some(Purchase::Approved), Some(Purchase::Voided)] {
            for reversal in states {
                for another_armed in [false, true] {
                    let decision = before_sale(records(purchase, reversal, another_armed));
                    let sends = decision == BeforeSale::ArmAndSend;
                    let clear =
                        purchase.is_none() && !matches!(reversal, Some(Armed | Refused)) && !another_armed;
                    assert_eq!(sends, clear, "{purchase:?} {reversal:?} {another_armed}: {decision:?}");
                }
            }
        }
    }

    #[test]
    fn the_record_of_this_order_comes_before_another_orders_armed_reversal() {
        assert_eq!(before_sale(records(Some(Purchase::Approved), None, true)), BeforeSale::AlreadyPaid);
        assert_eq!(before_sale(records(None, Some(ReversalState::Armed), true)), BeforeSale::AskFirst);
        assert_eq!(before_sale(records(None, Some(ReversalState::Refused), false)), BeforeSale::InDoubt);
        assert_eq!(before_sale(records(None, Some(ReversalState::Answered), true)), BeforeSale::AnotherArmed);
    }

    #[test]
    fn only_a_definite_answer_closes_an_armed_sale() {
        for verdict in ALL_VERDICTS {
            for matches in [true, false] {
                let after = after_sale(verdict, matches);
                let closes = matches!(after, AfterSale::Record | AfterSale::Declined(_));
                let definite =
                    matches!(verdict, Verdict::Declined(_)) || (verdict == Verdict::Approved && matches);
                assert_eq!(closes, definite, "{verdict:?} {matches}: {after:?}");
            }
        }
    }

    #[test]
    fn a_last_result_about_another_order_says_nothing_about_ours() {
        for verdict in ALL_VERDICTS {
            for kind in [LastKind::Sale, LastKind::Undo { reversal: true }, LastKind::Other] {
                assert_eq!(after_last_result(kind, false, verdict, true), AfterLastResult::NotOurs);
            }
        }
    }

    #[test]
    fn the_last_result_of_our_order_reads_as_the_table_says() {
        use AfterLastResult as A;
        let sale = LastKind::Sale;
        let reversal = LastKind::Undo { reversal: true };
        let void = LastKind::Undo { reversal: false };
        assert_eq!(after_last_result(sale, true, Verdict::Approved, true), A::Record);
        assert_eq!(after_last_result(sale, true, Verdict::Approved, false), A::OtherAmount);
        assert_eq!(after_last_result(sale, true, Verdict::Declined(FailKind::Customer), true), A::Declined);
        assert_eq!(after_last_result(sale, true, Verdict::InProgress, true), A::Waiting);
        assert_eq!(after_last_result(sale, true, Verdict::NotFound, true), A::Unknown);
        assert_eq!(after_last_result(void, true, Verdict::Approved, false), A::Undone);
        assert_eq!(after_last_result(reversal, true, Verdict::Approved, true), A::Undone);
        assert_eq!(after_last_result(reversal, true, Verdict::NotFound, true), A::NeverHappened);
        assert_eq!(after_last_result(void, true, Verdict::NotFound, true), A::Unknown);
        assert_eq!(after_last_result(LastKind::Other, true, Verdict::Approved, true), A::Unknown);
    }

    #[test]
    fn a_void_or_refund_is_refused_for_good_only_on_a_definite_no() {
        assert_eq!(after_void_or_refund(Verdict::Approved), OpAnswer::Done);
        assert_eq!(after_void_or_refund(Verdict::NotFound), OpAnswer::Refused);
        assert_eq!(after_void_or_refund(Verdict::Declined(FailKind::Customer)), OpAnswer::Refused);
        assert_eq!(after_void_or_refund(Verdict::InProgress), OpAnswer::Unknown);
        assert_eq!(after_void_or_refund(Verdict::Unknown), OpAnswer::Unknown);
        let open: Vec<ReversalState> =
            [ReversalState::Armed, ReversalState::Answered, ReversalState::Refused, ReversalState::Settled]
                .into_iter()
                .filter(|s| s.is_open())
                .collect();
        assert_eq!(open, [ReversalState::Armed, ReversalState::Refused]);
    }

    #[test]
    fn a_reversal_is_retried_until_the_terminal_gives_a_definite_answer() {
        assert_eq!(after_reversal(Verdict::Approved), AfterReversal::Reversed);
        assert_eq!(after_reversal(Verdict::NotFound), AfterReversal::NeverHappened);
        assert_eq!(after_reversal(Verdict::Declined(FailKind::Config)), AfterReversal::Refused);
        assert_eq!(after_reversal(Verdict::InProgress), AfterReversal::Retry);
        assert_eq!(after_reversal(Verdict::Unknown), AfterReversal::Retry);
    }
}
