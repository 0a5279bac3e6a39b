//! The client's codec of the biller contract: the JSON bodies exactly as
//! openapi/biller-api.yaml names them. The client serializes the request bodies and parses the
//! replies, then converts them to `kiosk_core` values and checks what it cannot take on trust
//! (which account, which reference, which amount).
//!
//! The simulators do not use these types: they write what they send (and read what they receive)
//! with their own, in `sim::body`, so that a mistake in one codec is not repeated by the other.
//! Only [`paths`] and [`codes`], the contract's names, are shared.

use serde::{Deserialize, Serialize};

/// The contract's paths, in axum's route syntax (the simulators route exactly these).
pub mod paths {
    pub const BILL: &str = "/v1/accounts/{account}/bill";
    pub const JOINT_BILL: &str = "/v1/joint-accounts/{account}/bill";
    pub const WRITE_OFFS: &str = "/v1/write-offs";
    pub const WRITE_OFF_STATUS: &str = "/v1/write-offs/{reference}";
    pub const PURCHASES: &str = "/v1/prepaid/purchases";
    pub const CARD_WRITTEN: &str = "/v1/prepaid/purchases/{reference}/card-written";
    pub const PREPAID_CARD: &str = "/v1/prepaid/cards/{card_no}";
    pub const RECONCILIATION: &str = "/v1/reconciliation/{date}";
    /// The accounts of an ID card holder, by the digest of the ID number (joint service).
    pub const HOUSEHOLD: &str = "/v1/households/{holder}";
    pub const ALL: [&str; 9] = [
        BILL,
        JOINT_BILL,
        WRITE_OFFS,
        WRITE_OFF_STATUS,
        PURCHASES,
        CARD_WRITTEN,
        PREPAID_CARD,
        RECONCILIATION,
        HOUSEHOLD,
    ];
}

/// Error body of every refusal: a stable upper-case code, a message for staff and, for a request
/// made under a reference (write-off, purchase, card confirmation), that reference. The client
/// takes a money refusal as definite only if it names the reference it sent.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Codes a biller may put in an [`ErrorBody`]. Only the ones with 4xx statuses listed in the
/// contract as definite refusals make the client answer `Rejected`.
pub mod codes {
    pub const UNKNOWN_ACCOUNT: &str = "UNKNOWN_ACCOUNT";
    /// No account holds this prepaid card (404 of a card lookup).
    pub const UNKNOWN_CARD: &str = "UNKNOWN_CARD";
    /// No household is registered to this ID card holder (404 of a household lookup).
    pub const UNKNOWN_HOLDER: &str = "UNKNOWN_HOLDER";
    pub const ACCOUNT_CLOSED: &str = "ACCOUNT_CLOSED";
    pub const BILL_CHANGED: &str = "BILL_CHANGED";
    pub const AMOUNT_MISMATCH: &str = "AMOUNT_MISMATCH";
    /// A write-off of another amount than the one due (a cash overpayment as 预存, or a part
    /// payment) on an account that takes only the amount due: a 422 of the write-off.
    pub const PREPAYMENT_REFUSED: &str = "PREPAYMENT_REFUSED";
    /// A prepaid purchase outside the card's published limits (`min_fen`, `max_fen`, `step_fen`
    /// of the card lookup): a 422 of the purchase.
    pub const AMOUNT_OUT_OF_LIMITS: &str = "AMOUNT_OUT_OF_LIMITS";
    pub const LAST_PURCHASE_NOT_LOADED: &str = "LAST_PURCHASE_NOT_LOADED";
    pub const PURCHASE_COUNT_MISMATCH: &str = "PURCHASE_COUNT_MISMATCH";
    pub const NOT_PREPAID: &str = "NOT_PREPAID";
    pub const CARD_MISMATCH: &str = "CARD_MISMATCH";
    pub const REFERENCE_CONFLICT: &str = "REFERENCE_CONFLICT";
    pub const PURCHASE_NOT_FOUND: &str = "PURCHASE_NOT_FOUND";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const BAD_SIGNATURE: &str = "BAD_SIGNATURE";
    pub const STALE_TIMESTAMP: &str = "STALE_TIMESTAMP";
    pub const REPLAYED_NONCE: &str = "REPLAYED_NONCE";
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PastPaymentDto {
    pub date: String,
    pub amount_fen: i64,
    pub channel: String,
}

/// `GET /v1/accounts/{account}/bill` → 200, and each sub-bill of a joint bill.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct BillDto {
    /// "water", "power" or "gas".
    pub utility: String,
    pub account: String,
    pub bill_id: String,
    pub version: u32,
    pub amount_due_fen: i64,
    pub due_date: String,
    /// The billing period (账期), free text ("2026-11"); not every biller sends one.
    #[serde(default)]
    pub period: Option<String>,
    pub holder_masked: String,
    pub address_masked: String,
    /// The account takes another amount than the one due (prepayment 预存, part payment).
    #[serde(default)]
    pub prepayment: bool,
    #[serde(default)]
    pub recent_payments: Vec<PastPaymentDto>,
}

/// `GET /v1/joint-accounts/{account}/bill` → 200.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct JointBillDto {
    pub joint_account: String,
    pub holder_masked: String,
    pub bills: Vec<BillDto>,
}

/// `POST /v1/write-offs` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WriteOffBody {
    pub reference: String,
    pub account: String,
    pub bill_id: String,
    pub bill_version: u32,
    pub amount_fen: i64,
    pub channel: String,
    pub channel_txn: String,
    /// RFC 3339.
    pub paid_at: String,
}

/// `result` of a successful write-off or purchase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoneResult {
    /// Done by this request.
    WrittenOff,
    /// Done by an earlier request with the same reference; nothing was done twice.
    AlreadyWrittenOff,
}

/// `POST /v1/write-offs` → 200.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct WriteOffDone {
    pub result: DoneResult,
    pub reference: String,
    pub biller_txn: String,
    /// The account and amount of the write-off the biller holds under `reference`: the client
    /// believes the reply only if they are the ones it sent. Absent (an older biller): unknown.
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub amount_fen: Option<i64>,
}

/// `GET /v1/prepaid/cards/{card_no}` → 200: the account a prepaid IC card belongs to, and where
/// its purchases stand.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PrepaidCardDto {
    pub card_no: String,
    pub account: String,
    pub holder_masked: String,
    /// The purchase count of the last purchase the biller issued for the card.
    pub issued_seq: u32,
    /// The purchase count the meter has loaded; below `issued_seq` while a purchase waits for it.
    pub loaded_seq: u32,
    /// The card's purchase limits: the smallest and largest amount one purchase may be, and the
    /// step every amount is a multiple of. Absent (a biller that publishes none): the card
    /// cannot be sold to.
    #[serde(default)]
    pub min_fen: Option<i64>,
    #[serde(default)]
    pub max_fen: Option<i64>,
    #[serde(default)]
    pub step_fen: Option<i64>,
    /// The purchases issued for the card whose card write the biller has not been told of.
    /// Absent (a biller that does not list them): the reply is not believed.
    #[serde(default)]
    pub pending: Option<Vec<PendingPurchaseDto>>,
}

/// One purchase of [`PrepaidCardDto::pending`]: written off, card write not confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PendingPurchaseDto {
    pub reference: String,
    pub purchase_seq: u32,
    pub amount_fen: i64,
    /// The data the purchase reply gave, to write to the card.
    pub write_data_hex: String,
}

/// `GET /v1/households/{holder}` → 200: the accounts of an ID card holder's household.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct HouseholdDto {
    pub accounts: Vec<HouseholdAccountDto>,
}

/// One account of a household: a joint account or one utility's account.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct HouseholdAccountDto {
    /// "joint", "water", "power" or "gas".
    pub utility: String,
    /// The account number (户号), digits only.
    pub account: String,
}

/// `POST /v1/prepaid/purchases` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PurchaseBody {
    pub reference: String,
    pub account: String,
    pub card_no: String,
    pub purchase_count: u32,
    pub amount_fen: i64,
    pub channel: String,
    pub channel_txn: String,
    pub paid_at: String,
}

/// What to write to the card (also inside a status reply for a purchase).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CardDataDto {
    pub purchase_seq: u32,
    pub write_data_hex: String,
}

/// `POST /v1/prepaid/purchases` → 200.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PurchaseDone {
    pub result: DoneResult,
    pub reference: String,
    pub biller_txn: String,
    pub purchase_seq: u32,
    pub write_data_hex: String,
    /// As in [`WriteOffDone`]: the purchase the biller holds under `reference`.
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub amount_fen: Option<i64>,
}

/// `GET /v1/write-offs/{reference}` → 200.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StatusDto {
    /// Believed only if `account` and `amount_fen` are those of our request.
    WrittenOff {
        reference: String,
        biller_txn: String,
        #[serde(default)]
        account: Option<String>,
        #[serde(default)]
        amount_fen: Option<i64>,
        #[serde(default)]
        card: Option<CardDataDto>,
    },
    /// `account`/`amount_fen`: of the refused request, when the biller could read them.
    Rejected {
        reference: String,
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        account: Option<String>,
        #[serde(default)]
        amount_fen: Option<i64>,
    },
    NotFound {
        reference: String,
    },
}

/// `POST /v1/prepaid/purchases/{reference}/card-written` → 200.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CardWrittenDone {
    pub reference: String,
    /// "confirmed" (now) or "already_confirmed".
    pub result: String,
}
