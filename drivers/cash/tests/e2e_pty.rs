//! The real driver over a real pseudo-terminal against the simulated head: a note's whole way
//! (escrow, stack, VEND VALID, ACK, stacked), the way back (return, reject), and the faults the
//! money rules must survive (jam, power cut, lost ACK, box removed, cheat, damaged replies).

use cash::sim::AcceptorSim;
use cash::{AcceptorError, BillAcceptor, CashConfig, Command, RejectReason, Status};
use device::{Fault, FaultPlan};
use kiosk_core::Fen;

/// The driver on the simulator's pty, reset and set up to take 10–100 yuan.
async fn ready() -> (AcceptorSim, BillAcceptor) {
    let sim = AcceptorSim::start().unwrap();
    let mut config = CashConfig::new("/dev/null").with_port(sim.path());
    config.serial.command_timeout_ms = 500; // the head answers in milliseconds; a lost one costs less
    let mut acceptor = BillAcceptor::from_config(&config).unwrap();
    assert_eq!(acceptor.status().await.unwrap(), Status::PowerUp);
    acceptor.operate(Command::Reset).await.unwrap();
    assert_eq!(acceptor.status().await.unwrap(), Status::Initialize);
    acceptor.read_currency_assignment().await.unwrap();
    let mask = acceptor.mask_up_to(None);
    acceptor.set(Command::Denominations(mask)).await.unwrap();
    acceptor.set(Command::Inhibit(false)).await.unwrap();
    assert_eq!(acceptor.status().await.unwrap(), Status::Enable);
    (sim, acceptor)
}

/// Polls until a status other than the idle and moving ones (or `until`) comes.
async fn poll_until(acceptor: &mut BillAcceptor, until: impl Fn(Status) -> bool) -> Status {
    for _ in 0..20 {
        let status = acceptor.status().await.unwrap();
        if until(status) {
            return status;
        }
    }
    panic!("the awaited status never came");
}

/// A customer pushes in a note of `yuan`; polled until `until`, whose status is returned.
async fn insert_until(
    sim: &AcceptorSim,
    acceptor: &mut BillAcceptor,
    yuan: u32,
    until: impl Fn(Status) -> bool,
) -> Status {
    sim.insert(yuan);
    poll_until(acceptor, until).await
}

/// A customer pushes in a note of `yuan`; polled to escrow. Returns the note's escrow code.
async fn insert_to_escrow(sim: &AcceptorSim, acceptor: &mut BillAcceptor, yuan: u32) -> u8 {
    match insert_until(sim, acceptor, yuan, |s| matches!(s, Status::Escrow(_))).await {
        Status::Escrow(code) => code,
        other => unreachable!("{other:?}"),
    }
}

/// A customer pushes in a note of `yuan` that the head keeps as `held` (a jam, a cheat): a
/// status for staff.
async fn insert_held_for_staff(sim: &AcceptorSim, acceptor: &mut BillAcceptor, yuan: u32, held: Status) {
    let status = insert_until(sim, acceptor, yuan, |s| s == held).await;
    assert!(status.needs_staff(), "{status:?}");
}

/// The power is cut and comes back: the head first says `power_up` (where the note was), then
/// RESET is sent.
async fn power_cut_and_reset(sim: &AcceptorSim, acceptor: &mut BillAcceptor, power_up: Status) {
    sim.power_cut();
    assert_eq!(acceptor.status().await.unwrap(), power_up);
    acceptor.operate(Command::Reset).await.unwrap();
}

/// A customer pushes in a note of `yuan`; polled to escrow, then STACK is sent.
async fn insert_and_stack(sim: &AcceptorSim, acceptor: &mut BillAcceptor, yuan: u32) {
    insert_to_escrow(sim, acceptor, yuan).await;
    acceptor.operate(Command::Stack1).await.unwrap();
}

/// [`insert_and_stack`], then polled up to VEND VALID (not yet ACKed).
async fn insert_to_vend_valid(sim: &AcceptorSim, acceptor: &mut BillAcceptor, yuan: u32) {
    insert_and_stack(sim, acceptor, yuan).await;
    poll_until(acceptor, |s| s == Status::VendValid).await;
}

#[tokio::test]
async fn a_note_goes_from_escrow_to_the_box_and_is_credited_once_at_vend_valid() {
    let (sim, mut acceptor) = ready().await;
    assert_eq!(acceptor.notes_taken(), [Fen(1000), Fen(2000), Fen(5000), Fen(10000)]);
    let code = insert_to_escrow(&sim, &mut acceptor, 50).await;
    assert_eq!(acceptor.value_of(code), Some(Fen(5000)));
    assert!(sim.log().stacker.is_empty(), "in escrow the note can still go back");
    acceptor.operate(Command::Stack1).await.unwrap();
    assert_eq!(poll_until(&mut acceptor, |s| s != Status::Stacking).await, Status::VendValid);
    assert_eq!(sim.log().stacker, [50]);
    acceptor.acknowledge_vend_valid().await.unwrap();
    assert_eq!(acceptor.status().await.unwrap(), Status::Stacked);
    assert_eq!(acceptor.status().await.unwrap(), Status::Enable);
    let log = sim.log();
    assert_eq!((log.acks, log.vend_valid_sent, log.returned), (1, 1, 0));
}

#[tokio::test]
async fn a_returned_note_is_given_back_and_never_reaches_the_box() {
    let (sim, mut acceptor) = ready().await;
    insert_to_escrow(&sim, &mut acceptor, 100).await;
    acceptor.operate(Command::Return).await.unwrap();
    assert_eq!(acceptor.status().await.unwrap(), Status::Returning);
    assert_eq!(acceptor.status().await.unwrap(), Status::Enable);
    assert_eq!((sim.log().stacker.len(), sim.log().returned), (0, 1));
    // STACK with nothing in escrow: the head says INVALID COMMAND.
    assert!(matches!(acceptor.operate(Command::Stack1).await, Err(AcceptorError::Refused(Command::Stack1))));
}

#[tokio::test]
async fn as_the_amount_due_falls_the_larger_notes_are_refused() {
    let (sim, mut acceptor) = ready().await;
    // 30 yuan still due and no change given: 50 and 100 are refused by the mask.
    let mask = acceptor.mask_up_to(Some(Fen(3000)));
    acceptor.set(Command::Denominations(mask)).await.unwrap();
    let status = insert_until(&sim, &mut acceptor, 50, |s| matches!(s, Status::Rejecting(_))).await;
    assert_eq!(status, Status::Rejecting(RejectReason::Inhibited));
    insert_to_escrow(&sim, &mut acceptor, 20).await;
    assert_eq!(sim.log().returned, 1);
}

#[tokio::test]
async fn a_suspect_note_is_refused_with_its_reason() {
    let (sim, mut acceptor) = ready().await;
    sim.insert_suspect(0x77);
    let status = poll_until(&mut acceptor, |s| matches!(s, Status::Rejecting(_))).await;
    assert_eq!(status, Status::Rejecting(RejectReason::PhotoPattern));
    assert_eq!(acceptor.status().await.unwrap(), Status::Enable);
}

#[tokio::test]
async fn a_jam_in_the_stacker_stops_the_head_with_no_vend_valid() {
    let (sim, mut acceptor) = ready().await;
    sim.jam_next_stack();
    insert_and_stack(&sim, &mut acceptor, 20).await;
    let status = poll_until(&mut acceptor, |s| s != Status::Stacking).await;
    assert_eq!(status, Status::StackerJam);
    assert!(status.needs_staff());
    assert_eq!(acceptor.device_status().await.device, device::DeviceState::UserError);
    let log = sim.log();
    assert_eq!((log.stacker.len(), log.jammed, log.vend_valid_sent), (0, 1, 0));
}

#[tokio::test]
async fn a_power_cut_in_escrow_brings_the_head_back_with_the_note_in_the_acceptor() {
    let (sim, mut acceptor) = ready().await;
    insert_to_escrow(&sim, &mut acceptor, 10).await;
    // RESET gives it back: a note that never reached VEND VALID is never credited.
    power_cut_and_reset(&sim, &mut acceptor, Status::PowerUpBillInAcceptor).await;
    assert_eq!((sim.log().stacker.len(), sim.log().returned), (0, 1));
}

#[tokio::test]
async fn a_power_cut_while_stacking_leaves_the_note_in_the_box() {
    let (sim, mut acceptor) = ready().await;
    insert_and_stack(&sim, &mut acceptor, 100).await;
    sim.power_cut();
    let status = acceptor.status().await.unwrap();
    assert_eq!(status, Status::PowerUpBillInStacker);
    assert!(status.is_power_up());
    assert_eq!(sim.log().stacker, [100], "the journal decides whether it was credited");
}

#[tokio::test]
async fn a_lost_ack_brings_vend_valid_again_and_the_box_still_holds_one_note() {
    let (sim, mut acceptor) = ready().await;
    sim.lose_next_ack();
    insert_to_vend_valid(&sim, &mut acceptor, 20).await;
    acceptor.acknowledge_vend_valid().await.unwrap();
    assert_eq!(acceptor.status().await.unwrap(), Status::VendValid, "the head never heard the ACK");
    acceptor.acknowledge_vend_valid().await.unwrap();
    assert_eq!(acceptor.status().await.unwrap(), Status::Stacked);
    let log = sim.log();
    assert_eq!((log.stacker.len(), log.vend_valid_sent, log.acks), (1, 2, 1));
}

#[tokio::test]
async fn a_removed_box_stops_cash_until_it_is_back() {
    let (sim, mut acceptor) = ready().await;
    sim.remove_stacker();
    assert_eq!(acceptor.status().await.unwrap(), Status::StackerOpen);
    sim.replace_stacker();
    assert_eq!(acceptor.status().await.unwrap(), Status::Enable);
}

#[tokio::test]
async fn a_cheat_is_reported() {
    let (sim, mut acceptor) = ready().await;
    sim.cheat_next();
    insert_held_for_staff(&sim, &mut acceptor, 100, Status::Cheated).await;
    assert!(sim.log().stacker.is_empty());
}

#[tokio::test]
async fn a_damaged_or_lost_poll_answer_is_asked_again() {
    let (sim, mut acceptor) = ready().await;
    for fault in [Fault::CorruptChecksum, Fault::DropReply, Fault::Truncate { keep: 3 }] {
        sim.set_faults(FaultPlan::named("one bad answer").then(fault.clone()));
        let asked = sim.log().status_requests;
        assert_eq!(acceptor.status().await.unwrap(), Status::Enable, "{fault:?}");
        assert_eq!(sim.log().status_requests, asked + 2, "{fault:?}: asked once more");
    }
    // Every answer lost: the poll fails after its attempts; the line is not mistaken for a note.
    sim.set_faults(FaultPlan::powered_off());
    let error = acceptor.status().await.unwrap_err();
    assert!(error.is_indeterminate());
    assert_eq!(acceptor.device_status().await.device, device::DeviceState::Offline);
}

#[tokio::test]
async fn a_power_cut_after_vend_valid_before_the_ack_leaves_one_note_in_the_box() {
    let (sim, mut acceptor) = ready().await;
    insert_to_vend_valid(&sim, &mut acceptor, 50).await;
    power_cut_and_reset(&sim, &mut acceptor, Status::PowerUpBillInStacker).await;
    assert_eq!(acceptor.status().await.unwrap(), Status::Initialize);
    assert_eq!(acceptor.status().await.unwrap(), Status::Enable, "the settings were sent again");
    let log = sim.log();
    assert_eq!((log.stacker.clone(), log.acks, log.returned), (vec![50], 0, 0));
}

#[tokio::test]
async fn the_notes_taken_are_sent_again_after_a_reset() {
    let (sim, mut acceptor) = ready().await;
    let mask = acceptor.mask_up_to(Some(Fen(3000)));
    acceptor.set(Command::Denominations(mask)).await.unwrap();
    acceptor.operate(Command::Reset).await.unwrap();
    // The head came out of the reset inhibited and taking every note; the driver sent the
    // limit and the inhibit again: a 100 is refused, a 20 taken.
    let status =
        insert_until(&sim, &mut acceptor, 100, |s| matches!(s, Status::Rejecting(_) | Status::Escrow(_)))
            .await;
    assert_eq!(status, Status::Rejecting(RejectReason::Inhibited));
    let code = insert_to_escrow(&sim, &mut acceptor, 20).await;
    assert_eq!(acceptor.value_of(code), Some(Fen(2000)));
}

#[tokio::test]
async fn a_second_power_cut_before_the_reset_keeps_the_note_where_it_was() {
    let (sim, mut acceptor) = ready().await;
    insert_to_escrow(&sim, &mut acceptor, 10).await;
    sim.power_cut();
    power_cut_and_reset(&sim, &mut acceptor, Status::PowerUpBillInAcceptor).await;
    assert_eq!(sim.log().returned, 1);
}

#[tokio::test]
async fn a_jam_in_the_acceptor_holds_the_note_for_staff() {
    let (sim, mut acceptor) = ready().await;
    sim.jam_next_read();
    insert_held_for_staff(&sim, &mut acceptor, 10, Status::AcceptorJam).await;
    assert_eq!((sim.log().jammed, sim.log().stacker.len()), (1, 0));
    // Neither RESET nor a power cut moves a jammed note: the head says the jam again, so a
    // kiosk that restarts before it heard the jam still learns of it.
    acceptor.operate(Command::Reset).await.unwrap();
    assert_eq!(acceptor.status().await.unwrap(), Status::AcceptorJam);
    sim.power_cut();
    assert_eq!(acceptor.status().await.unwrap(), Status::AcceptorJam);
    // Staff take it out: the head powers up empty, and the note was never given back.
    sim.clear_jam();
    assert_eq!(acceptor.status().await.unwrap(), Status::PowerUp);
    acceptor.operate(Command::Reset).await.unwrap();
    assert_eq!((sim.log().jammed, sim.log().returned), (1, 0));
}

#[tokio::test]
async fn a_collection_empties_the_box_and_says_what_was_in_it() {
    let (sim, mut acceptor) = ready().await;
    for yuan in [50, 20] {
        insert_to_vend_valid(&sim, &mut acceptor, yuan).await;
        acceptor.acknowledge_vend_valid().await.unwrap();
    }
    sim.remove_stacker();
    assert_eq!(poll_until(&mut acceptor, |s| s == Status::StackerOpen).await, Status::StackerOpen);
    assert_eq!(sim.collect(), [50, 20]);
    sim.replace_stacker();
    assert_eq!(poll_until(&mut acceptor, |s| s == Status::Enable).await, Status::Enable);
    assert_eq!(sim.log().collections, [vec![50, 20]]);
    assert!(sim.log().stacker.is_empty());
}

#[tokio::test]
async fn the_health_check_notices_a_box_pulled_after_the_last_payment() {
    let (sim, mut acceptor) = ready().await;
    insert_to_vend_valid(&sim, &mut acceptor, 20).await;
    acceptor.acknowledge_vend_valid().await.unwrap();
    assert_eq!(acceptor.status().await.unwrap(), Status::Stacked);
    // Right after, the payment's last status stands (it is not polled away) ...
    assert_eq!(acceptor.device_status().await.detail.status, Some(Status::Stacked));
    // ... but once it is old, the health check polls and sees the box gone.
    sim.remove_stacker();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let health = acceptor.device_status().await;
    assert_eq!(health.device, device::DeviceState::UserError);
    assert_eq!(health.detail.status, Some(Status::StackerOpen));
}
