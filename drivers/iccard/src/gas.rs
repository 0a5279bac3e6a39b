//! The gas user card: a **synthetic** SLE4442 layout modelled on the public Wuhan gas card
//! (hardware.md §3.3, K1) and the Qianfeng DLL's primary/backup purchase areas (K2). Real layouts
//! and PSC derivations are vendor secrets (hardware.md §8); this one is ours, for the simulator
//! and for a kiosk whose gas company adopts it. Everything about it lives in this module.
//!
//! ## Layout (main memory addresses)
//!
//! | Addr | Bytes | Field | Written by |
//! |---|---|---|---|
//! | 0x00–0x03 | 4 | SLE4442 ATR `A2 13 10 91` (protected) | factory |
//! | 0x04–0x1F | 28 | issuer area (protected) | factory |
//! | 0x20 | 1 | card type flag: `DD` user card; `88` repair, `CC` install, `BB` check, `99` data-extract tool cards (K1) | issuer |
//! | 0x21–0x28 | 8 | card number: up to 16 BCD digits, high nibble first, padded with `F` | issuer |
//! | 0x29–0x2C | 4 | user number: 4 bytes of 0–99 = 8 decimal digits (K1) | issuer |
//! | 0x2D–0x2F | 3 | meter password (K1; the kiosk never reads it) | issuer |
//! | 0x30 | 1 | meter write-back flag: `AA` = the meter has absorbed purchase no. `wb_seq` | meter |
//! | 0x31–0x34 | 4 | `wb_seq`: the purchase count the meter loaded last, big-endian | meter |
//! | 0x35–0x3F | 11 | meter write-back data (remaining gas, totals; opaque to the kiosk) | meter |
//! | 0x40–0x8F | 80 | purchase slot A | kiosk |
//! | 0x90–0xDF | 80 | purchase slot B | kiosk |
//! | 0xE0–0xFF | 32 | reserved | – |
//!
//! A purchase slot: `+0` state (`A5` committed, anything else empty or being written), `+1..+5`
//! purchase count (sequence, big-endian), `+5` data length L (≤ 72), `+6..` the biller's write
//! data (opaque), then CRC-16/XMODEM (big-endian) over `+1 .. +6+L`.
//!
//! ## Rules (hardware.md §3.3, payments.md §5)
//!
//! - The card's **current purchase** is the committed, CRC-valid slot with the highest count;
//!   none means a new card (count 0). Its count is the `purchase_count` the biller checks.
//! - **Loaded** (`last_purchase_loaded`) means the write-back flag is `AA` and `wb_seq` ≥ the
//!   current count (a new card counts as loaded). The meter sets both; the kiosk never writes
//!   them, so no kiosk write can make a purchase look loaded.
//! - A new purchase (count + 1) goes into the **other** slot, in three verified writes: state
//!   `00`, then count + length + data + CRC, then state `A5`. The current slot is never touched,
//!   so a card pulled at any byte holds either the old purchase (the new slot is not committed)
//!   or the whole new one; the meter loads only a committed slot whose count it has not loaded
//!   yet, so rewriting (补写卡) can never credit gas twice.
//! - Writing purchase `n`: if the card's current purchase is `n` with the same data, it is
//!   already there (补写卡 of a completed write): nothing is written. Same `n`, other data:
//!   refused. `n` = current + 1: written only when the current one is loaded. Anything else:
//!   out of sync.

use crate::error::{CardError, CardKind};

/// First address the kiosk reads.
pub const IMAGE_START: u8 = 0x20;
/// Bytes the kiosk reads (0x20–0xDF).
pub const IMAGE_LEN: usize = 0xC0;
/// Card type flag address.
pub const TYPE_FLAG: u8 = 0x20;
/// Flag of a user card.
pub const USER_CARD: u8 = 0xDD;
/// Card number address (8 bytes BCD).
pub const CARD_NO: u8 = 0x21;
/// Card number bytes.
pub const CARD_NO_LEN: usize = 8;
/// User number address (4 bytes of 0–99).
pub const USER_NO: u8 = 0x29;
/// Meter write-back flag address.
pub const WRITE_BACK_FLAG: u8 = 0x30;
/// The write-back flag's "loaded" value.
pub const LOADED: u8 = 0xAA;
/// Address of the count the meter loaded last.
pub const WRITE_BACK_SEQ: u8 = 0x31;
/// Slot addresses.
pub const SLOTS: [u8; 2] = [0x40, 0x90];
/// Slot size.
pub const SLOT_LEN: usize = 0x50;
/// A committed slot's state byte.
pub const COMMITTED: u8 = 0xA5;
/// Most write-data bytes a slot holds.
pub const MAX_DATA: usize = SLOT_LEN - 8;

/// CRC-16/XMODEM (poly 0x1021, init 0).
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// The user number: shown masked (`12****78`) everywhere except to code that asks for
/// [`UserNo::digits`] (the biller lookup).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserNo(String);

impl UserNo {
    /// The full digits.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&mask(&self.0))
    }
}

impl std::fmt::Debug for UserNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserNo({})", mask(&self.0))
    }
}

/// Keeps the first two and last two characters.
pub fn mask(s: &str) -> String {
    let n = s.chars().count();
    if n <= 4 {
        return "*".repeat(n);
    }
    s.chars().enumerate().map(|(i, c)| if i < 2 || i >= n - 2 { c } else { '*' }).collect()
}

/// What the kiosk reads from a gas user card.
#[derive(Clone, PartialEq, Eq)]
pub struct GasCard {
    /// Card number (the biller's key for the card).
    pub card_no: String,
    /// User number (masked when displayed).
    pub user_no: UserNo,
    /// 购气次数: count of the current purchase on the card (0 for a new card).
    pub purchase_count: u32,
    /// The meter has loaded the current purchase (write-back flag set for it).
    pub last_purchase_loaded: bool,
}

impl GasCard {
    /// What kiosk-core needs to start a top-up.
    pub fn purchase(&self) -> kiosk_core::CardPurchase {
        kiosk_core::CardPurchase { card_no: self.card_no.clone(), purchase_count: self.purchase_count }
    }
}

impl std::fmt::Debug for GasCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GasCard")
            .field("card_no", &mask(&self.card_no))
            .field("user_no", &self.user_no)
            .field("purchase_count", &self.purchase_count)
            .field("last_purchase_loaded", &self.last_purchase_loaded)
            .finish()
    }
}

/// A committed, CRC-valid purchase slot.
#[derive(Clone, PartialEq, Eq)]
pub struct Purchase {
    /// Which slot (0 = A, 1 = B).
    pub slot: usize,
    /// Its purchase count.
    pub seq: u32,
    /// The biller's write data.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Purchase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Purchase {{ slot: {}, seq: {}, len: {} }}", self.slot, self.seq, self.data.len())
    }
}

/// A parsed card image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardImage {
    /// The card as the kiosk shows it.
    pub card: GasCard,
    /// The current purchase, if any.
    pub current: Option<Purchase>,
}

impl CardImage {
    /// The slot a new purchase goes into: the one not holding the current purchase.
    pub fn target_slot(&self) -> usize {
        match &self.current {
            Some(p) => 1 - p.slot,
            None => 0,
        }
    }
}

/// Encodes a card number as 8 BCD bytes; `None` if it is not 1–16 decimal digits.
pub fn encode_card_no(card_no: &str) -> Option<[u8; CARD_NO_LEN]> {
    if card_no.is_empty() || card_no.len() > 2 * CARD_NO_LEN || !card_no.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nibbles: Vec<u8> = card_no.bytes().map(|b| b - b'0').collect();
    nibbles.resize(2 * CARD_NO_LEN, 0x0F);
    let mut out = [0u8; CARD_NO_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibbles[2 * i] << 4) | nibbles[2 * i + 1];
    }
    Some(out)
}

/// Decodes the BCD card number (digits until the first `F` nibble, none after it).
pub fn decode_card_no(bytes: &[u8]) -> Option<String> {
    let mut s = String::new();
    let mut ended = false;
    for n in bytes.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        match (n, ended) {
            (0..=9, false) => s.push(char::from(b'0' + n)),
            (0x0F, _) => ended = true,
            _ => return None,
        }
    }
    (!s.is_empty()).then_some(s)
}

/// Encodes an 8-digit user number as 4 bytes of 0–99.
pub fn encode_user_no(user_no: &str) -> Option<[u8; 4]> {
    let d = user_no.as_bytes();
    if d.len() != 8 || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut out = [0u8; 4];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (d[2 * i] - b'0') * 10 + (d[2 * i + 1] - b'0');
    }
    Some(out)
}

/// Decodes the user number; `None` if a byte exceeds 99.
pub fn decode_user_no(bytes: &[u8]) -> Option<String> {
    if bytes.len() != 4 || bytes.iter().any(|&b| b > 99) {
        return None;
    }
    Some(bytes.iter().map(|b| format!("{b:02}")).collect())
}

/// The bytes of a slot body (`+1 ..`): count, length, data, CRC. `None` if the data is too long.
pub fn encode_slot_body(seq: u32, data: &[u8]) -> Option<Vec<u8>> {
    if data.len() > MAX_DATA {
        return None;
    }
    let mut v = seq.to_be_bytes().to_vec();
    v.push(data.len() as u8);
    v.extend_from_slice(data);
    let crc = crc16(&v);
    v.extend_from_slice(&crc.to_be_bytes());
    Some(v)
}

/// Parses one 80-byte slot; `None` unless committed and intact.
pub fn parse_slot(slot: usize, bytes: &[u8]) -> Option<Purchase> {
    if bytes.len() < SLOT_LEN || bytes[0] != COMMITTED {
        return None;
    }
    let len = usize::from(bytes[5]);
    if len > MAX_DATA {
        return None;
    }
    let body = &bytes[1..6 + len];
    let crc = u16::from_be_bytes([bytes[6 + len], bytes[7 + len]]);
    if crc16(body) != crc {
        tracing::warn!(slot, "gas card: committed slot with a bad CRC ignored");
        return None;
    }
    let seq = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    Some(Purchase { slot, seq, data: bytes[6..6 + len].to_vec() })
}

/// The current purchase of a full 256-byte (or 0x20-based image) memory.
fn current_purchase(image: &[u8]) -> Option<Purchase> {
    let at = |a: u8| usize::from(a - IMAGE_START);
    let a = parse_slot(0, image.get(at(SLOTS[0])..at(SLOTS[0]) + SLOT_LEN)?);
    let b = parse_slot(1, image.get(at(SLOTS[1])..at(SLOTS[1]) + SLOT_LEN)?);
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.seq > a.seq { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Parses the image read from [`IMAGE_START`] ([`IMAGE_LEN`] bytes).
pub fn parse_image(image: &[u8]) -> Result<CardImage, CardError> {
    if image.len() < IMAGE_LEN {
        return Err(CardError::Corrupt("short image"));
    }
    let at = |a: u8| usize::from(a - IMAGE_START);
    match image[at(TYPE_FLAG)] {
        USER_CARD => {}
        f @ (0x88 | 0xCC | 0xBB | 0x99) => {
            return Err(CardError::WrongCardType { found: CardKind::GasToolCard(f) })
        }
        _ => return Err(CardError::WrongCardType { found: CardKind::ForeignSle4442 }),
    }
    let card_no = decode_card_no(&image[at(CARD_NO)..at(CARD_NO) + CARD_NO_LEN])
        .ok_or(CardError::WrongCardType { found: CardKind::ForeignSle4442 })?;
    let user_no =
        decode_user_no(&image[at(USER_NO)..at(USER_NO) + 4]).ok_or(CardError::Corrupt("user number"))?;
    let current = current_purchase(image);
    let purchase_count = current.as_ref().map_or(0, |p| p.seq);
    let w = at(WRITE_BACK_SEQ);
    let wb_seq = u32::from_be_bytes([image[w], image[w + 1], image[w + 2], image[w + 3]]);
    let last_purchase_loaded =
        purchase_count == 0 || (image[at(WRITE_BACK_FLAG)] == LOADED && wb_seq >= purchase_count);
    Ok(CardImage {
        card: GasCard { card_no, user_no: UserNo(user_no), purchase_count, last_purchase_loaded },
        current,
    })
}

/// What writing purchase `seq` with `data` to a card in state `image` must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritePlan {
    /// The card already holds exactly this purchase: nothing to write.
    AlreadyOnCard,
    /// Write it into this slot.
    Write {
        /// Slot index.
        slot: usize,
    },
}

/// Applies the top-up rules (module docs) without touching the card.
pub fn plan_write(image: &CardImage, seq: u32, data: &[u8]) -> Result<WritePlan, CardError> {
    if seq == 0 {
        return Err(CardError::BadWriteData("purchase sequence 0"));
    }
    if data.len() > MAX_DATA {
        return Err(CardError::BadWriteData("write data longer than the purchase area"));
    }
    let on_card = image.card.purchase_count;
    match &image.current {
        Some(p) if p.seq == seq && p.data == data => return Ok(WritePlan::AlreadyOnCard),
        Some(p) if p.seq == seq => return Err(CardError::PurchaseConflict { seq }),
        _ => {}
    }
    if on_card.checked_add(1) != Some(seq) {
        return Err(CardError::SequenceMismatch { on_card, requested: seq });
    }
    if !image.card.last_purchase_loaded {
        return Err(CardError::LastPurchaseNotLoaded { on_card });
    }
    Ok(WritePlan::Write { slot: image.target_slot() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank_image() -> Vec<u8> {
        let mut m = vec![0u8; IMAGE_LEN];
        m[0] = USER_CARD;
        m[1..9].copy_from_slice(&encode_card_no("8800000013").unwrap());
        m[9..13].copy_from_slice(&encode_user_no("31000011").unwrap());
        m
    }

    fn put_slot(m: &mut [u8], slot: usize, seq: u32, data: &[u8]) {
        let at = usize::from(SLOTS[slot] - IMAGE_START);
        m[at] = COMMITTED;
        let body = encode_slot_body(seq, data).unwrap();
        m[at + 1..at + 1 + body.len()].copy_from_slice(&body);
    }

    #[test]
    fn crc16_xmodem_check_value() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        // hardware.md §2.1: the ICT3Q8 reply F2 … 78 has CRC 1C17 (same CRC-16/XMODEM).
        assert_eq!(crc16(&[0xF2, 0x00, 0x06, 0x50, 0x30, 0x30, 0x30, 0x30, 0x78]), 0x1C17);
    }

    #[test]
    fn card_and_user_numbers() {
        let bcd = encode_card_no("8800000013").unwrap();
        assert_eq!(bcd, [0x88, 0x00, 0x00, 0x00, 0x13, 0xFF, 0xFF, 0xFF]);
        assert_eq!(decode_card_no(&bcd).as_deref(), Some("8800000013"));
        assert_eq!(decode_card_no(&[0x1F, 0x2F, 0xFF, 0xFF]), None, "a digit after the padding");
        assert_eq!(decode_card_no(&[0xAB]), None);
        assert_eq!(encode_user_no("31000011"), Some([31, 0, 0, 11]));
        assert_eq!(decode_user_no(&[31, 0, 0, 11]).as_deref(), Some("31000011"));
        assert_eq!(decode_user_no(&[100, 0, 0, 0]), None);
        assert_eq!(UserNo("31000011".into()).to_string(), "31****11");
    }

    #[test]
    fn a_new_card_is_count_zero_and_loaded() {
        let img = parse_image(&blank_image()).unwrap();
        assert_eq!(img.card.purchase_count, 0);
        assert!(img.card.last_purchase_loaded);
        assert_eq!(plan_write(&img, 1, b"x").unwrap(), WritePlan::Write { slot: 0 });
        assert!(matches!(
            plan_write(&img, 2, b"x"),
            Err(CardError::SequenceMismatch { on_card: 0, requested: 2 })
        ));
    }

    #[test]
    fn the_highest_committed_slot_is_current_and_the_other_is_the_target() {
        let mut m = blank_image();
        put_slot(&mut m, 0, 3, b"three");
        put_slot(&mut m, 1, 4, b"four");
        let img = parse_image(&m).unwrap();
        assert_eq!(img.card.purchase_count, 4);
        assert!(!img.card.last_purchase_loaded);
        assert_eq!(img.target_slot(), 0);
        assert_eq!(plan_write(&img, 4, b"four").unwrap(), WritePlan::AlreadyOnCard);
        assert!(matches!(plan_write(&img, 4, b"other"), Err(CardError::PurchaseConflict { seq: 4 })));
        assert!(matches!(plan_write(&img, 5, b"five"), Err(CardError::LastPurchaseNotLoaded { on_card: 4 })));
        // The meter writes back: AA and the count it loaded.
        m[usize::from(WRITE_BACK_FLAG - IMAGE_START)] = LOADED;
        m[usize::from(WRITE_BACK_SEQ - IMAGE_START) + 3] = 4;
        let img = parse_image(&m).unwrap();
        assert!(img.card.last_purchase_loaded);
        assert_eq!(plan_write(&img, 5, b"five").unwrap(), WritePlan::Write { slot: 0 });
    }

    #[test]
    fn an_uncommitted_or_damaged_slot_is_ignored() {
        let mut m = blank_image();
        put_slot(&mut m, 0, 3, b"three");
        put_slot(&mut m, 1, 4, b"four");
        let b = usize::from(SLOTS[1] - IMAGE_START);
        m[b + 7] ^= 0x01; // one data bit flipped: CRC fails
        assert_eq!(parse_image(&m).unwrap().card.purchase_count, 3);
        m[b + 7] ^= 0x01;
        m[b] = 0x00; // not committed
        assert_eq!(parse_image(&m).unwrap().card.purchase_count, 3);
    }

    #[test]
    fn tool_cards_and_foreign_cards_are_the_wrong_type() {
        let mut m = blank_image();
        m[0] = 0x88;
        assert!(matches!(
            parse_image(&m),
            Err(CardError::WrongCardType { found: CardKind::GasToolCard(0x88) })
        ));
        m[0] = 0xFF;
        assert!(matches!(parse_image(&m), Err(CardError::WrongCardType { found: CardKind::ForeignSle4442 })));
    }

    #[test]
    fn data_longer_than_the_slot_is_refused() {
        let img = parse_image(&blank_image()).unwrap();
        assert!(matches!(plan_write(&img, 1, &[0; MAX_DATA + 1]), Err(CardError::BadWriteData(_))));
        assert!(plan_write(&img, 1, &[0; MAX_DATA]).is_ok());
        assert!(matches!(plan_write(&img, 0, b""), Err(CardError::BadWriteData(_))));
    }
}
