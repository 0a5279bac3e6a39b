//! Where an update stands, as the updater keeps it in `state.json` (written durably at every
//! step, so a power cut in the middle of an install is resumed, not forgotten), and as the
//! kiosk reports it to the hub.

use serde::{Deserialize, Serialize};

/// One step of an update.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum UpdateState {
    /// Nothing under way.
    #[default]
    Idle,
    /// dpkg is installing `to` over `from`.
    Installing { from: String, to: String, started_ms: i64 },
    /// `to` is installed and started; it must say it is healthy before `deadline_ms`.
    AwaitingHealth { from: String, to: String, installed_ms: i64, deadline_ms: i64 },
    /// `version` runs and said it is healthy.
    Healthy { version: String, at_ms: i64 },
    /// `to` failed (`reason`): `from` is being put back.
    RollingBack { from: String, to: String, reason: String },
    /// `to` was installed but not healthy (or not installable): `from` is back.
    RolledBack { from: String, to: String, reason: String, at_ms: i64 },
    /// A staged package was not installed at all (its signature, its contents).
    Refused { version: String, reason: String, at_ms: i64 },
}

impl UpdateState {
    /// The updater is in the middle of it (nothing new is staged or asked for meanwhile).
    pub fn under_way(&self) -> bool {
        matches!(
            self,
            UpdateState::Installing { .. }
                | UpdateState::AwaitingHealth { .. }
                | UpdateState::RollingBack { .. }
        )
    }

    /// One word for the hub.
    pub fn phase(&self) -> &'static str {
        match self {
            UpdateState::Idle => "idle",
            UpdateState::Installing { .. } => "installing",
            UpdateState::AwaitingHealth { .. } => "awaiting_health",
            UpdateState::RollingBack { .. } => "rolling_back",
            UpdateState::Healthy { .. } => "healthy",
            UpdateState::RolledBack { .. } => "rolled_back",
            UpdateState::Refused { .. } => "refused",
        }
    }

    /// The version the step is about.
    pub fn version(&self) -> Option<&str> {
        match self {
            UpdateState::Idle => None,
            UpdateState::Installing { to, .. }
            | UpdateState::AwaitingHealth { to, .. }
            | UpdateState::RollingBack { to, .. }
            | UpdateState::RolledBack { to, .. } => Some(to),
            UpdateState::Healthy { version, .. } | UpdateState::Refused { version, .. } => Some(version),
        }
    }

    /// In a reader's words.
    pub fn describe(&self) -> String {
        match self {
            UpdateState::Idle => "no update under way".into(),
            UpdateState::Installing { from, to, .. } => format!("installing {to} over {from}"),
            UpdateState::AwaitingHealth { to, .. } => {
                format!("{to} installed, waiting for it to report healthy")
            }
            UpdateState::Healthy { version, .. } => format!("{version} installed and healthy"),
            UpdateState::RollingBack { from, to, reason } => {
                format!("putting {from} back in place of {to}: {reason}")
            }
            UpdateState::RolledBack { from, to, reason, .. } => {
                format!("{to} rolled back to {from}: {reason}")
            }
            UpdateState::Refused { version, reason, .. } => format!("{version} refused: {reason}"),
        }
    }
}

/// The whole of `state.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRecord {
    pub state: UpdateState,
    /// Versions rolled back or refused here: the kiosk does not stage them again (the hub's
    /// roll-out counts them as failures instead of offering them round and round).
    #[serde(default)]
    pub failed: Vec<String>,
}
