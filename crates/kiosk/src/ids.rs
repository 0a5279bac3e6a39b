//! Order numbers: `YZ` + a short kiosk tag + local date and time + three random digits, e.g.
//! `YZPD0001261123104205731` (≤ 32 upper-case letters and digits, as WeChat allows). Unique per
//! kiosk as long as two orders are not created in the same second with the same random digits;
//! the journal's unique key on `out_trade_no` turns that rare clash into a retry, never a reuse.

use chrono::{DateTime, FixedOffset};
use kiosk_core::OrderRef;
use rand::Rng;

/// The kiosk id reduced to what an order number may hold: letters and digits, at most 8.
pub fn kiosk_tag(kiosk_id: &str) -> String {
    let tag: String =
        kiosk_id.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    let start = tag.len().saturating_sub(8);
    tag[start..].to_string()
}

pub fn new_order_ref(kiosk_id: &str, local: DateTime<FixedOffset>) -> OrderRef {
    let random: u32 = rand::thread_rng().gen_range(0..1000);
    let text = format!("YZ{}{}{random:03}", kiosk_tag(kiosk_id), local.format("%y%m%d%H%M%S"));
    // The shape above is always valid: letters and digits, 17 to 25 characters.
    OrderRef::new(text).unwrap_or_else(|bad| panic!("order number shape is wrong: {bad}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_valid_and_tagged() {
        let local = DateTime::parse_from_rfc3339("2026-11-23T10:42:05+08:00").unwrap();
        let reference = new_order_ref("SH-PD-0001", local);
        assert!(reference.as_str().starts_with("YZSHPD0001261123104205"), "{reference}");
        assert_eq!(reference.as_str().len(), 25);
        assert_eq!(kiosk_tag("a-very-long-kiosk-name-9"), "OSKNAME9");
    }
}
