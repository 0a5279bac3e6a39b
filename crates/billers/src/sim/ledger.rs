//! A simulated biller's ledger: everything it committed, by our reference. Tests read it to prove
//! "exactly once"; `GET /admin/ledger` serves it as JSON.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub write_offs: Vec<WriteOffEntry>,
    /// Definite refusals, remembered so that a repeat gets the same answer.
    pub rejected: Vec<RejectedEntry>,
    pub purchases: Vec<PurchaseEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOffEntry {
    pub reference: String,
    pub account: String,
    pub bill_id: String,
    pub bill_version: u32,
    pub amount_fen: i64,
    pub channel: String,
    pub channel_txn: String,
    pub paid_at: String,
    pub biller_txn: String,
    pub serial: String,
    /// Accounting date (Shanghai), the day of the reconciliation file it appears in.
    pub date: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEntry {
    pub reference: String,
    pub account: String,
    pub amount_fen: i64,
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseEntry {
    pub reference: String,
    pub account: String,
    pub card_no: String,
    pub purchase_seq: u32,
    pub amount_fen: i64,
    pub channel: String,
    pub channel_txn: String,
    pub paid_at: String,
    pub biller_txn: String,
    pub write_data_hex: String,
    pub serial: String,
    pub date: String,
    /// The kiosk confirmed the data reached the card.
    pub card_written: bool,
}

impl Ledger {
    pub fn write_off(&self, reference: &str) -> Option<&WriteOffEntry> {
        self.write_offs.iter().find(|e| e.reference == reference)
    }

    pub fn rejection(&self, reference: &str) -> Option<&RejectedEntry> {
        self.rejected.iter().find(|e| e.reference == reference)
    }

    pub fn purchase(&self, reference: &str) -> Option<&PurchaseEntry> {
        self.purchases.iter().find(|e| e.reference == reference)
    }

    pub(crate) fn purchase_mut(&mut self, reference: &str) -> Option<&mut PurchaseEntry> {
        self.purchases.iter_mut().find(|e| e.reference == reference)
    }

    /// How many committed entries (write-offs and purchases) carry `reference`: never more than one.
    pub fn count(&self, reference: &str) -> usize {
        self.write_offs.iter().filter(|e| e.reference == reference).count()
            + self.purchases.iter().filter(|e| e.reference == reference).count()
    }
}
