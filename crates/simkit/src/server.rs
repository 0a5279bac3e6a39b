//! A hyper server loop around an axum router that can drop a connection without replying.

use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// Marker a handler puts in its response's extensions to have the connection closed unanswered.
#[derive(Clone, Copy, Debug)]
pub struct DropConnection;

/// A response that makes the server close the connection with no reply: the client sees a
/// connection reset or an incomplete message, exactly like a reply lost in the network.
pub fn drop_connection() -> Response {
    let mut response = ().into_response();
    response.extensions_mut().insert(DropConnection);
    response
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reply dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// A running simulator server.
#[derive(Debug)]
pub struct Served {
    pub addr: SocketAddr,
    pub task: JoinHandle<()>,
}

impl Served {
    /// "http://127.0.0.1:PORT"
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on `listener` until the returned handle is dropped.
pub fn serve(listener: TcpListener, router: Router) -> std::io::Result<Served> {
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "simulator accept failed");
                    continue;
                }
            };
            let router = router.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                    let router = router.clone();
                    async move {
                        let response = match router.oneshot(request.map(axum::body::Body::new)).await {
                            Ok(response) => response,
                            Err(never) => match never {},
                        };
                        if response.extensions().get::<DropConnection>().is_some() {
                            // Returning an error makes hyper close the connection unanswered.
                            return Err(Dropped);
                        }
                        Ok::<_, Dropped>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Served { addr, task })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[tokio::test]
    async fn a_dropped_reply_reaches_the_client_as_a_transport_error() {
        let router = Router::new()
            .route("/ok", get(|| async { "fine" }))
            .route("/lost", get(|| async { drop_connection() }));
        let served = serve(TcpListener::bind("127.0.0.1:0").await.unwrap(), router).unwrap();
        let http = reqwest::Client::new();
        let ok = http.get(format!("{}/ok", served.url())).send().await.unwrap();
        assert_eq!(ok.text().await.unwrap(), "fine");
        let lost = http.get(format!("{}/lost", served.url())).send().await;
        assert!(lost.is_err(), "expected no reply, got {lost:?}");
    }
}
