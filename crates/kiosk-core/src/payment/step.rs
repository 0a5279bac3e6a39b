//! The transitions. `apply` dispatches on the event; each handler reads like a row of the
//! diagram in payments.md §8. Events that do not apply to the current state are stale replies
//! or ticks and change nothing. The whole machine on one screen:
//!
//! ```text
//! state            event                    → next state [main effect]
//! Ordered          PayWith                  → PaySent [Pay]; cash (in the box already): Paid [Proceed]
//!                  Cancel | Resume          → Abandoned; cash: Resume → Paid [Proceed], Cancel ignored
//! PaySent          PayReplied paid          → Paid [Proceed]
//!                    failed | mismatch      → PayFailed | Suspense(Mismatch, never re-checked) [PrintSlip]
//!                    used | PIN | unknown   → PayPending (query due now | after first_query_after)
//!                  Resume                   → PayPending [Query] (the pay is never resent)
//! PayPending       Tick (due) | Resume      → PayPending, in flight [Query]
//!                  QueryReplied paid        → Paid [Proceed]
//!                    paid-then-refunded     → Reversed(true) [PrintReceipt]
//!                    failed | mismatch      → PayFailed | Suspense(Mismatch) [PrintSlip]
//!                    closed | nf, 2nd time  → Reversing [Reverse once min_reverse_after has passed]
//!                    waiting|unknown|1st nf → PayPending (next query); past pay_deadline: Reversing
//! Reversing        Tick | Resume, if due    → Reversing, in flight [Reverse] (Resume: even mid-check)
//!                  ReverseReplied done      → Reversed(as replied) [PrintReceipt]
//!                    retry                  → Reversing (later); at max attempts Suspense(RevUnc)
//!                    refused                → Reversing, checking [Query]
//!                  QueryReplied¹ paid       → Refunding, whole order (R7) [Refund]
//!                    paid-then-ref.|failed|closed → Reversed(true | false | None) [PrintReceipt]
//!                    not found              → AwaitCodeExpiry, reverses kept [Query if code expired]; no expiry: Suspense
//!                    waiting | unknown      → Reversing (reverse later); at max attempts Suspense(RevUnc)
//!                    mismatch               → Suspense(Mismatch)
//! AwaitCodeExpiry  Tick | Resume, if due    → AwaitCodeExpiry, in flight [Query]
//!                  QueryReplied nf|failed|closed → Reversed(false) [PrintReceipt]
//!                    paid | paid-then-ref.  → Refunding, whole order [Refund] | Reversed(true)
//!                    waiting | mismatch     → Reversing, reverses kept [Reverse if allowed] | Suspense(Mismatch)
//!                    unknown                → AwaitCodeExpiry (later); at max queries Suspense(RevUnc)
//!                    waiting, reverses spent → Suspense(RevUnc)
//! Paid             Proceed | Resume         → WriteOffSent [WriteOff per line]
//! WriteOffSent     WriteOffReplied          → line written off | rejected | rechecked | unconfirmed ²
//!                  WriteOffStatusReplied    → the same, or not found below max: resend [WriteOff] ²
//!                  Tick | Resume            → WriteOffSent [CheckWriteOff per due line; Resume: + unsent]
//! WrittenOff       Proceed | Resume         → top-up: CardWriting [WriteCard]; else Done [PrintReceipt]
//! Refunding        RefundReplied            → refund arrived | accepted | refused | retry | unconfirmed ³
//!                  Tick | Resume            → Refunding [Refund per due retry; Resume: resend in-flight]
//!                  RefundStatusReplied      → as in RefundPending, for a check still in flight ³
//! RefundPending    Tick | Recheck | Resume  → RefundPending [CheckRefund per due refund; Recheck: all]
//!                  RefundStatusReplied      → arrived | failed (refused) | pending (check later) ³
//!                    not found              → Refunding [Refund, same refund number]
//!                  StaffResolved ⁴          → Reversed(true) [PrintReceipt]
//! CardWriting      CardWritten verified     → CardWriting(Confirming) [ConfirmCardWrite]
//!   (Writing)        not written | Resume   → AwaitCardWrite [PrintSlip] | unchanged [WriteCard]
//! CardWriting      Tick (due) | Resume      → in flight [ConfirmCardWrite]
//!   (Confirming)   CardConfirmReplied ok    → Done [PrintReceipt]
//!                    unknown                → Confirming (later); at max Suspense(CardUnc)
//! AwaitCardWrite   RewriteCard              → CardWriting(Writing) [WriteCard]
//! Suspense         Tick (due) | Recheck     → RevUnc: Reversing [Reverse]; Mismatch: unchanged
//!                                             WoUnc: WriteOffSent [CheckWriteOff]
//!                                             RefUnc: Refunding [Refund] (only refused left: checks stop)
//!                                             CardUnc: CardWriting(Confirming) [ConfirmCardWrite]
//!                  Reconciled ⁵             → Reversed | Refunding | WriteOffSent | Done | Refunded;
//!                                             CardUnc: CardWriting(Confirming), one attempt, sent at the next Tick
//!                  StaffResolved ⁴          → Done | Reversed(true) | Reversed(false) [PrintReceipt]
//! Terminal: PayFailed, Reversed, Done, Refunded, Abandoned. Parked: RefundPending, AwaitCardWrite, Suspense.
//! ```
//!
//! Events not listed, and replies whose request is not in flight, change nothing. Suspense(X)
//! prints a slip; X: Rev/WriteOff/Refund/CardConfirm Unconfirmed, Mismatch. ¹ After a refused
//! reverse. ² All lines resolved: uncovered rejected lines → Refunding [Refund]; else an
//! unconfirmed line → Suspense(WoUnc); a refund not arrived → Suspense(RefUnc); a line written
//! off → WrittenOff [Proceed] (no refunds) or Done; none → Refunded. ³ A refund in flight or due →
//! Refunding; all resolved → Suspense | Done | Refunded as in ²; else RefundPending
//! ([PrintReceipt] on the first entry only). ⁴ Refused if it contradicts what the kiosk saw
//! (delivered: a refund arrived or may; returned: a line written off; not charged: money seen);
//! in RefundPending only "returned" passes. ⁵ Needs evidence for every line ([`super::reconciled`]).

use super::state::*;
use super::{Effect, Event, Payment, Policy};
use crate::money::Fen;
use crate::outcome::*;
use crate::time::Ts;

pub(super) fn apply(p: &mut Payment, event: Event, now: Ts, policy: &Policy) -> Vec<Effect> {
    match event {
        Event::PayWith { channel, code_digest } => pay_with(p, channel, code_digest, now, policy),
        Event::Cancel => cancel(p),
        Event::PayReplied { reply } => pay_replied(p, reply, now, policy),
        Event::QueryReplied { reply } => query_replied(p, reply, now, policy),
        Event::ReverseReplied { reply } => reverse_replied(p, reply, now, policy),
        Event::WriteOffReplied { line, reply } => write_off_replied(p, line, reply, now, policy),
        Event::WriteOffStatusReplied { line, reply } => write_off_status_replied(p, line, reply, now, policy),
        Event::RefundReplied { item, reply } => refund_replied(p, item, reply, now, policy),
        Event::RefundStatusReplied { item, reply } => refund_status_replied(p, item, reply, now, policy),
        Event::CardWritten { result } => card_written(p, result, now),
        Event::CardConfirmReplied { reply } => card_confirm_replied(p, reply, now, policy),
        Event::RewriteCard => rewrite_card(p),
        Event::Proceed => proceed(p),
        Event::Tick => tick(p, now, policy),
        Event::Resume => resume(p, now, policy),
        Event::Reconciled { evidence } => super::reconciled::apply(p, &evidence, now, policy),
        Event::Recheck => recheck(p, now, policy),
        Event::StaffResolved { outcome, .. } => super::reconciled::staff_resolved(p, outcome),
        Event::ChargedPerStatement { source, amount, .. } => {
            super::reconciled::charged_per_statement(p, &source, amount, now)
        }
    }
}

// ---- ordering and paying -------------------------------------------------------------------

fn pay_with(
    p: &mut Payment,
    channel: crate::channel::Channel,
    code_digest: String,
    now: Ts,
    policy: &Policy,
) -> Vec<Effect> {
    if p.state != State::Ordered {
        // One order number, one pay request, ever: a second scan is a new order (F12).
        return vec![];
    }
    p.channel = Some(channel);
    p.code_digest = Some(code_digest);
    p.pay_sent_at = Some(now);
    if channel == crate::channel::Channel::Cash {
        // The notes are credited and in the box (the intake is journaled beside the payment,
        // `kiosk_core::cash`): nothing to send; the order number names the cash.
        return paid(p, p.order.reference.to_string());
    }
    p.pay_deadline = Some(now + policy.timing(channel).pay_deadline);
    p.state = State::PaySent;
    vec![Effect::Pay]
}

fn cancel(p: &mut Payment) -> Vec<Effect> {
    // Cash is credited before its payment exists: there is nothing to back out of.
    if p.state == State::Ordered && !p.is_cash() {
        p.state = State::Abandoned;
    }
    vec![]
}

fn pay_replied(p: &mut Payment, reply: PayReply, now: Ts, policy: &Policy) -> Vec<Effect> {
    if p.state != State::PaySent {
        return vec![];
    }
    let timing = channel_timing(p, policy);
    match reply {
        PayReply::Paid { channel_txn } => paid(p, channel_txn),
        PayReply::Failed { kind, code, message } => {
            p.state = State::PayFailed { kind, code, message };
            vec![]
        }
        PayReply::AlreadyUsed { .. } => poll_from(p, now),
        PayReply::AwaitingPin | PayReply::Unknown { .. } => poll_from(p, now + timing.first_query_after),
        PayReply::Mismatch { .. } => mismatch(p),
    }
}

/// A signed reply about another order or amount: nothing may be reversed or written off on its
/// word (the order number could be someone else's). Staff and the statements settle it.
fn mismatch(p: &mut Payment) -> Vec<Effect> {
    p.state = State::Suspense { reason: SuspenseReason::ChannelMismatch, next_check_at: None };
    vec![Effect::PrintSlip]
}

fn poll_from(p: &mut Payment, first_query_at: Ts) -> Vec<Effect> {
    p.state = State::PayPending { next_query_at: first_query_at, queries: 0, not_found: 0, in_flight: false };
    vec![]
}

fn paid(p: &mut Payment, channel_txn: String) -> Vec<Effect> {
    p.channel_txn = Some(channel_txn);
    p.state = State::Paid;
    vec![Effect::Proceed]
}

fn query_replied(p: &mut Payment, reply: QueryReply, now: Ts, policy: &Policy) -> Vec<Effect> {
    match p.state {
        State::PayPending { queries, not_found, in_flight: true, .. } => {
            pending_query_replied(p, reply, queries, not_found, now, policy)
        }
        State::Reversing { attempts, in_flight: true, checking: true, .. } => {
            reverse_check_replied(p, reply, attempts, now, policy)
        }
        State::AwaitCodeExpiry { queries, in_flight: true, reverses, .. } => {
            expired_code_query_replied(p, reply, queries, reverses, now, policy)
        }
        _ => vec![],
    }
}

fn pending_query_replied(
    p: &mut Payment,
    reply: QueryReply,
    queries: u32,
    not_found: u32,
    now: Ts,
    policy: &Policy,
) -> Vec<Effect> {
    let timing = channel_timing(p, policy);
    let deadline = p.pay_deadline.unwrap_or(now);
    let next = |p: &mut Payment, not_found: u32| {
        if now >= deadline {
            start_reversing(p, 0, now, policy)
        } else {
            let at = (now + timing.interval_after(queries)).min(deadline);
            p.state = State::PayPending { next_query_at: at, queries, not_found, in_flight: false };
            vec![]
        }
    };
    match reply {
        QueryReply::Paid { channel_txn } => paid(p, channel_txn),
        QueryReply::PaidThenRefunded { channel_txn } => paid_then_refunded(p, channel_txn),
        QueryReply::Mismatch { .. } => mismatch(p),
        QueryReply::Failed { code } => {
            p.state = State::PayFailed {
                kind: FailKind::Customer,
                code,
                message: "the payment was not completed".into(),
            };
            vec![]
        }
        // Closed, but not by us, in a way that does not say whether money had moved (and gone
        // back): cancel it anyway (payments.md §2.3: "if not success → cancel"). The reverse's
        // own answer says what became of the money (Alipay's `action`, WeChat's orderquery), and
        // a closed order cancels harmlessly.
        QueryReply::Closed { .. } => start_reversing(p, 0, now, policy),
        // Right after a lost request the order may not exist yet: ask once more, then close it
        // anyway so that a delayed request can never succeed later (payments.md §1.5).
        QueryReply::NotFound if not_found >= 1 => start_reversing(p, 0, now, policy),
        QueryReply::NotFound => next(p, not_found + 1),
        QueryReply::Waiting | QueryReply::Unknown { .. } => next(p, not_found),
    }
}

// ---- reversing -----------------------------------------------------------------------------

/// `attempts`: what was already spent of the reverse budget, so that a round trip through
/// AwaitCodeExpiry cannot start it afresh.
fn start_reversing(p: &mut Payment, attempts: u32, now: Ts, policy: &Policy) -> Vec<Effect> {
    let timing = channel_timing(p, policy);
    let earliest = p.pay_sent_at.map(|t| t + timing.min_reverse_after).unwrap_or(now);
    p.state = State::Reversing { next_at: earliest.max(now), attempts, in_flight: false, checking: false };
    // Sending at once when allowed saves a wake-up; the tick path does the same.
    tick(p, now, policy)
}

fn reverse_replied(p: &mut Payment, reply: ReverseReply, now: Ts, policy: &Policy) -> Vec<Effect> {
    let State::Reversing { attempts, in_flight: true, checking: false, .. } = p.state else {
        return vec![];
    };
    let timing = channel_timing(p, policy);
    match reply {
        ReverseReply::Done { refunded } => {
            p.state = State::Reversed { refunded };
            vec![Effect::PrintReceipt]
        }
        ReverseReply::Retry { .. } if attempts >= timing.reverse_max_attempts => {
            suspend(p, SuspenseReason::ReverseUnconfirmed, now, policy)
        }
        ReverseReply::Retry { .. } => {
            p.state = State::Reversing {
                next_at: now + timing.reverse_retry_after,
                attempts,
                in_flight: false,
                checking: false,
            };
            vec![]
        }
        // The channel will not reverse: find out whether it holds the money (R7).
        ReverseReply::Refused { .. } => {
            p.state = State::Reversing { next_at: now, attempts, in_flight: true, checking: true };
            vec![Effect::Query]
        }
    }
}

fn reverse_check_replied(
    p: &mut Payment,
    reply: QueryReply,
    attempts: u32,
    now: Ts,
    policy: &Policy,
) -> Vec<Effect> {
    let timing = channel_timing(p, policy);
    match reply {
        // Paid after the reverse was journaled: the customer was told "not paid", so the money
        // goes back; the order is never written off (R7).
        QueryReply::Paid { channel_txn } => {
            p.channel_txn = Some(channel_txn);
            refund_whole_order(p, now)
        }
        QueryReply::PaidThenRefunded { channel_txn } => paid_then_refunded(p, channel_txn),
        QueryReply::Failed { .. } => {
            p.state = State::Reversed { refunded: Some(false) };
            vec![Effect::PrintReceipt]
        }
        QueryReply::Closed { .. } => closed_maybe_returned(p),
        QueryReply::Mismatch { .. } => mismatch(p),
        // The channel neither knows the order nor would close it: the pay request never arrived,
        // or is still on its way. Once the customer's code has expired it can charge no one.
        // The reverse attempts spent so far go with it (see `start_reversing`).
        QueryReply::NotFound => await_code_expiry(p, attempts, now, policy),
        QueryReply::Waiting | QueryReply::Unknown { .. } if attempts >= timing.reverse_max_attempts => {
            suspend(p, SuspenseReason::ReverseUnconfirmed, now, policy)
        }
        QueryReply::Waiting | QueryReply::Unknown { .. } => {
            p.state = State::Reversing {
                next_at: now + timing.reverse_retry_after,
                attempts,
                in_flight: false,
                checking: false,
            };
            vec![]
        }
    }
}

/// The channel took the money and has already given it back (WeChat REFUND): closed, whole.
fn paid_then_refunded(p: &mut Payment, channel_txn: String) -> Vec<Effect> {
    p.channel_txn = Some(channel_txn);
    p.state = State::Reversed { refunded: Some(true) };
    vec![Effect::PrintReceipt]
}

/// R7: paid after the reverse was journaled. The customer was told "not paid", so the whole
/// order goes back; it is never written off.
pub(super) fn refund_whole_order(p: &mut Payment, now: Ts) -> Vec<Effect> {
    let item = RefundItem {
        refund_no: p.order.reference.whole_refund_no(),
        sent_at: Some(now),
        amount: p.order.total(),
        lines: Vec::new(),
        attempts: 1,
        status: RefundStatus::InFlight,
    };
    p.refunds = vec![item];
    p.state = State::Refunding;
    vec![Effect::Refund { item: 0 }]
}

/// The order is unknown to the channel, which will not close it either. For a payment code, wait
/// until the code has expired and ask once more; the bank card terminal has no such code, so
/// the order waits in SUSPENSE for its online checks, staff and the statements.
fn await_code_expiry(p: &mut Payment, reverses: u32, now: Ts, policy: &Policy) -> Vec<Effect> {
    let timing = channel_timing(p, policy);
    match (timing.code_expires_after, p.pay_sent_at) {
        (Some(valid_for), Some(sent_at)) => {
            p.state = State::AwaitCodeExpiry {
                query_at: (sent_at + valid_for).max(now),
                queries: 0,
                in_flight: false,
                reverses,
            };
            tick(p, now, policy)
        }
        _ => suspend(p, SuspenseReason::ReverseUnconfirmed, now, policy),
    }
}

/// The channel closed the order without saying whether money had been taken: the customer is
/// told what is certain — nothing was paid, and anything taken is back (issue 9, item 7).
fn closed_maybe_returned(p: &mut Payment) -> Vec<Effect> {
    p.state = State::Reversed { refunded: None };
    vec![Effect::PrintReceipt]
}

/// The last word on an order the channel had never seen, asked after the code expired.
fn expired_code_query_replied(
    p: &mut Payment,
    reply: QueryReply,
    queries: u32,
    reverses: u32,
    now: Ts,
    policy: &Policy,
) -> Vec<Effect> {
    let timing = channel_timing(p, policy);
    match reply {
        // Still unknown after the code expired: it never reached the channel and never can.
        // Closed (REVOKED / TRADE_CLOSED) here is the record our own reverse left of an order the
        // channel had just said it never saw: no money was ever taken (a paid one would have
        // been known, and nothing of ours refunded it).
        QueryReply::NotFound | QueryReply::Failed { .. } | QueryReply::Closed { .. } => {
            p.state = State::Reversed { refunded: Some(false) };
            vec![Effect::PrintReceipt]
        }
        QueryReply::Paid { channel_txn } => {
            p.channel_txn = Some(channel_txn);
            refund_whole_order(p, now)
        }
        QueryReply::PaidThenRefunded { channel_txn } => paid_then_refunded(p, channel_txn),
        QueryReply::Mismatch { .. } => mismatch(p),
        // The order exists after all and is open: close it, on what is left of the reverse
        // budget (a channel that refuses every reverse and never decides ends in suspense).
        QueryReply::Waiting if reverses >= timing.reverse_max_attempts => {
            suspend(p, SuspenseReason::ReverseUnconfirmed, now, policy)
        }
        QueryReply::Waiting => start_reversing(p, reverses, now, policy),
        QueryReply::Unknown { .. } if queries >= timing.reverse_max_attempts => {
            suspend(p, SuspenseReason::ReverseUnconfirmed, now, policy)
        }
        QueryReply::Unknown { .. } => {
            p.state = State::AwaitCodeExpiry {
                query_at: now + timing.reverse_retry_after,
                queries,
                in_flight: false,
                reverses,
            };
            vec![]
        }
    }
}

/// Parks the payment in SUSPENSE with a slip, its next online check scheduled on the backoff.
pub(super) fn suspend(p: &mut Payment, reason: SuspenseReason, now: Ts, policy: &Policy) -> Vec<Effect> {
    let next_check_at = Some(now + super::backoff(&policy.suspense_checks, p.suspense_checks));
    p.state = State::Suspense { reason, next_check_at };
    vec![Effect::PrintSlip]
}

// ---- write-offs ----------------------------------------------------------------------------

fn proceed(p: &mut Payment) -> Vec<Effect> {
    match p.state {
        State::Paid => {
            p.state = State::WriteOffSent;
            send_unsent_write_offs(p)
        }
        State::WrittenOff if p.order.is_card_top_up() => {
            p.state = State::CardWriting { step: CardStep::Writing };
            vec![Effect::WriteCard]
        }
        State::WrittenOff => {
            p.state = State::Done;
            vec![Effect::PrintReceipt]
        }
        _ => vec![],
    }
}

fn write_off_replied(
    p: &mut Payment,
    line: usize,
    reply: WriteOffReply,
    now: Ts,
    policy: &Policy,
) -> Vec<Effect> {
    let Some(LineState::Sent { attempts }) = p.lines.get(line).cloned() else {
        return vec![];
    };
    if p.state != State::WriteOffSent {
        return vec![];
    }
    p.lines[line] = match reply {
        WriteOffReply::WrittenOff { biller_txn, card } => LineState::WrittenOff { biller_txn, card },
        WriteOffReply::Rejected { code, message } => LineState::Rejected { code, message },
        WriteOffReply::Unknown { .. } => unknown_line(attempts, now, policy),
    };
    after_line_change(p, now, policy)
}

fn write_off_status_replied(
    p: &mut Payment,
    line: usize,
    reply: WriteOffStatus,
    now: Ts,
    policy: &Policy,
) -> Vec<Effect> {
    let Some(LineState::Checking { attempts, in_flight: true, .. }) = p.lines.get(line).cloned() else {
        return vec![];
    };
    if p.state != State::WriteOffSent {
        return vec![];
    }
    let mut effects = Vec::new();
    p.lines[line] = match reply {
        WriteOffStatus::WrittenOff { biller_txn, card } => LineState::WrittenOff { biller_txn, card },
        WriteOffStatus::Rejected { code, message } => LineState::Rejected { code, message },
        // The biller never saw it: resending under the same reference is safe (it is the
        // biller's idempotency key).
        WriteOffStatus::NotFound if attempts < policy.write_off.max_attempts => {
            effects.push(Effect::WriteOff { line });
            LineState::Sent { attempts: attempts + 1 }
        }
        WriteOffStatus::NotFound | WriteOffStatus::Unknown { .. } => unknown_line(attempts, now, policy),
    };
    effects.extend(after_line_change(p, now, policy));
    effects
}

fn unknown_line(attempts: u32, now: Ts, policy: &Policy) -> LineState {
    if attempts >= policy.write_off.max_attempts {
        LineState::Unconfirmed
    } else {
        LineState::Checking { attempts, next_at: now + policy.write_off.after, in_flight: false }
    }
}

/// Once every line is resolved: refund the rejected ones, park the unconfirmed ones, carry on
/// with the written-off ones.
fn after_line_change(p: &mut Payment, now: Ts, policy: &Policy) -> Vec<Effect> {
    if !p.lines.iter().all(LineState::is_resolved) {
        return vec![];
    }
    // Refused lines no refund covers yet: a line found refused later (a suspense re-check) gets
    // a refund of its own; refunds already made or on their way are kept, never re-sent for a
    // larger amount or under a new number (that would return a line twice).
    let covered = |line: &usize| p.refunds.iter().any(|r| r.lines.contains(line));
    let rejected: Vec<usize> = p
        .lines
        .iter()
        .enumerate()
        .filter(|(i, l)| matches!(l, LineState::Rejected { .. }) && !covered(i))
        .map(|(i, _)| i)
        .collect();
    if p.is_cash() {
        // A line the biller may still hold is checked first (write-off unconfirmed); the cash
        // of a refused line is only owed once every line is known.
        if rejected.is_empty() || p.lines.contains(&LineState::Unconfirmed) {
            return finish(p, now, policy);
        }
        // The kiosk gives no cash back: staff pay it out at the counter against the slip.
        // Nothing to check online: only staff settle it.
        p.state = State::Suspense { reason: SuspenseReason::CashOwed, next_check_at: None };
        return vec![Effect::PrintSlip];
    }
    if let Some(&first) = rejected.first() {
        // One refund for these refused lines, numbered after the first of them: no other refund
        // holds that line, so the number is new.
        let amount = Fen::sum(rejected.iter().map(|&line| p.order.lines[line].amount)).unwrap_or_default();
        p.refunds.push(RefundItem {
            refund_no: p.order.reference.line_refund_no(first),
            sent_at: Some(now),
            amount,
            lines: rejected,
            attempts: 1,
            status: RefundStatus::InFlight,
        });
        p.state = State::Refunding;
        return vec![Effect::Refund { item: p.refunds.len() - 1 }];
    }
    finish(p, now, policy)
}

/// The end of the money path: every line and refund resolved.
fn finish(p: &mut Payment, now: Ts, policy: &Policy) -> Vec<Effect> {
    let unconfirmed_line = p.lines.contains(&LineState::Unconfirmed);
    let unsettled_refund = p.refunds.iter().any(|r| r.status != RefundStatus::Refunded);
    if unconfirmed_line {
        return suspend(p, SuspenseReason::WriteOffUnconfirmed, now, policy);
    }
    if unsettled_refund {
        return suspend(p, SuspenseReason::RefundUnconfirmed, now, policy);
    }
    let any_written_off = p.lines.iter().any(|l| matches!(l, LineState::WrittenOff { .. }));
    let whole_refund = p.refunds.iter().any(|r| r.lines.is_empty());
    if any_written_off && !whole_refund {
        if p.refunds.is_empty() {
            p.state = State::WrittenOff;
            return vec![Effect::Proceed];
        }
        p.state = State::Done;
    } else {
        p.state = State::Refunded;
    }
    vec![Effect::PrintReceipt]
}

// ---- refunds -------------------------------------------------------------------------------

fn refund_replied(p: &mut Payment, item: usize, reply: RefundReply, now: Ts, policy: &Policy) -> Vec<Effect> {
    if p.state != State::Refunding || p.refunds.get(item).map(|r| &r.status) != Some(&RefundStatus::InFlight)
    {
        return vec![];
    }
    let refund = &mut p.refunds[item];
    refund.status = match reply {
        RefundReply::Refunded => RefundStatus::Refunded,
        // Accepted is not arrived (payments.md §1.8): the refund query is the truth.
        RefundReply::Accepted => RefundStatus::Accepted {
            next_check_at: now + super::backoff(&policy.refund_checks, 0),
            checks: 0,
            in_flight: false,
        },
        RefundReply::Refused { detail } => RefundStatus::Refused { detail },
        RefundReply::Unknown { .. } if refund.attempts >= policy.refund.max_attempts => {
            RefundStatus::Unconfirmed
        }
        RefundReply::Unknown { .. } => RefundStatus::RetryAt { next_at: now + policy.refund.after },
    };
    after_refund_change(p, now, policy)
}

/// Once no refund is on the wire or due for a resend: finish if every one is settled, otherwise
/// wait in REFUND_PENDING for the accepted ones to arrive.
fn after_refund_change(p: &mut Payment, now: Ts, policy: &Policy) -> Vec<Effect> {
    let busy =
        p.refunds.iter().any(|r| matches!(r.status, RefundStatus::InFlight | RefundStatus::RetryAt { .. }));
    if busy {
        if p.state == State::RefundPending {
            p.state = State::Refunding;
        }
        return vec![];
    }
    if p.refunds.iter().all(|r| r.status.is_resolved()) {
        return finish(p, now, policy);
    }
    p.state = State::RefundPending;
    // The customer leaves with a receipt that says the refund is on its way: once, however
    // often a lost refund brings the payment back here.
    if std::mem::replace(&mut p.pending_receipt_offered, true) {
        vec![]
    } else {
        vec![Effect::PrintReceipt]
    }
}

fn refund_status_replied(
    p: &mut Payment,
    item: usize,
    reply: RefundQueryReply,
    now: Ts,
    policy: &Policy,
) -> Vec<Effect> {
    let Some(RefundStatus::Accepted { checks, in_flight: true, .. }) =
        p.refunds.get(item).map(|r| r.status.clone())
    else {
        return vec![];
    };
    // The refund's own status is the guard: while another refund checked in the same round is
    // sent again (REFUNDING), this one's answer still counts, or it would stay in flight for good.
    if !matches!(p.state, State::RefundPending | State::Refunding) {
        return vec![];
    }
    let mut effects = Vec::new();
    let refund = &mut p.refunds[item];
    refund.status = match reply {
        RefundQueryReply::Refunded => RefundStatus::Refunded,
        // CHANGE / REFUNDCLOSE: it will not arrive by itself; staff settle it from the slip.
        RefundQueryReply::Failed { code } => RefundStatus::Refused { detail: code },
        // The channel has no such refund after all: send it again under its same number.
        RefundQueryReply::NotFound => {
            refund.attempts += 1;
            effects.push(Effect::Refund { item });
            RefundStatus::InFlight
        }
        RefundQueryReply::Pending | RefundQueryReply::Unknown { .. } => RefundStatus::Accepted {
            next_check_at: now + super::backoff(&policy.refund_checks, checks),
            checks,
            in_flight: false,
        },
    };
    effects.extend(after_refund_change(p, now, policy));
    effects
}

// ---- prepaid card --------------------------------------------------------------------------

fn card_written(p: &mut Payment, result: CardWriteResult, now: Ts) -> Vec<Effect> {
    if p.state != (State::CardWriting { step: CardStep::Writing }) {
        return vec![];
    }
    match result {
        CardWriteResult::Verified => {
            p.card_verified = true;
            p.state = State::CardWriting {
                step: CardStep::Confirming { attempts: 1, next_at: now, in_flight: true },
            };
            vec![Effect::ConfirmCardWrite]
        }
        CardWriteResult::NotWritten { detail } => {
            p.state = State::AwaitCardWrite { detail };
            vec![Effect::PrintSlip]
        }
    }
}

fn card_confirm_replied(p: &mut Payment, reply: ConfirmReply, now: Ts, policy: &Policy) -> Vec<Effect> {
    let State::CardWriting { step: CardStep::Confirming { attempts, in_flight: true, .. } } = p.state else {
        return vec![];
    };
    match reply {
        ConfirmReply::Confirmed => {
            p.state = State::Done;
            vec![Effect::PrintReceipt]
        }
        ConfirmReply::Unknown { .. } if attempts >= policy.card_confirm.max_attempts => {
            suspend(p, SuspenseReason::CardConfirmUnconfirmed, now, policy)
        }
        ConfirmReply::Unknown { .. } => {
            p.state = State::CardWriting {
                step: CardStep::Confirming {
                    attempts,
                    next_at: now + policy.card_confirm.after,
                    in_flight: false,
                },
            };
            vec![]
        }
    }
}

/// 补写卡: write the same purchase (same sequence) again; the meter ignores a replay.
fn rewrite_card(p: &mut Payment) -> Vec<Effect> {
    if !matches!(p.state, State::AwaitCardWrite { .. }) {
        return vec![];
    }
    p.state = State::CardWriting { step: CardStep::Writing };
    vec![Effect::WriteCard]
}

// ---- time and restarts ---------------------------------------------------------------------

pub(super) fn tick(p: &mut Payment, now: Ts, policy: &Policy) -> Vec<Effect> {
    match p.state.clone() {
        // Always ask before deciding, even past the deadline (after a long restart, or for a
        // PIN entered just before it): the reply decides whether to reverse.
        State::PayPending { next_query_at, queries, not_found, in_flight: false } if now >= next_query_at => {
            p.state = State::PayPending { next_query_at, queries: queries + 1, not_found, in_flight: true };
            vec![Effect::Query]
        }
        State::Reversing { next_at, attempts, in_flight: false, .. } if now >= next_at => {
            // The first reverse fixes the time every retry names (UnionPay's txnTime).
            p.reverse_sent_at.get_or_insert(now);
            p.state = State::Reversing { next_at, attempts: attempts + 1, in_flight: true, checking: false };
            vec![Effect::Reverse]
        }
        State::AwaitCodeExpiry { query_at, queries, in_flight: false, reverses } if now >= query_at => {
            p.state = State::AwaitCodeExpiry { query_at, queries: queries + 1, in_flight: true, reverses };
            vec![Effect::Query]
        }
        State::WriteOffSent => {
            let mut effects = Vec::new();
            for (line, progress) in p.lines.iter_mut().enumerate() {
                if let LineState::Checking { attempts, next_at, in_flight: false } = *progress {
                    if now >= next_at {
                        *progress = LineState::Checking { attempts: attempts + 1, next_at, in_flight: true };
                        effects.push(Effect::CheckWriteOff { line });
                    }
                }
            }
            effects
        }
        State::Refunding => {
            let mut effects = Vec::new();
            for (item, refund) in p.refunds.iter_mut().enumerate() {
                if let RefundStatus::RetryAt { next_at } = refund.status {
                    if now >= next_at {
                        refund.attempts += 1;
                        refund.status = RefundStatus::InFlight;
                        effects.push(Effect::Refund { item });
                    }
                }
            }
            effects
        }
        State::RefundPending => {
            let mut effects = Vec::new();
            for (item, refund) in p.refunds.iter_mut().enumerate() {
                if let RefundStatus::Accepted { next_check_at, checks, in_flight: false } = refund.status {
                    if now >= next_check_at {
                        refund.status =
                            RefundStatus::Accepted { next_check_at, checks: checks + 1, in_flight: true };
                        effects.push(Effect::CheckRefund { item });
                    }
                }
            }
            effects
        }
        State::CardWriting { step: CardStep::Confirming { attempts, next_at, in_flight: false } }
            if now >= next_at =>
        {
            p.state = State::CardWriting {
                step: CardStep::Confirming { attempts: attempts + 1, next_at, in_flight: true },
            };
            vec![Effect::ConfirmCardWrite]
        }
        State::Suspense { next_check_at: Some(at), .. } if now >= at => check_suspense(p, now, policy),
        _ => vec![],
    }
}

/// Staff: check now. A payment in SUSPENSE gets its online check at once; accepted refunds are
/// queried at once.
fn recheck(p: &mut Payment, now: Ts, policy: &Policy) -> Vec<Effect> {
    match p.state {
        State::Suspense { .. } => check_suspense(p, now, policy),
        State::RefundPending => {
            for refund in p.refunds.iter_mut() {
                if let RefundStatus::Accepted { checks, in_flight: false, .. } = refund.status {
                    refund.status = RefundStatus::Accepted { next_check_at: now, checks, in_flight: false };
                }
            }
            tick(p, now, policy)
        }
        _ => vec![],
    }
}

/// The online check of a payment in SUSPENSE (payments.md §6, resolution order step 1): the same
/// call that left it unsettled, once more, with the same idempotency keys. Each path runs the
/// ordinary machine for one last attempt, so an unclear answer parks it again with the next gap
/// of the backoff, and a clear one settles it.
fn check_suspense(p: &mut Payment, now: Ts, policy: &Policy) -> Vec<Effect> {
    let State::Suspense { reason, .. } = p.state else {
        return vec![];
    };
    match reason {
        SuspenseReason::ReverseUnconfirmed => {
            p.suspense_checks += 1;
            let attempts = last_attempt(channel_timing(p, policy).reverse_max_attempts);
            p.state = State::Reversing { next_at: now, attempts, in_flight: false, checking: false };
        }
        SuspenseReason::WriteOffUnconfirmed => {
            p.suspense_checks += 1;
            let attempts = last_attempt(policy.write_off.max_attempts);
            for line in p.lines.iter_mut() {
                if *line == LineState::Unconfirmed {
                    *line = LineState::Checking { attempts, next_at: now, in_flight: false };
                }
            }
            p.state = State::WriteOffSent;
        }
        SuspenseReason::RefundUnconfirmed => {
            let retry: Vec<usize> =
                (0..p.refunds.len()).filter(|&i| p.refunds[i].status == RefundStatus::Unconfirmed).collect();
            if retry.is_empty() {
                // Only refused refunds are left: nothing to resend; staff settle them.
                p.state = State::Suspense { reason, next_check_at: None };
                return vec![];
            }
            p.suspense_checks += 1;
            for i in retry {
                let refund = &mut p.refunds[i];
                refund.attempts = last_attempt(policy.refund.max_attempts);
                refund.status = RefundStatus::RetryAt { next_at: now };
            }
            p.state = State::Refunding;
        }
        SuspenseReason::CardConfirmUnconfirmed => confirm_card_once_more(p, now, policy),
        // Nothing may be done on our side without a person: the order number may not be ours;
        // cash owed is paid out by staff at the counter.
        SuspenseReason::ChannelMismatch | SuspenseReason::CashOwed => {
            p.state = State::Suspense { reason, next_check_at: None };
            return vec![];
        }
    }
    tick(p, now, policy)
}

/// The attempt count that leaves exactly one attempt of a budget of `max`: what a check from
/// SUSPENSE gets, so a failure parks the payment again at once.
fn last_attempt(max: u32) -> u32 {
    max.saturating_sub(1)
}

/// One more confirmation of a card purchase left in SUSPENSE (an online check, or the day's
/// statements, which cannot tell whether the biller took it): a single attempt, then back to
/// SUSPENSE on the backoff, never a fresh round of attempts and slips.
pub(super) fn confirm_card_once_more(p: &mut Payment, now: Ts, policy: &Policy) {
    p.suspense_checks += 1;
    let attempts = last_attempt(policy.card_confirm.max_attempts);
    p.state = State::CardWriting { step: CardStep::Confirming { attempts, next_at: now, in_flight: false } };
}

/// After a restart nothing is in flight any more, but whatever was may have reached the other
/// side: ask before acting (payments.md §8, restart table).
fn resume(p: &mut Payment, now: Ts, policy: &Policy) -> Vec<Effect> {
    match p.state.clone() {
        // Nothing was sent: no money can have moved.
        // A cash payment was journaled with its cash in the box: it goes on, never abandoned.
        State::Ordered if p.is_cash() => paid(p, p.order.reference.to_string()),
        State::Ordered => {
            p.state = State::Abandoned;
            vec![]
        }
        // The pay request may or may not have left: query first, never resend it.
        State::PaySent => {
            p.state = State::PayPending { next_query_at: now, queries: 0, not_found: 0, in_flight: false };
            tick(p, now, policy)
        }
        State::PayPending { queries, not_found, .. } => {
            p.state = State::PayPending { next_query_at: now, queries, not_found, in_flight: false };
            tick(p, now, policy)
        }
        State::Reversing { next_at, attempts, .. } => {
            p.state = State::Reversing { next_at, attempts, in_flight: false, checking: false };
            tick(p, now, policy)
        }
        State::AwaitCodeExpiry { query_at, queries, reverses, .. } => {
            p.state = State::AwaitCodeExpiry { query_at, queries, in_flight: false, reverses };
            tick(p, now, policy)
        }
        State::Paid | State::WrittenOff => proceed(p),
        // A write-off that was on the wire: ask the biller before anything else.
        State::WriteOffSent => {
            for progress in p.lines.iter_mut() {
                match *progress {
                    LineState::Sent { attempts } | LineState::Checking { attempts, .. } => {
                        *progress = LineState::Checking { attempts, next_at: now, in_flight: false };
                    }
                    _ => {}
                }
            }
            let mut effects = send_unsent_write_offs(p);
            effects.extend(tick(p, now, policy));
            effects
        }
        // Refunds are idempotent by refund number: resend what was in flight.
        State::Refunding => {
            for refund in p.refunds.iter_mut() {
                if refund.status == RefundStatus::InFlight {
                    // The resend is the same attempt: it may never have left.
                    refund.status = RefundStatus::RetryAt { next_at: now };
                    refund.attempts = refund.attempts.saturating_sub(1);
                }
            }
            tick(p, now, policy)
        }
        // A refund query that was on the wire is simply asked again.
        State::RefundPending => {
            for refund in p.refunds.iter_mut() {
                if let RefundStatus::Accepted { next_check_at, checks, in_flight: true } = refund.status {
                    refund.status = RefundStatus::Accepted { next_check_at, checks, in_flight: false };
                }
            }
            tick(p, now, policy)
        }
        // The card may or may not hold the purchase: the card reader checks (read back).
        State::CardWriting { step: CardStep::Writing } => vec![Effect::WriteCard],
        State::CardWriting { step: CardStep::Confirming { attempts, .. } } => {
            p.state = State::CardWriting {
                step: CardStep::Confirming { attempts, next_at: now, in_flight: false },
            };
            tick(p, now, policy)
        }
        State::PayFailed { .. }
        | State::Reversed { .. }
        | State::Done
        | State::Refunded
        | State::Abandoned
        | State::AwaitCardWrite { .. }
        | State::Suspense { .. } => vec![],
    }
}

/// Sends the write-off of every line not sent yet (all of them on entering WRITEOFF_SENT).
fn send_unsent_write_offs(p: &mut Payment) -> Vec<Effect> {
    let mut effects = Vec::new();
    for (line, progress) in p.lines.iter_mut().enumerate() {
        if *progress == LineState::NotStarted {
            *progress = LineState::Sent { attempts: 1 };
            effects.push(Effect::WriteOff { line });
        }
    }
    effects
}

pub(super) fn channel_timing<'a>(p: &Payment, policy: &'a Policy) -> &'a super::ChannelTiming {
    policy.timing(p.channel.unwrap_or(crate::channel::Channel::WeChat))
}
