//! The kiosk's link to the fleet hub (`crates/hub`), beside its payments and never in their way:
//! the journal shipper (`fleet::Shipper`, reading on its own connection), the heartbeat with the
//! kiosk's status ([`status`]), and the operator's commands that come back with each heartbeat's
//! answer ([`commands`]).
//!
//! Nothing here holds the money lock or the journal's write connection except a command's own
//! staff-action record. A hub that is down, slow or gone costs the customer nothing: the tasks log,
//! back off and try again.

pub mod commands;
pub mod config_push;
pub mod pairing;
pub mod status;
pub mod update_offer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fleet::{HubClient, IdentityFiles};
use tokio::sync::watch;

use crate::backend::Backend;
use crate::config::KioskConfig;

/// Where the hub is and where this kiosk's identity and journal are.
#[derive(Clone, Debug)]
pub struct HubSettings {
    pub url: String,
    pub identity: IdentityFiles,
    pub identity_dir: PathBuf,
    /// The data directory (the operator's out-of-service order is kept there).
    pub data_dir: PathBuf,
    /// Where configurations pushed from the hub are staged and applied.
    pub config_place: config_push::ConfigPlace,
    /// The configuration this process runs, for what a push may not change.
    pub running: Arc<KioskConfig>,
    pub journal: PathBuf,
    pub ship_every: Duration,
    pub heartbeat_every: Duration,
    /// The version of the kiosk's package installed, read once (it changes only with a restart):
    /// each heartbeat reports it.
    pub package_installed: Option<String>,
}

impl HubSettings {
    /// The `[hub]` section resolved against the data directory; `None` without one.
    /// `config_file` is the file `config` was read from.
    pub fn from_config(config: &KioskConfig, config_file: &Path, data_dir: &Path) -> Option<HubSettings> {
        let hub = config.hub.as_ref()?;
        let identity_dir =
            if hub.identity.is_absolute() { hub.identity.clone() } else { data_dir.join(&hub.identity) };
        Some(HubSettings {
            url: hub.url.trim_end_matches('/').to_owned(),
            identity: IdentityFiles::in_dir(&identity_dir),
            identity_dir,
            data_dir: data_dir.to_path_buf(),
            config_place: config_push::ConfigPlace::new(config_file, data_dir),
            running: Arc::new(config.clone()),
            journal: crate::backend::journal_path(config, data_dir),
            ship_every: Duration::from_secs(hub.ship_every_s),
            heartbeat_every: Duration::from_secs(hub.heartbeat_every_s),
            package_installed: crate::update::deb::installed_version(
                &config.updates.root,
                crate::update::PACKAGE,
            )
            .ok()
            .flatten(),
        })
    }

    /// A client, when the kiosk is paired.
    pub fn client(&self) -> Result<HubClient, fleet::HubError> {
        HubClient::new(&self.url, &self.identity)
    }
}

/// The running link; dropping it stops the tasks.
#[derive(Debug)]
pub struct HubLink {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for HubLink {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts shipping and heartbeats for a paired kiosk. An unpaired one logs why and runs alone.
pub async fn start(backend: Arc<Backend>, settings: HubSettings) -> Option<HubLink> {
    let client = match settings.client() {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%error, "no link to the fleet hub: pair the kiosk with `yizhan hub pair`");
            return None;
        }
    };
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    match fleet::Shipper::open(&settings.journal, client.clone()).await {
        Ok(shipper) => tasks.push(tokio::spawn(shipper.run(settings.ship_every, stopped.clone()))),
        Err(error) => tracing::error!(%error, "the journal shipper cannot start"),
    }
    match journal::OutboxReader::open(&settings.journal).await {
        Ok(reader) => tasks.push(tokio::spawn(heartbeats(backend, client, reader, settings, stopped))),
        Err(error) => tracing::error!(%error, "heartbeats cannot start: the journal cannot be read"),
    }
    Some(HubLink { stop, tasks })
}

/// A heartbeat every `heartbeat_every`, and one at once when the customer calls for staff; the
/// commands in each answer carried out in order.
async fn heartbeats(
    backend: Arc<Backend>,
    client: HubClient,
    reader: journal::OutboxReader,
    settings: HubSettings,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Err(error) = beat_once(&backend, &client, &reader, &settings).await {
            tracing::warn!(%error, "heartbeat to the fleet hub failed; trying again later");
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.heartbeat_every) => {}
            _ = backend.runtime.help.opened() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sends one heartbeat and carries out the commands in its answer, in order: one that cannot
/// be journaled stops the rest (they come again with the next answer). Returns how many were
/// carried out.
pub async fn beat_once(
    backend: &Backend,
    client: &HubClient,
    reader: &journal::OutboxReader,
    settings: &HubSettings,
) -> Result<usize, fleet::HubError> {
    let beat = status::heartbeat(backend, reader, settings).await;
    let reply = client.heartbeat(&beat).await?;
    backend.runtime.help.hub_answered(settings.heartbeat_every);
    let mut done = 0;
    for command in reply.commands {
        if !commands::carry_out(backend, client, reader, settings, command).await? {
            break;
        }
        done += 1;
    }
    Ok(done)
}

/// The JSON in `path`, or the default when the file is missing, unreadable or not that JSON: for
/// state files whose absence means "nothing yet" (what writes them rewrites them whole).
pub(crate) fn read_json_or_default<T: serde::de::DeserializeOwned + Default>(path: &Path) -> T {
    std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

/// `text` in `path`: a temporary file, fsync, rename, fsync of the folder (an acknowledged order
/// or a staged configuration survives a power cut, whole or not at all).
pub(crate) fn write_durably(path: &Path, text: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(text.as_ref())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    sync_folder(path)
}

/// fsyncs the folder holding `path`, so a rename into it is on disk.
pub(crate) fn sync_folder(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}
