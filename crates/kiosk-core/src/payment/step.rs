//! The transitions. `apply` dispatches on the event; each handler reads like a row of the
//! diagram in payments.md §8. Events that do not apply to the current state are stale replies
//! or ticks and change nothing.

use super::state::*;
use super::{Effect, Event, Payment, Policy, StatementEvidence};
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
        Event::CardWritten { result } => card_written(p, result, now),
        Event::CardConfirmReplied { reply } => card_confirm_replied(p, reply, now, policy),
        Event::RewriteCard => rewrite_card(p),
        Event::Proceed => proceed(p),
        Event::Tick => tick(p, now),
        Event::Resume => resume(p, now),
        Event::Reconciled { evidence } => reconciled(p, &evidence, now),
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
    p.pay_deadline = Some(now + policy.timing(channel).pay_deadline);
    p.state = State::PaySent;
    vec![Effect::Pay]
}

fn cancel(p: &mut Payment) -> Vec<Effect> {
    if p.state == State::Ordered {
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
    }
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
            start_reversing(p, now, policy)
        } else {
            let at = (now + timing.interval_after(queries)).min(deadline);
            p.state = State::PayPending { next_query_at: at, queries, not_found, in_flight: false };
            vec![]
        }
    };
    match reply {
        QueryReply::Paid { channel_txn } => paid(p, channel_txn),
        QueryReply::PaidThenRefunded { channel_txn } => {
            p.channel_txn = Some(channel_txn);
            p.state = State::Reversed { refunded: true };
            vec![Effect::PrintReceipt]
        }
        QueryReply::Failed { code } => {
            p.state = State::PayFailed {
                kind: FailKind::Customer,
                code,
                message: "the payment was not completed".into(),
            };
            vec![]
        }
        // Right after a lost request the order may not exist yet: ask once more, then close it
        // anyway so that a delayed request can never succeed later (payments.md §1.5).
        QueryReply::NotFound if not_found >= 1 => start_reversing(p, now, policy),
        QueryReply::NotFound => next(p, not_found + 1),
        QueryReply::Waiting | QueryReply::Unknown { .. } => next(p, not_found),
    }
}

// ---- reversing -----------------------------------------------------------------------------

fn start_reversing(p: &mut Payment, now: Ts, policy: &Policy) -> Vec<Effect> {
    let timing = channel_timing(p, policy);
    let earliest = p.pay_sent_at.map(|t| t + timing.min_reverse_after).unwrap_or(now);
    p.state = State::Reversing { next_at: earliest.max(now), attempts: 0, in_flight: false, checking: false };
    // Sending at once when allowed saves a wake-up; the tick path does the same.
    tick(p, now)
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
            p.state = State::Suspense { reason: SuspenseReason::ReverseUnconfirmed };
            vec![Effect::PrintSlip]
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
            let item = RefundItem {
                refund_no: p.order.reference.whole_refund_no(),
                amount: p.order.total(),
                lines: Vec::new(),
                attempts: 1,
                status: RefundStatus::InFlight,
            };
            p.refunds = vec![item];
            p.state = State::Refunding;
            vec![Effect::Refund { item: 0 }]
        }
        QueryReply::PaidThenRefunded { channel_txn } => {
            p.channel_txn = Some(channel_txn);
            p.state = State::Reversed { refunded: true };
            vec![Effect::PrintReceipt]
        }
        QueryReply::Failed { .. } => {
            p.state = State::Reversed { refunded: false };
            vec![Effect::PrintReceipt]
        }
        // The channel neither knows the order nor would close it: a delayed pay request could
        // still reach it. Only the day's statements can tell; the customer keeps a slip.
        QueryReply::NotFound => {
            p.state = State::Suspense { reason: SuspenseReason::ReverseUnconfirmed };
            vec![Effect::PrintSlip]
        }
        QueryReply::Waiting | QueryReply::Unknown { .. } if attempts >= timing.reverse_max_attempts => {
            p.state = State::Suspense { reason: SuspenseReason::ReverseUnconfirmed };
            vec![Effect::PrintSlip]
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
    after_line_change(p)
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
    effects.extend(after_line_change(p));
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
fn after_line_change(p: &mut Payment) -> Vec<Effect> {
    if !p.lines.iter().all(LineState::is_resolved) {
        return vec![];
    }
    let rejected: Vec<usize> = p
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l, LineState::Rejected { .. }))
        .map(|(i, _)| i)
        .collect();
    if let Some(&first) = rejected.first() {
        // One refund for every refused line, numbered after the first of them.
        let amount = Fen::sum(rejected.iter().map(|&line| p.order.lines[line].amount)).unwrap_or_default();
        p.refunds = vec![RefundItem {
            refund_no: p.order.reference.line_refund_no(first),
            amount,
            lines: rejected,
            attempts: 1,
            status: RefundStatus::InFlight,
        }];
        p.state = State::Refunding;
        return vec![Effect::Refund { item: 0 }];
    }
    finish(p)
}

/// The end of the money path: every line and refund resolved.
fn finish(p: &mut Payment) -> Vec<Effect> {
    let unconfirmed_line = p.lines.contains(&LineState::Unconfirmed);
    let unsettled_refund = p.refunds.iter().any(|r| r.status != RefundStatus::Refunded);
    if unconfirmed_line {
        p.state = State::Suspense { reason: SuspenseReason::WriteOffUnconfirmed };
        return vec![Effect::PrintSlip];
    }
    if unsettled_refund {
        p.state = State::Suspense { reason: SuspenseReason::RefundUnconfirmed };
        return vec![Effect::PrintSlip];
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
        RefundReply::Refused { detail } => RefundStatus::Refused { detail },
        RefundReply::Unknown { .. } if refund.attempts >= policy.refund.max_attempts => {
            RefundStatus::Unconfirmed
        }
        RefundReply::Unknown { .. } => RefundStatus::RetryAt { next_at: now + policy.refund.after },
    };
    if p.refunds.iter().all(|r| r.status.is_resolved()) {
        finish(p)
    } else {
        vec![]
    }
}

// ---- prepaid card --------------------------------------------------------------------------

fn card_written(p: &mut Payment, result: CardWriteResult, now: Ts) -> Vec<Effect> {
    if p.state != (State::CardWriting { step: CardStep::Writing }) {
        return vec![];
    }
    match result {
        CardWriteResult::Verified => {
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
            p.state = State::Suspense { reason: SuspenseReason::CardConfirmUnconfirmed };
            vec![Effect::PrintSlip]
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

fn tick(p: &mut Payment, now: Ts) -> Vec<Effect> {
    match p.state.clone() {
        // Always ask before deciding, even past the deadline (after a long restart, or for a
        // PIN entered just before it): the reply decides whether to reverse.
        State::PayPending { next_query_at, queries, not_found, in_flight: false } if now >= next_query_at => {
            p.state = State::PayPending { next_query_at, queries: queries + 1, not_found, in_flight: true };
            vec![Effect::Query]
        }
        State::Reversing { next_at, attempts, in_flight: false, .. } if now >= next_at => {
            p.state = State::Reversing { next_at, attempts: attempts + 1, in_flight: true, checking: false };
            vec![Effect::Reverse]
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
        State::CardWriting { step: CardStep::Confirming { attempts, next_at, in_flight: false } }
            if now >= next_at =>
        {
            p.state = State::CardWriting {
                step: CardStep::Confirming { attempts: attempts + 1, next_at, in_flight: true },
            };
            vec![Effect::ConfirmCardWrite]
        }
        _ => vec![],
    }
}

/// After a restart nothing is in flight any more, but whatever was may have reached the other
/// side: ask before acting (payments.md §8, restart table).
fn resume(p: &mut Payment, now: Ts) -> Vec<Effect> {
    match p.state.clone() {
        // Nothing was sent: no money can have moved.
        State::Ordered => {
            p.state = State::Abandoned;
            vec![]
        }
        // The pay request may or may not have left: query first, never resend it.
        State::PaySent => {
            p.state = State::PayPending { next_query_at: now, queries: 0, not_found: 0, in_flight: false };
            tick(p, now)
        }
        State::PayPending { queries, not_found, .. } => {
            p.state = State::PayPending { next_query_at: now, queries, not_found, in_flight: false };
            tick(p, now)
        }
        State::Reversing { next_at, attempts, .. } => {
            p.state = State::Reversing { next_at, attempts, in_flight: false, checking: false };
            tick(p, now)
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
            effects.extend(tick(p, now));
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
            tick(p, now)
        }
        // The card may or may not hold the purchase: the card reader checks (read back).
        State::CardWriting { step: CardStep::Writing } => vec![Effect::WriteCard],
        State::CardWriting { step: CardStep::Confirming { attempts, .. } } => {
            p.state = State::CardWriting {
                step: CardStep::Confirming { attempts, next_at: now, in_flight: false },
            };
            tick(p, now)
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

fn channel_timing<'a>(p: &Payment, policy: &'a Policy) -> &'a super::ChannelTiming {
    policy.timing(p.channel.unwrap_or(crate::channel::Channel::WeChat))
}

// ---- reconciliation ------------------------------------------------------------------------

/// Settles a payment in SUSPENSE from the day's statements, or leaves it there when they do not
/// tell the whole story. Only what the files show happened is taken; the absence of a charge
/// proves "not charged" only when the files cover the payment's whole life, and never against
/// what the kiosk itself saw (a transaction id, a write-off, a refund).
fn reconciled(p: &mut Payment, evidence: &StatementEvidence, now: Ts) -> Vec<Effect> {
    let State::Suspense { reason } = p.state else {
        return vec![];
    };
    if evidence.written_off.len() != p.lines.len() {
        return vec![];
    }
    if reason == SuspenseReason::CardConfirmUnconfirmed {
        // The card holds the purchase; only the biller's confirmation is missing: send it again.
        p.state =
            State::CardWriting { step: CardStep::Confirming { attempts: 0, next_at: now, in_flight: false } };
        return vec![];
    }
    let locally_written_off = p.lines.iter().any(|l| matches!(l, LineState::WrittenOff { .. }));
    let locally_refunded = p.refunds.iter().any(|r| r.status == RefundStatus::Refunded);
    let seen_charged = p.channel_txn.is_some() || locally_written_off || locally_refunded;
    let externally_written_off = evidence.written_off.iter().any(|&w| w);
    if !evidence.charged {
        if evidence.complete
            && !seen_charged
            && !externally_written_off
            && reason == SuspenseReason::ReverseUnconfirmed
        {
            p.state = State::Reversed { refunded: false };
            return vec![Effect::PrintReceipt];
        }
        return vec![];
    }
    if evidence.reversed {
        if externally_written_off || locally_written_off {
            return vec![]; // credited at a biller and given back: for staff
        }
        p.state = State::Reversed { refunded: true };
        return vec![Effect::PrintReceipt];
    }
    let refunded_per_file =
        |r: &RefundItem| r.status == RefundStatus::Refunded || evidence.refunds.contains(&r.refund_no);
    let line_refunded = |i: usize| p.refunds.iter().any(|r| r.lines.contains(&i) && refunded_per_file(r));
    let line_written_off =
        |i: usize| matches!(p.lines[i], LineState::WrittenOff { .. }) || evidence.written_off[i];
    if (0..p.lines.len()).any(|i| line_written_off(i) && line_refunded(i)) {
        return vec![]; // credited and refunded at once: for staff
    }
    let whole_refunded = p.refunds.iter().any(|r| r.lines.is_empty() && refunded_per_file(r));
    let settled = whole_refunded || (0..p.lines.len()).all(|i| line_written_off(i) || line_refunded(i));
    if !settled {
        return vec![];
    }
    if p.order.is_card_top_up() && !whole_refunded {
        // The purchase data for the card comes from the biller, not from a file: ask it again.
        for line in p.lines.iter_mut() {
            *line = LineState::Checking { attempts: 0, next_at: now, in_flight: false };
        }
        if p.channel_txn.is_none() {
            p.channel_txn = Some("per statement".into());
        }
        p.state = State::WriteOffSent;
        return vec![];
    }
    for (i, line) in p.lines.iter_mut().enumerate() {
        if evidence.written_off[i] && !matches!(line, LineState::WrittenOff { .. }) {
            *line = LineState::WrittenOff { biller_txn: "per statement".into(), card: None };
        }
    }
    for refund in p.refunds.iter_mut() {
        if evidence.refunds.contains(&refund.refund_no) {
            refund.status = RefundStatus::Refunded;
        }
    }
    // What was refunded stays refunded; an unsent or unconfirmed refund of a line now known to be
    // written off is void.
    p.refunds.retain(|r| r.status == RefundStatus::Refunded);
    if p.channel_txn.is_none() {
        p.channel_txn = Some("per statement".into());
    }
    let any_written_off = p.lines.iter().any(|l| matches!(l, LineState::WrittenOff { .. }));
    p.state = if any_written_off && !whole_refunded { State::Done } else { State::Refunded };
    vec![Effect::PrintReceipt]
}
