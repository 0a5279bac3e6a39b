//! The kiosk's identity towards the hub: its private key, the client certificate the hub signed
//! for it, and the hub's CA certificate it trusts — three files in one folder.
//!
//! Pairing ([`pair`]) is the only step without a client certificate. The kiosk learns the hub's
//! address, the SHA-256 fingerprint of the hub's CA and a one-time code (from the QR the operator's
//! console shows, scanned at the staff panel, or typed); it fetches the CA, checks its fingerprint
//! (so a machine in the middle cannot pose as the hub), makes a new key that never leaves the
//! kiosk, and sends the public half with the code. The hub answers with a certificate for it.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};

use crate::gzip;
use crate::wire::{path, PairReply, PairRequest};

/// The files of a paired kiosk.
#[derive(Clone, Debug)]
pub struct IdentityFiles {
    pub key: PathBuf,
    pub certificate: PathBuf,
    pub hub_ca: PathBuf,
}

impl IdentityFiles {
    /// The conventional names in `dir`.
    pub fn in_dir(dir: &Path) -> IdentityFiles {
        IdentityFiles {
            key: dir.join("kiosk.key"),
            certificate: dir.join("kiosk.crt"),
            hub_ca: dir.join("hub-ca.crt"),
        }
    }

    /// True when all three files are there.
    pub fn exist(&self) -> bool {
        self.key.exists() && self.certificate.exists() && self.hub_ca.exists()
    }
}

/// What pairing needs, as the operator's console gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairingTicket {
    /// `https://host:port`.
    pub hub_url: String,
    /// Lowercase hex SHA-256 of the hub CA's DER certificate.
    pub ca_fingerprint: String,
    /// The one-time code, e.g. `K7Q2-9MPX`.
    pub code: String,
}

/// The QR text's prefix: `yizhan-pair:1;url=…;ca=…;code=…`.
const TICKET_PREFIX: &str = "yizhan-pair:1;";

impl PairingTicket {
    /// The text of the QR the console shows.
    pub fn to_qr_text(&self) -> String {
        format!("{TICKET_PREFIX}url={};ca={};code={}", self.hub_url, self.ca_fingerprint, self.code)
    }

    /// Reads a scanned QR text; `None` for anything else (a payment code scanned by mistake).
    pub fn from_qr_text(text: &str) -> Option<PairingTicket> {
        let rest = text.trim().strip_prefix(TICKET_PREFIX)?;
        let (mut url, mut ca, mut code) = (None, None, None);
        for part in rest.split(';') {
            match part.split_once('=')? {
                ("url", v) if v.starts_with("https://") => url = Some(v.to_owned()),
                ("ca", v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    ca = Some(v.to_ascii_lowercase())
                }
                ("code", v) if !v.is_empty() && v.len() <= 32 => code = Some(v.to_owned()),
                _ => return None,
            }
        }
        Some(PairingTicket { hub_url: url?, ca_fingerprint: ca?, code: code? })
    }
}

/// Why pairing failed, in words for the staff panel.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    #[error("cannot reach the hub at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the hub's certificate authority is not the one on the pairing ticket (fingerprint {found}); someone may be posing as the hub")]
    WrongCa { found: String },
    #[error("the hub sent no usable CA certificate")]
    BadCa,
    #[error("the hub refused the pairing code: {0}")]
    Refused(String),
    #[error("cannot make the kiosk's key: {0}")]
    Key(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Lowercase hex SHA-256 of the first certificate in `pem`, or `None` if there is none.
pub fn fingerprint_of_pem(pem: &[u8]) -> Option<String> {
    let der = CertificateDer::from_pem_slice(pem).ok()?;
    Some(hex::encode(Sha256::digest(der.as_ref())))
}

/// Pairs this kiosk with the hub on `ticket` and writes its identity to `files`. Returns the
/// kiosk id the hub assigned.
pub async fn pair(ticket: &PairingTicket, files: &IdentityFiles) -> Result<String, PairError> {
    let unreachable = |source| PairError::Unreachable { url: ticket.hub_url.clone(), source };
    // Only to fetch the CA, whose fingerprint is then checked against the ticket.
    let bootstrap = reqwest::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(unreachable)?;
    let ca_pem = bootstrap
        .get(format!("{}{}", ticket.hub_url, path::CA))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(unreachable)?
        .bytes()
        .await
        .map_err(unreachable)?;
    let found = fingerprint_of_pem(&ca_pem).ok_or(PairError::BadCa)?;
    if found != ticket.ca_fingerprint {
        return Err(PairError::WrongCa { found });
    }

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let request = PairRequest { code: ticket.code.clone(), public_key: hex::encode(key.public_key_raw()) };
    let trusting_hub = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).map_err(unreachable)?)
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(unreachable)?;
    let response = trusting_hub
        .post(format!("{}{}", ticket.hub_url, path::PAIR))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip::encode(&request))
        .send()
        .await
        .map_err(unreachable)?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(PairError::Refused(format!("{status}: {}", body.chars().take(200).collect::<String>())));
    }
    let reply: PairReply = response.json().await.map_err(unreachable)?;

    write_private(&files.key, key.serialize_pem().as_bytes())?;
    write_atomically(&files.certificate, reply.certificate_pem.as_bytes())?;
    write_atomically(&files.hub_ca, &ca_pem)?;
    Ok(reply.kiosk_id)
}

/// The private key: readable by the kiosk's user only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PairError> {
    use std::os::unix::fs::OpenOptionsExt;
    write_with(path, bytes, std::fs::OpenOptions::new().mode(0o600))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PairError> {
    write_with(path, bytes, &mut std::fs::OpenOptions::new())
}

/// Temporary file, fsync, rename: a power cut leaves the old file or the new one.
fn write_with(path: &Path, bytes: &[u8], options: &mut std::fs::OpenOptions) -> Result<(), PairError> {
    use std::io::Write;
    let fail = |source| PairError::Write { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    // kiosk.key.tmp, kiosk.crt.tmp: one temporary file per file, made afresh (a stale one is
    // removed first, so the private key's never inherits looser permissions).
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut file = options.write(true).create_new(true).open(&tmp).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_round_trips_through_its_qr_text() {
        let ticket = PairingTicket {
            hub_url: "https://hub.example:8443".into(),
            ca_fingerprint: "ab".repeat(32),
            code: "K7Q2-9MPX".into(),
        };
        assert_eq!(PairingTicket::from_qr_text(&ticket.to_qr_text()), Some(ticket));
    }

    #[test]
    fn anything_else_scanned_is_not_a_ticket() {
        for text in [
            "134567890123456789",
            "yizhan-pair:1;url=http://plain;ca=00;code=X",
            &format!("yizhan-pair:1;url=https://h;ca={};code=", "0".repeat(64)),
            &format!("yizhan-pair:1;url=https://h;ca={};code=X;extra=1", "0".repeat(64)),
            &format!("yizhan-pair:2;url=https://h;ca={};code=X", "0".repeat(64)),
        ] {
            assert_eq!(PairingTicket::from_qr_text(text), None, "{text}");
        }
    }
}
