//! Bills as billers present them, and the order lines a payment writes off.

use crate::money::Fen;
use crate::utility::{AccountNo, Utility};
use serde::{Deserialize, Serialize};

/// A past payment on the account, shown on the bill screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastPayment {
    pub date: String,
    pub amount: Fen,
    pub channel: String,
}

/// One utility bill as fetched from its biller. `version` changes whenever the amount due
/// changes (a payment elsewhere, a correction): write-offs name the version they paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    pub utility: Utility,
    pub account: AccountNo,
    pub bill_id: String,
    pub version: u32,
    pub amount_due: Fen,
    /// ISO date, "2026-12-15".
    pub due_date: String,
    /// The billing period (账期) as the biller names it ("2026-11"), when it says one: shown on
    /// the confirm screen and printed on the receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Already masked by the biller contract ("张*明").
    pub holder_masked: String,
    pub address_masked: String,
    /// The biller takes another amount than the one due on this account: more is credited as
    /// prepayment (预存), less as a part payment. A cash customer may then overpay (the kiosk
    /// gives no change) or leave after some notes; without it only the exact amount is taken.
    #[serde(default)]
    pub prepayment: bool,
    pub recent_payments: Vec<PastPayment>,
}

/// The joint bill (电水气联合账单): one household, one payment, one write-off per biller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointBill {
    pub joint_account: AccountNo,
    pub holder_masked: String,
    pub bills: Vec<Bill>,
}

impl JointBill {
    pub fn total(&self) -> Option<Fen> {
        Fen::sum(self.bills.iter().map(|b| b.amount_due))
    }
}

/// What the customer asks for on a prepaid (IC card) meter: an amount to load.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardPurchase {
    pub card_no: String,
    /// The purchase count read from the card (购气次数).
    pub purchase_count: u32,
}
