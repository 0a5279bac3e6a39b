//! Every value of `kiosk.toml` checked, with the key and what was expected: what serde cannot
//! say (ranges, formats, a section one mode needs).

use super::{BackendMode, ConfigError, KioskConfig};
use std::path::Path;

impl KioskConfig {
    pub(super) fn validate(&self, file: &Path) -> Result<(), ConfigError> {
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
        if let Some(hub) = &self.hub {
            if !hub.url.starts_with("https://") || hub.url.len() <= "https://".len() {
                return Err(invalid("hub.url", "the hub's address, such as \"https://hub.example:8443\""));
            }
            if !(1..=3600).contains(&hub.ship_every_s) {
                return Err(invalid("hub.ship_every_s", "seconds from 1 to 3600"));
            }
            if !(5..=120).contains(&hub.heartbeat_every_s) {
                return Err(invalid(
                    "hub.heartbeat_every_s",
                    "seconds from 5 to 120 (the hub calls a kiosk silent after 180)",
                ));
            }
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
}
