//! The simulators behind `[devices] simulated = true`: each starts on a pseudo-terminal in this
//! process and hands back the path the real driver then opens, byte for byte.
//!
//! They exist only with the `sim` feature. A production build (`--no-default-features`) has the
//! same [`DeviceSims`] with nothing inside, and a configuration that asks for simulated devices
//! is refused there with [`DeviceError::NoSimulators`].

use super::DeviceError;
use std::path::PathBuf;

#[cfg(feature = "sim")]
pub use with_sims::{report_card_transactions, DeviceSims};
#[cfg(not(feature = "sim"))]
pub use without_sims::DeviceSims;

#[cfg(feature = "sim")]
mod with_sims {
    use super::{DeviceError, PathBuf};
    use bankcard::sim::{SlotSim, TerminalSim};
    use cash::sim::AcceptorSim;
    use iccard::sim::Crt310Sim;
    use idcard::sim::IdSim;
    use printer::sim::PrinterSim;
    use scanner::SimScanner;
    use std::sync::Arc;

    /// Simulators kept alive for as long as the kiosk runs.
    #[derive(Default)]
    pub struct DeviceSims {
        pub printer: Option<PrinterSim>,
        pub scanner: Option<SimScanner>,
        /// Shared: the simulated customer inserts cards from its own task.
        pub idcard: Option<Arc<IdSim>>,
        pub iccard: Option<Crt310Sim>,
        pub bankcard: Option<TerminalSim>,
        pub bankcard_slot: Option<Arc<SlotSim>>,
        /// Shared: the simulated customer inserts notes, and staff empty the box.
        pub cash: Option<Arc<AcceptorSim>>,
    }

    fn started<T>(what: &'static str, sim: std::io::Result<T>) -> Result<T, DeviceError> {
        sim.map_err(|e| DeviceError::Simulator(what, e))
    }

    impl DeviceSims {
        /// The receipt printer's simulator; its port.
        pub fn start_printer(&mut self) -> Result<PathBuf, DeviceError> {
            let sim = started("printer", PrinterSim::start())?;
            let path = sim.path().to_path_buf();
            self.printer = Some(sim);
            Ok(path)
        }

        /// A scan engine of `vendor`'s protocol; its port.
        pub fn start_scanner(&mut self, vendor: scanner::Vendor) -> Result<PathBuf, DeviceError> {
            let sim = started("scanner", SimScanner::start(vendor))?;
            let path = sim.path().to_path_buf();
            self.scanner = Some(sim);
            Ok(path)
        }

        /// The ID card reader: its SAM, motorised slot and forced-eject button ports.
        pub fn start_idcard(&mut self) -> Result<[PathBuf; 3], DeviceError> {
            let sim = started("ID card reader", IdSim::start())?;
            let paths = [
                sim.sam_path().to_path_buf(),
                sim.slot_path().to_path_buf(),
                sim.button_path().to_path_buf(),
            ];
            self.idcard = Some(Arc::new(sim));
            Ok(paths)
        }

        /// The gas card's CRT-310 reader; its port.
        pub fn start_iccard(&mut self) -> Result<PathBuf, DeviceError> {
            let sim = started("IC card reader", Crt310Sim::start())?;
            let path = sim.path().to_path_buf();
            self.iccard = Some(sim);
            Ok(path)
        }

        /// The bank card terminal, and its motorised slot when `with_slot`; their ports.
        pub fn start_bankcard(&mut self, with_slot: bool) -> Result<(PathBuf, Option<PathBuf>), DeviceError> {
            let terminal = started("bank card terminal", TerminalSim::start())?;
            let path = terminal.path().to_path_buf();
            self.bankcard = Some(terminal);
            let slot_path = if with_slot {
                let slot = started("bank card slot", SlotSim::start())?;
                let slot_path = slot.path().to_path_buf();
                self.bankcard_slot = Some(Arc::new(slot));
                Some(slot_path)
            } else {
                None
            };
            Ok((path, slot_path))
        }

        /// The banknote acceptor; its port.
        pub fn start_cash(&mut self) -> Result<PathBuf, DeviceError> {
            let sim = started("banknote acceptor", AcceptorSim::start())?;
            let path = sim.path().to_path_buf();
            self.cash = Some(Arc::new(sim));
            Ok(path)
        }

        /// The simulated terminal goes online to the card acquirer's host at `acquirer_url` (the
        /// acquirer simulator of `[payments.card_acquirer]`) with every transaction it approves,
        /// as a real one does: the acquirer's settlement file then lists them. Needs a tokio
        /// runtime.
        pub fn report_card_transactions_to(&self, acquirer_url: &str) {
            if let Some(terminal) = &self.bankcard {
                report_card_transactions(terminal, acquirer_url);
            }
        }
    }

    /// `terminal` reports what it approves to the acquirer's host at `acquirer_url`.
    pub fn report_card_transactions(terminal: &TerminalSim, acquirer_url: &str) {
        let line = payments::sim::host_line(acquirer_url);
        terminal.report_to(Arc::new(move |report| {
            // The line closes only with the process.
            let _ = line.send(host_transaction(report));
        }));
    }

    fn host_transaction(report: bankcard::sim::HostReport) -> payments::sim::HostTransaction {
        use bankcard::frame::TransType;
        let trans = match report.trans {
            TransType::Sale => "sale",
            TransType::Void => "void",
            TransType::Refund => "refund",
            TransType::Reversal => "reversal",
            TransType::QueryLast => "query",
        };
        payments::sim::HostTransaction {
            trans: trans.to_string(),
            reference: report.reference,
            original: report.original,
            amount: report.amount,
            merchant_id: report.merchant_id,
            terminal_id: report.terminal_id,
            batch: report.batch,
            voucher: report.voucher,
            ref_no: report.ref_no,
            pan: report.pan,
            at: report.at,
        }
    }
}

#[cfg(not(feature = "sim"))]
mod without_sims {
    use super::{DeviceError, PathBuf};

    /// No simulators in this build.
    #[derive(Default)]
    pub struct DeviceSims;

    impl DeviceSims {
        pub fn start_printer(&mut self) -> Result<PathBuf, DeviceError> {
            Err(DeviceError::NoSimulators)
        }

        pub fn start_scanner(&mut self, _vendor: scanner::Vendor) -> Result<PathBuf, DeviceError> {
            Err(DeviceError::NoSimulators)
        }

        pub fn start_idcard(&mut self) -> Result<[PathBuf; 3], DeviceError> {
            Err(DeviceError::NoSimulators)
        }

        pub fn start_iccard(&mut self) -> Result<PathBuf, DeviceError> {
            Err(DeviceError::NoSimulators)
        }

        pub fn start_bankcard(
            &mut self,
            _with_slot: bool,
        ) -> Result<(PathBuf, Option<PathBuf>), DeviceError> {
            Err(DeviceError::NoSimulators)
        }

        pub fn start_cash(&mut self) -> Result<PathBuf, DeviceError> {
            Err(DeviceError::NoSimulators)
        }

        /// Nothing to report: no simulated terminal in this build.
        pub fn report_card_transactions_to(&self, _acquirer_url: &str) {}
    }
}
