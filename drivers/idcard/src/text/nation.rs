//! Sex and nation codes of the text block (GB/T 2261.1, GB 3304: the 56 nations).

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
pub struct Nation(pub(super) u8);

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
