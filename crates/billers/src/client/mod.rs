//! The kiosk's side of the biller contract: one [`BillerClient`] per utility, a [`JointClient`] for
//! the joint bill, and [`Billers`] holding them all as configured.
//!
//! Every money call answers a `kiosk_core` reply value and never an error: a timeout, a 5xx, a
//! reply whose signature does not verify or that makes no sense is `Unknown`, and only a signed,
//! well-formed refusal is `Rejected` (payments.md R3). Bill fetches, which move no money, answer
//! a [`BillerError`] the customer can act on.

mod card;
mod mapping;
mod requests;
mod transport;

pub use card::{AmountError, PendingPurchase, PrepaidCard, PurchaseLimits};
pub use mapping::reconciliation_rows;
pub use requests::{PurchaseRequest, WriteOffExpectation, WriteOffRequest};
pub use transport::{ClientBuildError, MAX_FILE_BYTES, MAX_REPLY_BYTES};

use crate::config::{BillerEntry, BillersConfig};
use crate::recon::ReconRow;
use crate::wire::{PurchaseBody, WriteOffBody};
use catalogue::Text;
use kiosk_core::utility::{mask_middle, CheckDigit};
use kiosk_core::{
    AccountNo, AccountRule, Bill, ConfirmReply, JointBill, Utility, WriteOffReply, WriteOffStatus,
};
use reqwest::Method;
use transport::SignedHttp;

/// Which account of a household a [`HouseholdAccount`] is: the joint account (电水气联合账单) or
/// one utility's own account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountKind {
    Joint,
    Utility(Utility),
}

impl AccountKind {
    /// The contract's name: "joint", "water", "power" or "gas".
    pub fn code(self) -> &'static str {
        match self {
            AccountKind::Joint => "joint",
            AccountKind::Utility(utility) => utility.code(),
        }
    }

    /// Exactly one of the contract's names (no aliases).
    pub fn from_code(code: &str) -> Option<AccountKind> {
        match code {
            "joint" => Some(AccountKind::Joint),
            "water" => Some(AccountKind::Utility(Utility::Water)),
            "power" => Some(AccountKind::Utility(Utility::Power)),
            "gas" => Some(AccountKind::Utility(Utility::Gas)),
            _ => None,
        }
    }
}

impl std::fmt::Display for AccountKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One account of an ID card holder's household (`GET /v1/households/{holder}`). A joint account
/// passed the joint service's account rule; a utility account is digits only, to be checked
/// against that utility's rule before use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdAccount {
    pub kind: AccountKind,
    pub account: AccountNo,
}

/// The holder digest of the contract (`GET /v1/households/{holder}`): the lower-case hex SHA-256
/// of the 18-character resident ID number (17 digits and a digit or an upper-case `X`), so that
/// the kiosk never sends the number itself. `None` for anything else (a lower-case `x`
/// included: the card reader stores it upper-case).
///
/// The digest is pseudonymous, not anonymous (ID numbers are few enough to be hashed
/// exhaustively): it is personal data, logged at debug level only.
pub fn holder_digest(id_number: &str) -> Option<String> {
    use sha2::Digest;
    let b = id_number.as_bytes();
    let well_formed =
        b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) && (b[17].is_ascii_digit() || b[17] == b'X');
    well_formed.then(|| hex::encode(sha2::Sha256::digest(b)))
}

/// True for what [`holder_digest`] makes: 64 lower-case hex digits.
pub fn is_holder_digest(holder: &str) -> bool {
    holder.len() == 64 && holder.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Why a bill, a prepaid card, a household or a reconciliation file could not be fetched. No money moved, so the
/// customer may simply try again or correct the number. `Display` is for staff logs and carries
/// the technical detail; [`BillerError::message`] is for screens.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BillerError {
    #[error("the biller does not know this account number")]
    UnknownAccount,
    #[error("the biller knows no account holding this card")]
    UnknownCard,
    #[error("the biller knows no household of this ID card holder")]
    UnknownHolder,
    #[error("the biller cannot be reached right now ({detail})")]
    Unavailable { detail: String },
    #[error("the biller's reply could not be trusted or understood ({detail})")]
    BadReply { detail: String },
}

impl BillerError {
    pub fn message(&self) -> Text {
        match self {
            BillerError::UnknownAccount => Text::new("This account number is not known. Please check it against your bill."),
            BillerError::UnknownCard => Text::new("This card is not registered to any account. Please check the card or ask at the counter."),
            BillerError::UnknownHolder => Text::new("No household account is registered to this ID card. Please enter the account number on your bill."),
            BillerError::Unavailable { .. } | BillerError::BadReply { .. } => Text::new("The bill cannot be looked up right now. Please try again in a few minutes."),
        }
    }
}

/// A client of one utility's biller.
#[derive(Clone)]
pub struct BillerClient {
    utility: Utility,
    rule: AccountRule,
    http: SignedHttp,
}

impl BillerClient {
    /// Builds the client for `utility` from its entry; `kiosk_id` is sent with every request.
    pub fn new(
        utility: Utility,
        entry: &BillerEntry,
        kiosk_id: &str,
    ) -> Result<BillerClient, ClientBuildError> {
        let http = SignedHttp::new(entry, &format!("billers.{utility}"), kiosk_id)?;
        let rule = entry.account_rule.clone().unwrap_or_else(|| AccountRule::default_for(utility));
        Ok(BillerClient { utility, rule, http })
    }

    pub fn utility(&self) -> Utility {
        self.utility
    }

    /// The rule a typed or scanned account number must pass before it is sent here.
    pub fn account_rule(&self) -> &AccountRule {
        &self.rule
    }

    /// The current bill of `account` (户号查询).
    pub async fn fetch_bill(&self, account: &AccountNo) -> Result<Bill, BillerError> {
        let exchange =
            self.http.exchange(Method::GET, &["v1", "accounts", account.as_str(), "bill"], None).await;
        let result = mapping::bill(self.utility, account, exchange);
        if let Err(error) = &result {
            tracing::info!(utility = %self.utility, %account, %error, "bill fetch failed");
        }
        result
    }

    /// The account a prepaid IC card belongs to, with its issued and loaded purchase counts, its
    /// purchase limits and its pending purchases: the kiosk reads the card number from the card
    /// and learns here the account to sell to, what it may sell ([`PrepaidCard::check_amount`])
    /// and what waits to be written (补写卡). A biller that publishes no limits or no pending list
    /// is not believed (`BadReply`): such a card cannot be sold to.
    pub async fn prepaid_card(&self, card_no: &str) -> Result<PrepaidCard, BillerError> {
        // No biller knows a card without a number (and its path would be another path).
        let result = if card_no.is_empty() {
            Err(BillerError::UnknownCard)
        } else {
            let exchange = self.http.exchange(Method::GET, &["v1", "prepaid", "cards", card_no], None).await;
            mapping::prepaid_card(self.utility, &self.rule, card_no, exchange)
        };
        if let Err(error) = &result {
            let card = mask_middle(card_no, 2, 4);
            tracing::info!(utility = %self.utility, card, %error, "prepaid card lookup failed");
        }
        result
    }

    /// Writes off a paid bill (销账) under our reference. Safe to repeat with the same request.
    /// "Done" counts only if the reply names our account and amount.
    pub async fn write_off(&self, request: &WriteOffRequest) -> WriteOffReply {
        let reply = match json(&WriteOffBody::from(request)) {
            Some(body) => {
                let exchange = self.http.exchange(Method::POST, &["v1", "write-offs"], Some(body)).await;
                mapping::write_off(&WriteOffExpectation::from(request), exchange)
            }
            None => WriteOffReply::Unknown { detail: "the request could not be encoded".into() },
        };
        self.log_money("write-off", &request.reference, &request.account, &reply);
        reply
    }

    /// What the biller knows about the write-off under `expected.reference` (销账结果查询).
    /// "Written off" (or "rejected") counts only if the biller names `expected`'s account and
    /// amount: a status about another request held under our reference is `Unknown`.
    pub async fn write_off_status(&self, expected: &WriteOffExpectation) -> WriteOffStatus {
        self.status(expected, false).await
    }

    /// What the biller knows about the prepaid purchase under `expected.reference`. Same endpoint
    /// as [`Self::write_off_status`], but "written off" only counts with the card data to write
    /// (and, when `expected.purchase_count` is known, the sequence that follows it).
    pub async fn purchase_status(&self, expected: &WriteOffExpectation) -> WriteOffStatus {
        self.status(expected, true).await
    }

    async fn status(&self, expected: &WriteOffExpectation, prepaid: bool) -> WriteOffStatus {
        let reference = expected.reference.as_str();
        let exchange = self.http.exchange(Method::GET, &["v1", "write-offs", reference], None).await;
        let status = mapping::status(expected, prepaid, exchange);
        match &status {
            WriteOffStatus::Unknown { detail } => {
                let utility = self.utility.code();
                tracing::warn!(utility, reference, detail, "write-off status unknown");
            }
            other => {
                tracing::info!(utility = %self.utility, reference, status = status_name(other), "write-off status");
            }
        }
        status
    }

    /// Buys an amount for a prepaid card; the card data comes back in `WrittenOff.card`. Safe to
    /// repeat with the same request: the biller answers the same purchase.
    pub async fn prepaid_purchase(&self, request: &PurchaseRequest) -> WriteOffReply {
        let reply = match json(&PurchaseBody::from(request)) {
            Some(body) => {
                let exchange =
                    self.http.exchange(Method::POST, &["v1", "prepaid", "purchases"], Some(body)).await;
                mapping::purchase(&WriteOffExpectation::from(request), exchange)
            }
            None => WriteOffReply::Unknown { detail: "the request could not be encoded".into() },
        };
        self.log_money("prepaid purchase", &request.reference, &request.account, &reply);
        reply
    }

    /// Tells the biller the purchase data reached the card (trade type 05). Idempotent.
    pub async fn confirm_card_write(&self, reference: &str) -> ConfirmReply {
        let path = ["v1", "prepaid", "purchases", reference, "card-written"];
        let reply = mapping::card_written(reference, self.http.exchange(Method::POST, &path, None).await);
        tracing::info!(utility = %self.utility, reference, ?reply, "card write confirmation");
        reply
    }

    /// The biller's reconciliation file for `date` ("2026-11-23"), checked and parsed.
    pub async fn reconciliation(&self, date: &str) -> Result<Vec<ReconRow>, BillerError> {
        mapping::reconciliation_rows(&self.fetch_reconciliation(date).await?)
    }

    /// The reconciliation file of `date` as the biller sent it, before anything reads it.
    pub async fn fetch_reconciliation(&self, date: &str) -> Result<Vec<u8>, BillerError> {
        let path = ["v1", "reconciliation", date];
        mapping::reconciliation(self.http.exchange_bounded(Method::GET, &path, None, MAX_FILE_BYTES).await)
    }

    fn log_money(&self, what: &str, reference: &str, account: &AccountNo, reply: &WriteOffReply) {
        match reply {
            WriteOffReply::WrittenOff { biller_txn, .. } => {
                tracing::info!(utility = %self.utility, reference, %account, biller_txn, "{what} done");
            }
            WriteOffReply::Rejected { code, .. } => {
                tracing::warn!(utility = %self.utility, reference, %account, code, "{what} rejected");
            }
            WriteOffReply::Unknown { detail } => {
                let utility = self.utility.code();
                tracing::warn!(utility, reference, %account, detail, "{what} outcome unknown");
            }
        }
    }
}

/// A client of the joint-bill service (电水气联合账单).
#[derive(Clone)]
pub struct JointClient {
    rule: AccountRule,
    http: SignedHttp,
}

impl JointClient {
    pub fn new(entry: &BillerEntry, kiosk_id: &str) -> Result<JointClient, ClientBuildError> {
        let http = SignedHttp::new(entry, "billers.joint", kiosk_id)?;
        let rule = entry.account_rule.clone().unwrap_or_else(joint_account_rule);
        Ok(JointClient { rule, http })
    }

    pub fn account_rule(&self) -> &AccountRule {
        &self.rule
    }

    /// The household's joint bill with the live sub-bill of each utility. Each sub-bill is then
    /// written off at its own utility's biller.
    pub async fn fetch_joint_bill(&self, account: &AccountNo) -> Result<JointBill, BillerError> {
        let path = ["v1", "joint-accounts", account.as_str(), "bill"];
        let result = mapping::joint_bill(account, self.http.exchange(Method::GET, &path, None).await);
        if let Err(error) = &result {
            tracing::info!(%account, %error, "joint bill fetch failed");
        }
        result
    }

    /// The accounts of the household of an ID card holder, by [`holder_digest`] (证件查户号):
    /// the kiosk reads the customer's ID card and learns the joint account here, so that nobody
    /// types the account number. A joint account in the reply passes [`Self::account_rule`];
    /// a utility account is digits only (check it against its utility's rule before use).
    pub async fn household(&self, holder_digest: &str) -> Result<Vec<HouseholdAccount>, BillerError> {
        // Only a digest is ever sent; anything else (an ID number by mistake) is asked of no one.
        // Nor is it logged: only a digest, and only at debug level.
        if !is_holder_digest(holder_digest) {
            tracing::warn!("household lookup refused: not a holder digest");
            return Err(BillerError::UnknownHolder);
        }
        let exchange = self.http.exchange(Method::GET, &["v1", "households", holder_digest], None).await;
        let result = mapping::household(&self.rule, exchange);
        match &result {
            Ok(accounts) => tracing::info!(accounts = accounts.len(), "household found"),
            Err(error) => tracing::info!(%error, "household lookup failed"),
        }
        tracing::debug!(holder = holder_digest, found = result.is_ok(), "household lookup");
        result
    }
}

/// Joint account numbers (our simulator's documented format): 10 digits, Luhn check digit.
pub fn joint_account_rule() -> AccountRule {
    AccountRule { min_len: 10, max_len: 10, check_digit: CheckDigit::Luhn }
}

/// Every configured biller, selected by utility.
#[derive(Clone)]
pub struct Billers {
    water: BillerClient,
    power: BillerClient,
    gas: BillerClient,
    joint: Option<JointClient>,
}

impl Billers {
    /// Validates `config` and builds a client per entry.
    pub fn new(config: &BillersConfig, kiosk_id: &str) -> Result<Billers, ClientBuildError> {
        config.validate()?;
        Ok(Billers {
            water: BillerClient::new(Utility::Water, &config.water, kiosk_id)?,
            power: BillerClient::new(Utility::Power, &config.power, kiosk_id)?,
            gas: BillerClient::new(Utility::Gas, &config.gas, kiosk_id)?,
            joint: config.joint.as_ref().map(|entry| JointClient::new(entry, kiosk_id)).transpose()?,
        })
    }

    pub fn get(&self, utility: Utility) -> &BillerClient {
        match utility {
            Utility::Water => &self.water,
            Utility::Power => &self.power,
            Utility::Gas => &self.gas,
        }
    }

    /// The joint-bill service, if configured.
    pub fn joint(&self) -> Option<&JointClient> {
        self.joint.as_ref()
    }
}

fn json<T: serde::Serialize>(value: &T) -> Option<Vec<u8>> {
    serde_json::to_vec(value).ok()
}

fn status_name(status: &WriteOffStatus) -> &'static str {
    match status {
        WriteOffStatus::WrittenOff { .. } => "written_off",
        WriteOffStatus::NotFound => "not_found",
        WriteOffStatus::Rejected { .. } => "rejected",
        WriteOffStatus::Unknown { .. } => "unknown",
    }
}
