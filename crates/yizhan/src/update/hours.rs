//! A hall's opening hours (`"07:00-21:00"`, local time; `"22:00-06:00"` runs past midnight):
//! an update is installed only outside them, so nobody meets a kiosk restarting.

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpeningHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

impl OpeningHours {
    pub fn parse(text: &str) -> Result<OpeningHours, String> {
        let bad = || format!("\"{text}\" is not opening hours like \"07:00-21:00\"");
        let (open, close) = text.split_once('-').ok_or_else(bad)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad());
        let hours = OpeningHours { open: time(open)?, close: time(close)? };
        if hours.open == hours.close {
            return Err(format!("\"{text}\": opening and closing at the same time"));
        }
        Ok(hours)
    }

    /// Whether the hall is open at `time`.
    pub fn is_open(&self, time: NaiveTime) -> bool {
        if self.open < self.close {
            self.open <= time && time < self.close
        } else {
            time >= self.open || time < self.close
        }
    }
}

impl<'de> Deserialize<'de> for OpeningHours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        OpeningHours::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn open_by_day_and_past_midnight() {
        let day = OpeningHours::parse("07:00-21:00").unwrap();
        assert!(!day.is_open(at(6, 59)) && day.is_open(at(7, 0)) && day.is_open(at(20, 59)));
        assert!(!day.is_open(at(21, 0)) && !day.is_open(at(3, 0)));
        let night = OpeningHours::parse("22:00-06:00").unwrap();
        assert!(night.is_open(at(23, 0)) && night.is_open(at(5, 59)) && !night.is_open(at(6, 0)));
        assert!(!night.is_open(at(12, 0)));
    }

    #[test]
    fn nonsense_is_refused_with_the_expected_shape() {
        for bad in ["", "7-21", "07:00", "25:00-26:00", "07:00-07:00"] {
            assert!(OpeningHours::parse(bad).is_err(), "{bad}");
        }
        assert!(OpeningHours::parse("7:00").unwrap_err().contains("07:00-21:00"));
    }
}
