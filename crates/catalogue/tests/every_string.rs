//! Every word goes through the one catalogue. This test reads the workspace's sources and fails
//! on: a `tr`/`trf`/`bilingual`/`Text::new`/`Text::with`/`@tr` msgid that the catalogue lacks or leaves
//! untranslated; a catalogue entry nothing uses; placeholders that differ between a msgid and its
//! Chinese; and a Chinese string literal written anywhere but as a msgid — the sign of words
//! that bypassed the catalogue. Test code (files under `tests/`, `tests.rs`, and what follows a
//! file's `#[cfg(test)]`) and the paths in [`NOT_OUR_WORDS`] are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Sources whose Chinese is data, not words of ours, and why.
const NOT_OUR_WORDS: &[(&str, &str)] = &[
    ("/sim/", "simulators play the other side: a biller's, a bank's or a card's own text"),
    ("crates/simkit/", "the simulator kit"),
    ("drivers/idcard/src/text/", "the card's own code tables (GB/T 2261.1 sex, GB 3304 民族) and its 长期"),
    ("crates/payments/src/wechat/bill.rs", "the column headings of WeChat Pay's statement file"),
    ("crates/payments/src/alipay/bill.rs", "the column headings of Alipay's statement file"),
    (
        "crates/payments/src/unionpay/file.rs",
        "the field names of UnionPay's ZM file, as its specification names them",
    ),
    (
        "crates/payments/src/card_acquirer/file.rs",
        "the column headings and transaction types of the card acquirer's settlement file",
    ),
    ("kiosk-ui/src/gallery.rs", "sample customers (names, addresses) for the screenshot gallery"),
    ("kiosk-ui/ui/minimal.slint", "the minimal window the UI benchmarks compare with: a CJK sample"),
    ("crates/kiosk-core/src/testing.rs", "test fixtures (a masked holder's name)"),
    ("crates/yizhan/src/soak/customer.rs", "the soak's simulated biller (a masked holder's name)"),
];

#[test]
fn every_word_is_in_the_catalogue_and_the_catalogue_has_nothing_else() {
    let files: Vec<(String, String)> = sources()
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("a source file is readable");
            (file.strip_prefix(workspace()).unwrap_or(&file).display().to_string(), text)
        })
        .collect();
    let problems = check(&files, &catalogue_entries());
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// The verdict on sources (path, text) against a catalogue (msgid -> Chinese).
fn check(files: &[(String, String)], catalogue: &BTreeMap<String, String>) -> Vec<String> {
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut problems: Vec<String> = Vec::new();
    for (path, text) in files {
        let slint = path.ends_with(".slint");
        let code = if slint { &text[..] } else { before_tests(text) };
        for literal in string_literals(code) {
            let line = code[..literal.at].matches('\n').count() + 1;
            let before = &code[..literal.at];
            let is_msgid = if slint { after_slint_tr(before) } else { after_rust_tr(before) };
            if literal.is_char {
                // Punctuation that tells Chinese text apart ('。') is grammar; a word is not.
                if has_ideograph(&literal.value) && !excluded(path) {
                    problems
                        .push(format!("{path}:{line}: '{}' is Chinese outside the catalogue", literal.value));
                }
            } else if is_msgid {
                match catalogue.get(&literal.value) {
                    None => {
                        problems.push(format!("{path}:{line}: {:?} is not in the catalogue", literal.value))
                    }
                    Some(zh) if zh.is_empty() => {
                        problems.push(format!("{path}:{line}: {:?} has no Chinese", literal.value))
                    }
                    Some(_) => {}
                }
                used.insert(literal.value);
            } else if slint && shown_in_slint(before) && has_letters(&literal.value) && !excluded(path) {
                problems.push(format!("{path}:{line}: {:?} is shown without @tr", literal.value));
            } else if has_chinese(&literal.value) && !excluded(path) {
                problems.push(format!("{path}:{line}: {:?} is Chinese outside the catalogue", literal.value));
            }
        }
    }
    for (msgid, zh) in catalogue {
        if !used.contains(msgid) {
            problems.push(format!("catalogue: {msgid:?} is used by nothing"));
        }
        if placeholders(msgid) != placeholders(zh) {
            problems.push(format!("catalogue: {msgid:?} and {zh:?} have different placeholders"));
        }
        // English is the source. The one exception is the language button's "中文", which an
        // English screen shows as it is.
        if msgid != "中文" && (has_chinese(msgid) || !has_chinese(zh)) {
            problems.push(format!("catalogue: {msgid:?} -> {zh:?} is not English -> Chinese"));
        }
    }
    problems
}

#[test]
fn the_check_catches_words_that_bypass_the_catalogue() {
    let catalogue: BTreeMap<String, String> =
        [("Back", "返回"), ("{0} of {1}", "{1}的{0}"), ("Unused", "没用"), ("Odd {}", "奇怪")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .into();
    let rust = r##"fn f(s: &S, lang: Lang) {
    let a = tr(
        s.lang(),
        "Back",
    );
    let b = trf(lang, "{0} of {1}", &[&1, &2]);
    let c = Text::new("Missing");
    let d = "返回";
    let e = '整';
    let f = ['。', '，'];
    let g = r#"raw 中文"#;
    let h = x.bilingual(" / ");
    let i = trf(lang, "Odd {}", &[&1]);
}
#[cfg(test)]
mod tests { const T: &str = "测试"; }
"##
    .to_string();
    let slint = r#"Text { text: @tr("Back"); } Text { text: "Shown"; } if x == "attract": Text { text: "ok" + @tr("Back"); }"#;
    let files = [("src/a.rs".to_string(), rust), ("ui/a.slint".to_string(), slint.to_string())];
    let problems = check(&files, &catalogue);
    let expected = [
        "src/a.rs:7: \"Missing\" is not in the catalogue",
        "src/a.rs:8: \"返回\" is Chinese outside the catalogue",
        "src/a.rs:9: '整' is Chinese outside the catalogue",
        "src/a.rs:11: \"raw 中文\" is Chinese outside the catalogue",
        "ui/a.slint:1: \"Shown\" is shown without @tr",
        "ui/a.slint:1: \"ok\" is shown without @tr",
        "catalogue: \"Odd {}\" and \"奇怪\" have different placeholders",
        "catalogue: \"Unused\" is used by nothing",
    ];
    assert_eq!(problems, expected, "{problems:#?}");
    let not_english: BTreeMap<String, String> = [("返回".to_string(), "返回".to_string())].into();
    let problems = check(&[("ui/b.slint".into(), r#"@tr("返回")"#.into())], &not_english);
    assert_eq!(problems, ["catalogue: \"返回\" -> \"返回\" is not English -> Chinese"]);
}

#[test]
fn the_reader_finds_msgids_and_chinese_where_they_are() {
    let code = r#"let a = tr(s.lang(), "Back"); let b = trf(lang, "{0} of {1}", &[&1]); // "注释"
        let c = Text::with("Paid", []); let d = "中文"; let e = 'x'; /* "块" */ let f = r"raw\";"#;
    let found: Vec<(String, bool)> = string_literals(code)
        .into_iter()
        .filter(|l| !l.is_char)
        .map(|l| (l.value.clone(), after_rust_tr(&code[..l.at])))
        .collect();
    let expected = [("Back", true), ("{0} of {1}", true), ("Paid", true), ("中文", false), ("raw\\", false)];
    assert_eq!(found, expected.map(|(v, m)| (v.to_string(), m)));
    assert!(after_slint_tr("text: @tr( "));
    assert!(!after_slint_tr("text: "));
    assert!(shown_in_slint("Text { text: ") && !shown_in_slint("if Kiosk.screen == "));
    assert!(after_rust_tr("bilingual(") && !after_rust_tr("x.bilingual("));
    assert_eq!(before_tests("a\n#[cfg(test)]\nmod tests {}"), "a\n");
    assert!(has_chinese("缴费") && !has_chinese("Pay ¥5"));
    assert!(has_ideograph("整") && !has_ideograph("。"));
    assert_eq!(placeholders("{1}的{0}"), placeholders("{0} of {1}"));
    assert_ne!(placeholders("{} and {}"), placeholders("{}"));
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace root")
}

fn catalogue_entries() -> BTreeMap<String, String> {
    let path = workspace().join("crates/catalogue/translations/zh_CN/LC_MESSAGES/kiosk-ui.po");
    let source = std::fs::read_to_string(&path).expect("the catalogue is readable");
    assert_eq!(catalogue::ZH_CN_PO, source, "the library ships the file this test reads");
    let pairs = catalogue::entries().unwrap_or_else(|error| panic!("catalogue: {error}"));
    let mut entries = BTreeMap::new();
    for (msgid, zh) in pairs {
        assert!(entries.insert(msgid.clone(), zh).is_none(), "catalogue: {msgid:?} appears twice");
    }
    entries
}

/// Every `.rs` under a `src/` and every `.slint` of the workspace, test files left out.
fn sources() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![workspace()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a workspace directory is readable").flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !["target", "tests", ".git", "node_modules"].contains(&name.as_str())
                    && !name.starts_with('.')
                {
                    stack.push(path);
                }
            } else if (name.ends_with(".rs") && name != "tests.rs" && name != "build.rs")
                || name.ends_with(".slint")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn excluded(path: &str) -> bool {
    NOT_OUR_WORDS.iter().any(|(part, _)| path.contains(part))
}

/// The part of a Rust file before its test module.
fn before_tests(text: &str) -> &str {
    text.find("\n#[cfg(test)]").map_or(text, |at| &text[..=at])
}

fn has_letters(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_alphabetic())
}

/// A Chinese character (not punctuation).
fn has_ideograph(text: &str) -> bool {
    text.chars().any(|c| matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'))
}

fn has_chinese(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{2E80}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF01}'..='\u{FF5E}'))
}

/// `{}` counted, `{n}` by number: the arguments a pattern takes.
fn placeholders(pattern: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let tail = &rest[open..];
        match tail.find('}') {
            Some(close) => {
                let inside = &tail[1..close];
                found.push(if inside.is_empty() { format!("#{}", found.len()) } else { inside.to_string() });
                rest = &tail[close + 1..];
            }
            None => break,
        }
    }
    found.sort();
    found
}

struct Literal {
    at: usize,
    value: String,
    is_char: bool,
}

/// The string literals of Rust or Slint code, comments and char literals skipped.
fn string_literals(code: &str) -> Vec<Literal> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = code[i..].find('\n').map_or(bytes.len(), |n| i + n)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = code[i + 2..].find("*/").map_or(bytes.len(), |n| i + n + 4)
            }
            b'\'' => {
                let end = skip_char_literal(bytes, i);
                if end > i + 2 {
                    found.push(Literal { at: i, value: code[i + 1..end - 1].to_string(), is_char: true });
                }
                i = end;
            }
            b'r' if is_raw_start(bytes, i) => {
                let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
                let start = i + 2 + hashes;
                let close = format!("\"{}", "#".repeat(hashes));
                let end = code[start..].find(&close).map_or(bytes.len(), |n| start + n);
                found.push(Literal { at: i, value: code[start..end].to_string(), is_char: false });
                i = end + close.len();
            }
            b'"' => {
                let (value, end) = read_string(code, i + 1);
                found.push(Literal { at: i, value, is_char: false });
                i = end;
            }
            _ => i += 1,
        }
    }
    found
}

fn is_raw_start(bytes: &[u8], i: usize) -> bool {
    let before_ok = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
    let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
    before_ok && bytes.get(i + 1 + hashes) == Some(&b'"')
}

fn skip_char_literal(bytes: &[u8], i: usize) -> usize {
    if bytes.get(i + 1) == Some(&b'\\') {
        return bytes[i + 2..].iter().position(|&b| b == b'\'').map_or(bytes.len(), |n| i + 3 + n);
    }
    // A char literal is one (possibly multi-byte) char between quotes; otherwise a lifetime.
    let width = std::str::from_utf8(&bytes[i + 1..(i + 5).min(bytes.len())])
        .ok()
        .or_else(|| {
            (1..4).rev().find_map(|w| std::str::from_utf8(&bytes[i + 1..(i + 1 + w).min(bytes.len())]).ok())
        })
        .and_then(|s| s.chars().next())
        .map_or(1, char::len_utf8);
    if bytes.get(i + 1 + width) == Some(&b'\'') {
        i + 2 + width
    } else {
        i + 1
    }
}

/// Reads a string's body from `start` (after the quote) to its closing quote, with escapes.
fn read_string(code: &str, start: usize) -> (String, usize) {
    let mut value = String::new();
    let mut chars = code[start..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return (value, start + at + 1),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                Some('\n') => {
                    // A line continuation: the next line's leading whitespace is not part of it.
                    let rest = &code[start + at + 2..];
                    let skip = rest.len() - rest.trim_start().len();
                    for _ in rest[..skip].chars() {
                        chars.next();
                    }
                }
                Some(other) => value.push(other),
                None => break,
            },
            c => value.push(c),
        }
    }
    (value, code.len())
}

/// Whether a .slint literal sets a property people see or hear, without `@tr`.
fn shown_in_slint(before: &str) -> bool {
    let before = before.trim_end();
    ["text:", "accessible-label:", "accessible-description:", "description:", "title:", "placeholder-text:"]
        .iter()
        .any(|property| before.ends_with(property))
}

/// Whether the code before a literal ends in `@tr(`.
fn after_slint_tr(before: &str) -> bool {
    before.trim_end().ends_with("@tr(")
}

/// Whether the code before a literal ends in `Text::new(`, `Text::with(`, `bilingual(`, or `tr(<lang>,` /
/// `trf(<lang>,`: the literal is a msgid.
fn after_rust_tr(before: &str) -> bool {
    let before = before.trim_end();
    let free_bilingual = before.ends_with("bilingual(") && !before.ends_with(".bilingual(");
    if free_bilingual || before.ends_with("Text::new(") || before.ends_with("Text::with(") {
        return true;
    }
    let Some(before) = before.strip_suffix(',') else { return false };
    // Walk back over the first argument to the call's open parenthesis.
    let mut depth = 0usize;
    for (at, c) in before.char_indices().rev() {
        match c {
            ')' | ']' => depth += 1,
            '(' | '[' if depth > 0 => depth -= 1,
            '(' => {
                let name = before[..at].trim_end();
                let ident_start =
                    name.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |n| n + 1);
                return matches!(&name[ident_start..], "tr" | "trf");
            }
            '"' | ';' | '{' | '}' => return false,
            _ => {}
        }
    }
    false
}
