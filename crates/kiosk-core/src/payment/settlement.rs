//! Where every fen of a payment stands: the invariant the whole design exists for.

use super::state::{LineState, RefundStatus, State};
use super::Payment;
use crate::money::Fen;
use serde::{Deserialize, Serialize};

/// A payment's money, from the kiosk's point of view.
///
/// In every terminal state `taken == delivered + returned` and `in_suspense == 0`; in SUSPENSE,
/// `in_suspense` is the part whose fate only staff or the T+1 statements can settle, and
/// `delivered + returned + in_suspense` covers everything that may have been taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// What the channel took from the customer (known to have taken).
    pub taken: Fen,
    /// Written off at the billers.
    pub delivered: Fen,
    /// Given back: refunds, or a reverse of a paid order.
    pub returned: Fen,
    /// Refunds the channel accepted that have not arrived yet (REFUND_PENDING).
    pub returning: Fen,
    /// Not known to be delivered or returned.
    pub in_suspense: Fen,
}

impl Settlement {
    /// True when every fen taken is delivered or returned.
    pub fn balances(&self) -> bool {
        self.in_suspense == Fen::ZERO
            && self.returning == Fen::ZERO
            && self.taken == self.delivered + self.returned
    }
}

pub(super) fn of(p: &Payment) -> Settlement {
    let total = p.order.total();
    let reversed_after_paying = matches!(p.state, State::Reversed { refunded: Some(true) });
    let taken = if p.channel_txn.is_some() || reversed_after_paying { total } else { Fen::ZERO };
    let delivered = Fen::sum(p.lines.iter().zip(&p.order.lines).filter_map(|(state, line)| match state {
        LineState::WrittenOff { .. } => Some(line.amount),
        _ => None,
    }))
    .unwrap_or_default();
    let refunded =
        Fen::sum(p.refunds.iter().filter(|r| r.status == RefundStatus::Refunded).map(|r| r.amount))
            .unwrap_or_default();
    let returned = if reversed_after_paying { total } else { refunded };
    let returning = Fen::sum(
        p.refunds.iter().filter(|r| matches!(r.status, RefundStatus::Accepted { .. })).map(|r| r.amount),
    )
    .unwrap_or_default();
    let in_suspense = match p.state {
        // The channel never confirmed the reverse: the whole order may have been taken.
        // The channel never confirmed the reverse, or spoke of another order: the whole order
        // may have been taken.
        State::Suspense {
            reason: super::SuspenseReason::ReverseUnconfirmed | super::SuspenseReason::ChannelMismatch,
            ..
        } => total,
        // Lines never confirmed by their biller, while other lines' refunds are on their way.
        State::Suspense { .. } | State::RefundPending => taken - delivered - returned - returning,
        _ => Fen::ZERO,
    };
    Settlement { taken, delivered, returned, returning, in_suspense }
}
