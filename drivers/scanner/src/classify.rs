//! What a scan is: a payment code, a utility bill barcode, or garbage (hardware.md §5.3–§5.4).
//!
//! Order: strip an AIM symbology identifier (`]Q1`, `]C0`, … if the engine sends one) and
//! surrounding white space → payment code via [`kiosk_core::route_payment_code`] (the one place that
//! knows WeChat/Alipay/UnionPay prefixes) → YZB bill barcode ([`crate::bill`]) → a bare account
//! number that fits exactly the rules configured → the fleet console's pairing QR → garbage. Garbage carries a reason a person can act
//! on (zh/en) and never the scanned text, which may be someone's token or personal data.

use crate::bill::{self, BillCodeError};
use catalogue::Text;
use kiosk_core::utility::AccountRule;
use kiosk_core::{route_payment_code, AccountNo, CodeError, PaymentCode, Utility};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The meaning of one scan.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scanned {
    /// A customer's WeChat / Alipay / UnionPay payment code (bearer token; `Debug` is masked).
    PaymentCode(PaymentCode),
    /// A utility bill's account barcode. `utility` is `None` when a bare account number fits several
    /// utilities' rules: the screen then asks which bill it is.
    BillBarcode { utility: Option<Utility>, account: AccountNo },
    /// The fleet console's pairing QR (`yizhan-pair:…`), for the staff panel's "pair with the
    /// hub". It is neither a payment code nor a bill: anywhere else it is refused as unknown.
    PairingTicket(PairingText),
    /// Anything else: never a payment attempt.
    Garbage { reason: GarbageReason },
}

/// The text of a pairing QR. It holds a one-time code: `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingText(String);

impl PairingText {
    /// The whole text, for the fleet client to read the ticket from.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PairingText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairingText(…)")
    }
}

/// How the fleet console's pairing QR begins (crates/fleet writes the rest).
pub const PAIRING_PREFIX: &str = "yizhan-pair:";

impl Scanned {
    /// Whether this scan may start a payment.
    pub fn is_payment_code(&self) -> bool {
        matches!(self, Scanned::PaymentCode(_))
    }
}

/// Why a scan is not usable, worded for the person at the kiosk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GarbageReason {
    /// Nothing but white space or suffix bytes.
    Empty,
    /// Not text (control bytes, invalid UTF-8): a damaged read or a binary symbol.
    Binary,
    /// A web link (a utility's H5 page, an advert…).
    Url,
    /// A merchant's collection code (收款码: `wxp://`, `qr.alipay.com`, `qr.95516.com`): the customer
    /// showed the wrong code.
    CollectCode,
    /// Digits that are neither a payment code nor an account number.
    UnknownDigits { len: usize },
    /// A YZB bill barcode that does not check out.
    BadBillBarcode(BillCodeError),
    /// Other text.
    Text,
}

impl GarbageReason {
    /// What the screen says.
    pub fn message(&self) -> Text {
        match self {
            GarbageReason::Empty => Text::new("Nothing was read. Hold the payment code to the scanner window and try again."),
            GarbageReason::Binary => Text::new("This code could not be read. Please scan again."),
            GarbageReason::Url => Text::new("This QR code is a web link, not a payment code. Open the \"Pay\" code in WeChat or Alipay."),
            GarbageReason::CollectCode => Text::new("This is a code for receiving money, not for paying. Open the \"Pay\" code in WeChat or Alipay."),
            GarbageReason::UnknownDigits { .. } => Text::new("This is not a payment code or a bill barcode. Show your WeChat, Alipay or UnionPay payment code."),
            GarbageReason::BadBillBarcode(_) => Text::new("The bill barcode was not read correctly. Scan it again or type the account number."),
            GarbageReason::Text => Text::new("This is not a payment code or a bill barcode. Show your WeChat, Alipay or UnionPay payment code."),
        }
    }
}

/// Which bill barcodes the classifier accepts. Serde-friendly for the kiosk's TOML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierConfig {
    /// Account-number rule per utility (hardware.md §5.4: configuration until billers publish theirs).
    pub accounts: BTreeMap<Utility, AccountRule>,
    /// Accept a bill barcode holding only the account number (digits that fit a rule above).
    pub bare_accounts: bool,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            accounts: Utility::ALL.iter().map(|&u| (u, AccountRule::default_for(u))).collect(),
            bare_accounts: true,
        }
    }
}

/// Classifies scans by [`ClassifierConfig`].
#[derive(Clone, Debug, Default)]
pub struct Classifier {
    config: ClassifierConfig,
}

impl Classifier {
    pub fn new(config: ClassifierConfig) -> Classifier {
        Classifier { config }
    }

    fn rule(&self, utility: Utility) -> AccountRule {
        self.config.accounts.get(&utility).cloned().unwrap_or_else(|| AccountRule::default_for(utility))
    }

    /// Classifies the raw bytes of a scan (from the serial engine or the camera).
    pub fn classify_bytes(&self, bytes: &[u8]) -> Scanned {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.classify(text),
            Err(_) => garbage(GarbageReason::Binary),
        }
    }

    /// Classifies a scanned text.
    pub fn classify(&self, text: &str) -> Scanned {
        let text = strip_aim_id(text.trim()).trim();
        if text.is_empty() {
            return garbage(GarbageReason::Empty);
        }
        if text.chars().any(|c| c.is_control()) {
            return garbage(GarbageReason::Binary);
        }
        match route_payment_code(text) {
            Ok(code) => return Scanned::PaymentCode(code),
            Err(CodeError::Empty) => return garbage(GarbageReason::Empty),
            Err(CodeError::NotDigits | CodeError::UnknownScheme { .. }) => {}
        }
        if text.starts_with(bill::MARKER) {
            return match bill::parse(text, |u| self.rule(u)) {
                Ok((utility, account)) => Scanned::BillBarcode { utility: Some(utility), account },
                Err(e) => garbage(GarbageReason::BadBillBarcode(e)),
            };
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return self.bare_account(text);
        }
        if text.starts_with(PAIRING_PREFIX) {
            return Scanned::PairingTicket(PairingText(text.to_owned()));
        }
        let lower = text.to_ascii_lowercase();
        if ["wxp://", "qr.alipay.com", "qr.95516.com"].iter().any(|p| lower.contains(p)) {
            return garbage(GarbageReason::CollectCode);
        }
        if lower.contains("://") || lower.starts_with("www.") {
            return garbage(GarbageReason::Url);
        }
        garbage(GarbageReason::Text)
    }

    fn bare_account(&self, digits: &str) -> Scanned {
        let unknown = garbage(GarbageReason::UnknownDigits { len: digits.len() });
        if !self.config.bare_accounts {
            return unknown;
        }
        let mut fits =
            Utility::ALL.iter().filter_map(|&u| self.rule(u).check(u, digits).ok().map(|a| (u, a)));
        match (fits.next(), fits.next()) {
            (Some((u, account)), None) => Scanned::BillBarcode { utility: Some(u), account },
            (Some((_, account)), Some(_)) => Scanned::BillBarcode { utility: None, account },
            (None, _) => unknown,
        }
    }
}

/// Classifies with the default configuration (YZB v1, default account rules, bare accounts on).
pub fn classify(text: &str) -> Scanned {
    Classifier::default().classify(text)
}

fn garbage(reason: GarbageReason) -> Scanned {
    Scanned::Garbage { reason }
}

/// Strips an AIM symbology identifier (`]` + code letter + modifier digit), which engines prepend
/// when configured to (Honeywell `AIMPFX`): `]Q1` QR, `]C0` Code 128, `]E0` EAN-13.
fn strip_aim_id(text: &str) -> &str {
    let b = text.as_bytes();
    if b.len() >= 3 && b[0] == b']' && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphanumeric() {
        &text[3..]
    } else {
        text
    }
}
