//! Settling a payment from outside the kiosk's own calls: the day's statements
//! ([`Event::Reconciled`](super::Event::Reconciled)) and staff ([`Event::StaffResolved`](super::Event::StaffResolved)).

use super::state::*;
use super::step;
use super::{Effect, Payment, Policy, StaffOutcome, StatementEvidence};
use crate::time::Ts;

/// Settles a payment in SUSPENSE from the day's statements, or leaves it there when they do not
/// tell the whole story. Only what the files show happened is taken; the absence of a charge
/// proves "not charged" only when the files cover the payment's whole life, and never against
/// what the kiosk itself saw (a transaction id, a write-off, a refund).
pub(super) fn apply(p: &mut Payment, evidence: &StatementEvidence, now: Ts, policy: &Policy) -> Vec<Effect> {
    let State::Suspense { reason, .. } = p.state else {
        return vec![];
    };
    // Cash owed is paid out by staff; no statement speaks of it.
    if evidence.written_off.len() != p.lines.len() || reason == SuspenseReason::CashOwed {
        return vec![];
    }
    if reason == SuspenseReason::CardConfirmUnconfirmed {
        // The card holds the purchase; only the biller's confirmation is missing: send it again.
        step::confirm_card_once_more(p, now, policy);
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
            p.state = State::Reversed { refunded: Some(false) };
            return vec![Effect::PrintReceipt];
        }
        return vec![];
    }
    if evidence.reversed {
        if externally_written_off || locally_written_off {
            return vec![]; // credited at a biller and given back: for staff
        }
        p.state = State::Reversed { refunded: Some(true) };
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
    let nothing_delivered_or_returned =
        !externally_written_off && !locally_written_off && p.refunds.is_empty();
    if reason == SuspenseReason::ReverseUnconfirmed && nothing_delivered_or_returned {
        // R7: the channel kept the money of an order whose reverse was journaled; the customer
        // was told "not paid", so the whole order goes back, never to a biller.
        if p.channel_txn.is_none() {
            p.channel_txn = Some("per statement".into());
        }
        return step::refund_whole_order(p, now);
    }
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

/// Finance found, in `source`'s statement, the channel's charge of `amount` for an order the
/// kiosk holds as never taken — failed, or reversed before it was paid — with nothing refunded.
/// The whole order goes back through the channel (R7's refund: the customer was told "not
/// paid"). Nothing changes in any other case: another channel's statement or another amount (not
/// this order's charge); a reverse whose payment is unknown (what was taken is back, by the
/// machine's own reading); money the kiosk knows it took, a refund made, a payment still moving
/// (its own machinery, staff or the statements settle those); cash (staff pay cash back).
pub(super) fn charged_per_statement(
    p: &mut Payment,
    source: &str,
    amount: crate::Fen,
    now: Ts,
) -> Vec<Effect> {
    let never_taken = matches!(p.state, State::PayFailed { .. } | State::Reversed { refunded: Some(false) });
    let channel = match p.channel {
        Some(channel) if channel != crate::channel::Channel::Cash => channel,
        _ => return vec![],
    };
    let this_charge = crate::recon::Source::of(channel).code() == source && amount == p.order.total();
    if !never_taken || !this_charge || p.channel_txn.is_some() || !p.refunds.is_empty() {
        return vec![];
    }
    p.channel_txn = Some("per statement".into());
    step::refund_whole_order(p, now)
}

/// Staff settle a payment in SUSPENSE (or a refund still on its way) by hand. A verdict that
/// contradicts what the kiosk itself saw (a transaction id, a write-off, a refund that arrived)
/// changes nothing: staff see it refused and look again.
pub(super) fn staff_resolved(p: &mut Payment, outcome: StaffOutcome) -> Vec<Effect> {
    if !matches!(p.state, State::Suspense { .. } | State::RefundPending) {
        return vec![];
    }
    let written_off = |l: &LineState| matches!(l, LineState::WrittenOff { .. });
    let any_written_off = p.lines.iter().any(written_off);
    let any_refunded = p.refunds.iter().any(|r| r.status == RefundStatus::Refunded);
    match outcome {
        StaffOutcome::Delivered => {
            // Refused, before anything changes, when money went back or may still be going back
            // (a refund arrived, accepted, on the wire or due again): delivered and returned at
            // once is not a verdict staff can give here.
            let returning = p.refunds.iter().any(|r| {
                matches!(
                    r.status,
                    RefundStatus::Refunded
                        | RefundStatus::Accepted { .. }
                        | RefundStatus::InFlight
                        | RefundStatus::RetryAt { .. }
                )
            });
            if any_refunded || returning {
                return vec![];
            }
            for line in p.lines.iter_mut().filter(|l| !written_off(l)) {
                *line = LineState::WrittenOff { biller_txn: LineState::BY_STAFF.into(), card: None };
            }
            // Refunds refused or never confirmed are void: staff found the money with the billers.
            p.refunds.clear();
            p.channel_txn.get_or_insert_with(|| LineState::BY_STAFF.into());
            p.state = State::Done;
        }
        StaffOutcome::Returned if any_written_off && is_cash_owed(p) => {
            // Staff paid out at the counter the cash of the lines the billers refused; the
            // lines written off stay delivered.
            let refused: Vec<usize> =
                (0..p.lines.len()).filter(|&i| matches!(p.lines[i], LineState::Rejected { .. })).collect();
            let Some(&first) = refused.first() else { return vec![] };
            let amount =
                crate::money::Fen::sum(refused.iter().map(|&i| p.order.lines[i].amount)).unwrap_or_default();
            p.refunds.push(super::RefundItem {
                refund_no: p.order.reference.line_refund_no(first),
                sent_at: None,
                amount,
                lines: refused,
                attempts: 0,
                status: RefundStatus::Refunded,
            });
            p.state = State::Done;
        }
        StaffOutcome::Returned => {
            if any_written_off {
                return vec![];
            }
            p.channel_txn.get_or_insert_with(|| LineState::BY_STAFF.into());
            p.state = State::Reversed { refunded: Some(true) };
        }
        StaffOutcome::NotCharged => {
            if any_written_off || any_refunded || p.channel_txn.is_some() {
                return vec![];
            }
            p.state = State::Reversed { refunded: Some(false) };
        }
    }
    vec![Effect::PrintReceipt]
}

/// A cash payment whose refused lines wait for staff to pay the cash out.
fn is_cash_owed(p: &Payment) -> bool {
    matches!(p.state, State::Suspense { reason: SuspenseReason::CashOwed, .. })
}
