//! The simulators' own codec: every JSON body a simulator sends, and the two money requests it
//! reads, written out from openapi/biller-api.yaml independently of the client's `wire` module.
//! The simulators are a second opinion on the contract: had they used the client's types, a
//! field misnamed on one side would be misnamed on both and no test would notice.

use serde::{Deserialize, Serialize};

/// `Error`: every refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// `PastPayment`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastPaymentBody {
    pub date: String,
    pub amount_fen: i64,
    pub channel: String,
}

/// `Bill`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillBody {
    pub utility: String,
    pub account: String,
    pub bill_id: String,
    pub version: u32,
    pub amount_due_fen: i64,
    pub due_date: String,
    /// Left out when empty, as a biller that names no period would.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub period: String,
    pub holder_masked: String,
    pub address_masked: String,
    /// Sent only when true, as a biller without the flag would leave it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prepayment: bool,
    pub recent_payments: Vec<PastPaymentBody>,
}

/// `JointBill`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointBillBody {
    pub joint_account: String,
    pub holder_masked: String,
    pub bills: Vec<BillBody>,
}

/// `HouseholdAccount`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdAccountBody {
    /// "joint", "water", "power" or "gas".
    pub utility: String,
    pub account: String,
}

/// `Household`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdBody {
    pub accounts: Vec<HouseholdAccountBody>,
}

/// `WriteOffRequest`, as the simulator reads it (no unknown field accepted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteOffOrder {
    pub reference: String,
    pub account: String,
    pub bill_id: String,
    pub bill_version: u32,
    pub amount_fen: i64,
    pub channel: String,
    pub channel_txn: String,
    pub paid_at: String,
}

/// `PurchaseRequest`, as the simulator reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrder {
    pub reference: String,
    pub account: String,
    pub card_no: String,
    pub purchase_count: u32,
    pub amount_fen: i64,
    pub channel: String,
    pub channel_txn: String,
    pub paid_at: String,
}

/// `Result`: "written_off" (now) or "already_written_off" (by an earlier request).
pub const WRITTEN_OFF: &str = "written_off";
pub const ALREADY_WRITTEN_OFF: &str = "already_written_off";

/// `WriteOffDone`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOffDoneBody {
    pub result: String,
    pub reference: String,
    pub biller_txn: String,
    /// Of the write-off held under `reference` (the stored one, not the request's).
    pub account: String,
    pub amount_fen: i64,
}

/// `PurchaseDone`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseDoneBody {
    pub result: String,
    pub reference: String,
    pub biller_txn: String,
    pub purchase_seq: u32,
    pub write_data_hex: String,
    pub account: String,
    pub amount_fen: i64,
}

/// `CardData`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardDataBody {
    pub purchase_seq: u32,
    pub write_data_hex: String,
}

/// `WriteOffStatus`, one of three shapes told apart by `status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status")]
pub enum StatusBody {
    #[serde(rename = "written_off")]
    WrittenOff {
        reference: String,
        biller_txn: String,
        account: String,
        amount_fen: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        card: Option<CardDataBody>,
    },
    #[serde(rename = "rejected")]
    Rejected { reference: String, code: String, message: String, account: String, amount_fen: i64 },
    #[serde(rename = "not_found")]
    NotFound { reference: String },
}

/// `CardWrittenDone`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardWrittenBody {
    pub reference: String,
    /// "confirmed" or "already_confirmed".
    pub result: String,
}

/// `PendingPurchase`: a purchase issued for the card whose card write was not confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBody {
    pub reference: String,
    pub purchase_seq: u32,
    pub amount_fen: i64,
    pub write_data_hex: String,
}

/// `PrepaidCard`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardBody {
    pub card_no: String,
    pub account: String,
    pub holder_masked: String,
    pub issued_seq: u32,
    pub loaded_seq: u32,
    pub min_fen: i64,
    pub max_fen: i64,
    pub step_fen: i64,
    pub pending: Vec<PendingBody>,
}
