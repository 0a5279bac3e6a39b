//! One signed HTTP exchange with a biller: sign the request, send it, verify the reply. What comes
//! back is an [`Exchange`] — a value for every outcome, so callers can map each one to exactly one
//! domain answer without ever seeing a transport error type.
//!
//! Replies are read up to a bound: a broken or hostile biller (or anything in front of it) can
//! make a reply fail, never make the kiosk hold an unbounded body. The request timeout covers the
//! whole reply, body included, so a trickle cannot hold a call open either.

use crate::config::BillerEntry;
use crate::sign;
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};

/// Largest reply of an API call we read; real replies are well under a kilobyte.
pub const MAX_REPLY_BYTES: usize = 256 * 1024;
/// Largest reconciliation file we read (about 400,000 lines).
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

/// Everything a single exchange can end in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Exchange {
    /// A reply below 500 whose signature verified: the biller really said this.
    Answered { status: u16, body: Vec<u8> },
    /// A 5xx, signed or not: the biller (or a gateway in front of it) failed; state unknown.
    ServerError { status: u16 },
    /// No reply at all: refused, reset, timed out, cut short.
    NoAnswer { detail: String },
    /// A reply we must not believe: signature missing or wrong, timestamp stale, or larger than
    /// we read.
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
    /// optional JSON body, and classifies the outcome; a reply body over [`MAX_REPLY_BYTES`] is
    /// not read to its end and not believed.
    pub(crate) async fn exchange(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<Vec<u8>>,
    ) -> Exchange {
        self.exchange_bounded(method, segments, body, MAX_REPLY_BYTES).await
    }

    /// [`Self::exchange`] with a reply bound of `limit` bytes.
    pub(crate) async fn exchange_bounded(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<Vec<u8>>,
        limit: usize,
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
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Exchange::NoAnswer { detail: describe(&error) },
        };
        let status = response.status().as_u16();
        if status >= 500 {
            // Its body is of no use: the outcome is unknown whatever it says.
            return Exchange::ServerError { status };
        }
        let too_large = || Exchange::Untrusted {
            detail: format!("HTTP {status}: the reply is larger than {limit} bytes, not read"),
        };
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return too_large();
        }
        let headers = response.headers().clone();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > limit => return too_large(),
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(error) => return Exchange::NoAnswer { detail: describe(&error) },
            }
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

/// A transport error for staff logs: its kind and its innermost cause (the one that says what
/// happened: "Connection refused (os error 111)"), unless that only repeats the kind ("operation
/// timed out"). reqwest's own text is not used: it names the URL, and the URL holds the account
/// number. The causes in between are wrappers ("client error (Connect)") that would only repeat
/// the kind in other words.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "reply cut short"
    } else {
        "no reply"
    };
    let mut innermost = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    match innermost {
        Some(cause) if !cause.is_empty() && !cause.contains(kind) => format!("{kind}: {cause}"),
        _ => kind.to_string(),
    }
}
