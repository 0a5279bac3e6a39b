//! The kiosk's devices as configured: real drivers on real ports, or — with `[devices] simulated
//! = true` — the same drivers talking to simulators on pseudo-terminals in this process.

mod sims;

#[cfg(feature = "sim")]
pub use sims::report_card_transactions;
pub use sims::DeviceSims;

use crate::card_memory::JournalMemory;
use crate::config::DevicesSection;
use bankcard::PaymentTerminal;
use device::serial::SerialConnector;
use iccard::IcCardReader;
use idcard::IdCardReader;
use printer::{PrinterConfig, ReceiptPrinter};
use scanner::Scanner;

/// The configured devices, opened.
#[derive(Default)]
pub struct Devices {
    pub printer: Option<PrinterDevice>,
    pub scanner: Option<ScannerDevice>,
    pub idcard: Option<IdCardDevice>,
    pub iccard: Option<IcCardDevice>,
    pub bankcard: Option<BankCardDevice>,
    pub cash: Option<CashDevice>,
    pub sims: DeviceSims,
}

/// The banknote acceptor.
pub struct CashDevice {
    pub driver: tokio::sync::Mutex<cash::BillAcceptor>,
    /// Status request interval while a customer pays with cash.
    pub poll: std::time::Duration,
    /// The notes it is set to take, in fen, smallest first (shown to the customer).
    pub accepted: Vec<kiosk_core::Fen>,
    pub required: bool,
}

pub struct IcCardDevice {
    pub driver: tokio::sync::Mutex<IcCardReader>,
    pub required: bool,
}

pub struct BankCardDevice {
    /// The terminal, remembering its armed reversal and approved purchases in the journal.
    pub terminal: tokio::sync::Mutex<PaymentTerminal<JournalMemory, SerialConnector>>,
    /// The motorised slot that takes the card in and gives it back, when the kiosk has one.
    pub slot: Option<tokio::sync::Mutex<bankcard::CardSlot<SerialConnector>>>,
    pub required: bool,
    /// What it was opened from, to open it again (an in-process restart).
    config: bankcard::BankCardConfig,
}

impl BankCardDevice {
    fn open(
        config: bankcard::BankCardConfig,
        journal: &journal::Journal,
    ) -> Result<BankCardDevice, DeviceError> {
        let memory = JournalMemory::new(journal.card_terminal());
        let terminal = PaymentTerminal::from_config(&config.terminal, memory)
            .map_err(|e| DeviceError::BankCard(e.to_string()))?;
        let slot = match &config.slot {
            Some(slot) => Some(tokio::sync::Mutex::new(
                bankcard::CardSlot::from_config(slot).map_err(|e| DeviceError::BankCard(e.to_string()))?,
            )),
            None => None,
        };
        Ok(BankCardDevice {
            terminal: tokio::sync::Mutex::new(terminal),
            slot,
            required: config.required,
            config,
        })
    }
}

/// An in-process restart (`crate::backend::Backend::restart`) of the bank card drivers: they are
/// closed with the old journal and opened afresh on the new one — their ports, their memory of
/// the last exchange gone, remembering only what the journal holds. The other drivers keep no
/// money state and carry on.
impl Devices {
    /// Closes the bank card terminal and slot (their ports, their hold on the journal); returns
    /// what to open them from again.
    pub(crate) fn close_bank_card(&mut self) -> Option<bankcard::BankCardConfig> {
        self.bankcard.take().map(|device| device.config)
    }

    /// Opens the bank card terminal and slot again, remembering in `journal`.
    pub(crate) fn reopen_bank_card(
        &mut self,
        config: Option<bankcard::BankCardConfig>,
        journal: &journal::Journal,
    ) -> Result<(), DeviceError> {
        self.bankcard = config.map(|config| BankCardDevice::open(config, journal)).transpose()?;
        Ok(())
    }
}

pub struct IdCardDevice {
    /// The reader; its slot and forced-eject button run in their own tasks, so a held button
    /// ejects the card even while this is locked by a read or the UI is busy.
    pub driver: tokio::sync::Mutex<IdCardReader>,
    pub required: bool,
}

pub struct ScannerDevice {
    /// Shared so that a scan dropped half-way can still untrigger from a task of its own.
    pub driver: std::sync::Arc<tokio::sync::Mutex<Scanner<SerialConnector>>>,
    pub description: String,
}

pub struct PrinterDevice {
    pub driver: tokio::sync::Mutex<ReceiptPrinter>,
    /// The kiosk may not promise receipts without it.
    pub required: bool,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("devices.printer: {0}")]
    Printer(String),
    #[error("devices.scanner: {0}")]
    Scanner(String),
    #[error("devices.idcard: {0}")]
    IdCard(String),
    #[error("devices.iccard: {0}")]
    IcCard(String),
    #[error("devices.bankcard: {0}")]
    BankCard(String),
    #[error("devices.cash: {0}")]
    Cash(String),
    #[error("cannot start the {0} simulator: {1}")]
    Simulator(&'static str, std::io::Error),
    #[error("devices.simulated: this build has no simulators (it was built without the `sim` feature)")]
    NoSimulators,
}

impl Devices {
    /// Opens every configured device. The bank card terminal keeps its armed reversal and
    /// approved purchases in `journal` (`crate::card_memory`).
    pub fn open(section: &DevicesSection, journal: &journal::Journal) -> Result<Devices, DeviceError> {
        let mut devices = Devices::default();
        if let Some(entry) = &section.printer {
            let config = if section.simulated {
                let mut config = PrinterConfig::serial(devices.sims.start_printer()?);
                config.paper = entry.paper;
                config.required = entry.required;
                config.chunk_bytes = entry.chunk_bytes;
                config
            } else {
                entry.clone()
            };
            let description = match (&config.serial, &config.usb) {
                (Some(serial), _) => format!("serial {}", serial.path.display()),
                (None, Some(usb)) => format!("usb {:04x}:{:04x}", usb.vendor_id, usb.product_id),
                _ => "not attached".to_string(),
            };
            let driver =
                ReceiptPrinter::from_config(&config).map_err(|e| DeviceError::Printer(e.to_string()))?;
            devices.printer = Some(PrinterDevice {
                driver: tokio::sync::Mutex::new(driver),
                required: config.required,
                description,
            });
        }
        devices.scanner = Self::open_scanner(section, &mut devices.sims)?;
        devices.idcard = Self::open_idcard(section, &mut devices.sims)?;
        devices.iccard = Self::open_iccard(section, &mut devices.sims)?;
        devices.bankcard = Self::open_bankcard(section, &mut devices.sims, journal)?;
        devices.cash = Self::open_cash(section, &mut devices.sims)?;
        Ok(devices)
    }

    // Each opener starts a simulator only when its entry is present and devices are simulated,
    // then reads the entry once, on the simulator's pty or on the configured port.

    fn open_scanner(
        section: &DevicesSection,
        sims: &mut DeviceSims,
    ) -> Result<Option<ScannerDevice>, DeviceError> {
        let sim_path = match (&section.scanner, section.simulated) {
            (Some(entry), true) => Some(sims.start_scanner(entry.vendor)?),
            _ => None,
        };
        let Some(config) = section.scanner_config(sim_path.as_deref()) else {
            return Ok(None);
        };
        let config = config.map_err(DeviceError::Scanner)?;
        let description = format!("{:?} on {}", config.vendor, config.serial.path.display()).to_lowercase();
        let driver = Scanner::open(config).map_err(|e| DeviceError::Scanner(e.to_string()))?;
        Ok(Some(ScannerDevice { driver: std::sync::Arc::new(tokio::sync::Mutex::new(driver)), description }))
    }

    fn open_idcard(
        section: &DevicesSection,
        sims: &mut DeviceSims,
    ) -> Result<Option<IdCardDevice>, DeviceError> {
        let sim_paths = match (&section.idcard, section.simulated) {
            (Some(_), true) => Some(sims.start_idcard()?),
            _ => None,
        };
        let ports = sim_paths.as_ref().map(|paths| [&*paths[0], &*paths[1], &*paths[2]]);
        let Some(config) = section.idcard_config(ports) else {
            return Ok(None);
        };
        let config = config.map_err(DeviceError::IdCard)?;
        let driver = IdCardReader::from_config(&config).map_err(|e| DeviceError::IdCard(e.to_string()))?;
        Ok(Some(IdCardDevice { driver: tokio::sync::Mutex::new(driver), required: config.required }))
    }

    fn open_iccard(
        section: &DevicesSection,
        sims: &mut DeviceSims,
    ) -> Result<Option<IcCardDevice>, DeviceError> {
        let sim_path = match (&section.iccard, section.simulated) {
            (Some(_), true) => Some(sims.start_iccard()?),
            _ => None,
        };
        let Some(config) = section.iccard_config(sim_path.as_deref()) else {
            return Ok(None);
        };
        let config = config.map_err(DeviceError::IcCard)?;
        let driver = IcCardReader::from_config(&config).map_err(|e| DeviceError::IcCard(e.to_string()))?;
        Ok(Some(IcCardDevice { driver: tokio::sync::Mutex::new(driver), required: config.required }))
    }

    fn open_cash(section: &DevicesSection, sims: &mut DeviceSims) -> Result<Option<CashDevice>, DeviceError> {
        let sim_path = match (&section.cash, section.simulated) {
            (Some(_), true) => Some(sims.start_cash()?),
            _ => None,
        };
        let Some(config) = section.cash_config(sim_path.as_deref()) else {
            return Ok(None);
        };
        let config = config.map_err(DeviceError::Cash)?;
        let driver =
            cash::BillAcceptor::from_config(&config).map_err(|e| DeviceError::Cash(e.to_string()))?;
        let mut accepted: Vec<kiosk_core::Fen> =
            config.accepted_yuan.iter().map(|&y| kiosk_core::Fen(i64::from(y) * 100)).collect();
        accepted.sort();
        Ok(Some(CashDevice {
            driver: tokio::sync::Mutex::new(driver),
            poll: config.poll_interval(),
            accepted,
            required: config.required,
        }))
    }

    fn open_bankcard(
        section: &DevicesSection,
        sims: &mut DeviceSims,
        journal: &journal::Journal,
    ) -> Result<Option<BankCardDevice>, DeviceError> {
        let (sim_path, slot_sim_path) = match (&section.bankcard, section.simulated) {
            (Some(entry), true) => {
                let (path, slot_path) = sims.start_bankcard(entry.slot.is_some())?;
                (Some(path), slot_path)
            }
            _ => (None, None),
        };
        let Some(config) = section.bankcard_config(sim_path.as_deref(), slot_sim_path.as_deref()) else {
            return Ok(None);
        };
        let config = config.map_err(DeviceError::BankCard)?;
        Ok(Some(BankCardDevice::open(config, journal)?))
    }
}
