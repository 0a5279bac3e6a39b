//! The 256-byte UCS-2LE text block of a resident ID card (hardware.md §1.6) and the [`IdCard`]
//! it becomes.
//!
//! Personal data rules (architecture rule 7): every text field is held in a buffer that is wiped
//! (overwritten with zeros, with volatile writes from `zeroize`) when the [`IdCard`] is dropped;
//! `Debug` and `Display` show masked values only ("张*", "3101**********1234"); errors never
//! carry field contents. [`set_wipe_observer`] lets a test see each wipe happen.

mod date;
mod nation;
mod photo;
mod secret;
mod wipe;

pub use date::{Date, ValidTo};
pub use nation::{Nation, Sex};
pub use photo::Photo;
pub use secret::{IdNumber, Secret};
pub use wipe::{set_wipe_observer, WipeReport};

use std::fmt;
use wipe::WIPE_OBSERVER;
use zeroize::Zeroize;

/// Size of the text block.
pub const TEXT_LEN: usize = 256;

/// Why a text block is not a valid ID card. Carries field names and positions, never contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// The block is not 256 bytes.
    #[error("text block is {0} bytes, not 256")]
    BadLength(usize),
    /// A field holds an unpaired UTF-16 surrogate.
    #[error("field {0} is not valid UCS-2")]
    BadEncoding(&'static str),
    /// A required field is blank.
    #[error("field {0} is empty")]
    Empty(&'static str),
    /// The sex code is not 0, 1, 2 or 9.
    #[error("unknown sex code")]
    BadSex,
    /// The nation code is not two digits.
    #[error("bad nation code")]
    BadNation,
    /// A date field is not a real YYYYMMDD date.
    #[error("field {0} is not a valid date")]
    BadDate(&'static str),
    /// The ID number is not 17 digits and a check character.
    #[error("ID number has a bad format")]
    BadIdFormat,
    /// The ID number's ISO 7064 MOD 11-2 check character is wrong.
    #[error("ID number check character is wrong")]
    BadIdChecksum,
    /// The birth date field differs from digits 7–14 of the ID number.
    #[error("birth date does not match the ID number")]
    BirthMismatch,
}

/// A resident ID card as read: every field of the text block, validated, plus the photo.
///
/// Lives for one session: wiped when dropped. `Debug` and `Display` mask everything personal;
/// use the accessors (`name()`, `id_number().expose()`, `address()`) to show or send the real
/// values where the flow needs them.
pub struct IdCard {
    name: Secret,
    sex: Sex,
    nation: Nation,
    birth: Date,
    address: Secret,
    id_number: IdNumber,
    authority: Secret,
    valid_from: Date,
    valid_to: ValidTo,
    photo: Photo,
}

impl IdCard {
    /// Parses and validates a 256-byte text block and takes the photo as it is.
    pub fn from_block(text: &[u8], photo: Vec<u8>) -> Result<IdCard, TextError> {
        if text.len() != TEXT_LEN {
            return Err(TextError::BadLength(text.len()));
        }
        let name = Secret::new(field(text, 0, 30, "name")?);
        let sex_s = field(text, 30, 2, "sex")?;
        let sex = sex_s.chars().next().and_then(Sex::from_code).ok_or(TextError::BadSex)?;
        let nation_s = field(text, 32, 4, "nation")?;
        let nation = match nation_s.as_bytes() {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Nation((a - b'0') * 10 + (b - b'0')),
            _ => return Err(TextError::BadNation),
        };
        let birth = date_field(text, 36, "birth")?;
        let address = Secret::new(field(text, 52, 70, "address")?);
        let mut number = field(text, 122, 36, "id_number")?;
        let parsed = IdNumber::parse(&number);
        number.zeroize();
        let id_number = parsed?;
        if id_number.birth_date() != Some(birth) {
            return Err(TextError::BirthMismatch);
        }
        let authority = Secret::new(field(text, 158, 30, "authority")?);
        let valid_from = date_field(text, 188, "valid_from")?;
        let to = field(text, 204, 16, "valid_to")?;
        let valid_to = if to == "长期" {
            ValidTo::LongTerm
        } else {
            ValidTo::Date(Date::parse_yyyymmdd(&to).ok_or(TextError::BadDate("valid_to"))?)
        };
        for (s, what) in [(&name, "name"), (&address, "address"), (&authority, "authority")] {
            if s.as_str().is_empty() {
                return Err(TextError::Empty(what));
            }
        }
        Ok(IdCard {
            name,
            sex,
            nation,
            birth,
            address,
            id_number,
            authority,
            valid_from,
            valid_to,
            photo: Photo::new(photo),
        })
    }

    /// 姓名.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// "张*": the name as screens and receipts show it.
    pub fn masked_name(&self) -> String {
        self.name.masked_head()
    }

    /// 性别.
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// 民族.
    pub fn nation(&self) -> Nation {
        self.nation
    }

    /// 出生.
    pub fn birth_date(&self) -> Date {
        self.birth
    }

    /// 住址.
    pub fn address(&self) -> &str {
        self.address.as_str()
    }

    /// The address with all but its first 3 characters starred.
    pub fn masked_address(&self) -> String {
        let s = self.address.as_str();
        let head: String = s.chars().take(3).collect();
        format!("{head}{}", "*".repeat(s.chars().count().saturating_sub(3)))
    }

    /// 公民身份号码 (checked).
    pub fn id_number(&self) -> &IdNumber {
        &self.id_number
    }

    /// 签发机关.
    pub fn authority(&self) -> &str {
        self.authority.as_str()
    }

    /// 有效期起始.
    pub fn valid_from(&self) -> Date {
        self.valid_from
    }

    /// 有效期截止.
    pub fn valid_to(&self) -> ValidTo {
        self.valid_to
    }

    /// True when the card has expired before `today`.
    pub fn is_expired(&self, today: Date) -> bool {
        matches!(self.valid_to, ValidTo::Date(d) if d < today)
    }

    /// The photo, opaque.
    pub fn photo(&self) -> &Photo {
        &self.photo
    }

    /// Overwrites every personal field with zeros now (drop does it too). Afterwards the card
    /// reads as empty.
    pub fn wipe(&mut self) -> WipeReport {
        let mut bytes = 0;
        let mut all_zero = true;
        for (n, clean) in [
            self.name.wipe(),
            self.address.wipe(),
            self.id_number.0.wipe(),
            self.authority.wipe(),
            self.photo.wipe(),
        ] {
            bytes += n;
            all_zero &= clean;
        }
        self.birth = Date::WIPED;
        self.valid_from = Date::WIPED;
        self.sex = Sex::Unknown;
        self.nation = Nation(0);
        let report = WipeReport { bytes, all_zero };
        if bytes > 0 {
            if let Some(f) = *WIPE_OBSERVER.read().unwrap_or_else(|e| e.into_inner()) {
                f(report);
            }
        }
        report
    }
}

impl Drop for IdCard {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl fmt::Debug for IdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdCard")
            .field("name", &self.masked_name())
            .field("sex", &self.sex)
            .field("nation", &self.nation.code())
            .field("birth", &"****-**-**")
            .field("address", &self.masked_address())
            .field("id_number", &self.id_number.masked())
            .field("authority", &"***")
            .field("valid_to", &self.valid_to)
            .field("photo", &self.photo)
            .finish()
    }
}

impl fmt::Display for IdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.masked_name(), self.id_number.masked())
    }
}

/// UCS-2LE characters of `text[at..at+len]`, trailing spaces and NULs removed.
fn field(text: &[u8], at: usize, len: usize, what: &'static str) -> Result<String, TextError> {
    let units = text[at..at + len].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    let mut s =
        char::decode_utf16(units).collect::<Result<String, _>>().map_err(|_| TextError::BadEncoding(what))?;
    let keep = s.trim_end_matches([' ', '\0', '\u{3000}']).len();
    s.truncate(keep);
    Ok(s)
}

fn date_field(text: &[u8], at: usize, what: &'static str) -> Result<Date, TextError> {
    let s = field(text, at, 16, what)?;
    Date::parse_yyyymmdd(&s).ok_or(TextError::BadDate(what))
}

/// Writes `s` as UCS-2LE into `block[at..at+len]`, space-padded (`20 00`), for these tests'
/// blocks (the simulator writes its cards with its own writer, `sim::identity`).
#[cfg(test)]
fn put_field(block: &mut [u8; TEXT_LEN], at: usize, len: usize, s: &str) {
    let mut units = s.encode_utf16();
    for i in (at..at + len).step_by(2) {
        let u = units.next().unwrap_or(0x0020);
        block[i..i + 2].copy_from_slice(&u.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11, item 6: `idcard read` printed "LongTerm" and "Date(2031-06-11)".
    #[test]
    fn a_validity_reads_as_a_person_would_say_it() {
        assert_eq!(ValidTo::Date(Date::new(2031, 6, 11).unwrap()).to_string(), "2031-06-11");
        assert_eq!(ValidTo::LongTerm.to_string(), "长期 Long-term");
    }

    /// A block as a real reader returns it for a made-up person.
    fn block(number: &str, birth: &str) -> [u8; TEXT_LEN] {
        let mut b = [0u8; TEXT_LEN];
        put_field(&mut b, 0, 30, "张三");
        put_field(&mut b, 30, 2, "1");
        put_field(&mut b, 32, 4, "01");
        put_field(&mut b, 36, 16, birth);
        put_field(&mut b, 52, 70, "上海市浦东新区世纪大道100号");
        put_field(&mut b, 122, 36, number);
        put_field(&mut b, 158, 30, "上海市公安局浦东分局");
        put_field(&mut b, 188, 16, "20200101");
        put_field(&mut b, 204, 16, "20400101");
        put_field(&mut b, 220, 36, "");
        b
    }

    // 310115 + 19800101 + 123 → check character by MOD 11-2.
    const NUMBER: &str = "310115198001011234";

    fn valid_number() -> String {
        let head = &NUMBER[..17];
        format!("{head}{}", IdNumber::check_char(head).unwrap())
    }

    #[test]
    fn the_block_starts_with_the_name_in_ucs2_le() {
        let b = block(&valid_number(), "19800101");
        // 张 U+5F20 → 20 5F; 三 U+4E09 → 09 4E; then spaces 20 00.
        assert_eq!(&b[..6], &[0x20, 0x5F, 0x09, 0x4E, 0x20, 0x00]);
        // Sex '1' at 30: 31 00. Nation "01" at 32: 30 00 31 00.
        assert_eq!(&b[30..36], &[0x31, 0x00, 0x30, 0x00, 0x31, 0x00]);
    }

    #[test]
    fn a_real_looking_block_parses_into_fields() {
        let n = valid_number();
        let card = IdCard::from_block(&block(&n, "19800101"), vec![0x57; 1024]).unwrap();
        assert_eq!(card.name(), "张三");
        assert_eq!(card.sex(), Sex::Male);
        assert_eq!(card.nation().name_zh(), Some("汉"));
        assert_eq!(card.birth_date(), Date::new(1980, 1, 1).unwrap());
        assert_eq!(card.address(), "上海市浦东新区世纪大道100号");
        assert_eq!(card.id_number().expose(), n);
        assert_eq!(card.authority(), "上海市公安局浦东分局");
        assert_eq!(card.valid_from().to_yyyymmdd(), "20200101");
        assert_eq!(card.valid_to(), ValidTo::Date(Date::new(2040, 1, 1).unwrap()));
        assert_eq!(card.photo().as_bytes().len(), 1024);
    }

    #[test]
    fn long_term_validity_is_understood() {
        let mut b = block(&valid_number(), "19800101");
        put_field(&mut b, 204, 16, "长期");
        let card = IdCard::from_block(&b, vec![]).unwrap();
        assert_eq!(card.valid_to(), ValidTo::LongTerm);
        assert!(!card.is_expired(Date::new(2099, 1, 1).unwrap()));
    }

    #[test]
    fn debug_and_display_are_masked() {
        let n = valid_number();
        let card = IdCard::from_block(&block(&n, "19800101"), vec![1; 1024]).unwrap();
        let shown = format!("{card:?} {card}");
        assert!(shown.contains("张*"), "{shown}");
        assert!(shown.contains("3101**********"), "{shown}");
        for secret in ["张三", n.as_str(), "世纪大道", "浦东分局", "19800101", "1980-01-01"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert_eq!(card.id_number().masked(), format!("3101**********{}", &n[14..]));
    }

    #[test]
    fn known_check_characters() {
        // The GB 11643 worked example: 11010519491231002 → X.
        assert_eq!(IdNumber::check_char("11010519491231002"), Some('X'));
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("11010519491231002x").is_ok());
        assert_eq!(IdNumber::parse("110105194912310021").unwrap_err(), TextError::BadIdChecksum);
        assert_eq!(IdNumber::parse("11010519491231002").unwrap_err(), TextError::BadIdFormat);
        assert_eq!(IdNumber::parse("1101051949123100AX").unwrap_err(), TextError::BadIdFormat);
    }

    #[test]
    fn a_wrong_check_character_or_birth_date_is_refused() {
        let mut n = valid_number();
        let wrong = if n.ends_with('0') { '1' } else { '0' };
        n.pop();
        n.push(wrong);
        assert_eq!(IdCard::from_block(&block(&n, "19800101"), vec![]).unwrap_err(), TextError::BadIdChecksum);
        assert_eq!(
            IdCard::from_block(&block(&valid_number(), "19800102"), vec![]).unwrap_err(),
            TextError::BirthMismatch
        );
    }

    #[test]
    fn bad_dates_sex_and_lengths_are_refused() {
        assert_eq!(IdCard::from_block(&[0u8; 10], vec![]).unwrap_err(), TextError::BadLength(10));
        let mut b = block(&valid_number(), "19800101");
        put_field(&mut b, 30, 2, "7");
        assert_eq!(IdCard::from_block(&b, vec![]).unwrap_err(), TextError::BadSex);
        let mut b = block(&valid_number(), "19800101");
        put_field(&mut b, 188, 16, "20230230");
        assert_eq!(IdCard::from_block(&b, vec![]).unwrap_err(), TextError::BadDate("valid_from"));
        assert!(Date::new(2000, 2, 29).is_some() && Date::new(1900, 2, 29).is_none());
    }

    #[test]
    fn wiping_zeroes_every_field() {
        let mut card = IdCard::from_block(&block(&valid_number(), "19800101"), vec![7; 1024]).unwrap();
        let r = card.wipe();
        assert!(r.all_zero);
        assert_eq!(
            r.bytes,
            "张三".len() + "上海市浦东新区世纪大道100号".len() + 18 + "上海市公安局浦东分局".len() + 1024
        );
        assert_eq!((card.name(), card.address(), card.id_number().expose()), ("", "", ""));
        assert!(card.photo().as_bytes().is_empty());
    }

    #[test]
    fn every_nation_code_has_a_name() {
        for c in 1..=56 {
            assert!(Nation::from_code(c).name_zh().is_some());
        }
        assert_eq!(Nation::from_code(56).name_zh(), Some("基诺"));
        assert_eq!(Nation::from_code(98).name_zh(), Some("外国血统"));
        assert_eq!(Nation::from_code(60).name_zh(), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_blocks_never_panic(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 256)
        ) {
            let _ = IdCard::from_block(&data, vec![]);
        }
    }
}
