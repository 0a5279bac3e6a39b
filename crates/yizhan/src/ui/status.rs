//! What works right now, asked of the devices: the session withdraws only what depends on a
//! device that is down, and the staff panel lists every device and the payments in suspense.

use crate::backend::Backend;
use crate::runtime::describe_printer;
use kiosk_core::session::{Availability, ReceiptOutlook, Text};
use kiosk_ui::view::DeviceLine;

#[derive(Clone, Debug, PartialEq)]
pub struct StatusReport {
    pub availability: Availability,
    pub devices: Vec<DeviceLine>,
    pub suspense: Vec<Text>,
}

/// Where the report's journal facts come from: the runtime's own connection (the staff panel),
/// or [`JournalFacts`] read once on the shipper's read-only connection (the heartbeat and the
/// hub's diagnostics, which must never queue on the connection payments write through, and use
/// the same rows for their own lists).
#[derive(Clone, Copy)]
pub enum JournalView<'a> {
    Runtime,
    ReadOnly(&'a JournalFacts),
}

/// What the status needs of the journal, read once on the read-only connection.
pub struct JournalFacts {
    /// Payments not settled: (order reference, total in fen, state, created at in ms).
    pub unsettled: Vec<(String, i64, String, i64)>,
    /// The cash box since the last collection.
    pub in_the_box: Result<journal::BoxCount, String>,
}

impl JournalFacts {
    pub async fn read(reader: &journal::OutboxReader) -> JournalFacts {
        let unsettled = reader.unsettled().await.unwrap_or_else(|error| {
            tracing::warn!(%error, "status: the journal could not list unsettled payments");
            Vec::new()
        });
        let in_the_box = reader.cash_in_the_box().await.map_err(|e| e.to_string());
        JournalFacts { unsettled, in_the_box }
    }
}

pub async fn report(backend: &Backend) -> StatusReport {
    report_from(backend, JournalView::Runtime).await
}

pub async fn report_from(backend: &Backend, view: JournalView<'_>) -> StatusReport {
    let runtime = &backend.runtime;
    let devices = &runtime.devices;
    let mut lines = Vec::new();
    let mut line = |name: Text, (ok, status): (bool, Text)| {
        lines.push(DeviceLine { name, status, ok });
        ok
    };
    let missing = || (false, Text::new("not configured"));

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
                    ReceiptOutlook::NearEnd => (true, Text::new("paper near end")),
                    ReceiptOutlook::Ready => (true, Text::new("paper ok")),
                }
            })
            .await
        }
        None => missing(),
    };
    line(Text::new("Printer"), printer);
    let scanner = match &devices.scanner {
        Some(s) => {
            ask(&s.driver, async |d| match d.ensure_ready().await {
                Ok(()) => (true, Text::new("ready")),
                Err(error) => {
                    // The technical reason is for the log; the panel says it in the staff's words.
                    tracing::warn!(%error, "ui: the scanner is not ready");
                    (false, Text::new("not ready (the log says why)"))
                }
            })
            .await
        }
        None => missing(),
    };
    let scanner = line(Text::new("Scanner"), scanner);
    let id_card = match &devices.idcard {
        Some(c) => ask(&c.driver, async |d| xfs(d.device_status().await)).await,
        None => missing(),
    };
    let id_card = line(Text::new("ID reader"), id_card);
    let gas_card = match &devices.iccard {
        Some(c) => ask(&c.driver, async |d| xfs(d.device_status().await)).await,
        None => missing(),
    };
    let gas_card = line(Text::new("IC card slot"), gas_card);
    let bank_card = match &devices.bankcard {
        Some(b) => ask(&b.terminal, async |d| xfs(d.device_status().await)).await,
        None => missing(),
    };
    let bank_card = line(Text::new("Bank card terminal"), bank_card);
    let (cash, cash_notes) = match &devices.cash {
        Some(acceptor) => {
            let (ok, state) = match runtime.cash_available_now().await {
                None => (true, Text::new("in use")),
                Some(Ok(())) => (true, Text::new("ready")),
                Some(Err(why)) => {
                    tracing::warn!(%why, "ui: the note acceptor takes no cash");
                    (false, Text::new("takes no cash now (the log says why)"))
                }
            };
            // The box's count since the last collection, for staff to see before 清机.
            let in_the_box = match view {
                JournalView::Runtime => runtime.cash_in_the_box().await.map_err(|e| e.to_string()),
                JournalView::ReadOnly(facts) => facts.in_the_box.clone(),
            };
            let status = match in_the_box {
                Ok(count) => {
                    let sum = Text::verbatim(kiosk_core::Fen(count.sum_fen).to_string());
                    let notes = Text::verbatim(count.notes.to_string());
                    Text::with("{0}; {1} notes, {2} in the box", [state, notes, sum])
                }
                Err(error) => {
                    tracing::warn!(%error, "ui: the cash box count could not be read");
                    state
                }
            };
            let ok = line(Text::new("Note acceptor"), (ok, status));
            (ok, acceptor.accepted.clone())
        }
        None => (false, Vec::new()),
    };

    let mut suspense = match view {
        JournalView::Runtime => unsettled_lines(runtime).await,
        JournalView::ReadOnly(facts) => facts
            .unsettled
            .iter()
            .map(|(id, total_fen, state, _)| {
                let total = Text::verbatim(kiosk_core::Fen(*total_fen).to_string());
                Text::with("{0}: {1}, {2}", [Text::verbatim(id.clone()), state_words(state), total])
            })
            .collect(),
    };
    let journal = runtime.journal_fault();
    if let Some(why) = &journal {
        tracing::warn!(why = %why, "ui: the journal is not trusted");
        suspense.insert(0, Text::new("The journal is not trusted, so no money is taken (the log says why)."));
    }
    if let Some(reason) = runtime.service_hold() {
        suspense.insert(0, Text::with("Out of service by the operator: {0}", [Text::verbatim(reason)]));
    }
    let availability = Availability {
        journal: journal.is_none(),
        in_service: runtime.service_hold().is_none(),
        scanner,
        code_channels: runtime.code_channels_reachable().await,
        bank_card,
        gas_card,
        id_card,
        joint_bill: runtime.billers.joint().is_some(),
        receipt,
        cash,
        cash_notes,
        staff_line: runtime.help.has_line(),
    };
    StatusReport { availability, devices: lines, suspense }
}

/// Every payment not settled, as staff see it: those still being finished (a failed job leaves
/// one for the background settler) and those parked in suspense or waiting for a refund.
async fn unsettled_lines(runtime: &crate::runtime::Runtime) -> Vec<Text> {
    let mut suspense = Vec::new();
    match runtime.journal.load_unfinished().await {
        Ok(rows) => {
            for row in rows {
                let total = Text::verbatim(kiosk_core::Fen(row.total_fen).to_string());
                let state = state_words(&row.state);
                suspense.push(Text::with(
                    "{0}: {1}, {2} (being finished)",
                    [Text::verbatim(row.id), state, total],
                ));
            }
        }
        Err(error) => tracing::warn!(%error, "ui: the journal could not list unfinished payments"),
    }
    match runtime.journal.load_parked().await {
        Ok(rows) => {
            for row in rows {
                let total = Text::verbatim(kiosk_core::Fen(row.total_fen).to_string());
                suspense.push(Text::with(
                    "{0}: {1}, {2}",
                    [Text::verbatim(row.id), state_words(&row.state), total],
                ));
            }
        }
        Err(error) => tracing::warn!(%error, "ui: the journal could not list parked payments"),
    }
    suspense
}

/// Asks a device through `probe`, unless a customer's transaction holds it: a device in use is
/// working, and the status check must never wait behind a 60 s scan or a card read.
async fn ask<D>(
    driver: &tokio::sync::Mutex<D>,
    probe: impl AsyncFnOnce(&mut D) -> (bool, Text),
) -> (bool, Text) {
    match driver.try_lock() {
        Ok(mut device) => probe(&mut device).await,
        Err(_) => (true, Text::new("in use")),
    }
}

/// A payment's journal state in words staff read; a label this build does not know, as it is.
fn state_words(label: &str) -> Text {
    kiosk_core::payment::State::words_of_label(label).unwrap_or_else(|| Text::verbatim(label))
}

/// A device's readiness in words staff read (the XFS4IoT states, in the catalogue's words).
fn xfs<D>(status: device::DeviceStatus<D>) -> (bool, Text) {
    let words = match status.media.words() {
        Some(media) => Text::with("{0}, {1}", [status.device.words(), media]),
        None => status.device.words(),
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
        use kiosk_core::session::Lang;
        let (_, scanner) = xfs(status(device::DeviceState::Online, device::MediaState::NotSupported));
        assert_eq!((scanner.in_lang(Lang::Zh), scanner.in_lang(Lang::En)), ("正常".into(), "ready".into()));
        let (_, slot) = xfs(status(device::DeviceState::Online, device::MediaState::Present));
        assert_eq!(slot.in_lang(Lang::Zh), "正常，有卡或物品");
        assert_eq!(slot.in_lang(Lang::En), "ready, item inside");
        let (_, gone) = xfs(status(device::DeviceState::Offline, device::MediaState::Unknown));
        let gone = gone.in_lang(Lang::En);
        assert!(!gone.contains("Offline") && !gone.contains("Unknown"), "{gone}");
    }
}
