//! The ID slot's driver reads the CRT-310 positive reply as `CM PM data` (hardware.md §2.1,
//! §2.2): against the simulator, which writes its reply bytes itself, and against a peer that
//! sends literal bytes written from the spec.

mod common;

use common::*;
use device::reconnect::BackoffPolicy;
use device::{Pty, SerialConnector};
use idcard::sim::{CardPlace, IdSim, Identity};
use idcard::slot::{
    CardPosition, Entry, Position, ResetMode, SlotCommand, SlotError, SlotPort, SlotStatus, SlotTiming,
};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn port(path: &Path) -> SlotPort<SerialConnector> {
    let timing = SlotTiming {
        ack: Duration::from_millis(300),
        command: Duration::from_millis(500),
        moving: Duration::from_secs(2),
        reset: Duration::from_secs(2),
        inter_byte: Duration::from_millis(50),
    };
    SlotPort::new(SerialConnector::new(quick_serial(path)), timing, BackoffPolicy::default())
}

#[tokio::test]
async fn a_damaged_or_lost_status_reply_is_asked_for_again() {
    use device::{Fault, FaultPlan};
    let sim = IdSim::start().unwrap();
    let mut slot = port(sim.slot_path());
    sim.set_slot_faults(FaultPlan::named("bad line").then(Fault::CorruptChecksum).then(Fault::DropReply));
    assert_eq!(slot.status().await.unwrap().position, CardPosition::NoCard);
}

#[tokio::test]
async fn the_slot_driver_reads_the_simulators_status_move_and_reset_replies() {
    let sim = IdSim::start().unwrap();
    let mut slot = port(sim.slot_path());

    let empty = slot.status().await.unwrap();
    assert_eq!(empty.position, CardPosition::NoCard);

    assert!(!sim.insert_card(Identity::synthetic(5)), "closed until the host lets a card in");
    slot.operate(SlotCommand::Entry(Entry::Allow)).await.unwrap();
    assert!(sim.insert_card(Identity::synthetic(5)));
    assert_eq!(slot.status().await.unwrap().position, CardPosition::Inside);

    slot.operate(SlotCommand::Move(Position::Gate)).await.unwrap();
    assert_eq!(sim.card_place(), CardPlace::Gate);
    assert_eq!(slot.status().await.unwrap().position, CardPosition::Gate);
    slot.operate(SlotCommand::Move(Position::Rf)).await.unwrap();
    assert_eq!(sim.card_place(), CardPlace::Inside);

    // A reset answers with its version text, not an operation byte: still a success.
    slot.operate(SlotCommand::Reset(ResetMode::EjectFront)).await.unwrap();
    assert_eq!(sim.card_place(), CardPlace::Gate);

    assert!(sim.take_card().is_some());
    let r = slot.operate(SlotCommand::Move(Position::Gate)).await;
    assert!(matches!(r, Err(SlotError::Operation(idcard::slot::Operation::NoCard))), "{r:?}");
    assert_eq!(sim.capture_attempts(), 0);
}

/// A reader that answers one command: ACK, then after ENQ the literal `reply` bytes.
async fn answer_once(mut pty: Pty, reply: &'static [u8]) -> Pty {
    let mut got = Vec::new();
    let mut tmp = [0u8; 64];
    // The status command frame: 02 00 02 31 30 03 02.
    while !got.ends_with(&[0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02]) {
        let n = pty.master().read(&mut tmp).await.unwrap();
        got.extend_from_slice(&tmp[..n]);
    }
    pty.master().write_all(&[0x06]).await.unwrap(); // ACK
    got.clear();
    while !got.contains(&0x05) {
        // ENQ: execute
        let n = pty.master().read(&mut tmp).await.unwrap();
        got.extend_from_slice(&tmp[..n]);
    }
    pty.master().write_all(reply).await.unwrap();
    pty
}

/// What the slot driver makes of its status command when a peer answers it with the literal
/// `reply`.
async fn status_answered_with(reply: &'static [u8]) -> Result<SlotStatus, SlotError> {
    let pty = Pty::open().unwrap();
    let mut slot = port(pty.slave_path());
    let peer = tokio::spawn(answer_once(pty, reply));
    let status = slot.status().await;
    // A peer still waiting (the driver gave up before the reply) is stopped, so that the caller's
    // assertion says what went wrong; one that failed says so here.
    peer.abort();
    match peer.await {
        Ok(pty) => drop(pty),
        Err(e) if e.is_cancelled() => {}
        Err(e) => panic!("the peer failed ({e}); the driver read {status:?}"),
    }
    status
}

#[tokio::test]
async fn the_slot_driver_reads_a_literal_positive_status_reply() {
    const REPLY: &[u8] = &[
        0x02, // STX
        0x00, 0x05, // LEN 5
        0x31, // CM echoed: status (the first text byte; no 'P')
        0x30, // PM echoed
        0x4A, // S1: inside
        0x4E, // S2: front entry forbidden
        0x4E, // S3: rear entry forbidden
        0x03, // ETX
        0x4F, // BCC = 02^00^05^31^30^4A^4E^4E^03
    ];
    let status = status_answered_with(REPLY).await.unwrap();
    assert_eq!(
        (status.position, status.front_entry, status.rear_entry_allowed),
        (CardPosition::Inside, 0x4E, false)
    );
}

#[tokio::test]
async fn the_slot_driver_does_not_strip_a_p_in_front_of_a_reply() {
    const REPLY: &[u8] = &[
        0x02, // STX
        0x00, 0x06, // LEN 6
        0x50, // 'P': not a CRT-310 reply byte
        0x31, 0x30, // status CM PM, one place late
        0x4A, 0x4E, 0x4E, // S1 S2 S3
        0x03, // ETX
        0x1C, // BCC = 02^00^06^50^31^30^4A^4E^4E^03
    ];
    let r = status_answered_with(REPLY).await;
    assert!(matches!(r, Err(SlotError::Mismatch)), "{r:?}");
}

#[tokio::test]
async fn the_slot_driver_reads_a_literal_negative_reply() {
    const REPLY: &[u8] = &[
        0x02, // STX
        0x00, 0x03, // LEN 3
        0x4E, // 'N'
        0x31, // CM echoed: status
        0x05, // E: supply voltage out of range
        0x03, // ETX
        0x78, // BCC = 02^00^03^4E^31^05^03
    ];
    let r = status_answered_with(REPLY).await;
    assert!(matches!(r, Err(SlotError::Refused(idcard::slot::ErrorCode::SupplyVoltage))), "{r:?}");
}
