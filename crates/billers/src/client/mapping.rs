//! Pure mapping from an [`Exchange`] to the answer the payment core understands. Each function
//! gives every possible exchange exactly one meaning; the rule throughout is that only a signed,
//! well-formed, on-topic reply can be definite, and everything else is "unknown" (payments.md R3).

use super::transport::Exchange;
use super::{AccountKind, BillerError, HouseholdAccount, PrepaidCard};
use crate::wire::{
    self, BillDto, CardWrittenDone, ErrorBody, HouseholdDto, JointBillDto, PrepaidCardDto, PurchaseDone,
    StatusDto, WriteOffDone,
};
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
/// utility's account rule, with counts that make sense, is believed.
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
        Err(e) => return Err(bad_reply(&format!("the card's account number: {e}"))),
    };
    if dto.loaded_seq > dto.issued_seq {
        return Err(bad_reply("the meter has loaded more purchases than were issued"));
    }
    Ok(PrepaidCard {
        card_no: dto.card_no,
        account,
        holder_masked: dto.holder_masked,
        issued_seq: dto.issued_seq,
        loaded_seq: dto.loaded_seq,
    })
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
                Err(e) => return Err(bad_reply(&format!("a joint account number: {e}"))),
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

pub(crate) fn write_off(reference: &str, exchange: Exchange) -> WriteOffReply {
    match done_or_refused::<WriteOffDone>(reference, exchange) {
        Ok(done) if done.reference == reference && !done.biller_txn.is_empty() => {
            WriteOffReply::WrittenOff { biller_txn: done.biller_txn, card: None }
        }
        Ok(_) => WriteOffReply::Unknown { detail: "the reply is for another reference".into() },
        Err(Refusal::Definite(e)) => WriteOffReply::Rejected { code: e.code, message: e.message },
        Err(Refusal::Unknown(detail)) => WriteOffReply::Unknown { detail },
    }
}

pub(crate) fn purchase(reference: &str, purchase_count: u32, exchange: Exchange) -> WriteOffReply {
    match done_or_refused::<PurchaseDone>(reference, exchange) {
        Ok(done) if done.reference != reference || done.biller_txn.is_empty() => {
            WriteOffReply::Unknown { detail: "the reply is for another reference".into() }
        }
        Ok(done) if Some(done.purchase_seq) != purchase_count.checked_add(1) => WriteOffReply::Unknown {
            detail: format!(
                "purchase sequence {} does not follow the card's {purchase_count}",
                done.purchase_seq
            ),
        },
        Ok(done) => match card_data(done.purchase_seq, done.write_data_hex) {
            Some(card) => WriteOffReply::WrittenOff { biller_txn: done.biller_txn, card: Some(card) },
            None => WriteOffReply::Unknown { detail: "the card write data is not hex".into() },
        },
        Err(Refusal::Definite(e)) => WriteOffReply::Rejected { code: e.code, message: e.message },
        Err(Refusal::Unknown(detail)) => WriteOffReply::Unknown { detail },
    }
}

/// What a reference is known as, for a write-off (`prepaid: false`) or a card purchase
/// (`prepaid: true`). A purchase is only written off *with* its card data: without it the card
/// cannot be written, so such an answer is unknown.
pub(crate) fn status(reference: &str, prepaid: bool, exchange: Exchange) -> WriteOffStatus {
    let dto = match exchange {
        Exchange::Answered { status: 200, body } => match parse::<StatusDto>(&body) {
            Ok(dto) => dto,
            Err(detail) => return WriteOffStatus::Unknown { detail },
        },
        other => return WriteOffStatus::Unknown { detail: unknown_detail(other) },
    };
    match dto {
        StatusDto::WrittenOff { reference: r, biller_txn, card }
            if r == reference && !biller_txn.is_empty() =>
        {
            match card.map(|c| card_data(c.purchase_seq, c.write_data_hex)) {
                None if prepaid => WriteOffStatus::Unknown {
                    detail: "the purchase is written off without card write data".into(),
                },
                None => WriteOffStatus::WrittenOff { biller_txn, card: None },
                Some(Some(card)) => WriteOffStatus::WrittenOff { biller_txn, card: Some(card) },
                Some(None) => WriteOffStatus::Unknown { detail: "the card write data is not hex".into() },
            }
        }
        StatusDto::Rejected { reference: r, code, message } if r == reference && !code.is_empty() => {
            WriteOffStatus::Rejected { code, message }
        }
        StatusDto::NotFound { reference: r } if r == reference => WriteOffStatus::NotFound,
        _ => WriteOffStatus::Unknown { detail: "the status is for another reference".into() },
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

pub(crate) fn reconciliation(exchange: Exchange) -> Result<Vec<crate::recon::ReconRow>, BillerError> {
    match exchange {
        Exchange::Answered { status: 200, body } => {
            let text = String::from_utf8(body).map_err(|_| bad_reply("the file is not UTF-8"))?;
            crate::recon::parse(&text).map(|file| file.rows).map_err(|e| bad_reply(&e.to_string()))
        }
        Exchange::Answered { status: 404, .. } => {
            Err(BillerError::Unavailable { detail: "the file for this date is not available (yet)".into() })
        }
        other => Err(fetch_failure(other)),
    }
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
        holder_masked: dto.holder_masked,
        address_masked: dto.address_masked,
        recent_payments: dto
            .recent_payments
            .into_iter()
            .map(|p| PastPayment { date: p.date, amount: Fen(p.amount_fen), channel: p.channel })
            .collect(),
    })
}

fn card_data(purchase_seq: u32, data_hex: String) -> Option<CardWriteData> {
    let valid = purchase_seq > 0 && !data_hex.is_empty() && hex::decode(&data_hex).is_ok();
    valid.then_some(CardWriteData { purchase_seq, data_hex })
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("the reply is not the expected JSON: {e}"))
}

fn bad_reply(detail: &str) -> BillerError {
    BillerError::BadReply { detail: detail.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, body: &str) -> Exchange {
        Exchange::Answered { status, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn write_off_refusals_are_definite_only_when_signed_and_coded() {
        let rejected =
            write_off("R-1", answered(422, r#"{"code":"BILL_CHANGED","message":"stale","reference":"R-1"}"#));
        assert_eq!(
            rejected,
            WriteOffReply::Rejected { code: "BILL_CHANGED".into(), message: "stale".into() }
        );
        let bad_request = write_off("R-1", answered(400, r#"{"code":"BAD_REQUEST","reference":"R-1"}"#));
        assert!(matches!(bad_request, WriteOffReply::Rejected { .. }));
        for unknown in [
            answered(422, "not json"),
            answered(422, r#"{"code":"","reference":"R-1"}"#),
            answered(409, r#"{"code":"REFERENCE_CONFLICT"}"#),
            answered(401, r#"{"code":"BAD_SIGNATURE"}"#),
            answered(200, r#"{"result":"written_off","reference":"R-2","biller_txn":"T"}"#),
            answered(200, "{}"),
            Exchange::ServerError { status: 503 },
            Exchange::NoAnswer { detail: "timed out".into() },
            Exchange::Untrusted { detail: "bad signature".into() },
        ] {
            assert!(
                matches!(write_off("R-1", unknown.clone()), WriteOffReply::Unknown { .. }),
                "{unknown:?}"
            );
        }
        let done = answered(200, r#"{"result":"already_written_off","reference":"R-1","biller_txn":"T1"}"#);
        assert_eq!(write_off("R-1", done), WriteOffReply::WrittenOff { biller_txn: "T1".into(), card: None });
    }

    #[test]
    fn a_refusal_must_name_our_reference_and_404_is_never_definite() {
        for (label, exchange) in [
            ("no reference", answered(422, r#"{"code":"BILL_CHANGED","message":"stale"}"#)),
            ("another reference", answered(422, r#"{"code":"BILL_CHANGED","reference":"R-2"}"#)),
            ("400 for another", answered(400, r#"{"code":"BAD_REQUEST","reference":"R-2"}"#)),
            ("404", answered(404, r#"{"code":"UNKNOWN_ACCOUNT","reference":"R-1"}"#)),
        ] {
            assert!(matches!(write_off("R-1", exchange.clone()), WriteOffReply::Unknown { .. }), "{label}");
            assert!(matches!(purchase("R-1", 1, exchange), WriteOffReply::Unknown { .. }), "{label}");
        }
        let named = answered(422, r#"{"code":"LAST_PURCHASE_NOT_LOADED","reference":"R-1"}"#);
        assert!(matches!(purchase("R-1", 1, named), WriteOffReply::Rejected { .. }));
    }

    #[test]
    fn a_purchase_status_without_card_data_is_unknown() {
        let bare = answered(200, r#"{"status":"written_off","reference":"R","biller_txn":"G1"}"#);
        assert!(matches!(status("R", true, bare.clone()), WriteOffStatus::Unknown { .. }));
        assert_eq!(
            status("R", false, bare),
            WriteOffStatus::WrittenOff { biller_txn: "G1".into(), card: None }
        );
        let card = r#""card":{"purchase_seq":5,"write_data_hex":"0a0b"}"#;
        let full =
            answered(200, &format!(r#"{{"status":"written_off","reference":"R","biller_txn":"G1",{card}}}"#));
        let data = Some(CardWriteData { purchase_seq: 5, data_hex: "0a0b".into() });
        assert_eq!(
            status("R", true, full),
            WriteOffStatus::WrittenOff { biller_txn: "G1".into(), card: data }
        );
    }

    #[test]
    fn a_purchase_must_follow_the_card_counter_and_carry_hex() {
        let body = |seq, data: &str| {
            let fields = format!(r#""purchase_seq":{seq},"write_data_hex":"{data}""#);
            format!(r#"{{"result":"written_off","reference":"R","biller_txn":"G1",{fields}}}"#)
        };
        let ok = purchase("R", 4, answered(200, &body(5, "0a0b")));
        let card = Some(CardWriteData { purchase_seq: 5, data_hex: "0a0b".into() });
        assert_eq!(ok, WriteOffReply::WrittenOff { biller_txn: "G1".into(), card });
        assert!(matches!(purchase("R", 4, answered(200, &body(7, "0a0b"))), WriteOffReply::Unknown { .. }));
        assert!(matches!(purchase("R", 4, answered(200, &body(5, "zz"))), WriteOffReply::Unknown { .. }));
        assert!(matches!(
            purchase("R", u32::MAX, answered(200, &body(0, "00"))),
            WriteOffReply::Unknown { .. }
        ));
    }

    #[test]
    fn status_replies_must_name_our_reference() {
        let nf = answered(200, r#"{"status":"not_found","reference":"R"}"#);
        assert_eq!(status("R", false, nf.clone()), WriteOffStatus::NotFound);
        assert!(matches!(status("OTHER", false, nf), WriteOffStatus::Unknown { .. }));
        assert!(matches!(status("R", false, answered(404, "{}")), WriteOffStatus::Unknown { .. }));
        let rejected = answered(200, r#"{"status":"rejected","reference":"R","code":"ACCOUNT_CLOSED"}"#);
        assert!(matches!(status("R", true, rejected), WriteOffStatus::Rejected { .. }));
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

    #[test]
    fn a_card_lookup_is_believed_only_about_this_card_and_a_valid_account() {
        let gas = AccountRule::default_for(Utility::Gas);
        let card = |card_no: &str, account: &str, issued: u32, loaded: u32| {
            let fields = format!(r#""holder_masked":"刘*国","issued_seq":{issued},"loaded_seq":{loaded}"#);
            answered(200, &format!(r#"{{"card_no":"{card_no}","account":"{account}",{fields}}}"#))
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
}
