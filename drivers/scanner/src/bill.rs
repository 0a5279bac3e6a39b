//! Our own utility-bill barcode format, **YZB v1**, until a biller gives us theirs (hardware.md §5.4:
//! real Shanghai formats are not public).
//!
//! ```text
//!   Y Z B   U   A A A A A A A A A A   C
//!   ─────   ─   ───────────────────   ─
//!   marker  │   account number (户号)  check digit: Luhn over U + account
//!           utility: 1 water, 2 power (electricity), 3 gas
//! ```
//!
//! - The account number follows that utility's [`AccountRule`] (by default water 9 digits, power and
//!   gas 10, each ending in its own Luhn digit), so an account read from a bill is checked exactly as
//!   a typed one is.
//! - The final Luhn digit covers the utility digit too: a misread `U` would otherwise send a payment
//!   to the wrong biller with a valid-looking account.
//! - Printed as Code 128: `YZB` in code set B, the digits in code set C (11 or 12 digits).
//!
//! Example: power account `3100000011` → body `23100000011`, Luhn digit 8 → `YZB231000000118`.
//!
//! Bills that carry only the bare account number are also accepted when the digits fit exactly one
//! utility's rule (see [`crate::classify::ClassifierConfig::bare_accounts`]).

use kiosk_core::utility::{luhn_check_digit, luhn_valid, AccountRule};
use kiosk_core::{AccountNo, Utility};

/// The marker every YZB bill barcode starts with.
pub const MARKER: &str = "YZB";

/// The digit that names a utility in a YZB barcode.
pub fn utility_digit(utility: Utility) -> char {
    match utility {
        Utility::Water => '1',
        Utility::Power => '2',
        Utility::Gas => '3',
    }
}

/// The utility a YZB digit names, if any.
pub fn utility_from_digit(digit: char) -> Option<Utility> {
    match digit {
        '1' => Some(Utility::Water),
        '2' => Some(Utility::Power),
        '3' => Some(Utility::Gas),
        _ => None,
    }
}

/// Why a text that starts with [`MARKER`] is not a valid YZB barcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum BillCodeError {
    #[error("a bill barcode has only digits after YZB")]
    NotDigits,
    #[error("unknown utility digit in a bill barcode")]
    UnknownUtility,
    #[error("the bill barcode's check digit is wrong")]
    CheckDigit,
    #[error("the account number in the bill barcode does not fit the {0} account rule")]
    Account(Utility),
}

/// Renders a YZB barcode text for an account (for tests, the simulator and printed bills).
pub fn encode(utility: Utility, account: &AccountNo) -> String {
    let mut body = String::with_capacity(account.as_str().len() + 1);
    body.push(utility_digit(utility));
    body.push_str(account.as_str());
    let check = luhn_check_digit(&body).unwrap_or(0);
    format!("{MARKER}{body}{check}")
}

/// Parses a YZB barcode (the text after trimming). `rule_for` gives the account rule per utility.
pub fn parse(
    text: &str,
    rule_for: impl Fn(Utility) -> AccountRule,
) -> Result<(Utility, AccountNo), BillCodeError> {
    let body = text.strip_prefix(MARKER).unwrap_or(text);
    if body.len() < 3 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BillCodeError::NotDigits);
    }
    let utility = body.chars().next().and_then(utility_from_digit).ok_or(BillCodeError::UnknownUtility)?;
    if !luhn_valid(body) {
        return Err(BillCodeError::CheckDigit);
    }
    let account = &body[1..body.len() - 1];
    let account = rule_for(utility).check(utility, account).map_err(|_| BillCodeError::Account(utility))?;
    Ok((utility, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example_round_trips() {
        let account = AccountNo::from_trusted("3100000011");
        let text = encode(Utility::Power, &account);
        assert_eq!(text, "YZB231000000118");
        let (utility, parsed) = parse(&text, AccountRule::default_for).unwrap();
        assert_eq!(utility, Utility::Power);
        assert_eq!(parsed.as_str(), "3100000011");
    }

    #[test]
    fn a_misread_utility_digit_is_caught() {
        // Same account, utility digit changed 2 → 3 (gas), check digit kept: must fail.
        assert_eq!(parse("YZB331000000118", AccountRule::default_for), Err(BillCodeError::CheckDigit));
        assert_eq!(parse("YZB931000000118", AccountRule::default_for), Err(BillCodeError::UnknownUtility));
        assert_eq!(parse("YZB2A1000000118", AccountRule::default_for), Err(BillCodeError::NotDigits));
    }
}
