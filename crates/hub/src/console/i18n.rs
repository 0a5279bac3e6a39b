//! The console's language: Chinese by default, English by the `lang` cookie. The words are the
//! kiosk's catalogue's (`catalogue::tr`), so the same check (crates/catalogue/tests/every_string.rs)
//! keeps every one of them translated.

pub use catalogue::{tr, trf, Lang};

/// From the `lang` cookie's value; Chinese unless it says English.
pub fn from_cookie(value: Option<&str>) -> Lang {
    if value == Some("en") {
        Lang::En
    } else {
        Lang::Zh
    }
}

/// The page's `lang` attribute.
pub fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_english_and_an_unknown_cookie_is_chinese() {
        assert_eq!(tr(Lang::En, "Fleet"), "Fleet");
        assert_eq!(tr(Lang::Zh, "Fleet"), "终端一览");
        assert_eq!(from_cookie(Some("fr")), Lang::Zh);
        assert_eq!(from_cookie(Some("en")), Lang::En);
    }
}
