//! The motorised bank-card slot against its simulator over a pty: insert, "take your card",
//! capture only when the card is abandoned (and reported), never on start.

use bankcard::sim::SlotSim;
use bankcard::slot::codec::{CardPosition, MoveTo, SlotCommand};
use bankcard::{CardReturn, CardSlot, Insertion, SlotTiming};
use device::reconnect::BackoffPolicy;
use device::serial::{SerialConfig, SerialConnector};
use device::{DeviceState, MediaState};
use std::time::Duration;

fn slot(sim: &SlotSim, take: Duration) -> CardSlot {
    let timing = SlotTiming {
        insert_timeout: Duration::from_millis(600),
        take_timeout: take,
        poll: Duration::from_millis(20),
        command: Duration::from_millis(500),
        inter_byte: Duration::from_millis(50),
    };
    let mut cfg = SerialConfig::new(sim.path());
    cfg.baud = 9600;
    CardSlot::new(SerialConnector::new(cfg), BackoffPolicy::default(), timing)
}

/// A slot on the simulator, initialised (a card found inside is presented at the gate).
async fn ready_slot(sim: &SlotSim, take: Duration) -> CardSlot {
    let mut s = slot(sim, take);
    s.init().await.unwrap();
    s
}

/// Runs `op` to its end while, every `every`, the customer at the slot does what `customer` says.
async fn while_the_customer<T>(
    op: impl std::future::Future<Output = T>,
    every: Duration,
    mut customer: impl FnMut(),
) -> T {
    tokio::pin!(op);
    loop {
        tokio::select! {
            r = &mut op => break r,
            _ = tokio::time::sleep(every) => customer(),
        }
    }
}

fn captures(sim: &SlotSim) -> usize {
    sim.commands().iter().filter(|c| **c == SlotCommand::Move(MoveTo::Capture)).count()
}

#[tokio::test]
async fn a_card_left_at_the_gate_is_captured_after_the_take_timeout_and_reported() {
    let sim = SlotSim::start().unwrap();
    let mut s = slot(&sim, Duration::from_millis(300));
    assert_eq!(s.init().await.unwrap(), "CRT 310 V3.0");
    // The customer inserts the card while the entry is open.
    let inserted = while_the_customer(s.accept_card(), Duration::from_millis(30), || {
        sim.insert_card();
    })
    .await
    .unwrap();
    assert_eq!(inserted, Insertion::Inserted);
    // ... the terminal takes the payment; the customer walks away without the card.
    let started = std::time::Instant::now();
    let r = s.return_card().await.unwrap();
    assert!(r.is_captured(), "{r:?}");
    let CardReturn::Captured { waited } = r else { unreachable!() };
    assert!(waited >= Duration::from_millis(300), "not before the whole timeout: {waited:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((sim.captured(), sim.position(), captures(&sim)), (1, CardPosition::NoCard, 1));
    let status = s.device_status().await;
    assert_eq!((status.device, status.detail.captured), (DeviceState::Online, 1));
}

#[tokio::test]
async fn a_card_taken_in_time_is_never_captured() {
    let sim = SlotSim::start().unwrap();
    let mut s = ready_slot(&sim, Duration::from_secs(5)).await;
    sim.place_card_inside();
    let r = while_the_customer(s.return_card(), Duration::from_millis(100), || {
        if sim.position() == CardPosition::Gate {
            assert!(sim.take_card());
        }
    })
    .await
    .unwrap();
    assert!(matches!(r, CardReturn::Taken { after } if after < Duration::from_secs(5)), "{r:?}");
    assert_eq!((sim.captured(), captures(&sim)), (0, 0));
}

#[tokio::test]
async fn no_card_inserted_times_out_and_closes_the_entry() {
    let sim = SlotSim::start().unwrap();
    let mut s = ready_slot(&sim, Duration::from_secs(1)).await;
    assert_eq!(s.accept_card().await.unwrap(), Insertion::TimedOut);
    assert!(!sim.insert_card(), "entry closed again");
    assert_eq!(s.return_card().await.unwrap(), CardReturn::NoCard);
}

#[tokio::test]
async fn a_card_found_inside_on_start_is_presented_never_captured() {
    let sim = SlotSim::start().unwrap();
    sim.place_card_inside();
    let mut s = ready_slot(&sim, Duration::from_secs(1)).await;
    assert_eq!(sim.position(), CardPosition::Gate);
    assert_eq!(captures(&sim), 0);
    let st = s.device_status().await;
    assert_eq!(st.media, MediaState::Present);
}

#[tokio::test]
async fn a_card_held_at_the_rear_on_start_is_presented_never_captured() {
    // hardware.md §2.5: "On boot with card inside: policy 'eject to gate' for bank cards".
    let sim = SlotSim::start().unwrap();
    sim.place_card_at_rear();
    let _slot = ready_slot(&sim, Duration::from_secs(1)).await;
    assert_eq!(sim.position(), CardPosition::Gate);
    assert_eq!(captures(&sim), 0);
}

#[tokio::test]
async fn a_reader_on_backup_power_is_a_hardware_error_not_offline() {
    let sim = SlotSim::start().unwrap();
    let mut s = ready_slot(&sim, Duration::from_secs(1)).await;
    sim.set_on_backup_power(true);
    assert_eq!(s.device_status().await.device, DeviceState::HardwareError);
    sim.set_on_backup_power(false);
    assert_eq!(s.device_status().await.device, DeviceState::Online);
}

#[tokio::test]
async fn an_unreachable_slot_never_captures() {
    let sim = SlotSim::start().unwrap();
    let mut s = ready_slot(&sim, Duration::from_millis(100)).await;
    sim.place_card_inside();
    sim.set_faults(device::FaultPlan::powered_off().then_ok());
    assert!(s.return_card().await.is_err());
    assert_eq!((sim.captured(), captures(&sim)), (0, 0));
}

#[tokio::test]
async fn a_capture_whose_reply_is_lost_is_still_reported_from_the_position() {
    let sim = SlotSim::start().unwrap();
    let mut s = ready_slot(&sim, Duration::from_millis(100)).await;
    sim.place_card_inside();
    sim.lose_next_capture_reply();
    let r = s.return_card().await.unwrap();
    assert!(r.is_captured(), "the card is in the bin: the customer must be told so: {r:?}");
    assert_eq!((sim.captured(), captures(&sim)), (1, 1), "captured once, never sent again");
    assert_eq!(s.device_status().await.detail.captured, 1);
}
