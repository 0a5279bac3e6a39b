//! [`Reconnecting`]: keep a link to a device whose port may vanish and come back.
//!
//! USB-serial adapters disappear when a cable is knocked; a printer's port closes when it is
//! power-cycled; a simulator's pty goes away when it restarts. The driver must not need a restart.
//! On an error that means the link is gone ([`TransportError::is_link_lost`]) the port is closed;
//! later calls reopen it, no sooner than the backoff allows (doubling from `min` to `max`), and
//! fail with [`TransportError::Offline`] meanwhile, so the driver reports
//! [`crate::DeviceState::Offline`]. Reconnection is lazy (on the next call) rather than a
//! background task: drivers poll their status anyway, and there is no task to leak or supervise.

use crate::error::TransportError;
use crate::link::{Link, Timing};
use bytes::BytesMut;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::Instant;

/// Opens a fresh byte stream to a device.
pub trait Connector: Send + Sync {
    /// The stream it opens.
    type Io: AsyncRead + AsyncWrite + Unpin + Send;

    /// Opens the device now.
    fn connect(&self) -> impl Future<Output = Result<Self::Io, TransportError>> + Send;

    /// The port's name for logs (a path or a USB id; never personal data).
    fn describe(&self) -> String;
}

/// How long to wait between reconnect attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// First wait after the link is lost.
    pub min: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl BackoffPolicy {
    /// Doubling waits from `min` up to `max`.
    pub const fn new(min: Duration, max: Duration) -> Self {
        BackoffPolicy { min, max }
    }
}

impl Default for BackoffPolicy {
    /// 0.5 s doubling to 10 s.
    fn default() -> Self {
        BackoffPolicy::new(Duration::from_millis(500), Duration::from_secs(10))
    }
}

/// Whether the link is up, as published to watchers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// The port is open.
    Connected,
    /// The port is closed; reconnect attempts continue.
    Disconnected,
}

/// A link that reopens itself after the port vanished.
pub struct Reconnecting<C: Connector> {
    connector: C,
    link: Option<Link<C::Io>>,
    policy: BackoffPolicy,
    delay: Duration,
    next_attempt: Option<Instant>,
    state: watch::Sender<LinkState>,
}

impl<C: Connector> std::fmt::Debug for Reconnecting<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconnecting")
            .field("port", &self.connector.describe())
            .field("connected", &self.link.is_some())
            .field("next_attempt", &self.next_attempt)
            .finish()
    }
}

impl<C: Connector> Reconnecting<C> {
    /// Not connected yet: the first call connects.
    pub fn new(connector: C, policy: BackoffPolicy) -> Self {
        let (state, _) = watch::channel(LinkState::Disconnected);
        Reconnecting { connector, link: None, policy, delay: policy.min, next_attempt: None, state }
    }

    /// The connector.
    pub fn connector(&self) -> &C {
        &self.connector
    }

    /// True while the port is open.
    pub fn is_connected(&self) -> bool {
        self.link.is_some()
    }

    /// Watches connects and disconnects (for `StatusChanged` events).
    pub fn subscribe(&self) -> watch::Receiver<LinkState> {
        self.state.subscribe()
    }

    /// The open link, connecting first if it is down and an attempt is due.
    pub async fn link(&mut self) -> Result<&mut Link<C::Io>, TransportError> {
        if self.link.is_none() {
            if let Some(at) = self.next_attempt {
                let now = Instant::now();
                if now < at {
                    return Err(TransportError::Offline { retry_in: at - now });
                }
            }
            match self.connector.connect().await {
                Ok(io) => {
                    tracing::info!(port = %self.connector.describe(), "device port open");
                    self.link = Some(Link::new(io));
                    self.delay = self.policy.min;
                    self.next_attempt = None;
                    self.state.send_replace(LinkState::Connected);
                }
                Err(e) => {
                    self.schedule_retry();
                    return Err(e);
                }
            }
        }
        Ok(self.link.as_mut().expect("link was just set"))
    }

    /// Closes the port after `reason` and schedules the next attempt.
    pub fn disconnect(&mut self, reason: &TransportError) {
        if self.link.take().is_some() {
            tracing::warn!(port = %self.connector.describe(), %reason, "device port lost; will reopen");
            self.state.send_replace(LinkState::Disconnected);
        }
        self.schedule_retry();
    }

    fn schedule_retry(&mut self) {
        self.next_attempt = Some(Instant::now() + self.delay);
        self.delay = (self.delay * 2).min(self.policy.max);
    }

    fn check<T>(&mut self, r: Result<T, TransportError>) -> Result<T, TransportError> {
        if let Err(e) = &r {
            if e.is_link_lost() {
                self.disconnect(e);
            }
        }
        r
    }

    /// [`Link::request`] on the (re)opened link; a lost link is closed for a later reopen.
    pub async fn request<F, E>(
        &mut self,
        bytes: &[u8],
        decode: impl FnMut(&mut BytesMut) -> Result<Option<F>, E>,
        timing: Timing,
    ) -> Result<Result<F, E>, TransportError> {
        let r = self.link().await?.request(bytes, decode, timing).await;
        self.check(r)
    }

    /// [`Link::send`] on the (re)opened link.
    pub async fn send(&mut self, bytes: &[u8], timing: Timing) -> Result<(), TransportError> {
        let r = self.link().await?.send(bytes, timing).await;
        self.check(r)
    }

    /// [`Link::read_frame`] on the (re)opened link.
    pub async fn read_frame<F, E>(
        &mut self,
        decode: impl FnMut(&mut BytesMut) -> Result<Option<F>, E>,
        timing: Timing,
    ) -> Result<Result<F, E>, TransportError> {
        let r = self.link().await?.read_frame(decode, timing).await;
        self.check(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::DuplexStream;

    /// Fails the first `fail` connects, then hands out duplex streams.
    struct Flaky {
        fail: usize,
        calls: Arc<AtomicUsize>,
    }

    impl Connector for Flaky {
        type Io = DuplexStream;
        async fn connect(&self) -> Result<DuplexStream, TransportError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.fail {
                return Err(TransportError::Open {
                    port: "flaky".into(),
                    source: std::io::ErrorKind::NotFound.into(),
                });
            }
            let (a, b) = tokio::io::duplex(16);
            std::mem::forget(b); // keep the far end open
            Ok(a)
        }
        fn describe(&self) -> String {
            "flaky".into()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn reconnect_waits_for_the_backoff_and_doubles_it() {
        let calls = Arc::new(AtomicUsize::new(0));
        let policy = BackoffPolicy::new(Duration::from_millis(100), Duration::from_millis(300));
        let mut r = Reconnecting::new(Flaky { fail: 3, calls: calls.clone() }, policy);
        assert!(matches!(r.link().await, Err(TransportError::Open { .. })));
        // Too early: no attempt, just "offline".
        assert!(matches!(r.link().await, Err(TransportError::Offline { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(r.link().await.is_err()); // attempt 2 fails, next wait 200 ms
        tokio::time::advance(Duration::from_millis(150)).await;
        assert!(matches!(r.link().await, Err(TransportError::Offline { .. })));
        tokio::time::advance(Duration::from_millis(50)).await;
        assert!(r.link().await.is_err()); // attempt 3 fails, next wait capped at 300 ms
        tokio::time::advance(Duration::from_millis(300)).await;
        assert!(r.link().await.is_ok());
        assert!(r.is_connected());
        assert_eq!(*r.subscribe().borrow(), LinkState::Connected);
    }
}
