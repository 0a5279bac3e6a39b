//! The heartbeat: what the kiosk tells the hub about itself every 30 seconds. The same status
//! the staff panel shows (`ui::status::report_from`, which never waits for a device a customer
//! is using, here reading the journal on the shipper's read-only connection), the paper and the
//! cash box in numbers, the payments in suspense, the journal's head and size, the free disk.
//! Nothing personal: order references, amounts and states only.

use std::path::Path;

use fleet::wire::{CashBoxReport, DeviceHealth, DeviceReport, Head, Heartbeat, Paper, SuspenseReport};
use journal::OutboxReader;
use kiosk_core::session::Lang;

use crate::backend::Backend;
use crate::ui::status::{JournalFacts, JournalView};

/// The kiosk's heartbeat now. The journal is read through `reader`, the shipper's read-only
/// connection, so the heartbeat never queues on the connection payments write through.
pub async fn heartbeat(backend: &Backend, reader: &OutboxReader, settings: &super::HubSettings) -> Heartbeat {
    let journal_path = &settings.journal;
    let facts = JournalFacts::read(reader).await;
    let report = crate::ui::status::report_from(backend, JournalView::ReadOnly(&facts)).await;
    let paper = paper(backend).await;
    let cash_box = cash_box(backend, &facts).await;
    let mut devices: Vec<DeviceReport> = report.devices.iter().map(device_report).collect();
    // Paper out and a cash box that is full or out have alerts of their own, with their own
    // patience (a collection takes a minute): they do not also count as a device fault.
    for device in &mut devices {
        let covered = match device.device.as_str() {
            "printer" => paper == Paper::Out,
            "cash" => cash_box.as_ref().is_some_and(|c| c.full || !c.present),
            _ => false,
        };
        if covered && device.health == DeviceHealth::Fault {
            device.health = DeviceHealth::Warning;
        }
    }
    let head = match reader.head().await {
        Ok(head) => Head { seq: head.seq, hash: head.hash },
        Err(error) => {
            tracing::warn!(%error, "heartbeat: the journal's head could not be read");
            Head { seq: 0, hash: journal::GENESIS.to_owned() }
        }
    };
    Heartbeat {
        software_version: env!("CARGO_PKG_VERSION").to_owned(),
        sent_at_ms: chrono::Utc::now().timestamp_millis(),
        in_service: report.availability.can_take_money(),
        head,
        journal_bytes: journal_bytes(journal_path),
        disk_free_bytes: disk_free(journal_path),
        paper,
        devices,
        cash_box,
        suspense: suspense(facts.unsettled),
        config_version: settings.config_place.state().applied,
        update: Some(crate::update::report(
            &crate::update::UpdateDir::new(&settings.data_dir, &settings.running.updates.root),
            settings.package_installed.clone(),
        )),
        merchants: backend
            .runtime
            .channels
            .merchants()
            .into_iter()
            .map(|(channel, merchant)| fleet::wire::MerchantAccount {
                source: kiosk_core::recon::Source::of(channel).code().to_owned(),
                merchant,
            })
            .collect(),
        cash_collections: cash_collections(reader).await,
        help_called_at_ms: backend.runtime.help.open_since(),
    }
}

/// How many of the newest collections each heartbeat repeats: the hub keeps each once, so a
/// lost heartbeat or a hub that was down loses none of a day's.
const COLLECTIONS_REPORTED: i64 = 10;

async fn cash_collections(reader: &OutboxReader) -> Vec<fleet::wire::CashCollectionReport> {
    let collections = reader.cash_collections(COLLECTIONS_REPORTED).await.unwrap_or_else(|error| {
        tracing::warn!(%error, "heartbeat: the cash collections could not be read");
        Vec::new()
    });
    collections
        .into_iter()
        .map(|c| fleet::wire::CashCollectionReport {
            id: c.id,
            at_ms: c.at,
            staff_id: c.staff_id,
            notes: c.count.notes,
            sum_fen: c.count.sum_fen,
            unknown: c.count.unknown,
            uncertain: c.count.uncertain,
        })
        .collect()
}

/// A staff-panel device line as the hub's device report.
fn device_report(line: &kiosk_ui::view::DeviceLine) -> DeviceReport {
    let name = line.name.in_lang(Lang::En);
    let detail = line.status.in_lang(Lang::En);
    let device = match name.as_str() {
        "Printer" => "printer",
        "Scanner" => "scanner",
        "ID reader" => "idcard",
        "IC card slot" => "iccard",
        "Bank card terminal" => "bankcard",
        "Note acceptor" => "cash",
        other => other,
    };
    let health = if detail == "not configured" {
        DeviceHealth::Absent
    } else if !line.ok {
        DeviceHealth::Fault
    } else if detail.contains("near end") {
        DeviceHealth::Warning
    } else {
        DeviceHealth::Ok
    };
    DeviceReport { device: device.to_owned(), health, detail }
}

/// The printer's paper, unless a receipt is printing now (then unknown: the next beat says).
async fn paper(backend: &Backend) -> Paper {
    let Some(printer) = &backend.runtime.devices.printer else { return Paper::Unknown };
    let Ok(mut driver) = printer.driver.try_lock() else { return Paper::Unknown };
    let status = driver.status().await;
    if !status.reachable {
        return Paper::Unknown;
    }
    match status.paper {
        printer::status::Paper::Ok => Paper::Ok,
        printer::status::Paper::NearEnd => Paper::NearEnd,
        printer::status::Paper::Out => Paper::Out,
    }
}

async fn cash_box(backend: &Backend, facts: &JournalFacts) -> Option<CashBoxReport> {
    let runtime = &backend.runtime;
    runtime.devices.cash.as_ref()?;
    let (present, full) = match runtime.cash_available_now().await {
        Some(Err(crate::runtime::CashUnavailable::BoxOpen)) => (false, false),
        Some(Err(crate::runtime::CashUnavailable::BoxFull)) => (true, true),
        _ => (true, false),
    };
    let count = facts.in_the_box.as_ref().ok()?;
    Some(CashBoxReport { present, full, notes: count.notes, total_fen: count.sum_fen })
}

/// Payments not settled: being finished, in suspense, or waiting for a refund.
fn suspense(rows: Vec<(String, i64, String, i64)>) -> Vec<SuspenseReport> {
    rows.into_iter()
        .map(|(order_ref, amount_fen, state, since_ms)| SuspenseReport {
            order_ref,
            amount_fen,
            state,
            since_ms,
        })
        .collect()
}

/// The journal's file and its write-ahead log.
fn journal_bytes(journal: &Path) -> u64 {
    let mut wal = journal.as_os_str().to_owned();
    wal.push("-wal");
    [journal.as_os_str(), wal.as_os_str()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Free bytes on the journal's disk, for an unprivileged process.
pub fn disk_free(journal: &Path) -> u64 {
    let dir = journal.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match rustix::fs::statvfs(dir) {
        Ok(fs) => fs.f_bavail.saturating_mul(fs.f_frsize),
        Err(_) => u64::MAX,
    }
}
