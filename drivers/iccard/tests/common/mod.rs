//! Shared fixtures: a gas user card, quick timings, a reader on a simulator's pty.

#![allow(dead_code)]

use device::SerialConfig;
use iccard::sim::{CcidSim, Crt310Sim, SimCard};
use iccard::{AnyReader, FixedPsc, IcCardConfig, IcCardReader, Psc};
use kiosk_core::CardWriteData;
use std::path::Path;

/// The PSC of the simulated cards (not the transport default, so a wrong PSC is a real test).
pub const PSC: [u8; 3] = [0x12, 0x34, 0x56];
pub const CARD_NO: &str = "8800000013";
pub const USER_NO: &str = "31000011";

pub fn user_card() -> SimCard {
    SimCard::gas_user_card(CARD_NO, USER_NO, PSC).unwrap()
}

/// What the biller simulator issues for purchase `seq` (crates/billers/src/sim/book.rs).
pub fn purchase(seq: u32, fen: u64) -> CardWriteData {
    CardWriteData { purchase_seq: seq, data_hex: hex::encode(format!("YZGAS|{CARD_NO}|{seq}|{fen}")) }
}

/// Bytes one top-up writes: state byte, count (4), length, data, CRC (2), commit byte.
pub fn bytes_written(p: &CardWriteData) -> usize {
    hex::decode(&p.data_hex).unwrap().len() + 9
}

pub fn quick_serial(path: &Path) -> SerialConfig {
    let mut s = device::sim::quick_serial(path, 400);
    s.baud = 9600;
    s
}

pub fn crt310_reader(sim: &Crt310Sim, psc: [u8; 3]) -> IcCardReader {
    let mut cfg = IcCardConfig::crt310(sim.path());
    cfg.serial = Some(quick_serial(sim.path()));
    cfg.motion_timeout_ms = 1000;
    IcCardReader::new(AnyReader::from_config(&cfg).unwrap(), FixedPsc(Psc::new(psc)))
}

pub fn ccid_reader(sim: &CcidSim, psc: [u8; 3]) -> IcCardReader {
    let mut cfg = IcCardConfig::ccid_serial(sim.path());
    cfg.serial = Some(quick_serial(sim.path()));
    IcCardReader::new(AnyReader::from_config(&cfg).unwrap(), FixedPsc(Psc::new(psc)))
}
