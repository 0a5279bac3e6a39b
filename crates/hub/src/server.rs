//! The hub's HTTPS server: a TLS accept loop (rustls) in front of the axum router, which tells
//! each request which client certificate its connection presented, and the background turns
//! (the silent-kiosk sweep, webhook delivery).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::alerts::{store as alerts, webhook};
use crate::api::{PeerAddress, PeerCertificate};

/// A TLS handshake that takes longer than this is dropped (a client that connects and waits).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `stop` turns true; connections under way finish their
/// request.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Arc<rustls::ServerConfig>,
    mut stop: watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    connections.spawn(connection(tcp, peer, acceptor.clone(), app.clone(), stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors, mostly: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    while connections.join_next().await.is_some() {}
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let fingerprint = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| crate::tls::fingerprint(c.as_ref()));
    let certificate = PeerCertificate(fingerprint);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(certificate.clone());
        req.extensions_mut().insert(PeerAddress(peer.ip()));
        app.clone().oneshot(req.map(axum::body::Body::new))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(tls), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Opens `silent` alerts every `every`; stops with `stop`.
pub async fn sweep_silent(
    pool: sqlx::PgPool,
    silent_after: Duration,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let pool = &pool;
    every_until_stopped(every, &mut stop, move || async move {
        match alerts::sweep_silent(pool, silent_after).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(opened = n, "kiosks gone silent"),
            Err(e) => tracing::warn!(error = %e, "silent-kiosk sweep failed"),
        }
    })
    .await;
}

/// Moves the running roll-out on every `every` (`rollouts::advance`); stops with `stop`.
pub async fn advance_rollouts(
    pool: sqlx::PgPool,
    timing: crate::rollouts::Timing,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let pool = &pool;
    every_until_stopped(every, &mut stop, move || async move {
        if let Err(e) = crate::rollouts::advance_running(pool, timing).await {
            tracing::warn!(error = %e, "roll-out turn failed");
        }
    })
    .await;
}

/// Reconciles the newest final day once its files are there ([`crate::recon::scheduled_turn`]),
/// looking every `every`; stops with `stop`.
pub async fn reconcile_daily(
    pool: sqlx::PgPool,
    clients: crate::recon::accounts::Clients,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let (pool, clients) = (&pool, &clients);
    every_until_stopped(every, &mut stop, move || async move {
        let now = kiosk_core::Ts(chrono::Utc::now().timestamp_millis());
        match crate::recon::scheduled_turn(pool, clients, now).await {
            Ok(runs) => {
                for run in runs {
                    tracing::info!(day = %run.day, "{}", run.line());
                }
            }
            Err(e) => tracing::warn!(error = %e, "reconciliation turn failed"),
        }
    })
    .await;
}

/// Delivers webhook notices every `every`; stops with `stop`.
pub async fn deliver_webhooks(
    pool: sqlx::PgPool,
    url: String,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let http = webhook::client();
    let (pool, http, url) = (&pool, &http, url.as_str());
    every_until_stopped(every, &mut stop, move || async move {
        if let Err(e) = webhook::deliver_due(pool, http, url).await {
            tracing::warn!(error = %e, "webhook delivery failed");
        }
    })
    .await;
}

/// The loop of each background turn above: runs `turn`, then waits `every` and runs it again,
/// until `stop` changes (or its sender is gone). Stop is only observed between turns: a turn
/// under way finishes first.
async fn every_until_stopped<F, Fut>(every: Duration, stop: &mut watch::Receiver<bool>, mut turn: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        turn().await;
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}
