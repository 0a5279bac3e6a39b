//! The exception desk (finance): each reconciliation run's figures, the differences still open,
//! and one difference with its evidence side by side — the journal's account of the order on
//! one side, the files it was compared with (by hash) on the other — and the form that resolves
//! it with a reason. Settling a payment in suspense by hand stays on the kiosk's page, where
//! the command goes to the kiosk and its own journal-first machinery. The cash boxes'
//! collections are listed with the form where finance enters the amount counted out of each;
//! the count reconciles the collection's day at once.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::Form;
use serde::Deserialize;

use super::html::{esc, form, page, shanghai, shanghai_ms, table_head, yuan};
use super::i18n::{tr, Lang};
use super::pages::{db_error, permitted, PageResult};
use super::{refusal, Console};
use crate::api::AppState;
use crate::recon::{cash, desk};

fn may_see(lang: Lang, op: &super::accounts::Operator) -> Result<(), super::pages::Refused> {
    if op.role.settles() {
        Ok(())
    } else {
        Err(refusal(lang, op, StatusCode::FORBIDDEN, tr(lang, "You may not do that.")).into())
    }
}

pub async fn show(Console { state, lang, op }: Console) -> PageResult {
    may_see(lang, &op)?;
    let runs = desk::runs(&state.pool, 14).await.map_err(db_error)?;
    let open = desk::open(&state.pool, 500).await.map_err(db_error)?;
    let mut body = format!("<h1>{}</h1><h2>{}</h2>", tr(lang, "Reconciliation"), tr(lang, "Runs"));
    body.push_str(&table_head(
        "recon-runs",
        &[
            tr(lang, "Day"),
            tr(lang, "Run at"),
            tr(lang, "Matched"),
            tr(lang, "Exceptions"),
            tr(lang, "Held for later files"),
            tr(lang, "Settled from the files"),
            tr(lang, "Files"),
        ],
    ));
    for run in &runs {
        let files = if run.complete { tr(lang, "final") } else { tr(lang, "not final") };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"good\">{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{files}</td></tr>",
            run.day,
            shanghai(run.ran_at),
            run.matched,
            if run.exceptions > 0 { "bad" } else { "" },
            run.exceptions,
            run.held,
            run.settled
        ));
    }
    body.push_str("</table>");
    // On demand, over the files the hub holds (the schedule fetches them).
    let newest =
        kiosk_core::recon::Day::latest_complete(kiosk_core::Ts(chrono::Utc::now().timestamp_millis()));
    let inner =
        format!("<input id=\"recon-day\" name=\"day\" type=\"date\" value=\"{}\" required> ", newest.date());
    body.push_str(&format!(
        "<div class=\"note\" id=\"run-now\">{}</div>",
        form(&op, "/console/recon/run", &inner, tr(lang, "Reconcile now"))
    ));
    if let Some(newest) = runs.first() {
        body.push_str(&by_source_table(&state, lang, newest.day).await?);
    }
    body.push_str(&cash_table(&state, &op, lang).await?);
    body.push_str(&format!("<h2>{}</h2>", tr(lang, "Open exceptions")));
    if open.is_empty() {
        body.push_str(&format!("<p id=\"exceptions\">{}</p>", tr(lang, "None.")));
    } else {
        body.push_str(&table_head(
            "exceptions",
            &["#", tr(lang, "Day"), tr(lang, "Kind"), tr(lang, "Kiosk"), tr(lang, "Detail")],
        ));
        for e in &open {
            body.push_str(&format!(
                "<tr><td><a href=\"/console/recon/exceptions/{0}\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td></tr>",
                e.id,
                e.day,
                esc(&e.kind),
                esc(e.kiosk_id.as_deref().unwrap_or("")),
                esc(&e.detail)
            ));
        }
        body.push_str("</table>");
    }
    Ok(Html(page(lang, Some(&op), tr(lang, "Reconciliation"), &body)).into_response())
}

pub async fn exception(Console { state, lang, op }: Console, Path(id): Path<i64>) -> PageResult {
    may_see(lang, &op)?;
    let Some(e) = desk::get(&state.pool, id).await.map_err(db_error)? else {
        return Err(refusal(lang, &op, StatusCode::NOT_FOUND, tr(lang, "No such exception.")).into());
    };
    let mut body = format!(
        "<h1>{} #{}</h1><p id=\"exception-detail\"><b>{}</b> · {} · {}</p>",
        tr(lang, "Exception"),
        e.id,
        esc(&e.kind),
        e.day,
        esc(&e.detail)
    );
    body.push_str("<table id=\"evidence\"><tr>");
    if let Ok(collection) = serde_json::from_value::<CashSides>(e.evidence["cash"].clone()) {
        body.push_str(&collection.sides(lang));
    } else {
        body.push_str(&format!(
            "<th>{}</th><th>{}</th></tr><tr><td>",
            tr(lang, "Our journal"),
            tr(lang, "Their files")
        ));
        body.push_str(&journal_side(&state, lang, &e).await?);
        body.push_str("</td><td>");
        body.push_str(&files_side(lang, &e.evidence));
        body.push_str("</td></tr>");
    }
    body.push_str("</table>");
    if e.status == "open" {
        let inner = format!(
            "<input id=\"resolution\" name=\"reason\" required size=\"60\" placeholder=\"{}\">",
            esc(tr(lang, "What was found and done"))
        );
        body.push_str(&format!("<div class=\"note\" id=\"resolve\"><h2>{}</h2>", tr(lang, "Resolve")));
        body.push_str(&form(
            &op,
            &format!("/console/recon/exceptions/{}/resolve", e.id),
            &inner,
            tr(lang, "Mark resolved"),
        ));
        body.push_str(&super::recon_actions::buttons(&op, lang, &e));
        if let Some(kiosk) = &e.kiosk_id {
            body.push_str(&format!(
                "<p><a href=\"/console/kiosks/{0}\">{1} {0}</a></p>",
                esc(kiosk),
                tr(lang, "Settle a payment in suspense at kiosk")
            ));
        }
        body.push_str("</div>");
    } else {
        body.push_str(&format!(
            "<p id=\"resolved\" class=\"good\">{} · {} · {}: {}</p>",
            tr(lang, "resolved"),
            esc(e.resolved_by.as_deref().unwrap_or("")),
            e.resolved_at.map(shanghai).unwrap_or_default(),
            esc(e.resolution.as_deref().unwrap_or(""))
        ));
    }
    body.push_str(&super::recon_actions::sent(&state, lang, &e).await?);
    Ok(Html(page(lang, Some(&op), tr(lang, "Exception"), &body)).into_response())
}

/// A cash difference's two sides, as its evidence keeps them.
#[derive(Deserialize)]
struct CashSides {
    collection_id: i64,
    at: chrono::DateTime<chrono::Utc>,
    staff_id: String,
    notes: i32,
    journaled_fen: i64,
    unknown: i32,
    uncertain: i32,
    counted_fen: Option<i64>,
    counted_by: Option<String>,
}

impl CashSides {
    fn sides(&self, lang: Lang) -> String {
        format!(
            "<th>{ours}</th><th>{theirs}</th></tr><tr><td id=\"journal-side\">{collection} #{id} · {at} · \
             {staff} {staff_id}<br>{notes} {notes_word} · {journaled_word} {journaled} · {unknown_word}: \
             {unknown} · {held_word}: {uncertain}</td><td id=\"count-side\">{counted} {counted_by}</td></tr>",
            ours = tr(lang, "Our journal"),
            theirs = tr(lang, "Counted out of the box"),
            collection = tr(lang, "Collection"),
            id = self.collection_id,
            at = shanghai(self.at),
            staff = tr(lang, "Staff"),
            staff_id = esc(&self.staff_id),
            notes = self.notes,
            notes_word = tr(lang, "notes"),
            journaled_word = tr(lang, "journaled"),
            journaled = yuan(self.journaled_fen),
            unknown_word = tr(lang, "of unknown value"),
            unknown = self.unknown,
            held_word = tr(lang, "held for staff"),
            uncertain = self.uncertain,
            counted = self.counted_fen.map(yuan).unwrap_or_default(),
            counted_by = esc(self.counted_by.as_deref().unwrap_or("")),
        )
    }
}

/// The newest collections: the journal's count beside the amount counted out of the box, and
/// for one not counted yet, the form that enters it.
async fn cash_table(
    state: &AppState,
    op: &super::accounts::Operator,
    lang: Lang,
) -> Result<String, super::pages::Refused> {
    let collections = cash::recent(&state.pool, 50).await.map_err(db_error)?;
    let mut out = format!("<h2>{}</h2>", tr(lang, "Cash collections"));
    if collections.is_empty() {
        out.push_str(&format!("<p id=\"cash\">{}</p>", tr(lang, "None.")));
        return Ok(out);
    }
    out.push_str(&table_head(
        "cash",
        &[
            tr(lang, "Kiosk"),
            tr(lang, "Collection"),
            tr(lang, "Staff"),
            tr(lang, "Notes"),
            tr(lang, "journaled"),
            tr(lang, "Counted out of the box"),
        ],
    ));
    for c in &collections {
        let counted = match c.counted_fen {
            Some(fen) => {
                let class = if fen == c.journaled_fen { "good" } else { "bad" };
                format!(
                    "<span class=\"{class}\">{}</span> {}",
                    yuan(fen),
                    esc(c.counted_by.as_deref().unwrap_or(""))
                )
            }
            None => {
                let name = format!("counted-{}-{}", esc(&c.kiosk_id), c.collection_id);
                let inner = format!(
                    "<input id=\"{name}\" name=\"counted\" inputmode=\"decimal\" required size=\"10\" placeholder=\"0.00\"> "
                );
                let action = format!("/console/recon/cash/{}/{}", esc(&c.kiosk_id), c.collection_id);
                form(op, &action, &inner, tr(lang, "Record the count"))
            }
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>#{} · {}</td><td>{}</td><td>{}</td><td>{}</td><td>{counted}</td></tr>",
            esc(&c.kiosk_id),
            c.collection_id,
            shanghai(c.at),
            esc(&c.staff_id),
            c.notes,
            yuan(c.journaled_fen)
        ));
    }
    out.push_str("</table>");
    Ok(out)
}

/// The newest run's day per statement source and biller: matched, open, resolved.
async fn by_source_table(
    state: &AppState,
    lang: Lang,
    day: chrono::NaiveDate,
) -> Result<String, super::pages::Refused> {
    let figures = desk::by_source(&state.pool, day).await.map_err(db_error)?;
    let mut out = format!(
        "<h2>{} {day}</h2>{}",
        tr(lang, "By statement and biller"),
        table_head(
            "by-source",
            &[
                tr(lang, "Statement or biller"),
                tr(lang, "Merchant accounts"),
                tr(lang, "Matched"),
                tr(lang, "Open exceptions"),
                tr(lang, "resolved")
            ]
        )
    );
    for f in figures {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"good\">{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(&f.source),
            esc(&f.merchants.join(", ")),
            f.matched,
            if f.open > 0 { "bad" } else { "" },
            f.open,
            f.resolved
        ));
    }
    out.push_str("</table>");
    Ok(out)
}

/// The order's transitions as the central journal holds them.
async fn journal_side(
    state: &AppState,
    lang: Lang,
    e: &desk::Exception,
) -> Result<String, super::pages::Refused> {
    let Some(order) = &e.order_ref else {
        return Ok(format!("<p>{}</p>", tr(lang, "The journal holds no such order.")));
    };
    let rows: Vec<(String, i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT kiosk_id, seq, at_ms, from_state, to_state, event FROM transitions WHERE payment_id = $1 ORDER BY kiosk_id, seq",
    )
    .bind(order)
    .fetch_all(&state.pool)
    .await
    .map_err(db_error)?;
    if rows.is_empty() {
        return Ok(format!("<p>{} {}</p>", esc(order), tr(lang, "The journal holds no such order.")));
    }
    let total = e.evidence["journal"]["total_fen"].as_i64().map(yuan).unwrap_or_default();
    let mut out = format!("<p>{} {total}</p><table id=\"journal-side\">", esc(order));
    for (kiosk, seq, at, from, to, event) in rows {
        out.push_str(&format!(
            "<tr><td>{} #{seq}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
            esc(&kiosk),
            shanghai_ms(at),
            esc(&from),
            esc(&to),
            esc(&event)
        ));
    }
    out.push_str("</table>");
    Ok(out)
}

/// The files the difference was found in, by hash.
fn files_side(lang: Lang, evidence: &serde_json::Value) -> String {
    let files = evidence["files"].as_array().cloned().unwrap_or_default();
    if files.is_empty() {
        return format!("<p>{}</p>", tr(lang, "No file was read."));
    }
    let mut out = String::from("<table id=\"files-side\">");
    for f in files {
        let text = |key: &str| esc(f[key].as_str().unwrap_or(""));
        let copy =
            if f["final_copy"].as_bool() == Some(true) { tr(lang, "final") } else { tr(lang, "not final") };
        out.push_str(&format!(
            "<tr><td>{} {}</td><td>{}</td><td>{copy}</td><td><code>{}</code></td></tr>",
            text("source"),
            text("merchant"),
            text("day"),
            text("sha256")
        ));
    }
    out.push_str("</table>");
    out
}

#[derive(Deserialize)]
pub struct RunForm {
    csrf: String,
    day: String,
}

/// Reconciles a day now, over the files the hub holds; audited.
pub async fn run_now(Console { state, lang, op }: Console, Form(form): Form<RunForm>) -> PageResult {
    permitted(lang, &op, &form.csrf, op.role.settles())?;
    let Ok(day) = chrono::NaiveDate::parse_from_str(form.day.trim(), "%Y-%m-%d") else {
        let words = tr(lang, "A day is written 2026-12-05.");
        return Err(refusal(lang, &op, StatusCode::BAD_REQUEST, words).into());
    };
    let now = kiosk_core::Ts(chrono::Utc::now().timestamp_millis());
    let run = crate::recon::run_day(&state.pool, day, now).await.map_err(db_error)?;
    let detail = serde_json::json!({ "day": day, "run": run.run_id, "line": run.line() });
    let mut conn = state.pool.acquire().await.map_err(db_error)?;
    crate::audit::record(&mut conn, &op.name, "recon.run", &day.to_string(), detail)
        .await
        .map_err(db_error)?;
    Ok(Redirect::to("/console/recon").into_response())
}

#[derive(Deserialize)]
pub struct CountForm {
    csrf: String,
    /// Yuan, as counted: `1250` or `1250.50`.
    counted: String,
}

/// Records the amount counted out of a collection's cassette (once; audited), then reconciles
/// the collection's day: a difference goes to the desk.
pub async fn count_cash(
    Console { state, lang, op }: Console,
    Path((kiosk, collection)): Path<(String, i64)>,
    Form(form): Form<CountForm>,
) -> PageResult {
    permitted(lang, &op, &form.csrf, op.role.settles())?;
    let Some(counted) = fen_of_yuan(&form.counted) else {
        let words = tr(lang, "An amount is written in yuan: 1250 or 1250.50.");
        return Err(refusal(lang, &op, StatusCode::BAD_REQUEST, words).into());
    };
    let recorded =
        cash::record_count(&state.pool, &kiosk, collection, counted, &op.name).await.map_err(db_error)?;
    let Some(day) = recorded else {
        let words = tr(lang, "That collection is unknown or counted already.");
        return Err(refusal(lang, &op, StatusCode::CONFLICT, words).into());
    };
    let now = kiosk_core::Ts(chrono::Utc::now().timestamp_millis());
    crate::recon::run_day(&state.pool, day, now).await.map_err(db_error)?;
    Ok(Redirect::to("/console/recon").into_response())
}

/// Yuan as typed (`1250`, `1250.5`, `1250.50`) in fen; nothing else.
fn fen_of_yuan(text: &str) -> Option<kiosk_core::Fen> {
    let text = text.trim();
    let (whole, cents) = match text.split_once('.') {
        Some((_, "")) => return None,
        Some(parts) => parts,
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 9 || !digits(whole) || cents.len() > 2 || !digits(cents) {
        return None;
    }
    let cents = format!("{cents:0<2}").parse::<i64>().ok()?;
    Some(kiosk_core::Fen(whole.parse::<i64>().ok()? * 100 + cents))
}

#[derive(Deserialize)]
pub struct ResolveForm {
    csrf: String,
    reason: String,
}

pub async fn resolve(
    Console { state, lang, op }: Console,
    Path(id): Path<i64>,
    Form(form): Form<ResolveForm>,
) -> PageResult {
    permitted(lang, &op, &form.csrf, op.role.settles())?;
    let reason = form.reason.trim();
    if reason.is_empty() {
        let words = tr(lang, "Say what was found and done.");
        return Err(refusal(lang, &op, StatusCode::BAD_REQUEST, words).into());
    }
    desk::resolve(&state.pool, id, &op.name, reason).await.map_err(db_error)?;
    Ok(Redirect::to(&format!("/console/recon/exceptions/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::fen_of_yuan;
    use kiosk_core::Fen;

    #[test]
    fn a_count_is_read_in_yuan() {
        assert_eq!(fen_of_yuan("1250"), Some(Fen(125_000)));
        assert_eq!(fen_of_yuan(" 1250.5 "), Some(Fen(125_050)));
        assert_eq!(fen_of_yuan("0.05"), Some(Fen(5)));
        for bad in ["", ".5", "-1", "12,50", "1.234", "1e3", "1250.", "9999999999"] {
            assert_eq!(fen_of_yuan(bad), None, "{bad:?}");
        }
    }
}
