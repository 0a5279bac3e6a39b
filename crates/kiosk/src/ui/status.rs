//! What works right now, asked of the devices: the session withdraws only what depends on a
//! device that is down, and the staff panel lists every device and the payments in suspense.

use crate::backend::Backend;
use crate::runtime::describe_printer;
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
    let mut line = |name: &str, (ok, status): (bool, String)| {
        lines.push(DeviceLine { name: name.into(), status, ok });
        ok
    };
    let missing = || (false, "未配置 not configured".to_string());

    // One status request to the printer gives both the panel's line and the receipt outlook.
    let mut receipt = ReceiptOutlook::Unavailable;
    let printer = match &devices.printer {
        Some(p) => {
            ask(&p.driver, async |d| {
                let status = d.status().await;
                receipt = match (status.can_print_receipt(), status.paper_near_end()) {
                    (false, _) => ReceiptOutlook::Unavailable,
                    (true, true) => ReceiptOutlook::NearEnd,
                    (true, false) => ReceiptOutlook::Ready,
                };
                match receipt {
                    ReceiptOutlook::Unavailable => (false, describe_printer(&status)),
                    ReceiptOutlook::NearEnd => (true, "纸将用完 paper near end".into()),
                    ReceiptOutlook::Ready => (true, "纸量正常 paper ok".into()),
                }
            })
            .await
        }
        None => missing(),
    };
    line("打印机 Printer", printer);
    let scanner = match &devices.scanner {
        Some(s) => {
            ask(&s.driver, async |d| match d.ensure_ready().await {
                Ok(()) => (true, "正常 ready".into()),
                Err(error) => (false, error.to_string()),
            })
            .await
        }
        None => missing(),
    };
    let scanner = line("扫码器 Scanner", scanner);
    let id_card = match &devices.idcard {
        Some(c) => ask(&c.driver, async |d| xfs(d.device_status().await)).await,
        None => missing(),
    };
    let id_card = line("身份证 ID reader", id_card);
    let gas_card = match &devices.iccard {
        Some(c) => ask(&c.driver, async |d| xfs(d.device_status().await)).await,
        None => missing(),
    };
    let gas_card = line("IC卡口 IC slot", gas_card);
    let bank_card = match &devices.bankcard {
        Some(b) => ask(&b.terminal, async |d| xfs(d.device_status().await)).await,
        None => missing(),
    };
    let bank_card = line("银行卡 Bank card", bank_card);

    // Staff see every payment not settled: those still being finished (a failed job leaves one
    // for the background settler) and those parked in suspense or waiting for a refund.
    let mut suspense = Vec::new();
    match runtime.journal.load_unfinished().await {
        Ok(rows) => {
            for row in rows {
                suspense.push(format!(
                    "{} {} {} 处理中 being finished",
                    row.id,
                    row.state,
                    kiosk_core::Fen(row.total_fen)
                ));
            }
        }
        Err(error) => tracing::warn!(%error, "ui: the journal could not list unfinished payments"),
    }
    match runtime.journal.load_parked().await {
        Ok(rows) => {
            for row in rows {
                suspense.push(format!("{} {} {}", row.id, row.state, kiosk_core::Fen(row.total_fen)));
            }
        }
        Err(error) => tracing::warn!(%error, "ui: the journal could not list parked payments"),
    }
    let journal = runtime.journal_fault();
    if let Some(why) = &journal {
        suspense.insert(0, format!("交易记录不可信，暂停收款 journal not trusted: {why}"));
    }
    let availability = Availability {
        journal: journal.is_none(),
        scanner,
        bank_card,
        gas_card,
        id_card,
        joint_bill: runtime.billers.joint().is_some(),
        receipt,
    };
    StatusReport { availability, devices: lines, suspense }
}

/// Asks a device through `probe`, unless a customer's transaction holds it: a device in use is
/// working, and the status check must never wait behind a 60 s scan or a card read.
async fn ask<D>(
    driver: &tokio::sync::Mutex<D>,
    probe: impl AsyncFnOnce(&mut D) -> (bool, String),
) -> (bool, String) {
    match driver.try_lock() {
        Ok(mut device) => probe(&mut device).await,
        Err(_) => (true, "使用中 in use".into()),
    }
}

/// A device's readiness in words staff read (the XFS4IoT states, said in Chinese and English).
fn xfs<D>(status: device::DeviceStatus<D>) -> (bool, String) {
    let words = match status.media.words() {
        Some(media) => format!("{}，{media}", status.device.words()),
        None => status.device.words().to_string(),
    };
    (status.is_ready(), words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11, item 6: the staff panel showed raw enum names ("online Present", "NotSupported").
    #[test]
    fn device_states_read_as_words_not_enum_names() {
        let status = |device, media| device::DeviceStatus { device, media, detail: () };
        let (_, scanner) = xfs(status(device::DeviceState::Online, device::MediaState::NotSupported));
        assert_eq!(scanner, "正常 ready");
        let (_, slot) = xfs(status(device::DeviceState::Online, device::MediaState::Present));
        assert_eq!(slot, "正常 ready，有卡或物品 item inside");
        let (_, gone) = xfs(status(device::DeviceState::Offline, device::MediaState::Unknown));
        assert!(!gone.contains("Offline") && !gone.contains("Unknown"), "{gone}");
    }
}
