//! The hub's certificates: its own CA (which signs the hub's server certificate and every
//! kiosk's client certificate), and the rustls server configuration that asks each client for a
//! certificate from that CA.
//!
//! The files live in one folder (`ca.crt`, `ca.key`, `server.crt`, `server.key`), made once by
//! `yizhan-hub init` and shared by every hub instance. Client certificates are optional at the
//! TLS layer (a browser on the console and a kiosk that is pairing have none); the kiosk API
//! refuses any request without one ([`crate::api::KioskIdentity`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PublicKeyData, SignatureAlgorithm, PKCS_ECDSA_P256_SHA256,
};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// The CA's name; the issuer of everything the hub signs.
const CA_NAME: &str = "Yizhan fleet hub CA";

/// Why the certificates could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read or write {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a usable certificate or key")]
    Unusable { path: PathBuf },
    #[error("cannot make a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("the TLS configuration is not valid: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("the kiosk's public key is not a P-256 point")]
    BadPublicKey,
}

/// The hub's certificate folder, loaded.
pub struct HubTls {
    ca_pem: String,
    ca_key: KeyPair,
    ca_issuer: rcgen::Certificate,
    pub ca_fingerprint: String,
    pub server: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for HubTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubTls").field("ca_fingerprint", &self.ca_fingerprint).finish_non_exhaustive()
    }
}

/// The files in a certificate folder.
struct Files {
    ca_crt: PathBuf,
    ca_key: PathBuf,
    server_crt: PathBuf,
    server_key: PathBuf,
}

impl Files {
    fn in_dir(dir: &Path) -> Files {
        Files {
            ca_crt: dir.join("ca.crt"),
            ca_key: dir.join("ca.key"),
            server_crt: dir.join("server.crt"),
            server_key: dir.join("server.key"),
        }
    }
}

/// The CA's parameters. Rebuilt the same way at every load, so the hub can sign with the key
/// from `ca.key` without parsing `ca.crt` (rcgen needs an issuer certificate object; one
/// self-signed again from the same name and key issues identical names and key identifiers).
fn ca_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    name.push(DnType::OrganizationName, "Yizhan");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    Ok(params)
}

/// Makes the folder's CA and server certificate, for the host names (or IP addresses) the hub is
/// reached by. Files already there are kept (running it twice changes nothing).
pub fn init(dir: &Path, hosts: &[String]) -> Result<(), TlsError> {
    let files = Files::in_dir(dir);
    std::fs::create_dir_all(dir).map_err(|source| TlsError::File { path: dir.into(), source })?;
    if !files.ca_key.exists() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let ca = ca_params()?.self_signed(&key)?;
        write(&files.ca_key, key.serialize_pem().as_bytes(), true)?;
        write(&files.ca_crt, ca.pem().as_bytes(), false)?;
    }
    if !files.server_key.exists() {
        let ca_key = KeyPair::from_pem(&read(&files.ca_key)?).map_err(|_| unusable(&files.ca_key))?;
        let issuer = ca_params()?.self_signed(&ca_key)?;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(hosts.to_vec())?;
        params.distinguished_name.push(DnType::CommonName, "yizhan-hub");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2040, 1, 1);
        let cert = params.signed_by(&key, &issuer, &ca_key)?;
        write(&files.server_key, key.serialize_pem().as_bytes(), true)?;
        write(&files.server_crt, cert.pem().as_bytes(), false)?;
    }
    Ok(())
}

impl HubTls {
    /// Loads the folder made by [`init`].
    pub fn load(dir: &Path) -> Result<HubTls, TlsError> {
        let files = Files::in_dir(dir);
        let ca_pem = read(&files.ca_crt)?;
        let ca_key = KeyPair::from_pem(&read(&files.ca_key)?).map_err(|_| unusable(&files.ca_key))?;
        let ca_issuer = ca_params()?.self_signed(&ca_key)?;
        let ca_der =
            CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(|_| unusable(&files.ca_crt))?;
        let ca_fingerprint = hex::encode(Sha256::digest(ca_der.as_ref()));

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_der).map_err(|_| unusable(&files.ca_crt))?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(read(&files.server_crt)?.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|_| unusable(&files.server_crt))?;
        let key = PrivateKeyDer::from_pem_slice(read(&files.server_key)?.as_bytes())
            .map_err(|_| unusable(&files.server_key))?;
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(HubTls { ca_pem, ca_key, ca_issuer, ca_fingerprint, server: Arc::new(server) })
    }

    /// The CA certificate, PEM: what a kiosk pins at pairing.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Signs a client certificate for `kiosk_id` over the kiosk's public key (an uncompressed
    /// P-256 point). Returns the PEM and the certificate's fingerprint.
    pub fn sign_kiosk(&self, kiosk_id: &str, public_key: &[u8]) -> Result<(String, String), TlsError> {
        if public_key.len() != 65 || public_key[0] != 0x04 {
            return Err(TlsError::BadPublicKey);
        }
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, kiosk_id);
        params.distinguished_name.push(DnType::OrganizationName, "Yizhan kiosk");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(5 * 366);
        let mut serial = [0_u8; 16];
        rand::Rng::fill(&mut rand::thread_rng(), &mut serial[..]);
        serial[0] &= 0x7f;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let cert = params.signed_by(&RawP256(public_key.to_vec()), &self.ca_issuer, &self.ca_key)?;
        Ok((cert.pem(), hex::encode(Sha256::digest(cert.der().as_ref()))))
    }
}

/// A kiosk's public key as it arrives: the raw point, for rcgen to put in the certificate.
struct RawP256(Vec<u8>);

impl PublicKeyData for RawP256 {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

/// The SHA-256 fingerprint (hex) of a DER certificate, as stored in `kiosk_certificates`.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn unusable(path: &Path) -> TlsError {
    TlsError::Unusable { path: path.to_path_buf() }
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::File { path: path.to_path_buf(), source })
}

fn write(path: &Path, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |source| TlsError::File { path: path.to_path_buf(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true).mode(if private { 0o600 } else { 0o644 });
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)
}
