//! Putting the kiosk together from its configuration: the journal, the channel and biller
//! clients, and — in the embedded default — the simulators they talk to on loopback.

mod embedded;

pub use embedded::EmbeddedSims;

use crate::config::{BackendMode, KioskConfig};
use crate::runtime::{Identity, Runtime};
use journal::Journal;
use std::path::{Path, PathBuf};

/// A kiosk ready to take payments.
pub struct Backend {
    pub runtime: Runtime,
    /// Present in embedded mode; dropping it stops the simulators.
    pub sims: Option<EmbeddedSims>,
    /// Held for as long as this process may move money (see [`JournalAccess::Money`]).
    _lock: Option<crate::journal_lock::JournalLock>,
    /// Where the journal and its anchor are, when this process moves money (for [`Backend::restart`]).
    place: Option<JournalPlace>,
}

/// The journal's file and anchor, as the money-moving open found them.
#[derive(Clone, Debug)]
struct JournalPlace {
    path: PathBuf,
    anchor: PathBuf,
    kiosk_id: String,
}

/// How a command uses the journal.
pub enum JournalAccess {
    /// It moves money: the lock is taken *before* the journal is opened (opening may migrate the
    /// schema, which only the lock holder may do), and the journal must pass every start-up check
    /// (`journal::Journal::open_trusted`).
    Money(crate::journal_lock::JournalLock),
    /// It only reads (list, show, verify, export, reprint): no lock, no check, so staff can look
    /// while the kiosk runs — including at a journal the kiosk refuses.
    ReadOnly,
    /// It needs no journal (device checks): an empty one in memory, so nothing is created on disk.
    Scratch,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("the simulators could not start: {0}")]
    Simulators(String),
    #[error("the payment channel clients could not be built: {0}")]
    Channels(String),
    #[error("the biller clients could not be built: {0}")]
    Billers(String),
    #[error("kiosk.journal: the journal {path} could not be opened: {}", causes(source))]
    Journal { path: PathBuf, source: journal::JournalError },
    #[error("kiosk.journal: {path} is a folder; expected the journal's file name inside it, such as {}", path.join("journal.db").display())]
    JournalIsFolder { path: PathBuf },
    #[error("kiosk.journal: there is no journal at {path} (missing or empty)")]
    NoJournal { path: PathBuf },
    #[error("the journal cannot be trusted, so this kiosk takes no money: {0}")]
    Distrust(#[from] journal::Distrust),
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Device(#[from] crate::devices::DeviceError),
    #[error("receipts.signing_key: {0}")]
    ReceiptKey(String),
}

impl Backend {
    pub async fn start(
        config: &KioskConfig,
        config_dir: &Path,
        data_dir: &Path,
        access: JournalAccess,
    ) -> Result<Backend, BackendError> {
        let (sims, payments_config, billers_config) = match config.backend.mode() {
            BackendMode::Embedded => {
                let keys_dir = config_dir.join(&config.backend.sim_keys);
                if !keys_dir.is_dir() {
                    return Err(BackendError::Config(format!(
                        "backend.sim_keys: {} is not a folder; expected the simulators' demo keys (config/sim-keys)",
                        keys_dir.display()
                    )));
                }
                let sims = EmbeddedSims::start(&keys_dir).await?;
                let (p, b) = (sims.payments_config(), sims.billers_config());
                (Some(sims), p, b)
            }
            BackendMode::Remote => {
                let missing = |section: &str| {
                    BackendError::Config(format!("[{section}] is required when [backend] mode = \"remote\""))
                };
                let p = config.payments.clone().ok_or_else(|| missing("payments"))?;
                let b = config.billers.clone().ok_or_else(|| missing("billers"))?;
                (None, p, b)
            }
        };
        let channels = payments::ChannelClients::new(&payments_config)
            .map_err(|e| BackendError::Channels(e.to_string()))?;
        let billers = billers::Billers::new(&billers_config, &config.kiosk.id)
            .map_err(|e| BackendError::Billers(e.to_string()))?;
        let path = journal_path(config, data_dir);
        let moves_money = matches!(access, JournalAccess::Money(_));
        let place = moves_money.then(|| JournalPlace {
            path: path.clone(),
            anchor: anchor_path(config, data_dir),
            kiosk_id: config.kiosk.id.clone(),
        });
        let (journal, lock) = open_journal(config, data_dir, &path, access).await?;
        let identity = Identity {
            kiosk_id: config.kiosk.id.clone(),
            number: config.kiosk.number.clone(),
            service_phone: config.kiosk.service_phone.clone(),
            max_payment: kiosk_core::Fen(config.kiosk.max_payment_fen),
        };
        if moves_money {
            crate::card_memory::import_legacy_files(&config.devices, data_dir, &journal.card_terminal())
                .await
                .map_err(|e| BackendError::Device(crate::devices::DeviceError::BankCard(e)))?;
        }
        let devices = crate::devices::Devices::open(&config.devices, &journal)?;
        // A simulated terminal settles with the simulated acquirer whose files the hub reads;
        // never with a real acquirer's portal.
        if let Some(acquirer) = payments_config.card_acquirer.as_ref().filter(|a| a.is_simulator()) {
            devices.sims.report_card_transactions_to(&acquirer.base_url);
        }
        let signing_key = match &config.receipts {
            Some(receipts) => Some(
                printer::proof::load_signing_key(&receipts.signing_key)
                    .map_err(|e| BackendError::ReceiptKey(e.to_string()))?,
            ),
            None => None,
        };
        let runtime = Runtime::new(journal, channels, billers, config.policy(), identity)
            .with_devices(devices, signing_key);
        if moves_money {
            runtime.start_order_clock().await.map_err(|e| BackendError::Config(e.to_string()))?;
        }
        // Read-only too: `yizhan doctor`'s heartbeat must not clear the operators' alert.
        runtime.reopen_help_call().await;
        // The operator's out-of-service order outlives the process that received it.
        if let Some(reason) = crate::hub_link::commands::held_out_of_service(data_dir) {
            runtime.set_service_hold(Some(reason));
        }
        Ok(Backend { runtime, sims, _lock: lock, place })
    }

    /// A restart after a power cut, inside this process (`yizhan soak`): the runtime's memory
    /// — its payments in flight, the journal's cached tip, the once-per-process chain check —
    /// is dropped, and the journal is opened again with every start-up check (identity, anchor,
    /// chain since the last checkpoint; never started anew). The simulators, the HTTP clients
    /// and the devices' open ports carry over: a process restart re-opens those too.
    pub async fn restart(self) -> Result<Backend, BackendError> {
        let Backend { runtime, sims, _lock, place } = self;
        let place =
            place.ok_or_else(|| BackendError::Config("only a kiosk that moves money restarts".into()))?;
        let (old_journal, parts) = runtime.into_parts();
        // Nothing of the old process holds the journal when it opens again.
        old_journal.close().await;
        let new = journal::NewJournal {
            kiosk_id: place.kiosk_id.clone(),
            staff_id: "system".into(),
            reason: "restart".into(),
            at: crate::clock::now().0,
        };
        let started =
            open_trusted(&place.path, &place.anchor, journal::OpenPolicy::ExistingOnly, &new).await?;
        let runtime = Runtime::from_parts(started.journal, parts)
            .await
            .map_err(|e| BackendError::Config(e.to_string()))?;
        Ok(Backend { runtime, sims, _lock, place: Some(place) })
    }
}

/// Opens the journal as `access` allows (see [`JournalAccess`]).
async fn open_journal(
    config: &KioskConfig,
    data_dir: &Path,
    path: &Path,
    access: JournalAccess,
) -> Result<(Journal, Option<crate::journal_lock::JournalLock>), BackendError> {
    if path.is_dir() {
        return Err(BackendError::JournalIsFolder { path: path.to_path_buf() });
    }
    match access {
        JournalAccess::Scratch => {
            let journal = Journal::open(Path::new(":memory:"))
                .await
                .map_err(|source| BackendError::Journal { path: path.to_path_buf(), source })?;
            Ok((journal, None))
        }
        JournalAccess::ReadOnly => {
            // An emptied file is not opened either: SQLite would quietly make it a new journal.
            if !std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
                return Err(BackendError::NoJournal { path: path.to_path_buf() });
            }
            let journal = Journal::open(path)
                .await
                .map_err(|source| BackendError::Journal { path: path.to_path_buf(), source })?;
            Ok((journal, None))
        }
        JournalAccess::Money(lock) => {
            // A demo or test kiosk (embedded back end, a new data folder each time) starts its
            // journal on first use; a real one only by staff command (`journal init`).
            let policy = match config.backend.mode() {
                BackendMode::Embedded => journal::OpenPolicy::StartIfNew,
                BackendMode::Remote => journal::OpenPolicy::ExistingOnly,
            };
            let new = journal::NewJournal {
                kiosk_id: config.kiosk.id.clone(),
                staff_id: "system".into(),
                reason: "first start of a demo kiosk (embedded back end)".into(),
                at: crate::clock::now().0,
            };
            let started = open_trusted(path, &anchor_path(config, data_dir), policy, &new).await?;
            tracing::info!(
                journal_id = %started.journal_id,
                checked = started.checked,
                created = started.created,
                "journal verified"
            );
            Ok((started.journal, Some(lock)))
        }
    }
}

/// Opens the journal with every start-up check (identity, anchor, chain since the last
/// checkpoint, payment rows).
async fn open_trusted(
    path: &Path,
    anchor: &Path,
    policy: journal::OpenPolicy,
    new: &journal::NewJournal,
) -> Result<journal::Started, BackendError> {
    let rows = crate::runtime::journaling::row_check();
    match Journal::open_trusted(path, anchor, policy, new, &rows).await {
        Ok(started) => Ok(started),
        Err(journal::Distrust::Journal(source)) => {
            Err(BackendError::Journal { path: path.to_path_buf(), source })
        }
        Err(distrust) => Err(distrust.into()),
    }
}

/// The error and its causes in one line: the OS's own words reach the person reading it.
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl Backend {
    /// A kiosk with the embedded back end, the demo keys in `keys_dir` and its journal in
    /// `data_dir`: what tests, benchmarks and demos start from.
    pub async fn start_embedded(
        keys_dir: &Path,
        data_dir: &Path,
        divisor: u32,
        devices: bool,
    ) -> Result<Backend, BackendError> {
        let keys = keys_dir.display().to_string();
        let mut toml = format!(
            "[kiosk]\nid = \"SH-TEST-0001\"\nnumber = \"0001\"\nservice_phone = \"021-12345678\"\n\
             [backend]\nmode = \"embedded\"\nsim_keys = {keys:?}\n[timing]\ndivisor = {divisor}\n"
        );
        if devices {
            // A simulated printer, and receipts signed with the demo key.
            toml.push_str(&format!(
                "[devices]\nsimulated = true\n[devices.printer]\npaper = \"80mm\"\n\
                 [devices.scanner]\nvendor = \"honeywell\"\n\
                 [devices.idcard]\n[devices.iccard]\n\
                 [devices.bankcard.terminal]\ntransaction_timeout_ms = 1500\nquery_timeout_ms = 500\n\
                 [devices.bankcard.slot]\ninsert_timeout_ms = 3000\ntake_timeout_ms = 600\n\
                 [devices.cash]\npoll_ms = 50\n\
                 [receipts]\nsigning_key = {:?}\nverifying_key = {:?}\n",
                format!("{keys}/receipt-ed25519-demo-private.pem"),
                format!("{keys}/receipt-ed25519-demo-public.pem"),
            ));
        }
        let config = KioskConfig::parse(Path::new("embedded.toml"), &toml)
            .map_err(|e| BackendError::Config(e.to_string()))?;
        let lock = crate::journal_lock::JournalLock::acquire(&journal_path(&config, data_dir))
            .map_err(|e| BackendError::Config(e.to_string()))?;
        Backend::start(&config, data_dir, data_dir, JournalAccess::Money(lock)).await
    }
}

pub fn anchor_path(config: &KioskConfig, data_dir: &Path) -> PathBuf {
    if config.kiosk.anchor.is_absolute() {
        config.kiosk.anchor.clone()
    } else {
        data_dir.join(&config.kiosk.anchor)
    }
}

pub fn journal_path(config: &KioskConfig, data_dir: &Path) -> PathBuf {
    if config.kiosk.journal.is_absolute() {
        config.kiosk.journal.clone()
    } else {
        data_dir.join(&config.kiosk.journal)
    }
}
