//! The exception desk's actions that have a kiosk do something about a difference (finance):
//! on a write-off the biller's files lack (`NOT_AT_BILLER`), ask the biller again; on a charge
//! the channel booked for an order the kiosk holds as never charged (`CHANNEL_ONLY`), give the
//! whole order back through the channel. Each is a command to the difference's kiosk (audited
//! as every command), carried out there by its own journal-first machinery; the difference's
//! page lists what was sent and what came of it. Resolving the difference stays a separate
//! step, with its reason.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use fleet::wire::CommandAction;
use serde::Deserialize;

use super::accounts::Operator;
use super::html::{esc, form};
use super::i18n::{tr, Lang};
use super::pages::{db_error, permitted, PageResult, Refused};
use super::{refusal, Console};
use crate::api::AppState;
use crate::recon::desk::{self, Exception};

/// What the desk can have a kiosk do about an open difference.
enum Action {
    /// Ask the biller about this write-off reference; send it again if it never had it.
    WriteOffAgain { reference: String },
    /// Refund the whole order through its channel, per these statements (SHA-256): the charge
    /// of `amount_fen` in `source`'s statement.
    Refund { source: String, amount_fen: i64, files: Vec<String> },
}

impl Action {
    /// The action an open difference of a known order at a known kiosk allows, if any.
    fn of(e: &Exception) -> Option<Action> {
        if e.status != "open" || e.kiosk_id.is_none() || e.order_ref.is_none() {
            return None;
        }
        let words: Vec<&str> = e.detail.split_whitespace().collect();
        match (e.kind.as_str(), words.get(3)) {
            ("NOT_AT_BILLER", _) => Some(Action::WriteOffAgain { reference: words.get(1)?.to_string() }),
            // `CHANNEL_ONLY <order> ¥<amount> payment in the <source> statement`: a charge.
            ("CHANNEL_ONLY", Some(&"payment")) => {
                let amount_fen = fen_of_shown(words.get(2)?)?;
                let source = words.get(6)?.to_string();
                let files = e.evidence["files"].as_array()?;
                let files = files.iter().filter_map(|f| f["sha256"].as_str().map(str::to_owned)).collect();
                Some(Action::Refund { source, amount_fen, files })
            }
            _ => None,
        }
    }

    fn command(self, order_ref: &str) -> CommandAction {
        match self {
            Action::WriteOffAgain { reference } => {
                CommandAction::ResendWriteOff { order_ref: order_ref.to_owned(), reference }
            }
            Action::Refund { source, amount_fen, files } => CommandAction::RefundPerStatement {
                order_ref: order_ref.to_owned(),
                source,
                amount_fen,
                files,
            },
        }
    }
}

/// An amount as a flag's line shows it (`¥19.90`), in fen.
fn fen_of_shown(text: &str) -> Option<i64> {
    let (yuan, fen) = text.strip_prefix('¥')?.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(yuan) && fen.len() == 2 && digits(fen) && yuan.len() <= 12)
        .then(|| yuan.parse::<i64>().ok()?.checked_mul(100)?.checked_add(fen.parse().ok()?))
        .flatten()
}

/// The button an open difference offers, with what it does; none for other differences.
pub fn buttons(op: &Operator, lang: Lang, e: &Exception) -> String {
    let (id, path, words, button) = match Action::of(e) {
        Some(Action::WriteOffAgain { .. }) => (
            "write-off-again",
            "write-off-again",
            tr(
                lang,
                "The kiosk asks the biller about the write-off, and sends it again only if the biller never had it.",
            ),
            tr(lang, "Ask the biller again"),
        ),
        Some(Action::Refund { .. }) => (
            "refund-per-statement",
            "refund",
            tr(
                lang,
                "The kiosk gives the whole order back through its channel, as any refund, and only if its journal holds the order as never charged.",
            ),
            tr(lang, "Give the money back through the channel"),
        ),
        None => return String::new(),
    };
    format!(
        "<div id=\"{id}\"><p>{words}</p>{}</div>",
        form(op, &format!("/console/recon/exceptions/{}/{path}", e.id), "", button)
    )
}

/// The commands sent to the kiosk about this difference, and what came of each.
pub async fn sent(state: &AppState, lang: Lang, e: &Exception) -> Result<String, Refused> {
    let (Some(kiosk), Some(order_ref)) = (&e.kiosk_id, &e.order_ref) else {
        return Ok(String::new());
    };
    let reference = e.detail.split_whitespace().nth(1).unwrap_or("");
    let rows: Vec<(i64, Option<bool>, Option<String>)> = sqlx::query_as(
        "SELECT id, done, detail FROM commands WHERE kiosk_id = $1 AND ( \
           (action->>'kind' = 'resend_write_off' AND action->>'reference' = $2) \
           OR (action->>'kind' = 'refund_per_statement' AND action->>'order_ref' = $3)) ORDER BY id",
    )
    .bind(kiosk)
    .bind(reference)
    .bind(order_ref)
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    if rows.is_empty() {
        return Ok(String::new());
    }
    let mut out = format!("<h2>{}</h2><ul id=\"sent-to-kiosk\">", tr(lang, "Sent to the kiosk"));
    for (id, done, detail) in rows {
        let outcome = match done {
            None => tr(lang, "waiting for the kiosk").to_string(),
            Some(_) => esc(detail.as_deref().unwrap_or("")),
        };
        out.push_str(&format!("<li>#{id}: {outcome}</li>"));
    }
    out.push_str("</ul>");
    Ok(out)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// Sends a `NOT_AT_BILLER` difference's kiosk the command that asks the biller again.
pub async fn write_off_again(console: Console, id: Path<i64>, form: Form<CsrfOnly>) -> PageResult {
    send(console, id, form, |a| matches!(a, Action::WriteOffAgain { .. })).await
}

/// Sends a `CHANNEL_ONLY` charge's kiosk the command that refunds the whole order.
pub async fn refund(console: Console, id: Path<i64>, form: Form<CsrfOnly>) -> PageResult {
    send(console, id, form, |a| matches!(a, Action::Refund { .. })).await
}

async fn send(
    Console { state, lang, op }: Console,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
    wanted: fn(&Action) -> bool,
) -> PageResult {
    permitted(lang, &op, &form.csrf, op.role.settles())?;
    let Some(e) = desk::get(&state.pool, id).await.map_err(db_error)? else {
        return Err(refusal(lang, &op, StatusCode::NOT_FOUND, tr(lang, "No such exception.")).into());
    };
    let (Some(action), Some(kiosk), Some(order_ref)) =
        (Action::of(&e).filter(wanted), &e.kiosk_id, &e.order_ref)
    else {
        let words = tr(lang, "This difference does not allow that, or is resolved already.");
        return Err(refusal(lang, &op, StatusCode::CONFLICT, words).into());
    };
    let command = action.command(order_ref);
    crate::commands::enqueue(&state.pool, kiosk, &op.name, &command).await.map_err(db_error)?;
    Ok(Redirect::to(&format!("/console/recon/exceptions/{id}")).into_response())
}
