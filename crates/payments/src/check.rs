//! Does a signed reply speak of *our* transaction? Every channel echoes the order number and the
//! amount; a reply that names another order or another amount proves nothing about ours (a
//! misrouted reply, a replayed one, or a bug on either side), and acting on it could touch someone
//! else's money. The channel modules read the fields; the verdict is taken here, the same way for
//! all three channels.

use kiosk_core::Fen;

/// One field a reply echoes: its wire name, the value we sent, and what the reply carries
/// (`None` or empty: absent).
pub(crate) struct Echo<'a> {
    pub key: &'static str,
    pub ours: String,
    pub theirs: Option<&'a str>,
    /// How to read the reply's value for comparison; `None` for text compared as is.
    pub amount: Option<fn(&str) -> Option<Fen>>,
}

impl<'a> Echo<'a> {
    /// A text field (an order or refund number) compared byte for byte.
    pub fn text(key: &'static str, ours: &str, theirs: Option<&'a str>) -> Echo<'a> {
        Echo { key, ours: ours.to_string(), theirs, amount: None }
    }

    /// An amount in whole fen (WeChat `total_fee`, UnionPay `txnAmt`).
    pub fn fen(key: &'static str, ours: Fen, theirs: Option<&'a str>) -> Echo<'a> {
        Echo { key, ours: ours.0.to_string(), theirs, amount: Some(parse_fen) }
    }

    /// An amount in yuan with up to two decimals (Alipay `total_amount`): "86.5" is 8650 fen.
    pub fn yuan(key: &'static str, ours: Fen, theirs: Option<&'a str>) -> Echo<'a> {
        Echo { key, ours: ours.0.to_string(), theirs, amount: Some(parse_yuan) }
    }
}

fn parse_fen(text: &str) -> Option<Fen> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().map(Fen)
}

fn parse_yuan(text: &str) -> Option<Fen> {
    Fen::parse_yuan(text).ok()
}

/// What the echoed fields say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every field present is ours (and every required one is present).
    Ours,
    /// A field names another order or amount: the reply is not about our transaction.
    Other(String),
    /// A field the protocol guarantees is absent, or an amount cannot be read: nothing can be
    /// concluded from this reply.
    Unclear(String),
}

/// Compares `echoes` with ours. A present field that differs wins over everything (`Other`);
/// then an unreadable amount, then (when `required`) an absent field, are `Unclear`.
pub(crate) fn judge(echoes: &[Echo<'_>], required: bool) -> Verdict {
    let mut unclear = None;
    for echo in echoes {
        let Some(theirs) = echo.theirs.filter(|v| !v.is_empty()) else {
            if required && unclear.is_none() {
                unclear = Some(format!("reply without {}", echo.key));
            }
            continue;
        };
        let differs = match echo.amount {
            None => theirs != echo.ours,
            Some(parse) => match parse(theirs) {
                Some(fen) => fen.0.to_string() != echo.ours,
                None => {
                    unclear = unclear.or(Some(format!("unreadable {} {theirs:?}", echo.key)));
                    continue;
                }
            },
        };
        if differs {
            return Verdict::Other(format!("{} is {theirs:?}, ours is {:?}", echo.key, echo.ours));
        }
    }
    match unclear {
        Some(detail) => Verdict::Unclear(detail),
        None => Verdict::Ours,
    }
}

/// [`judge`] for the answer to a query: where money moved (`required`), *one* echo is enough,
/// since payments.md lists only some of them there (Alipay's query answer names `total_amount`
/// but not `out_trade_no`, §2.1; WeChat's orderquery is "record `transaction_id`, `time_end`,
/// `cash_fee`", §1.5). A signed answer to a query that named our order, carrying our order
/// number or our amount and nothing that differs, is about our order; one carrying neither
/// proves nothing.
pub(crate) fn judge_query(echoes: &[Echo<'_>], required: bool) -> Verdict {
    let echoed = echoes.iter().any(|e| e.theirs.is_some_and(|v| !v.is_empty()));
    if required && !echoed {
        let keys: Vec<&str> = echoes.iter().map(|e| e.key).collect();
        return Verdict::Unclear(format!("reply without {}", keys.join(" or ")));
    }
    judge(echoes, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_different_field_wins_then_unreadable_then_missing() {
        let ours = |order: Option<&'static str>, fee: Option<&'static str>| {
            [Echo::text("out_trade_no", "A1", order), Echo::fen("total_fee", Fen(100), fee)]
        };
        assert_eq!(judge(&ours(Some("A1"), Some("100")), true), Verdict::Ours);
        assert_eq!(judge(&ours(None, None), false), Verdict::Ours);
        assert_eq!(judge(&ours(Some(""), Some("100")), false), Verdict::Ours, "empty is absent");
        assert!(
            matches!(judge(&ours(None, Some("100")), true), Verdict::Unclear(d) if d.contains("out_trade_no"))
        );
        assert!(matches!(judge(&ours(Some("A2"), None), true), Verdict::Other(d) if d.contains("A2")));
        assert!(matches!(judge(&ours(Some("A1"), Some("101")), false), Verdict::Other(_)));
        assert!(matches!(judge(&ours(Some("A2"), Some("x")), false), Verdict::Other(_)));
        assert!(matches!(judge(&ours(Some("A1"), Some("1e2")), false), Verdict::Unclear(_)));
        assert!(matches!(judge(&ours(Some("A1"), Some("-100")), false), Verdict::Unclear(_)));
        let yuan = |v: &'static str| judge(&[Echo::yuan("total_amount", Fen(8650), Some(v))], true);
        assert_eq!(yuan("86.5"), Verdict::Ours);
        assert_eq!(yuan("86.50"), Verdict::Ours);
        assert!(matches!(yuan("8650"), Verdict::Other(_)), "fen where yuan belongs");
        assert!(matches!(yuan("86.505"), Verdict::Unclear(_)));
    }

    #[test]
    fn a_query_answer_needs_one_echo_and_none_that_differs() {
        let ours = |order: Option<&'static str>, fee: Option<&'static str>| {
            [Echo::text("out_trade_no", "A1", order), Echo::fen("total_fee", Fen(100), fee)]
        };
        assert_eq!(judge_query(&ours(None, Some("100")), true), Verdict::Ours);
        assert_eq!(judge_query(&ours(Some("A1"), None), true), Verdict::Ours);
        assert_eq!(judge_query(&ours(None, None), false), Verdict::Ours, "nothing moved: nothing needed");
        assert!(matches!(
            judge_query(&ours(None, None), true),
            Verdict::Unclear(d) if d.contains("out_trade_no or total_fee")
        ));
        assert!(matches!(judge_query(&ours(None, Some("101")), true), Verdict::Other(_)));
        assert!(matches!(judge_query(&ours(Some("A2"), None), true), Verdict::Other(_)));
        assert!(matches!(judge_query(&ours(None, Some("1e2")), true), Verdict::Unclear(_)));
    }
}
