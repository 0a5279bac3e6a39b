//! Reconciliation (对账, payments.md §6): the journal against the channels' statements and the
//! billers' files of one day, keyed by order number (channel) and biller reference (biller).
//!
//! Flags follow the CEBA model: matched; channel-only (渠道多: the channel booked money the
//! journal does not hold as taken); biller-only (the biller booked a write-off the journal does
//! not hold); local-only (the journal holds money the channel did not book); amount differs.
//! A payment in SUSPENSE gets the evidence, and an external success overrides the local
//! "unknown" through the payment machine, journaled like any transition.

use billers::ReconRow;
use kiosk_core::payment::{LineState, StatementEvidence};
use kiosk_core::{Fen, Payment, State};
use payments::{StatementKind, StatementRow};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flag {
    Matched {
        order: String,
    },
    /// 渠道多: a charge the journal does not hold as taken.
    ChannelOnly {
        order: String,
        amount: Fen,
    },
    /// The biller booked a write-off the journal does not hold.
    BillerOnly {
        reference: String,
        amount: Fen,
    },
    /// The journal holds money the channel did not book.
    LocalOnly {
        order: String,
        amount: Fen,
    },
    AmountDiffers {
        key: String,
        local: Fen,
        external: Fen,
    },
}

impl Flag {
    pub fn is_match(&self) -> bool {
        matches!(self, Flag::Matched { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Flag::Matched { order } => format!("MATCHED        {order}"),
            Flag::ChannelOnly { order, amount } => format!("CHANNEL_ONLY   {order} {amount} (渠道多)"),
            Flag::BillerOnly { reference, amount } => {
                format!("BILLER_ONLY    {reference} {amount} (缴费单位多)")
            }
            Flag::LocalOnly { order, amount } => format!("LOCAL_ONLY     {order} {amount} (本地多)"),
            Flag::AmountDiffers { key, local, external } => {
                format!("AMOUNT_DIFFERS {key} local {local} external {external}")
            }
        }
    }
}

/// What the files say about `payment`. `complete`: they cover the order's day and the next (a
/// charge can land after midnight), so a missing charge means "not charged".
pub fn evidence_for(
    payment: &Payment,
    channel_rows: &[StatementRow],
    biller_rows: &[ReconRow],
    complete: bool,
) -> StatementEvidence {
    let order = payment.id();
    let mine = || channel_rows.iter().filter(|r| r.out_trade_no == order);
    StatementEvidence {
        charged: mine().any(|r| r.kind == StatementKind::Payment),
        reversed: mine().any(|r| r.kind == StatementKind::Reversed),
        refunds: mine()
            .filter(|r| r.kind == StatementKind::Refund)
            .filter_map(|r| r.refund_no.clone())
            .collect(),
        written_off: payment
            .order
            .lines
            .iter()
            .map(|line| biller_rows.iter().any(|r| r.reference == line.biller_ref))
            .collect(),
        complete,
    }
}

/// Matches the day's payments against the day's files.
pub fn match_day(payments: &[Payment], channel_rows: &[StatementRow], biller_rows: &[ReconRow]) -> Vec<Flag> {
    let by_order: BTreeMap<&str, &Payment> = payments.iter().map(|p| (p.id(), p)).collect();
    let mut flags = Vec::new();
    for payment in payments {
        let charged: Vec<&StatementRow> = channel_rows
            .iter()
            .filter(|r| r.out_trade_no == payment.id() && r.kind == StatementKind::Payment)
            .collect();
        let local_taken = payment.settlement().taken;
        let in_doubt = matches!(payment.state, State::Suspense { .. });
        let mut clean = true;
        match (charged.first(), local_taken > Fen::ZERO) {
            (Some(row), _) if row.amount != payment.order.total() => {
                flags.push(Flag::AmountDiffers {
                    key: payment.id().to_string(),
                    local: payment.order.total(),
                    external: row.amount,
                });
                clean = false;
            }
            (Some(row), false) if !in_doubt => {
                flags.push(Flag::ChannelOnly { order: payment.id().to_string(), amount: row.amount });
                clean = false;
            }
            (None, true) => {
                flags.push(Flag::LocalOnly { order: payment.id().to_string(), amount: local_taken });
                clean = false;
            }
            _ => {}
        }
        for (line, progress) in payment.order.lines.iter().zip(&payment.lines) {
            let Some(row) = biller_rows.iter().find(|r| r.reference == line.biller_ref) else {
                continue;
            };
            if row.amount != line.amount {
                flags.push(Flag::AmountDiffers {
                    key: line.biller_ref.clone(),
                    local: line.amount,
                    external: row.amount,
                });
                clean = false;
            } else if !matches!(progress, LineState::WrittenOff { .. }) && !in_doubt {
                flags.push(Flag::BillerOnly { reference: line.biller_ref.clone(), amount: row.amount });
                clean = false;
            }
        }
        if clean && (local_taken > Fen::ZERO || !charged.is_empty()) {
            flags.push(Flag::Matched { order: payment.id().to_string() });
        }
    }
    // Money booked outside any payment of ours that day.
    for row in channel_rows.iter().filter(|r| r.kind == StatementKind::Payment) {
        if !by_order.contains_key(row.out_trade_no.as_str()) {
            flags.push(Flag::ChannelOnly { order: row.out_trade_no.clone(), amount: row.amount });
        }
    }
    for row in biller_rows {
        let known = payments.iter().any(|p| p.order.lines.iter().any(|l| l.biller_ref == row.reference));
        if !known {
            flags.push(Flag::BillerOnly { reference: row.reference.clone(), amount: row.amount });
        }
    }
    flags
}
