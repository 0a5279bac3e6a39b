//! hardware.md fault injection over the ptys: bad checksum, truncated reply, silence, and the raw
//! CRT-310 handshake (ACK / NAK / ENQ / EOT) as a byte-level client sees it.

mod common;

use common::*;
use device::{DeviceState, Fault, FaultPlan};
use iccard::sim::{CcidSim, Crt310Sim};
use iccard::{CardError, ReaderError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn the_crt310_handshake_byte_by_byte() {
    let sim = Crt310Sim::start().unwrap();
    let mut port = tokio::fs::OpenOptions::new().read(true).write(true).open(sim.path()).await.unwrap();
    let mut one = [0u8; 1];
    // Status request with its BCC broken (02 → FD): the reader answers NAK 15.
    port.write_all(&[0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0xFD]).await.unwrap();
    port.read_exact(&mut one).await.unwrap();
    assert_eq!(one, [0x15]);
    // The same command intact (hardware.md §2.1): ACK 06, then nothing until ENQ.
    port.write_all(&[0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02]).await.unwrap();
    port.read_exact(&mut one).await.unwrap();
    assert_eq!(one, [0x06]);
    port.write_all(&[0x05]).await.unwrap(); // ENQ: execute
    let mut reply = [0u8; 10];
    port.read_exact(&mut reply).await.unwrap();
    assert_eq!(
        reply,
        [
            0x02, // STX
            0x00, 0x05, // LEN 5
            0x31, 0x30, // echo: reader status
            0x4E, // S1: no card
            0x4A, // S2: front entry by switch
            0x4E, // S3: rear entry forbidden
            0x03, // ETX
            0x4F, // BCC
        ]
    );
    // A command then EOT: discontinued, answered with EOT, never executed.
    let before = sim.commands();
    port.write_all(&[0x02, 0x00, 0x02, 0x32, 0x33, 0x03, 0x02]).await.unwrap(); // capture
    port.read_exact(&mut one).await.unwrap();
    assert_eq!(one, [0x06]);
    port.write_all(&[0x04]).await.unwrap();
    port.read_exact(&mut one).await.unwrap();
    assert_eq!(one, [0x04]);
    port.write_all(&[0x05]).await.unwrap(); // a stray ENQ executes nothing
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sim.commands(), before);
}

#[tokio::test]
async fn a_bad_checksum_or_a_truncated_reply_to_a_read_is_asked_again() {
    let sim = Crt310Sim::start().unwrap();
    let mut r = crt310_reader(&sim, PSC);
    sim.insert(user_card()).unwrap();
    r.read_gas_card().await.unwrap();
    sim.set_faults(
        FaultPlan::named("t")
            .then(Fault::CorruptChecksum)
            .then(Fault::Truncate { keep: 4 })
            .then(Fault::GarbageBurst { len: 5 }),
    );
    let card = r.read_gas_card().await.unwrap();
    assert_eq!(card.card_no, CARD_NO);
}

#[tokio::test]
async fn a_flaky_cable_never_corrupts_a_top_up() {
    let sim = Crt310Sim::start().unwrap();
    let mut r = crt310_reader(&sim, PSC);
    sim.insert(user_card()).unwrap();
    sim.set_faults(FaultPlan::flaky_cable().seed(4));
    let p = purchase(1, 5000);
    // Faults on a write's reply end the attempt (the effect is checked, not blindly redone);
    // repeating the same purchase must converge and never leave a wrong purchase.
    let mut ok = false;
    for _ in 0..20 {
        match r.write_purchase(&p).await {
            Ok(()) => {
                ok = true;
                break;
            }
            Err(e) => assert!(e.rewrite_may_help(), "{e:?}"),
        }
    }
    assert!(ok, "converges");
    sim.set_faults(FaultPlan::none());
    let card = r.read_gas_card().await.unwrap();
    assert_eq!(card.purchase_count, 1);
    let cur = sim.card().unwrap().image().unwrap().current.unwrap();
    assert_eq!(cur.data, hex::decode(&p.data_hex).unwrap());
    assert!(sim.card().unwrap().attempts_left() >= 2);
}

#[tokio::test]
async fn a_silent_crt310_is_offline() {
    let sim = Crt310Sim::start().unwrap();
    let mut r = crt310_reader(&sim, PSC);
    sim.set_silent(true);
    let e = r.read_gas_card().await.unwrap_err();
    assert!(matches!(e, CardError::Reader(ReaderError::NoAck { .. })), "{e:?}");
    let st = r.device_status().await;
    assert_eq!(st.device, DeviceState::Offline);
    sim.set_silent(false);
    assert_eq!(r.device_status().await.device, DeviceState::Online);
}

#[tokio::test]
async fn a_silent_ccid_reader_times_out_and_recovers() {
    let sim = CcidSim::start().unwrap();
    let mut r = ccid_reader(&sim, PSC);
    sim.insert(user_card()).unwrap();
    sim.set_silent(true);
    let e = r.read_gas_card().await.unwrap_err();
    assert!(matches!(e, CardError::Transport(_)), "{e:?}");
    sim.set_silent(false);
    assert_eq!(r.read_gas_card().await.unwrap().card_no, CARD_NO);
}

#[tokio::test]
async fn noise_longer_than_ten_bytes_before_a_ccid_reply_is_skipped() {
    // Ten *stale replies* make the driver give up (hardware.md §3.1); noise bytes do not count.
    let sim = CcidSim::start().unwrap();
    let mut r = ccid_reader(&sim, PSC);
    sim.insert(user_card()).unwrap();
    sim.set_faults(FaultPlan::named("noisy").then(Fault::GarbageBurst { len: 24 }));
    assert_eq!(r.read_gas_card().await.unwrap().card_no, CARD_NO);
}

#[tokio::test]
async fn a_dropped_ccid_reply_is_skipped_by_sequence_number() {
    let sim = CcidSim::start().unwrap();
    let mut r = ccid_reader(&sim, PSC);
    sim.insert(user_card()).unwrap();
    sim.set_faults(FaultPlan::named("late").then(Fault::Delay(Duration::from_millis(600))));
    // The delayed reply misses its deadline; the next exchange discards it by bSeq.
    assert!(r.read_gas_card().await.is_err());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(r.read_gas_card().await.unwrap().purchase_count, 0);
}
