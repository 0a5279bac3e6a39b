//! Payment channels and the routing of a scanned payment code (付款码) to its channel by prefix
//! (payments.md §3.1, hardware.md §5.3).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    WeChat,
    Alipay,
    UnionPay,
    /// A bank card through the certified payment terminal (the card drivers issue).
    BankCard,
    /// Notes taken by the kiosk's banknote acceptor (drivers/cash): the money is in the cash box
    /// before the payment exists, so nothing is sent, reversed or refunded through a channel.
    Cash,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::WeChat => "wechat",
            Channel::Alipay => "alipay",
            Channel::UnionPay => "unionpay",
            Channel::BankCard => "bankcard",
            Channel::Cash => "cash",
        }
    }

    /// 微信支付, 支付宝, 云闪付, 银行卡.
    pub fn name(self) -> catalogue::Text {
        match self {
            Channel::WeChat => catalogue::Text::new("WeChat Pay"),
            Channel::Alipay => catalogue::Text::new("Alipay"),
            Channel::UnionPay => catalogue::Text::new("UnionPay QuickPass"),
            Channel::BankCard => catalogue::Text::new("Bank card payment"),
            Channel::Cash => catalogue::Text::new("Cash"),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "wechat" => Ok(Channel::WeChat),
            "alipay" => Ok(Channel::Alipay),
            "unionpay" => Ok(Channel::UnionPay),
            "bankcard" => Ok(Channel::BankCard),
            "cash" => Ok(Channel::Cash),
            other => {
                Err(format!("unknown channel {other:?}: expected wechat, alipay, unionpay, bankcard or cash"))
            }
        }
    }
}

/// A customer's payment code: a single-use bearer token. Its `Debug`/`Display` never show it;
/// it is never journaled (only its digest is), and it is dropped as soon as the pay call is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentCode {
    channel: Channel,
    digits: String,
}

impl PaymentCode {
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// The code itself, for the pay request only.
    pub fn expose(&self) -> &str {
        &self.digits
    }

    /// SHA-256 of the code, hex: lets the journal and logs tell two scans apart without holding
    /// the token.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.digits.as_bytes()))
    }

    /// "1388********1234": enough for a person to recognise, never enough to pay with.
    pub fn masked(&self) -> String {
        crate::utility::mask_middle(&self.digits, 4, 4)
    }
}

impl fmt::Debug for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentCode({}, {})", self.channel, self.masked())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("nothing was scanned")]
    Empty,
    #[error("this is not a payment code: a payment code has only digits")]
    NotDigits,
    #[error("this code is not a WeChat, Alipay or UnionPay payment code ({len} digits starting {prefix})")]
    UnknownScheme { len: usize, prefix: String },
}

/// The order id UnionPay's ACP accepts for a number of ours: 8–32 letters or digits as they are;
/// anything else (our refund numbers can reach 34 characters) as 32 hex digits of its SHA-256,
/// stable so that retries and the acquirer's file name the same transaction.
pub fn acp_order_id(text: &str) -> String {
    if (8..=32).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        text.to_string()
    } else {
        hex::encode_upper(&Sha256::digest(text.as_bytes())[..16])
    }
}

/// Classifies a scanned text as a payment code. Order (hardware.md §5.3): strip CR/LF/white space →
/// all digits? → WeChat (18 digits, 10–15) → Alipay (16–24 digits, 25–30) → UnionPay (19 digits, 62).
///
/// payments.md §3.1 writes UnionPay as "62 + 19 digits"; hardware.md's "62 + 2-digit product id +
/// 15 random" (19 digits in all) is the more precise reading and is what we route.
pub fn route_payment_code(scanned: &str) -> Result<PaymentCode, CodeError> {
    let digits: String = scanned.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() {
        return Err(CodeError::Empty);
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::NotDigits);
    }
    let prefix: u32 = digits[..2.min(digits.len())].parse().unwrap_or(0);
    let len = digits.len();
    let channel = if len == 18 && (10..=15).contains(&prefix) {
        Channel::WeChat
    } else if (16..=24).contains(&len) && (25..=30).contains(&prefix) {
        Channel::Alipay
    } else if len == 19 && prefix == 62 {
        Channel::UnionPay
    } else {
        return Err(CodeError::UnknownScheme { len, prefix: digits[..2.min(len)].to_string() });
    };
    Ok(PaymentCode { channel, digits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_prefix_and_length() {
        assert_eq!(route_payment_code("134567890123456789").unwrap().channel(), Channel::WeChat);
        assert_eq!(route_payment_code("154567890123456789\r\n").unwrap().channel(), Channel::WeChat);
        assert_eq!(route_payment_code("2845678901234567").unwrap().channel(), Channel::Alipay);
        assert_eq!(route_payment_code("304567890123456789012345").unwrap().channel(), Channel::Alipay);
        assert_eq!(route_payment_code("6212345678901234567").unwrap().channel(), Channel::UnionPay);
    }

    #[test]
    fn rejects_everything_else_with_a_reason() {
        assert_eq!(route_payment_code(""), Err(CodeError::Empty));
        assert_eq!(route_payment_code("https://example/bill"), Err(CodeError::NotDigits));
        // 17 digits starting 13: too short for WeChat.
        assert!(matches!(
            route_payment_code("13456789012345678"),
            Err(CodeError::UnknownScheme { len: 17, .. })
        ));
        // 18 digits starting 16: no scheme.
        assert!(route_payment_code("164567890123456789").is_err());
        // A bill's account barcode.
        assert!(route_payment_code("3100000017").is_err());
        // 25 digits starting 28: too long for Alipay.
        assert!(route_payment_code("2845678901234567890123456").is_err());
    }

    #[test]
    fn never_prints_the_code() {
        let code = route_payment_code("134567890123456789").unwrap();
        let shown = format!("{code:?}");
        assert!(!shown.contains("134567890123456789"), "{shown}");
        assert_eq!(code.masked(), "1345**********6789");
        assert_eq!(code.digest().len(), 64);
    }
}
