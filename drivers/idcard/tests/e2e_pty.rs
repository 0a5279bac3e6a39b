//! The real driver against the simulator over ptys (`issues show 4`, "What it must show").

mod common;

use common::*;
use idcard::sim::{CardPlace, IdSim, Identity};
use idcard::{Command, IdError, IdEvent, SamError, Sw3};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_card_inserted_into_the_slot_is_read_validated_and_returned() {
    let sim = IdSim::start().unwrap();
    let id = Identity::synthetic(42);
    let mut reader = reader_for(&sim);
    let mut events = reader.subscribe().unwrap();

    // The customer inserts the card a moment after the kiosk asks for it.
    let read = tokio::spawn(async move {
        let r = reader.read_card(deadline(10)).await;
        (reader, r)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.insert_card_when_allowed(id.clone());
    let (mut reader, card) = read.await.unwrap();
    let card = card.unwrap();

    assert_eq!(card.name(), id.name);
    assert_eq!(card.id_number().expose(), id.id_number);
    assert_eq!(card.address(), id.address);
    assert_eq!(card.birth_date(), id.birth);
    assert_eq!(card.photo().as_bytes(), &id.photo[..]);
    let shown = format!("{card:?} {card}");
    assert!(!shown.contains(&id.name) && !shown.contains(&id.id_number), "{shown}");
    assert!(shown.contains(&id.id_number[..4]) && shown.contains("**********"));

    assert_eq!(
        sim.sam_log(),
        [Command::SamStatus, Command::FindCard, Command::SelectCard, Command::ReadTextPhoto]
    );
    reader.eject().await.unwrap();
    assert_eq!(sim.card_place(), CardPlace::Gate);
    assert!(sim.take_card().is_some());
    let slot = reader.slot().unwrap().clone();
    assert!(slot.wait_taken(Duration::from_millis(50), deadline(2)).await.unwrap());
    assert_eq!(
        drain(&mut events),
        [IdEvent::CardInserted, IdEvent::CardEjected { forced: false }, IdEvent::CardTaken]
    );
    assert_eq!(sim.capture_attempts(), 0);
}

#[tokio::test]
async fn forced_eject_after_three_seconds_aborts_a_read_and_returns_the_card() {
    let sim = IdSim::start().unwrap();
    sim.set_read_delay(Duration::from_secs(10)); // a read that would take 10 s
    let mut reader = ready_reader(&sim).await;
    sim.insert_card_when_allowed(Identity::synthetic(7));
    let mut events = reader.subscribe().unwrap();
    let read = tokio::spawn(async move { reader.read_card(deadline(30)).await });

    until(|| sim.sam_log().contains(&Command::ReadTextPhoto)).await;
    let pressed = Instant::now();
    sim.press_button();
    tokio::time::sleep(Duration::from_millis(3200)).await;
    sim.release_button();

    let r = read.await.unwrap();
    assert!(matches!(r, Err(IdError::ForceEjected)), "{r:?}");
    let waited = pressed.elapsed();
    assert!(waited >= Duration::from_millis(3000) && waited < Duration::from_millis(4500), "{waited:?}");
    until(|| sim.card_place() == CardPlace::Gate).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let ev = drain(&mut events);
    let pos =
        |e: IdEvent| ev.iter().position(|x| *x == e).unwrap_or_else(|| panic!("{e:?} missing in {ev:?}"));
    assert!(pos(IdEvent::ButtonPressed) < pos(IdEvent::ForceEject));
    assert!(pos(IdEvent::ForceEject) < pos(IdEvent::CardEjected { forced: true }));
    assert_eq!(sim.capture_attempts(), 0);
    assert!(sim.take_card().is_some(), "the customer has the card back");
}

/// hardware.md §2.5: the slot's first command is its init (`30 30`); a card left inside when the
/// kiosk starts (a restart mid-read) is then held at the gate for its owner, never captured.
#[tokio::test]
async fn a_card_left_inside_at_start_up_is_held_at_the_gate_after_the_init() {
    let sim = IdSim::start().unwrap();
    sim.leave_card_inside(Identity::synthetic(6));
    let reader = ready_reader(&sim).await;
    let log = sim.slot_log();
    assert_eq!(log.first().map(Vec::as_slice), Some(&[0x30, 0x30][..]), "the first frame's text: 30 30");
    assert!(log.contains(&vec![0x32, 0x31]), "moved to the gate and held: {log:02X?}");
    assert_eq!(sim.card_place(), CardPlace::Gate);
    assert_eq!(sim.capture_attempts(), 0);
    drop(reader);
}

#[tokio::test]
async fn a_slot_that_went_silent_gets_its_init_again_before_the_next_command() {
    // hardware.md §2.5: "Power-up: always init first". A reader that stopped answering may
    // have lost its power: when it answers again, the init goes before anything else.
    let sim = IdSim::start().unwrap();
    let reader = ready_reader(&sim).await;
    let slot = reader.slot().unwrap().clone();
    sim.set_slot_powered(false);
    assert!(
        matches!(slot.status().await, Err(idcard::SlotError::NoAck)),
        "a reader switched off answers nothing"
    );
    sim.set_slot_powered(true);
    let before = sim.slot_log().len();
    slot.status().await.unwrap();
    let log = sim.slot_log();
    assert_eq!(log.get(before).map(Vec::as_slice), Some(&[0x30, 0x30][..]), "{:02X?}", &log[before..]);
    assert_eq!(log.last().map(Vec::as_slice), Some(&[0x31, 0x30][..]));
}

#[tokio::test]
async fn a_2_9_second_press_does_nothing() {
    let sim = IdSim::start().unwrap();
    sim.set_read_delay(Duration::from_secs(4));
    let id = Identity::synthetic(8);
    let mut reader = ready_reader(&sim).await;
    sim.insert_card_when_allowed(id.clone());
    let mut events = reader.subscribe().unwrap();
    let read = tokio::spawn(async move {
        let r = reader.read_card(deadline(30)).await;
        (reader, r)
    });
    until(|| sim.sam_log().contains(&Command::ReadTextPhoto)).await;
    sim.press_button();
    tokio::time::sleep(Duration::from_millis(2900)).await;
    sim.release_button();

    let (_reader, r) = read.await.unwrap();
    assert_eq!(r.unwrap().id_number().expose(), id.id_number);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ev = drain(&mut events);
    assert!(ev.contains(&IdEvent::ButtonPressed), "{ev:?}");
    assert!(
        ev.iter().any(|e| matches!(e, IdEvent::ButtonReleased { held_ms } if (2800..3000).contains(held_ms))),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| matches!(e, IdEvent::ForceEject | IdEvent::CardEjected { .. })), "{ev:?}");
    assert_eq!(sim.card_place(), CardPlace::Inside);
}

#[tokio::test]
async fn a_forced_eject_pre_empts_a_slow_slot_command_with_eot() {
    let sim = IdSim::start().unwrap();
    let reader = ready_reader(&sim).await;
    sim.leave_card_inside(Identity::synthetic(9));
    let slot = reader.slot().unwrap().clone();
    let mut events = slot.subscribe();
    sim.set_next_move_delay(Duration::from_secs(20));
    let slow = tokio::spawn({
        let slot = slot.clone();
        async move { slot.hold_for_reading().await }
    });
    until(|| sim.slot_log().iter().any(|t| t == &[0x32, 0x2E])).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    slot.force_eject();
    let r = slow.await.unwrap();
    assert!(matches!(r, Err(idcard::SlotError::PreEmpted)), "{r:?}");
    until(|| sim.card_place() == CardPlace::Gate).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(sim.eots(), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(drain(&mut events).contains(&IdEvent::CardEjected { forced: true }));
    assert_eq!(sim.capture_attempts(), 0);
}

#[tokio::test]
async fn a_jammed_card_that_cannot_be_ejected_says_call_staff() {
    let sim = IdSim::start().unwrap();
    sim.leave_card_inside(Identity::synthetic(10));
    let mut reader = reader_for(&sim);
    let slot = reader.slot().unwrap().clone();
    let mut events = slot.subscribe();
    sim.set_jammed(true);
    slot.force_eject();
    until(|| sim.slot_log().iter().any(|t| t == &[0x30, 0x31])).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(drain(&mut events).contains(&IdEvent::EjectFailed));
    assert!(matches!(slot.eject().await, Err(idcard::SlotError::OutOfService)));
    assert_eq!(sim.capture_attempts(), 0, "a jam never turns into a capture");
    // hardware.md §1.8/§2.5: the slot is out of service, and its status says so.
    assert_eq!(reader.device_status().await.device, device::DeviceState::HardwareError);
}

#[tokio::test]
async fn line_noise_is_retried_and_a_truncated_read_re_presents_the_card() {
    use device::{Fault, FaultPlan};
    let sim = IdSim::start().unwrap();
    let id = Identity::synthetic(11);
    let mut reader = ready_reader(&sim).await;
    sim.insert_card_when_allowed(id.clone());
    sim.set_sam_faults(
        FaultPlan::named("noise")
            .then_ok() // 11 FF
            .then(Fault::CorruptChecksum) // 20 01: bad CHK → resent
            .then(Fault::GarbageBurst { len: 9 }) // 20 01 again: garbage, then the frame
            .then_ok() // 20 02
            .then(Fault::Truncate { keep: 700 }), // 30 01: cut short
    );
    let card = reader.read_card(deadline(15)).await.unwrap();
    assert_eq!(card.id_number().expose(), id.id_number);
    let reads = sim.sam_log().iter().filter(|c| **c == Command::ReadTextPhoto).count();
    assert_eq!(reads, 2, "{:?}", sim.sam_log());
    assert!(sim.slot_log().windows(2).any(|w| w[0] == [0x32, 0x31] && w[1] == [0x32, 0x2E]), "re-seated");
}

#[tokio::test]
async fn sam_statuses_become_errors_a_person_understands() {
    let sim = IdSim::start().unwrap();
    let mut reader = ready_reader(&sim).await;
    sim.insert_card_when_allowed(Identity::synthetic(12));
    sim.script_sam(Command::SamStatus, Sw3::SamNotAuthorised);
    let e = reader.read_card(deadline(5)).await.unwrap_err();
    assert!(matches!(e, IdError::Sam(SamError::SamNotAuthorised)), "{e:?}");
    assert!(
        e.message().in_lang(catalogue::Lang::Zh).contains("工作人员")
            && e.message().in_lang(catalogue::Lang::En).contains("staff")
    );
    assert_eq!(e.device_state(), device::DeviceState::HardwareError);

    // 41 once (card moved) is retried after re-presenting the card.
    sim.script_sam(Command::ReadTextPhoto, Sw3::ReadFailed);
    assert!(reader.read_card(deadline(10)).await.is_ok());
}

/// hardware.md §1.4: `91` (no such item) answers only the reads of an optional item; to `20 01`
/// it is no "card found", and the card is never selected on its word.
#[tokio::test]
async fn a_91_to_find_card_is_not_taken_as_found() {
    let sim = IdSim::start().unwrap();
    let mut reader = ready_reader(&sim).await;
    sim.insert_card_when_allowed(Identity::synthetic(14));
    sim.script_sam(Command::FindCard, Sw3::NoContent);
    let _ = reader.read_card(deadline(5)).await;
    let log = sim.sam_log();
    let first_find = log.iter().position(|c| *c == Command::FindCard).expect("a find");
    assert_ne!(log.get(first_find + 1), Some(&Command::SelectCard), "{log:?}");
}

#[tokio::test]
async fn a_card_removed_between_select_and_read_is_no_card() {
    let sim = IdSim::start().unwrap();
    sim.set_read_delay(Duration::from_millis(500));
    let mut reader = ready_reader(&sim).await;
    sim.insert_card_when_allowed(Identity::synthetic(13));
    let read = tokio::spawn(async move { reader.read_card(deadline(10)).await });
    until(|| sim.sam_log().contains(&Command::ReadTextPhoto)).await;
    assert!(sim.pull_card_out().is_some());
    let r = read.await.unwrap();
    assert!(matches!(r, Err(IdError::NoCard)), "{r:?}");
}

#[tokio::test]
async fn no_card_until_the_deadline_is_no_card() {
    let sim = IdSim::start().unwrap();
    let mut reader = reader_for(&sim);
    let started = Instant::now();
    let r = reader.read_card(tokio::time::Instant::now() + Duration::from_millis(800)).await;
    assert!(matches!(r, Err(IdError::NoCard | IdError::Timeout)), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The entry it opened is closed again: a card pushed in now stays outside.
    assert!(!sim.insert_card(Identity::synthetic(14)), "the slot's entry was left open");
}

#[tokio::test]
async fn a_silent_sam_is_offline() {
    let sim = IdSim::start().unwrap();
    sim.set_sam_faults(device::FaultPlan::powered_off());
    let mut reader = reader_for(&sim);
    let status = reader.device_status().await;
    assert_eq!(status.device, device::DeviceState::Offline);
    assert!(!status.detail.sam_ok);
    assert_eq!(status.media, device::MediaState::NotPresent);
}

#[tokio::test]
async fn damaged_host_frames_get_status_10_and_11_from_the_simulator() {
    use bytes::BytesMut;
    use device::Link;
    let sim = IdSim::start().unwrap();
    let port = device::serial::open(&quick_serial(sim.sam_path())).unwrap();
    let mut link = Link::new(port);
    let t = device::Timing::new(Duration::from_millis(500), Duration::from_millis(50));
    // Find card with a wrong XOR (22 → 23).
    let bad_xor = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x23];
    let r = link.request(&bad_xor, idcard::codec::decode, t).await.unwrap().unwrap();
    assert_eq!(r.sw3, Sw3::HostChecksum);
    // Length 2 (too short for CMD + Para + CHK).
    let bad_len = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x02, 0x20, 0x22];
    let r = link.request(&bad_len, idcard::codec::decode, t).await.unwrap().unwrap();
    assert_eq!(r.sw3, Sw3::HostLength);
    // `01 FF` is not reset: 21.
    let mut f = BytesMut::new();
    // CHK = 00 ^ 03 ^ 01 ^ FF = FD.
    f.extend_from_slice(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x01, 0xFF, 0xFD]);
    let r = link.request(&f, idcard::codec::decode, t).await.unwrap().unwrap();
    assert_eq!(r.sw3, Sw3::BadCommand);
}
