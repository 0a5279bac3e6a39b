//! Personal text held so it is wiped: [`Secret`], and the ID number with its GB 11643 check digit.

use super::{Date, Sex, TextError};
use std::fmt;

/// Text held for one session: wiped when dropped, never shown whole by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Holds `s` (its bytes are moved, not copied).
    pub fn new(s: String) -> Secret {
        Secret(s.into_bytes())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Overwrites the bytes with zeros; returns (bytes wiped, whether they all read zero after).
    pub(super) fn wipe(&mut self) -> (usize, bool) {
        super::wipe::wipe_bytes(&mut self.0)
    }

    /// The first character and one `*` for each further character ("张*", "欧阳**").
    pub fn masked_head(&self) -> String {
        let mut chars = self.as_str().chars();
        let mut out: String = chars.next().into_iter().collect();
        out.extend(chars.map(|_| '*'));
        out
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} chars)", self.as_str().chars().count())
    }
}

/// 公民身份号码: 17 digits and an ISO 7064 MOD 11-2 check character, checked on construction.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(pub(super) Secret);

impl IdNumber {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

    /// The check character of 17 leading digits (ISO 7064 MOD 11-2): `None` unless 17 ASCII digits.
    pub fn check_char(first17: &str) -> Option<char> {
        let b = first17.as_bytes();
        if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let sum: u32 = b.iter().zip(Self::WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
        Some(b"10X98765432"[(sum % 11) as usize] as char)
    }

    /// Checks format and check character (a lower-case `x` is accepted and stored upper-case).
    pub fn parse(s: &str) -> Result<IdNumber, TextError> {
        let b = s.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(TextError::BadIdFormat);
        }
        let last = (b[17] as char).to_ascii_uppercase();
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(TextError::BadIdFormat);
        }
        if Self::check_char(&s[..17]) != Some(last) {
            return Err(TextError::BadIdChecksum);
        }
        let mut owned = s[..17].to_string();
        owned.push(last);
        Ok(IdNumber(Secret::new(owned)))
    }

    /// The whole number. Handle with care: never log it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The birth date in digits 7–14.
    pub fn birth_date(&self) -> Option<Date> {
        self.expose().get(6..14).and_then(Date::parse_yyyymmdd)
    }

    /// Sex from digit 17 (odd male, even female).
    pub fn sex(&self) -> Option<Sex> {
        let d = self.expose().as_bytes().get(16)?;
        Some(if (d - b'0') % 2 == 1 { Sex::Male } else { Sex::Female })
    }

    /// First 4 and last 4 characters, 10 stars between: "3101**********1234".
    pub fn masked(&self) -> String {
        let s = self.expose();
        match (s.get(..4), s.get(s.len().saturating_sub(4)..)) {
            (Some(head), Some(tail)) if s.len() == 18 => format!("{head}**********{tail}"),
            _ => "*".repeat(s.len()),
        }
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}
