//! `kiosk.toml`: who this kiosk is, where its back end is, how it logs, and the channel and biller
//! sections that `crates/payments` and `crates/billers` define. Every problem is reported with the
//! file, the key and what was expected; nothing falls back silently to a default (unknown keys
//! are refused).

mod production;

pub use production::production_refusals;

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
    #[serde(default)]
    pub ui: UiSection,
    /// Staff who may sign in for 帮办 (assisted mode).
    #[serde(default)]
    pub staff: Vec<StaffMember>,
}

/// The screens: layout, the mirror window, speech.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiSection {
    /// "landscape" (1920x1080) or "portrait" (1080x1920); staff can switch at run time.
    #[serde(default)]
    pub layout: Layout,
    /// Open the second, portrait screen that mirrors the session.
    #[serde(default = "yes")]
    pub mirror: bool,
    /// "espeak-ng" (offline Mandarin and English) or "off".
    #[serde(default = "default_speech")]
    pub speech: String,
    /// Words per minute for espeak-ng; slower than its 175 for older listeners.
    #[serde(default = "default_speech_rate")]
    pub speech_rate: u32,
    /// The ALSA playback control that the volume steps move ("Master"); none: espeak-ng's own
    /// amplitude, which reaches only the first step above the lowest (+6 dB).
    #[serde(default)]
    pub speech_mixer: Option<String>,
    /// That control's level at the lowest step, in dB (set so it gives ≥ 65 dB SPL).
    #[serde(default = "default_speech_mixer_base_db")]
    pub speech_mixer_base_db: i32,
    /// Watch the sound card's "Headphone Jack" for a headset: private mode (accessibility.md
    /// item 39). Off where the card does not report its jack.
    #[serde(default)]
    pub headset_jack: bool,
    /// The loudspeaker's ALSA switch ("Speaker"), muted while a headset is in; none where the
    /// codec mutes its speaker itself when the jack is used.
    #[serde(default)]
    pub speaker_switch: Option<String>,
}

impl Default for UiSection {
    fn default() -> Self {
        UiSection {
            layout: Layout::Landscape,
            mirror: true,
            speech: default_speech(),
            speech_rate: default_speech_rate(),
            speech_mixer: None,
            speech_mixer_base_db: default_speech_mixer_base_db(),
            headset_jack: false,
            speaker_switch: None,
        }
    }
}

fn yes() -> bool {
    true
}

fn default_speech() -> String {
    "espeak-ng".into()
}

fn default_speech_rate() -> u32 {
    140
}

fn default_speech_mixer_base_db() -> i32 {
    -18
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    #[default]
    Landscape,
    Portrait,
}

/// One staff member: a number (journaled with every action) and their PIN's salted argon2id hash
/// as a PHC string (`yizhan staff hash-pin` makes one). The PIN itself is never stored or logged.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    pub id: String,
    #[serde(default)]
    pub pin_hash: String,
    /// The old unsalted form, refused with a message saying what to use instead.
    #[serde(default)]
    pub pin_sha256: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskSection {
    /// Printed on receipts, sent as `device_info` / terminal id: printable ASCII, no spaces.
    pub id: String,
    /// The kiosk's number as registered with the operator: 4 to 8 digits, unique among the kiosks
    /// of one merchant account. Every order number carries it, so two kiosks can never mint the
    /// same `out_trade_no` (a suffix of the free-text id could collide).
    pub number: String,
    /// The service number printed on slips and shown when out of service.
    pub service_phone: String,
    /// The journal file, relative to the data directory unless absolute.
    #[serde(default = "default_journal")]
    pub journal: PathBuf,
    /// The journal's anchor (its identity and chain tip, see `journal::anchor`), relative to the
    /// data directory unless absolute. In production put it on another disk than the journal,
    /// so that one cannot be lost with the other.
    #[serde(default = "default_anchor")]
    pub anchor: PathBuf,
    /// The most one payment may take, in fen, whatever a biller says is due: a kiosk-wide
    /// ceiling checked before any order is journaled.
    #[serde(default = "default_max_payment")]
    pub max_payment_fen: i64,
}

fn default_journal() -> PathBuf {
    PathBuf::from("journal.db")
}

fn default_anchor() -> PathBuf {
    PathBuf::from("journal.anchor")
}

/// ¥5,000: more than any household's monthly utility bills.
fn default_max_payment() -> i64 {
    500_000
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
    /// Left out: embedded in a build with the simulators (the demo); a production build
    /// refuses to start without it ([`production_refusals`]).
    #[serde(default)]
    pub mode: Option<BackendMode>,
    /// The simulators' demo keys (embedded mode), relative to the configuration file.
    #[serde(default = "default_sim_keys")]
    pub sim_keys: PathBuf,
}

impl Default for BackendSection {
    fn default() -> Self {
        BackendSection { mode: None, sim_keys: default_sim_keys() }
    }
}

impl BackendSection {
    /// The mode in force: as written, or embedded when left out.
    pub fn mode(&self) -> BackendMode {
        self.mode.unwrap_or_default()
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
    /// The scan engine.
    #[serde(default)]
    pub scanner: Option<scanner::ScannerConfig>,
    /// The resident ID card reader, its motorised slot and forced-eject button.
    #[serde(default)]
    pub idcard: Option<idcard::IdReaderConfig>,
    /// The IC card slot for prepaid gas cards.
    #[serde(default)]
    pub iccard: Option<iccard::IcCardConfig>,
    /// The bank card payment terminal. Its armed reversal and approved purchases are kept in the
    /// journal; `terminal.data_dir` is no longer used.
    #[serde(default)]
    pub bankcard: Option<bankcard::BankCardConfig>,
}

/// A pty path standing in for a simulator's while a configuration is only being checked.
pub const PROBE_PATH: &str = "/dev/simulated";

impl DevicesSection {
    /// The scanner entry; with `sim` on the simulator's pty.
    pub fn scanner_config(&self, sim: Option<&Path>) -> Option<Result<scanner::ScannerConfig, String>> {
        let entry = self.scanner.clone()?;
        let config = match sim {
            Some(path) => entry.with_port(path),
            None => entry,
        };
        Some(config.validate().map(|()| config))
    }

    /// The ID reader entry; with `sims` = (SAM, slot, button) ptys, each port is the simulator's
    /// and the button speaks the simulator's `BTN 1`/`BTN 0` lines.
    pub fn idcard_config(&self, sims: Option<[&Path; 3]>) -> Option<Result<idcard::IdReaderConfig, String>> {
        let entry = self.idcard.clone()?;
        let config = match sims {
            Some([sam, slot, button]) => entry.with_ports(sam, slot, button),
            None => entry,
        };
        Some(config.validate().map(|()| config).map_err(|e| e.to_string()))
    }

    /// The IC card slot entry; with `sim` a CRT-310 reader on the simulator's pty.
    pub fn iccard_config(&self, sim: Option<&Path>) -> Option<Result<iccard::IcCardConfig, String>> {
        let entry = self.iccard.clone()?;
        let config = match sim {
            Some(path) => entry.with_port(path),
            None => entry,
        };
        Some(config.validate().map(|()| config).map_err(|e| e.to_string()))
    }

    /// The bank card entry; with `sim` the terminal (and the slot, if the entry has one) on the
    /// simulators' ptys. The terminal keeps its records in the journal (`crate::card_memory`).
    pub fn bankcard_config(
        &self,
        sim: Option<&Path>,
        slot_sim: Option<&Path>,
    ) -> Option<Result<bankcard::BankCardConfig, String>> {
        let entry = self.bankcard.clone()?;
        let config = match sim {
            Some(path) => entry.with_ports(path, slot_sim),
            None => entry,
        };
        let checked =
            config.terminal.validate().and_then(|()| config.slot.as_ref().map_or(Ok(()), |s| s.validate()));
        Some(checked.map(|()| config).map_err(|e| e.to_string()))
    }

    /// Every entry checks out (with probe paths in simulated mode); the first problem, named.
    fn check(&self) -> Result<(), (&'static str, String)> {
        let probe = self.simulated.then_some(Path::new(PROBE_PATH));
        if let Some(Err(problem)) = self.iccard_config(probe) {
            return Err(("devices.iccard", problem));
        }
        if let Some(Err(problem)) = self.bankcard_config(probe, probe) {
            return Err(("devices.bankcard", problem));
        }
        if let Some(Err(problem)) = self.scanner_config(probe) {
            return Err(("devices.scanner", problem));
        }
        if let Some(Err(problem)) = self.idcard_config(probe.map(|p| [p; 3])) {
            return Err(("devices.idcard", problem));
        }
        Ok(())
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
        #[cfg(not(feature = "sim"))]
        if let Some(problem) = production_refusals(&config).into_iter().next() {
            return Err(problem.in_file(file));
        }
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
        let id = &self.kiosk.id;
        let printable = id.bytes().all(|b| b.is_ascii_graphic());
        if id.is_empty() || id.len() > 32 || !printable || !id.bytes().any(|b| b.is_ascii_alphanumeric()) {
            // It goes into every signed channel request (device_info, terminal_id): a newline or
            // a non-ASCII character there makes every payment fail at the channel.
            return Err(invalid(
                "kiosk.id",
                "1 to 32 printable ASCII characters without spaces, such as \"SH-PD-0001\"",
            ));
        }
        let number = &self.kiosk.number;
        if !(4..=8).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "kiosk.number",
                "the kiosk's registered number: 4 to 8 digits, unique among the operator's kiosks",
            ));
        }
        if !(100..=100_000_000).contains(&self.kiosk.max_payment_fen) {
            return Err(invalid(
                "kiosk.max_payment_fen",
                "a ceiling in fen from 100 (¥1) to 100000000 (¥1,000,000)",
            ));
        }
        for (key, path) in [("kiosk.journal", &self.kiosk.journal), ("kiosk.anchor", &self.kiosk.anchor)] {
            if path.as_os_str().is_empty() || path.file_name().is_none() {
                return Err(invalid(key, "a file name, such as \"journal.db\""));
            }
            if path.starts_with("/proc") || path.starts_with("/sys") || path.starts_with("/dev") {
                return Err(invalid(key, "a file on a disk (not under /proc, /sys or /dev)"));
            }
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
        if !matches!(self.ui.speech.as_str(), "espeak-ng" | "off") {
            return Err(invalid("ui.speech", "\"espeak-ng\" or \"off\""));
        }
        if !(80..=300).contains(&self.ui.speech_rate) {
            return Err(invalid("ui.speech_rate", "words per minute from 80 to 300"));
        }
        if self.ui.speaker_switch.is_some() && self.ui.speech_mixer.is_none() {
            return Err(invalid("ui.speaker_switch", "a switch of the card that ui.speech_mixer names"));
        }
        let mut ids = std::collections::HashSet::new();
        for member in &self.staff {
            if member.id.trim().is_empty() || !ids.insert(member.id.as_str()) {
                return Err(invalid("staff.id", "a staff number, different for every member"));
            }
            if member.pin_sha256.is_some() {
                // An unsalted SHA-256 of a six-digit PIN is reversed in a moment by anyone who
                // reads the file.
                return Err(invalid(
                    "staff.pin_sha256",
                    "pin_hash instead, the PIN's salted argon2id hash made with `yizhan staff hash-pin` (an unsalted SHA-256 is no longer accepted)",
                ));
            }
            if !crate::staff_pin::is_pin_hash(&member.pin_hash) {
                return Err(invalid(
                    "staff.pin_hash",
                    "an argon2id hash of the PIN ($argon2id$v=19$…), made with `yizhan staff hash-pin`",
                ));
            }
        }
        if let Err((key, problem)) = self.devices.check() {
            return Err(invalid(key, &problem));
        }
        if let Some(printer) = &self.devices.printer {
            if !self.devices.simulated {
                printer.validate().map_err(|e| invalid("devices.printer", &e.to_string()))?;
            }
        }
        if self.backend.mode() == BackendMode::Remote {
            let payments = self
                .payments
                .as_ref()
                .ok_or_else(|| invalid("payments", "a [payments] section in remote mode"))?;
            let billers = self
                .billers
                .as_ref()
                .ok_or_else(|| invalid("billers", "a [billers] section in remote mode"))?;
            payments.validate().map_err(|e| invalid("payments", &e.to_string()))?;
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
