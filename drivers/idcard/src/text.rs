//! The 256-byte UCS-2LE text block of a resident ID card (hardware.md §1.6) and the [`IdCard`]
//! it becomes.
//!
//! Personal data rules (architecture rule 7): every text field is held in a buffer that is wiped
//! (overwritten with zeros, with volatile writes from `zeroize`) when the [`IdCard`] is dropped;
//! `Debug` and `Display` show masked values only ("张*", "3101**********1234"); errors never
//! carry field contents. [`set_wipe_observer`] lets a test see each wipe happen.

use chrono::{Datelike, NaiveDate};
use std::fmt;
use std::sync::RwLock;
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

/// A calendar date (`YYYYMMDD` on the card): chrono's `NaiveDate`, kept to the years a card
/// can carry.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

impl Date {
    /// What a wiped date reads as: no one's birthday (chrono's earliest date).
    const WIPED: Date = Date(NaiveDate::MIN);

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

/// 性别 (GB/T 2261.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sex {
    /// `0`: not known.
    Unknown,
    /// `1`: male.
    Male,
    /// `2`: female.
    Female,
    /// `9`: not specified.
    Unspecified,
}

impl Sex {
    /// The code character on the card.
    pub fn code(self) -> char {
        match self {
            Sex::Unknown => '0',
            Sex::Male => '1',
            Sex::Female => '2',
            Sex::Unspecified => '9',
        }
    }

    /// The sex of a code character.
    pub fn from_code(c: char) -> Option<Sex> {
        Some(match c {
            '0' => Sex::Unknown,
            '1' => Sex::Male,
            '2' => Sex::Female,
            '9' => Sex::Unspecified,
            _ => return None,
        })
    }

    /// 中文.
    pub fn name_zh(self) -> &'static str {
        match self {
            Sex::Unknown => "未知",
            Sex::Male => "男",
            Sex::Female => "女",
            Sex::Unspecified => "未说明",
        }
    }
}

/// 民族 codes 01–56 in GB 3304 order (hardware.md §1.6: "01 汉 … 56 基诺").
const NATIONS: [&str; 56] = [
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
];

/// 民族: the two-digit code and its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Nation(u8);

impl Nation {
    /// A nation from its code: 1–56, 97 (其他) or 98 (外国血统); other codes are kept but unnamed.
    pub fn from_code(code: u8) -> Nation {
        Nation(code)
    }

    /// The code (1 = 汉).
    pub fn code(self) -> u8 {
        self.0
    }

    /// The name, e.g. "汉"; `None` for a code outside the table.
    pub fn name_zh(self) -> Option<&'static str> {
        match self.0 {
            1..=56 => Some(NATIONS[usize::from(self.0) - 1]),
            97 => Some("其他"),
            98 => Some("外国血统"),
            _ => None,
        }
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
    fn wipe(&mut self) -> (usize, bool) {
        let n = self.0.len();
        self.0.as_mut_slice().zeroize();
        let clean = self.0.iter().all(|&b| b == 0);
        self.0.zeroize();
        (n, clean)
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
pub struct IdNumber(Secret);

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

/// The 1024-byte photo (WLT, proprietary compression) passed through untouched; wiped on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Photo(Vec<u8>);

impl Photo {
    /// Holds `bytes`.
    pub fn new(bytes: Vec<u8>) -> Photo {
        Photo(bytes)
    }

    /// The raw WLT bytes (decode them with the licensed library, never in tests).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn wipe(&mut self) -> (usize, bool) {
        let n = self.0.len();
        self.0.as_mut_slice().zeroize();
        let clean = self.0.iter().all(|&b| b == 0);
        self.0.zeroize();
        (n, clean)
    }
}

impl fmt::Debug for Photo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Photo({} bytes)", self.0.len())
    }
}

/// What a wipe did: how many bytes were overwritten and whether they all read back as zero.
/// Carries no data; given to the observer of [`set_wipe_observer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WipeReport {
    /// Bytes of personal data overwritten (text fields and photo).
    pub bytes: usize,
    /// Every overwritten byte read back as zero before the memory was released.
    pub all_zero: bool,
}

static WIPE_OBSERVER: RwLock<Option<fn(WipeReport)>> = RwLock::new(None);

/// Calls `f` after each [`IdCard`] wipe (drop or [`IdCard::wipe`]); `None` removes it. Meant
/// for tests and for the runtime's "session data wiped" audit line. Process-wide.
pub fn set_wipe_observer(f: Option<fn(WipeReport)>) {
    *WIPE_OBSERVER.write().unwrap_or_else(|e| e.into_inner()) = f;
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

/// Writes `s` as UCS-2LE into `block[at..at+len]`, space-padded (`20 00`): how the card stores
/// text. Used by the simulator and tests to build blocks; characters beyond the field are cut.
pub fn put_field(block: &mut [u8; TEXT_LEN], at: usize, len: usize, s: &str) {
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
