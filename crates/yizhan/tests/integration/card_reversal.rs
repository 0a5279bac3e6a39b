//! The bank card terminal's armed reversal lives in the journal, bound to its order (issue 9,
//! item 16): a sale whose answer is lost is reversed only through its own payment — its
//! reversal journaled as that payment's transitions — never inside the next customer's call.
//! Like a POS terminal (payments.md §3.2, F15), that reversal goes out before the next card
//! sale: the parked payment is checked first; while the terminal still cannot answer it, the
//! next customer is refused before anything is charged. The real runtime, journal and driver
//! against the terminal simulator on a pty.

use crate::support;

use bankcard::sim::{TerminalFault, TerminalSim};
use journal::CardReversalState;
use kiosk_core::{Event, FailKind, Fen, Payment, StaffOutcome, State, Utility};
use std::time::Duration;
use support::*;
use yizhan::commands::customer::bank_card_customer;
use yizhan::runtime::{PayMethod, Quiet};

pub(crate) fn terminal_sim(kiosk: &TestKiosk) -> &TerminalSim {
    kiosk.runtime().devices.sims.bankcard.as_ref().expect("a simulated terminal")
}

/// Pays `fen` of a fresh water bill with a bank card; while the payment runs, `during` sees the
/// order number.
pub(crate) async fn pay_by_card(kiosk: &TestKiosk, fen: i64, during: impl AsyncFnOnce(&str)) -> Payment {
    let order = kiosk.order_for(Utility::Water, fen).await;
    let id = order.reference.as_str().to_string();
    bank_card_customer(&kiosk.backend, true);
    let (paid, ()) =
        tokio::join!(kiosk.runtime().pay_order_with(order, PayMethod::BankCard, &Quiet), during(&id));
    paid.unwrap()
}

/// A's sale is approved at the terminal but its answer is lost, and the link then garbles every
/// frame: the last-result query and every reverse of A stay unknown, so A is parked in SUSPENSE
/// with its reversal armed in the journal.
pub(crate) async fn a_sale_left_in_doubt(kiosk: &TestKiosk, fen: i64) -> Payment {
    let sim = terminal_sim(kiosk);
    sim.push_fault(TerminalFault::DropResponse);
    let a = pay_by_card(kiosk, fen, async |id: &str| {
        // The bank approved (the simulator's ledger shows the charge); the answer never comes.
        while sim.entry(id).charges == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sim.set_nak_all(true);
    })
    .await;
    sim.set_nak_all(false);
    assert!(matches!(a.state, State::Suspense { .. }), "{:?}", a.state);
    a
}

/// A new kiosk whose first card sale is left in doubt (`a_sale_left_in_doubt`), and that sale.
async fn kiosk_with_a_sale_in_doubt(fen: i64) -> (TestKiosk, Payment) {
    let kiosk = TestKiosk::start().await;
    let a = a_sale_left_in_doubt(&kiosk, fen).await;
    (kiosk, a)
}

/// The next bank card customer pays `fen` of a fresh water bill.
pub(crate) async fn next_card_customer(kiosk: &TestKiosk, fen: i64) -> Payment {
    pay_by_card(kiosk, fen, async |_: &str| {}).await
}

fn journal_files(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found
}

/// A's steps in the journal, as (from, to).
async fn steps(kiosk: &TestKiosk, id: &str) -> Vec<(String, String)> {
    let transitions = kiosk.runtime().journal.transitions(id).await.unwrap();
    transitions.into_iter().map(|t| (t.from_state, t.to_state)).collect()
}

#[tokio::test]
async fn a_lost_card_sale_is_reversed_as_its_own_transitions_before_the_next_customer_pays() {
    let (kiosk, a) = kiosk_with_a_sale_in_doubt(4_680).await;
    let sim = terminal_sim(&kiosk);
    let a_id = a.id().to_string();
    assert_eq!(sim.entry(&a_id).net(), Fen(4_680), "charged, and nothing sent back yet");

    // The armed reversal is a journal row bound to A, not a file of the driver.
    let card = kiosk.runtime().journal.card_terminal();
    let armed = card.armed().await.unwrap();
    assert_eq!(armed.len(), 1, "{armed:?}");
    assert_eq!((armed[0].payment_id.as_str(), armed[0].amount_fen), (a_id.as_str(), 4_680));
    let files = journal_files(kiosk.dir.path());
    assert!(files.iter().all(|f| !f.ends_with(".json")), "no JSON memory files: {files:?}");
    assert!(!kiosk.dir.path().join("bankcard").exists(), "{files:?}");

    // The next customer comes long before A's scheduled check: A's reversal goes out first, as
    // A's own check, and then B pays.
    let b = next_card_customer(&kiosk, 1_200).await;
    assert_eq!(b.state, State::Done);
    assert_eq!(sim.reversals_seen(), vec![a_id.clone()], "A's reversal, once");
    let e = sim.entry(&a_id);
    assert_eq!((e.charges, e.reversed, e.net()), (1, Fen(4_680), Fen::ZERO), "charged once, given back");
    assert_eq!(sim.entry(b.id()).charges, 1);
    let settled = kiosk.runtime().load(&a_id).await.unwrap();
    assert_eq!(settled.state, State::Reversed { refunded: Some(true) });

    // Journaled as A's transitions: parked, then reversing, then reversed by the reply, all
    // before B's sale was sent.
    let a_steps = steps(&kiosk, &a_id).await;
    let resumed = a_steps.iter().rposition(|(f, t)| (f.as_str(), t.as_str()) == ("SUSPENSE", "REVERSING"));
    assert!(resumed.is_some(), "checked from SUSPENSE: {a_steps:?}");
    let last = kiosk.runtime().journal.transitions(&a_id).await.unwrap().pop().unwrap();
    assert_eq!((last.from_state.as_str(), last.to_state.as_str()), ("REVERSING", "REVERSED"));
    assert!(last.event.starts_with("reverse"), "{last:?}");
    let b_sent = kiosk.runtime().journal.transitions(b.id()).await.unwrap();
    let b_sent = b_sent.iter().find(|t| t.to_state == "PAY_SENT").expect("B's sale was sent");
    assert!(last.seq < b_sent.seq, "A reversed ({}) before B's sale ({})", last.seq, b_sent.seq);
    let record = card.reversal(&a_id).await.unwrap().unwrap();
    assert_eq!(record.state, CardReversalState::Answered, "{record:?}");
    assert_eq!(card.reversal(b.id()).await.unwrap().map(|r| r.state), Some(CardReversalState::Answered));
    assert!(card.purchase(b.id()).await.unwrap().is_some(), "the approval is recorded in the journal");
    assert!(card.armed().await.unwrap().is_empty());
    kiosk.verify_chain().await;
}

#[tokio::test]
async fn while_the_terminal_cannot_answer_a_reversal_the_next_card_customer_is_refused_uncharged() {
    let (kiosk, a) = kiosk_with_a_sale_in_doubt(4_680).await;
    let sim = terminal_sim(&kiosk);
    let a_id = a.id().to_string();
    let parked_steps = steps(&kiosk, &a_id).await.len();

    // The link still garbles every frame: A's reversal is tried first (A's own check, parked
    // again), and B is refused before anything is sent for them.
    sim.set_nak_all(true);
    let b = next_card_customer(&kiosk, 1_200).await;
    sim.set_nak_all(false);
    let State::PayFailed { kind, code, .. } = &b.state else { panic!("{:?}", b.state) };
    assert_eq!((*kind, code.as_str()), (FailKind::Config, "REVERSAL_PENDING"));
    assert_eq!(sim.entry(b.id()), Default::default(), "B never reached the terminal");
    let a_steps = steps(&kiosk, &a_id).await;
    let tried: Vec<(&str, &str)> =
        a_steps[parked_steps..].iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    assert_eq!(tried.first(), Some(&("SUSPENSE", "REVERSING")), "A checked before B: {tried:?}");
    assert_eq!(tried.last(), Some(&("REVERSING", "SUSPENSE")), "and parked again: {tried:?}");
    assert_eq!(sim.entry(&a_id).net(), Fen(4_680), "nothing reached the terminal");

    // The background settler checks A when its SUSPENSE check comes due: A's own reverse.
    let settled = kiosk.settle_until(&a_id, |p| !matches!(p.state, State::Suspense { .. })).await;
    assert_eq!(settled.state, State::Reversed { refunded: Some(true) });
    assert_eq!(sim.reversals_seen(), vec![a_id.clone()]);
    assert!(kiosk.runtime().journal.card_terminal().armed().await.unwrap().is_empty());

    // And the next customer pays.
    let c = next_card_customer(&kiosk, 1_200).await;
    assert_eq!(c.state, State::Done);
    assert_eq!(sim.entry(c.id()).charges, 1);
    kiosk.verify_chain().await;
}

#[tokio::test]
async fn an_armed_reversal_of_a_payment_staff_settled_is_closed_not_sent() {
    let (kiosk, a) = kiosk_with_a_sale_in_doubt(2_300).await;
    let a_id = a.id().to_string();
    // Staff find the charge on the statement and see the bill credited by hand: delivered.
    let event = Event::StaffResolved {
        staff_id: "S001".into(),
        outcome: StaffOutcome::Delivered,
        reason: "statement shows the charge; credited at the counter".into(),
    };
    let resolved = kiosk.runtime().settle_externally(a, event, &Quiet).await.unwrap();
    assert_eq!(resolved.state, State::Done);
    // Credited by hand at the counter: asking the biller again (the recon desk's action) never
    // sends our write-off for it, which would credit the bill twice (and R7: A was reversing).
    let reference = resolved.order.lines[0].biller_ref.clone();
    let again = kiosk.runtime().write_off_again(&a_id, &reference, "S002").await;
    assert!(
        matches!(&again, Err(yizhan::runtime::RuntimeError::NoWriteOffToAskAbout(why)) if why.contains("by hand")),
        "{again:?}"
    );

    // The next bank card customer: the runtime closes A's record against A, sends nothing for
    // it, and the sale goes through.
    let b = next_card_customer(&kiosk, 900).await;
    assert_eq!(b.state, State::Done);
    let sim = terminal_sim(&kiosk);
    assert!(sim.reversals_seen().is_empty(), "a delivered payment's money is never clawed back");
    assert_eq!(sim.entry(&a_id).net(), Fen(2_300));
    let record = kiosk.runtime().journal.card_terminal().reversal(&a_id).await.unwrap().unwrap();
    assert_eq!(record.state, CardReversalState::Settled);
    assert!(record.detail.contains("DONE"), "{record:?}");
}
