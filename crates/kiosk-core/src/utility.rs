//! The three utilities the kiosk collects for, and their account numbers (户号).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Utility {
    Water,
    Power,
    Gas,
}

impl Utility {
    pub const ALL: [Utility; 3] = [Utility::Water, Utility::Power, Utility::Gas];

    /// The stable code used in config files, the CLI, URLs and the journal.
    pub fn code(self) -> &'static str {
        match self {
            Utility::Water => "water",
            Utility::Power => "power",
            Utility::Gas => "gas",
        }
    }

    /// The word customers know from their bills (水费, 电费, 燃气费), put into words where it is
    /// shown.
    pub fn name(self) -> catalogue::Text {
        match self {
            Utility::Water => catalogue::Text::new("Water"),
            Utility::Power => catalogue::Text::new("Electricity"),
            Utility::Gas => catalogue::Text::new("Gas"),
        }
    }
}

impl fmt::Display for Utility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown utility {0:?}: expected water, power or gas")]
pub struct UnknownUtility(pub String);

impl FromStr for Utility {
    type Err = UnknownUtility;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "water" => Ok(Utility::Water),
            "power" | "electricity" => Ok(Utility::Power),
            "gas" => Ok(Utility::Gas),
            other => Err(UnknownUtility(other.to_string())),
        }
    }
}

/// How a utility's account numbers look. Real Shanghai formats are not public (hardware.md §5.4),
/// so the rule is configuration; the defaults below are our simulators' documented formats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRule {
    pub min_len: usize,
    pub max_len: usize,
    pub check_digit: CheckDigit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckDigit {
    /// No check digit.
    None,
    /// The last digit is a Luhn (mod 10) check digit over the others.
    Luhn,
}

impl AccountRule {
    /// Our documented default per utility: water 9 digits, power 10, gas 10, each ending in a
    /// Luhn check digit so that a single mistyped digit is caught before any network call.
    pub fn default_for(utility: Utility) -> AccountRule {
        let len = match utility {
            Utility::Water => 9,
            Utility::Power | Utility::Gas => 10,
        };
        AccountRule { min_len: len, max_len: len, check_digit: CheckDigit::Luhn }
    }

    pub fn check(&self, utility: Utility, raw: &str) -> Result<AccountNo, AccountError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err(AccountError::Empty);
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AccountError::NotDigits);
        }
        if digits.len() < self.min_len || digits.len() > self.max_len {
            return Err(AccountError::WrongLength {
                utility,
                min: self.min_len,
                max: self.max_len,
                got: digits.len(),
            });
        }
        if self.check_digit == CheckDigit::Luhn && !luhn_valid(&digits) {
            return Err(AccountError::CheckDigit { utility });
        }
        Ok(AccountNo(digits))
    }
}

/// A validated account number (户号). Its `Debug` and `Display` are masked so that it can never
/// reach a log line in full by accident; `as_str` gives the digits to the biller client.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountNo(String);

impl AccountNo {
    /// For the biller client and the journal only: never for logs or screens.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps digits that a biller or the journal already holds, without re-validating.
    pub fn from_trusted(digits: impl Into<String>) -> AccountNo {
        AccountNo(digits.into())
    }

    /// "31****5678": the first two and the last four digits, for screens and receipts.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 2, 4)
    }
}

impl fmt::Debug for AccountNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountNo({})", self.masked())
    }
}

impl fmt::Display for AccountNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Keeps `head` leading and `tail` trailing characters and stars out the rest; a string too
/// short to keep both is starred out except for its last character.
pub fn mask_middle(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= head + tail {
        let keep = chars.len().min(1);
        let mut out: String = "*".repeat(chars.len() - keep);
        out.extend(&chars[chars.len() - keep..]);
        return out;
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// An account number as the eye reads it while it is typed: groups of four from the left
/// ("3100 0000 18"), so a repeated or missing digit shows.
pub fn group_digits(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("no account number was entered")]
    Empty,
    #[error("an account number has only digits")]
    NotDigits,
    #[error("a {utility} account number has {min}-{max} digits, this one has {got}")]
    WrongLength { utility: Utility, min: usize, max: usize, got: usize },
    #[error("this {utility} account number has a wrong check digit: please check it against the bill")]
    CheckDigit { utility: Utility },
}

/// True when the last digit is the Luhn check digit of the others.
pub fn luhn_valid(digits: &str) -> bool {
    let Some((body, last)) = digits.split_at_checked(digits.len().saturating_sub(1)) else {
        return false;
    };
    match (luhn_check_digit(body), last.bytes().next()) {
        (Some(expected), Some(got)) => expected == got - b'0',
        _ => false,
    }
}

/// The Luhn digit to append to `body`, or `None` if `body` is not all digits.
pub fn luhn_check_digit(body: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, b) in body.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    Some(((10 - sum % 10) % 10) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_account_is_shown_in_groups_of_four() {
        assert_eq!(group_digits("310000005"), "3100 0000 5");
        assert_eq!(group_digits("3100000018"), "3100 0000 18");
        assert_eq!(group_digits("31****0018"), "31** **00 18");
        assert_eq!(group_digits("310"), "310");
        assert_eq!(group_digits(""), "");
    }

    #[test]
    fn luhn_matches_the_textbook_example() {
        // The classic example 7992739871 has check digit 3.
        assert_eq!(luhn_check_digit("7992739871"), Some(3));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn default_rules_check_length_and_digit() {
        let power = AccountRule::default_for(Utility::Power);
        assert_eq!(power.check(Utility::Power, "310 000 0011").unwrap().as_str(), "3100000011");
        assert_eq!(
            power.check(Utility::Power, "3100000012"),
            Err(AccountError::CheckDigit { utility: Utility::Power })
        );
        assert!(matches!(
            power.check(Utility::Power, "31000"),
            Err(AccountError::WrongLength { got: 5, .. })
        ));
        assert_eq!(power.check(Utility::Power, "31000a0011"), Err(AccountError::NotDigits));
        assert_eq!(power.check(Utility::Power, "  "), Err(AccountError::Empty));
    }

    #[test]
    fn account_numbers_are_masked_everywhere_but_as_str() {
        let acc = AccountNo::from_trusted("3100000017");
        assert_eq!(acc.masked(), "31****0017");
        assert_eq!(format!("{acc}"), "31****0017");
        assert_eq!(format!("{acc:?}"), "AccountNo(31****0017)");
        assert_eq!(mask_middle("123", 2, 4), "**3");
    }
}
