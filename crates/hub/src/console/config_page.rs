//! The kiosk page's configuration section: the version the kiosk reports running, the last one
//! pushed, and (for admins) the form that pushes a new one.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use fleet::wire::Heartbeat;
use serde::Deserialize;

use super::accounts::Operator;
use super::html::{esc, form, shanghai};
use super::i18n::{tr, Lang};
use super::pages::{db_error, permitted, PageResult};
use super::{refusal, Console};
use crate::configs::{self, PushRefused, PushedConfig};
use crate::fleet_view::KioskLine;

/// The section, for `k` as its last heartbeat and the last push describe it.
pub fn section(
    lang: Lang,
    op: &Operator,
    k: &KioskLine,
    beat: Option<&Heartbeat>,
    pushed: Option<&PushedConfig>,
) -> String {
    let running = match beat {
        Some(b) if b.config_version > 0 => format!("{} {}", tr(lang, "version"), b.config_version),
        Some(_) => tr(lang, "the file it was installed with").to_owned(),
        None => "—".to_owned(),
    };
    let last = match pushed {
        Some(p) => format!(
            "{} {} · {} · {} · SHA-256 {}…",
            tr(lang, "version"),
            p.version,
            esc(&p.pushed_by),
            shanghai(p.pushed_at),
            esc(&p.sha256[..12.min(p.sha256.len())])
        ),
        None => tr(lang, "None.").to_owned(),
    };
    let mut out = format!(
        "<h2>{}</h2><p id=\"config\">{}: <b>{running}</b> · {}: {last}</p>",
        tr(lang, "Configuration"),
        tr(lang, "Running"),
        tr(lang, "Last pushed"),
    );
    if op.role.administers() && k.paired && !k.revoked {
        // Pre-filled with the last version pushed: an edit, not a retyping.
        let text = pushed.map(|p| p.body.as_str()).unwrap_or_default();
        let inner = format!(
            "<p>{}</p><textarea id=\"config-text\" name=\"config\" rows=\"14\" cols=\"90\" spellcheck=\"false\" required>{}</textarea><br>",
            tr(lang, "The whole kiosk.toml. The kiosk checks it as at start-up and takes it up when no customer is there; kiosk.id, the journal and [hub] are changed on site."),
            esc(text)
        );
        out.push_str("<div class=\"note\">");
        out.push_str(&form(
            op,
            &format!("/console/kiosks/{}/config", k.id),
            &inner,
            tr(lang, "Push configuration"),
        ));
        out.push_str("</div>");
    }
    out
}

#[derive(Deserialize)]
pub struct PushForm {
    csrf: String,
    config: String,
}

/// Pushes the form's text to the kiosk (admins only).
pub async fn push(
    Console { state, lang, op }: Console,
    Path(id): Path<String>,
    Form(form): Form<PushForm>,
) -> PageResult {
    permitted(lang, &op, &form.csrf, op.role.administers())?;
    // Browsers send CRLF from a textarea; the kiosk's file keeps its own line ends.
    let text = form.config.replace("\r\n", "\n");
    match configs::push(&state.pool, &id, &op.name, &text).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/kiosks/{id}")).into_response()),
        Err(PushRefused::Db(e)) => Err(db_error(e)),
        Err(refused) => {
            let (status, words) = match &refused {
                PushRefused::NoSuchKiosk => (StatusCode::NOT_FOUND, tr(lang, "No such kiosk.").to_owned()),
                PushRefused::TooLarge => {
                    (StatusCode::BAD_REQUEST, tr(lang, "The configuration is larger than 64 KiB.").to_owned())
                }
                PushRefused::NotToml(why) => (
                    StatusCode::BAD_REQUEST,
                    format!("{} {why}", tr(lang, "The configuration is not valid TOML:")),
                ),
                PushRefused::OtherKiosk { .. } => (
                    StatusCode::BAD_REQUEST,
                    tr(lang, "The configuration's [kiosk] id names another kiosk.").to_owned(),
                ),
                PushRefused::Db(_) => unreachable!("answered above"),
            };
            Err(refusal(lang, &op, status, &words).into())
        }
    }
}
