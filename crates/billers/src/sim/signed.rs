//! What every contract endpoint of a simulator does around its business work: take the fault
//! queued for it, check the request signature, timestamp and nonce, run the work (late, for a
//! delay), and sign the reply — or lose it, or sign it wrongly, as the fault says.

use super::body::RefusalBody;
use crate::sign;
use crate::wire::codes;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use serde::Serialize;
use simkit::{drop_connection, Fault, FaultPlan};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The raw request, as the signature covers it. An extractor: a contract endpoint takes it as
/// its last argument and hands it to its gate.
pub(crate) struct SignedRequest {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for SignedRequest {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let (method, uri, headers) = (parts.method.clone(), parts.uri.clone(), parts.headers.clone());
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(SignedRequest { method, uri, headers, body })
    }
}

/// A reply before signing.
pub(crate) struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Reply {
    pub fn json<T: Serialize>(status: u16, value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply { status, content_type: "application/json", body },
            Err(_) => Reply::error(500, "INTERNAL", "reply could not be encoded"),
        }
    }

    pub fn ok<T: Serialize>(value: &T) -> Reply {
        Reply::json(200, value)
    }

    /// The answer to a lookup: what it `found`, or else a 404 refusal with `code` and `message`.
    pub fn found<T: Serialize>(found: Option<T>, code: &str, message: &str) -> Reply {
        match found {
            Some(value) => Reply::ok(&value),
            None => Reply::error(404, code, message),
        }
    }

    /// A refusal that names no reference (signature checks, bill fetches).
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::error_for(None, status, code, message)
    }

    /// A refusal of the request made under `reference`, which the body names.
    pub fn error_for(reference: Option<&str>, status: u16, code: &str, message: &str) -> Reply {
        let error = RefusalBody {
            code: code.into(),
            message: message.into(),
            reference: reference.map(str::to_string),
        };
        Reply::json(status, &error)
    }

    pub fn text(body: String) -> Reply {
        Reply { status: 200, content_type: "text/plain; charset=utf-8", body: body.into_bytes() }
    }
}

/// A simulator whose contract endpoints stand behind its [`Gate`].
pub(crate) trait Gated: Clone + Send + Sync + 'static {
    fn gate(&self) -> &Arc<Gate>;
}

/// The `method` endpoint keyed by its one path parameter (an account, a reference, a card number,
/// a date): `work` answers it from the simulator, behind the gate of `endpoint`. A business fault
/// the gate leaves for the work is not acted on: only money calls act on those.
pub(crate) fn keyed<S: Gated>(
    method: MethodFilter,
    endpoint: &'static str,
    work: fn(&S, &str) -> Reply,
) -> MethodRouter<S> {
    on(method, move |State(sim): State<S>, Path(key): Path<String>, request: SignedRequest| async move {
        let gate = sim.gate().clone();
        gate.handle(endpoint, request, move |_| work(&sim, &key)).await
    })
}

/// A simulator's key, fault plan and recently seen nonces.
pub(crate) struct Gate {
    key: Vec<u8>,
    plan: FaultPlan,
    nonces: Mutex<HashMap<String, i64>>,
}

impl Gate {
    pub fn new(key: &str, plan: FaultPlan) -> Gate {
        Gate { key: key.as_bytes().to_vec(), plan, nonces: Mutex::new(HashMap::new()) }
    }

    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Runs `work` for `endpoint` under the fault plan. `work` receives the fault left for the
    /// business logic (`write_off_reject`, `error_code`) and runs to completion even if the
    /// client gives up during a delay, like a real server that commits after a slow start.
    pub async fn handle<F>(self: Arc<Self>, endpoint: &str, request: SignedRequest, work: F) -> Response
    where
        F: FnOnce(Option<Fault>) -> Reply + Send + 'static,
    {
        let fault = self.plan.take(endpoint, &request.headers);
        let fault = match fault {
            Some(Fault::DropRequest) => return drop_connection(),
            Some(Fault::Status { code }) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return (status, "simulated failure").into_response();
            }
            other => other,
        };
        // Echoed (and signed) in the reply, so that the reply only answers this request.
        let request_nonce = request
            .headers
            .get(sign::HEADER_NONCE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if let Err(refusal) = self.check(&request) {
            return self.sign(refusal, &self.key, &request_nonce);
        }
        let (reply, after) = match fault {
            Some(Fault::Delay { ms }) => {
                let late = tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    work(None)
                });
                match late.await {
                    Ok(reply) => (reply, None),
                    Err(_) => (Reply::error(500, "INTERNAL", "work failed"), None),
                }
            }
            Some(f @ (Fault::DropReply | Fault::BadSignature)) => (work(None), Some(f)),
            business => (work(business), None),
        };
        match after {
            Some(Fault::DropReply) => drop_connection(),
            Some(Fault::BadSignature) => self.sign(reply, b"not-the-biller-key", &request_nonce),
            _ => self.sign(reply, &self.key, &request_nonce),
        }
    }

    /// Signature, freshness and nonce of a request; a refusal is a signed 401.
    fn check(&self, request: &SignedRequest) -> Result<(), Reply> {
        let header = |name| request.headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(timestamp), Some(nonce), Some(signature), Some(_kiosk)) = (
            header(sign::HEADER_TIMESTAMP),
            header(sign::HEADER_NONCE),
            header(sign::HEADER_SIGNATURE),
            header(sign::HEADER_KIOSK),
        ) else {
            return Err(Reply::error(401, codes::BAD_SIGNATURE, "the request is not signed"));
        };
        let path = request.uri.path();
        let message = sign::request_string(request.method.as_str(), path, timestamp, nonce, &request.body);
        if !sign::verify(&self.key, &message, signature) {
            return Err(Reply::error(401, codes::BAD_SIGNATURE, "the request signature does not verify"));
        }
        let now = sign::now_secs();
        if !sign::timestamp_is_fresh(timestamp, now) {
            return Err(Reply::error(
                401,
                codes::STALE_TIMESTAMP,
                "the timestamp is more than 5 minutes off",
            ));
        }
        self.first_use_of(nonce, now)
    }

    fn first_use_of(&self, nonce: &str, now: i64) -> Result<(), Reply> {
        let mut seen = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, at| now - *at <= 2 * sign::MAX_SKEW_SECS);
        if seen.insert(nonce.to_string(), now).is_some() {
            return Err(Reply::error(401, codes::REPLAYED_NONCE, "this nonce was already used"));
        }
        Ok(())
    }

    fn sign(&self, reply: Reply, key: &[u8], request_nonce: &str) -> Response {
        let timestamp = sign::now_secs().to_string();
        let nonce = sign::new_nonce();
        let signature = sign::sign(key, &sign::reply_string(&timestamp, &nonce, request_nonce, &reply.body));
        let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, reply.body).into_response();
        let headers = response.headers_mut();
        headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
        for (name, value) in [
            (sign::HEADER_TIMESTAMP, timestamp),
            (sign::HEADER_NONCE, nonce),
            (sign::HEADER_REQUEST_NONCE, request_nonce.to_string()),
            (sign::HEADER_SIGNATURE, signature),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}
