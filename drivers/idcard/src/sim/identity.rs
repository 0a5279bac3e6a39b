//! Synthetic identities for the simulator: made-up people with valid, checksummed ID numbers.
//! No real person's data is used anywhere in this crate.

use crate::text::{Date, IdNumber, Sex, ValidTo, TEXT_LEN};
use std::fmt;

/// A made-up card holder.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// 姓名.
    pub name: String,
    /// 性别.
    pub sex: Sex,
    /// 民族 code.
    pub nation: u8,
    /// 出生.
    pub birth: Date,
    /// 住址.
    pub address: String,
    /// 公民身份号码 (valid check character).
    pub id_number: String,
    /// 签发机关.
    pub authority: String,
    /// 有效期起始.
    pub valid_from: Date,
    /// 有效期截止.
    pub valid_to: ValidTo,
    /// 1024 opaque photo bytes.
    pub photo: Vec<u8>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Synthetic, but printed the way real data would be: masked.
        let masked =
            IdNumber::parse(&self.id_number).map(|n| n.masked()).unwrap_or_else(|_| "invalid".into());
        write!(f, "Identity({masked})")
    }
}

const SURNAMES: [&str; 12] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "欧阳", "徐"];
const GIVEN: [&str; 16] =
    ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明"];
/// Shanghai district codes and names.
const DISTRICTS: [(&str, &str); 10] = [
    ("310101", "黄浦"),
    ("310104", "徐汇"),
    ("310105", "长宁"),
    ("310106", "静安"),
    ("310107", "普陀"),
    ("310109", "虹口"),
    ("310110", "杨浦"),
    ("310112", "闵行"),
    ("310113", "宝山"),
    ("310115", "浦东新"),
];
const ROADS: [&str; 8] = ["长寿", "淮海中", "延安西", "四平", "曲阳", "莲花", "世纪", "控江"];

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Identity {
    /// A deterministic made-up person for `seed`.
    pub fn synthetic(seed: u64) -> Identity {
        let mut s = seed;
        let mut next = |n: u64| {
            s = mix(s);
            s % n
        };
        let pick = |i: u64| i as usize;
        let surname = SURNAMES[pick(next(SURNAMES.len() as u64))];
        let mut name = surname.to_string();
        for _ in 0..=next(2) {
            name.push_str(GIVEN[pick(next(GIVEN.len() as u64))]);
        }
        let (code, district) = DISTRICTS[pick(next(DISTRICTS.len() as u64))];
        let year = 1940 + next(60) as u16;
        let birth =
            Date::new(year, 1 + next(12) as u8, 1 + next(28) as u8).unwrap_or(Date::new(1980, 1, 1).unwrap());
        let seq = next(1000);
        let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
        let head = format!("{code}{}{seq:03}", birth.to_yyyymmdd());
        let check = IdNumber::check_char(&head).unwrap_or('0');
        let id_number = format!("{head}{check}");
        let road = ROADS[pick(next(ROADS.len() as u64))];
        let address =
            format!("上海市{district}区{road}路{}弄{}号{}室", 1 + next(999), 1 + next(60), 101 + next(1500));
        let authority = format!("上海市公安局{district}分局");
        let from_year = 2010 + next(14) as u16;
        let valid_from = Date::new(from_year, 1 + next(12) as u8, 1 + next(28) as u8).unwrap_or(birth);
        let valid_to = if from_year - year >= 46 {
            ValidTo::LongTerm
        } else {
            let span = if from_year - year >= 26 { 20 } else { 10 };
            ValidTo::Date(
                Date::new(from_year + span, valid_from.month(), valid_from.day()).unwrap_or(valid_from),
            )
        };
        let photo = (0..1024u32)
            .map(|i| if i < 3 { b"WLT"[i as usize] } else { (mix(seed ^ u64::from(i)) & 0xFF) as u8 })
            .collect();
        Identity {
            name,
            sex,
            nation: 1 + next(56) as u8,
            birth,
            address,
            id_number,
            authority,
            valid_from,
            valid_to,
            photo,
        }
    }

    /// The 256-byte text block the card holds, laid out by hardware.md §1.6's table (offsets and
    /// widths written here, not taken from the driver).
    pub fn text_block(&self) -> [u8; TEXT_LEN] {
        let mut b = [0u8; TEXT_LEN];
        put_field(&mut b, 0, 30, &self.name);
        put_field(&mut b, 30, 2, &self.sex.code().to_string());
        put_field(&mut b, 32, 4, &format!("{:02}", self.nation));
        put_field(&mut b, 36, 16, &self.birth.to_yyyymmdd());
        put_field(&mut b, 52, 70, &self.address);
        put_field(&mut b, 122, 36, &self.id_number);
        put_field(&mut b, 158, 30, &self.authority);
        put_field(&mut b, 188, 16, &self.valid_from.to_yyyymmdd());
        let to = match self.valid_to {
            ValidTo::Date(d) => d.to_yyyymmdd(),
            ValidTo::LongTerm => "长期".to_string(),
        };
        put_field(&mut b, 204, 16, &to);
        put_field(&mut b, 220, 36, "");
        b
    }
}

/// The card's own text encoding (hardware.md §1.6): each character a UCS-2 unit, low byte
/// first, the field's rest filled with spaces (`20 00`). The simulator's writer, apart from the
/// driver's reader, so that a misread of the layout cannot be mirrored.
fn put_field(block: &mut [u8; TEXT_LEN], at: usize, width: usize, text: &str) {
    let mut units = text.encode_utf16().chain(std::iter::repeat(0x0020));
    for pair in block[at..at + width].chunks_exact_mut(2) {
        let unit = units.next().unwrap_or(0x0020);
        pair[0] = (unit & 0xFF) as u8;
        pair[1] = (unit >> 8) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::IdCard;

    #[test]
    fn synthetic_people_parse_back_with_valid_numbers() {
        for seed in 0..500 {
            let id = Identity::synthetic(seed);
            let card = IdCard::from_block(&id.text_block(), id.photo.clone())
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(card.name(), id.name);
            assert_eq!(card.id_number().expose(), id.id_number);
            assert_eq!(card.address(), id.address);
            assert_eq!(card.valid_to(), id.valid_to);
            assert!(id.address.chars().count() <= 35);
        }
    }
}
