//! Shared fixtures: a reader wired to a simulator with quick timings.

#![allow(dead_code)]

use device::SerialConfig;
use idcard::sim::IdSim;
use idcard::{ButtonConfig, IdCardReader, IdEvent, IdReaderConfig, SlotConfig};
use std::path::Path;
use std::time::Duration;
use tokio::sync::broadcast;

pub fn quick_serial(path: &Path) -> SerialConfig {
    device::sim::quick_serial(path, 500)
}

/// SAM + slot + button, as `kiosk.toml` would configure them, pointed at the simulator.
pub fn config_for(sim: &IdSim) -> IdReaderConfig {
    let mut cfg = IdReaderConfig::serial(sim.sam_path());
    cfg.serial = Some(quick_serial(sim.sam_path()));
    cfg.find_interval_ms = 100;
    cfg.insert_poll_ms = 50;
    cfg.read_timeout_ms = 15_000;
    let mut slot = SlotConfig::serial(sim.slot_path());
    slot.serial = quick_serial(sim.slot_path());
    slot.move_timeout_ms = 2_000;
    cfg.slot = Some(slot);
    let mut button = ButtonConfig::lines(sim.button_path());
    button.serial = quick_serial(sim.button_path());
    cfg.button = Some(button);
    cfg
}

pub fn reader_for(sim: &IdSim) -> IdCardReader {
    IdCardReader::from_config(&config_for(sim)).unwrap()
}

/// [`reader_for`], once the slot has done its start-up init (which holds any card found inside
/// at the gate and closes the entry until a read asks for a card).
pub async fn ready_reader(sim: &IdSim) -> IdCardReader {
    let reader = reader_for(sim);
    reader.slot().expect("a slot").status().await.expect("the slot answers");
    reader
}

pub fn deadline(secs: u64) -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(secs)
}

/// Every event received so far.
pub fn drain(rx: &mut broadcast::Receiver<IdEvent>) -> Vec<IdEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

/// Waits (up to 5 s) until `cond` holds.
pub async fn until(mut cond: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(std::time::Instant::now() < end, "condition not met within 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
