//! Dates of the text block: birth and issue (`YYYYMMDD`), and the end of validity (a date or 长期).

use chrono::{Datelike, NaiveDate};
use std::fmt;

/// A calendar date (`YYYYMMDD` on the card): chrono's `NaiveDate`, kept to the years a card
/// can carry.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

impl Date {
    /// What a wiped date reads as: no one's birthday (chrono's earliest date).
    pub(super) const WIPED: Date = Date(NaiveDate::MIN);

    /// A date, if it exists in the Gregorian calendar (years 1800–2199).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if !(1800..=2199).contains(&year) {
            return None;
        }
        NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day)).map(Date)
    }

    /// Parses 8 ASCII digits `YYYYMMDD`.
    pub fn parse_yyyymmdd(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = |r: std::ops::Range<usize>| b[r].iter().fold(0u16, |a, d| a * 10 + u16::from(d - b'0'));
        Date::new(n(0..4), n(4..6) as u8, n(6..8) as u8)
    }

    /// Year.
    pub fn year(self) -> u16 {
        // 1800–2199 by construction.
        self.0.year() as u16
    }

    /// Month, 1–12.
    pub fn month(self) -> u8 {
        self.0.month() as u8
    }

    /// Day of month.
    pub fn day(self) -> u8 {
        self.0.day() as u8
    }

    /// `YYYYMMDD`.
    pub fn to_yyyymmdd(self) -> String {
        self.0.format("%Y%m%d").to_string()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// 有效期截止: a date or 长期 (no expiry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValidTo {
    /// Expires on this date.
    Date(Date),
    /// 长期: valid for life.
    LongTerm,
}

/// "2031-06-11", or "长期 Long-term": what a person reads on the card.
impl fmt::Display for ValidTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidTo::Date(date) => fmt::Display::fmt(date, f),
            ValidTo::LongTerm => f.write_str(&catalogue::bilingual("Long-term", " ")),
        }
    }
}
