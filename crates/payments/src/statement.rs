//! Daily channel statements (对账单, payments.md §6) reduced to what reconciliation matches on.

use kiosk_core::{Fen, Ts};
use serde::{Deserialize, Serialize};

/// One money movement as the channel's statement reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRow {
    /// Our order number.
    pub out_trade_no: String,
    /// The channel's transaction id (WeChat `transaction_id`, Alipay `trade_no`); on a WeChat
    /// refund row, the refund's own id (`refund_id`).
    pub channel_txn: String,
    /// Always positive; `kind` says which way the money went.
    pub amount: Fen,
    pub kind: StatementKind,
    /// Our refund number, for refund rows.
    pub refund_no: Option<String>,
    /// When the channel booked it.
    pub time: Ts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// The customer paid.
    Payment,
    /// Money went back through a refund.
    Refund,
    /// A paid order was reversed (撤销): money went back without a refund number.
    Reversed,
}

/// Why a statement could not be fetched or read. Reconciliation retries later; it never guesses.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("{channel} statement: channel not configured")]
    NotConfigured { channel: &'static str },
    #[error("{channel} statement: {detail}")]
    Fetch { channel: &'static str, detail: String },
    #[error("{channel} statement line {line}: {detail}")]
    Malformed { channel: &'static str, line: usize, detail: String },
}
