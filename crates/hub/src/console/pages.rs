//! The console's pages: the fleet, one kiosk, payment search, alerts, a new kiosk's pairing
//! code, the audit log; and the actions their forms send.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use fleet::wire::{CommandAction, Heartbeat, Paper};
use serde::Deserialize;

use super::accounts::{csrf_matches, Operator};
use super::html::{esc, form, mask_account, page, shanghai, shanghai_ms, table_head, yuan};
use super::i18n::{tr, trf, Lang};
use super::{refusal, Console, CsrfOnly};
use crate::{alerts, commands, configs, fleet_view, kiosks};

/// An answer other than the page asked for: a refusal, or the database not answering.
pub struct Refused(Box<Response>);

impl From<Response> for Refused {
    fn from(response: Response) -> Self {
        Refused(Box::new(response))
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

pub(super) type PageResult = Result<Response, Refused>;

/// A form changes something only with the session's CSRF token and when the operator's role
/// `allowed` it: the check every POST makes first.
pub(super) fn permitted(lang: Lang, op: &Operator, csrf: &str, allowed: bool) -> Result<(), Refused> {
    if !csrf_matches(&op.csrf, csrf) {
        return Err(refusal(
            lang,
            op,
            StatusCode::FORBIDDEN,
            tr(lang, "The form expired; please try again."),
        )
        .into());
    }
    if !allowed {
        return Err(refusal(lang, op, StatusCode::FORBIDDEN, tr(lang, "You may not do that.")).into());
    }
    Ok(())
}

pub(super) fn db_error(e: sqlx::Error) -> Refused {
    tracing::error!(error = %e, "console: database error");
    (StatusCode::SERVICE_UNAVAILABLE, "the hub's database did not answer; reload in a moment")
        .into_response()
        .into()
}

fn ok(lang: Lang, op: &Operator, title: &str, body: String) -> PageResult {
    Ok(Html(page(lang, Some(op), title, &body)).into_response())
}

/// A kiosk's state in words: silent (no heartbeat for `silent_after`, the hub's threshold),
/// out of service, in service.
fn state_words(
    lang: Lang,
    line: &fleet_view::KioskLine,
    beat: Option<&Heartbeat>,
    silent_after: std::time::Duration,
) -> (String, &'static str) {
    let silent_after = chrono::Duration::from_std(silent_after).unwrap_or(chrono::Duration::MAX);
    let silent = line.last_seen_at.is_none_or(|t| chrono::Utc::now() - t > silent_after);
    if line.revoked {
        (tr(lang, "revoked").into(), "bad")
    } else if !line.paired {
        (tr(lang, "not paired").into(), "warn")
    } else if silent {
        (tr(lang, "silent").into(), "bad")
    } else if beat.is_some_and(|b| !b.in_service) {
        (tr(lang, "out of service").into(), "warn")
    } else {
        (tr(lang, "in service").into(), "good")
    }
}

fn paper_words(lang: Lang, paper: Paper) -> (&'static str, &'static str) {
    match paper {
        Paper::Ok => (tr(lang, "ok"), "good"),
        Paper::NearEnd => (tr(lang, "near end"), "warn"),
        Paper::Out => (tr(lang, "out"), "bad"),
        Paper::Unknown => (tr(lang, "unknown"), ""),
    }
}

fn cash_words(lang: Lang, beat: &Heartbeat) -> String {
    match &beat.cash_box {
        None => "—".into(),
        Some(c) if !c.present => format!("<span class=\"bad\">{}</span>", tr(lang, "removed")),
        Some(c) => {
            let full = if c.full {
                format!(" <span class=\"bad\">{}</span>", tr(lang, "full"))
            } else {
                String::new()
            };
            format!("{} {} {}{full}", c.notes, tr(lang, "notes"), yuan(c.total_fen))
        }
    }
}

pub(super) fn beat_of(line: &fleet_view::KioskLine) -> Option<Heartbeat> {
    line.last_heartbeat.clone().and_then(|v| serde_json::from_value(v).ok())
}

#[derive(Deserialize)]
pub struct FleetQuery {
    hall: Option<String>,
}

/// The fleet: every hall at a glance (a hall supervisor's own first), then the kiosks, all or one
/// hall's.
pub async fn fleet(Console { state, lang, op }: Console, Query(query): Query<FleetQuery>) -> PageResult {
    let chosen = query.hall.as_deref().map(str::trim).filter(|h| !h.is_empty());
    let mut halls = fleet_view::halls(&state.pool, state.silent_after).await.map_err(db_error)?;
    halls.sort_by_key(|h| op.hall.as_deref() != Some(h.hall.as_str()));
    let kiosks = fleet_view::kiosks(&state.pool, chosen).await.map_err(db_error)?;
    let summary = fleet_view::summary(&state.pool).await.map_err(db_error)?;
    let heading = match chosen {
        Some(hall) => format!(
            "{} · {} <a id=\"all-halls\" href=\"/console\">{}</a>",
            tr(lang, "Kiosks"),
            esc(hall),
            tr(lang, "All halls")
        ),
        None => tr(lang, "Kiosks").to_owned(),
    };
    let body = format!(
        "<h1>{}</h1><p id=\"summary\">{}</p><h2>{}</h2>{}<h2>{heading}</h2>{}",
        tr(lang, "Fleet"),
        trf(
            lang,
            "{} kiosks, {} payments shipped, {} gaps, {} alerts",
            &[&summary.kiosks, &summary.payments, &summary.gaps, &summary.alerts]
        ),
        tr(lang, "Halls"),
        hall_table(lang, &halls, chosen),
        kiosk_table(lang, &kiosks, state.silent_after),
    );
    ok(lang, &op, tr(lang, "Fleet"), body)
}

/// One row per hall, its name a link to its kiosks; what needs someone in red.
fn hall_table(lang: Lang, halls: &[fleet_view::HallLine], chosen: Option<&str>) -> String {
    let mut rows = String::new();
    for h in halls {
        let bad = |n: i64| if n > 0 { "bad" } else { "" };
        let current = if chosen == Some(h.hall.as_str()) { " class=\"current\"" } else { "" };
        rows.push_str(&format!(
            "<tr{current}><td><a href=\"/console?hall={link}\">{name}</a></td><td>{}</td><td>{}</td>\
             <td class=\"{}\">{}</td><td class=\"{}\">{}</td><td class=\"{}\">{}</td></tr>",
            h.kiosks,
            h.in_service,
            bad(h.silent),
            h.silent,
            bad(h.suspense),
            h.suspense,
            bad(h.open_alerts),
            h.open_alerts,
            link = url_component(&h.hall),
            name = esc(&h.hall),
        ));
    }
    format!(
        "{}{rows}</table>",
        table_head(
            "halls",
            &[
                tr(lang, "Hall"),
                tr(lang, "Kiosks"),
                tr(lang, "in service"),
                tr(lang, "silent"),
                tr(lang, "Suspense"),
                tr(lang, "Alerts")
            ]
        )
    )
}

fn kiosk_table(lang: Lang, kiosks: &[fleet_view::KioskLine], silent_after: std::time::Duration) -> String {
    let mut rows = String::new();
    for k in kiosks {
        let beat = beat_of(k);
        let (state_text, class) = state_words(lang, k, beat.as_ref(), silent_after);
        let seen = k.last_seen_at.map(shanghai).unwrap_or_else(|| tr(lang, "never").into());
        let (paper, paper_class) = beat.as_ref().map(|b| paper_words(lang, b.paper)).unwrap_or(("—", ""));
        let cash = beat.as_ref().map(|b| cash_words(lang, b)).unwrap_or_else(|| "—".into());
        let suspense = beat.as_ref().map(|b| b.suspense.len()).unwrap_or(0);
        let chain_class = if k.chain_state == "intact" { "good" } else { "bad" };
        let alert_class = if k.open_alerts > 0 { "bad" } else { "" };
        rows.push_str(&format!(
            "<tr><td><a href=\"/console/kiosks/{id}\">{id}</a></td><td>{hall}</td><td class=\"{class}\">{state_text}</td><td>{seen}</td>\
             <td class=\"{paper_class}\">{paper}</td><td>{cash}</td><td>{suspense}</td><td class=\"{chain_class}\">{chain}</td><td class=\"{alert_class}\">{alerts}</td></tr>",
            id = esc(&k.id),
            hall = esc(&k.hall),
            chain = if k.chain_state == "intact" { tr(lang, "intact") } else { tr(lang, "broken") },
            alerts = k.open_alerts,
        ));
    }
    format!(
        "{}{rows}</table>",
        table_head(
            "fleet",
            &[
                tr(lang, "Kiosk"),
                tr(lang, "Hall"),
                tr(lang, "State"),
                tr(lang, "Last seen"),
                tr(lang, "Paper"),
                tr(lang, "Cash box"),
                tr(lang, "Suspense"),
                tr(lang, "Chain"),
                tr(lang, "Alerts")
            ]
        )
    )
}

/// `text` as one component of a URL's query (UTF-8, percent-encoded but for the unreserved).
fn url_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The newest transition of each of a kiosk's latest payments.
#[derive(sqlx::FromRow)]
struct PaymentLine {
    payment_id: String,
    to_state: String,
    at_ms: i64,
    snapshot: String,
}

/// Service, masked account, amount and channel from a payment's snapshot (the kiosk's own
/// serialisation: `order.lines[].{utility,account,amount}`, `channel`).
fn payment_columns(snapshot: &str) -> (String, String, String, String) {
    let value: serde_json::Value = serde_json::from_str(snapshot).unwrap_or_default();
    let lines = value["order"]["lines"].as_array().cloned().unwrap_or_default();
    let services: Vec<String> =
        lines.iter().filter_map(|l| l["utility"].as_str().map(str::to_owned)).collect();
    let accounts: Vec<String> =
        lines.iter().filter_map(|l| l["account"].as_str().map(mask_account)).collect();
    let total: i64 = lines.iter().filter_map(|l| l["amount"].as_i64()).sum();
    let channel = value["channel"].as_str().unwrap_or("—").to_owned();
    (services.join(", "), accounts.join(", "), yuan(total), channel)
}

pub async fn kiosk(Console { state, lang, op }: Console, Path(id): Path<String>) -> PageResult {
    let Some(k) = fleet_view::kiosk(&state.pool, &id).await.map_err(db_error)? else {
        return Err(refusal(lang, &op, StatusCode::NOT_FOUND, tr(lang, "No such kiosk.")).into());
    };
    let beat = beat_of(&k);
    let (state_text, class) = state_words(lang, &k, beat.as_ref(), state.silent_after);
    let mut body = format!(
        "<h1>{} {}</h1><p>{} · <span class=\"{class}\">{state_text}</span></p>",
        tr(lang, "Kiosk"),
        esc(&k.id),
        esc(&k.hall)
    );

    body.push_str(&format!("<h2>{}</h2>", tr(lang, "Devices")));
    match &beat {
        Some(b) => {
            body.push_str(&format!(
                "<p>{}: {} · {}: {} MiB · {}: {}</p>{}",
                tr(lang, "Software"),
                esc(&b.software_version),
                tr(lang, "Disk free"),
                b.disk_free_bytes / (1024 * 1024),
                tr(lang, "Cash box"),
                cash_words(lang, b),
                table_head("devices", &[tr(lang, "Device"), tr(lang, "Health"), tr(lang, "Detail")])
            ));
            for d in &b.devices {
                let health = serde_json::to_value(d.health)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let class = match d.health {
                    fleet::wire::DeviceHealth::Ok => "good",
                    fleet::wire::DeviceHealth::Warning => "warn",
                    fleet::wire::DeviceHealth::Fault => "bad",
                    fleet::wire::DeviceHealth::Absent => "",
                };
                body.push_str(&format!(
                    "<tr><td>{}</td><td class=\"{class}\">{}</td><td>{}</td></tr>",
                    esc(&d.device),
                    esc(&health),
                    esc(&d.detail)
                ));
            }
            body.push_str("</table>");
        }
        None => body.push_str(&format!("<p>{}</p>", tr(lang, "None."))),
    }

    let payments: Vec<PaymentLine> = sqlx::query_as(
        "SELECT * FROM (SELECT DISTINCT ON (payment_id) payment_id, to_state, at_ms, snapshot FROM transitions \
         WHERE kiosk_id = $1 ORDER BY payment_id, seq DESC) latest ORDER BY at_ms DESC LIMIT 20",
    )
    .bind(&id)
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    body.push_str(&format!(
        "<h2>{}</h2>{}",
        tr(lang, "Recent payments"),
        table_head(
            "payments",
            &[
                tr(lang, "Order number"),
                tr(lang, "Time"),
                tr(lang, "Service"),
                tr(lang, "Account"),
                tr(lang, "Amount"),
                tr(lang, "Channel"),
                tr(lang, "State")
            ]
        )
    ));
    for p in &payments {
        let (service, account, amount, channel) = payment_columns(&p.snapshot);
        body.push_str(&format!(
            "<tr><td><a href=\"/console/payments?order={id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{amount}</td><td>{}</td><td>{}</td></tr>",
            shanghai_ms(p.at_ms),
            esc(&service),
            esc(&account),
            esc(&channel),
            esc(&p.to_state),
            id = esc(&p.payment_id),
        ));
    }
    body.push_str("</table>");

    body.push_str(&suspense_section(lang, &op, &k, beat.as_ref()));

    let chain_class = if k.chain_state == "intact" { "good" } else { "bad" };
    body.push_str(&format!(
        "<h2>{}</h2><p id=\"chain\"><span class=\"{chain_class}\">{}</span> · {} {} · {} {}</p>",
        tr(lang, "Journal chain"),
        if k.chain_state == "intact" { tr(lang, "intact") } else { tr(lang, "broken") },
        k.stored_through,
        tr(lang, "transitions held"),
        tr(lang, "verified up to"),
        k.verified_seq
    ));

    // This kiosk's open alerts, with the acknowledge form: an old chain alert that scrolled
    // off the fleet's list is still here.
    let open =
        alerts::store::list(&state.pool, Some(&k.id), true, OPEN_ALERTS_SHOWN).await.map_err(db_error)?;
    body.push_str(&format!("<h2>{}</h2>", tr(lang, "Open alerts")));
    body.push_str(&alert_table(lang, &op, &open, "kiosk-alerts", &format!("/console/kiosks/{}", k.id)));

    body.push_str(&format!("<h2>{}</h2>", tr(lang, "Commands")));
    if op.commands_kiosks_in(&k.hall) && k.paired && !k.revoked {
        let action = format!("/console/kiosks/{}/commands", k.id);
        body.push_str("<div class=\"note\">");
        body.push_str(&form(
            &op,
            &action,
            &format!(
                "<input type=\"hidden\" name=\"action\" value=\"out\"><label>{} <input name=\"reason\" required maxlength=\"200\"></label> ",
                tr(lang, "Reason")
            ),
            tr(lang, "Take out of service"),
        ));
        body.push_str(&form(
            &op,
            &action,
            "<input type=\"hidden\" name=\"action\" value=\"in\">",
            tr(lang, "Return to service"),
        ));
        body.push_str(&form(
            &op,
            &action,
            "<input type=\"hidden\" name=\"action\" value=\"diagnostics\">",
            tr(lang, "Request diagnostics"),
        ));
        body.push_str("</div>");
    }
    let queued = commands::list(&state.pool, &id, 20).await.map_err(db_error)?;
    body.push_str(&table_head(
        "commands",
        &[
            "#",
            tr(lang, "Action"),
            tr(lang, "By"),
            tr(lang, "Queued"),
            tr(lang, "Delivered"),
            tr(lang, "Acknowledged"),
            tr(lang, "Result"),
        ],
    ));
    for c in &queued {
        let kind = c.action["kind"].as_str().unwrap_or("?");
        let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(shanghai).unwrap_or_else(|| "—".into());
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
            c.id,
            esc(kind),
            esc(&c.operator),
            shanghai(c.created_at),
            when(c.delivered_at),
            when(c.acked_at),
            esc(c.detail.as_deref().unwrap_or(""))
        ));
    }
    body.push_str("</table>");
    let pushed = configs::latest(&state.pool, &id).await.map_err(db_error)?;
    body.push_str(&super::config_page::section(lang, &op, &k, beat.as_ref(), pushed.as_ref()));
    if op.role.administers() && !k.revoked {
        body.push_str(&format!("<h2>{}</h2>", tr(lang, "Revoke this kiosk")));
        body.push_str(&form(
            &op,
            &format!("/console/kiosks/{}/revoke", k.id),
            "",
            tr(lang, "Revoke this kiosk"),
        ));
    }
    ok(lang, &op, &k.id, body)
}

/// The kiosk's payments in suspense (from its last heartbeat), each with finance's settle form.
fn suspense_section(
    lang: Lang,
    op: &Operator,
    k: &fleet_view::KioskLine,
    beat: Option<&Heartbeat>,
) -> String {
    let list = beat.map(|b| b.suspense.as_slice()).unwrap_or_default();
    let mut out = format!("<h2>{}</h2>", tr(lang, "Payments in suspense"));
    if list.is_empty() {
        out.push_str(&format!("<p id=\"suspense\">{}</p>", tr(lang, "None.")));
        return out;
    }
    let settles = op.role.settles() && k.paired && !k.revoked;
    out.push_str(&table_head(
        "suspense",
        &[
            tr(lang, "Order number"),
            tr(lang, "Amount"),
            tr(lang, "State"),
            tr(lang, "Since"),
            tr(lang, "Settle"),
        ],
    ));
    for p in list {
        let settle = if settles {
            let inner = format!(
                "<input type=\"hidden\" name=\"action\" value=\"settle\"><input type=\"hidden\" name=\"order\" value=\"{}\">\
                 <select name=\"outcome\"><option value=\"delivered\">{}</option><option value=\"returned\">{}</option>\
                 <option value=\"not-charged\">{}</option></select> <input name=\"reason\" required maxlength=\"200\" placeholder=\"{}\"> ",
                esc(&p.order_ref),
                tr(lang, "delivered to the billers"),
                tr(lang, "returned to the customer"),
                tr(lang, "never charged"),
                tr(lang, "Reason")
            );
            form(op, &format!("/console/kiosks/{}/commands", k.id), &inner, tr(lang, "Settle"))
        } else {
            "—".into()
        };
        out.push_str(&format!(
            "<tr><td><a href=\"/console/payments?order={o}\">{o}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{settle}</td></tr>",
            yuan(p.amount_fen),
            esc(&p.state),
            shanghai_ms(p.since_ms),
            o = esc(&p.order_ref),
        ));
    }
    out.push_str("</table>");
    out
}

#[derive(Deserialize)]
pub struct CommandForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
    /// For `settle`: the order and finance's decision.
    #[serde(default)]
    order: String,
    #[serde(default)]
    outcome: String,
}

pub async fn send_command(
    Console { state, lang, op }: Console,
    Path(id): Path<String>,
    Form(form): Form<CommandForm>,
) -> PageResult {
    let Some(kiosk) = fleet_view::kiosk(&state.pool, &id).await.map_err(db_error)? else {
        return Err(refusal(lang, &op, StatusCode::NOT_FOUND, tr(lang, "No such kiosk.")).into());
    };
    // Settling money is finance's; the kiosk's service is its hall's.
    let allowed =
        if form.action == "settle" { op.role.settles() } else { op.commands_kiosks_in(&kiosk.hall) };
    permitted(lang, &op, &form.csrf, allowed)?;
    if kiosk.revoked || !kiosk.paired {
        // Nothing would ever fetch it.
        let words = tr(lang, "This kiosk is not paired, or is revoked: it takes no commands.");
        return Err(refusal(lang, &op, StatusCode::CONFLICT, words).into());
    }
    let reason = form.reason.trim();
    let action = match form.action.as_str() {
        "settle"
            if !reason.is_empty()
                && !form.order.trim().is_empty()
                && ["delivered", "returned", "not-charged"].contains(&form.outcome.as_str()) =>
        {
            CommandAction::SettleSuspense {
                order_ref: form.order.trim().chars().take(64).collect(),
                outcome: form.outcome.clone(),
                reason: reason.chars().take(200).collect(),
            }
        }
        "out" if !reason.is_empty() => {
            CommandAction::TakeOutOfService { reason: reason.chars().take(200).collect() }
        }
        "in" => CommandAction::ReturnToService,
        "diagnostics" => CommandAction::Diagnostics,
        _ => return Err(refusal(lang, &op, StatusCode::BAD_REQUEST, tr(lang, "You may not do that.")).into()),
    };
    commands::enqueue(&state.pool, &id, &op.name, &action).await.map_err(db_error)?;
    Ok(Redirect::to(&format!("/console/kiosks/{id}")).into_response())
}

pub async fn revoke_kiosk(
    Console { state, lang, op }: Console,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> PageResult {
    permitted(lang, &op, &form.csrf, op.role.administers())?;
    match kiosks::revoke(&state.pool, &id, &op.name).await {
        Ok(()) => Ok(Redirect::to(&format!("/console/kiosks/{id}")).into_response()),
        Err(kiosks::KioskError::Db(e)) => Err(db_error(e)),
        Err(_) => Err(refusal(lang, &op, StatusCode::NOT_FOUND, tr(lang, "No such kiosk.")).into()),
    }
}

#[derive(Deserialize)]
pub struct OrderQuery {
    #[serde(default)]
    order: String,
}

#[derive(sqlx::FromRow)]
struct TransitionLine {
    kiosk_id: String,
    seq: i64,
    at_ms: i64,
    from_state: String,
    to_state: String,
    event: String,
    snapshot: String,
}

pub async fn payments(Console { state, lang, op }: Console, Query(q): Query<OrderQuery>) -> PageResult {
    let order = q.order.trim();
    let mut body = format!(
        "<h1>{}</h1><form method=\"get\" action=\"/console/payments\"><label>{} <input id=\"order\" name=\"order\" value=\"{}\" size=\"28\"></label> <button id=\"search\" type=\"submit\">{}</button></form>",
        tr(lang, "Payments"),
        tr(lang, "Order number"),
        esc(order),
        tr(lang, "Search")
    );
    if !order.is_empty() {
        let rows: Vec<TransitionLine> = sqlx::query_as(
            "SELECT kiosk_id, seq, at_ms, from_state, to_state, event, snapshot FROM transitions WHERE payment_id = $1 ORDER BY kiosk_id, seq",
        )
        .bind(order)
        .fetch_all(&state.pool)
        .await
        .map_err(db_error)?;
        match rows.last() {
            None => body.push_str(&format!(
                "<p id=\"result\">{}</p>",
                tr(lang, "No payment with this order number.")
            )),
            Some(last) => {
                let (service, account, amount, channel) = payment_columns(&last.snapshot);
                body.push_str(&format!(
                    "<p id=\"result\">{} <a href=\"/console/kiosks/{k}\">{k}</a> · {} · {} · {amount} · {}</p>",
                    tr(lang, "Kiosk"),
                    esc(&service),
                    esc(&account),
                    esc(&channel),
                    k = esc(&last.kiosk_id),
                ));
                body.push_str(&table_head(
                    "transitions",
                    &[
                        tr(lang, "Kiosk"),
                        "seq",
                        tr(lang, "Time"),
                        tr(lang, "From"),
                        tr(lang, "To"),
                        tr(lang, "Event"),
                    ],
                ));
                for r in &rows {
                    body.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(&r.kiosk_id),
                        r.seq,
                        shanghai_ms(r.at_ms),
                        esc(&r.from_state),
                        esc(&r.to_state),
                        esc(&r.event)
                    ));
                }
                body.push_str("</table>");
            }
        }
    }
    ok(lang, &op, tr(lang, "Payments"), body)
}

/// Open alerts shown on the alert page: all of them in any fleet that is not on fire.
const OPEN_ALERTS_SHOWN: i64 = 1000;
/// Cleared alerts shown: the recent ones (the rest are in the database and the webhook's log).
const CLEARED_ALERTS_SHOWN: i64 = 100;

pub async fn alerts(Console { state, lang, op }: Console) -> PageResult {
    let open = alerts::store::list(&state.pool, None, true, OPEN_ALERTS_SHOWN).await.map_err(db_error)?;
    let cleared =
        alerts::store::list(&state.pool, None, false, CLEARED_ALERTS_SHOWN).await.map_err(db_error)?;
    let mut body = format!("<h1>{}</h1><h2>{}</h2>", tr(lang, "Alerts"), tr(lang, "Open alerts"));
    // Counted only when the list is full (a fleet on fire): how many more there are.
    let open_count = if open.len() as i64 == OPEN_ALERTS_SHOWN {
        alerts::store::open_count(&state.pool).await.map_err(db_error)?
    } else {
        open.len() as i64
    };
    if open_count > OPEN_ALERTS_SHOWN {
        body.push_str(&format!(
            "<p class=\"warn\">{}</p>",
            trf(lang, "The newest {0} of {1} open alerts.", &[&OPEN_ALERTS_SHOWN, &open_count])
        ));
    }
    body.push_str(&alert_table(lang, &op, &open, "open-alerts", "/console/alerts"));
    body.push_str(&format!("<h2>{}</h2>", tr(lang, "Cleared alerts")));
    body.push_str(&alert_table(lang, &op, &cleared, "cleared-alerts", "/console/alerts"));
    ok(lang, &op, tr(lang, "Alerts"), body)
}

/// Alerts as a table with the acknowledge form where the operator may use it; the form comes
/// back to `back`.
pub(super) fn alert_table(lang: Lang, op: &Operator, list: &[alerts::Alert], id: &str, back: &str) -> String {
    if list.is_empty() {
        return format!("<p id=\"{id}\">{}</p>", tr(lang, "None."));
    }
    let mut table = table_head(
        id,
        &[
            tr(lang, "Kiosk"),
            tr(lang, "Kind"),
            tr(lang, "Subject"),
            tr(lang, "Detail"),
            tr(lang, "Opened"),
            tr(lang, "Occurrences"),
            tr(lang, "Acknowledge"),
        ],
    );
    for a in list {
        let ack = match (&a.acked_by, op.acknowledges_in(&a.hall)) {
            (Some(by), _) => format!("{} {}", tr(lang, "acknowledged by"), esc(by)),
            (None, true) => form(
                op,
                &format!("/console/alerts/{}/ack", a.id),
                &format!("<input type=\"hidden\" name=\"back\" value=\"{}\">", esc(back)),
                tr(lang, "Acknowledge"),
            ),
            (None, false) => "—".into(),
        };
        table.push_str(&format!(
            "<tr><td><a href=\"/console/kiosks/{k}\">{k}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{ack}</td></tr>",
            alert_kind(lang, &a.kind),
            esc(&a.subject),
            esc(&a.detail),
            shanghai(a.opened_at),
            a.occurrences,
            k = esc(&a.kiosk_id),
        ));
    }
    table.push_str("</table>");
    table
}

/// An alert kind in the operator's language.
fn alert_kind(lang: Lang, kind: &str) -> String {
    use alerts::kind::*;
    let words = match kind {
        SILENT => tr(lang, "Silent"),
        PAPER_OUT => tr(lang, "Paper out"),
        PAPER_NEAR_END => tr(lang, "Paper near end"),
        DEVICE_FAULT => tr(lang, "Device fault"),
        SUSPENSE_OLD => tr(lang, "Suspense too long"),
        CASH_BOX_FULL => tr(lang, "Cash box full"),
        CASH_BOX_REMOVED => tr(lang, "Cash box removed"),
        DISK_LOW => tr(lang, "Disk low"),
        HELP_CALLED => tr(lang, "Customer called for staff"),
        CHAIN_GAP => tr(lang, "Journal rows missing"),
        CHAIN_BREAK => tr(lang, "Journal row edited"),
        CHAIN_FORK => tr(lang, "Journal rewritten"),
        ROLLBACK => tr(lang, "Journal rolled back"),
        JOURNAL_REPLACED => tr(lang, "Journal replaced"),
        other => return esc(other),
    };
    words.to_owned()
}

#[derive(Deserialize)]
pub struct AckForm {
    csrf: String,
    /// The console page the form was on, to go back to.
    #[serde(default)]
    back: String,
}

pub async fn acknowledge_alert(
    Console { state, lang, op }: Console,
    Path(id): Path<i64>,
    Form(form): Form<AckForm>,
) -> PageResult {
    let Some(hall) = alerts::store::hall_of(&state.pool, id).await.map_err(db_error)? else {
        return Err(refusal(lang, &op, StatusCode::NOT_FOUND, tr(lang, "No such alert.")).into());
    };
    permitted(lang, &op, &form.csrf, op.acknowledges_in(&hall))?;
    alerts::store::acknowledge(&state.pool, id, &op.name).await.map_err(db_error)?;
    // Only back to one of our own pages (never an address a forged form names).
    let ours = form.back.starts_with("/console/")
        && !form.back.contains("//")
        && form.back.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    Ok(Redirect::to(if ours { &form.back } else { "/console/alerts" }).into_response())
}

pub async fn new_kiosk_page(Console { lang, op, .. }: Console) -> PageResult {
    if !op.role.administers() {
        return Err(refusal(lang, &op, StatusCode::FORBIDDEN, tr(lang, "You may not do that.")).into());
    }
    let inner = format!(
        "<p><label>{} <input id=\"kiosk-id\" name=\"id\" required maxlength=\"32\" pattern=\"[A-Za-z0-9_-]+\"></label></p>\
         <p><label>{} <input id=\"hall\" name=\"hall\" required maxlength=\"100\"></label></p>",
        tr(lang, "Kiosk id"),
        tr(lang, "Hall")
    );
    let body = format!(
        "<h1>{}</h1>{}",
        tr(lang, "New kiosk"),
        form(&op, "/console/kiosks", &inner, tr(lang, "Create and show the pairing code"))
    );
    ok(lang, &op, tr(lang, "New kiosk"), body)
}

#[derive(Deserialize)]
pub struct NewKioskForm {
    csrf: String,
    id: String,
    hall: String,
}

pub async fn create_kiosk(
    Console { state, lang, op }: Console,
    Form(form): Form<NewKioskForm>,
) -> PageResult {
    permitted(lang, &op, &form.csrf, op.role.administers())?;
    let id = form.id.trim();
    let code = match kiosks::issue_pairing_code(&state.pool, id, form.hall.trim(), &op.name).await {
        Ok(code) => code,
        Err(kiosks::KioskError::Db(e)) => return Err(db_error(e)),
        Err(e) => {
            let body =
                format!("<h1>{}</h1><p class=\"bad\">{}</p>", tr(lang, "New kiosk"), esc(&e.to_string()));
            return Err((StatusCode::BAD_REQUEST, Html(page(lang, Some(&op), tr(lang, "New kiosk"), &body)))
                .into_response()
                .into());
        }
    };
    let ticket = fleet::PairingTicket {
        hub_url: state.public_url.clone(),
        ca_fingerprint: state.tls.ca_fingerprint.clone(),
        code: code.clone(),
    };
    let text = ticket.to_qr_text();
    let qr = qrcode::QrCode::new(text.as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).build())
        .unwrap_or_default();
    let body = format!(
        "<h1>{} {}</h1><p>{}</p><p>{}: <strong id=\"pairing-code\">{}</strong></p><div>{qr}</div><p><code id=\"ticket\">{}</code></p>",
        tr(lang, "Kiosk"),
        esc(id),
        tr(lang, "At the kiosk's staff panel tap “Pair with the hub” and hold this QR to its scanner; or, on the kiosk's terminal, give the ticket below to yizhan hub pair. It works once, for 24 hours."),
        tr(lang, "Pairing code"),
        esc(&code),
        esc(&text)
    );
    ok(lang, &op, tr(lang, "Pairing code"), body)
}

#[derive(sqlx::FromRow)]
struct AuditLine {
    at: chrono::DateTime<chrono::Utc>,
    actor: String,
    action: String,
    target: String,
    detail: serde_json::Value,
}

pub async fn audit(Console { state, lang, op }: Console) -> PageResult {
    if !op.role.administers() {
        return Err(refusal(lang, &op, StatusCode::FORBIDDEN, tr(lang, "You may not do that.")).into());
    }
    let rows: Vec<AuditLine> =
        sqlx::query_as("SELECT at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT 200")
            .fetch_all(&state.pool)
            .await
            .map_err(db_error)?;
    let mut body = format!(
        "<h1>{}</h1>{}",
        tr(lang, "Audit log"),
        table_head(
            "audit",
            &[
                tr(lang, "Time"),
                tr(lang, "Actor"),
                tr(lang, "Action"),
                tr(lang, "Target"),
                tr(lang, "Detail")
            ]
        )
    );
    for r in &rows {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            shanghai(r.at),
            esc(&r.actor),
            esc(&r.action),
            esc(&r.target),
            esc(&r.detail.to_string())
        ));
    }
    body.push_str("</table>");
    ok(lang, &op, tr(lang, "Audit log"), body)
}
