//! HTML for the console: escaping, the page frame, and how numbers, times and accounts look.

use super::accounts::Operator;
use super::i18n::{tr, Lang};

/// `text` safe inside HTML text and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fen as yuan: `¥126.80`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}¥{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// An account number as receipts show it: the first two and last four characters.
pub fn mask_account(account: &str) -> String {
    let chars: Vec<char> = account.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// A time in Shanghai (UTC+8), to the second.
pub fn shanghai(at: chrono::DateTime<chrono::Utc>) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    at.with_timezone(&offset).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Milliseconds since the epoch, in Shanghai.
pub fn shanghai_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(shanghai).unwrap_or_else(|| ms.to_string())
}

/// A table's opening and its heading row: `<table id="…"><tr><th>…</th>…</tr>`. The headings
/// are the console's own words, written as they are; the caller adds the rows and `</table>`.
pub fn table_head(id: &str, headings: &[&str]) -> String {
    let mut out = format!("<table id=\"{}\"><tr>", esc(id));
    for heading in headings {
        out.push_str("<th>");
        out.push_str(heading);
        out.push_str("</th>");
    }
    out.push_str("</tr>");
    out
}

/// A POST form with the session's CSRF token.
pub fn form(operator: &Operator, action: &str, inner: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">{inner}<button type=\"submit\">{}</button></form>",
        esc(action),
        esc(&operator.csrf),
        esc(button)
    )
}

const STYLE: &str = "
body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:0;color:#1d2733;background:#f4f6f8}
header{background:#0b4f8a;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;font-weight:bold}header .me{margin-left:auto}
main{padding:16px 20px}h1{font-size:22px;margin:4px 0 12px}h2{font-size:18px;margin:18px 0 8px}
table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #d5dbe1;padding:6px 8px;text-align:left;font-size:14px;vertical-align:top}
th{background:#e8eef4}.bad{color:#b3261e;font-weight:bold}.warn{color:#8a5300;font-weight:bold}.good{color:#1b6e2a}
form.inline{display:inline-block;margin:2px 6px 2px 0}input,select{font-size:14px;padding:4px}button{font-size:14px;padding:4px 10px;cursor:pointer}
.note{background:#fff;border:1px solid #d5dbe1;padding:10px;margin:10px 0}pre{white-space:pre-wrap;margin:0;max-height:24em;overflow:auto}tr.current td{background:#fff7d6}
.login{max-width:360px;margin:60px auto;background:#fff;padding:24px;border:1px solid #d5dbe1}.login label{display:block;margin:10px 0 4px}
";

/// A whole page: the bar with the menu, the language switch and sign-out, then `body`.
pub fn page(lang: Lang, operator: Option<&Operator>, title: &str, body: &str) -> String {
    let menu = match operator {
        Some(op) => {
            let mut links = vec![
                format!("<a href=\"/console\">{}</a>", tr(lang, "Fleet")),
                format!("<a href=\"/console/alerts\">{}</a>", tr(lang, "Alerts")),
                format!("<a href=\"/console/payments\">{}</a>", tr(lang, "Payments")),
            ];
            if op.role.settles() {
                links.push(format!("<a href=\"/console/recon\">{}</a>", tr(lang, "Reconciliation")));
            }
            if op.role.administers() {
                links.push(format!("<a href=\"/console/kiosks/new\">{}</a>", tr(lang, "New kiosk")));
                links.push(format!("<a href=\"/console/updates\">{}</a>", tr(lang, "Software updates")));
                links.push(format!("<a href=\"/console/audit\">{}</a>", tr(lang, "Audit log")));
            }
            let role = match &op.hall {
                Some(hall) => format!("{}, {}", op.role.as_str(), esc(hall)),
                None => op.role.as_str().to_owned(),
            };
            format!(
                "{}<span class=\"me\">{} ({role})</span>{}",
                links.join(""),
                esc(&op.name),
                form(op, "/console/logout", "", tr(lang, "Sign out"))
            )
        }
        None => String::new(),
    };
    // The kiosk's language button: it names the other language ("English" on a Chinese page).
    let switch_to = if lang == Lang::Zh { "en" } else { "zh" };
    let other = format!("<a href=\"/console/lang/{switch_to}\">{}</a>", tr(lang, "中文"));
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{} · {}</title><style>{STYLE}</style></head><body><header><span>{}</span>{menu}{other}</header><main>{body}</main></body></html>",
        super::i18n::code(lang),
        esc(title),
        tr(lang, "Yizhan fleet console"),
        tr(lang, "Yizhan fleet console"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_accounts_are_masked() {
        assert_eq!(
            esc("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(mask_account("3200000010"), "32****0010");
        assert_eq!(mask_account("12345"), "*****");
        assert_eq!(yuan(12_680), "¥126.80");
        assert_eq!(yuan(-5), "-¥0.05");
    }
}
