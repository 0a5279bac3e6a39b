//! The receipt as proof: a claim built from the journaled payment, signed with the kiosk's
//! Ed25519 key into the receipt's QR code, and checked later (`yizhan receipt verify`) against
//! both the kiosk's public key and the journal — a forged or altered receipt fails one of them.

use crate::clock;
use journal::Journal;
use kiosk_core::payment::RefundStatus;
use kiosk_core::{Payment, State};
use printer::proof::{self, SigningKey, VerifyingKey};
use printer::{ClaimOutcome, ReceiptClaim};

/// How a payment ended, in the words a receipt can carry.
pub fn outcome_of(p: &Payment) -> ClaimOutcome {
    let refunded_some = p.refunds.iter().any(|r| r.status == RefundStatus::Refunded);
    match p.state {
        State::Done if refunded_some => ClaimOutcome::PartlyPaid,
        State::Done => ClaimOutcome::Paid,
        // "Any amount taken was returned": the customer is whole either way.
        State::Refunded | State::Reversed { refunded: Some(true) | None } => ClaimOutcome::Refunded,
        State::Suspense { .. } | State::RefundPending => ClaimOutcome::Pending,
        State::AwaitCardWrite { .. } => ClaimOutcome::AwaitCardWrite,
        _ => ClaimOutcome::NotCharged,
    }
}

/// The claim a receipt makes: the amount is what reached the billers (or, for a payment in
/// suspense, what is at stake).
pub fn claim_for(p: &Payment, kiosk_id: &str) -> ReceiptClaim {
    let s = p.settlement();
    let amount = match p.state {
        State::Suspense { .. } => s.in_suspense,
        State::RefundPending => s.returning,
        State::Refunded | State::Reversed { .. } => s.returned,
        _ => s.delivered,
    };
    ReceiptClaim {
        order_ref: p.id().to_string(),
        amount,
        channel_txn: p.channel_txn.clone().unwrap_or_default(),
        kiosk_id: kiosk_id.to_string(),
        time: p.order.created_at.0 / 1000,
        outcome: outcome_of(p),
    }
}

/// The QR payload of a payment's receipt, or `None` without a key (or with an oversized field,
/// which a kiosk id of ours never is).
pub fn payload_for(p: &Payment, kiosk_id: &str, key: Option<&SigningKey>) -> Option<String> {
    proof::sign(&claim_for(p, kiosk_id), key?).ok()
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiptCheck {
    #[error("{0}")]
    Signature(#[from] printer::VerifyError),
    #[error("the receipt names order {0}, which this kiosk's journal does not hold")]
    UnknownOrder(String),
    #[error("the receipt says {claimed}, the journal says {journal}")]
    Mismatch { claimed: String, journal: String },
    #[error("the journal could not be read: {0}")]
    Journal(String),
}

/// Checks a scanned payload: the signature, then the claim against the journal.
pub async fn verify(
    payload: &str,
    key: &VerifyingKey,
    journal: &Journal,
) -> Result<ReceiptClaim, ReceiptCheck> {
    let claim = proof::verify(payload, key)?;
    let row = journal
        .get(&claim.order_ref)
        .await
        .map_err(|e| ReceiptCheck::Journal(e.to_string()))?
        .ok_or_else(|| ReceiptCheck::UnknownOrder(claim.order_ref.clone()))?;
    let payment =
        crate::runtime::journaling::restore(&row).map_err(|e| ReceiptCheck::Journal(e.to_string()))?;
    let truth = claim_for(&payment, &claim.kiosk_id);
    let describe = |c: &ReceiptClaim| format!("{:?} {} txn {:?}", c.outcome, c.amount, c.channel_txn);
    // A receipt printed while in suspense stays genuine after the payment settles: compare the
    // order and the transaction, and the outcome only when the journal has not moved on.
    let settled_since = claim.outcome == ClaimOutcome::Pending && truth.outcome != ClaimOutcome::Pending;
    if truth.channel_txn != claim.channel_txn && !(settled_since && claim.channel_txn.is_empty())
        || (!settled_since && (truth.outcome != claim.outcome || truth.amount != claim.amount))
    {
        return Err(ReceiptCheck::Mismatch { claimed: describe(&claim), journal: describe(&truth) });
    }
    Ok(claim)
}

/// "2026-11-23 10:42:05" for a claim's Unix time.
pub fn claim_time(claim: &ReceiptClaim) -> String {
    clock::format_local(kiosk_core::Ts(claim.time * 1000))
}
