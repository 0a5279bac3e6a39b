//! `kiosk.toml`: who this kiosk is, where its back end is, how it logs, and the channel and biller
//! sections that `crates/payments` and `crates/billers` define. Every problem is reported with the
//! file, the key and what was expected; nothing falls back silently to a default (unknown keys
//! are refused).

use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskConfig {
    pub kiosk: KioskSection,
    #[serde(default)]
    pub backend: BackendSection,
    #[serde(default)]
    pub timing: TimingSection,
    #[serde(default)]
    pub logging: LoggingSection,
    #[serde(default)]
    pub devices: DevicesSection,
    #[serde(default)]
    pub receipts: Option<ReceiptsSection>,
    /// The channel clients; required in remote mode, ignored in embedded mode (the clients are
    /// pointed at the embedded simulators with their keys).
    #[serde(default)]
    pub payments: Option<payments::PaymentsConfig>,
    #[serde(default)]
    pub billers: Option<billers::BillersConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskSection {
    /// Printed on receipts, sent as `device_info` / terminal id.
    pub id: String,
    /// The service number printed on slips and shown when out of service.
    pub service_phone: String,
    /// The journal file, relative to the data directory unless absolute.
    #[serde(default = "default_journal")]
    pub journal: PathBuf,
}

fn default_journal() -> PathBuf {
    PathBuf::from("journal.db")
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendMode {
    /// Start every channel and biller simulator in this process on loopback and point the clients
    /// at them: the demo and test default, no network needed.
    #[default]
    Embedded,
    /// Use the `base_url` of every `[payments.*]` and `[billers.*]` entry as written.
    Remote,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSection {
    #[serde(default)]
    pub mode: BackendMode,
    /// The simulators' demo keys (embedded mode), relative to the configuration file.
    #[serde(default = "default_sim_keys")]
    pub sim_keys: PathBuf,
}

impl Default for BackendSection {
    fn default() -> Self {
        BackendSection { mode: BackendMode::default(), sim_keys: default_sim_keys() }
    }
}

fn default_sim_keys() -> PathBuf {
    PathBuf::from("sim-keys")
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingSection {
    /// Divides every channel timer and retry interval: 1 in production (the official 5 s / 10 s /
    /// 45 s WeChat timers); tests and demos use 10–100 so that minutes pass in seconds.
    #[serde(default = "one")]
    pub divisor: u32,
}

impl Default for TimingSection {
    fn default() -> Self {
        TimingSection { divisor: 1 }
    }
}

fn one() -> u32 {
    1
}

/// `[devices]`: the kiosk's peripherals. With `simulated = true` every configured device is its
/// simulator on a pseudo-terminal in this process, and the real driver talks to it byte for byte
/// (the serial path of each entry is replaced by the simulator's).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicesSection {
    #[serde(default)]
    pub simulated: bool,
    #[serde(default)]
    pub printer: Option<printer::PrinterConfig>,
    /// The scan engine (`scanner::ScannerConfig`); in simulated mode its `[serial]` table may be
    /// left out, the simulator's pty is used.
    #[serde(default)]
    pub scanner: Option<toml::Table>,
}

impl DevicesSection {
    /// The scanner entry, with `serial.path` replaced by `sim_path` when given.
    pub fn scanner_config(&self, sim_path: Option<&Path>) -> Option<Result<scanner::ScannerConfig, String>> {
        let mut table = self.scanner.clone()?;
        if let Some(path) = sim_path {
            let serial = table.entry("serial").or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let Some(serial) = serial.as_table_mut() {
                serial.insert("path".into(), toml::Value::String(path.display().to_string()));
            }
        }
        Some(
            toml::Value::Table(table)
                .try_into::<scanner::ScannerConfig>()
                .map_err(|e| e.to_string().trim().to_string())
                .and_then(|config| config.validate().map(|()| config)),
        )
    }
}

/// `[receipts]`: the key that signs the QR proof on every receipt, and its public half, which
/// anyone may hold to check a receipt (`yizhan receipt verify`). Relative to the config file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptsSection {
    pub signing_key: PathBuf,
    pub verifying_key: PathBuf,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    #[serde(default)]
    pub format: LogFormat,
    /// A `tracing` filter such as "info" or "yizhan=debug,info".
    #[serde(default = "default_level")]
    pub level: String,
}

impl Default for LoggingSection {
    fn default() -> Self {
        LoggingSection { format: LogFormat::Human, level: default_level() }
    }
}

fn default_level() -> String {
    "info".into()
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the configuration: {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    #[error("{file}: {key}: expected {expected}")]
    Invalid { file: PathBuf, key: String, expected: String },
}

impl KioskConfig {
    pub fn load(file: &Path) -> Result<KioskConfig, ConfigError> {
        let text = std::fs::read_to_string(file)
            .map_err(|source| ConfigError::Read { file: file.to_path_buf(), source })?;
        let mut config = KioskConfig::parse(file, &text)?;
        config.resolve_paths(file.parent().unwrap_or(Path::new(".")));
        config.check_files(file)?;
        Ok(config)
    }

    /// Parses and validates; `file` is only used to name the source in errors.
    pub fn parse(file: &Path, text: &str) -> Result<KioskConfig, ConfigError> {
        let config: KioskConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: file.to_path_buf(),
            message: e.to_string().trim().to_string(),
        })?;
        config.validate(file)?;
        Ok(config)
    }

    fn validate(&self, file: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &str, expected: &str| ConfigError::Invalid {
            file: file.to_path_buf(),
            key: key.to_string(),
            expected: expected.to_string(),
        };
        if self.kiosk.id.trim().is_empty() || !self.kiosk.id.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid("kiosk.id", "a kiosk id with letters or digits, such as \"SH-PD-0001\""));
        }
        if !self.kiosk.service_phone.chars().any(|c| c.is_ascii_digit()) {
            return Err(invalid("kiosk.service_phone", "a phone number customers can call"));
        }
        if !(1..=1000).contains(&self.timing.divisor) {
            return Err(invalid("timing.divisor", "a whole number from 1 (production) to 1000"));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.logging.level).is_err() {
            return Err(invalid(
                "logging.level",
                "a tracing filter such as \"info\" or \"yizhan=debug,info\"",
            ));
        }
        let probe = self.devices.simulated.then(|| Path::new("/dev/simulated"));
        if let Some(Err(problem)) = self.devices.scanner_config(probe) {
            return Err(invalid("devices.scanner", &problem));
        }
        if let Some(printer) = &self.devices.printer {
            if !self.devices.simulated {
                printer.validate().map_err(|e| invalid("devices.printer", &e.to_string()))?;
            }
        }
        if self.backend.mode == BackendMode::Remote {
            let payments = self
                .payments
                .as_ref()
                .ok_or_else(|| invalid("payments", "a [payments] section in remote mode"))?;
            let billers = self
                .billers
                .as_ref()
                .ok_or_else(|| invalid("billers", "a [billers] section in remote mode"))?;
            let channel_problem = |e: payments::ConfigError| invalid("payments", &e.to_string());
            if let Some(wechat) = &payments.wechat {
                wechat.validate().map_err(channel_problem)?;
            }
            if let Some(alipay) = &payments.alipay {
                alipay.validate().map_err(channel_problem)?;
            }
            if let Some(unionpay) = &payments.unionpay {
                unionpay.validate().map_err(channel_problem)?;
            }
            billers.validate().map_err(|e| invalid(&e.key, &e.to_string()))?;
        }
        Ok(())
    }

    /// Key files must exist: a typo is reported at start-up with its key, not at the first receipt.
    fn check_files(&self, file: &Path) -> Result<(), ConfigError> {
        let Some(receipts) = &self.receipts else {
            return Ok(());
        };
        for (key, path) in [
            ("receipts.signing_key", &receipts.signing_key),
            ("receipts.verifying_key", &receipts.verifying_key),
        ] {
            if !path.is_file() {
                return Err(ConfigError::Invalid {
                    file: file.to_path_buf(),
                    key: key.into(),
                    expected: format!("an Ed25519 key file (PEM or raw); {} does not exist", path.display()),
                });
            }
        }
        Ok(())
    }

    /// Key files are named relative to the configuration file.
    fn resolve_paths(&mut self, base: &Path) {
        if let Some(receipts) = self.receipts.as_mut() {
            for path in [&mut receipts.signing_key, &mut receipts.verifying_key] {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        }
        if let Some(alipay) = self.payments.as_mut().and_then(|p| p.alipay.as_mut()) {
            for path in [&mut alipay.app_private_key_path, &mut alipay.alipay_public_key_path] {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        }
    }

    pub fn policy(&self) -> kiosk_core::Policy {
        kiosk_core::Policy::default().scaled_down(self.timing.divisor)
    }
}
