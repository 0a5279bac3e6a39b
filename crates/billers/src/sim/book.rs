//! The books of one simulated utility: accounts with their current bill, prepaid cards, and the
//! ledger. Every operation is a plain function of the books and the time, so the rules of the
//! contract (idempotent references, stale versions, unloaded purchases) are testable without HTTP.

use super::body::{
    BillBody, CardBody, CardDataBody, CardWrittenBody, PastPaymentBody, PendingBody, PurchaseDoneBody,
    PurchaseOrder, StatusBody, WriteOffDoneBody, WriteOffOrder, ALREADY_WRITTEN_OFF, WRITTEN_OFF,
};
use super::ledger::{Ledger, PurchaseEntry, RejectedEntry, WriteOffEntry};
use crate::wire::codes;
use chrono::{DateTime, FixedOffset};
use kiosk_core::Utility;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Recent payments shown on a bill, newest first.
const RECENT_PAYMENTS: usize = 3;

/// `POST /admin/accounts`: creates or replaces an account with a fresh bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSeed {
    pub account: String,
    pub amount_due_fen: i64,
    #[serde(default = "default_holder")]
    pub holder_masked: String,
    #[serde(default = "default_address")]
    pub address_masked: String,
    #[serde(default = "default_due_date")]
    pub due_date: String,
    /// The billing period (账期) the bill names; empty: the bill names none.
    #[serde(default = "default_period")]
    pub period: String,
    /// A closed account still shows its bill but refuses write-offs (`ACCOUNT_CLOSED`).
    #[serde(default)]
    pub closed: bool,
    /// Takes another amount than the one due: more as prepayment (预存), less as a part
    /// payment; without it such a write-off is refused (`PREPAYMENT_REFUSED`).
    #[serde(default)]
    pub prepayment: bool,
    /// A prepaid IC card on this account (gas).
    #[serde(default)]
    pub card: Option<CardSeed>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSeed {
    pub card_no: String,
    /// The purchase count on the card, all of them loaded into the meter.
    #[serde(default)]
    pub purchase_count: u32,
    /// The card's purchase limits; [`CardLimits::default`] if absent.
    #[serde(default)]
    pub limits: Option<CardLimits>,
}

/// What one purchase for a card may be, as the card lookup publishes it: at least `min_fen`, at
/// most `max_fen`, a multiple of `step_fen`. The purchase endpoint refuses anything else with
/// `422 AMOUNT_OUT_OF_LIMITS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardLimits {
    pub min_fen: i64,
    pub max_fen: i64,
    pub step_fen: i64,
}

impl Default for CardLimits {
    /// [`CardLimits::DEMO_GAS`].
    fn default() -> Self {
        CardLimits::DEMO_GAS
    }
}

impl CardLimits {
    /// The demo gas card's: 10 to 1000 yuan, in whole yuan.
    pub const DEMO_GAS: CardLimits = CardLimits { min_fen: 1_000, max_fen: 100_000, step_fen: 100 };

    /// The biller's own check of a purchase amount (a step of 0 allows nothing).
    pub fn allows(&self, amount_fen: i64) -> bool {
        self.step_fen > 0
            && amount_fen >= self.min_fen
            && amount_fen <= self.max_fen
            && amount_fen % self.step_fen == 0
    }
}

fn default_holder() -> String {
    "测*".into()
}

fn default_address() -> String {
    "上海市**区****".into()
}

fn default_due_date() -> String {
    "2026-12-15".into()
}

fn default_period() -> String {
    "2026-11".into()
}

/// A refusal: the HTTP status, and the code and message of the error body to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Refused {
    fn new(status: u16, code: &str, message: &str) -> Refused {
        Refused { status, code: code.to_string(), message: message.to_string() }
    }

    /// A definite business refusal.
    fn business(code: &str, message: &str) -> Refused {
        Refused::new(422, code, message)
    }
}

/// A prepaid card: what the biller issued and what the meter has loaded (payments.md §5 step 7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CardState {
    pub card_no: String,
    pub issued_seq: u32,
    pub loaded_seq: u32,
    pub limits: CardLimits,
}

#[derive(Clone, Debug)]
struct Account {
    seed: AccountSeed,
    bill_id: String,
    version: u32,
    amount_due: i64,
    recent: Vec<PastPaymentBody>,
    card: Option<CardState>,
}

/// One utility's books.
#[derive(Debug)]
pub struct Book {
    utility: Utility,
    accounts: BTreeMap<String, Account>,
    ledger: Ledger,
    next_serial: u64,
    next_bill: u64,
    /// Seeded file errors: write-offs the reconciliation file lists twice.
    listed_twice: std::collections::BTreeSet<String>,
}

impl Book {
    pub fn new(utility: Utility) -> Book {
        Book {
            utility,
            accounts: BTreeMap::new(),
            ledger: Ledger::default(),
            next_serial: 1,
            next_bill: 1,
            listed_twice: Default::default(),
        }
    }

    /// The reconciliation file will list the write-off `reference` twice, under two serials (a
    /// duplicate write-off, seeded for reconciliation tests). False if there is no such write-off.
    pub fn list_twice(&mut self, reference: &str) -> bool {
        let known = self.ledger.write_off(reference).is_some();
        if known {
            self.listed_twice.insert(reference.to_string());
        }
        known
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The books lose the write-off `reference` (seeded discrepancy: a write-off the biller
    /// answered but never kept): gone from the ledger, its file and its status, the account's
    /// amount due and bill version as before it, so the same write-off sent again is taken.
    /// False if there is no such write-off.
    pub fn lose_write_off(&mut self, reference: &str) -> bool {
        let Some(at) = self.ledger.write_offs.iter().position(|e| e.reference == reference) else {
            return false;
        };
        let entry = self.ledger.write_offs.remove(at);
        if let Some(account) = self.accounts.get_mut(&entry.account) {
            account.amount_due += entry.amount_fen;
            account.version = entry.bill_version;
        }
        true
    }

    /// Creates or replaces an account; its bill gets a new id and version 1.
    pub fn put_account(&mut self, seed: AccountSeed) -> BillBody {
        let bill_id = format!("{}{:06}", self.prefix(), self.next_bill);
        self.next_bill += 1;
        let card = seed.card.as_ref().map(|c| CardState {
            card_no: c.card_no.clone(),
            issued_seq: c.purchase_count,
            loaded_seq: c.purchase_count,
            limits: c.limits.unwrap_or_default(),
        });
        let account = Account {
            amount_due: seed.amount_due_fen.max(0),
            seed,
            bill_id,
            version: 1,
            recent: vec![],
            card,
        };
        let dto = self.dto(&account);
        self.accounts.insert(account.seed.account.clone(), account);
        dto
    }

    pub fn bill(&self, account: &str) -> Option<BillBody> {
        self.accounts.get(account).map(|a| self.dto(a))
    }

    /// A payment made at a counter or by another channel: the amount due and the version change,
    /// so a write-off against the old version is refused (F17).
    pub fn pay_elsewhere(&mut self, account: &str, amount_fen: i64, date: &str) -> Option<BillBody> {
        let a = self.accounts.get_mut(account)?;
        a.amount_due = (a.amount_due - amount_fen.max(0)).max(0);
        a.version += 1;
        remember(&mut a.recent, PastPaymentBody { date: date.into(), amount_fen, channel: "counter".into() });
        let a = a.clone();
        Some(self.dto(&a))
    }

    /// The account holding prepaid card `card_no`, with the card's issued and loaded counts, its
    /// purchase limits, and the purchases issued for it whose card write was not confirmed.
    pub fn prepaid_card(&self, card_no: &str) -> Option<CardBody> {
        let (account, card) = self
            .accounts
            .values()
            .find_map(|a| a.card.as_ref().filter(|c| c.card_no == card_no).map(|c| (a, c)))?;
        let mut pending: Vec<PendingBody> = self
            .ledger
            .purchases
            .iter()
            .filter(|p| p.card_no == card_no && !p.card_written)
            .map(|p| PendingBody {
                reference: p.reference.clone(),
                purchase_seq: p.purchase_seq,
                amount_fen: p.amount_fen,
                write_data_hex: p.write_data_hex.clone(),
            })
            .collect();
        pending.sort_by_key(|p| p.purchase_seq);
        Some(CardBody {
            card_no: card.card_no.clone(),
            account: account.seed.account.clone(),
            holder_masked: account.seed.holder_masked.clone(),
            issued_seq: card.issued_seq,
            loaded_seq: card.loaded_seq,
            min_fen: card.limits.min_fen,
            max_fen: card.limits.max_fen,
            step_fen: card.limits.step_fen,
            pending,
        })
    }

    /// The meter has read the card: the last issued purchase is loaded, a new sale is allowed.
    pub fn mark_card_loaded(&mut self, card_no: &str) -> Option<CardState> {
        let card =
            self.accounts.values_mut().filter_map(|a| a.card.as_mut()).find(|c| c.card_no == card_no)?;
        card.loaded_seq = card.issued_seq;
        Some(card.clone())
    }

    /// Refuses this reference for good (the `write_off_reject` fault).
    pub fn reject(&mut self, reference: &str, account: &str, amount_fen: i64, code: &str) -> Refused {
        self.remember_refusal(
            reference,
            account,
            amount_fen,
            Refused::business(code, "refused by the biller"),
        )
    }

    /// Records a definite refusal so that a repeat of the reference gets the same answer.
    fn remember_refusal(
        &mut self,
        reference: &str,
        account: &str,
        amount_fen: i64,
        refused: Refused,
    ) -> Refused {
        self.ledger.rejected.push(RejectedEntry {
            reference: reference.into(),
            account: account.into(),
            amount_fen,
            code: refused.code.clone(),
            message: refused.message.clone(),
        });
        refused
    }

    /// 销账: idempotent by reference; a refusal is remembered like a success.
    pub fn write_off(
        &mut self,
        body: &WriteOffOrder,
        now: DateTime<FixedOffset>,
    ) -> Result<WriteOffDoneBody, Refused> {
        if let Some(done) = self.ledger.write_off(&body.reference) {
            let same = done.account == body.account
                && done.bill_id == body.bill_id
                && done.bill_version == body.bill_version
                && done.amount_fen == body.amount_fen;
            if !same {
                return Err(conflict());
            }
            return Ok(write_off_done(done, ALREADY_WRITTEN_OFF));
        }
        self.repeat_or_fresh(&body.reference)?;
        if let Err(refused) = self.check_write_off(body) {
            return Err(self.remember_refusal(&body.reference, &body.account, body.amount_fen, refused));
        }
        let (serial, biller_txn, date) = self.next_txn(now);
        let Some(account) = self.accounts.get_mut(&body.account) else {
            return Err(Refused::business(codes::UNKNOWN_ACCOUNT, "no such account"));
        };
        // More than was due is prepayment: the bill shows nothing due, never a negative amount.
        account.amount_due = (account.amount_due - body.amount_fen).max(0);
        account.version += 1;
        let payment = PastPaymentBody {
            date: date.clone(),
            amount_fen: body.amount_fen,
            channel: body.channel.clone(),
        };
        remember(&mut account.recent, payment);
        let entry = WriteOffEntry {
            reference: body.reference.clone(),
            account: body.account.clone(),
            bill_id: body.bill_id.clone(),
            bill_version: body.bill_version,
            amount_fen: body.amount_fen,
            channel: body.channel.clone(),
            channel_txn: body.channel_txn.clone(),
            paid_at: body.paid_at.clone(),
            biller_txn: biller_txn.clone(),
            serial,
            date,
        };
        let done = write_off_done(&entry, WRITTEN_OFF);
        self.ledger.write_offs.push(entry);
        Ok(done)
    }

    /// A prepaid purchase: idempotent by reference; refused while the meter has not loaded the
    /// previous purchase.
    pub fn purchase(
        &mut self,
        body: &PurchaseOrder,
        now: DateTime<FixedOffset>,
    ) -> Result<PurchaseDoneBody, Refused> {
        if let Some(done) = self.ledger.purchase(&body.reference) {
            let same = done.account == body.account
                && done.card_no == body.card_no
                && done.amount_fen == body.amount_fen
                && Some(done.purchase_seq) == body.purchase_count.checked_add(1);
            if !same {
                return Err(conflict());
            }
            return Ok(purchase_done(done, ALREADY_WRITTEN_OFF));
        }
        self.repeat_or_fresh(&body.reference)?;
        let seq = match self.check_purchase(body) {
            Ok(seq) => seq,
            Err(refused) => {
                return Err(self.remember_refusal(&body.reference, &body.account, body.amount_fen, refused));
            }
        };
        let (serial, biller_txn, date) = self.next_txn(now);
        if let Some(card) = self.accounts.get_mut(&body.account).and_then(|a| a.card.as_mut()) {
            card.issued_seq = seq;
        }
        let entry = PurchaseEntry {
            reference: body.reference.clone(),
            account: body.account.clone(),
            card_no: body.card_no.clone(),
            purchase_seq: seq,
            amount_fen: body.amount_fen,
            channel: body.channel.clone(),
            channel_txn: body.channel_txn.clone(),
            paid_at: body.paid_at.clone(),
            write_data_hex: hex::encode(format!("YZGAS|{}|{seq}|{}", body.card_no, body.amount_fen)),
            biller_txn,
            serial,
            date,
            card_written: false,
        };
        let done = purchase_done(&entry, WRITTEN_OFF);
        self.ledger.purchases.push(entry);
        Ok(done)
    }

    /// 销账结果查询 for write-offs and purchases alike, naming the account and amount of what is
    /// held under the reference (whatever a later request under it asked for).
    pub fn status(&self, reference: &str) -> StatusBody {
        let reference_owned = reference.to_string();
        if let Some(done) = self.ledger.write_off(reference) {
            return StatusBody::WrittenOff {
                reference: reference_owned,
                biller_txn: done.biller_txn.clone(),
                account: done.account.clone(),
                amount_fen: done.amount_fen,
                card: None,
            };
        }
        if let Some(done) = self.ledger.purchase(reference) {
            let card =
                CardDataBody { purchase_seq: done.purchase_seq, write_data_hex: done.write_data_hex.clone() };
            return StatusBody::WrittenOff {
                reference: reference_owned,
                biller_txn: done.biller_txn.clone(),
                account: done.account.clone(),
                amount_fen: done.amount_fen,
                card: Some(card),
            };
        }
        if let Some(rejected) = self.ledger.rejection(reference) {
            return StatusBody::Rejected {
                reference: reference_owned,
                code: rejected.code.clone(),
                message: rejected.message.clone(),
                account: rejected.account.clone(),
                amount_fen: rejected.amount_fen,
            };
        }
        StatusBody::NotFound { reference: reference_owned }
    }

    /// The card holds the purchase (trade type 05). Idempotent.
    pub fn card_written(&mut self, reference: &str) -> Result<CardWrittenBody, Refused> {
        let Some(entry) = self.ledger.purchase_mut(reference) else {
            return Err(Refused::new(404, codes::PURCHASE_NOT_FOUND, "no purchase with this reference"));
        };
        let result = if entry.card_written { "already_confirmed" } else { "confirmed" };
        entry.card_written = true;
        Ok(CardWrittenBody { reference: reference.to_string(), result: result.to_string() })
    }

    /// The reconciliation file of `date`: every write-off and purchase booked that day.
    pub fn reconciliation(&self, date: &str) -> String {
        // Written out here rather than with `recon::render`, the client's side of the format:
        // the simulator is a second opinion on it.
        let write_offs = self.ledger.write_offs.iter().filter(|e| e.date == date).map(|e| {
            (
                e.serial.as_str(),
                e.reference.as_str(),
                e.account.as_str(),
                e.amount_fen,
                e.channel.as_str(),
                "pay",
            )
        });
        let purchases = self.ledger.purchases.iter().filter(|e| e.date == date).map(|e| {
            (
                e.serial.as_str(),
                e.reference.as_str(),
                e.account.as_str(),
                e.amount_fen,
                e.channel.as_str(),
                "prepaid",
            )
        });
        let mut rows: Vec<_> = write_offs.chain(purchases).collect();
        let twice: Vec<_> = rows.iter().filter(|row| self.listed_twice.contains(row.1)).cloned().collect();
        let twice_serials: Vec<String> = twice.iter().map(|row| format!("{}9", row.0)).collect();
        rows.extend(
            twice
                .into_iter()
                .zip(&twice_serials)
                .map(|(row, serial)| (serial.as_str(), row.1, row.2, row.3, row.4, row.5)),
        );
        rows.sort_by_key(|row| row.0);
        let total: i64 = rows.iter().map(|row| row.3).sum();
        let mut file = format!("{}|{total}\n", rows.len());
        for (serial, reference, account, amount_fen, channel, kind) in rows {
            file.push_str(&format!("{date}|{serial}|{reference}|{account}|{amount_fen}|{channel}|{kind}\n"));
        }
        file
    }

    /// A reference already refused answers its refusal again; one used for the other kind of
    /// request is a conflict.
    fn repeat_or_fresh(&self, reference: &str) -> Result<(), Refused> {
        if let Some(rejected) = self.ledger.rejection(reference) {
            return Err(Refused::business(&rejected.code, &rejected.message));
        }
        if self.ledger.count(reference) > 0 {
            return Err(conflict());
        }
        Ok(())
    }

    fn check_write_off(&self, body: &WriteOffOrder) -> Result<(), Refused> {
        let Some(account) = self.accounts.get(&body.account) else {
            return Err(Refused::business(codes::UNKNOWN_ACCOUNT, "no such account"));
        };
        if account.seed.closed {
            return Err(Refused::business(codes::ACCOUNT_CLOSED, "the account is closed"));
        }
        if body.bill_id != account.bill_id || body.bill_version != account.version {
            return Err(Refused::business(codes::BILL_CHANGED, "the bill changed since it was fetched"));
        }
        if body.amount_fen <= 0 {
            return Err(Refused::business(codes::AMOUNT_MISMATCH, "the amount is not positive"));
        }
        if body.amount_fen != account.amount_due && !account.seed.prepayment {
            let message = "this account takes only the amount due, no prepayment or part payment";
            return Err(Refused::business(codes::PREPAYMENT_REFUSED, message));
        }
        Ok(())
    }

    /// The purchase sequence to issue, or why not.
    fn check_purchase(&self, body: &PurchaseOrder) -> Result<u32, Refused> {
        let Some(account) = self.accounts.get(&body.account) else {
            return Err(Refused::business(codes::UNKNOWN_ACCOUNT, "no such account"));
        };
        if account.seed.closed {
            return Err(Refused::business(codes::ACCOUNT_CLOSED, "the account is closed"));
        }
        let Some(card) = &account.card else {
            return Err(Refused::business(codes::NOT_PREPAID, "the account has no prepaid card"));
        };
        if card.card_no != body.card_no {
            return Err(Refused::business(codes::CARD_MISMATCH, "the card belongs to another account"));
        }
        if card.loaded_seq < card.issued_seq {
            return Err(Refused::business(
                codes::LAST_PURCHASE_NOT_LOADED,
                "insert the card into the meter to load the previous purchase first",
            ));
        }
        if body.purchase_count != card.issued_seq {
            return Err(Refused::business(
                codes::PURCHASE_COUNT_MISMATCH,
                "the card's purchase count is not ours",
            ));
        }
        if !card.limits.allows(body.amount_fen) {
            let CardLimits { min_fen, max_fen, step_fen } = card.limits;
            let message =
                format!("a purchase for this card is {min_fen} to {max_fen} fen, in steps of {step_fen} fen");
            return Err(Refused::business(codes::AMOUNT_OUT_OF_LIMITS, &message));
        }
        card.issued_seq
            .checked_add(1)
            .ok_or_else(|| Refused::business(codes::PURCHASE_COUNT_MISMATCH, "overflow"))
    }

    /// Serial, biller transaction id and accounting date of a new booking.
    fn next_txn(&mut self, now: DateTime<FixedOffset>) -> (String, String, String) {
        let serial = format!("{:06}", self.next_serial);
        self.next_serial += 1;
        let biller_txn = format!("{}{}{serial}", self.prefix(), now.format("%Y%m%d"));
        (serial, biller_txn, now.format("%Y-%m-%d").to_string())
    }

    fn prefix(&self) -> &'static str {
        match self.utility {
            Utility::Water => "W",
            Utility::Power => "P",
            Utility::Gas => "G",
        }
    }

    fn dto(&self, a: &Account) -> BillBody {
        BillBody {
            utility: self.utility.code().to_string(),
            account: a.seed.account.clone(),
            bill_id: a.bill_id.clone(),
            version: a.version,
            amount_due_fen: a.amount_due,
            due_date: a.seed.due_date.clone(),
            period: a.seed.period.clone(),
            holder_masked: a.seed.holder_masked.clone(),
            address_masked: a.seed.address_masked.clone(),
            prepayment: a.seed.prepayment,
            recent_payments: a.recent.clone(),
        }
    }
}

fn conflict() -> Refused {
    Refused::new(409, codes::REFERENCE_CONFLICT, "this reference was used for a different request")
}

/// The reply about a write-off held under a reference: its own account and amount.
fn write_off_done(entry: &WriteOffEntry, result: &str) -> WriteOffDoneBody {
    WriteOffDoneBody {
        result: result.to_string(),
        reference: entry.reference.clone(),
        biller_txn: entry.biller_txn.clone(),
        account: entry.account.clone(),
        amount_fen: entry.amount_fen,
    }
}

fn purchase_done(entry: &PurchaseEntry, result: &str) -> PurchaseDoneBody {
    PurchaseDoneBody {
        result: result.to_string(),
        reference: entry.reference.clone(),
        biller_txn: entry.biller_txn.clone(),
        purchase_seq: entry.purchase_seq,
        write_data_hex: entry.write_data_hex.clone(),
        account: entry.account.clone(),
        amount_fen: entry.amount_fen,
    }
}

fn remember(recent: &mut Vec<PastPaymentBody>, payment: PastPaymentBody) {
    recent.insert(0, payment);
    recent.truncate(RECENT_PAYMENTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00").unwrap()
    }

    fn seed(account: &str, amount: i64) -> AccountSeed {
        serde_json::from_value(serde_json::json!({ "account": account, "amount_due_fen": amount })).unwrap()
    }

    fn write_off_body(reference: &str, bill: &BillBody) -> WriteOffOrder {
        WriteOffOrder {
            reference: reference.into(),
            account: bill.account.clone(),
            bill_id: bill.bill_id.clone(),
            bill_version: bill.version,
            amount_fen: bill.amount_due_fen,
            channel: "wechat".into(),
            channel_txn: "42".into(),
            paid_at: "2026-11-23T10:00:00+08:00".into(),
        }
    }

    #[test]
    fn a_write_off_pays_the_bill_once_and_bumps_its_version() {
        let mut book = Book::new(Utility::Water);
        let bill = book.put_account(seed("310000005", 3150));
        let body = write_off_body("R-1", &bill);
        let first = book.write_off(&body, now()).unwrap();
        assert_eq!(first.result, WRITTEN_OFF);
        let again = book.write_off(&body, now()).unwrap();
        assert_eq!(again.result, ALREADY_WRITTEN_OFF);
        assert_eq!(again.biller_txn, first.biller_txn);
        assert_eq!(book.ledger().count("R-1"), 1);
        let after = book.bill("310000005").unwrap();
        assert_eq!((after.amount_due_fen, after.version), (0, 2));
        assert_eq!(after.recent_payments[0].amount_fen, 3150);
        // Same reference, other amount: a conflict, never a second write-off.
        let other = WriteOffOrder { amount_fen: 1, ..body };
        assert_eq!(book.write_off(&other, now()).unwrap_err().status, 409);
    }

    #[test]
    fn another_amount_is_prepayment_or_a_part_payment_only_where_the_account_takes_it() {
        let mut book = Book::new(Utility::Power);
        let exact_only = book.put_account(seed("3200000010", 12680));
        assert!(!exact_only.prepayment);
        let more = WriteOffOrder { amount_fen: 15000, ..write_off_body("R-1", &exact_only) };
        let refused = book.write_off(&more, now()).unwrap_err();
        assert_eq!((refused.status, refused.code.as_str()), (422, codes::PREPAYMENT_REFUSED));
        assert_eq!(book.bill("3200000010").unwrap().amount_due_fen, 12680);

        let mut takes = seed("3200000028", 8935);
        takes.prepayment = true;
        let bill = book.put_account(takes);
        assert!(bill.prepayment);
        // 100 yuan for 89.35 due: written off, nothing due afterwards (10.65 prepaid).
        let over =
            WriteOffOrder { amount_fen: 10_000, channel: "cash".into(), ..write_off_body("R-2", &bill) };
        assert_eq!(book.write_off(&over, now()).unwrap().result, WRITTEN_OFF);
        assert_eq!(book.bill("3200000028").unwrap().amount_due_fen, 0);
        // A part payment leaves the rest due.
        let bill = book.put_account(AccountSeed { prepayment: true, ..seed("3200000036", 10420) });
        let part = WriteOffOrder { amount_fen: 5000, ..write_off_body("R-3", &bill) };
        assert_eq!(book.write_off(&part, now()).unwrap().result, WRITTEN_OFF);
        assert_eq!(book.bill("3200000036").unwrap().amount_due_fen, 5420);
    }

    #[test]
    fn a_stale_version_is_refused_and_the_refusal_remembered() {
        let mut book = Book::new(Utility::Water);
        let bill = book.put_account(seed("310000005", 3150));
        book.pay_elsewhere("310000005", 1000, "2026-11-22").unwrap();
        let refused = book.write_off(&write_off_body("R-2", &bill), now()).unwrap_err();
        assert_eq!(refused.code, codes::BILL_CHANGED);
        assert!(
            matches!(book.status("R-2"), StatusBody::Rejected { code, .. } if code == codes::BILL_CHANGED)
        );
        let fresh = book.bill("310000005").unwrap();
        // The refused reference stays refused even with a current bill.
        assert_eq!(
            book.write_off(&write_off_body("R-2", &fresh), now()).unwrap_err().code,
            codes::BILL_CHANGED
        );
        assert!(book.write_off(&write_off_body("R-3", &fresh), now()).is_ok());
    }

    #[test]
    fn a_new_purchase_waits_until_the_meter_loaded_the_last() {
        let mut book = Book::new(Utility::Gas);
        let mut gas = seed("3300000019", 0);
        gas.card = Some(CardSeed { card_no: "8800000013".into(), purchase_count: 3, limits: None });
        book.put_account(gas);
        let body = |reference: &str, count| PurchaseOrder {
            reference: reference.into(),
            account: "3300000019".into(),
            card_no: "8800000013".into(),
            purchase_count: count,
            amount_fen: 5000,
            channel: "alipay".into(),
            channel_txn: "A1".into(),
            paid_at: "2026-11-23T10:00:00+08:00".into(),
        };
        let card = book.prepaid_card("8800000013").unwrap();
        assert_eq!((card.account.as_str(), card.issued_seq, card.loaded_seq), ("3300000019", 3, 3));
        let done = book.purchase(&body("P-1", 3), now()).unwrap();
        assert_eq!(done.purchase_seq, 4);
        assert_eq!(book.prepaid_card("8800000013").map(|c| (c.issued_seq, c.loaded_seq)), Some((4, 3)));
        assert_eq!(book.prepaid_card("8800000021"), None);
        assert_eq!(book.purchase(&body("P-1", 3), now()).unwrap().biller_txn, done.biller_txn);
        let refused = book.purchase(&body("P-2", 4), now()).unwrap_err();
        assert_eq!(refused.code, codes::LAST_PURCHASE_NOT_LOADED);
        book.mark_card_loaded("8800000013").unwrap();
        assert_eq!(book.purchase(&body("P-3", 4), now()).unwrap().purchase_seq, 5);
        assert_eq!(book.card_written("P-1").unwrap().result, "confirmed");
        assert_eq!(book.card_written("P-1").unwrap().result, "already_confirmed");
        let file = crate::recon::parse(&book.reconciliation("2026-11-23")).unwrap();
        assert_eq!(file.total, kiosk_core::Fen(10_000));
    }

    fn card_book(limits: Option<CardLimits>) -> Book {
        let mut book = Book::new(Utility::Gas);
        let mut gas = seed("3300000019", 0);
        gas.card = Some(CardSeed { card_no: "8800000013".into(), purchase_count: 3, limits });
        book.put_account(gas);
        book
    }

    fn purchase(reference: &str, count: u32, amount_fen: i64) -> PurchaseOrder {
        PurchaseOrder {
            reference: reference.into(),
            account: "3300000019".into(),
            card_no: "8800000013".into(),
            purchase_count: count,
            amount_fen,
            channel: "wechat".into(),
            channel_txn: "W1".into(),
            paid_at: "2026-11-23T10:00:00+08:00".into(),
        }
    }

    #[test]
    fn a_purchase_outside_the_published_limits_is_refused_and_nothing_is_sold() {
        let mut book = card_book(Some(CardLimits { min_fen: 2_000, max_fen: 50_000, step_fen: 500 }));
        let card = book.prepaid_card("8800000013").unwrap();
        assert_eq!((card.min_fen, card.max_fen, card.step_fen), (2_000, 50_000, 500));
        for (i, amount) in [i64::MAX, i64::MIN, -500, 0, 1_500, 50_500, 2_100].into_iter().enumerate() {
            let refused = book.purchase(&purchase(&format!("P-{i}"), 3, amount), now()).unwrap_err();
            assert_eq!(
                (refused.status, refused.code.as_str()),
                (422, codes::AMOUNT_OUT_OF_LIMITS),
                "{amount}"
            );
            assert!(refused.message.contains("2000 to 50000 fen, in steps of 500"), "{}", refused.message);
        }
        assert!(book.ledger().purchases.is_empty());
        assert_eq!(book.purchase(&purchase("P-ok", 3, 50_000), now()).unwrap().purchase_seq, 4);
        // Without limits of its own, a card has the demo gas card's.
        let default = card_book(None).prepaid_card("8800000013").unwrap();
        assert_eq!((default.min_fen, default.max_fen, default.step_fen), (1_000, 100_000, 100));
    }

    #[test]
    fn the_card_lookup_lists_the_purchases_whose_card_write_is_not_confirmed() {
        let mut book = card_book(None);
        assert!(book.prepaid_card("8800000013").unwrap().pending.is_empty());
        let done = book.purchase(&purchase("P-1", 3, 5_000), now()).unwrap();
        let pending = book.prepaid_card("8800000013").unwrap().pending;
        assert_eq!(
            pending,
            [PendingBody {
                reference: "P-1".into(),
                purchase_seq: 4,
                amount_fen: 5_000,
                write_data_hex: done.write_data_hex.clone(),
            }]
        );
        book.card_written("P-1").unwrap();
        assert!(book.prepaid_card("8800000013").unwrap().pending.is_empty());
    }

    #[test]
    fn replies_name_the_account_and_amount_held_under_the_reference() {
        let mut book = Book::new(Utility::Water);
        let bill = book.put_account(seed("310000005", 3150));
        let done = book.write_off(&write_off_body("R-1", &bill), now()).unwrap();
        assert_eq!((done.account.as_str(), done.amount_fen), ("310000005", 3150));
        // Another account under the same reference: a conflict, and the status still names the
        // write-off the biller holds.
        let other = book.put_account(seed("310000013", 5820));
        assert_eq!(book.write_off(&write_off_body("R-1", &other), now()).unwrap_err().status, 409);
        let StatusBody::WrittenOff { account, amount_fen, .. } = book.status("R-1") else {
            panic!("R-1 is written off");
        };
        assert_eq!((account.as_str(), amount_fen), ("310000005", 3150));
        let mut gas = card_book(None);
        let bought = gas.purchase(&purchase("P-1", 3, 5_000), now()).unwrap();
        assert_eq!((bought.account.as_str(), bought.amount_fen), ("3300000019", 5_000));
        assert!(matches!(
            gas.status("P-1"),
            StatusBody::WrittenOff {
                amount_fen: 5_000,
                card: Some(CardDataBody { purchase_seq: 4, .. }),
                ..
            }
        ));
    }
}
