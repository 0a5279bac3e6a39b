//! Fault scenarios of payments.md §10 on the channel side, end to end: the real runtime, journal
//! and clients against the channel simulators over HTTP, checked against the simulators' ledgers.

use crate::support;

use kiosk_core::{Fen, PayReply, Payment, PaymentCode, State, Utility};
use support::*;
use yizhan::runtime::{Quiet, RuntimeError};

#[tokio::test]
async fn happy_path_each_channel_pays_once_and_writes_off_once() {
    let kiosk = TestKiosk::start().await;
    for code in [wechat_code(), alipay_code(), unionpay_code()] {
        let account = kiosk.account(Utility::Water, 3150);
        let payment = kiosk.pay(Utility::Water, &account, code.clone()).await;
        assert_eq!(payment.state, State::Done, "{:?}", code.channel());
        let (charges, reversals, refunds) = kiosk.channel_money(&code, payment.id());
        assert_eq!((charges, reversals.len(), refunds.len()), (vec![Fen(3150)], 0, 0));
        assert_eq!(kiosk.write_offs(Utility::Water, &payment.order.lines[0].biller_ref), 1);
    }
    kiosk.verify_chain().await;
}

#[tokio::test]
async fn f1_reply_lost_after_the_channel_committed_is_found_by_query() {
    let kiosk = TestKiosk::start().await;
    let payment = paid_once_through(&kiosk, Utility::Power, 12680, &wechat_code(), Fault::DropReply).await;
    assert_eq!(kiosk.write_offs(Utility::Power, &payment.order.lines[0].biller_ref), 1);
}

#[tokio::test]
async fn f2_request_lost_before_the_channel_saw_it_closes_the_order() {
    let kiosk = TestKiosk::start().await;
    let account = kiosk.account(Utility::Water, 3150);
    let code = alipay_code();
    kiosk.channel(&code).faults().inject("pay", Fault::DropRequest, 1);
    let payment = kiosk.pay(Utility::Water, &account, code.clone()).await;
    let steps: Vec<String> = kiosk
        .runtime()
        .journal
        .transitions(payment.id())
        .await
        .unwrap()
        .iter()
        .map(|t| format!("{} --{}--> {}", t.from_state, t.event, t.to_state))
        .collect();
    // Closed, never in suspense. Alipay's cancel of an order it never saw answers without an
    // `action` (payments.md §2.1: absent = not found or failed), which does not itself say that no
    // money moved, so the customer is told what is certain: nothing was paid, anything taken is
    // back (issue 9, item 7). The ledgers below show that nothing was taken.
    assert!(
        matches!(payment.state, State::Reversed { refunded: Some(false) | None }),
        "{:?}: {steps:#?}",
        payment.state
    );
    let (charges, reversals, refunds) = kiosk.channel_money(&code, payment.id());
    assert!(charges.is_empty() && reversals.is_empty() && refunds.is_empty());
    assert_eq!(kiosk.write_offs(Utility::Water, &payment.order.lines[0].biller_ref), 0);
    // The customer can try again: a new order number for the same bill.
    let again = kiosk.pay(Utility::Water, &account, alipay_code()).await;
    assert_eq!(again.state, State::Done);
    assert_ne!(again.id(), payment.id());
}

#[tokio::test]
async fn f3_pin_entered_before_the_deadline_is_paid() {
    let kiosk = TestKiosk::start().await;
    // 25 s of a 45 s window, scaled by 100.
    paid_once_through(&kiosk, Utility::Gas, 4560, &wechat_code(), Fault::UserPaying { ms: Some(250) }).await;
}

#[tokio::test]
async fn f4_pin_never_entered_is_reversed_and_a_late_pin_cannot_pay() {
    let kiosk = TestKiosk::start().await;
    let code = wechat_code();
    let payment = kiosk.pay_with_fault(Utility::Gas, 4560, &code, Fault::UserPaying { ms: None }).await;
    // WeChat reports a reversed order REVOKED whether or not it had been paid, and time_end
    // need not say which: the customer is told "any amount taken has been returned".
    assert_eq!(payment.state, State::Reversed { refunded: None });
    // The customer finally enters the PIN: the closed order cannot take the money.
    kiosk.channel(&code).enter_pin(payment.id());
    let (charges, _, _) = kiosk.channel_money(&code, payment.id());
    assert!(charges.is_empty(), "a late PIN paid a reversed order: {charges:?}");
    assert_eq!(kiosk.write_offs(Utility::Gas, &payment.order.lines[0].biller_ref), 0);
}

/// payments.md §2.3: the customer cancels in the wallet, so Alipay's query says TRADE_CLOSED
/// while the kiosk polls. "Not success" is cancelled all the same, and the cancel's `close`
/// tells the customer "not charged" (before, the kiosk stopped at TRADE_CLOSED, sent no cancel and
/// could only say "any amount taken has been returned").
#[tokio::test]
async fn alipay_trade_closed_while_polling_is_cancelled_and_not_charged() {
    let kiosk = TestKiosk::start().await;
    let code = alipay_code();
    let payment = kiosk.pay_with_fault(Utility::Water, 2740, &code, Fault::UserCancels).await;
    assert_eq!(payment.state, State::Reversed { refunded: Some(false) });
    assert!(went_through(&kiosk, &payment, "REVERSING").await, "no cancel was sent");
    let (charges, _, _) = kiosk.channel_money(&code, payment.id());
    assert!(charges.is_empty(), "{charges:?}");
    assert_eq!(kiosk.write_offs(Utility::Water, &payment.order.lines[0].biller_ref), 0);
}

#[tokio::test]
async fn f5_reverse_answering_recall_is_retried_until_definite() {
    let kiosk = TestKiosk::start().await;
    let account = kiosk.account(Utility::Water, 2740);
    let code = wechat_code();
    let faults = kiosk.channel(&code).faults();
    faults.inject("pay", Fault::UserPaying { ms: None }, 1);
    faults.inject("reverse", Fault::RecallRetry, 2);
    faults.inject("reverse", Fault::DropReply, 1);
    let payment = kiosk.pay(Utility::Water, &account, code.clone()).await;
    assert_eq!(payment.state, State::Reversed { refunded: None });
    let journal = &kiosk.runtime().journal;
    let reverses = journal
        .transitions(payment.id())
        .await
        .unwrap()
        .iter()
        .filter(|t| t.effects.contains("reverse"))
        .count();
    assert!(reverses >= 4, "reverse sent {reverses} times");
}

#[tokio::test]
async fn f12_a_second_payment_while_one_is_in_flight_is_refused_locally() {
    let kiosk = TestKiosk::start().await;
    let first_account = kiosk.account(Utility::Water, 3150);
    let second_account = kiosk.account(Utility::Water, 5820);
    let code = wechat_code();
    kiosk.channel(&code).faults().inject("pay", Fault::UserPaying { ms: Some(200) }, 1);
    let first_order = kiosk.order(Utility::Water, &first_account).await;
    let second_order = kiosk.order(Utility::Water, &second_account).await;
    let runtime = kiosk.runtime();
    let (first, second) = tokio::join!(runtime.pay_order(first_order, code.clone(), &Quiet), async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        runtime.pay_order(second_order, wechat_code(), &Quiet).await
    });
    assert_eq!(first.unwrap().state, State::Done);
    assert!(matches!(second, Err(RuntimeError::Busy)), "{second:?}");
}

#[tokio::test]
async fn f12_the_same_code_scanned_twice_is_refused_by_the_wallet() {
    let kiosk = TestKiosk::start().await;
    let code = wechat_code();
    let first = kiosk.pay(Utility::Water, &kiosk.account(Utility::Water, 3150), code.clone()).await;
    assert_eq!(first.state, State::Done);
    let second = kiosk.pay(Utility::Water, &kiosk.account(Utility::Water, 5820), code.clone()).await;
    assert!(matches!(second.state, State::PayFailed { .. }), "{:?}", second.state);
    assert!(kiosk.channel_money(&code, second.id()).0.is_empty());
}

#[tokio::test]
async fn f13_resend_of_a_paid_order_is_paid_not_failed() {
    let kiosk = TestKiosk::start().await;
    let account = kiosk.account(Utility::Power, 8935);
    let code = alipay_code();
    let order = kiosk.order(Utility::Power, &account).await;
    // The channel has already been paid for this order number (an earlier send got through).
    let request = payments::PayRequest {
        order: order.reference.clone(),
        total: order.total(),
        code: code.clone(),
        description: "test".into(),
        kiosk_id: "SH-TEST-0001".into(),
        sent_at: order.created_at,
    };
    assert!(matches!(kiosk.runtime().channels.pay(&request).await, PayReply::Paid { .. }));
    let again = kiosk.runtime().channels.pay(&request).await;
    assert!(matches!(again, PayReply::AlreadyUsed { .. }), "{again:?}");
    let payment = kiosk.runtime().pay_order(order, code.clone(), &Quiet).await.unwrap();
    assert_eq!(payment.state, State::Done);
    assert_eq!(kiosk.channel_money(&code, payment.id()).0, [Fen(8935)]);
}

#[tokio::test]
async fn f14_alipay_service_unavailable_then_query_success() {
    let kiosk = TestKiosk::start().await;
    // The trade went through, but the gateway answered 20000 (service unavailable).
    let unavailable = Fault::ErrorAfterCommit { code: "20000".into() };
    let payment = paid_once_through(&kiosk, Utility::Water, 3150, &alipay_code(), unavailable).await;
    assert!(went_through(&kiosk, &payment, "PAY_PENDING").await, "20000 is unknown, then a query");
    assert_eq!(kiosk.write_offs(Utility::Water, &payment.order.lines[0].biller_ref), 1);
}

#[tokio::test]
async fn wechat_systemerror_after_commit_is_unknown_then_paid() {
    let kiosk = TestKiosk::start().await;
    let system_error = Fault::ErrorAfterCommit { code: "SYSTEMERROR".into() };
    paid_once_through(&kiosk, Utility::Gas, 3870, &wechat_code(), system_error).await;
}

#[tokio::test]
async fn f18_a_reply_with_a_bad_signature_is_no_reply() {
    let kiosk = TestKiosk::start().await;
    for code in [wechat_code(), alipay_code(), unionpay_code()] {
        let payment = paid_once_through(&kiosk, Utility::Water, 3150, &code, Fault::BadSignature).await;
        assert!(went_through(&kiosk, &payment, "PAY_PENDING").await, "went through a query");
    }
}

#[tokio::test]
async fn f19_reverse_never_confirmed_parks_in_suspense_with_a_slip() {
    let kiosk = TestKiosk::start().await;
    let (payment, code) = kiosk.pay_into_suspense(3150).await;
    assert!(matches!(payment.state, State::Suspense { .. }), "{:?}", payment.state);
    assert_eq!(payment.settlement().in_suspense, Fen(3150));
    let prints = kiosk.runtime().journal.prints(payment.id()).await.unwrap();
    assert_eq!(prints.len(), 1, "one slip");
    let slip = kiosk.runtime().receipt(&payment).await.to_text();
    assert!(slip.contains(payment.id()) && slip.contains("021-12345678"), "{slip}");
    // A suspense payment does not block the next customer.
    kiosk.channel(&code).faults().clear();
    let next = kiosk.pay(Utility::Water, &kiosk.account(Utility::Water, 100), wechat_code()).await;
    assert_eq!(next.state, State::Done);
}

/// The scheduled checks of a payment in suspense run long after its customer left with the
/// slip: one that parks it again, or settles it, is journaled, and prints nothing into a tray
/// nobody may be watching (it used to print a slip at every check: up to six a payment).
#[tokio::test]
async fn the_scheduled_checks_of_a_suspense_payment_print_nothing_more() {
    let kiosk = TestKiosk::start().await;
    let (payment, code) = kiosk.pay_into_suspense(3150).await;
    assert!(matches!(payment.state, State::Suspense { .. }), "{:?}", payment.state);
    let slips = || async { kiosk.runtime().journal.prints(payment.id()).await.unwrap().len() };
    assert_eq!(slips().await, 1, "the customer's slip");

    // The first check comes due (2 min / 100) and the channel still does not answer.
    let checked_once = kiosk.settle_until(payment.id(), |p| p.suspense_checks >= 1).await;
    assert!(matches!(checked_once.state, State::Suspense { .. }), "{:?}", checked_once.state);
    assert_eq!(slips().await, 1, "no second slip for a check that parks it again");

    // The next check (10 min / 100) finds the channel answering: the order is closed.
    kiosk.channel(&code).faults().clear();
    let settled = kiosk.settle_until(payment.id(), |p| !matches!(p.state, State::Suspense { .. })).await;
    assert!(matches!(settled.state, State::Reversed { .. }), "{:?}", settled.state);
    assert_eq!(slips().await, 1, "nor a receipt for the customer long gone");
    let to = kiosk.runtime().journal.transitions(payment.id()).await.unwrap();
    assert_eq!(to.last().map(|t| t.to_state.as_str()), Some("REVERSED"), "the journal has it all");
}

/// A new `utility` bill of `fen` paid with `code`, the channel's first answer to the pay being
/// `fault`: the payment ends DONE, charged exactly once.
async fn paid_once_through(
    kiosk: &TestKiosk,
    utility: Utility,
    fen: i64,
    code: &PaymentCode,
    fault: Fault,
) -> Payment {
    let payment = kiosk.pay_with_fault(utility, fen, code, fault).await;
    assert_eq!(payment.state, State::Done, "{:?}", code.channel());
    let (charges, _, _) = kiosk.channel_money(code, payment.id());
    assert_eq!(charges, [Fen(fen)], "exactly one charge, no second pay with a new order number");
    payment
}

/// Whether the journal shows `payment` reaching `state` on its way.
async fn went_through(kiosk: &TestKiosk, payment: &Payment, state: &str) -> bool {
    let transitions = kiosk.runtime().journal.transitions(payment.id()).await.unwrap();
    transitions.iter().any(|t| t.to_state == state)
}
