//! The household from one card (证件查户号): the customer reads their resident ID card and the
//! kiosk finds their accounts — the joint bill (电、水、气联合账单) first — without anyone typing
//! an account number.
//!
//! Only the holder digest ([`billers::holder_digest`]: SHA-256 of the ID number) leaves the
//! card: it is computed the moment the card is read, the card data is wiped at once (an
//! [`idcard::IdCard`] overwrites itself with zeros when dropped), the card is given back before
//! the biller is asked, and nothing of it is logged, not even the digest (ID numbers are few
//! enough to hash them all).

use super::Runtime;
use billers::BillerError;
pub use billers::{AccountKind, HouseholdAccount};
use idcard::{IdCardReader, IdError};
use kiosk_core::session::Text;
use tokio::time::Instant;

/// Why no household came back. `Display` is for staff logs; [`HouseholdError::message`]
/// is for the screen. Neither carries personal data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HouseholdError {
    /// This kiosk has no ID card reader (`[devices.idcard]`).
    #[error("this kiosk has no ID card reader")]
    NoReader,
    /// This kiosk has no joint-bill service (`[billers.joint]`) to ask; no card was read.
    #[error("this kiosk does not offer the joint bill (no [billers.joint] in the configuration)")]
    NotOffered,
    /// No card data: no card inserted in time, a read failure, the red button. The messages are
    /// the reader's own.
    #[error("the ID card could not be read: {detail}")]
    CardRead { message: Text, detail: String },
    /// The card could not be given back: it is still in the slot (the red button, or staff).
    #[error("the ID card could not be ejected: {detail}")]
    CardNotReturned { detail: String },
    /// The joint service knows no household of this card holder.
    #[error("the joint-bill service knows no household of this ID card holder")]
    UnknownHousehold,
    /// The joint service did not answer, or its answer could not be trusted or used.
    #[error("the joint-bill service could not be asked: {detail}")]
    BillerUnreachable { detail: String },
}

impl HouseholdError {
    /// What the person at the kiosk reads.
    pub fn message(&self) -> Text {
        match self {
            HouseholdError::NoReader => Text::new("This kiosk has no ID card reader. Please enter the account number on your bill."),
            HouseholdError::CardRead { message, .. } => message.clone(),
            HouseholdError::NotOffered => Text::new("This kiosk cannot look up accounts by ID card. Please enter the account number on your bill."),
            HouseholdError::CardNotReturned { .. } => Text::new("Your ID card could not be returned. Hold the red button for 3 seconds to get it back, or ask a member of staff."),
            HouseholdError::UnknownHousehold => BillerError::UnknownHolder.message(),
            HouseholdError::BillerUnreachable { .. } => Text::new("Your accounts cannot be looked up right now. Please try again later, or enter the account number on your bill."),
        }
    }

    fn card_read(error: &IdError) -> HouseholdError {
        HouseholdError::CardRead { message: error.message(), detail: error.to_string() }
    }
}

impl Runtime {
    /// Reads the ID card in the ID slot (waiting for it until `deadline`), gives it back, and asks
    /// the joint-bill service for the card holder's accounts, joint accounts first. The card is
    /// always ejected — read or not — and never kept; its data is wiped before the biller is
    /// asked. `deadline` bounds the card read only; the biller call has its own timeout.
    pub async fn find_household(&self, deadline: Instant) -> Result<Vec<HouseholdAccount>, HouseholdError> {
        let device = self.devices.idcard.as_ref().ok_or(HouseholdError::NoReader)?;
        // Never ask for a card that could not be used.
        let joint = self.billers.joint().ok_or(HouseholdError::NotOffered)?;
        let (read, returned) = {
            let mut reader = device.driver.lock().await;
            // The digest is all that outlives the card: the card is dropped (wiped) right here.
            let read = reader.read_card(deadline).await.and_then(|card| {
                billers::holder_digest(card.id_number().expose())
                    .ok_or(IdError::Text(idcard::TextError::BadIdFormat))
            });
            (read, give_back(&mut reader).await)
        };
        if let Err(error) = &returned {
            tracing::warn!(%error, "household lookup: the ID card could not be ejected");
        }
        let holder = match (read, returned) {
            (_, Err(error)) => return Err(HouseholdError::CardNotReturned { detail: error.to_string() }),
            (Err(error), Ok(())) => return Err(HouseholdError::card_read(&error)),
            (Ok(holder), Ok(())) => holder,
        };
        tracing::debug!("household lookup: ID card read and returned");
        let accounts = match joint.household(&holder).await {
            Ok(accounts) => accounts,
            Err(BillerError::UnknownHolder) => return Err(HouseholdError::UnknownHousehold),
            Err(error) => return Err(HouseholdError::BillerUnreachable { detail: error.to_string() }),
        };
        let mut accounts = self.usable(accounts)?;
        accounts.sort_by_key(|a| a.kind != AccountKind::Joint);
        tracing::info!(accounts = accounts.len(), "household lookup: found");
        Ok(accounts)
    }

    /// Each utility account must pass the rule its biller is configured with, as a typed one
    /// would; a reply naming one that does not is not used at all.
    fn usable(&self, accounts: Vec<HouseholdAccount>) -> Result<Vec<HouseholdAccount>, HouseholdError> {
        for found in &accounts {
            if let AccountKind::Utility(utility) = found.kind {
                let checked = self.billers.get(utility).account_rule().check(utility, found.account.as_str());
                if !checked.is_ok_and(|account| account == found.account) {
                    let detail =
                        format!("the joint-bill service listed a {utility} account its rule refuses");
                    tracing::warn!(%detail, "household lookup: reply not used");
                    return Err(HouseholdError::BillerUnreachable { detail });
                }
            }
        }
        Ok(accounts)
    }
}

/// Gives the card back: no further card is let in, and whatever is in the slot goes to the
/// gate. An empty slot (no card was inserted, or the red button already returned it) is fine.
async fn give_back(reader: &mut IdCardReader) -> Result<(), IdError> {
    if let Some(slot) = reader.slot() {
        // A card pushed in after the read gave up must not stay inside either; if this fails,
        // the eject below still returns whatever is in the slot.
        if let Err(error) = slot.forbid_entry().await {
            tracing::warn!(%error, "household lookup: ID slot entry could not be closed");
        }
    }
    match reader.eject().await {
        Ok(()) | Err(IdError::NoCard) => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_speaks_both_languages_without_personal_data() {
        let read = HouseholdError::card_read(&IdError::NoCard);
        assert_eq!(
            read.message().in_lang(catalogue::Lang::Zh),
            IdError::NoCard.message().in_lang(catalogue::Lang::Zh)
        );
        assert_eq!(
            read.message().in_lang(catalogue::Lang::En),
            IdError::NoCard.message().in_lang(catalogue::Lang::En)
        );
        for error in [
            HouseholdError::NoReader,
            HouseholdError::NotOffered,
            read,
            HouseholdError::CardNotReturned { detail: "ID slot: jammed".into() },
            HouseholdError::UnknownHousehold,
            HouseholdError::BillerUnreachable { detail: "HTTP 503".into() },
        ] {
            assert!(
                !error.message().in_lang(catalogue::Lang::Zh).is_empty()
                    && !error.message().in_lang(catalogue::Lang::En).is_empty(),
                "{error:?}"
            );
            assert!(
                error.message().in_lang(catalogue::Lang::Zh).chars().any(|c| c > '\u{2E80}'),
                "{error:?}"
            );
            assert!(error.message().in_lang(catalogue::Lang::En).is_ascii(), "{error:?}");
        }
        assert_eq!(
            HouseholdError::UnknownHousehold.message().in_lang(catalogue::Lang::Zh),
            "未查到与该身份证关联的户号，请输入账单上的户号。"
        );
    }
}
