//! The kiosk's mutual-TLS client to the hub: it trusts only the hub's CA and shows the
//! certificate the hub signed at pairing.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::gzip;
use crate::identity::IdentityFiles;
use crate::wire::{path, CommandAck, Heartbeat, HeartbeatReply, ShipAck, ShipBatch};

/// Why a call to the hub failed. Every one of them is retried later; none stops the kiosk.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("the kiosk is not paired with a hub (no identity in {0})")]
    NotPaired(String),
    #[error("cannot read the kiosk's identity: {0}")]
    Identity(String),
    #[error("cannot reach the hub: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("the hub answered {status}: {body}")]
    Refused { status: u16, body: String },
}

impl HubError {
    /// The hub refused this kiosk's certificate (revoked, or another hub): retrying will not help
    /// until staff pair the kiosk again.
    pub fn is_revoked(&self) -> bool {
        matches!(self, HubError::Refused { status: 401 | 403, .. })
    }
}

/// A client for one hub.
#[derive(Clone, Debug)]
pub struct HubClient {
    base: String,
    http: reqwest::Client,
}

impl HubClient {
    /// A client for the hub at `base` (`https://host:port`) with the identity in `files`.
    pub fn new(base: &str, files: &IdentityFiles) -> Result<HubClient, HubError> {
        if !files.exist() {
            return Err(HubError::NotPaired(files.key.parent().unwrap_or(&files.key).display().to_string()));
        }
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| HubError::Identity(format!("{}: {e}", p.display())))
        };
        let mut pem = read(&files.certificate)?;
        pem.extend_from_slice(&read(&files.key)?);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| HubError::Identity(e.to_string()))?;
        let ca = reqwest::Certificate::from_pem(&read(&files.hub_ca)?)
            .map_err(|e| HubError::Identity(e.to_string()))?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .identity(identity)
            // A hub that does not answer in time is retried later; a payment never waits for it.
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()?;
        Ok(HubClient { base: base.trim_end_matches('/').to_owned(), http })
    }

    /// Ships one batch.
    pub async fn ship(&self, batch: &ShipBatch) -> Result<ShipAck, HubError> {
        self.post(path::JOURNAL, batch).await
    }

    /// Sends a heartbeat; the answer carries the commands waiting for this kiosk.
    pub async fn heartbeat(&self, beat: &Heartbeat) -> Result<HeartbeatReply, HubError> {
        self.post(path::HEARTBEAT, beat).await
    }

    /// Acknowledges a command.
    pub async fn ack(&self, ack: &CommandAck) -> Result<(), HubError> {
        self.post::<_, serde_json::Value>(path::COMMAND_ACK, ack).await.map(drop)
    }

    /// The signature file of a package the hub holds.
    pub async fn package_signature(
        &self,
        package: &str,
        version: &str,
    ) -> Result<crate::package::PackageSignature, HubError> {
        let url = format!("{}{}/{package}/{version}/signature", self.base, path::PACKAGES);
        let response = checked(self.http.get(url).send().await?).await?;
        Ok(response.json().await?)
    }

    /// A package's bytes (checked by the caller against its signature, never trusted as sent).
    pub async fn package(&self, package: &str, version: &str) -> Result<Vec<u8>, HubError> {
        let url = format!("{}{}/{package}/{version}", self.base, path::PACKAGES);
        // Megabytes, on a kiosk's line: far longer than a heartbeat may take.
        let request = self.http.get(url).timeout(Duration::from_secs(900));
        let response = checked(request.send().await?).await?;
        if response.content_length().is_some_and(|n| n > crate::package::MAX_PACKAGE_BYTES) {
            let body = format!("a package larger than {} bytes", crate::package::MAX_PACKAGE_BYTES);
            return Err(HubError::Refused { status: 413, body });
        }
        Ok(response.bytes().await?.to_vec())
    }

    async fn post<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B) -> Result<R, HubError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(gzip::encode(body))
            .send()
            .await?;
        Ok(checked(response).await?.json().await?)
    }
}

/// The response, or the hub's refusal with the start of what it said.
async fn checked(response: reqwest::Response) -> Result<reqwest::Response, HubError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(HubError::Refused { status: status.as_u16(), body: body.chars().take(300).collect() })
}
