//! The `[devices.*]` entries as their drivers' typed configurations, and how simulated mode
//! points each at a simulator's pty (`with_port`), checked the way the driver will be opened.

use super::DevicesSection;
use std::path::{Path, PathBuf};

/// A pty path standing in for a simulator's while a configuration is only being checked.
pub const PROBE_PATH: &str = "/dev/simulated";

/// `entry`, if there is one, pointed at the simulators' ptys `sim` (with `on_sim`) when given,
/// and checked by `validate` the way its driver will open it.
fn entry_config<C: Clone, S, E: ToString>(
    entry: &Option<C>,
    sim: Option<S>,
    on_sim: impl FnOnce(C, S) -> C,
    validate: impl FnOnce(&C) -> Result<(), E>,
) -> Option<Result<C, String>> {
    let entry = entry.clone()?;
    let config = match sim {
        Some(sim) => on_sim(entry, sim),
        None => entry,
    };
    Some(validate(&config).map(|()| config).map_err(|e| e.to_string()))
}

impl DevicesSection {
    /// The scanner entry; with `sim` on the simulator's pty.
    pub fn scanner_config(&self, sim: Option<&Path>) -> Option<Result<scanner::ScannerConfig, String>> {
        entry_config(&self.scanner, sim, |entry, path| entry.with_port(path), |config| config.validate())
    }

    /// The ID reader entry; with `sims` = (SAM, slot, button) ptys, each port is the simulator's
    /// and the button speaks the simulator's `BTN 1`/`BTN 0` lines.
    pub fn idcard_config(&self, sims: Option<[&Path; 3]>) -> Option<Result<idcard::IdReaderConfig, String>> {
        entry_config(
            &self.idcard,
            sims,
            |entry, [sam, slot, button]| entry.with_ports(sam, slot, button),
            |config| config.validate(),
        )
    }

    /// The IC card slot entry; with `sim` a CRT-310 reader on the simulator's pty.
    pub fn iccard_config(&self, sim: Option<&Path>) -> Option<Result<iccard::IcCardConfig, String>> {
        entry_config(&self.iccard, sim, |entry, path| entry.with_port(path), |config| config.validate())
    }

    /// The bank card entry; with `sim` the terminal (and the slot, if the entry has one) on the
    /// simulators' ptys. The terminal keeps its records in the journal (`crate::card_memory`).
    pub fn bankcard_config(
        &self,
        sim: Option<&Path>,
        slot_sim: Option<&Path>,
    ) -> Option<Result<bankcard::BankCardConfig, String>> {
        let checked = |config: &bankcard::BankCardConfig| {
            config.terminal.validate().and_then(|()| config.slot.as_ref().map_or(Ok(()), |s| s.validate()))
        };
        entry_config(&self.bankcard, sim, |entry, path| entry.with_ports(path, slot_sim), checked)
    }

    /// The banknote acceptor entry; with `sim` on the simulator's pty.
    pub fn cash_config(&self, sim: Option<&Path>) -> Option<Result<cash::CashConfig, String>> {
        entry_config(&self.cash, sim, |entry, path| entry.with_port(path), |config| config.validate())
    }

    /// Every entry checks out (with probe paths in simulated mode); the first problem, named.
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        let probe = self.simulated.then_some(Path::new(PROBE_PATH));
        if let Some(Err(problem)) = self.iccard_config(probe) {
            return Err(("devices.iccard", problem));
        }
        if let Some(Err(problem)) = self.bankcard_config(probe, probe) {
            return Err(("devices.bankcard", problem));
        }
        if let Some(Err(problem)) = self.cash_config(probe) {
            return Err(("devices.cash", problem));
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

impl DevicesSection {
    /// Every serial port the entries name, with the device's name for a reader: what
    /// `yizhan devices` checks against the stable names (`crate::stable_names`).
    pub fn serial_paths(&self) -> Vec<(&'static str, PathBuf)> {
        let mut paths = Vec::new();
        let mut add = |device, serial: Option<&device::SerialConfig>| {
            if let Some(serial) = serial.filter(|s| !s.path.as_os_str().is_empty()) {
                paths.push((device, serial.path.clone()));
            }
        };
        if let Some(printer) = &self.printer {
            add("printer", printer.serial.as_ref());
        }
        if let Some(scanner) = &self.scanner {
            add("scanner", Some(&scanner.serial));
        }
        if let Some(idcard) = &self.idcard {
            add("idcard", idcard.serial.as_ref());
            add("idcard slot", idcard.slot.as_ref().map(|s| &s.serial));
            add("eject button", idcard.button.as_ref().map(|b| &b.serial));
        }
        if let Some(iccard) = &self.iccard {
            add("iccard", iccard.serial.as_ref());
        }
        if let Some(bankcard) = &self.bankcard {
            add("bankcard", Some(&bankcard.terminal.serial));
            add("bankcard slot", bankcard.slot.as_ref().map(|s| &s.serial));
        }
        if let Some(cash) = &self.cash {
            add("cash", Some(&cash.serial));
        }
        paths
    }
}
