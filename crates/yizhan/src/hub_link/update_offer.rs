//! An update the hub offers (`InstallUpdate`): the package and its signature fetched from the
//! hub, with the package of the version running if the updater did not keep it, checked against
//! the operator's key and staged (`crate::update::staging`) — in a task of its own, so heartbeats
//! and shipping go on while megabytes come down. The kiosk installs it later, when idle; what
//! the hub hears back is the acknowledgement, then the heartbeats' `update`.
//!
//! A download that fails for a reason that may pass (the network, the hub busy, an update
//! under way) is not acknowledged: the hub hands the command over again with a later heartbeat,
//! and a roll-out does not count a passing hiccup as a kiosk refusing the version.

use std::collections::HashSet;
use std::sync::Mutex;

use fleet::package::load_public_key;
use fleet::wire::CommandAck;
use fleet::{HubClient, HubError};

use super::HubSettings;
use crate::update::staging::{self, Package, Staged};
use crate::update::{deb, UpdateDir, PACKAGE};

/// The version being fetched now (one at a time): an offer handed over again meanwhile, or
/// another version's, waits for it.
static IN_FLIGHT: Mutex<Option<String>> = Mutex::new(None);

/// Versions whose roll-out was stopped while they were being fetched: not staged after all.
static CANCELLED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Frees the in-flight slot however the fetch ends (a panic included).
struct InFlight;

impl Drop for InFlight {
    fn drop(&mut self) {
        *IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn cancelled(version: &str) -> bool {
    CANCELLED.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|c| c.contains(version))
}

/// What to tell the hub about an offer now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Acknowledge it: (done, what the operator reads).
    Now(bool, String),
    /// Not yet: staging goes on in the background (it acknowledges when done), or a passing
    /// failure leaves the offer for the next heartbeat.
    Later,
}

/// Takes up an offer: quick refusals answered at once, the fetching and staging started in the
/// background.
pub fn offer(
    client: &HubClient,
    settings: &HubSettings,
    id: i64,
    package: &str,
    version: &str,
    sha256: &str,
) -> Answer {
    if package != PACKAGE {
        return Answer::Now(
            false,
            format!("refused: this kiosk installs only the {PACKAGE} package, not {package}"),
        );
    }
    let updates = &settings.running.updates;
    let dir = UpdateDir::new(&settings.data_dir, &updates.root);
    if dir.record().state.under_way() {
        return Answer::Later;
    }
    {
        let mut in_flight = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        if in_flight.is_some() {
            return Answer::Later;
        }
        *in_flight = Some(version.to_string());
    }
    // Offered afresh (a new roll-out of a version once stopped): no longer withdrawn.
    if let Some(cancelled) = CANCELLED.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
        cancelled.remove(version);
    }
    let (client, settings) = (client.clone(), settings.clone());
    let (version, sha256) = (version.to_string(), sha256.to_string());
    tokio::spawn(async move {
        let _slot = InFlight;
        let answer = stage(&client, &settings, &dir, &version, &sha256).await;
        if let Answer::Now(done, detail) = answer {
            if let Err(error) = client.ack(&CommandAck { id, done, detail }).await {
                // Handed over again with a later heartbeat; staging finds it here already.
                tracing::warn!(%error, "the update's acknowledgement did not reach the hub");
            }
        }
    });
    Answer::Later
}

/// Waits for the offers being fetched to be staged and acknowledged (for a one-shot process,
/// `yizhan hub sync`, which would otherwise end with them half done).
pub async fn finish_in_flight() {
    // As long as a download may take (the client's own limit), and no longer.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(900);
    while IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("an offered update is still being fetched; it comes again with a later heartbeat");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A failure that may pass: the offer is left for a later heartbeat.
fn passing(error: &HubError) -> bool {
    !matches!(error, HubError::Refused { status: 400..=499, .. })
}

async fn stage(
    client: &HubClient,
    settings: &HubSettings,
    dir: &UpdateDir,
    version: &str,
    sha256: &str,
) -> Answer {
    let refused = |why: String| Answer::Now(false, format!("refused: {why}"));
    let updates = &settings.running.updates;
    let key = match load_public_key(&updates.public_key) {
        Ok(key) => key,
        Err(error) => return refused(error.to_string()),
    };
    let running = match deb::installed_version(&updates.root, PACKAGE) {
        Ok(Some(running)) => running,
        Ok(None) => {
            return refused(format!(
                "{PACKAGE} is not installed from its package here: nothing to fall back to"
            ))
        }
        Err(why) => return refused(why),
    };
    if running == version {
        return Answer::Now(true, format!("{version} runs already"));
    }
    let target = match fetch(client, version).await {
        Ok(target) => target,
        Err(error) if passing(&error) => {
            tracing::warn!(%error, version, "the offered update could not be fetched; it comes again");
            return Answer::Later;
        }
        Err(error) => return refused(error.to_string()),
    };
    if target.signature.sha256 != sha256 {
        return refused(format!(
            "the hub's {version} is not the package it offered (sha256 {})",
            target.signature.sha256
        ));
    }
    let previous = match staging::kept_package(dir, &running) {
        Some(kept) => kept,
        None => match fetch(client, &running).await {
            Ok(previous) => previous,
            Err(error) if passing(&error) => return Answer::Later,
            Err(error) => return refused(format!("the fall-back package {running}: {error}")),
        },
    };
    // Stopped while it came down: not staged after all.
    if cancelled(version) {
        return Answer::Now(false, format!("{version} withdrawn: the roll-out was stopped"));
    }
    // Writing tens of megabytes durably: off the async threads.
    let dir = dir.clone();
    let staged =
        tokio::task::spawn_blocking(move || staging::stage(&dir, &key, &target, &previous, &running)).await;
    match staged {
        Ok(Ok(Staged::Waiting(v))) => {
            Answer::Now(true, format!("{v} checked and staged; installed when the kiosk is idle"))
        }
        Ok(Ok(Staged::AlreadyHere(v))) => Answer::Now(true, format!("{v} runs already")),
        Ok(Err(why)) => refused(why),
        Err(error) => {
            tracing::error!(%error, "staging stopped");
            Answer::Later
        }
    }
}

async fn fetch(client: &HubClient, version: &str) -> Result<Package, HubError> {
    let signature = client.package_signature(PACKAGE, version).await?;
    let bytes = client.package(PACKAGE, version).await?;
    Ok(Package { signature, bytes })
}

/// The roll-out was stopped: drop the staged `version` unless its install was asked for already,
/// and do not stage it should it be coming down now.
pub fn withdraw(settings: &HubSettings, version: &str) -> (bool, String) {
    CANCELLED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(version.to_string());
    let dir = UpdateDir::new(&settings.data_dir, &settings.running.updates.root);
    if staging::withdraw(&dir, version) {
        (true, format!("{version} withdrawn: it will not be installed"))
    } else if staging::staged_version(&dir).as_deref() == Some(version) {
        (false, format!("{version} is being installed already"))
    } else {
        (true, format!("{version} is not staged here"))
    }
}
