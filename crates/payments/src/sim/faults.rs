//! The part of fault handling every simulated endpoint shares: network faults act before any
//! work; the rest are handed to the endpoint.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use simkit::{Fault, FaultPlan};
use std::time::Duration;

/// What the endpoint should do with this request.
pub(crate) enum Gate {
    /// Do the work; the fault (if any) is for the endpoint to apply.
    Proceed(Option<Fault>),
    /// Answer this, without doing any work.
    Answer(Response),
}

pub(crate) async fn gate(plan: &FaultPlan, endpoint: &str, headers: &HeaderMap) -> Gate {
    match plan.take(endpoint, headers) {
        Some(Fault::DropRequest) => Gate::Answer(simkit::drop_connection()),
        Some(Fault::Status { code }) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Gate::Answer((status, "simulated failure").into_response())
        }
        Some(Fault::Delay { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Gate::Proceed(None)
        }
        other => Gate::Proceed(other),
    }
}

/// Applies "reply lost after commit" to a finished response.
pub(crate) fn finish(fault: &Option<Fault>, response: Response) -> Response {
    if matches!(fault, Some(Fault::DropReply)) {
        simkit::drop_connection()
    } else {
        response
    }
}

/// The PIN behaviour a pay fault asks for.
pub(crate) fn pin_of(fault: &Option<Fault>) -> super::book::Pin {
    use super::book::Pin;
    match fault {
        Some(Fault::UserPaying { ms: Some(ms) }) => Pin::After(Duration::from_millis(*ms)),
        Some(Fault::UserPaying { ms: None }) => Pin::Never,
        Some(Fault::UserCancels) => Pin::Cancels,
        _ => Pin::NotNeeded,
    }
}

/// Whether the reply must be signed wrongly.
pub(crate) fn bad_signature(fault: &Option<Fault>) -> bool {
    matches!(fault, Some(Fault::BadSignature))
}
