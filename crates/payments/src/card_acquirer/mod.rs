//! The card acquirer's merchant portal: where the settlement file of the merchant's certified
//! bank-card terminals is fetched, one file per day ([`file`]). The kiosk never calls it (its
//! terminal talks to the acquirer itself); the hub reads the files to reconcile card payments.
//!
//! A request is a GET of `/settlement/{merchant}/{yyyymmdd}` signed with the key the acquirer
//! issued: `X-Timestamp` (milliseconds since the epoch) and `X-Signature`, the hex HMAC-SHA256
//! of `GET\n{path}\n{timestamp}`. The portal answers 200 with the file as it stands (rows so
//! far, for a day not over), 404 when it has no file of that day, 401 to a bad signature. A 404
//! for a day not over yet is "no file yet" (no bytes, no rows: such a copy is never final); for
//! a past day it is an error, never "no rows".

pub mod file;

use crate::config::{timeouts, CardAcquirerConfig, ConfigError};
use crate::statement::StatementError;
use crate::transport::{error_chain, Http, TransportError};
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

const CHANNEL: &str = "card-acquirer";

/// A configured client of the acquirer's portal.
#[derive(Clone, Debug)]
pub struct CardAcquirerClient {
    http: Http,
    config: CardAcquirerConfig,
}

/// The path of the file of `merchant` for `date`.
pub fn settlement_path(merchant: &str, date: NaiveDate) -> String {
    format!("/settlement/{merchant}/{}", date.format("%Y%m%d"))
}

/// The request signature: hex HMAC-SHA256 of `GET\n{path}\n{timestamp}` under `key`.
pub fn signature(key: &str, path: &str, timestamp: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("GET\n{path}\n{timestamp}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl CardAcquirerClient {
    pub fn new(config: &CardAcquirerConfig) -> Result<CardAcquirerClient, ConfigError> {
        config.validate()?;
        let limits =
            timeouts(config.connect_timeout_ms, config.request_timeout_ms, config.request_timeout_ms);
        let http = Http::new(limits, None)
            .map_err(|e| ConfigError::Http { key: "card_acquirer".into(), reason: error_chain(&e) })?;
        Ok(CardAcquirerClient { http, config: config.clone() })
    }

    /// The merchant id (商户号) the files are of.
    pub fn merchant(&self) -> &str {
        &self.config.merchant_id
    }

    pub fn fee_rate_ppm(&self) -> Option<u32> {
        self.config.fee_rate_ppm
    }

    /// The settlement file of Beijing day `date` as received.
    pub async fn fetch_statement(&self, date: NaiveDate) -> Result<Vec<u8>, StatementError> {
        let path = settlement_path(&self.config.merchant_id, date);
        let timestamp = chrono::Utc::now().timestamp_millis().to_string();
        let signed = signature(self.config.key.expose_secret(), &path, &timestamp);
        let url = format!("{}{path}", self.config.base_url);
        let headers = [("X-Timestamp", timestamp), ("X-Signature", signed)];
        let fetch =
            |detail: String| StatementError::Fetch { channel: CHANNEL, detail: format!("{path}: {detail}") };
        match self.http.get_with_headers(&url, &headers).await {
            Ok(bytes) if bytes.is_empty() => Err(fetch("an empty reply, not a file".into())),
            Ok(bytes) => Ok(bytes),
            Err(TransportError::Status(404)) if date >= crate::beijing::now().date_naive() => Ok(Vec::new()),
            Err(error) => Err(fetch(error.to_string())),
        }
    }

    /// The file of `date`, parsed.
    pub async fn statement(&self, date: NaiveDate) -> Result<Vec<crate::StatementRow>, StatementError> {
        let bytes = self.fetch_statement(date).await?;
        file::parse(&bytes, &self.config.merchant_id, date)
    }
}
