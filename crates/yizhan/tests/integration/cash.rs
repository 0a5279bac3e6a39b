//! Cash end to end: the real runtime, journal and biller clients, the real ID-003 driver against
//! the simulated acceptor on a pty. After every payment the simulator's box must hold exactly the
//! notes the journal credited, and the biller must have written off exactly that sum.

use crate::support;

use cash::sim::AcceptorSim;
use kiosk_core::cash::Intake;
use kiosk_core::{Fen, LineKind, Order, State, Utility};
use std::sync::{Arc, Mutex};
use support::TestKiosk;
use yizhan::runtime::crash_point::Cut;
use yizhan::runtime::{CashCustomer, CashNews, CashUnavailable, Observer, Quiet, RuntimeError};

/// A customer who has put in their notes and leaves once the head has dealt with them all.
struct Customer(Arc<AcceptorSim>);

impl CashCustomer for Customer {
    fn has_left(&self, _intake: &Intake) -> bool {
        self.0.settled()
    }
}

/// What the customer was told after each poll.
#[derive(Default)]
struct Heard(Mutex<Vec<CashNews>>);

impl Observer for Heard {
    fn cash(&self, _intake: &Intake, news: CashNews) {
        if news != CashNews::Nothing {
            self.0.lock().unwrap().push(news);
        }
    }
}

fn acceptor(kiosk: &TestKiosk) -> Arc<AcceptorSim> {
    Arc::clone(kiosk.runtime().devices.sims.cash.as_ref().expect("a simulated acceptor"))
}

/// An account of `utility` with `fen` due whose biller credits more as prepayment (预存).
fn prepaying_account(kiosk: &TestKiosk, utility: Utility, fen: i64) -> String {
    let account = support::fresh_account(utility);
    let seed = serde_json::json!({ "account": account, "amount_due_fen": fen, "prepayment": true });
    kiosk.sims().billers.get(utility).sim.put_account(serde_json::from_value(seed).unwrap());
    account
}

async fn pay(
    kiosk: &TestKiosk,
    order: Order,
    yuan: &[u32],
) -> Result<Option<kiosk_core::Payment>, RuntimeError> {
    let sim = acceptor(kiosk);
    for &note in yuan {
        sim.insert(note);
    }
    kiosk.runtime().pay_cash(order, &Customer(sim), &Quiet).await
}

fn fen(yuan: &[u32]) -> Vec<i64> {
    yuan.iter().map(|&y| i64::from(y) * 100).collect()
}

/// The last paper printed (`what`: a receipt, a slip) says every one of `words`.
fn assert_printed(kiosk: &TestKiosk, what: &str, words: &[&str]) {
    let printed = kiosk.printer_sim().last_receipt().expect(what).text();
    assert!(words.iter().all(|&word| printed.contains(word)), "{printed}");
}

/// The journal's custody rows of an order's credited notes, in fen.
async fn credited(kiosk: &TestKiosk, order_ref: &str) -> Vec<i64> {
    let notes = kiosk.runtime().journal.cash_box().notes_of(order_ref).await.unwrap();
    notes.iter().filter(|n| n.state == journal::NoteCustody::Credited).filter_map(|n| n.value_fen).collect()
}

/// What `utility`'s biller wrote off under `reference`, in fen.
fn written_off(kiosk: &TestKiosk, utility: Utility, reference: &str) -> Vec<i64> {
    let ledger = kiosk.sims().billers.get(utility).sim.ledger();
    ledger.write_offs.iter().filter(|e| e.reference == reference).map(|e| e.amount_fen).collect()
}

#[tokio::test]
async fn an_exact_payment_in_two_notes_is_written_off_and_the_box_holds_them() {
    let kiosk = TestKiosk::start().await;
    let order = kiosk.order_for(Utility::Power, 7000).await;
    let payment = pay(&kiosk, order, &[50, 20]).await.unwrap().expect("a payment");
    assert_eq!(payment.state, State::Done);
    assert_eq!(payment.channel, Some(kiosk_core::Channel::Cash));
    assert_eq!(acceptor(&kiosk).log().stacker, [50, 20]);
    assert_eq!(credited(&kiosk, payment.id()).await, fen(&[50, 20]));
    assert_eq!(written_off(&kiosk, Utility::Power, &payment.order.lines[0].biller_ref), [7000]);
    assert_printed(&kiosk, "a receipt", &["现金", "70.00"]);
    kiosk.verify_chain().await;
}

#[tokio::test]
async fn an_overpayment_is_prepaid_to_an_account_whose_biller_takes_it() {
    let kiosk = TestKiosk::start().await;
    let account = prepaying_account(&kiosk, Utility::Power, 8935);
    let order = kiosk.order(Utility::Power, &account).await;
    let payment = pay(&kiosk, order, &[100]).await.unwrap().expect("a payment");
    assert_eq!(payment.state, State::Done);
    let line = &payment.order.lines[0];
    assert_eq!(line.amount, Fen(10_000));
    assert!(matches!(line.kind, LineKind::Bill { due: Some(Fen(8935)), .. }), "{:?}", line.kind);
    assert_eq!(written_off(&kiosk, Utility::Power, &line.biller_ref), [10_000]);
    // The biller shows nothing due now; the receipt names the prepayment.
    assert_eq!(kiosk.sims().billers.power.sim.bill(&account).unwrap().amount_due_fen, 0);
    assert_printed(&kiosk, "a receipt", &["预存", "10.65"]);
}

#[tokio::test]
async fn without_prepayment_a_note_larger_than_what_is_due_goes_back_and_a_smaller_one_pays() {
    let kiosk = TestKiosk::start().await;
    let order = kiosk.order_for(Utility::Water, 2000).await;
    let heard = Heard::default();
    let sim = acceptor(&kiosk);
    for note in [50, 20] {
        sim.insert(note);
    }
    let payment =
        kiosk.runtime().pay_cash(order, &Customer(Arc::clone(&sim)), &heard).await.unwrap().unwrap();
    assert_eq!(payment.state, State::Done);
    assert_eq!(sim.log().stacker, [20]);
    assert_eq!(sim.log().returned, 1, "the 50 went back");
    let heard = heard.0.lock().unwrap();
    assert!(heard.iter().any(|n| matches!(n, CashNews::Returned(_))), "{heard:?}");
    assert!(heard.contains(&CashNews::Credited(Fen(2000))), "{heard:?}");
}

#[tokio::test]
async fn a_rejected_note_is_never_credited_and_the_customer_is_told_to_smooth_it() {
    let kiosk = TestKiosk::start().await;
    let order = kiosk.order_for(Utility::Water, 1000).await;
    let sim = acceptor(&kiosk);
    sim.insert_suspect(0x71);
    sim.insert(10);
    let heard = Heard::default();
    let payment =
        kiosk.runtime().pay_cash(order, &Customer(Arc::clone(&sim)), &heard).await.unwrap().unwrap();
    assert_eq!(payment.state, State::Done);
    assert_eq!(sim.log().stacker, [10]);
    assert_eq!(credited(&kiosk, payment.id()).await, [1000]);
    let smooth = catalogue::Text::new("Please smooth the note flat and insert it again");
    assert!(heard.0.lock().unwrap().contains(&CashNews::Returned(smooth)));
}

#[tokio::test]
async fn a_customer_who_walks_away_gets_a_part_payment_with_a_slip() {
    let kiosk = TestKiosk::start().await;
    let account = prepaying_account(&kiosk, Utility::Power, 12_680);
    let order = kiosk.order(Utility::Power, &account).await;
    let payment = pay(&kiosk, order, &[50]).await.unwrap().expect("a part payment");
    assert_eq!(payment.state, State::Done);
    assert_eq!(payment.order.total(), Fen(5000));
    assert_eq!(written_off(&kiosk, Utility::Power, &payment.order.lines[0].biller_ref), [5000]);
    assert_eq!(kiosk.sims().billers.power.sim.bill(&account).unwrap().amount_due_fen, 7680);
    assert_printed(&kiosk, "a slip", &["已投入的现金已存入您的户号", "76.80"]);
}

#[tokio::test]
async fn cash_the_biller_refuses_is_held_for_the_counter_never_kept() {
    let kiosk = TestKiosk::start().await;
    // Exact only, and the customer leaves after one of two notes: the biller refuses a part
    // payment, so the 20 yuan are owed at the counter.
    let order = kiosk.order_for(Utility::Power, 4000).await;
    let payment = pay(&kiosk, order, &[20]).await.unwrap().expect("a payment");
    assert!(
        matches!(
            payment.state,
            State::Suspense { reason: kiosk_core::payment::SuspenseReason::CashOwed, next_check_at: None }
        ),
        "{:?}",
        payment.state
    );
    assert_eq!(payment.settlement().in_suspense, Fen(2000));
    assert_printed(&kiosk, "a slip", &["柜台"]);
    // Staff pay it out and say so: the payment balances.
    let resolved = kiosk
        .runtime()
        .resolve_parked(
            payment.id(),
            "S001",
            kiosk_core::StaffOutcome::Returned,
            "paid out at the counter",
            &Quiet,
        )
        .await
        .unwrap();
    assert!(resolved.state.is_terminal() && resolved.settlement().balances(), "{resolved:?}");
}

#[tokio::test]
async fn a_note_that_jams_is_held_for_staff_not_credited_and_cash_is_out_of_service() {
    let kiosk = TestKiosk::start().await;
    let order = kiosk.order_for(Utility::Water, 5000).await;
    let sim = acceptor(&kiosk);
    sim.jam_next_stack();
    let paid = pay(&kiosk, order, &[50]).await.unwrap();
    assert!(paid.is_none(), "nothing credited: {paid:?}");
    assert_eq!(sim.log().stacker, Vec::<u32>::new());
    let count = kiosk.runtime().cash_in_the_box().await.unwrap();
    assert_eq!((count.notes, count.uncertain), (0, 1), "{count:?}");
    assert!(matches!(kiosk.runtime().cash_available().await, Err(CashUnavailable::NeedsStaff(_))));
    let actions = kiosk.runtime().journal.staff_actions(10, 0).await.unwrap();
    assert!(actions.iter().any(|a| a.action == "cash-held-for-staff"), "{actions:?}");
}

#[tokio::test]
async fn a_bill_notes_cannot_pay_exactly_is_refused_before_the_first_note() {
    let kiosk = TestKiosk::start().await;
    let order = kiosk.order_for(Utility::Water, 3150).await;
    let reference = order.reference.to_string();
    let refused = pay(&kiosk, order, &[]).await;
    assert!(matches!(refused, Err(RuntimeError::Cash(CashUnavailable::NotExact { .. }))), "{refused:?}");
    assert!(kiosk.runtime().journal.cash_box().notes_of(&reference).await.unwrap().is_empty());
    assert!(kiosk.runtime().journal.cash_box().open_intakes().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_collection_slip_matches_the_simulated_box_and_a_removal_without_one_is_an_alarm() {
    let kiosk = TestKiosk::start().await;
    for (due, notes) in [(7000, vec![50, 20]), (3000, vec![10, 20])] {
        let order = kiosk.order_for(Utility::Power, due).await;
        pay(&kiosk, order, &notes).await.unwrap().unwrap();
    }
    let sim = acceptor(&kiosk);
    // The box pulled before any collection: an alarm for staff, and cash out of service.
    sim.remove_stacker();
    assert_eq!(kiosk.runtime().cash_available().await, Err(CashUnavailable::BoxOpen));
    let actions = kiosk.runtime().journal.staff_actions(10, 0).await.unwrap();
    assert!(actions.iter().any(|a| a.action == "cash-box-removed-without-collection"), "{actions:?}");
    sim.replace_stacker();

    let collected = kiosk.runtime().collect_cash("S001").await.unwrap();
    let in_box = sim.collect();
    let mut expected = std::collections::BTreeMap::new();
    for yuan in &in_box {
        *expected.entry(i64::from(*yuan) * 100).or_insert(0u32) += 1;
    }
    assert_eq!(collected.collection.count.by_value, expected);
    assert_eq!(collected.collection.count.sum_fen, 10_000);
    assert_eq!(collected.printed, "printed");
    assert_printed(&kiosk, "the collection slip", &["清机", "100.00", "S001"]);
    assert_eq!(kiosk.runtime().cash_in_the_box().await.unwrap().notes, 0);
}

/// The power-cut test: the kiosk dies right after its n-th journal commit of a cash payment (and
/// the acceptor loses power with it), for every n; the kiosk restarts and recovers. Each time
/// every note in the simulator's box is credited exactly once and written off exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cut_at_every_journal_step_credits_every_stacked_note_exactly_once() {
    let keys = support::repo_config_dir().join("sim-keys");
    let mut cuts_that_fell = 0;
    for n in 1.. {
        let data = tempfile::tempdir().unwrap();
        let backend = yizhan::backend::Backend::start_embedded(&keys, data.path(), 100, true).await.unwrap();
        let account = support::fresh_account(Utility::Power);
        let seed = serde_json::json!({ "account": account, "amount_due_fen": 9000, "prepayment": true });
        let sims = backend.sims.as_ref().unwrap();
        sims.billers.power.sim.put_account(serde_json::from_value(seed).unwrap());
        let sim = Arc::clone(backend.runtime.devices.sims.cash.as_ref().unwrap());
        let bill = backend.runtime.fetch_bill(Utility::Power, &account).await.unwrap();
        let order =
            Order::for_bill(backend.runtime.new_order_ref(), "SH-TEST-0001", yizhan::clock::now(), &bill)
                .unwrap();
        let reference = order.reference.to_string();
        for note in [50, 20, 20] {
            sim.insert(note);
        }
        backend.runtime.arm_power_cut(Cut::AfterCommit(n));
        let outcome = backend.runtime.pay_cash(order, &Customer(Arc::clone(&sim)), &Quiet).await;
        let cut = matches!(outcome, Err(RuntimeError::PowerCut));
        let backend = if cut {
            cuts_that_fell += 1;
            sim.power_cut();
            let backend = backend.restart().await.unwrap();
            backend.runtime.recover(&Quiet).await.unwrap();
            backend
        } else {
            outcome.unwrap();
            backend
        };
        let runtime = &backend.runtime;
        let stacked: Vec<i64> = sim.log().stacker.iter().map(|&y| i64::from(y) * 100).collect();
        let notes = runtime.journal.cash_box().notes_of(&reference).await.unwrap();
        let mut credited: Vec<i64> = notes
            .iter()
            .filter(|n| n.state == journal::NoteCustody::Credited)
            .filter_map(|n| n.value_fen)
            .collect();
        credited.sort();
        let mut in_box = stacked.clone();
        in_box.sort();
        assert_eq!(credited, in_box, "cut after commit {n}: the box and the journal disagree");
        assert!(
            runtime.journal.cash_box().open_intakes().await.unwrap().is_empty(),
            "cut {n}: an intake left open"
        );
        let sum: i64 = stacked.iter().sum();
        let ledger = backend.sims.as_ref().unwrap().billers.power.sim.ledger();
        let booked: Vec<i64> = ledger
            .write_offs
            .iter()
            .filter(|e| e.reference.starts_with(&reference))
            .map(|e| e.amount_fen)
            .collect();
        if sum == 0 {
            assert!(booked.is_empty(), "cut {n}: written off without cash");
        } else {
            assert_eq!(booked, [sum], "cut {n}: the credited cash is written off exactly once");
            let payment = runtime.load(&reference).await.unwrap();
            assert!(payment.state.is_terminal() && payment.settlement().balances(), "cut {n}: {payment:?}");
        }
        let report = runtime.journal.verify_chain().await.unwrap();
        assert!(report.first_broken.is_none(), "cut {n}: {report:?}");
        if !cut {
            break;
        }
    }
    assert!(cuts_that_fell >= 8, "the cut fell at {cuts_that_fell} commits only");
}

/// The order of a household's joint bill of water, power and gas (fen each, exact only).
async fn joint_order(kiosk: &TestKiosk, water: i64, power: i64, gas: i64) -> Order {
    let joint = kiosk.household(water, power, gas);
    let bill = kiosk.runtime().fetch_joint_bill(&joint).await.unwrap();
    let kiosk_id = "SH-TEST-0001";
    Order::for_joint_bill(kiosk.runtime().new_order_ref(), kiosk_id, yizhan::clock::now(), &bill).unwrap()
}

/// A joint bill (water, power, gas) paid in notes: each line written off at its own biller,
/// exactly, and the box holds the notes.
#[tokio::test]
async fn a_joint_bill_is_paid_in_notes_each_line_at_its_own_biller() {
    let kiosk = TestKiosk::start().await;
    let order = joint_order(&kiosk, 3000, 2000, 5000).await;
    let payment = pay(&kiosk, order, &[50, 20, 20, 10]).await.unwrap().expect("a payment");
    assert_eq!(payment.state, State::Done);
    assert_eq!(payment.order.lines.len(), 3);
    for line in &payment.order.lines {
        assert_eq!(written_off(&kiosk, line.utility, &line.biller_ref), [line.amount.0], "{line:?}");
    }
    assert_eq!(acceptor(&kiosk).log().stacker, [50, 20, 20, 10]);
    assert_eq!(credited(&kiosk, payment.id()).await, fen(&[50, 20, 20, 10]));
    kiosk.verify_chain().await;
}

/// A joint bill whose customer leaves after part of it: whole lines are paid first; the rest,
/// which no biller of the household takes in part, is owed at the counter (never kept).
#[tokio::test]
async fn a_joint_bill_left_half_paid_pays_whole_lines_and_owes_the_rest_at_the_counter() {
    let kiosk = TestKiosk::start().await;
    let order = joint_order(&kiosk, 3000, 4000, 5000).await;
    let payment = pay(&kiosk, order, &[50]).await.unwrap().expect("a payment");
    let written: i64 =
        payment.order.lines.iter().flat_map(|l| written_off(&kiosk, l.utility, &l.biller_ref)).sum();
    assert_eq!(written, 3000, "only the whole water line: {:?}", payment.order.lines);
    let said = payment.settlement();
    assert_eq!(said.delivered, Fen(3000), "{:?}", payment.state);
    assert_eq!(said.in_suspense + said.returned, Fen(2000), "the rest owed: {:?}", payment.state);
    assert_printed(&kiosk, "a slip", &["柜台"]);
}

/// A gas top-up paid in notes: the purchase is written to the card and confirmed, once.
#[tokio::test]
async fn a_gas_top_up_is_paid_in_notes_and_written_to_the_card() {
    let kiosk = TestKiosk::start().await;
    assert!(yizhan::commands::customer::insert_demo_gas_card(&kiosk.backend));
    let order = kiosk.runtime().gas_top_up_order(Fen(5000)).await.unwrap();
    let payment = pay(&kiosk, order, &[20, 20, 10]).await.unwrap().expect("a payment");
    assert_eq!(payment.state, State::Done);
    let ledger = kiosk.sims().billers.gas.sim.ledger();
    let purchase = ledger.purchase(&payment.order.lines[0].biller_ref).expect("a purchase");
    assert_eq!(purchase.amount_fen, 5000);
    assert!(purchase.card_written, "the card write was confirmed to the gas company");
    assert_eq!(acceptor(&kiosk).log().stacker, [20, 20, 10]);
}

/// A note the last customer left in escrow (its RETURN never arrived) goes back before the
/// next customer's first note: never credited to them.
#[tokio::test]
async fn a_note_left_in_escrow_goes_back_and_is_never_the_next_customers() {
    let kiosk = TestKiosk::start().await;
    let sim = acceptor(&kiosk);
    // The head powered up and reset by a first customer's payment, then a note left in it.
    let order = kiosk.order_for(Utility::Water, 1000).await;
    pay(&kiosk, order, &[10]).await.unwrap().expect("a first payment");
    let order = kiosk.order_for(Utility::Water, 2000).await;
    let reference = order.reference.to_string();
    // Enabled by hand as a lost RETURN would leave it: the note reaches escrow with no intake.
    let mut driver = kiosk.runtime().devices.cash.as_ref().unwrap().driver.lock().await;
    driver.carry_out(kiosk_core::cash::CashEffect::TakeNotes(kiosk_core::cash::Limit::Any)).await.unwrap();
    sim.insert(20);
    for _ in 0..50 {
        if driver.status().await.is_ok_and(|s| matches!(s, cash::Status::Escrow(_))) {
            break;
        }
    }
    drop(driver);
    let refused = kiosk.runtime().pay_cash(order, &Customer(Arc::clone(&sim)), &Quiet).await;
    assert!(matches!(refused, Err(RuntimeError::Cash(CashUnavailable::NoteInHand))), "{refused:?}");
    assert!(kiosk.runtime().journal.cash_box().notes_of(&reference).await.unwrap().is_empty());
    // The head gives it back; the stacker holds only the first customer's note.
    for _ in 0..50 {
        if sim.settled() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let _ = kiosk.runtime().cash_available().await;
    }
    assert_eq!(sim.log().stacker, [10]);
    assert!(sim.log().returned >= 1, "{:?}", sim.log());
}

/// A note that jams in the reader before its value is read: on record as held for staff, on
/// the customer's slip, and counted as uncertain at the collection.
#[tokio::test]
async fn a_note_jammed_in_the_reader_is_held_for_staff_with_a_slip() {
    let kiosk = TestKiosk::start().await;
    let order = kiosk.order_for(Utility::Water, 5000).await;
    let reference = order.reference.to_string();
    let sim = acceptor(&kiosk);
    sim.jam_next_read();
    let paid = pay(&kiosk, order, &[50]).await.unwrap();
    assert!(paid.is_none(), "nothing credited: {paid:?}");
    let notes = kiosk.runtime().journal.cash_box().notes_of(&reference).await.unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!((notes[0].state, notes[0].value_fen), (journal::NoteCustody::Stuck, None));
    assert_printed(&kiosk, "a slip", &[reference.as_str(), "面额未知"]);
    let count = kiosk.runtime().cash_in_the_box().await.unwrap();
    assert_eq!((count.notes, count.uncertain), (0, 1), "{count:?}");
}
