//! Typed values of the ECR link (hardware.md §6.4): transaction types, response codes, the
//! industry-info field that carries our references, the masked card number.
//!
//! Nothing here touches bytes on a wire except the two-character codes; [`crate::codec`] lays
//! records out. The kiosk never sees a full card number or a PIN: the terminal does EMV and PIN
//! entry (§6.1) and returns only a masked number, and [`MaskedPan::new`] refuses anything that is
//! not masked.

use kiosk_core::FailKind;
use std::fmt;

/// Transaction type of a request (hardware.md §6.4 `trans type (2)`).
///
/// `00`/`01`/`02` are MIS-POS codes. `QL` and `RV` are our extensions [I]: letters, so they
/// never collide with a numeric MIS-POS type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransType {
    /// `00` 消费: purchase.
    Sale,
    /// `01` 撤销: void of an approved purchase of the current batch, by voucher number.
    Void,
    /// `02` 退货: refund, by original reference number and date.
    Refund,
    /// `QL` QUERY_LAST: the terminal answers with the record of its last transaction.
    QueryLast,
    /// `RV` 冲正: reverse the purchase carrying a reference whose outcome the kiosk does not
    /// know. The terminal reverses it if it was approved and answers `25` if it never happened.
    Reversal,
}

impl TransType {
    /// Every type, for tests and tables.
    pub const ALL: [TransType; 5] =
        [TransType::Sale, TransType::Void, TransType::Refund, TransType::QueryLast, TransType::Reversal];

    /// The two ASCII characters on the wire.
    pub const fn code(self) -> [u8; 2] {
        match self {
            TransType::Sale => *b"00",
            TransType::Void => *b"01",
            TransType::Refund => *b"02",
            TransType::QueryLast => *b"QL",
            TransType::Reversal => *b"RV",
        }
    }

    /// True for the types that move money (and so clear an armed reversal first).
    pub const fn moves_money(self) -> bool {
        !matches!(self, TransType::QueryLast)
    }
}

impl TryFrom<[u8; 2]> for TransType {
    type Error = [u8; 2];

    fn try_from(code: [u8; 2]) -> Result<Self, Self::Error> {
        match &code {
            b"00" => Ok(TransType::Sale),
            b"01" => Ok(TransType::Void),
            b"02" => Ok(TransType::Refund),
            b"QL" => Ok(TransType::QueryLast),
            b"RV" => Ok(TransType::Reversal),
            _ => Err(code),
        }
    }
}

/// What a response code means for the kiosk: the core's (kiosk_core::card_terminal), where the
/// rules that act on it live; [`RespCode::verdict`] is the code table.
pub use kiosk_core::card_terminal::Verdict;

/// A two-character response code (`code (2)` of the §6.4 response record).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RespCode(pub [u8; 2]);

impl RespCode {
    /// `00` approved.
    pub const APPROVED: RespCode = RespCode(*b"00");
    /// `05` do not honour (generic decline).
    pub const DO_NOT_HONOUR: RespCode = RespCode(*b"05");
    /// `25` unable to locate the original transaction.
    pub const ORIGINAL_NOT_FOUND: RespCode = RespCode(*b"25");
    /// `51` insufficient funds.
    pub const INSUFFICIENT_FUNDS: RespCode = RespCode(*b"51");
    /// `55` wrong PIN.
    pub const WRONG_PIN: RespCode = RespCode(*b"55");
    /// `96` system malfunction.
    pub const SYSTEM_ERROR: RespCode = RespCode(*b"96");
    /// `98` the terminal got no answer from the bank (the terminal's own reversal case, C1).
    pub const HOST_NO_REPLY: RespCode = RespCode(*b"98");
    /// `CC` [I]: the customer cancelled on the PIN pad; no money moved.
    pub const CANCELLED: RespCode = RespCode(*b"CC");
    /// `TO` [I]: the customer did not present a card or PIN in time; no money moved.
    pub const CUSTOMER_TIMEOUT: RespCode = RespCode(*b"TO");
    /// `IP` [I]: a transaction is in progress (QUERY_LAST and requests sent while busy).
    pub const IN_PROGRESS: RespCode = RespCode(*b"IP");
    /// `NF` [I]: QUERY_LAST with no transaction stored (new terminal, memory cleared).
    pub const NO_TRANSACTION: RespCode = RespCode(*b"NF");

    /// The code as text (always two characters; non-ASCII bytes show as `?`).
    pub fn as_string(self) -> String {
        self.0.iter().map(|&b| if b.is_ascii_graphic() { b as char } else { '?' }).collect()
    }

    /// The meaning of the code. Bank codes follow the CUP/ISO 8583 table; anything unlisted is
    /// [`Verdict::Unknown`], so a new code can never turn a charged card into "not paid".
    pub fn verdict(self) -> Verdict {
        use FailKind::{Config, Customer};
        match &self.0 {
            b"00" => Verdict::Approved,
            b"IP" => Verdict::InProgress,
            b"NF" | b"25" => Verdict::NotFound,
            // The card or the customer: another card, another PIN, enough balance.
            b"01" | b"04" | b"05" | b"14" | b"15" | b"33" | b"34" | b"36" | b"41" | b"43" | b"51" | b"54"
            | b"55" | b"57" | b"61" | b"62" | b"65" | b"75" | b"CC" | b"TO" => Verdict::Declined(Customer),
            // Our request or the terminal's setup: staff must look.
            b"03" | b"12" | b"13" | b"30" | b"40" | b"58" | b"64" | b"97" | b"99" => {
                Verdict::Declined(Config)
            }
            // `94` is "duplicate transmission": the first copy may have been approved, so it is
            // no decline; the last result or the reversal settles it.
            _ => Verdict::Unknown,
        }
    }
}

impl fmt::Debug for RespCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RespCode({})", self.as_string())
    }
}

impl fmt::Display for RespCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

/// The 100-character industry-info field, which the terminal echoes in every response [I].
///
/// Layout (our design): `reference` (32, left-aligned, space-padded) · `original` (32) · 36
/// spaces. `reference` is our order number (`OrderRef`) for a sale, void or reversal, and our
/// refund number for a refund; `original` is the order number a refund refers to. Because the
/// terminal stores and echoes it, a QUERY_LAST answer names the order it is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IndustryInfo {
    /// Our reference of this transaction (`[0-9A-Z]`, at most 32).
    pub reference: String,
    /// The order a refund refers to (empty otherwise).
    pub original: String,
}

impl IndustryInfo {
    /// Width of one reference inside the field.
    pub const REF_WIDTH: usize = 32;

    /// Info for a sale, void or reversal of `order`.
    pub fn order(order: &str) -> Self {
        IndustryInfo { reference: order.to_string(), original: String::new() }
    }

    /// True when `s` can travel in one of the two reference slots.
    pub fn valid_ref(s: &str) -> bool {
        s.len() <= Self::REF_WIDTH && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    }
}

/// A card number as masked by the terminal (`622848******1234`). Never a full number.
///
/// `Debug` and `Display` show only the last four digits, so a log line never carries even the
/// masked number; [`MaskedPan::as_receipt_text`] gives the whole masked form for the receipt.
#[derive(Clone, PartialEq, Eq)]
pub struct MaskedPan(String);

impl MaskedPan {
    /// Accepts `text` only if it is masked: digits and at least four `*`, with at most ten digits
    /// shown (first six and last four, the PCI DSS limit).
    pub fn new(text: &str) -> Option<MaskedPan> {
        let text = text.trim();
        let digits = text.bytes().filter(u8::is_ascii_digit).count();
        let stars = text.bytes().filter(|&b| b == b'*').count();
        let only = text.bytes().all(|b| b.is_ascii_digit() || b == b'*');
        (only && stars >= 4 && (4..=10).contains(&digits)).then(|| MaskedPan(text.to_string()))
    }

    /// The last four digits when they are shown (a number masked at its end has none): all
    /// the kiosk keeps of the card, for the receipt.
    pub fn tail_digits(&self) -> Option<&str> {
        let tail = self.last4();
        (tail.len() == 4 && tail.bytes().all(|b| b.is_ascii_digit())).then_some(tail)
    }

    /// The masked number for the receipt.
    pub fn as_receipt_text(&self) -> &str {
        &self.0
    }

    /// The last four digits.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len().saturating_sub(4)..]
    }
}

impl fmt::Debug for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaskedPan(****{})", self.last4())
    }
}

impl fmt::Display for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "****{}", self.last4())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trans_types_round_trip_and_unknown_codes_are_refused() {
        for t in TransType::ALL {
            assert_eq!(TransType::try_from(t.code()), Ok(t));
        }
        assert_eq!(TransType::try_from(*b"03"), Err(*b"03"));
    }

    #[test]
    fn unlisted_codes_are_unknown_never_declined() {
        assert_eq!(RespCode::HOST_NO_REPLY.verdict(), Verdict::Unknown);
        assert_eq!(RespCode(*b"A0").verdict(), Verdict::Unknown);
        assert_eq!(RespCode([0xFF, 0x00]).verdict(), Verdict::Unknown);
        assert_eq!(RespCode::WRONG_PIN.verdict(), Verdict::Declined(FailKind::Customer));
        assert_eq!(RespCode(*b"97").verdict(), Verdict::Declined(FailKind::Config));
        // A duplicate transmission may hide an approved first copy.
        assert_eq!(RespCode(*b"94").verdict(), Verdict::Unknown);
    }

    #[test]
    fn only_masked_numbers_are_accepted_and_debug_shows_last_four() {
        assert!(MaskedPan::new("6228480000001234").is_none(), "a full PAN is refused");
        assert!(MaskedPan::new("622848123456**34").is_none(), "too many digits shown");
        let p = MaskedPan::new("622848******1234    ").unwrap();
        assert_eq!(p.as_receipt_text(), "622848******1234");
        assert_eq!(format!("{p:?}"), "MaskedPan(****1234)");
        assert!(!format!("{p} {p:?}").contains("622848"));
    }
}
