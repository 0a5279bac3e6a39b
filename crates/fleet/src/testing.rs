//! Fixtures for tests and benches (the `testing` feature; never in a product build).

use crate::wire::{DeviceHealth, DeviceReport, Head, Heartbeat, Paper};

/// A heartbeat from a kiosk with nothing wrong: in service at `head`, paper in, every device
/// ready, 20 GiB free, nothing in suspense. Tests that need something wrong change a field:
/// `Heartbeat { paper: Paper::Out, ..healthy_heartbeat(head, now) }`.
pub fn healthy_heartbeat(head: Head, sent_at_ms: i64) -> Heartbeat {
    let ready = |device: &str| DeviceReport {
        device: device.into(),
        health: DeviceHealth::Ok,
        detail: "ready".into(),
    };
    Heartbeat {
        software_version: "0.1.0".into(),
        sent_at_ms,
        in_service: true,
        head,
        journal_bytes: 4 << 20,
        disk_free_bytes: 20 << 30,
        paper: Paper::Ok,
        devices: ["printer", "scanner", "idcard", "iccard", "bankcard", "cash"]
            .into_iter()
            .map(ready)
            .collect(),
        cash_box: None,
        suspense: vec![],
        config_version: 0,
        update: None,
        merchants: vec![],
        cash_collections: vec![],
        help_called_at_ms: None,
    }
}
