//! Taking a payment code from the scanner: trigger only while a code is wanted, classify what
//! came, and never let anything but a payment code start a payment.

use super::Runtime;
use kiosk_core::PaymentCode;
use scanner::Scanned;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ScanProblem {
    #[error("this kiosk has no scanner configured")]
    NoScanner,
    #[error("no code was scanned in time")]
    NoCode,
    /// Garbage, a collection code, a URL…: the words for the customer, Chinese then English.
    #[error("{zh} / {en}")]
    NotAPaymentCode { zh: &'static str, en: &'static str },
    #[error(
        "this is a bill's barcode, not a payment code: show the payment code in WeChat, Alipay or UnionPay"
    )]
    BillInsteadOfCode,
    #[error("the scanner is not available: {0}")]
    Device(String),
}

impl Runtime {
    /// Waits up to `window` (at most the scanner's 60 s ceiling) for one payment code.
    pub async fn scan_payment_code(&self, window: Duration) -> Result<PaymentCode, ScanProblem> {
        let device = self.devices.scanner.as_ref().ok_or(ScanProblem::NoScanner)?;
        let mut driver = device.driver.lock().await;
        let scan = driver.scan(window).await.map_err(|error| match error {
            scanner::ScanError::NoCode { .. } => ScanProblem::NoCode,
            other => ScanProblem::Device(other.to_string()),
        })?;
        match scan.scanned {
            Scanned::PaymentCode(code) => Ok(code),
            Scanned::BillBarcode { .. } => Err(ScanProblem::BillInsteadOfCode),
            Scanned::Garbage { reason } => {
                Err(ScanProblem::NotAPaymentCode { zh: reason.message_zh(), en: reason.message_en() })
            }
            _ => Err(ScanProblem::NotAPaymentCode {
                zh: "无法识别的条码",
                en: "a code the kiosk does not know",
            }),
        }
    }
}
