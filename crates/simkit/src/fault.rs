//! Fault plans: what the next requests to an endpoint will suffer.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// Header a caller may set on a single request to inject a fault into it, as the JSON of a
/// [`Fault`] (`{"fault":"delay","ms":200}`) or a bare name for faults without parameters
/// (`drop_reply`).
pub const FAULT_HEADER: &str = "x-sim-fault";

/// Every fault a simulator understands. The network-level ones apply to every endpoint; the
/// others are read by the endpoints they name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// Close the connection before the simulator looks at the request: nothing happened.
    DropRequest,
    /// Do the work and commit it, then close the connection unanswered.
    DropReply,
    /// Answer after a delay (the work is done after the delay).
    Delay { ms: u64 },
    /// Answer with this HTTP status and no work done (5xx, 502 from a gateway...).
    Status { code: u16 },
    /// Do the work, then sign the reply with the wrong key.
    BadSignature,
    /// Pay: the customer must confirm on the phone; they do so after `ms`, or never (`None`).
    UserPaying { ms: Option<u64> },
    /// Pay: the customer cancels the PIN dialog.
    UserCancels,
    /// Reply with this business error code (an err_code, sub_code, respCode or biller code) and
    /// no work done.
    ErrorCode { code: String },
    /// Do the work and commit it, then answer with this error code instead of the real answer:
    /// the channel took the money but said SYSTEMERROR / 20000 (payments.md F14).
    ErrorAfterCommit { code: String },
    /// Reverse/cancel: answer "try again" (recall=Y, retry_flag=Y) without acting.
    RecallRetry,
    /// Write-off: refuse it for good (the bill is closed, the account is blocked).
    WriteOffReject { code: String },
}

impl Fault {
    /// Parses the `x-sim-fault` header.
    pub fn from_header(text: &str) -> Option<Fault> {
        serde_json::from_str(text)
            .ok()
            .or_else(|| serde_json::from_value(serde_json::json!({ "fault": text.trim() })).ok())
    }
}

/// A fault queued for the next `times` requests to `endpoint` ("*" for any endpoint).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    pub endpoint: String,
    #[serde(flatten)]
    pub fault: Fault,
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// The queue of faults of one simulator. Cheap to clone; clones share the queue.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    rules: Arc<Mutex<Vec<FaultRule>>>,
}

impl FaultPlan {
    pub fn push(&self, rule: FaultRule) {
        self.lock().push(rule);
    }

    /// Queues `fault` for the next `times` requests to `endpoint`.
    pub fn inject(&self, endpoint: &str, fault: Fault, times: u32) {
        self.push(FaultRule { endpoint: endpoint.to_string(), fault, times });
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn pending(&self) -> Vec<FaultRule> {
        self.lock().clone()
    }

    /// The fault for this request, if any: the request's own header first, then the oldest
    /// queued rule for the endpoint (which is consumed once).
    pub fn take(&self, endpoint: &str, headers: &HeaderMap) -> Option<Fault> {
        if let Some(fault) =
            headers.get(FAULT_HEADER).and_then(|v| v.to_str().ok()).and_then(Fault::from_header)
        {
            return Some(fault);
        }
        let mut rules = self.lock();
        let index = rules.iter().position(|r| r.endpoint == endpoint || r.endpoint == "*")?;
        let fault = rules[index].fault.clone();
        rules[index].times = rules[index].times.saturating_sub(1);
        if rules[index].times == 0 {
            rules.remove(index);
        }
        Some(fault)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        // A panic while holding this lock cannot leave the Vec inconsistent.
        self.rules.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `POST /admin/faults` (a [`FaultRule`] or a list of them), `GET /admin/faults`,
/// `POST /admin/faults/clear`. Merge it into a simulator's router.
pub fn admin_router(plan: FaultPlan) -> Router {
    Router::new()
        .route("/admin/faults", post(add_faults).get(list_faults))
        .route("/admin/faults/clear", post(clear_faults))
        .with_state(plan)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(FaultRule),
    Many(Vec<FaultRule>),
}

async fn add_faults(State(plan): State<FaultPlan>, Json(body): Json<OneOrMany>) -> Json<Vec<FaultRule>> {
    match body {
        OneOrMany::One(rule) => plan.push(rule),
        OneOrMany::Many(rules) => rules.into_iter().for_each(|r| plan.push(r)),
    }
    Json(plan.pending())
}

async fn list_faults(State(plan): State<FaultPlan>) -> Json<Vec<FaultRule>> {
    Json(plan.pending())
}

async fn clear_faults(State(plan): State<FaultPlan>) -> Json<Vec<FaultRule>> {
    plan.clear();
    Json(plan.pending())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_takes_json_or_a_bare_name() {
        assert_eq!(Fault::from_header("drop_reply"), Some(Fault::DropReply));
        assert_eq!(Fault::from_header(r#"{"fault":"delay","ms":20}"#), Some(Fault::Delay { ms: 20 }));
        assert_eq!(Fault::from_header("nonsense"), None);
    }

    #[test]
    fn queued_rules_are_consumed_in_order() {
        let plan = FaultPlan::default();
        plan.inject("micropay", Fault::DropReply, 2);
        plan.inject("*", Fault::Status { code: 503 }, 1);
        let none = HeaderMap::new();
        assert_eq!(plan.take("orderquery", &none), Some(Fault::Status { code: 503 }));
        assert_eq!(plan.take("micropay", &none), Some(Fault::DropReply));
        assert_eq!(plan.take("micropay", &none), Some(Fault::DropReply));
        assert_eq!(plan.take("micropay", &none), None);
    }
}
