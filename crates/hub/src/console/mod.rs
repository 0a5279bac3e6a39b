//! The operator console: server-rendered HTML under `/console`, in Chinese and English, served by
//! every hub instance beside the kiosk API (on the same TLS port; browsers show no client
//! certificate). Operators sign in with a password ([`accounts`]); every form carries the
//! session's CSRF token; every action goes to the audit log.

pub mod accounts;
mod config_page;
pub mod html;
pub mod i18n;
mod pages;
mod recon_actions;
mod recon_page;
mod updates_page;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

use crate::api::AppState;
use accounts::Operator;
use i18n::{tr, Lang};

/// The session cookie's name.
const SESSION_COOKIE: &str = "yz_session";

/// The console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(pages::fleet))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/lang/{lang}", get(switch_language))
        .route("/console/kiosks/new", get(pages::new_kiosk_page))
        .route("/console/kiosks", post(pages::create_kiosk))
        .route("/console/kiosks/{id}", get(pages::kiosk))
        .route("/console/kiosks/{id}/commands", post(pages::send_command))
        .route("/console/kiosks/{id}/revoke", post(pages::revoke_kiosk))
        .route("/console/kiosks/{id}/config", post(config_page::push))
        .route("/console/payments", get(pages::payments))
        .route("/console/alerts", get(pages::alerts))
        .route("/console/alerts/{id}/ack", post(pages::acknowledge_alert))
        .route("/console/audit", get(pages::audit))
        .route("/console/recon", get(recon_page::show))
        .route("/console/recon/run", post(recon_page::run_now))
        .route("/console/recon/exceptions/{id}", get(recon_page::exception))
        .route("/console/recon/exceptions/{id}/resolve", post(recon_page::resolve))
        .route("/console/recon/cash/{kiosk}/{collection}", post(recon_page::count_cash))
        .route("/console/recon/exceptions/{id}/write-off-again", post(recon_actions::write_off_again))
        .route("/console/recon/exceptions/{id}/refund", post(recon_actions::refund))
        .route("/console/updates", get(updates_page::show))
        .route("/console/updates/rollouts", post(updates_page::start))
        .route("/console/updates/rollouts/{id}/stop", post(updates_page::stop))
        .layer(axum::middleware::map_response(security_headers))
}

/// No framing, no scripts from elsewhere, no sniffing; pages are not cached (they show money).
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language the operator chose (the `lang` cookie), Chinese by default.
#[derive(Clone, Copy, Debug)]
pub struct Language(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for Language {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Language(i18n::from_cookie(cookie(&parts.headers, "lang"))))
    }
}

/// The signed-in operator; a browser without a live session is sent to the sign-in page.
#[derive(Clone, Debug)]
pub struct Signed(pub Operator);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned);
        let operator = match token {
            Some(token) => accounts::session(&state.pool, &token).await.map_err(|e| {
                tracing::error!(error = %e, "console: session lookup failed");
                (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
            })?,
            None => None,
        };
        operator.map(Signed).ok_or_else(|| Redirect::to("/console/login").into_response())
    }
}

/// What every signed-in console page starts from: the hub's state, the operator's language and
/// the operator. One extractor, so a handler names only what is its own (the path, the form).
pub struct Console {
    pub state: AppState,
    pub lang: Lang,
    pub op: Operator,
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Ok(Language(lang)) = Language::from_request_parts(parts, state).await;
        let Signed(op) = Signed::from_request_parts(parts, state).await?;
        Ok(Console { state: state.clone(), lang, op })
    }
}

/// A page that says something went wrong, with its status.
pub(crate) fn refusal(
    lang: Lang,
    operator: &Operator,
    status: axum::http::StatusCode,
    words: &str,
) -> Response {
    let body = format!("<p class=\"bad\">{}</p>", html::esc(words));
    (status, Html(html::page(lang, Some(operator), words, &body))).into_response()
}

async fn login_page(Language(lang): Language) -> Html<String> {
    Html(login_form(lang, false))
}

fn login_form(lang: Lang, failed: bool) -> String {
    let error = if failed {
        format!("<p id=\"login-error\" class=\"bad\">{}</p>", tr(lang, "Wrong name or password."))
    } else {
        String::new()
    };
    let body = format!(
        "<form class=\"login\" method=\"post\" action=\"/console/login\"><h1>{}</h1>{error}\
         <label for=\"name\">{}</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required>\
         <label for=\"password\">{}</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <p><button id=\"sign-in\" type=\"submit\">{}</button></p></form>",
        tr(lang, "Sign in"),
        tr(lang, "Operator"),
        tr(lang, "Password"),
        tr(lang, "Sign in"),
    );
    html::page(lang, None, tr(lang, "Sign in"), &body)
}

#[derive(serde::Deserialize)]
struct LoginForm {
    name: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    Language(lang): Language,
    Form(form): Form<LoginForm>,
) -> Response {
    match accounts::sign_in(&state.pool, &form.name, &form.password).await {
        Ok(Some(token)) => {
            let cookie =
                format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=43200");
            ([(header::SET_COOKIE, cookie)], Redirect::to("/console")).into_response()
        }
        Ok(None) => (axum::http::StatusCode::UNAUTHORIZED, Html(login_form(lang, true))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console: sign-in failed");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct CsrfOnly {
    pub csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Signed(op): Signed,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if accounts::csrf_matches(&op.csrf, &form.csrf) {
        if let Some(token) = cookie(&headers, SESSION_COOKIE) {
            let _ = accounts::sign_out(&state.pool, token, &op.name).await;
        }
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, clear)], Redirect::to("/console/login")).into_response()
}

async fn switch_language(Path(lang): Path<String>, headers: HeaderMap) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    // Back to the page the link was on, if it was one of ours.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/console").map(|i| r[i..].to_owned()))
        .filter(|p| !p.starts_with("/console/lang"))
        .unwrap_or_else(|| "/console".to_owned());
    let cookie = format!("lang={value}; Path=/; SameSite=Lax; Max-Age=31536000");
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}
