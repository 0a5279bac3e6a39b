//! Reads the gettext `.po` subset the catalogue uses: comments, `msgid` / `msgstr` pairs and
//! their continuation lines, with C escapes. Contexts, plurals and fuzzy entries are refused
//! rather than misread: Slint's bundle skips a fuzzy entry (English on the button) where `tr`
//! would not, and it has no default context.

/// Every (msgid, msgstr) pair in file order, without the header entry.
pub fn parse(source: &str) -> Result<Vec<(String, String)>, String> {
    let mut entries = Vec::new();
    let mut msgid: Option<String> = None;
    let mut msgstr: Option<String> = None;
    let mut open: Option<&'static str> = None;
    for (number, line) in source.lines().enumerate() {
        let at = |what: &str| format!("line {}: {what}", number + 1);
        let line = line.trim();
        if line.starts_with("#,") && line.contains("fuzzy") {
            return Err(at("a fuzzy entry: review it and drop the flag, or remove it"));
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('"') {
            let piece = unquote(line).map_err(|e| at(&e))?;
            match open {
                Some("msgid") => msgid.get_or_insert_with(String::new).push_str(&piece),
                Some("msgstr") => msgstr.get_or_insert_with(String::new).push_str(&piece),
                _ => return Err(at("a continuation line outside msgid or msgstr")),
            }
            continue;
        }
        let (keyword, rest) = line.split_once(' ').ok_or_else(|| at("a keyword without a string"))?;
        let piece = unquote(rest.trim()).map_err(|e| at(&e))?;
        match keyword {
            "msgid" => {
                match (msgid.take(), msgstr.take()) {
                    (Some(id), Some(text)) => push(&mut entries, id, text),
                    (Some(_), None) => return Err(at("the msgid before this one has no msgstr")),
                    _ => {}
                }
                msgid = Some(piece);
                open = Some("msgid");
            }
            "msgstr" if msgid.is_some() && msgstr.is_none() => {
                msgstr = Some(piece);
                open = Some("msgstr");
            }
            "msgstr" => return Err(at("a msgstr without its msgid")),
            other => return Err(at(&format!("`{other}` is not used in this catalogue"))),
        }
    }
    match (msgid, msgstr) {
        (Some(id), Some(text)) => push(&mut entries, id, text),
        (Some(_), None) => return Err("the last msgid has no msgstr".into()),
        _ => {}
    }
    Ok(entries)
}

fn push(entries: &mut Vec<(String, String)>, msgid: String, msgstr: String) {
    if !msgid.is_empty() {
        entries.push((msgid, msgstr));
    }
}

fn unquote(quoted: &str) -> Result<String, String> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|_| quoted.len() >= 2)
        .ok_or_else(|| format!("{quoted:?} is not one quoted string"))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            return Err(format!("an unescaped quote in {quoted:?}"));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('"') => '"',
            Some('\\') => '\\',
            other => {
                return Err(format!(
                    "the escape \\{} in {quoted:?}",
                    other.map(String::from).unwrap_or_default()
                ))
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn pairs_continuations_and_escapes_are_read() {
        let po = "# comment\nmsgid \"\"\nmsgstr \"\"\n\"Language: zh_CN\\n\"\n\nmsgid \"Say \\\"hi\\\"\"\nmsgstr \"说\"\n\"“你好”\"\n";
        assert_eq!(parse(po).unwrap(), vec![("Say \"hi\"".to_string(), "说“你好”".to_string())]);
    }

    #[test]
    fn what_the_catalogue_does_not_use_is_refused_with_its_line() {
        assert!(parse("msgctxt \"a\"\nmsgid \"b\"\nmsgstr \"c\"").unwrap_err().starts_with("line 1"));
        assert!(parse("#, fuzzy\nmsgid \"b\"\nmsgstr \"c\"").unwrap_err().contains("fuzzy"));
        assert_eq!(parse("# a comment, fuzzy or not\nmsgid \"b\"\nmsgstr \"c\"").unwrap().len(), 1);
        assert!(parse("msgid \"a\"\nmsgid \"b\"\nmsgstr \"c\"").is_err());
        assert!(parse("msgid \"a\"").is_err());
        assert!(parse("msgid \"a\nmsgstr \"b\"").is_err());
        assert!(parse("msgid \"a\\q\"\nmsgstr \"b\"").is_err());
        assert!(parse("\"orphan\"").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_or_refused_without_a_panic(text in "(msgid |msgstr |\"|\\\\|\n|#|x| |字)*") {
            let _ = parse(&text);
        }

        #[test]
        fn any_bytes_are_read_or_refused_without_a_panic(text in "(.|\n)*") {
            let _ = parse(&text);
        }
    }
}
