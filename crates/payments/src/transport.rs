//! The one HTTP client of a channel, with the channel's timeouts, and bounded reads: a hostile or
//! broken peer can make a reply fail, never make us hold an unbounded body.

use std::time::Duration;

/// Largest API reply we read; real replies are a few kilobytes.
pub(crate) const MAX_REPLY_BYTES: usize = 256 * 1024;
/// Largest statement file we read.
pub(crate) const MAX_STATEMENT_BYTES: usize = 32 * 1024 * 1024;

/// Why no usable reply arrived. Every variant means "outcome unknown" to the callers.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    #[error("no reply within the time limit")]
    Timeout,
    #[error("could not reach the channel: {0}")]
    Connect(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("reply larger than {0} bytes")]
    TooLarge(usize),
    #[error("connection failed: {0}")]
    Other(String),
}

impl From<reqwest::Error> for TransportError {
    fn from(error: reqwest::Error) -> Self {
        let error = error.without_url();
        if error.is_timeout() {
            TransportError::Timeout
        } else if error.is_connect() {
            TransportError::Connect(error.to_string())
        } else {
            TransportError::Other(error.to_string())
        }
    }
}

/// An error and its causes, joined with ": ", without reqwest's bare "builder error" (which says
/// nothing) and without repeating a cause its wrapper already quotes.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let text = current.to_string();
        let said = parts.iter().any(|part| part.contains(&text));
        if !text.is_empty() && text != "builder error" && !said {
            parts.push(text);
        }
        next = current.source();
    }
    if parts.is_empty() {
        "the HTTP library gave no reason".to_string()
    } else {
        parts.join(": ")
    }
}

/// Whether the host of `url` takes a TCP connection within `within`: the network path to a
/// channel, probed without TLS or an API call (a TLS or API quirk must not withdraw payment
/// codes; only a channel nobody can reach does).
pub(crate) async fn host_answers(url: &str, within: Duration) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else { return false };
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let connect = tokio::net::TcpStream::connect((host, port));
    matches!(tokio::time::timeout(within, connect).await, Ok(Ok(_)))
}

/// Whether reqwest would send our requests through a proxy named in the environment.
fn behind_a_proxy() -> bool {
    ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// Timeouts of one channel, from its configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
    /// Pay calls may wait longer (WeChat's SDK uses 10 s for micropay, 6 s for the rest).
    pub pay: Duration,
}

/// A `reqwest::Client` plus the timeouts to use with it.
#[derive(Clone, Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
    pub timeouts: Timeouts,
}

impl Http {
    pub fn new(timeouts: Timeouts, identity: Option<reqwest::Identity>) -> Result<Http, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .use_rustls_tls();
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        Ok(Http { client: builder.build()?, timeouts })
    }

    /// Whether the host of `url` can be reached now (see [`host_answers`]). Behind a proxy
    /// (which reqwest takes from the environment) the direct path says nothing about the
    /// channel, so the probe never withdraws payment codes there.
    pub async fn reaches(&self, url: &str) -> bool {
        behind_a_proxy() || host_answers(url, self.timeouts.connect).await
    }

    /// POSTs `body` and returns the reply body of a 2xx answer, read up to [`MAX_REPLY_BYTES`].
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: String,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        self.post_bounded(url, content_type, body, timeout, MAX_REPLY_BYTES).await
    }

    /// GETs a statement file.
    pub async fn get(&self, url: &str) -> Result<Vec<u8>, TransportError> {
        let response = self.client.get(url).timeout(self.timeouts.request).send().await?;
        read_bounded(response, MAX_STATEMENT_BYTES).await
    }

    /// GETs a statement file with request headers (a signed portal request).
    pub async fn get_with_headers(
        &self,
        url: &str,
        headers: &[(&str, String)],
    ) -> Result<Vec<u8>, TransportError> {
        let mut request = self.client.get(url).timeout(self.timeouts.request);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        read_bounded(request.send().await?, MAX_STATEMENT_BYTES).await
    }

    /// POSTs for a statement: the reply may be a large file rather than an API reply.
    pub async fn post_for_file(
        &self,
        url: &str,
        content_type: &str,
        body: String,
    ) -> Result<Vec<u8>, TransportError> {
        self.post_bounded(url, content_type, body, self.timeouts.request, MAX_STATEMENT_BYTES).await
    }

    /// POSTs `body` within `timeout` and returns the reply body of a 2xx answer, read up to
    /// `limit` bytes.
    async fn post_bounded(
        &self,
        url: &str,
        content_type: &str,
        body: String,
        timeout: Duration,
        limit: usize,
    ) -> Result<Vec<u8>, TransportError> {
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .timeout(timeout)
            .body(body)
            .send()
            .await?;
        read_bounded(response, limit).await
    }
}

async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, TransportError> {
    let status = response.status();
    if !status.is_success() {
        return Err(TransportError::Status(status.as_u16()));
    }
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(TransportError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(TransportError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
