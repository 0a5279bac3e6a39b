//! Money is an integer count of fen (0.01 yuan). Floats never touch an amount; formatting and
//! parsing as yuan happen only at the edges (screens, receipts, Alipay's `total_amount`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Sub};

/// An amount in fen. Signed so that differences can be expressed, but every amount the kiosk
/// charges, writes off or refunds is positive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount {0:?} is not a yuan amount with at most two decimals")]
    BadYuan(String),
    #[error("amount is out of range")]
    Overflow,
}

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    /// Sum of amounts, `None` on overflow.
    pub fn sum<I: IntoIterator<Item = Fen>>(items: I) -> Option<Fen> {
        items.into_iter().try_fold(Fen::ZERO, |acc, f| acc.checked_add(f))
    }

    /// "12.34": the form Alipay's `total_amount` and our receipts use.
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Parses "12", "12.3" or "12.34" (no sign, no exponent, no thousands separators).
    pub fn parse_yuan(text: &str) -> Result<Fen, MoneyError> {
        let bad = || MoneyError::BadYuan(text.to_string());
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (text.contains('.') && frac.is_empty())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let frac_fen: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
            _ => frac.parse::<i64>().map_err(|_| bad())?,
        };
        whole.checked_mul(100).and_then(|f| f.checked_add(frac_fen)).map(Fen).ok_or(MoneyError::Overflow)
    }
}

impl fmt::Display for Fen {
    /// "¥12.34"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.to_yuan_string())
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, rhs: Fen) -> Fen {
        Fen(self.0 + rhs.0)
    }
}

impl Sub for Fen {
    type Output = Fen;
    fn sub(self, rhs: Fen) -> Fen {
        Fen(self.0 - rhs.0)
    }
}

/// A channel's fee (手续费) in thousandths of a fen. Fees are a rate of the amount, so they fall
/// between fen: WeChat states them to 0.00001 yuan (one thousandth of a fen), Alipay and the
/// acquirers to the fen. Signed: a refund gives part of the fee back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MilliFen(pub i64);

impl MilliFen {
    pub const ZERO: MilliFen = MilliFen(0);

    pub fn of(fen: Fen) -> MilliFen {
        MilliFen(fen.0.saturating_mul(1_000))
    }

    /// Parses a signed yuan amount with up to five decimals ("0.01890", "-0.38", "2").
    pub fn parse_yuan(text: &str) -> Result<MilliFen, MoneyError> {
        let bad = || MoneyError::BadYuan(text.to_string());
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let digits_only = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || frac.len() > 5 || !digits_only(frac) {
            return Err(bad());
        }
        if digits.contains('.') && frac.is_empty() {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        // Five decimals of a yuan are thousandths of a fen.
        let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<5}").parse().map_err(|_| bad())? };
        let value =
            whole.checked_mul(100_000).and_then(|w| w.checked_add(frac)).ok_or(MoneyError::Overflow)?;
        Ok(MilliFen(if negative { -value } else { value }))
    }

    /// "0.01890": yuan with five decimals, as WeChat writes fees.
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:05}", abs / 100_000, abs % 100_000)
    }

    pub fn checked_add(self, other: MilliFen) -> Option<MilliFen> {
        self.0.checked_add(other.0).map(MilliFen)
    }
}

impl fmt::Display for MilliFen {
    /// "¥0.01890"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.to_yuan_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_yuan_with_two_decimals() {
        assert_eq!(Fen(0).to_yuan_string(), "0.00");
        assert_eq!(Fen(5).to_yuan_string(), "0.05");
        assert_eq!(Fen(12345).to_yuan_string(), "123.45");
        assert_eq!(Fen(-250).to_yuan_string(), "-2.50");
        assert_eq!(Fen(8650).to_string(), "¥86.50");
    }

    #[test]
    fn parses_yuan_strictly() {
        assert_eq!(Fen::parse_yuan("86.5"), Ok(Fen(8650)));
        assert_eq!(Fen::parse_yuan("86.50"), Ok(Fen(8650)));
        assert_eq!(Fen::parse_yuan("0.01"), Ok(Fen(1)));
        assert_eq!(Fen::parse_yuan("12"), Ok(Fen(1200)));
        for bad in ["", ".5", "1.", "1.234", "-1", "1e3", "1,000", " 1", "١٢"] {
            assert!(Fen::parse_yuan(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(Fen::parse_yuan("99999999999999999999"), Err(MoneyError::Overflow));
    }

    #[test]
    fn fees_parse_and_print_to_a_thousandth_of_a_fen() {
        assert_eq!(MilliFen::parse_yuan("0.01890"), Ok(MilliFen(1890)));
        assert_eq!(MilliFen::parse_yuan("-0.38"), Ok(MilliFen(-38_000)));
        assert_eq!(MilliFen::parse_yuan("2"), Ok(MilliFen(200_000)));
        assert_eq!(MilliFen::parse_yuan("0.1"), Ok(MilliFen(10_000)));
        for bad in ["", ".5", "1.", "0.000001", "--1", "1e3", " 1", "-"] {
            assert!(MilliFen::parse_yuan(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(MilliFen(1890).to_yuan_string(), "0.01890");
        assert_eq!(MilliFen(-38_000).to_yuan_string(), "-0.38000");
        assert_eq!(MilliFen::of(Fen(19)), MilliFen(19_000));
    }

    proptest::proptest! {
        #[test]
        fn fees_round_trip(milli in -i64::MAX / 2..i64::MAX / 2) {
            proptest::prop_assert_eq!(MilliFen::parse_yuan(&MilliFen(milli).to_yuan_string()), Ok(MilliFen(milli)));
        }


        #[test]
        fn yuan_round_trips(fen in 0i64..=i64::MAX / 100) {
            proptest::prop_assert_eq!(Fen::parse_yuan(&Fen(fen).to_yuan_string()), Ok(Fen(fen)));
        }
    }
}
