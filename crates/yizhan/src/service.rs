//! Running as a systemd service (`Type=notify` with `WatchdogSec=`, packaging/systemd/): READY=1
//! once the journal is verified and what a power cut left behind is settled, never before;
//! WATCHDOG=1 from the kiosk's main loop — the screens' event loop, or the headless command
//! loop — after a healthy turn, never from a thread of its own, so a hung loop trips the watchdog
//! and systemd starts the kiosk afresh (the journal-first recovery takes over from there).
//! Outside systemd (no `NOTIFY_SOCKET`) every call here does nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sd_notify::NotifyState;

/// Tells systemd the kiosk is up: the journal verified, recovery run, money may be taken.
pub fn ready() {
    notify(&[NotifyState::Ready, NotifyState::Status("taking payments")]);
}

/// Tells systemd the kiosk is stopping on purpose (a restart is not a crash).
pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(false, states) {
        tracing::warn!(%error, "systemd could not be told the kiosk's state");
    }
}

/// The watchdog systemd set for this process (`WATCHDOG_USEC`), if any. The main loop calls
/// [`Watchdog::turn`] every [`Watchdog::every`]; the async runtime, where payments, the hub
/// link and the settler run, beats beside it ([`Watchdog::watch_async_runtime`]): a turn counts
/// as healthy only while that beat is fresh, so a wedged runtime under a live screen trips it too.
#[derive(Clone)]
pub struct Watchdog {
    timeout: Option<Duration>,
    started: Instant,
    /// Milliseconds since `started` at the async runtime's last beat.
    async_beat: Arc<AtomicU64>,
}

impl Watchdog {
    pub fn from_env() -> Watchdog {
        let mut usec = 0;
        let enabled = sd_notify::watchdog_enabled(false, &mut usec);
        Watchdog::with_timeout(enabled.then(|| Duration::from_micros(usec)))
    }

    fn with_timeout(timeout: Option<Duration>) -> Watchdog {
        Watchdog { timeout, started: Instant::now(), async_beat: Arc::new(AtomicU64::new(0)) }
    }

    /// How often the main loop should turn it: four times within systemd's timeout.
    pub fn every(&self) -> Option<Duration> {
        self.timeout.map(|t| t / 4)
    }

    /// Beats from the tokio runtime (call inside it) while a watchdog is set.
    pub fn watch_async_runtime(&self) {
        let Some(every) = self.every() else { return };
        let watchdog = self.clone();
        tokio::spawn(async move {
            loop {
                watchdog.beat_now();
                tokio::time::sleep(every).await;
            }
        });
    }

    fn beat_now(&self) {
        self.async_beat.store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Whether the async runtime beat within half the timeout.
    fn async_runtime_alive(&self, timeout: Duration) -> bool {
        let since_beat = self
            .started
            .elapsed()
            .saturating_sub(Duration::from_millis(self.async_beat.load(Ordering::Relaxed)));
        since_beat < timeout / 2
    }

    /// One healthy turn of the main loop: pings systemd's watchdog, unless the async runtime has
    /// stopped beating (then the ping is withheld and systemd restarts the kiosk).
    pub fn turn(&self) {
        let Some(timeout) = self.timeout else { return };
        if self.async_runtime_alive(timeout) {
            notify(&[NotifyState::Watchdog]);
        } else {
            tracing::error!("the async runtime has not beaten lately: the watchdog is not fed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_systemd_there_is_no_watchdog_to_turn() {
        assert_eq!(Watchdog::with_timeout(None).every(), None);
        let watchdog = Watchdog::with_timeout(Some(Duration::from_secs(120)));
        assert_eq!(watchdog.every(), Some(Duration::from_secs(30)));
    }

    #[test]
    fn a_turn_is_healthy_only_while_the_async_runtime_beats() {
        let timeout = Duration::from_millis(200);
        let watchdog = Watchdog::with_timeout(Some(timeout));
        watchdog.beat_now();
        assert!(watchdog.async_runtime_alive(timeout));
        std::thread::sleep(timeout);
        assert!(!watchdog.async_runtime_alive(timeout), "a runtime silent for the whole timeout");
        watchdog.beat_now();
        assert!(watchdog.async_runtime_alive(timeout));
    }
}
