//! An update the hub offers (`InstallUpdate`): the package and its signature fetched from the
//! hub, with the package of the version running if the updater did not keep it, checked against
//! the operator's key and staged (`crate::update::staging`). The kiosk installs it later, when
//! idle; what the hub hears back is the acknowledgement, then the heartbeats' `update`.

use fleet::package::load_public_key;
use fleet::HubClient;

use super::HubSettings;
use crate::update::staging::{self, Package, Staged};
use crate::update::{deb, UpdateDir, PACKAGE};

/// Stages the offered version; (done, what the operator reads).
pub async fn stage_offered(
    client: &HubClient,
    settings: &HubSettings,
    package: &str,
    version: &str,
    sha256: &str,
) -> (bool, String) {
    match stage(client, settings, package, version, sha256).await {
        Ok(Staged::Waiting(v)) => (true, format!("{v} checked and staged; installed when the kiosk is idle")),
        Ok(Staged::AlreadyHere(v)) => (true, format!("{v} runs already")),
        Err(why) => (false, format!("refused: {why}")),
    }
}

async fn stage(
    client: &HubClient,
    settings: &HubSettings,
    package: &str,
    version: &str,
    sha256: &str,
) -> Result<Staged, String> {
    if package != PACKAGE {
        return Err(format!("this kiosk installs only the {PACKAGE} package, not {package}"));
    }
    let updates = &settings.running.updates;
    let key = load_public_key(&updates.public_key).map_err(|e| e.to_string())?;
    let running = deb::installed_version(&updates.root, PACKAGE)?.ok_or_else(|| {
        format!("{PACKAGE} is not installed from its package here: nothing to fall back to")
    })?;
    if running == version {
        return Ok(Staged::AlreadyHere(running));
    }
    let dir = UpdateDir::new(&settings.data_dir);
    let target = fetch(client, version).await?;
    if target.signature.sha256 != sha256 {
        return Err(format!(
            "the hub's {version} is not the package it offered (sha256 {})",
            target.signature.sha256
        ));
    }
    let previous = match staging::kept_package(&dir, &running) {
        Some(kept) => kept,
        None => {
            fetch(client, &running).await.map_err(|why| format!("the fall-back package {running}: {why}"))?
        }
    };
    // Writing tens of megabytes durably: off the async threads.
    tokio::task::spawn_blocking(move || staging::stage(&dir, &key, &target, &previous, &running))
        .await
        .map_err(|e| format!("staging stopped: {e}"))?
}

async fn fetch(client: &HubClient, version: &str) -> Result<Package, String> {
    let signature = client.package_signature(PACKAGE, version).await.map_err(|e| e.to_string())?;
    let bytes = client.package(PACKAGE, version).await.map_err(|e| e.to_string())?;
    Ok(Package { signature, bytes })
}
