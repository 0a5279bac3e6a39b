//! The one catalogue of every word a customer or a member of staff sees or hears: the screens
//! (Slint's `@tr`), the words the session builds, receipts, and the messages that drivers and
//! clients return. English is the source text; the gettext file
//! `translations/zh_CN/LC_MESSAGES/kiosk-ui.po` holds the Chinese. The Slint build bundles the
//! same file (Slint names it after the crate that bundles it), so a button and a spoken
//! sentence can never disagree.
//!
//! In Rust a word is written `tr(lang, "English")`, `trf(lang, "{0} of {1}", &[..])`,
//! `bilingual("English", " / ")` for paper that shows both, or — where the language is chosen
//! later, as in a driver's error — `Text::new("English")`. The test
//! `tests/every_string.rs` fails on a msgid missing from the catalogue, an entry nothing uses,
//! and a Chinese literal written anywhere else.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

mod po;

/// The language of the screen and of speech. Chinese unless the customer switches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// The catalogue's source, as shipped.
pub const ZH_CN_PO: &str = include_str!("../translations/zh_CN/LC_MESSAGES/kiosk-ui.po");

static ZH_CN: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    // A catalogue that does not parse fails `tests/every_string.rs`, so it never ships; an
    // untranslated (empty) entry shows its English rather than a blank.
    po::parse(ZH_CN_PO)
        .map(|entries| entries.into_iter().filter(|(_, zh)| !zh.is_empty()).collect())
        .unwrap_or_default()
});

/// The catalogue's (msgid, Chinese) pairs in file order, or where it cannot be read.
pub fn entries() -> Result<Vec<(String, String)>, String> {
    po::parse(ZH_CN_PO)
}

/// `msgid` in `lang`. A msgid the catalogue lacks shows as its English source rather than a blank.
pub fn tr(lang: Lang, msgid: &'static str) -> &'static str {
    match lang {
        Lang::En => msgid,
        Lang::Zh => ZH_CN.get(msgid).map_or(msgid, String::as_str),
    }
}

/// `msgid` in `lang` with its placeholders filled: `{}` takes the next argument, `{0}`, `{1}`…
/// a numbered one (so a translation can reorder them), `{{` and `}}` are literal braces.
pub fn trf(lang: Lang, msgid: &'static str, args: &[&dyn fmt::Display]) -> String {
    fill(tr(lang, msgid), args)
}

/// Chinese, then `between`, then English: for paper and staff screens that show both at once.
pub fn bilingual(msgid: &'static str, between: &str) -> String {
    format!("{}{between}{msgid}", tr(Lang::Zh, msgid))
}

fn fill(pattern: &str, args: &[&dyn fmt::Display]) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut next = 0;
    let mut rest = pattern;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let Some(close) = tail.find('}').filter(|_| tail.starts_with('{')) else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
            continue;
        };
        let inside = &tail[1..close];
        let index = if inside.is_empty() {
            next += 1;
            Some(next - 1)
        } else {
            inside.parse::<usize>().ok()
        };
        match index.and_then(|i| args.get(i)) {
            Some(arg) => out.push_str(&arg.to_string()),
            None => out.push_str(&tail[..=close]),
        }
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Words whose language is chosen where they are shown: an error a driver returns, a notice the
/// session keeps while the customer may still switch language.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Text(Part);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Part {
    Message {
        msgid: &'static str,
        args: Vec<Text>,
    },
    /// Said the same in every language: a number, an account number, a reference.
    Verbatim(String),
}

impl Text {
    pub const fn new(msgid: &'static str) -> Text {
        Text(Part::Message { msgid, args: Vec::new() })
    }

    /// A message with placeholders (see [`trf`]); each argument is itself words or verbatim.
    pub fn with(msgid: &'static str, args: impl IntoIterator<Item = Text>) -> Text {
        Text(Part::Message { msgid, args: args.into_iter().collect() })
    }

    /// Text that no language changes: digits, a reference, an amount.
    pub fn verbatim(text: impl Into<String>) -> Text {
        Text(Part::Verbatim(text.into()))
    }

    pub fn in_lang(&self, lang: Lang) -> String {
        match &self.0 {
            Part::Verbatim(text) => text.clone(),
            Part::Message { msgid, args } => {
                let args: Vec<String> = args.iter().map(|a| a.in_lang(lang)).collect();
                let args: Vec<&dyn fmt::Display> = args.iter().map(|a| a as &dyn fmt::Display).collect();
                trf(lang, msgid, &args)
            }
        }
    }
}

impl Text {
    /// Chinese, then `between`, then English (see [`bilingual`]).
    pub fn bilingual(&self, between: &str) -> String {
        format!("{}{between}{}", self.in_lang(Lang::Zh), self.in_lang(Lang::En))
    }
}

/// English: the source text, for logs and `Display` of errors.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.in_lang(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_in_order_by_number_and_leave_braces_alone() {
        assert_eq!(fill("{} of {}", &[&2, &5]), "2 of 5");
        assert_eq!(fill("{1}的{0}", &[&"a", &"b"]), "b的a");
        assert_eq!(fill("{{literal}} {}", &[&1]), "{literal} 1");
        assert_eq!(fill("{9} and { and }", &[&1]), "{9} and { and }");
        assert_eq!(fill("no args", &[]), "no args");
    }

    #[test]
    fn chinese_comes_from_the_catalogue_and_english_is_the_source() {
        assert_eq!(tr(Lang::Zh, "Back"), "返回");
        assert_eq!(tr(Lang::En, "Back"), "Back");
        assert_eq!(tr(Lang::Zh, "not in the catalogue"), "not in the catalogue");
    }

    #[test]
    fn a_text_is_put_into_words_where_it_is_shown() {
        let text = Text::with("Step {0} of {1}", [Text::verbatim("2"), Text::verbatim("5")]);
        assert_eq!(text.in_lang(Lang::En), "Step 2 of 5");
        assert_eq!(text.in_lang(Lang::Zh), "第2步/共5步");
        assert_eq!(text.to_string(), "Step 2 of 5");
    }
}
