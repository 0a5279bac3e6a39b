//! `kiosk.toml`: who this kiosk is, where its back end is, how it logs, and the channel and biller
//! sections that `crates/payments` and `crates/billers` define. Every problem is reported with the
//! file, the key and what was expected; nothing falls back silently to a default (unknown keys
//! are refused).

mod devices;
mod load;
mod production;
mod validate;

pub use devices::PROBE_PATH;
pub use load::ConfigError;
pub use production::production_refusals;

use serde::Deserialize;
use std::path::PathBuf;

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
    /// The fleet hub this kiosk ships its journal and status to; none: a kiosk on its own.
    #[serde(default)]
    pub hub: Option<HubSection>,
    #[serde(default)]
    pub updates: UpdatesSection,
}

/// `[updates]`: signed software updates from the hub (`crate::update`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatesSection {
    /// The operator's Ed25519 public key every package must be signed with; root's file, which
    /// the kiosk's own user cannot change.
    #[serde(default = "default_update_key")]
    pub public_key: PathBuf,
    /// The hall's opening hours, `"07:00-21:00"` (local time): updates install only outside
    /// them. Left out: whenever the kiosk is idle.
    #[serde(default)]
    pub opening_hours: Option<crate::update::OpeningHours>,
    /// The system the kiosk's package is installed in (`/`; a scratch root in tests).
    #[serde(default = "default_system_root")]
    pub root: PathBuf,
    /// Seconds the kiosk's main loop must have run before it reports healthy to the updater.
    #[serde(default = "default_health_settle")]
    pub health_settle_s: u64,
}

impl Default for UpdatesSection {
    fn default() -> Self {
        UpdatesSection {
            public_key: default_update_key(),
            opening_hours: None,
            root: default_system_root(),
            health_settle_s: default_health_settle(),
        }
    }
}

fn default_health_settle() -> u64 {
    30
}

fn default_update_key() -> PathBuf {
    PathBuf::from(crate::update::OPERATOR_KEY)
}

fn default_system_root() -> PathBuf {
    PathBuf::from("/")
}

/// `[hub]`: where the fleet hub is and how often to talk to it. The kiosk never waits for it:
/// payments go on with the hub down, and shipping catches up when it answers again.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSection {
    /// `https://host:port`, as the pairing ticket gives it.
    pub url: String,
    /// The folder of the kiosk's key, its certificate and the hub's CA, written at pairing
    /// (`yizhan hub pair`); relative to the data directory unless absolute.
    #[serde(default = "default_hub_identity")]
    pub identity: PathBuf,
    /// Seconds between journal shipping rounds.
    #[serde(default = "default_ship_every")]
    pub ship_every_s: u64,
    /// Seconds between heartbeats (the hub calls a kiosk silent after 3 minutes).
    #[serde(default = "default_heartbeat_every")]
    pub heartbeat_every_s: u64,
}

fn default_hub_identity() -> PathBuf {
    PathBuf::from("hub")
}

fn default_ship_every() -> u64 {
    10
}

fn default_heartbeat_every() -> u64 {
    30
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
    /// How the screens are drawn: `winit` (a window under X11, for development) or `linuxkms`
    /// (straight to the display with DRM and libinput: the kiosk appliance, no X11). LinuxKMS
    /// drives one output: the mirror needs a compositor (docs/appliance.md).
    #[serde(default)]
    pub backend: UiBackend,
}

/// `[ui] backend`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UiBackend {
    #[default]
    Winit,
    Linuxkms,
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
            backend: UiBackend::Winit,
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
    /// The banknote acceptor (JCM ID-003). Its notes are kept in the journal's cash box.
    #[serde(default)]
    pub cash: Option<cash::CashConfig>,
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
    /// Into the systemd journal, one structured field per event field (`logging::journald`).
    Journald,
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

impl KioskConfig {
    pub fn policy(&self) -> kiosk_core::Policy {
        kiosk_core::Policy::default().scaled_down(self.timing.divisor)
    }
}
