//! What the running kiosk does about updates, between customers: ask for a staged update to be
//! installed (when the hall is closed), start afresh for a package a technician installed by
//! hand, and say it is healthy once its main loop has turned for the settling time.

use std::time::Duration;

use super::{staging, OpeningHours, UpdateDir};
use crate::config::KioskConfig;

/// How long the kiosk, idle and keeping new customers out, waits for the updater to stop it
/// once it has asked for an install (the path unit answers within a second); then it takes its
/// request back and goes on. Well inside the watchdog's 180 s.
const UPDATER_ANSWERS_WITHIN: Duration = Duration::from_secs(60);

/// After an unanswered request, how long before the kiosk asks again (a kiosk without the
/// updater's units must not leave service every few minutes).
const ASK_AGAIN_AFTER: Duration = Duration::from_secs(3600);

/// This kiosk's update folders and rules.
#[derive(Clone, Debug)]
pub struct Updates {
    pub dir: UpdateDir,
    pub hours: Option<OpeningHours>,
    /// How long the main loop must have turned before the kiosk calls itself healthy.
    pub settle: Duration,
}

/// Why the kiosk leaves its loop between customers for an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leave {
    /// A staged update may be installed now.
    Install,
    /// A newer package was installed by hand: end, and systemd starts the new program.
    Restart,
}

impl Updates {
    pub fn new(config: &KioskConfig, data_dir: &std::path::Path) -> Updates {
        Updates {
            dir: UpdateDir::new(data_dir, &config.updates.root),
            hours: config.updates.opening_hours,
            settle: Duration::from_secs(config.updates.health_settle_s),
        }
    }

    /// Whether to leave the loop now (the caller knows nobody is paying).
    pub fn leave(&self) -> Option<Leave> {
        if self.dir.restart_requested().exists() {
            return Some(Leave::Restart);
        }
        if self.asked_lately() {
            return None;
        }
        staging::install_due(&self.dir, self.hours, chrono::Local::now().time()).then_some(Leave::Install)
    }

    fn unanswered(&self) -> std::path::PathBuf {
        self.dir.dir.join("unanswered")
    }

    /// An earlier request went unanswered within [`ASK_AGAIN_AFTER`].
    fn asked_lately(&self) -> bool {
        let at = std::fs::metadata(self.unanswered()).and_then(|m| m.modified());
        at.ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age < ASK_AGAIN_AFTER)
    }

    /// Asks the updater to install the staged version and waits for it to stop the kiosk. Should
    /// it not come, the request is taken back (a request left lying would later mean "nobody is
    /// paying" when someone may be) and the caller starts afresh.
    pub async fn ask_and_wait(&self) {
        match staging::request_install(&self.dir) {
            Ok(()) => {
                tracing::info!("an update is staged and the kiosk idle: install asked for");
                tokio::time::sleep(UPDATER_ANSWERS_WITHIN).await;
                tracing::error!("the updater did not take the install up (is yizhan-update.path running?); asking again in an hour");
                let _ = std::fs::remove_file(self.dir.request());
                let _ = std::fs::write(self.unanswered(), "");
            }
            Err(error) => tracing::error!(%error, "could not ask for the staged update to be installed"),
        }
    }

    /// Takes the hand-installed package's restart request (the caller then ends the process).
    pub fn take_restart_request(&self) {
        let _ = std::fs::remove_file(self.dir.restart_requested());
        tracing::warn!("a newer package was installed: ending, for systemd to start it");
    }

    /// Says the kiosk is healthy (called from its main loop once `settle` has passed).
    pub fn report_healthy(&self) {
        staging::report_healthy(&self.dir);
    }
}
