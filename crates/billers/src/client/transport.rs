//! One signed HTTP exchange with a biller: sign the request, send it, verify the reply. What comes
//! back is an [`Exchange`] — a value for every outcome, so callers can map each one to exactly one
//! domain answer without ever seeing a transport error type.

use crate::config::BillerEntry;
use crate::sign;
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};

/// Everything a single exchange can end in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Exchange {
    /// A reply below 500 whose signature verified: the biller really said this.
    Answered { status: u16, body: Vec<u8> },
    /// A 5xx, signed or not: the biller (or a gateway in front of it) failed; state unknown.
    ServerError { status: u16 },
    /// No reply at all: refused, reset, timed out, cut short.
    NoAnswer { detail: String },
    /// A reply we must not believe: signature missing or wrong, timestamp stale.
    Untrusted { detail: String },
}

/// A biller endpoint with its key: signs what it sends and checks what it receives.
#[derive(Clone)]
pub(crate) struct SignedHttp {
    http: reqwest::Client,
    base: Url,
    key: Vec<u8>,
    kiosk_id: String,
}

/// Why a client could not be built from its configuration entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientBuildError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("the HTTP client for {name} could not be built: {detail}")]
    Http { name: String, detail: String },
}

impl SignedHttp {
    /// `prefix` names the entry in errors ("billers.water").
    pub(crate) fn new(
        entry: &BillerEntry,
        prefix: &str,
        kiosk_id: &str,
    ) -> Result<SignedHttp, ClientBuildError> {
        entry.validate(prefix)?;
        let base = entry.parsed_base_url().ok_or_else(|| crate::config::ConfigError {
            key: format!("{prefix}.base_url"),
            expected: "an http:// or https:// URL",
            found: Some(entry.base_url.clone()),
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(entry.connect_timeout())
            .timeout(entry.request_timeout())
            // Every request is a fresh decision; a pooled connection the server has half-closed
            // would turn into a spurious "unknown".
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| ClientBuildError::Http {
                name: prefix.to_string(),
                detail: e.without_url().to_string(),
            })?;
        Ok(SignedHttp { http, base, key: entry.key.clone().into_bytes(), kiosk_id: kiosk_id.to_string() })
    }

    /// Sends `method` to the contract path made of `segments` (each percent-encoded), with an
    /// optional JSON body, and classifies the outcome.
    pub(crate) async fn exchange(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<Vec<u8>>,
    ) -> Exchange {
        let url = self.url(segments);
        let body = body.unwrap_or_default();
        let timestamp = sign::now_secs().to_string();
        let nonce = sign::new_nonce();
        let signed = sign::request_string(method.as_str(), url.path(), &timestamp, &nonce, &body);
        let mut request = self
            .http
            .request(method, url)
            .header(sign::HEADER_KIOSK, &self.kiosk_id)
            .header(sign::HEADER_TIMESTAMP, &timestamp)
            .header(sign::HEADER_NONCE, &nonce)
            .header(sign::HEADER_SIGNATURE, sign::sign(&self.key, &signed));
        if !body.is_empty() {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Exchange::NoAnswer { detail: describe(&error) },
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(bytes) => bytes.to_vec(),
            Err(error) => return Exchange::NoAnswer { detail: describe(&error) },
        };
        if status >= 500 {
            return Exchange::ServerError { status };
        }
        match self.check_reply(&headers, &body, &nonce) {
            Ok(()) => Exchange::Answered { status, body },
            Err(detail) => Exchange::Untrusted { detail: format!("HTTP {status}: {detail}") },
        }
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            // A base of "https://host/prefix/" has an empty last segment to replace.
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The reply must be signed for *this* request: it echoes our nonce, and the signature covers
    /// it. A signed reply to another request (replayed, or crossed by a proxy) is not believed.
    fn check_reply(&self, headers: &HeaderMap, body: &[u8], request_nonce: &str) -> Result<(), &'static str> {
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(timestamp), Some(nonce), Some(signature)) =
            (header(sign::HEADER_TIMESTAMP), header(sign::HEADER_NONCE), header(sign::HEADER_SIGNATURE))
        else {
            return Err("reply is not signed");
        };
        if header(sign::HEADER_REQUEST_NONCE) != Some(request_nonce) {
            return Err("reply does not answer this request (request nonce not echoed)");
        }
        if !sign::verify(&self.key, &sign::reply_string(timestamp, nonce, request_nonce, body), signature) {
            return Err("reply signature does not verify");
        }
        if !sign::timestamp_is_fresh(timestamp, sign::now_secs()) {
            return Err("reply timestamp is stale");
        }
        Ok(())
    }
}

/// A transport error for staff logs. Only the kind and the causes are kept: reqwest's own text
/// names the URL, and the URL holds the account number.
fn describe(error: &reqwest::Error) -> String {
    let mut detail = String::from(if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "reply cut short"
    } else {
        "no reply"
    });
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    detail
}
