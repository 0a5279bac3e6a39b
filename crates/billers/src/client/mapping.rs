//! Pure mapping from an [`Exchange`] to the answer the payment core understands. Each function
//! gives every possible exchange exactly one meaning; the rule throughout is that only a signed,
//! well-formed, on-topic reply can be definite, and everything else is "unknown" (payments.md R3).

use super::transport::Exchange;
use super::{
    AccountKind, BillerError, HouseholdAccount, PendingPurchase, PrepaidCard, PurchaseLimits,
    WriteOffExpectation,
};
use crate::wire::{
    self, BillDto, CardWrittenDone, ErrorBody, HouseholdDto, JointBillDto, PendingPurchaseDto,
    PrepaidCardDto, PurchaseDone, StatusDto, WriteOffDone,
};
use kiosk_core::utility::AccountError;
use kiosk_core::{
    AccountNo, AccountRule, Bill, CardWriteData, ConfirmReply, Fen, JointBill, PastPayment, Utility,
    WriteOffReply, WriteOffStatus,
};
use serde::de::DeserializeOwned;

/// Statuses on which a signed error body naming our reference is a definite refusal of a money
/// request: nothing was done for the reference, and nothing will be. Not 404: the contract gives
/// the money calls none (an unknown account is a 422), and a 404 is what a wrong path or a proxy
/// in front of the biller says too.
const DEFINITE_REFUSALS: [u16; 2] = [400, 422];

pub(crate) fn bill(utility: Utility, account: &AccountNo, exchange: Exchange) -> Result<Bill, BillerError> {
    let dto: BillDto = fetched(exchange)?;
    if dto.account != account.as_str() {
        return Err(bad_reply("the bill is for another account"));
    }
    let bill = bill_from_dto(dto)?;
    if bill.utility != utility {
        return Err(bad_reply("the bill is for another utility"));
    }
    Ok(bill)
}

pub(crate) fn joint_bill(account: &AccountNo, exchange: Exchange) -> Result<JointBill, BillerError> {
    let dto: JointBillDto = fetched(exchange)?;
    if dto.joint_account != account.as_str() {
        return Err(bad_reply("the joint bill is for another household"));
    }
    let bills = dto.bills.into_iter().map(bill_from_dto).collect::<Result<Vec<_>, _>>()?;
    Ok(JointBill { joint_account: account.clone(), holder_masked: dto.holder_masked, bills })
}

/// The card lookup: only a signed reply about *this* card, naming an account that passes the
/// utility's account rule, with counts that make sense, purchase limits that make sense and a
/// list of pending purchases that makes sense, is believed. A biller that publishes no limits
/// cannot be sold to, so a reply without them is refused like any other broken reply.
pub(crate) fn prepaid_card(
    utility: Utility,
    rule: &AccountRule,
    card_no: &str,
    exchange: Exchange,
) -> Result<PrepaidCard, BillerError> {
    let dto: PrepaidCardDto = fetched_or(exchange, wire::codes::UNKNOWN_CARD, BillerError::UnknownCard)?;
    if dto.card_no != card_no {
        return Err(bad_reply("the reply is about another card"));
    }
    // Exactly the digits the rule accepts: no whitespace for `check` to strip.
    let account = match rule.check(utility, &dto.account) {
        Ok(account) if account.as_str() == dto.account => account,
        Ok(_) => return Err(bad_reply("the account number is not digits")),
        Err(e) => return Err(bad_reply(&format!("the card's account number: {}", account_problem(&e)))),
    };
    if dto.loaded_seq > dto.issued_seq {
        return Err(bad_reply("the meter has loaded more purchases than were issued"));
    }
    let (Some(min), Some(max), Some(step)) = (dto.min_fen, dto.max_fen, dto.step_fen) else {
        return Err(bad_reply(
            "the biller publishes no purchase limits (min_fen, max_fen, step_fen) for the card",
        ));
    };
    let Some(limits) = PurchaseLimits::new(Fen(min), Fen(max), Fen(step)) else {
        return Err(bad_reply(&format!(
            "the card's purchase limits make no sense: {min} to {max} fen in steps of {step}"
        )));
    };
    let Some(pending) = dto.pending else {
        return Err(bad_reply("the biller does not list the card's pending purchases"));
    };
    let pending = pending_purchases(pending, dto.issued_seq)?;
    Ok(PrepaidCard {
        card_no: dto.card_no,
        account,
        holder_masked: dto.holder_masked,
        issued_seq: dto.issued_seq,
        loaded_seq: dto.loaded_seq,
        limits,
        pending,
    })
}

/// The card's pending purchases, if each has a reference of its own, a positive amount, a
/// sequence the biller issued and hex data; in sequence order.
fn pending_purchases(
    dtos: Vec<PendingPurchaseDto>,
    issued_seq: u32,
) -> Result<Vec<PendingPurchase>, BillerError> {
    let mut pending: Vec<PendingPurchase> = Vec::with_capacity(dtos.len());
    for dto in dtos {
        if dto.reference.is_empty() || pending.iter().any(|p| p.reference == dto.reference) {
            return Err(bad_reply("a pending purchase has no reference or a repeated one"));
        }
        if dto.amount_fen <= 0 {
            return Err(bad_reply("a pending purchase has no positive amount"));
        }
        if dto.purchase_seq > issued_seq {
            return Err(bad_reply("a pending purchase has a sequence beyond the last one issued"));
        }
        let Some(card) = card_data(dto.purchase_seq, dto.write_data_hex) else {
            return Err(bad_reply("a pending purchase has no sequence or no hex data to write"));
        };
        pending.push(PendingPurchase { reference: dto.reference, amount: Fen(dto.amount_fen), card });
    }
    pending.sort_by_key(|p| p.card.purchase_seq);
    Ok(pending)
}

/// The household lookup: only a signed reply (bound to this request by its nonce) listing at
/// least one account, each of a known kind with a well-formed number, is believed. A joint
/// account must pass `joint_rule` exactly; a utility account must be digits. A repeated account
/// is listed once.
pub(crate) fn household(
    joint_rule: &AccountRule,
    exchange: Exchange,
) -> Result<Vec<HouseholdAccount>, BillerError> {
    let dto: HouseholdDto = fetched_or(exchange, wire::codes::UNKNOWN_HOLDER, BillerError::UnknownHolder)?;
    if dto.accounts.is_empty() {
        return Err(bad_reply("the household has no account"));
    }
    let mut accounts: Vec<HouseholdAccount> = Vec::with_capacity(dto.accounts.len());
    for item in dto.accounts {
        let Some(kind) = AccountKind::from_code(&item.utility) else {
            return Err(bad_reply(&format!("unknown kind of account {:?}", item.utility)));
        };
        let account = match kind {
            // The joint service's rule takes a Utility only to name it in errors.
            AccountKind::Joint => match joint_rule.check(Utility::Power, &item.account) {
                Ok(account) if account.as_str() == item.account => account,
                Ok(_) => return Err(bad_reply("a joint account number is not digits")),
                Err(e) => return Err(bad_reply(&format!("a joint account number: {}", account_problem(&e)))),
            },
            AccountKind::Utility(_) => {
                let digits = !item.account.is_empty()
                    && item.account.len() <= 32
                    && item.account.bytes().all(|b| b.is_ascii_digit());
                if !digits {
                    return Err(bad_reply(&format!("a {kind} account number is not digits")));
                }
                AccountNo::from_trusted(item.account)
            }
        };
        let found = HouseholdAccount { kind, account };
        if !accounts.contains(&found) {
            accounts.push(found);
        }
    }
    Ok(accounts)
}

/// A write-off reply: "done" only for our reference, naming our account and amount.
pub(crate) fn write_off(expected: &WriteOffExpectation, exchange: Exchange) -> WriteOffReply {
    let reference = expected.reference.as_str();
    match done_or_refused::<WriteOffDone>(reference, exchange) {
        Ok(done) if done.reference != reference || done.biller_txn.is_empty() => {
            WriteOffReply::Unknown { detail: "the reply is for another reference".into() }
        }
        Ok(done) => match names_ours(expected, "reply", done.account.as_deref(), done.amount_fen) {
            Ok(()) => WriteOffReply::WrittenOff { biller_txn: done.biller_txn, card: None },
            Err(detail) => WriteOffReply::Unknown { detail },
        },
        Err(Refusal::Definite(e)) => WriteOffReply::Rejected { code: e.code, message: e.message },
        Err(Refusal::Unknown(detail)) => WriteOffReply::Unknown { detail },
    }
}

/// A purchase reply: "done" only for our reference, account and amount, with the sequence that
/// follows the card's count and hex data to write.
pub(crate) fn purchase(expected: &WriteOffExpectation, exchange: Exchange) -> WriteOffReply {
    let reference = expected.reference.as_str();
    match done_or_refused::<PurchaseDone>(reference, exchange) {
        Ok(done) if done.reference != reference || done.biller_txn.is_empty() => {
            WriteOffReply::Unknown { detail: "the reply is for another reference".into() }
        }
        Ok(done) => {
            if let Err(detail) = names_ours(expected, "reply", done.account.as_deref(), done.amount_fen) {
                return WriteOffReply::Unknown { detail };
            }
            if let Err(detail) = follows_the_card(expected, done.purchase_seq) {
                return WriteOffReply::Unknown { detail };
            }
            match card_data(done.purchase_seq, done.write_data_hex) {
                Some(card) => WriteOffReply::WrittenOff { biller_txn: done.biller_txn, card: Some(card) },
                None => WriteOffReply::Unknown { detail: "the card write data is not hex".into() },
            }
        }
        Err(Refusal::Definite(e)) => WriteOffReply::Rejected { code: e.code, message: e.message },
        Err(Refusal::Unknown(detail)) => WriteOffReply::Unknown { detail },
    }
}

/// What our reference is known as, for a write-off (`prepaid: false`) or a card purchase
/// (`prepaid: true`). "Written off" counts only if the biller names our account and amount (and,
/// for a purchase with a known count, the sequence that follows it): under our reference it may
/// hold another request (a `409 REFERENCE_CONFLICT` says so), and that one is not ours. A
/// purchase is only written off *with* its card data: without it the card cannot be written, so
/// such an answer is unknown. A refusal naming another account or amount is unknown too.
pub(crate) fn status(expected: &WriteOffExpectation, prepaid: bool, exchange: Exchange) -> WriteOffStatus {
    let reference = expected.reference.as_str();
    let dto = match exchange {
        Exchange::Answered { status: 200, body } => match parse::<StatusDto>(&body) {
            Ok(dto) => dto,
            Err(detail) => return WriteOffStatus::Unknown { detail },
        },
        other => return WriteOffStatus::Unknown { detail: unknown_detail(other) },
    };
    match dto {
        StatusDto::WrittenOff { reference: r, biller_txn, account, amount_fen, card }
            if r == reference && !biller_txn.is_empty() =>
        {
            if let Err(detail) = names_ours(expected, "status", account.as_deref(), amount_fen) {
                return WriteOffStatus::Unknown { detail };
            }
            match card.map(|c| card_data(c.purchase_seq, c.write_data_hex)) {
                None if prepaid => WriteOffStatus::Unknown {
                    detail: "the purchase is written off without card write data".into(),
                },
                None => WriteOffStatus::WrittenOff { biller_txn, card: None },
                Some(Some(card)) => match follows_the_card(expected, card.purchase_seq) {
                    Ok(()) => WriteOffStatus::WrittenOff { biller_txn, card: Some(card) },
                    Err(detail) => WriteOffStatus::Unknown { detail },
                },
                Some(None) => WriteOffStatus::Unknown { detail: "the card write data is not hex".into() },
            }
        }
        StatusDto::Rejected { reference: r, code, message, account, amount_fen }
            if r == reference && !code.is_empty() =>
        {
            // Optional on a refusal (the biller may not have read them from a bad request); if
            // named, they must be ours.
            let other_account = account.is_some_and(|a| a != expected.account.as_str());
            let other_amount = amount_fen.is_some_and(|f| f != expected.amount.0);
            if other_account || other_amount {
                let what = if other_account { "account" } else { "amount" };
                let detail = format!("the status refuses {reference} but names another {what} than ours");
                return WriteOffStatus::Unknown { detail };
            }
            WriteOffStatus::Rejected { code, message }
        }
        StatusDto::NotFound { reference: r } if r == reference => WriteOffStatus::NotFound,
        _ => WriteOffStatus::Unknown { detail: "the status is for another reference".into() },
    }
}

/// `Ok` if a "done" `what` ("reply", "status") names our account and amount.
fn names_ours(
    expected: &WriteOffExpectation,
    what: &str,
    account: Option<&str>,
    amount_fen: Option<i64>,
) -> Result<(), String> {
    let (Some(account), Some(amount_fen)) = (account, amount_fen) else {
        return Err(format!("the {what} names no account or amount: it cannot be matched to ours"));
    };
    if account != expected.account.as_str() {
        return Err(format!(
            "the {what} names another account than ours: the biller holds another request under this reference"
        ));
    }
    if amount_fen != expected.amount.0 {
        return Err(format!(
            "the {what} names another amount ({}) than ours ({}): the biller holds another request under this reference",
            Fen(amount_fen),
            expected.amount
        ));
    }
    Ok(())
}

/// `Ok` unless we know the card's purchase count and `purchase_seq` does not follow it.
fn follows_the_card(expected: &WriteOffExpectation, purchase_seq: u32) -> Result<(), String> {
    match expected.purchase_count {
        Some(count) if Some(purchase_seq) != count.checked_add(1) => {
            Err(format!("purchase sequence {purchase_seq} does not follow the card's {count}"))
        }
        _ => Ok(()),
    }
}

pub(crate) fn card_written(reference: &str, exchange: Exchange) -> ConfirmReply {
    match exchange {
        Exchange::Answered { status: 200, body } => match parse::<CardWrittenDone>(&body) {
            Ok(done) if done.reference == reference => ConfirmReply::Confirmed,
            Ok(_) => ConfirmReply::Unknown { detail: "the reply is for another reference".into() },
            Err(detail) => ConfirmReply::Unknown { detail },
        },
        // Even a refusal leaves the purchase waiting for its card (待写卡): retry or staff.
        Exchange::Answered { status, body } => {
            let code = parse::<ErrorBody>(&body).map(|e| e.code).unwrap_or_default();
            ConfirmReply::Unknown { detail: format!("HTTP {status} {code}") }
        }
        other => ConfirmReply::Unknown { detail: unknown_detail(other) },
    }
}

pub(crate) fn reconciliation(exchange: Exchange) -> Result<Vec<u8>, BillerError> {
    match exchange {
        Exchange::Answered { status: 200, body } => Ok(body),
        Exchange::Answered { status: 404, .. } => {
            Err(BillerError::Unavailable { detail: "the file for this date is not available (yet)".into() })
        }
        other => Err(fetch_failure(other)),
    }
}

/// The rows of a reconciliation file as received: UTF-8 (a water company's file), or GBK (an
/// aggregator's such as CEBA's, payments.md §6) when it is not UTF-8.
pub fn reconciliation_rows(body: &[u8]) -> Result<Vec<crate::recon::ReconRow>, BillerError> {
    let text = match std::str::from_utf8(body) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => {
            let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(body);
            if had_errors {
                return Err(bad_reply("the file is neither UTF-8 nor GBK"));
            }
            text
        }
    };
    crate::recon::parse(&text).map(|file| file.rows).map_err(|e| bad_reply(&e.to_string()))
}

/// A definite refusal, or the reason the outcome is unknown.
enum Refusal {
    Definite(ErrorBody),
    Unknown(String),
}

/// A money request's reply: the done body, a definite refusal (signed, coded and naming
/// `reference`), or why the outcome is unknown.
fn done_or_refused<T: DeserializeOwned>(reference: &str, exchange: Exchange) -> Result<T, Refusal> {
    match exchange {
        Exchange::Answered { status: 200, body } => parse(&body).map_err(Refusal::Unknown),
        // Our reference already names another request at the biller. Whatever it holds under it
        // is not this request, so this is never "written off" (nor a refusal to refund on): the
        // status, matched against our account and amount, and staff decide.
        Exchange::Answered { status: 409, body } => {
            let code = parse::<ErrorBody>(&body).map(|e| e.code).unwrap_or_default();
            let code = if code.is_empty() { "without a code".to_string() } else { code };
            Err(Refusal::Unknown(format!(
                "HTTP 409 {code}: the biller holds reference {reference} for a different request; \
                 not taken as written off"
            )))
        }
        Exchange::Answered { status, body } if DEFINITE_REFUSALS.contains(&status) => {
            match parse::<ErrorBody>(&body) {
                Ok(error) if error.code.is_empty() => {
                    Err(Refusal::Unknown(format!("HTTP {status} without an error code")))
                }
                Ok(error) if error.reference.as_deref() == Some(reference) => Err(Refusal::Definite(error)),
                Ok(error) => Err(Refusal::Unknown(format!(
                    "HTTP {status} {} refuses {}, not this reference",
                    error.code,
                    error.reference.as_deref().unwrap_or("no named reference")
                ))),
                Err(_) => Err(Refusal::Unknown(format!("HTTP {status} without an error code"))),
            }
        }
        other => Err(Refusal::Unknown(unknown_detail(other))),
    }
}

/// The body of a signed 200 for a fetch; every other outcome as a [`BillerError`].
fn fetched<T: DeserializeOwned>(exchange: Exchange) -> Result<T, BillerError> {
    fetched_or(exchange, wire::codes::UNKNOWN_ACCOUNT, BillerError::UnknownAccount)
}

/// [`fetched`], where a signed 404 with error code `unknown` (and only that code) is `not_found`.
fn fetched_or<T: DeserializeOwned>(
    exchange: Exchange,
    unknown: &str,
    not_found: BillerError,
) -> Result<T, BillerError> {
    match exchange {
        Exchange::Answered { status: 200, body } => {
            parse(&body).map_err(|d| BillerError::BadReply { detail: d })
        }
        Exchange::Answered { status: 404, body } => match parse::<ErrorBody>(&body) {
            Ok(e) if e.code == unknown => Err(not_found),
            _ => Err(bad_reply(&format!("HTTP 404 without {unknown}"))),
        },
        other => Err(fetch_failure(other)),
    }
}

fn fetch_failure(exchange: Exchange) -> BillerError {
    match exchange {
        Exchange::Answered { status: 401, .. } => BillerError::Unavailable {
            detail: "the biller refused our signature: check the key and the kiosk clock".into(),
        },
        Exchange::Answered { status, .. } => bad_reply(&format!("unexpected HTTP {status}")),
        Exchange::ServerError { status } => BillerError::Unavailable { detail: format!("HTTP {status}") },
        Exchange::NoAnswer { detail } => BillerError::Unavailable { detail },
        Exchange::Untrusted { detail } => BillerError::BadReply { detail },
    }
}

fn unknown_detail(exchange: Exchange) -> String {
    match exchange {
        Exchange::Answered { status, body } => {
            let code = parse::<ErrorBody>(&body).map(|e| e.code).unwrap_or_default();
            format!("HTTP {status} {code}").trim_end().to_string()
        }
        Exchange::ServerError { status } => format!("HTTP {status}"),
        Exchange::NoAnswer { detail } | Exchange::Untrusted { detail } => detail,
    }
}

/// The biller's billing period as printable text, or none: a period that is empty, longer than a
/// receipt line, or holds control characters is left off (the bill is still good to pay).
fn billing_period(raw: Option<String>) -> Option<String> {
    let period = raw?.trim().to_string();
    let printable = !period.is_empty() && period.chars().count() <= MAX_PERIOD_CHARS;
    if printable && !period.chars().any(|c| c.is_control() || is_invisible_format(c)) {
        return Some(period);
    }
    if !period.is_empty() {
        tracing::warn!(chars = period.chars().count(), "a bill's period is not printable; left off");
    }
    None
}

/// A billing period longer than this is not a period ("2026-10-16 至 2026-11-15" is 23).
const MAX_PERIOD_CHARS: usize = 24;

/// Zero-width and direction-changing characters: nothing to show, and they can reorder what is.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

fn bill_from_dto(dto: BillDto) -> Result<Bill, BillerError> {
    let utility = dto.utility.parse::<Utility>().map_err(|e| bad_reply(&e.to_string()))?;
    if dto.account.is_empty() || !dto.account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_reply("the account number is not digits"));
    }
    if dto.amount_due_fen < 0 || dto.bill_id.is_empty() {
        return Err(bad_reply("the bill has no id or a negative amount due"));
    }
    Ok(Bill {
        utility,
        account: AccountNo::from_trusted(dto.account),
        bill_id: dto.bill_id,
        version: dto.version,
        amount_due: Fen(dto.amount_due_fen),
        due_date: dto.due_date,
        period: billing_period(dto.period),
        holder_masked: dto.holder_masked,
        address_masked: dto.address_masked,
        prepayment: dto.prepayment,
        recent_payments: dto
            .recent_payments
            .into_iter()
            .map(|p| PastPayment { date: p.date, amount: Fen(p.amount_fen), channel: p.channel })
            .collect(),
    })
}

/// What is wrong with an account number in a reply, for staff: without the customer's advice of
/// `AccountError`'s own text, and without naming a utility (the joint service's rule is checked
/// under a stand-in utility).
fn account_problem(error: &AccountError) -> String {
    match error {
        AccountError::Empty => "it is empty".into(),
        AccountError::NotDigits => "it is not digits only".into(),
        AccountError::WrongLength { min, max, got, .. } if min == max => {
            format!("it has {got} digits, not {min}")
        }
        AccountError::WrongLength { min, max, got, .. } => format!("it has {got} digits, not {min} to {max}"),
        AccountError::CheckDigit { .. } => "its check digit is wrong".into(),
    }
}

fn card_data(purchase_seq: u32, data_hex: String) -> Option<CardWriteData> {
    let valid = purchase_seq > 0 && !data_hex.is_empty() && hex::decode(&data_hex).is_ok();
    valid.then_some(CardWriteData { purchase_seq, data_hex })
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("the reply is not the contract's JSON: {e}"))
}

fn bad_reply(detail: &str) -> BillerError {
    BillerError::BadReply { detail: detail.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconciliation_file_is_read_as_utf8_or_gbk() {
        let text = "1|3150\n20261123|YZ0001261123000001-1|310000003|3150|微信|pay\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert!(std::str::from_utf8(&gbk).is_err(), "really GBK");
        for body in [text.as_bytes(), &gbk[..]] {
            let rows = reconciliation_rows(body).unwrap();
            assert_eq!((rows[0].channel.as_str(), rows[0].amount), ("微信", Fen(3150)));
        }
        assert!(reconciliation_rows(&[0x31, 0x7C, 0xFF, 0xFF, 0x0A]).is_err());
    }

    fn answered(status: u16, body: &str) -> Exchange {
        Exchange::Answered { status, body: body.as_bytes().to_vec() }
    }

    /// Our write-off under `reference`: account 310000005, ¥31.50.
    fn ours(reference: &str) -> WriteOffExpectation {
        WriteOffExpectation {
            reference: reference.into(),
            account: AccountNo::from_trusted("310000005"),
            amount: Fen(3150),
            purchase_count: None,
        }
    }

    /// Our purchase under `reference` for a card at `count`: account 3300000019, ¥50.00.
    fn our_purchase(reference: &str, count: u32) -> WriteOffExpectation {
        WriteOffExpectation {
            reference: reference.into(),
            account: AccountNo::from_trusted("3300000019"),
            amount: Fen(5000),
            purchase_count: Some(count),
        }
    }

    const OURS: &str = r#""account":"310000005","amount_fen":3150"#;
    const OUR_PURCHASE: &str = r#""account":"3300000019","amount_fen":5000"#;

    #[test]
    fn write_off_refusals_are_definite_only_when_signed_and_coded() {
        let rejected = write_off(
            &ours("R-1"),
            answered(422, r#"{"code":"BILL_CHANGED","message":"stale","reference":"R-1"}"#),
        );
        assert_eq!(
            rejected,
            WriteOffReply::Rejected { code: "BILL_CHANGED".into(), message: "stale".into() }
        );
        let bad_request =
            write_off(&ours("R-1"), answered(400, r#"{"code":"BAD_REQUEST","reference":"R-1"}"#));
        assert!(matches!(bad_request, WriteOffReply::Rejected { .. }));
        for unknown in [
            answered(422, "not json"),
            answered(422, r#"{"code":"","reference":"R-1"}"#),
            answered(409, r#"{"code":"REFERENCE_CONFLICT"}"#),
            answered(401, r#"{"code":"BAD_SIGNATURE"}"#),
            answered(
                200,
                &format!(r#"{{"result":"written_off","reference":"R-2","biller_txn":"T",{OURS}}}"#),
            ),
            answered(200, "{}"),
            Exchange::ServerError { status: 503 },
            Exchange::NoAnswer { detail: "timed out".into() },
            Exchange::Untrusted { detail: "bad signature".into() },
        ] {
            assert!(
                matches!(write_off(&ours("R-1"), unknown.clone()), WriteOffReply::Unknown { .. }),
                "{unknown:?}"
            );
        }
        let done =
            format!(r#"{{"result":"already_written_off","reference":"R-1","biller_txn":"T1",{OURS}}}"#);
        assert_eq!(
            write_off(&ours("R-1"), answered(200, &done)),
            WriteOffReply::WrittenOff { biller_txn: "T1".into(), card: None }
        );
    }

    #[test]
    fn a_write_off_reply_for_another_account_or_amount_is_unknown() {
        let reply = |fields: &str| {
            answered(
                200,
                &format!(r#"{{"result":"written_off","reference":"R-1","biller_txn":"T1"{fields}}}"#),
            )
        };
        for (label, fields, says) in [
            ("another account", r#","account":"310000013","amount_fen":3150"#, "names another account"),
            (
                "another amount",
                r#","account":"310000005","amount_fen":3151"#,
                "names another amount (¥31.51) than ours (¥31.50)",
            ),
            ("no account", r#","amount_fen":3150"#, "names no account or amount"),
            ("no amount", r#","account":"310000005""#, "names no account or amount"),
            ("neither (an older biller)", "", "names no account or amount"),
        ] {
            let written = write_off(&ours("R-1"), reply(fields));
            assert!(
                matches!(&written, WriteOffReply::Unknown { detail } if detail.contains(says)),
                "{label}: {written:?}"
            );
        }
        let purchase_reply = |fields: &str| {
            let done = r#""result":"written_off","reference":"P-1","biller_txn":"G1","purchase_seq":4"#;
            answered(200, &format!(r#"{{{done},"write_data_hex":"0a0b",{fields}}}"#))
        };
        assert!(matches!(
            purchase(&our_purchase("P-1", 3), purchase_reply(OUR_PURCHASE)),
            WriteOffReply::WrittenOff { card: Some(_), .. }
        ));
        for fields in
            [r#""account":"3300000027","amount_fen":5000"#, r#""account":"3300000019","amount_fen":9000"#]
        {
            let bought = purchase(&our_purchase("P-1", 3), purchase_reply(fields));
            assert!(
                matches!(&bought, WriteOffReply::Unknown { detail } if detail.contains("names another")),
                "{bought:?}"
            );
        }
    }

    #[test]
    fn a_reference_conflict_is_never_written_off_and_says_so() {
        let conflict = || {
            answered(
                409,
                r#"{"code":"REFERENCE_CONFLICT","message":"this reference was used for a different request","reference":"R-1"}"#,
            )
        };
        for reply in [write_off(&ours("R-1"), conflict()), purchase(&our_purchase("R-1", 3), conflict())] {
            let WriteOffReply::Unknown { detail } = &reply else { panic!("{reply:?}") };
            assert!(
                detail.starts_with(
                    "HTTP 409 REFERENCE_CONFLICT: the biller holds reference R-1 for a different request"
                ),
                "{detail}"
            );
            assert!(detail.contains("not taken as written off"), "{detail}");
        }
        let bare = write_off(&ours("R-1"), answered(409, ""));
        assert!(
            matches!(&bare, WriteOffReply::Unknown { detail } if detail.starts_with("HTTP 409 without a code")),
            "{bare:?}"
        );
    }

    #[test]
    fn a_refusal_must_name_our_reference_and_404_is_never_definite() {
        for (label, exchange) in [
            ("no reference", answered(422, r#"{"code":"BILL_CHANGED","message":"stale"}"#)),
            ("another reference", answered(422, r#"{"code":"BILL_CHANGED","reference":"R-2"}"#)),
            ("400 for another", answered(400, r#"{"code":"BAD_REQUEST","reference":"R-2"}"#)),
            ("404", answered(404, r#"{"code":"UNKNOWN_ACCOUNT","reference":"R-1"}"#)),
        ] {
            assert!(
                matches!(write_off(&ours("R-1"), exchange.clone()), WriteOffReply::Unknown { .. }),
                "{label}"
            );
            assert!(
                matches!(purchase(&our_purchase("R-1", 0), exchange), WriteOffReply::Unknown { .. }),
                "{label}"
            );
        }
        let named = answered(422, r#"{"code":"LAST_PURCHASE_NOT_LOADED","reference":"R-1"}"#);
        assert!(matches!(purchase(&our_purchase("R-1", 0), named), WriteOffReply::Rejected { .. }));
    }

    #[test]
    fn a_purchase_status_without_card_data_is_unknown() {
        let bare =
            answered(200, &format!(r#"{{"status":"written_off","reference":"R","biller_txn":"G1",{OURS}}}"#));
        assert!(matches!(status(&ours("R"), true, bare.clone()), WriteOffStatus::Unknown { .. }));
        assert_eq!(
            status(&ours("R"), false, bare),
            WriteOffStatus::WrittenOff { biller_txn: "G1".into(), card: None }
        );
        let card = r#""card":{"purchase_seq":5,"write_data_hex":"0a0b"}"#;
        let full = answered(
            200,
            &format!(r#"{{"status":"written_off","reference":"R","biller_txn":"G1",{OUR_PURCHASE},{card}}}"#),
        );
        let data = Some(CardWriteData { purchase_seq: 5, data_hex: "0a0b".into() });
        assert_eq!(
            status(&our_purchase("R", 4), true, full.clone()),
            WriteOffStatus::WrittenOff { biller_txn: "G1".into(), card: data }
        );
        // Issued for another count of the card: another purchase.
        let other = status(&our_purchase("R", 2), true, full);
        assert!(
            matches!(&other, WriteOffStatus::Unknown { detail } if detail.contains("does not follow")),
            "{other:?}"
        );
    }

    #[test]
    fn a_status_naming_another_account_or_amount_is_unknown_never_written_off() {
        let written_off = |fields: &str| {
            answered(200, &format!(r#"{{"status":"written_off","reference":"R","biller_txn":"W1"{fields}}}"#))
        };
        assert_eq!(
            status(&ours("R"), false, written_off(&format!(",{OURS}"))),
            WriteOffStatus::WrittenOff { biller_txn: "W1".into(), card: None }
        );
        for (label, fields, says) in [
            ("another account", r#","account":"310000013","amount_fen":3150"#, "names another account"),
            ("another amount", r#","account":"310000005","amount_fen":100"#, "names another amount"),
            ("both", r#","account":"310000013","amount_fen":100"#, "names another account"),
            ("none (an older biller)", "", "names no account or amount"),
        ] {
            for prepaid in [false, true] {
                let found = status(&ours("R"), prepaid, written_off(fields));
                assert!(
                    matches!(&found, WriteOffStatus::Unknown { detail } if detail.contains(says)),
                    "{label}: {found:?}"
                );
            }
        }
        let rejected = |fields: &str| {
            answered(
                200,
                &format!(r#"{{"status":"rejected","reference":"R","code":"BILL_CHANGED"{fields}}}"#),
            )
        };
        assert!(matches!(status(&ours("R"), false, rejected("")), WriteOffStatus::Rejected { .. }));
        assert!(matches!(
            status(&ours("R"), false, rejected(&format!(",{OURS}"))),
            WriteOffStatus::Rejected { .. }
        ));
        for fields in [r#","account":"310000013""#, r#","amount_fen":1"#] {
            let found = status(&ours("R"), false, rejected(fields));
            assert!(
                matches!(&found, WriteOffStatus::Unknown { detail } if detail.contains("names another")),
                "{found:?}"
            );
        }
    }

    #[test]
    fn a_purchase_must_follow_the_card_counter_and_carry_hex() {
        let body = |seq, data: &str| {
            let fields = format!(r#""purchase_seq":{seq},"write_data_hex":"{data}",{OUR_PURCHASE}"#);
            format!(r#"{{"result":"written_off","reference":"R","biller_txn":"G1",{fields}}}"#)
        };
        let ok = purchase(&our_purchase("R", 4), answered(200, &body(5, "0a0b")));
        let card = Some(CardWriteData { purchase_seq: 5, data_hex: "0a0b".into() });
        assert_eq!(ok, WriteOffReply::WrittenOff { biller_txn: "G1".into(), card });
        assert!(matches!(
            purchase(&our_purchase("R", 4), answered(200, &body(7, "0a0b"))),
            WriteOffReply::Unknown { .. }
        ));
        assert!(matches!(
            purchase(&our_purchase("R", 4), answered(200, &body(5, "zz"))),
            WriteOffReply::Unknown { .. }
        ));
        assert!(matches!(
            purchase(&our_purchase("R", u32::MAX), answered(200, &body(0, "00"))),
            WriteOffReply::Unknown { .. }
        ));
    }

    #[test]
    fn status_replies_must_name_our_reference() {
        let nf = answered(200, r#"{"status":"not_found","reference":"R"}"#);
        assert_eq!(status(&ours("R"), false, nf.clone()), WriteOffStatus::NotFound);
        assert!(matches!(status(&ours("OTHER"), false, nf), WriteOffStatus::Unknown { .. }));
        assert!(matches!(status(&ours("R"), false, answered(404, "{}")), WriteOffStatus::Unknown { .. }));
        let rejected = answered(200, r#"{"status":"rejected","reference":"R","code":"ACCOUNT_CLOSED"}"#);
        assert!(matches!(status(&ours("R"), true, rejected), WriteOffStatus::Rejected { .. }));
    }

    #[test]
    fn fetch_failures_say_what_the_customer_can_do() {
        let account = AccountNo::from_trusted("310000003");
        let unknown = answered(404, r#"{"code":"UNKNOWN_ACCOUNT","message":"no such account"}"#);
        assert_eq!(bill(Utility::Water, &account, unknown), Err(BillerError::UnknownAccount));
        let gateway = Exchange::ServerError { status: 502 };
        assert!(matches!(bill(Utility::Water, &account, gateway), Err(BillerError::Unavailable { .. })));
        let garbage = answered(200, "<html>");
        assert!(matches!(bill(Utility::Water, &account, garbage), Err(BillerError::BadReply { .. })));
    }

    /// A card lookup reply with the demo gas limits and `pending` (a JSON array).
    fn card_reply(card_no: &str, account: &str, issued: u32, loaded: u32, pending: &str) -> Exchange {
        let fields = format!(
            r#""holder_masked":"刘*国","issued_seq":{issued},"loaded_seq":{loaded},"min_fen":1000,"max_fen":100000,"step_fen":100"#
        );
        answered(
            200,
            &format!(r#"{{"card_no":"{card_no}","account":"{account}",{fields},"pending":{pending}}}"#),
        )
    }

    #[test]
    fn a_card_lookup_is_believed_only_about_this_card_and_a_valid_account() {
        let gas = AccountRule::default_for(Utility::Gas);
        let card = |card_no: &str, account: &str, issued: u32, loaded: u32| {
            card_reply(card_no, account, issued, loaded, "[]")
        };
        let found = prepaid_card(Utility::Gas, &gas, "8800000013", card("8800000013", "3300000019", 4, 3));
        assert_eq!(
            found,
            Ok(PrepaidCard {
                card_no: "8800000013".into(),
                account: AccountNo::from_trusted("3300000019"),
                holder_masked: "刘*国".into(),
                issued_seq: 4,
                loaded_seq: 3,
                limits: PurchaseLimits::new(Fen(1000), Fen(100_000), Fen(100)).unwrap(),
                pending: vec![],
            })
        );
        for (label, exchange) in [
            ("another card", card("8800000021", "3300000019", 3, 3)),
            ("wrong check digit", card("8800000013", "3300000018", 3, 3)),
            ("too short", card("8800000013", "330000001", 3, 3)),
            ("not digits", card("8800000013", "33000000 9", 3, 3)),
            ("loaded beyond issued", card("8800000013", "3300000019", 3, 4)),
            ("404 for an account", answered(404, r#"{"code":"UNKNOWN_ACCOUNT"}"#)),
            ("404 without a body", answered(404, "")),
            ("garbage", answered(200, "{}")),
            ("untrusted", Exchange::Untrusted { detail: "reply signature does not verify".into() }),
        ] {
            let result = prepaid_card(Utility::Gas, &gas, "8800000013", exchange);
            assert!(matches!(result, Err(BillerError::BadReply { .. })), "{label}: {result:?}");
        }
        let unknown = answered(404, r#"{"code":"UNKNOWN_CARD","message":"no account holds this card"}"#);
        assert_eq!(prepaid_card(Utility::Gas, &gas, "8800000013", unknown), Err(BillerError::UnknownCard));
        let gateway = Exchange::ServerError { status: 503 };
        assert!(matches!(
            prepaid_card(Utility::Gas, &gas, "8800000013", gateway),
            Err(BillerError::Unavailable { .. })
        ));
    }

    #[test]
    fn a_card_without_sensible_purchase_limits_cannot_be_sold_to() {
        let gas = AccountRule::default_for(Utility::Gas);
        let reply = |limits: &str| {
            let fields = r#""card_no":"8800000013","account":"3300000019","holder_masked":"刘*国","issued_seq":3,"loaded_seq":3"#;
            answered(200, &format!(r#"{{{fields}{limits},"pending":[]}}"#))
        };
        for (label, limits, says) in [
            ("an older biller: no limits", "", "publishes no purchase limits"),
            ("no step", r#","min_fen":1000,"max_fen":100000"#, "publishes no purchase limits"),
            ("no maximum", r#","min_fen":1000,"step_fen":100"#, "publishes no purchase limits"),
            ("a zero step", r#","min_fen":1000,"max_fen":100000,"step_fen":0"#, "make no sense"),
            ("min above max", r#","min_fen":2000,"max_fen":1000,"step_fen":100"#, "make no sense"),
            ("a zero minimum", r#","min_fen":0,"max_fen":1000,"step_fen":100"#, "make no sense"),
            ("off step", r#","min_fen":1050,"max_fen":100000,"step_fen":100"#, "make no sense"),
            ("not a number", r#","min_fen":"10","max_fen":100000,"step_fen":100"#, "not the contract's JSON"),
        ] {
            let result = prepaid_card(Utility::Gas, &gas, "8800000013", reply(limits));
            assert!(
                matches!(&result, Err(BillerError::BadReply { detail }) if detail.contains(says)),
                "{label}: {result:?}"
            );
        }
        let found = prepaid_card(
            Utility::Gas,
            &gas,
            "8800000013",
            reply(r#","min_fen":500,"max_fen":2000,"step_fen":500"#),
        )
        .unwrap();
        assert_eq!(found.check_amount(Fen(1500)), Ok(()));
        assert!(found.check_amount(Fen(i64::MAX)).is_err());
        assert!(found.check_amount(Fen(1200)).is_err());
    }

    #[test]
    fn a_card_lookup_lists_its_pending_purchases_only_when_they_make_sense() {
        let gas = AccountRule::default_for(Utility::Gas);
        let lookup = |pending: &str| {
            prepaid_card(
                Utility::Gas,
                &gas,
                "8800000013",
                card_reply("8800000013", "3300000019", 5, 3, pending),
            )
        };
        let item = |reference: &str, seq: u32, amount: i64, data: &str| {
            format!(
                r#"{{"reference":"{reference}","purchase_seq":{seq},"amount_fen":{amount},"write_data_hex":"{data}"}}"#
            )
        };
        let found =
            lookup(&format!("[{},{}]", item("YZB-1", 5, 3000, "0c0d"), item("YZA-1", 4, 5000, "0a0b")))
                .unwrap();
        assert_eq!(
            found.pending,
            [
                PendingPurchase {
                    reference: "YZA-1".into(),
                    amount: Fen(5000),
                    card: CardWriteData { purchase_seq: 4, data_hex: "0a0b".into() },
                },
                PendingPurchase {
                    reference: "YZB-1".into(),
                    amount: Fen(3000),
                    card: CardWriteData { purchase_seq: 5, data_hex: "0c0d".into() },
                },
            ],
            "in sequence order"
        );
        for (label, pending) in [
            ("no reference", format!("[{}]", item("", 4, 5000, "0a0b"))),
            (
                "a repeated reference",
                format!("[{},{}]", item("YZA-1", 4, 5000, "0a0b"), item("YZA-1", 5, 5000, "0a0b")),
            ),
            ("no amount", format!("[{}]", item("YZA-1", 4, 0, "0a0b"))),
            ("a negative amount", format!("[{}]", item("YZA-1", 4, -5000, "0a0b"))),
            ("beyond the last issued", format!("[{}]", item("YZA-1", 6, 5000, "0a0b"))),
            ("sequence 0", format!("[{}]", item("YZA-1", 0, 5000, "0a0b"))),
            ("not hex", format!("[{}]", item("YZA-1", 4, 5000, "zz"))),
            ("no data", format!("[{}]", item("YZA-1", 4, 5000, ""))),
            ("not a list", "{}".to_string()),
        ] {
            let result = lookup(&pending);
            assert!(matches!(result, Err(BillerError::BadReply { .. })), "{label}: {result:?}");
        }
        // A biller that does not list them is not believed: 补写卡 would miss a purchase.
        let without = answered(
            200,
            r#"{"card_no":"8800000013","account":"3300000019","holder_masked":"刘*国","issued_seq":3,"loaded_seq":3,"min_fen":1000,"max_fen":100000,"step_fen":100}"#,
        );
        let result = prepaid_card(Utility::Gas, &gas, "8800000013", without);
        assert!(
            matches!(&result, Err(BillerError::BadReply { detail }) if detail.contains("does not list the card's pending purchases")),
            "{result:?}"
        );
    }

    #[test]
    fn reply_problems_are_described_without_doubled_words() {
        let gas = AccountRule::default_for(Utility::Gas);
        let joint = crate::client::joint_account_rule();
        let mut details = vec![];
        for account in ["330000001", "3300000018"] {
            let result =
                prepaid_card(Utility::Gas, &gas, "8800000013", card_reply("8800000013", account, 3, 3, "[]"));
            details.push(result.unwrap_err().to_string());
        }
        for account in ["390000000", "3900000006"] {
            let reply =
                answered(200, &format!(r#"{{"accounts":[{{"utility":"joint","account":"{account}"}}]}}"#));
            details.push(household(&joint, reply).unwrap_err().to_string());
        }
        details.push(
            bill(Utility::Water, &AccountNo::from_trusted("310000005"), answered(200, r#"{"utility":7}"#))
                .unwrap_err()
                .to_string(),
        );
        let reply = answered(200, r#"{"status":"written_off","reference":"R","biller_txn":7}"#);
        let WriteOffStatus::Unknown { detail } = status(&ours("R"), false, reply) else { panic!("unknown") };
        details.push(detail);
        for detail in &details {
            let words: Vec<String> = detail
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect();
            for pair in words.windows(2) {
                assert_ne!(pair[0], pair[1], "{detail}");
            }
            for phrase in ["account number", "expected"] {
                assert!(detail.matches(phrase).count() <= 1, "{detail}");
            }
            assert!(!detail.contains("power"), "a joint account is no power account: {detail}");
        }
        assert_eq!(
            details[0],
            "the biller's reply could not be trusted or understood (the card's account number: it has 9 digits, not 10)"
        );
        assert!(details[3].ends_with("(a joint account number: its check digit is wrong)"), "{}", details[3]);
    }

    #[test]
    fn a_household_is_believed_only_with_known_kinds_and_well_formed_accounts() {
        let joint = crate::client::joint_account_rule();
        let reply = |accounts: &str| answered(200, &format!(r#"{{"accounts":[{accounts}]}}"#));
        let found = household(
            &joint,
            reply(
                r#"{"utility":"joint","account":"3900000005"},{"utility":"water","account":"310000021"},
                   {"utility":"joint","account":"3900000005"},{"utility":"gas","account":"3300000027","extra":1}"#,
            ),
        );
        let account =
            |kind, digits: &str| HouseholdAccount { kind, account: AccountNo::from_trusted(digits) };
        assert_eq!(
            found,
            Ok(vec![
                account(AccountKind::Joint, "3900000005"),
                account(AccountKind::Utility(Utility::Water), "310000021"),
                account(AccountKind::Utility(Utility::Gas), "3300000027"),
            ]),
            "the repeated joint account is listed once, an unknown field is ignored"
        );
        for (label, exchange) in [
            ("no account", reply("")),
            ("no accounts field", answered(200, "{}")),
            ("unknown kind", reply(r#"{"utility":"heating","account":"3900000005"}"#)),
            ("an alias", reply(r#"{"utility":"electricity","account":"3200000036"}"#)),
            ("joint check digit", reply(r#"{"utility":"joint","account":"3900000006"}"#)),
            ("joint with spaces", reply(r#"{"utility":"joint","account":"39000 00005"}"#)),
            ("utility not digits", reply(r#"{"utility":"water","account":"31000002A"}"#)),
            ("utility empty", reply(r#"{"utility":"power","account":""}"#)),
            ("404 for an account", answered(404, r#"{"code":"UNKNOWN_ACCOUNT"}"#)),
            ("404 without a body", answered(404, "")),
            ("400", answered(400, r#"{"code":"BAD_REQUEST"}"#)),
            ("garbage", answered(200, "<html>")),
            ("untrusted", Exchange::Untrusted { detail: "reply signature does not verify".into() }),
        ] {
            let result = household(&joint, exchange);
            assert!(matches!(result, Err(BillerError::BadReply { .. })), "{label}: {result:?}");
        }
        let unknown = answered(404, r#"{"code":"UNKNOWN_HOLDER","message":"no household for this holder"}"#);
        assert_eq!(household(&joint, unknown), Err(BillerError::UnknownHolder));
        for unavailable in
            [Exchange::ServerError { status: 503 }, Exchange::NoAnswer { detail: "timed out".into() }]
        {
            assert!(matches!(household(&joint, unavailable), Err(BillerError::Unavailable { .. })));
        }
    }

    fn bill_with_period(period: &str) -> Result<Bill, BillerError> {
        let body = format!(
            r#"{{"utility":"water","account":"310000005","bill_id":"W-1","version":1,"amount_due_fen":3150,
            "due_date":"2026-12-15",{period}"holder_masked":"张*明","address_masked":"上海市**区"}}"#
        );
        bill(Utility::Water, &AccountNo::from_trusted("310000005"), answered(200, &body))
    }

    /// The billing period is shown and printed as the biller names it; one that could not be
    /// printed is left off and the bill is still good to pay (never a refusal of the bill).
    #[test]
    fn a_bills_period_is_kept_when_printable_and_left_off_otherwise() {
        assert_eq!(bill_with_period(r#""period":" 2026-11 ","#).unwrap().period.as_deref(), Some("2026-11"));
        assert_eq!(bill_with_period("").unwrap().period, None, "a biller that names no period");
        assert_eq!(bill_with_period(r#""period":null,"#).unwrap().period, None);
        for odd in [r#""period":"","#, r#""period":"2026-11\u001b[2J","#, r#""period":"2026-\u202e11","#] {
            assert_eq!(bill_with_period(odd).unwrap().period, None, "{odd}");
        }
        let long = format!(r#""period":"{}","#, "月".repeat(25));
        let paid = bill_with_period(&long).unwrap();
        assert_eq!(
            (paid.period, paid.amount_due),
            (None, Fen(3150)),
            "a long period is left off, the bill kept"
        );
    }
}
