//! The money rules (`kiosk_core::cash`) driven by the real driver against the simulated head,
//! the way the runtime will: poll, step the intake, (journal), carry out the effects. After
//! every run the simulator's box must hold exactly the notes credited — none lost, none twice.

use cash::sim::AcceptorSim;
use cash::{BillAcceptor, CashConfig, Command};
use kiosk_core::cash::{CashEffect, Intake, Overpay};
use kiosk_core::Fen;

async fn ready(sim: &AcceptorSim) -> BillAcceptor {
    ready_with(sim, |_| {}).await
}

/// [`ready`], with the configuration changed by `configure` first.
async fn ready_with(sim: &AcceptorSim, configure: impl FnOnce(&mut CashConfig)) -> BillAcceptor {
    let mut config = CashConfig::new("/dev/null").with_port(sim.path());
    config.serial.command_timeout_ms = 500;
    configure(&mut config);
    let mut acceptor = BillAcceptor::from_config(&config).unwrap();
    acceptor.status().await.unwrap();
    acceptor.operate(Command::Reset).await.unwrap();
    acceptor.read_currency_assignment().await.unwrap();
    acceptor
}

/// Polls and steps until paid or `polls` run out; `between` runs after each poll (a fault).
async fn drive(
    acceptor: &mut BillAcceptor,
    intake: &mut Intake,
    polls: usize,
    mut between: impl FnMut(usize),
) -> bool {
    // The first limit, as the payment opens cash.
    for effect in intake.step(kiosk_core::cash::Head::Idle) {
        acceptor.carry_out(effect).await.unwrap();
    }
    for poll in 0..polls {
        let status = acceptor.status().await.unwrap();
        // Here the runtime journals the intake, then carries out the effects.
        let effects = intake.step(acceptor.head(status));
        for effect in effects {
            acceptor.carry_out(effect).await.unwrap();
            if effect == CashEffect::Paid {
                return true;
            }
        }
        between(poll);
    }
    false
}

/// The customer feeds `notes` (yuan, in order) until `intake` is paid; returns it then.
async fn fed(sim: &AcceptorSim, acceptor: &mut BillAcceptor, mut intake: Intake, notes: &[u32]) -> Intake {
    for &note in notes {
        sim.insert(note);
    }
    assert!(drive(acceptor, &mut intake, 30, |_| {}).await, "{notes:?} did not pay");
    intake
}

fn yuan(notes: &[u32]) -> Fen {
    Fen(notes.iter().map(|&y| i64::from(y) * 100).sum())
}

#[tokio::test]
async fn seventy_yuan_paid_with_fifty_and_twenty_leaves_them_in_the_box() {
    let sim = AcceptorSim::start().unwrap();
    let mut acceptor = ready(&sim).await;
    let intake = fed(&sim, &mut acceptor, Intake::new(Fen(7000), Overpay::Refused), &[50, 20]).await;
    assert_eq!(sim.log().stacker, [50, 20]);
    assert_eq!(intake.credited(), yuan(&sim.log().stacker));
}

#[tokio::test]
async fn a_note_too_large_goes_back_and_a_smaller_one_pays() {
    let sim = AcceptorSim::start().unwrap();
    let mut acceptor = ready(&sim).await;
    let intake = fed(&sim, &mut acceptor, Intake::new(Fen(2000), Overpay::Refused), &[100, 20]).await;
    let log = sim.log();
    assert_eq!((log.stacker, log.returned), (vec![20], 1));
    assert_eq!(intake.credited(), Fen(2000));
}

#[tokio::test]
async fn a_note_the_kiosk_does_not_take_goes_back_even_if_the_head_escrows_it() {
    let sim = AcceptorSim::start().unwrap();
    let mut acceptor = ready_with(&sim, |config| config.accepted_yuan = vec![20, 50, 100]).await;
    sim.ignore_denomination_mask();
    let intake = fed(&sim, &mut acceptor, Intake::new(Fen(2000), Overpay::Refused), &[10, 20]).await;
    let log = sim.log();
    assert_eq!((log.stacker, log.returned), (vec![20], 1), "the ¥10 went back");
    assert_eq!(intake.credited(), Fen(2000));
}

#[tokio::test]
async fn a_head_that_acknowledges_settings_instead_of_echoing_them_still_takes_notes() {
    let sim = AcceptorSim::start().unwrap();
    sim.acknowledge_settings();
    let mut acceptor = ready(&sim).await;
    let intake = fed(&sim, &mut acceptor, Intake::new(Fen(2000), Overpay::Refused), &[20]).await;
    assert_eq!((sim.log().stacker, intake.credited()), (vec![20], Fen(2000)));
}

#[tokio::test]
async fn with_prepayment_a_large_note_is_taken_and_the_rest_is_prepaid() {
    let sim = AcceptorSim::start().unwrap();
    let mut acceptor = ready(&sim).await;
    let intake = fed(&sim, &mut acceptor, Intake::new(Fen(3150), Overpay::Prepayment), &[50]).await;
    assert_eq!(sim.log().stacker, [50]);
    assert_eq!(intake.totals().overpaid, Fen(1850));
}

#[tokio::test]
async fn a_lost_ack_and_a_power_cut_at_each_poll_never_credit_a_note_twice_or_lose_one() {
    let mut fates = std::collections::BTreeSet::new();
    for cut_at in 0..12 {
        let sim = AcceptorSim::start().unwrap();
        let mut acceptor = ready(&sim).await;
        let mut intake = Intake::new(Fen(7000), Overpay::Refused);
        sim.lose_next_ack();
        sim.insert(50);
        sim.insert(20);
        let paid = drive(&mut acceptor, &mut intake, 40, |poll| {
            if poll == cut_at {
                sim.power_cut();
            }
        })
        .await;
        let log = sim.log();
        // Every note in the box is credited exactly once; what is not in the box went back.
        assert_eq!(intake.credited(), yuan(&log.stacker), "cut at poll {cut_at}: {intake:?} {log:?}");
        assert_eq!(intake.anomalies, 0, "cut at poll {cut_at}");
        assert_eq!(log.stacker.len() + log.returned, 2, "cut at poll {cut_at}: every note accounted for");
        assert_eq!(paid, intake.credited() >= Fen(7000), "cut at poll {cut_at}");
        fates.insert((log.stacker.clone(), log.returned));
    }
    // The cuts fell at different moments of a note's way: some notes went back, some in.
    assert!(fates.len() >= 3, "{fates:?}");
}
