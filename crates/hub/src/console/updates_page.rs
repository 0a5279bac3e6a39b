//! The console's updates page (admins): the signed packages the hub holds, every roll-out with
//! how far it has gone and why it stopped, the kiosks of the newest one with their outcome, and
//! the forms that start and stop a roll-out. Packages are added with `yizhan-hub package add`
//! on the hub itself (a .deb is tens of megabytes, and its signature is checked there).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::Form;
use serde::Deserialize;

use super::html::{esc, form, page, shanghai, table_head};
use super::i18n::tr;
use super::pages::{db_error, permitted, PageResult};
use super::{refusal, Console};
use crate::rollouts::{self, RolloutRefused};

/// One kiosk of a roll-out.
#[derive(sqlx::FromRow)]
struct Offered {
    kiosk_id: String,
    stage: i32,
    state: String,
    detail: Option<String>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

pub async fn show(Console { state, lang, op }: Console) -> PageResult {
    if !op.role.administers() {
        return Err(refusal(lang, &op, StatusCode::FORBIDDEN, tr(lang, "You may not do that.")).into());
    }
    let packages = crate::packages::list(&state.pool).await.map_err(db_error)?;
    let all = rollouts::list(&state.pool).await.map_err(db_error)?;
    let mut body = format!("<h1>{}</h1><h2>{}</h2>", tr(lang, "Software updates"), tr(lang, "Packages"));
    if packages.is_empty() {
        body.push_str(&format!("<p>{}</p>", tr(lang, "None.")));
    } else {
        body.push_str(&table_head(
            "packages",
            &[tr(lang, "Version"), tr(lang, "Size"), "SHA-256", tr(lang, "Added")],
        ));
        for p in &packages {
            body.push_str(&format!(
                "<tr><td>{} {}</td><td>{:.1} MB</td><td>{}…</td><td>{} · {}</td></tr>",
                esc(&p.package),
                esc(&p.version),
                f64::from(p.size) / 1e6,
                esc(&p.sha256[..16.min(p.sha256.len())]),
                esc(&p.uploaded_by),
                shanghai(p.uploaded_at)
            ));
        }
        body.push_str("</table>");
    }
    body.push_str(&format!("<h2>{}</h2>", tr(lang, "Roll-outs")));
    body.push_str(&table_head(
        "rollouts",
        &["#", tr(lang, "Version"), tr(lang, "State"), tr(lang, "Stage"), tr(lang, "Kiosks"), ""],
    ));
    for r in &all {
        let p = rollouts::progress(&state.pool, r.id).await.map_err(db_error)?;
        let class = match r.state.as_str() {
            "stopped" => "bad",
            "done" => "good",
            _ => "",
        };
        let why = r.reason.as_deref().map(|w| format!("<br>{}", esc(w))).unwrap_or_default();
        let cohorts: Vec<String> =
            r.cohorts.iter().map(|n| if *n == 0 { "*".into() } else { n.to_string() }).collect();
        let stop = if r.state == "running" {
            let inner = format!(
                "<input name=\"reason\" required placeholder=\"{}\">",
                esc(tr(lang, "Why it is stopped"))
            );
            form(&op, &format!("/console/updates/rollouts/{}/stop", r.id), &inner, tr(lang, "Stop"))
        } else {
            String::new()
        };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{} {}</td><td class=\"{class}\">{}{why}</td><td>{}/{} ({})</td>\
             <td>{} {} · {} {} · {} {}</td><td>{stop}</td></tr>",
            r.id,
            esc(&r.package),
            esc(&r.version),
            esc(&r.state),
            r.stage + 1,
            r.cohorts.len(),
            cohorts.join(" → "),
            p.offered,
            tr(lang, "offered"),
            p.installed,
            tr(lang, "healthy"),
            p.failed,
            tr(lang, "failed"),
        ));
    }
    body.push_str("</table>");
    if let Some(newest) = all.first() {
        let offered: Vec<Offered> = sqlx::query_as(
            "SELECT kiosk_id, stage, state, detail, updated_at FROM rollout_kiosks WHERE rollout_id = $1 ORDER BY stage, kiosk_id",
        )
        .bind(newest.id)
        .fetch_all(&state.pool)
        .await
        .map_err(db_error)?;
        body.push_str(&format!(
            "<h2>{} #{}</h2>{}",
            tr(lang, "Kiosks of roll-out"),
            newest.id,
            table_head(
                "rollout-kiosks",
                &[tr(lang, "Kiosk"), tr(lang, "Stage"), tr(lang, "State"), tr(lang, "Detail")]
            )
        ));
        for o in &offered {
            body.push_str(&format!(
                "<tr><td><a href=\"/console/kiosks/{0}\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3} · {4}</td></tr>",
                esc(&o.kiosk_id),
                o.stage + 1,
                esc(&o.state),
                esc(o.detail.as_deref().unwrap_or("")),
                shanghai(o.updated_at)
            ));
        }
        body.push_str("</table>");
    }
    let versions: String = packages
        .iter()
        .filter(|p| p.package == "yizhan")
        .map(|p| format!("<option>{}</option>", esc(&p.version)))
        .collect();
    let inner = format!(
        "<label>{} <select name=\"version\">{versions}</select></label> \
         <label>{} <input name=\"cohorts\" value=\"2,20,0\" size=\"10\"></label> \
         <label>{} <input name=\"max_failure_pct\" value=\"10\" size=\"3\">%</label> ",
        tr(lang, "Version"),
        tr(lang, "Kiosks by the end of each stage (0: all)"),
        tr(lang, "Stop when more fail than")
    );
    body.push_str(&format!("<div class=\"note\"><h2>{}</h2>", tr(lang, "Start a roll-out")));
    body.push_str(&form(&op, "/console/updates/rollouts", &inner, tr(lang, "Start")));
    body.push_str("</div>");
    Ok(Html(page(lang, Some(&op), tr(lang, "Software updates"), &body)).into_response())
}

#[derive(Deserialize)]
pub struct StartForm {
    csrf: String,
    version: String,
    cohorts: String,
    max_failure_pct: String,
}

pub async fn start(Console { state, lang, op }: Console, Form(form): Form<StartForm>) -> PageResult {
    permitted(lang, &op, &form.csrf, op.role.administers())?;
    let bad = |words: &str| refusal(lang, &op, StatusCode::BAD_REQUEST, words);
    let cohorts: Result<Vec<i32>, _> = form.cohorts.split(',').map(|n| n.trim().parse::<i32>()).collect();
    let Ok(cohorts) = cohorts else {
        return Err(bad(tr(lang, "Stages are kiosk counts separated by commas, like 2,20,0.")).into());
    };
    let Ok(share) = form.max_failure_pct.trim().parse::<i32>() else {
        return Err(bad(tr(lang, "The failure share is a whole percentage.")).into());
    };
    let timing = state.rollout_timing;
    match rollouts::start(&state.pool, "yizhan", &form.version, (&cohorts, share), &op.name, timing).await {
        Ok(_) => Ok(Redirect::to("/console/updates").into_response()),
        Err(RolloutRefused::Db(e)) => Err(db_error(e)),
        Err(refused) => {
            let words = match refused {
                RolloutRefused::Cohorts(_) => {
                    tr(lang, "Stages are kiosk counts separated by commas, like 2,20,0.")
                }
                RolloutRefused::Share => tr(lang, "The failure share is a whole percentage."),
                RolloutRefused::NoPackage(..) => tr(lang, "The hub holds no such package."),
                RolloutRefused::AnotherRunning => tr(lang, "Another roll-out is running: stop it first."),
                RolloutRefused::Db(_) => unreachable!("answered above"),
            };
            Err(bad(words).into())
        }
    }
}

#[derive(Deserialize)]
pub struct StopForm {
    csrf: String,
    reason: String,
}

pub async fn stop(
    Console { state, lang, op }: Console,
    Path(id): Path<i64>,
    Form(form): Form<StopForm>,
) -> PageResult {
    permitted(lang, &op, &form.csrf, op.role.administers())?;
    rollouts::stop(&state.pool, id, &op.name, form.reason.trim()).await.map_err(db_error)?;
    Ok(Redirect::to("/console/updates").into_response())
}
