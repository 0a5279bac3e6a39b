//! Taking a payment code from the scanner: trigger only while a code is wanted, classify what
//! came, and never let anything but a payment code start a payment.

use super::Runtime;
use kiosk_core::session::Text;
use kiosk_core::{AccountNo, PaymentCode, Utility};
use scanner::Scanned;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ScanProblem {
    #[error("this kiosk has no scanner configured")]
    NoScanner,
    #[error("no code was scanned in time")]
    NoCode,
    /// Garbage, a collection code, a URL…: the words for the customer.
    #[error("{0}")]
    NotAPaymentCode(Text),
    #[error(
        "this is a bill's barcode, not a payment code: show the payment code in WeChat, Alipay or UnionPay"
    )]
    BillInsteadOfCode,
    #[error("the scanner is not available: {0}")]
    Device(String),
    /// Anything but the fleet console's pairing QR held up where it was wanted (staff panel).
    #[error("this is not the pairing QR of the fleet console")]
    NotAPairingTicket,
    /// A payment code held up where the paper bill was wanted: never paid with, never kept.
    #[error("this is a payment code, not a bill's barcode: scan the barcode printed on the paper bill")]
    CodeInsteadOfBill,
}

impl ScanProblem {
    /// What the customer reads and hears.
    pub fn words(&self) -> Text {
        match self {
            ScanProblem::NotAPaymentCode(words) => words.clone(),
            ScanProblem::NoCode => Text::new("No code was read. Hold it to the scanner window and try again."),
            ScanProblem::BillInsteadOfCode => Text::new(
                "That is the bill's barcode, not a payment code. Open the payment code in WeChat, Alipay or UnionPay.",
            ),
            ScanProblem::CodeInsteadOfBill => Text::new(
                "That is a payment code, not the bill's barcode; nothing was charged. Scan the barcode on the paper bill.",
            ),
            ScanProblem::NotAPairingTicket => Text::new(
                "That is not a pairing code. Show the QR from the fleet console's new-kiosk page.",
            ),
            ScanProblem::NoScanner | ScanProblem::Device(_) => {
                Text::new("The scanner is not working now; type the account number or ask staff.")
            }
        }
    }
}

impl Runtime {
    /// Waits up to `window` (at most the scanner's 60 s ceiling) for one payment code.
    pub async fn scan_payment_code(&self, window: Duration) -> Result<PaymentCode, ScanProblem> {
        match self.scan_once(window).await? {
            Scanned::PaymentCode(code) => Ok(code),
            Scanned::BillBarcode { .. } => Err(ScanProblem::BillInsteadOfCode),
            other => Err(not_understood(other)),
        }
    }

    /// Waits up to `window` for the barcode of a paper bill: its account (and utility, when the
    /// barcode says). A payment code shown here is refused and forgotten.
    pub async fn scan_bill(&self, window: Duration) -> Result<(Option<Utility>, AccountNo), ScanProblem> {
        match self.scan_once(window).await? {
            Scanned::BillBarcode { utility, account } => Ok((utility, account)),
            Scanned::PaymentCode(_) => Err(ScanProblem::CodeInsteadOfBill),
            other => Err(not_understood(other)),
        }
    }

    /// Waits up to `window` for the fleet console's pairing QR (the staff panel's "pair with the
    /// hub"); its text, for `fleet::PairingTicket::from_qr_text`.
    pub async fn scan_pairing_ticket(&self, window: Duration) -> Result<scanner::PairingText, ScanProblem> {
        match self.scan_once(window).await? {
            Scanned::PairingTicket(text) => Ok(text),
            _ => Err(ScanProblem::NotAPairingTicket),
        }
    }

    /// Triggers the scanner for one code and classifies it.
    async fn scan_once(&self, window: Duration) -> Result<Scanned, ScanProblem> {
        let device = self.devices.scanner.as_ref().ok_or(ScanProblem::NoScanner)?;
        let mut left_on = UntriggerIfDropped(Some(device.driver.clone()));
        let scan = device.driver.lock().await.scan(window).await;
        left_on.0 = None; // the scan ended by itself, with its own untrigger
        let scan = scan.map_err(|error| match error {
            scanner::ScanError::NoCode { .. } => ScanProblem::NoCode,
            other => ScanProblem::Device(other.to_string()),
        })?;
        Ok(scan.scanned)
    }
}

type SharedScanner = std::sync::Arc<tokio::sync::Mutex<scanner::Scanner<device::serial::SerialConnector>>>;

/// Held while a scan runs. When the scan is dropped half-way (the customer pressed stop, the
/// session timed out, the screen moved on), the engine would stay on, reading whatever is held to
/// its window until the next customer: this turns it off from a task of its own, once the dropped
/// scan has let go of the scanner.
struct UntriggerIfDropped(Option<SharedScanner>);

impl Drop for UntriggerIfDropped {
    fn drop(&mut self) {
        let Some(driver) = self.0.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            match driver.lock().await.untrigger_if_left().await {
                Ok(true) => tracing::info!("scanner turned off after an abandoned scan"),
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, "the scanner could not be turned off after an abandoned scan")
                }
            }
        });
    }
}

/// Garbage, a collection code, a URL…: what to tell the customer.
fn not_understood(scanned: Scanned) -> ScanProblem {
    match scanned {
        Scanned::Garbage { reason } => ScanProblem::NotAPaymentCode(reason.message()),
        _ => ScanProblem::NotAPaymentCode(Text::new(
            "This code is not one the kiosk knows. Show a WeChat, Alipay or UnionPay payment code.",
        )),
    }
}
