//! The real terminal client against the simulated terminal over a pty: purchases, declines,
//! payments.md F15 (0200 sent, no 0210), armed reversals, voids, refunds and link faults. Every
//! money test ends by reading the simulator's ledger: the customer is charged at most once.

use bankcard::sim::{Customer, TerminalFault, TerminalSim};
use bankcard::{LinkTiming, PaymentTerminal, RespCode, TerminalSettings, TxnStore};
use device::reconnect::BackoffPolicy;
use device::serial::{SerialConfig, SerialConnector};
use device::{Fault, FaultPlan};
use kiosk_core::{FailKind, Fen, OrderRef, PayReply, QueryReply, RefundReply, ReverseReply};
use std::path::Path;
use std::time::Duration;

fn order(n: u32) -> OrderRef {
    OrderRef::new(format!("YZK12611230{n:05}")).unwrap()
}

fn settings() -> TerminalSettings {
    TerminalSettings {
        transaction_timeout: Duration::from_millis(800),
        query_timeout: Duration::from_millis(800),
        link: LinkTiming {
            ack_timeout: Duration::from_millis(150),
            max_sends: 3,
            max_naks: 3,
            inter_byte: Duration::from_millis(50),
        },
        ..TerminalSettings::default()
    }
}

fn terminal(path: &Path, data: &Path) -> PaymentTerminal {
    let mut cfg = SerialConfig::new(path);
    cfg.baud = 9600;
    let backoff = BackoffPolicy::new(Duration::from_millis(10), Duration::from_millis(50));
    PaymentTerminal::new(SerialConnector::new(cfg), backoff, settings(), TxnStore::open(data).unwrap())
}

struct Rig {
    sim: TerminalSim,
    pos: PaymentTerminal,
    dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let sim = TerminalSim::start_linked(dir.path().join("pos-link")).unwrap();
    let pos = terminal(sim.path(), &dir.path().join("data"));
    Rig { sim, pos, dir }
}

#[tokio::test]
async fn an_approved_purchase_is_paid_once_and_disarmed() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    let o = order(1);
    let PayReply::Paid { channel_txn } = pos.pay(&o, Fen(7950)).await else { panic!("paid") };
    assert_eq!(channel_txn.len(), 12, "the 12-digit reference no.");
    assert_eq!(pos.armed_reversal(), None);
    let receipt = pos.receipt(&o).unwrap();
    assert_eq!(receipt.pan.as_ref().unwrap().as_receipt_text(), "622202******0018");
    let e = sim.entry(o.as_str());
    assert_eq!((e.charges, e.approved, e.net()), (1, Fen(7950), Fen(7950)));
    // Paying the same order again never charges again.
    assert!(matches!(pos.pay(&o, Fen(7950)).await, PayReply::Paid { .. }));
    assert_eq!(sim.entry(o.as_str()).charges, 1);
}

#[tokio::test]
async fn declines_wrong_pin_and_cancel_are_definite_failures_without_money() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    sim.push_customer(Customer::Decline(RespCode::INSUFFICIENT_FUNDS));
    sim.push_customer(Customer::WrongPin);
    sim.push_customer(Customer::Cancel);
    for (n, code) in [(1, "51"), (2, "55"), (3, "CC")] {
        match pos.pay(&order(n), Fen(100)).await {
            PayReply::Failed { kind: FailKind::Customer, code: c, .. } => assert_eq!(c, code),
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(pos.armed_reversal(), None, "a definite answer disarms");
    }
    assert!(sim.ledger().values().all(|e| e.charges == 0));
    assert!(sim.reversals_seen().is_empty());
}

#[tokio::test]
async fn f15_response_dropped_then_query_last_says_paid_without_a_second_charge() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    let o = order(2);
    sim.push_fault(TerminalFault::DropResponse);
    let reply = pos.pay(&o, Fen(7950)).await;
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
    assert_eq!(pos.armed_reversal().map(|a| a.order), Some(o.clone()), "armed before sending");

    let QueryReply::Paid { .. } = pos.query(&o).await else { panic!("last result: approved") };
    assert_eq!(pos.armed_reversal(), None, "a definite approval disarms");

    // The next transaction sends no reversal: the sale stands.
    assert!(matches!(pos.pay(&order(3), Fen(100)).await, PayReply::Paid { .. }));
    assert!(sim.reversals_seen().is_empty());
    let e = sim.entry(o.as_str());
    assert_eq!((e.charges, e.net()), (1, Fen(7950)), "charged exactly once");
}

#[tokio::test]
async fn f15_request_never_reached_the_terminal_is_not_found_then_reversed_before_the_next_sale() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    let o = order(4);
    sim.push_fault(TerminalFault::LoseRequest);
    assert!(matches!(pos.pay(&o, Fen(7950)).await, PayReply::Unknown { .. }));
    assert_eq!(pos.query(&o).await, QueryReply::NotFound);
    assert_eq!(pos.armed_reversal().map(|a| a.order), Some(o.clone()), "stays armed until answered");

    let next = order(5);
    assert!(matches!(pos.pay(&next, Fen(2000)).await, PayReply::Paid { .. }));
    assert_eq!(sim.reversals_seen(), vec![o.as_str().to_string()], "reversal went first");
    use bankcard::TransType::{QueryLast, Reversal, Sale};
    assert_eq!(sim.requests(), vec![QueryLast, Reversal, Sale]);
    assert_eq!(pos.armed_reversal(), None);
    assert_eq!(sim.entry(o.as_str()).charges, 0, "never charged");
    assert_eq!(sim.entry(next.as_str()).charges, 1);
}

#[tokio::test]
async fn an_unknown_sale_that_was_approved_is_reversed_before_the_next_sale() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    let o = order(6);
    sim.push_fault(TerminalFault::DropResponse);
    assert!(matches!(pos.pay(&o, Fen(7950)).await, PayReply::Unknown { .. }));
    // The kiosk never asked (its journal gave up on the order): the armed reversal goes first.
    assert!(matches!(pos.pay(&order(7), Fen(100)).await, PayReply::Paid { .. }));
    let e = sim.entry(o.as_str());
    assert_eq!((e.charges, e.reversed, e.net()), (1, Fen(7950), Fen::ZERO));
}

#[tokio::test]
async fn power_cut_mid_transaction_then_restart_asks_for_the_last_result_first() {
    let Rig { mut sim, mut pos, dir } = rig();
    let o = order(8);
    sim.push_fault(TerminalFault::PowerCut { commit: true });
    assert!(matches!(pos.pay(&o, Fen(4200)).await, PayReply::Unknown { .. }));
    assert!(!sim.is_powered());
    drop(pos); // the kiosk process dies too

    sim.power_on().unwrap();
    let mut pos = terminal(sim.path(), &dir.path().join("data"));
    assert_eq!(pos.armed_reversal().map(|a| a.order), Some(o.clone()), "the file survived the restart");
    let reply = pos.query(&o).await;
    assert!(matches!(reply, QueryReply::Paid { .. }), "{reply:?}");
    assert_eq!(pos.armed_reversal(), None);
    assert_eq!(sim.entry(o.as_str()).charges, 1);
}

#[tokio::test]
async fn power_cut_before_the_bank_answered_is_not_found() {
    let Rig { mut sim, mut pos, dir: _dir } = rig();
    let o = order(9);
    sim.push_fault(TerminalFault::PowerCut { commit: false });
    assert!(matches!(pos.pay(&o, Fen(4200)).await, PayReply::Unknown { .. }));
    sim.power_on().unwrap();
    let mut reply = pos.query(&o).await;
    for _ in 0..20 {
        if !matches!(reply, QueryReply::Unknown { .. }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // reconnect backoff
        reply = pos.query(&o).await;
    }
    assert_eq!(reply, QueryReply::NotFound);
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(false) });
    assert_eq!(pos.armed_reversal(), None);
    assert_eq!(sim.entry(o.as_str()), Default::default());
}

#[tokio::test]
async fn in_progress_for_n_polls_is_waiting_then_paid() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    let o = order(10);
    sim.push_fault(TerminalFault::InProgress { polls: 2 });
    assert!(matches!(pos.pay(&o, Fen(300)).await, PayReply::Unknown { .. }));
    assert_eq!(pos.query(&o).await, QueryReply::Waiting);
    assert_eq!(pos.query(&o).await, QueryReply::Waiting);
    assert!(matches!(pos.query(&o).await, QueryReply::Paid { .. }));
    assert_eq!(sim.entry(o.as_str()).charges, 1);
}

#[tokio::test]
async fn void_after_approval_gives_the_money_back() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    let o = order(11);
    assert!(matches!(pos.pay(&o, Fen(7950)).await, PayReply::Paid { .. }));
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(true) });
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(true) }, "idempotent");
    let e = sim.entry(o.as_str());
    assert_eq!((e.charges, e.voided, e.net()), (1, Fen(7950), Fen::ZERO));
    assert!(matches!(pos.query(&o).await, QueryReply::PaidThenRefunded { .. }));
    use bankcard::TransType::{QueryLast, Sale, Void};
    assert_eq!(sim.requests(), vec![Sale, Void, QueryLast]);
}

#[tokio::test]
async fn a_refund_with_a_lost_answer_is_resolved_and_never_doubled() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    let o = order(12);
    assert!(matches!(pos.pay(&o, Fen(7950)).await, PayReply::Paid { .. }));
    let refund_no = o.line_refund_no(0);
    sim.push_fault(TerminalFault::DropResponse);
    assert!(matches!(pos.refund(&o, &refund_no, Fen(3000)).await, RefundReply::Unknown { .. }));
    assert_eq!(pos.refund(&o, &refund_no, Fen(3000)).await, RefundReply::Refunded);
    assert_eq!(pos.refund(&o, &refund_no, Fen(3000)).await, RefundReply::Refunded);
    let e = sim.entry(o.as_str());
    assert_eq!((e.refunded, e.net()), (Fen(3000), Fen(4950)));
    assert!(matches!(pos.refund(&o, "YZKTOOMUCHR9", Fen(5000)).await, RefundReply::Refused { .. }));
}

#[tokio::test]
async fn a_bad_lrc_is_nakd_and_the_retransmission_is_taken() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    sim.set_fault_plan(FaultPlan::named("bad-lrc-once").then(Fault::CorruptChecksum));
    assert!(matches!(pos.pay(&order(13), Fen(100)).await, PayReply::Paid { .. }));
    assert_eq!(pos.stats().naks_sent, 1);
    assert_eq!(sim.entry(order(13).as_str()).charges, 1);
}

#[tokio::test]
async fn a_bad_lrc_on_every_send_is_unknown_and_query_resolves_it() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    sim.set_fault_plan(FaultPlan::named("bad-lrc").with_odds(Fault::CorruptChecksum, 1000));
    let o = order(14);
    assert!(matches!(pos.pay(&o, Fen(100)).await, PayReply::Unknown { .. }));
    sim.set_fault_plan(FaultPlan::none());
    assert!(matches!(pos.query(&o).await, QueryReply::Paid { .. }));
    assert_eq!(sim.entry(o.as_str()).charges, 1);
}

#[tokio::test]
async fn a_nak_makes_us_resend_and_naks_exhausted_are_unknown() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    sim.push_fault(TerminalFault::Nak { times: 1 });
    assert!(matches!(pos.pay(&order(15), Fen(100)).await, PayReply::Paid { .. }));
    assert_eq!(pos.stats().retransmits, 1);

    sim.push_fault(TerminalFault::Nak { times: 3 });
    let o = order(16);
    assert!(matches!(pos.pay(&o, Fen(100)).await, PayReply::Unknown { .. }));
    assert_eq!(pos.query(&o).await, QueryReply::NotFound);
    assert_eq!(sim.entry(o.as_str()).charges, 0);
}

#[tokio::test]
async fn silence_is_unknown_and_blocks_the_next_sale_until_the_reversal_is_answered() {
    let Rig { sim, mut pos, dir: _dir } = rig();
    let o = order(17);
    sim.set_silent(true);
    assert!(matches!(pos.pay(&o, Fen(100)).await, PayReply::Unknown { .. }));
    assert!(matches!(pos.query(&o).await, QueryReply::Unknown { .. }));
    // The reversal cannot be sent: the next sale is refused before anything leaves the kiosk.
    let reply = pos.pay(&order(18), Fen(100)).await;
    assert!(
        matches!(&reply, PayReply::Failed { kind: FailKind::Config, code, .. } if code == "REVERSAL_PENDING"),
        "{reply:?}"
    );
    sim.set_silent(false);
    assert!(matches!(pos.pay(&order(18), Fen(100)).await, PayReply::Paid { .. }));
    assert_eq!(sim.reversals_seen(), vec![o.as_str().to_string()]);
    assert_eq!(sim.entry(o.as_str()).charges, 0);
}
