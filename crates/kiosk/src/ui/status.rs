//! What works right now, asked of the devices: the session withdraws only what depends on a
//! device that is down, and the staff panel lists every device and the payments in suspense.

use crate::backend::Backend;
use crate::runtime::{describe_printer, ReceiptAvailability};
use kiosk_core::session::{Availability, ReceiptOutlook};
use kiosk_ui::view::DeviceLine;

#[derive(Clone, Debug, PartialEq)]
pub struct StatusReport {
    pub availability: Availability,
    pub devices: Vec<DeviceLine>,
    pub suspense: Vec<String>,
}

pub async fn report(backend: &Backend) -> StatusReport {
    let runtime = &backend.runtime;
    let devices = &runtime.devices;
    let mut lines = Vec::new();
    let mut line = |name: &str, ok: bool, status: String| {
        lines.push(DeviceLine { name: name.into(), status, ok });
        ok
    };

    let receipt = match runtime.receipt_availability().await {
        ReceiptAvailability::Ready => ReceiptOutlook::Ready,
        ReceiptAvailability::NearEnd => ReceiptOutlook::NearEnd,
        ReceiptAvailability::Unavailable(_) | ReceiptAvailability::NoPrinter => ReceiptOutlook::Unavailable,
    };
    match &devices.printer {
        Some(printer) => {
            let status = printer.driver.lock().await.status().await;
            let paper =
                if status.paper_near_end() { "纸将用完 paper near end" } else { "纸量正常 paper ok" };
            let words =
                if status.can_print_receipt() { paper.to_string() } else { describe_printer(&status) };
            line("打印机 Printer", status.can_print_receipt(), words);
        }
        None => {
            line("打印机 Printer", false, "未配置 not configured".into());
        }
    }
    let scanner = match &devices.scanner {
        Some(scanner) => {
            let mut driver = scanner.driver.lock().await;
            match driver.ensure_ready().await {
                Ok(()) => line("扫码器 Scanner", true, "正常 ready".into()),
                Err(error) => line("扫码器 Scanner", false, error.to_string()),
            }
        }
        None => line("扫码器 Scanner", false, "未配置 not configured".into()),
    };
    let id_card = match &devices.idcard {
        Some(idcard) => {
            let status = idcard.driver.lock().await.device_status().await;
            line(
                "身份证 ID reader",
                status.is_ready(),
                format!("{} {:?}", status.device.xfs_name(), status.media),
            )
        }
        None => line("身份证 ID reader", false, "未配置 not configured".into()),
    };
    let gas_card = match &devices.iccard {
        Some(iccard) => {
            let status = iccard.driver.lock().await.device_status().await;
            line(
                "IC卡口 IC slot",
                status.is_ready(),
                format!("{} {:?}", status.device.xfs_name(), status.media),
            )
        }
        None => line("IC卡口 IC slot", false, "未配置 not configured".into()),
    };
    let bank_card = match &devices.bankcard {
        Some(bankcard) => {
            let status = bankcard.terminal.lock().await.device_status().await;
            line("银行卡 Bank card", status.is_ready(), status.device.xfs_name().to_string())
        }
        None => line("银行卡 Bank card", false, "未配置 not configured".into()),
    };

    let mut suspense = Vec::new();
    match runtime.journal.load_parked().await {
        Ok(rows) => {
            for row in rows {
                suspense.push(format!("{} {} {}", row.id, row.state, kiosk_core::Fen(row.total_fen)));
            }
        }
        Err(error) => tracing::warn!(%error, "ui: the journal could not list parked payments"),
    }
    let availability = Availability {
        scanner,
        bank_card,
        gas_card,
        id_card,
        joint_bill: runtime.billers.joint().is_some(),
        receipt,
    };
    StatusReport { availability, devices: lines, suspense }
}
