//! The kiosk's devices as configured: real drivers on real ports, or — with `[devices] simulated
//! = true` — the same drivers talking to simulators on pseudo-terminals in this process.

use crate::config::DevicesSection;
use printer::sim::PrinterSim;
use printer::{PrinterConfig, ReceiptPrinter};

/// Simulators kept alive for as long as the kiosk runs.
#[derive(Default)]
pub struct DeviceSims {
    pub printer: Option<PrinterSim>,
}

/// The configured devices, opened.
#[derive(Default)]
pub struct Devices {
    pub printer: Option<PrinterDevice>,
    pub sims: DeviceSims,
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
        Ok(devices)
    }
}
