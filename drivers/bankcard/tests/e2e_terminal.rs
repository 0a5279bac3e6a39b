//! The real terminal client against the simulated terminal over a pty: purchases, declines,
//! payments.md F15 (0200 sent, no 0210), armed reversals bound to their order, voids, refunds,
//! link faults and a failing memory. Every money test ends by reading the simulator's ledger:
//! the customer is charged at most once.

use bankcard::sim::{Customer, TerminalFault, TerminalSim};
use bankcard::{
    InProcessMemory, LinkTiming, PaymentTerminal, RespCode, ReversalState, TerminalMemory, TerminalSettings,
};
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

type Terminal = PaymentTerminal<InProcessMemory>;

fn terminal(path: &Path, memory: InProcessMemory) -> Terminal {
    let mut cfg = SerialConfig::new(path);
    cfg.baud = 9600;
    let backoff = BackoffPolicy::new(Duration::from_millis(10), Duration::from_millis(50));
    PaymentTerminal::new(SerialConnector::new(cfg), backoff, settings(), memory)
}

struct Rig {
    sim: TerminalSim,
    pos: Terminal,
    /// The same records the terminal keeps (clones share them): what survives a restart.
    memory: InProcessMemory,
    _dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let sim = TerminalSim::start_linked(dir.path().join("pos-link")).unwrap();
    let memory = InProcessMemory::new();
    let pos = terminal(sim.path(), memory.clone());
    Rig { sim, pos, memory, _dir: dir }
}

/// A sale whose answer never arrives (`fault`): the terminal cannot say, so the reply is unknown.
async fn pay_in_doubt(
    sim: &TerminalSim,
    pos: &mut Terminal,
    o: &OrderRef,
    amount: Fen,
    fault: TerminalFault,
) {
    sim.push_fault(fault);
    let reply = pos.pay(o, amount).await;
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
}

async fn armed(pos: &Terminal) -> Option<OrderRef> {
    pos.armed_reversal().await.unwrap().map(|a| a.order)
}

fn reversal_pending(reply: &PayReply) -> bool {
    matches!(reply, PayReply::Failed { kind: FailKind::Config, code, .. } if code == "REVERSAL_PENDING")
}

#[tokio::test]
async fn an_approved_purchase_is_paid_once_and_disarmed() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let o = order(1);
    let PayReply::Paid { channel_txn } = pos.pay(&o, Fen(7950)).await else { panic!("paid") };
    assert_eq!(channel_txn.len(), 12, "the 12-digit reference no.");
    assert_eq!(armed(&pos).await, None);
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
    let Rig { sim, mut pos, _dir, .. } = rig();
    sim.push_customer(Customer::Decline(RespCode::INSUFFICIENT_FUNDS));
    sim.push_customer(Customer::WrongPin);
    sim.push_customer(Customer::Cancel);
    for (n, code) in [(1, "51"), (2, "55"), (3, "CC")] {
        match pos.pay(&order(n), Fen(100)).await {
            PayReply::Failed { kind: FailKind::Customer, code: c, .. } => assert_eq!(c, code),
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(armed(&pos).await, None, "a definite answer disarms");
    }
    assert!(sim.ledger().values().all(|e| e.charges == 0));
    assert!(sim.reversals_seen().is_empty());
}

#[tokio::test]
async fn f15_response_dropped_then_query_last_says_paid_without_a_second_charge() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let o = order(2);
    sim.push_fault(TerminalFault::DropResponse);
    let reply = pos.pay(&o, Fen(7950)).await;
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
    assert_eq!(armed(&pos).await, Some(o.clone()), "armed before sending");

    let QueryReply::Paid { .. } = pos.query(&o, Fen(7950)).await else { panic!("last result: approved") };
    assert_eq!(armed(&pos).await, None, "a definite approval disarms");

    // The next transaction sends no reversal: the sale stands.
    assert!(matches!(pos.pay(&order(3), Fen(100)).await, PayReply::Paid { .. }));
    assert!(sim.reversals_seen().is_empty());
    let e = sim.entry(o.as_str());
    assert_eq!((e.charges, e.net()), (1, Fen(7950)), "charged exactly once");
}

#[tokio::test]
async fn f15_request_never_reached_the_terminal_blocks_the_next_sale_until_its_own_reverse() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let o = order(4);
    pay_in_doubt(&sim, &mut pos, &o, Fen(7950), TerminalFault::LoseRequest).await;
    assert_eq!(pos.query(&o, Fen(7950)).await, QueryReply::NotFound);
    assert_eq!(armed(&pos).await, Some(o.clone()), "stays armed until answered");

    // Another order's sale never carries this order's reversal: it is refused before anything
    // is sent, so that customer is truly not charged.
    let next = order(5);
    let reply = pos.pay(&next, Fen(2000)).await;
    assert!(reversal_pending(&reply), "{reply:?}");
    use bankcard::TransType::{QueryLast, Reversal, Sale};
    assert_eq!(sim.requests(), vec![QueryLast], "no reversal and no sale went out");
    assert!(sim.reversals_seen().is_empty());
    assert_eq!(armed(&pos).await, Some(o.clone()));

    // The order's own payment machine reverses it (journaled against that order) ...
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(false) });
    assert_eq!(sim.reversals_seen(), vec![o.as_str().to_string()]);
    assert_eq!(armed(&pos).await, None);
    // ... and then the next customer pays.
    assert!(matches!(pos.pay(&next, Fen(2000)).await, PayReply::Paid { .. }));
    assert_eq!(sim.requests(), vec![QueryLast, Reversal, Sale]);
    assert_eq!(sim.entry(o.as_str()).charges, 0, "never charged");
    assert_eq!(sim.entry(next.as_str()).charges, 1);
}

#[tokio::test]
async fn an_unknown_sale_that_was_approved_is_reversed_only_by_its_own_reverse() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let o = order(6);
    pay_in_doubt(&sim, &mut pos, &o, Fen(7950), TerminalFault::DropResponse).await;
    assert!(reversal_pending(&pos.pay(&order(7), Fen(100)).await));
    assert_eq!(sim.entry(order(7).as_str()), Default::default(), "the next customer was not charged");
    assert_eq!(sim.entry(o.as_str()).net(), Fen(7950), "nothing reversed behind the order's back");

    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(true) });
    let e = sim.entry(o.as_str());
    assert_eq!((e.charges, e.reversed, e.net()), (1, Fen(7950), Fen::ZERO));
    assert!(matches!(pos.pay(&order(7), Fen(100)).await, PayReply::Paid { .. }));
}

#[tokio::test]
async fn voids_and_refunds_of_other_orders_never_send_an_armed_reversal() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let (voided, refunded, in_doubt) = (order(30), order(31), order(32));
    assert!(matches!(pos.pay(&voided, Fen(1000)).await, PayReply::Paid { .. }));
    assert!(matches!(pos.pay(&refunded, Fen(2000)).await, PayReply::Paid { .. }));
    pay_in_doubt(&sim, &mut pos, &in_doubt, Fen(3000), TerminalFault::DropResponse).await;

    assert_eq!(pos.reverse(&voided).await, ReverseReply::Done { refunded: Some(true) });
    let refund_no = refunded.line_refund_no(0);
    assert_eq!(pos.refund(&refunded, &refund_no, Fen(500)).await, RefundReply::Refunded);

    use bankcard::TransType::{Refund, Sale, Void};
    assert_eq!(sim.requests(), vec![Sale, Sale, Sale, Void, Refund], "no reversal among them");
    assert!(sim.reversals_seen().is_empty());
    assert_eq!(armed(&pos).await, Some(in_doubt.clone()), "still armed, still the order's own");
    assert_eq!(sim.entry(in_doubt.as_str()).net(), Fen(3000));
}

#[tokio::test]
async fn a_last_result_approved_for_another_amount_is_unknown_never_paid() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let o = order(33);
    pay_in_doubt(&sim, &mut pos, &o, Fen(7950), TerminalFault::DropResponse).await;
    // The terminal approved 79.50 for this order; the order is for 79.00.
    let reply = pos.query(&o, Fen(7900)).await;
    let QueryReply::Unknown { detail } = &reply else { panic!("{reply:?}") };
    assert!(detail.contains("7950") && detail.contains("7900"), "{detail}");
    assert_eq!(armed(&pos).await, Some(o.clone()), "stays armed");
    assert_eq!(pos.recorded(&o).await.unwrap(), None, "no purchase recorded on its word");
    // The order's machine closes it: the reversal gives the money back.
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(true) });
    assert_eq!(sim.entry(o.as_str()).net(), Fen::ZERO);
    assert_eq!(armed(&pos).await, None);
}

#[tokio::test]
async fn a_declined_reversal_is_refused_and_its_record_kept() {
    let Rig { sim, mut pos, memory, _dir, .. } = rig();
    let o = order(34);
    pay_in_doubt(&sim, &mut pos, &o, Fen(4200), TerminalFault::DropResponse).await;
    sim.push_fault(TerminalFault::Refuse(RespCode(*b"12")));
    let reply = pos.reverse(&o).await;
    let ReverseReply::Refused { detail } = &reply else { panic!("{reply:?}") };
    assert!(detail.contains("12"), "{detail}");
    let record = memory.reversal(&o).await.unwrap().expect("the record is kept");
    assert_eq!((record.state, record.amount), (ReversalState::Refused, Fen(4200)));
    assert_eq!(sim.entry(o.as_str()).net(), Fen(4200), "the customer is still charged");

    // Refused is an answer: it no longer blocks the next customer ...
    assert_eq!(armed(&pos).await, None);
    assert!(matches!(pos.pay(&order(35), Fen(100)).await, PayReply::Paid { .. }));
    // ... and the order's own machine may send it again.
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(true) });
    assert_eq!(memory.reversal(&o).await.unwrap().map(|r| r.state), Some(ReversalState::Answered));
    assert_eq!(sim.entry(o.as_str()).net(), Fen::ZERO);
    use bankcard::TransType::{Reversal, Sale};
    assert_eq!(sim.requests(), vec![Sale, Reversal, Sale, Reversal]);
}

#[tokio::test]
async fn a_refund_of_a_purchase_never_heard_of_goes_back_by_its_own_reversal() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let o = order(36);
    pay_in_doubt(&sim, &mut pos, &o, Fen(2500), TerminalFault::DropResponse).await;
    let refund_no = o.whole_refund_no();
    // Not for another amount ...
    assert!(matches!(pos.refund(&o, &refund_no, Fen(2000)).await, RefundReply::Refused { .. }));
    assert!(sim.reversals_seen().is_empty());
    // ... but the whole of it, by the order's own reversal.
    assert_eq!(pos.refund(&o, &refund_no, Fen(2500)).await, RefundReply::Refunded);
    assert_eq!(sim.reversals_seen(), vec![o.as_str().to_string()]);
    assert_eq!(sim.entry(o.as_str()).net(), Fen::ZERO);
    assert_eq!(armed(&pos).await, None);
}

#[tokio::test]
async fn a_memory_that_cannot_be_written_sends_no_sale() {
    let Rig { sim, mut pos, memory, _dir, .. } = rig();
    memory.fail_writes(true);
    let reply = pos.pay(&order(37), Fen(100)).await;
    assert!(
        matches!(&reply, PayReply::Failed { kind: FailKind::Config, code, .. } if code == "MEMORY"),
        "{reply:?}"
    );
    memory.fail_writes(false);
    memory.fail_reads(true);
    let reply = pos.pay(&order(38), Fen(100)).await;
    assert!(
        matches!(&reply, PayReply::Failed { kind: FailKind::Config, code, .. } if code == "MEMORY"),
        "{reply:?}"
    );
    assert!(sim.requests().is_empty(), "nothing left the kiosk");
    let status = pos.device_status().await;
    assert!(status.detail.memory_error.is_some(), "{:?}", status.detail);
}

#[tokio::test]
async fn an_approval_that_cannot_be_recorded_is_unknown_and_asking_again_finds_it() {
    let Rig { sim, mut pos, memory, _dir, .. } = rig();
    let o = order(39);
    sim.set_think_time(Duration::from_millis(300));
    let failing = memory.clone();
    let (reply, ()) = tokio::join!(pos.pay(&o, Fen(880)), async move {
        tokio::time::sleep(Duration::from_millis(100)).await; // armed, sale on the wire
        failing.fail_writes(true);
    });
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
    assert_eq!(armed(&pos).await, Some(o.clone()), "not disarmed on an unrecorded approval");
    memory.fail_writes(false);
    assert!(matches!(pos.query(&o, Fen(880)).await, QueryReply::Paid { .. }));
    assert_eq!(armed(&pos).await, None);
    assert_eq!(pos.recorded(&o).await.unwrap().map(|t| t.amount), Some(Fen(880)));
    assert_eq!(sim.entry(o.as_str()).charges, 1);
}

#[tokio::test]
async fn a_decline_that_cannot_be_recorded_is_unknown_not_failed() {
    let Rig { sim, mut pos, memory, _dir, .. } = rig();
    let o = order(40);
    sim.set_think_time(Duration::from_millis(300));
    sim.push_customer(Customer::Decline(RespCode::INSUFFICIENT_FUNDS));
    let failing = memory.clone();
    let (reply, ()) = tokio::join!(pos.pay(&o, Fen(880)), async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        failing.fail_writes(true);
    });
    assert!(matches!(reply, PayReply::Unknown { .. }), "{reply:?}");
    memory.fail_writes(false);
    assert_eq!(pos.query(&o, Fen(880)).await, QueryReply::Failed { code: "51".into() });
    assert_eq!(armed(&pos).await, None);
    assert_eq!(sim.entry(o.as_str()).charges, 0);
}

#[tokio::test]
async fn power_cut_mid_transaction_then_restart_asks_for_the_last_result_first() {
    let Rig { mut sim, mut pos, memory, _dir, .. } = rig();
    let o = order(8);
    sim.push_fault(TerminalFault::PowerCut { commit: true });
    assert!(matches!(pos.pay(&o, Fen(4200)).await, PayReply::Unknown { .. }));
    assert!(!sim.is_powered());
    drop(pos); // the kiosk process dies too

    sim.power_on().unwrap();
    let mut pos = terminal(sim.path(), memory);
    assert_eq!(armed(&pos).await, Some(o.clone()), "the record survived the restart");
    let reply = pos.query(&o, Fen(4200)).await;
    assert!(matches!(reply, QueryReply::Paid { .. }), "{reply:?}");
    assert_eq!(armed(&pos).await, None);
    assert_eq!(sim.entry(o.as_str()).charges, 1);
}

#[tokio::test]
async fn power_cut_before_the_bank_answered_is_not_found() {
    let Rig { mut sim, mut pos, _dir, .. } = rig();
    let o = order(9);
    sim.push_fault(TerminalFault::PowerCut { commit: false });
    assert!(matches!(pos.pay(&o, Fen(4200)).await, PayReply::Unknown { .. }));
    sim.power_on().unwrap();
    let mut reply = pos.query(&o, Fen(4200)).await;
    for _ in 0..20 {
        if !matches!(reply, QueryReply::Unknown { .. }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // reconnect backoff
        reply = pos.query(&o, Fen(4200)).await;
    }
    assert_eq!(reply, QueryReply::NotFound);
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(false) });
    assert_eq!(armed(&pos).await, None);
    assert_eq!(sim.entry(o.as_str()), Default::default());
}

#[tokio::test]
async fn in_progress_for_n_polls_is_waiting_then_paid() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let o = order(10);
    sim.push_fault(TerminalFault::InProgress { polls: 2 });
    assert!(matches!(pos.pay(&o, Fen(300)).await, PayReply::Unknown { .. }));
    assert_eq!(pos.query(&o, Fen(300)).await, QueryReply::Waiting);
    assert_eq!(pos.query(&o, Fen(300)).await, QueryReply::Waiting);
    assert!(matches!(pos.query(&o, Fen(300)).await, QueryReply::Paid { .. }));
    assert_eq!(sim.entry(o.as_str()).charges, 1);
}

#[tokio::test]
async fn void_after_approval_gives_the_money_back() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let o = order(11);
    assert!(matches!(pos.pay(&o, Fen(7950)).await, PayReply::Paid { .. }));
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(true) });
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(true) }, "idempotent");
    let e = sim.entry(o.as_str());
    assert_eq!((e.charges, e.voided, e.net()), (1, Fen(7950), Fen::ZERO));
    assert!(matches!(pos.query(&o, Fen(7950)).await, QueryReply::PaidThenRefunded { .. }));
    use bankcard::TransType::{QueryLast, Sale, Void};
    assert_eq!(sim.requests(), vec![Sale, Void, QueryLast]);
}

#[tokio::test]
async fn a_refund_with_a_lost_answer_is_resolved_and_never_doubled() {
    let Rig { sim, mut pos, _dir, .. } = rig();
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
    let Rig { sim, mut pos, _dir, .. } = rig();
    sim.set_fault_plan(FaultPlan::named("bad-lrc-once").then(Fault::CorruptChecksum));
    assert!(matches!(pos.pay(&order(13), Fen(100)).await, PayReply::Paid { .. }));
    assert_eq!(pos.stats().naks_sent, 1);
    assert_eq!(sim.entry(order(13).as_str()).charges, 1);
}

#[tokio::test]
async fn a_bad_lrc_on_every_send_is_unknown_and_query_resolves_it() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    sim.set_fault_plan(FaultPlan::named("bad-lrc").with_odds(Fault::CorruptChecksum, 1000));
    let o = order(14);
    assert!(matches!(pos.pay(&o, Fen(100)).await, PayReply::Unknown { .. }));
    sim.set_fault_plan(FaultPlan::none());
    assert!(matches!(pos.query(&o, Fen(100)).await, QueryReply::Paid { .. }));
    assert_eq!(sim.entry(o.as_str()).charges, 1);
}

#[tokio::test]
async fn a_nak_makes_us_resend_and_naks_exhausted_are_unknown() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    sim.push_fault(TerminalFault::Nak { times: 1 });
    assert!(matches!(pos.pay(&order(15), Fen(100)).await, PayReply::Paid { .. }));
    assert_eq!(pos.stats().retransmits, 1);

    sim.push_fault(TerminalFault::Nak { times: 3 });
    let o = order(16);
    assert!(matches!(pos.pay(&o, Fen(100)).await, PayReply::Unknown { .. }));
    assert_eq!(pos.query(&o, Fen(100)).await, QueryReply::NotFound);
    assert_eq!(sim.entry(o.as_str()).charges, 0);
}

#[tokio::test]
async fn silence_is_unknown_and_blocks_the_next_sale_until_the_orders_own_reversal_is_answered() {
    let Rig { sim, mut pos, _dir, .. } = rig();
    let o = order(17);
    sim.set_silent(true);
    assert!(matches!(pos.pay(&o, Fen(100)).await, PayReply::Unknown { .. }));
    assert!(matches!(pos.query(&o, Fen(100)).await, QueryReply::Unknown { .. }));
    // The next sale is refused before anything leaves the kiosk, terminal back or not.
    assert!(reversal_pending(&pos.pay(&order(18), Fen(100)).await));
    assert!(matches!(pos.reverse(&o).await, ReverseReply::Retry { .. }), "no answer yet");
    sim.set_silent(false);
    assert!(reversal_pending(&pos.pay(&order(18), Fen(100)).await));
    assert!(sim.reversals_seen().is_empty(), "never sent inside another order's sale");
    assert_eq!(pos.reverse(&o).await, ReverseReply::Done { refunded: Some(false) });
    assert!(matches!(pos.pay(&order(18), Fen(100)).await, PayReply::Paid { .. }));
    assert_eq!(sim.reversals_seen(), vec![o.as_str().to_string()]);
    assert_eq!(sim.entry(o.as_str()).charges, 0);
    assert_eq!(sim.entry(order(18).as_str()).charges, 1);
}
