//! The kiosk's devices as configured: real drivers on real ports, or — with `[devices] simulated
//! = true` — the same drivers talking to simulators on pseudo-terminals in this process.

use crate::config::DevicesSection;
use device::serial::SerialConnector;
use printer::sim::PrinterSim;
use printer::{PrinterConfig, ReceiptPrinter};
use scanner::{Scanner, SimScanner};

/// Simulators kept alive for as long as the kiosk runs.
#[derive(Default)]
pub struct DeviceSims {
    pub printer: Option<PrinterSim>,
    pub scanner: Option<SimScanner>,
}

/// The configured devices, opened.
#[derive(Default)]
pub struct Devices {
    pub printer: Option<PrinterDevice>,
    pub scanner: Option<ScannerDevice>,
    pub sims: DeviceSims,
}

pub struct ScannerDevice {
    pub driver: tokio::sync::Mutex<Scanner<SerialConnector>>,
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
    #[error("cannot start the {0} simulator: {1}")]
    Simulator(&'static str, std::io::Error),
}

impl Devices {
    pub fn open(section: &DevicesSection) -> Result<Devices, DeviceError> {
        let mut devices = Devices::default();
        if let Some(entry) = &section.printer {
            let config = if section.simulated {
                let sim = PrinterSim::start().map_err(|e| DeviceError::Simulator("printer", e))?;
                let mut config = PrinterConfig::serial(sim.path());
                config.paper = entry.paper;
                config.required = entry.required;
                config.chunk_bytes = entry.chunk_bytes;
                devices.sims.printer = Some(sim);
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
        Ok(devices)
    }

    fn open_scanner(section: &DevicesSection, sims: &mut DeviceSims) -> Result<Option<ScannerDevice>, DeviceError> {
        if section.scanner.is_none() {
            return Ok(None);
        }
        let sim_path = if section.simulated {
            let vendor = section
                .scanner_config(Some(std::path::Path::new("/dev/simulated")))
                .and_then(Result::ok)
                .map_or(scanner::Vendor::Honeywell, |c| c.vendor);
            let sim = SimScanner::start(vendor).map_err(|e| DeviceError::Simulator("scanner", e))?;
            let path = sim.path().to_path_buf();
            sims.scanner = Some(sim);
            Some(path)
        } else {
            None
        };
        let Some(config) = section.scanner_config(sim_path.as_deref()) else {
            return Ok(None);
        };
        let config = config.map_err(DeviceError::Scanner)?;
        let description = format!("{:?} on {}", config.vendor, config.serial.path.display()).to_lowercase();
        let driver = Scanner::open(config).map_err(|e| DeviceError::Scanner(e.to_string()))?;
        Ok(Some(ScannerDevice { driver: tokio::sync::Mutex::new(driver), description }))
    }
}
