//! The kiosk API (`/api/v1/…`, see `fleet::wire`): pairing, journal batches, heartbeats and
//! command acknowledgements. Every route but the CA and pairing needs a live client certificate.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fleet::wire::{path, CommandAck, ErrorBody, Heartbeat, PairReply, PairRequest, ShipAck, ShipBatch};
use serde::de::DeserializeOwned;
use sqlx::PgPool;

use crate::alerts::Rules;
use crate::kiosks::{self, KioskError};
use crate::tls::HubTls;
use crate::{commands, heartbeat, ingest};

/// What every request handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub tls: Arc<HubTls>,
    pub rules: Arc<Rules>,
    /// How kiosks reach the hub (`https://host:port`), for the pairing tickets the console shows.
    pub public_url: String,
    /// A kiosk not heard from for this long is silent (the alert's threshold, and the console's).
    pub silent_after: std::time::Duration,
    /// The clocks of software roll-outs (a roll-out started from the console takes its first turn
    /// with them).
    pub rollout_timing: crate::rollouts::Timing,
}

/// The fingerprint of the client certificate the TLS connection presented, if any; put on each
/// request by the server's accept loop.
#[derive(Clone, Debug)]
pub struct PeerCertificate(pub Option<String>);

/// The address a connection comes from (for the pairing attempt limit).
#[derive(Clone, Copy, Debug)]
pub struct PeerAddress(pub std::net::IpAddr);

/// Wrong pairing codes from one address within [`PAIR_WINDOW_MINUTES`] after which it is refused
/// for the rest of the window: a code has ~39 bits, so guessing needs far more than this.
const PAIR_FAILURES: i64 = 10;
const PAIR_WINDOW_MINUTES: i32 = 15;

/// The kiosk a request comes from, known by its certificate.
#[derive(Clone, Debug)]
pub struct KioskIdentity(pub String);

/// An error answer: a status and an [`ErrorBody`].
#[derive(Debug)]
pub struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { code: self.1.into(), message: self.2 })).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "database",
            "the hub's database did not answer; try again".into(),
        )
    }
}

impl FromRequestParts<AppState> for KioskIdentity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let fingerprint =
            parts.extensions.get::<PeerCertificate>().and_then(|p| p.0.clone()).ok_or_else(|| {
                ApiError(
                    StatusCode::UNAUTHORIZED,
                    "no_certificate",
                    "this request needs the kiosk's client certificate".into(),
                )
            })?;
        match kiosks::authenticate(&state.pool, &fingerprint).await? {
            Some(id) => Ok(KioskIdentity(id)),
            None => Err(ApiError(
                StatusCode::FORBIDDEN,
                "revoked",
                "this certificate is revoked or unknown".into(),
            )),
        }
    }
}

/// A JSON body, gzip'd when the request says `Content-Encoding: gzip`.
#[derive(Debug)]
pub struct Gz<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Gz<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let gzipped = req
            .headers()
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError(StatusCode::PAYLOAD_TOO_LARGE, "body", e.body_text()))?;
        fleet::gzip::decode(&bytes, gzipped)
            .map(Gz)
            .map_err(|e| ApiError(StatusCode::BAD_REQUEST, "body", e.to_string()))
    }
}

/// The kiosk API's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(path::CA, get(ca))
        .route(path::PAIR, post(pair))
        .route(path::JOURNAL, post(journal))
        .route(path::HEARTBEAT, post(beat))
        .route(path::COMMAND_ACK, post(command_ack))
        .route(&format!("{}/{{package}}/{{version}}", path::PACKAGES), get(package_body))
        .route(&format!("{}/{{package}}/{{version}}/signature", path::PACKAGES), get(package_signature))
        .route("/healthz", get(health))
        // Compressed batches are small; this bounds what is read before decompression.
        .layer(DefaultBodyLimit::max(8 * 1024 * 1024))
}

async fn ca(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/x-pem-file")], state.tls.ca_pem().to_owned())
}

async fn pair(
    State(state): State<AppState>,
    axum::Extension(PeerAddress(peer)): axum::Extension<PeerAddress>,
    Gz(request): Gz<PairRequest>,
) -> Result<Json<PairReply>, ApiError> {
    let address = peer.to_string();
    let recent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'kiosk.pair_refused' AND target = $1 \
         AND at > now() - make_interval(mins => $2)",
    )
    .bind(&address)
    .bind(PAIR_WINDOW_MINUTES)
    .fetch_one(&state.pool)
    .await?;
    if recent >= PAIR_FAILURES {
        return Err(ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            "pairing_attempts",
            format!(
                "too many wrong pairing codes from {address}; try again in {PAIR_WINDOW_MINUTES} minutes"
            ),
        ));
    }
    let public_key = hex::decode(&request.public_key)
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "public_key", "the public key is not hex".into()))?;
    if public_key.len() != 65 || public_key[0] != 0x04 {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "public_key",
            "the public key is not a P-256 point".into(),
        ));
    }
    let tls = state.tls.clone();
    match kiosks::redeem(&state.pool, &request.code, |id| tls.sign_kiosk(id, &public_key)).await {
        Ok((kiosk_id, certificate_pem)) => {
            tracing::info!(kiosk = %kiosk_id, "kiosk paired");
            Ok(Json(PairReply { kiosk_id, certificate_pem }))
        }
        Err(KioskError::Db(e)) => Err(e.into()),
        Err(e) => {
            let mut conn = state.pool.acquire().await?;
            crate::audit::record(
                &mut conn,
                "kiosk:unpaired",
                "kiosk.pair_refused",
                &address,
                serde_json::json!({}),
            )
            .await?;
            Err(ApiError(StatusCode::FORBIDDEN, "pairing_code", e.to_string()))
        }
    }
}

async fn journal(
    State(state): State<AppState>,
    KioskIdentity(kiosk): KioskIdentity,
    Gz(batch): Gz<ShipBatch>,
) -> Result<Json<ShipAck>, ApiError> {
    let done = ingest::ingest(&state.pool, &kiosk, &batch).await?;
    tracing::debug!(kiosk = %kiosk, stored = done.stored, duplicates = done.duplicates, ack = done.ack, "batch taken in");
    Ok(Json(ShipAck { stored_through: done.ack }))
}

async fn beat(
    State(state): State<AppState>,
    KioskIdentity(kiosk): KioskIdentity,
    Gz(beat): Gz<Heartbeat>,
) -> Result<Json<fleet::wire::HeartbeatReply>, ApiError> {
    Ok(Json(heartbeat::record(&state.pool, &kiosk, &beat, &state.rules).await?))
}

async fn command_ack(
    State(state): State<AppState>,
    KioskIdentity(kiosk): KioskIdentity,
    Gz(ack): Gz<CommandAck>,
) -> Result<Json<serde_json::Value>, ApiError> {
    commands::acknowledge(&state.pool, &kiosk, &ack).await?;
    Ok(Json(serde_json::json!({})))
}

fn no_package(package: &str, version: &str) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no_package", format!("the hub holds no package {package} {version}"))
}

/// Package downloads served at once: each holds a package in memory (tens of megabytes) until it
/// is sent, and a roll-out's stage can ask for hundreds; the rest wait their turn.
static DOWNLOADS: std::sync::LazyLock<Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| Arc::new(tokio::sync::Semaphore::new(4)));

/// A package's bytes as a response body that keeps its download turn until hyper has taken the
/// last of them (the turn, not the handler, bounds the memory).
struct TurnBody {
    bytes: Option<hyper::body::Bytes>,
    len: u64,
    _turn: tokio::sync::OwnedSemaphorePermit,
}

impl hyper::body::Body for TurnBody {
    type Data = hyper::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(self.bytes.take().map(|bytes| Ok(hyper::body::Frame::data(bytes))))
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.len)
    }
}

/// A package's bytes, for a paired kiosk (it checks them against the signature itself).
async fn package_body(
    State(state): State<AppState>,
    KioskIdentity(_): KioskIdentity,
    axum::extract::Path((package, version)): axum::extract::Path<(String, String)>,
) -> Result<Response, ApiError> {
    let turn = DOWNLOADS.clone().acquire_owned().await.map_err(|_| {
        ApiError(StatusCode::SERVICE_UNAVAILABLE, "busy", "the hub is stopping; try again later".into())
    })?;
    let body = crate::packages::body(&state.pool, &package, &version).await?;
    let body = body.ok_or_else(|| no_package(&package, &version))?;
    let len = body.len() as u64;
    let body = TurnBody { bytes: Some(body.into()), len, _turn: turn };
    Ok(([(header::CONTENT_TYPE, "application/vnd.debian.binary-package")], axum::body::Body::new(body))
        .into_response())
}

async fn package_signature(
    State(state): State<AppState>,
    KioskIdentity(_): KioskIdentity,
    axum::extract::Path((package, version)): axum::extract::Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let signature = crate::packages::signature(&state.pool, &package, &version).await?;
    signature.map(Json).ok_or_else(|| no_package(&package, &version))
}

async fn health(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    sqlx::query("SELECT 1").execute(&state.pool).await?;
    Ok("ok")
}
