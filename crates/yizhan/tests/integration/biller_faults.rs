//! Fault scenarios of payments.md §10 on the biller side, end to end over HTTP, checked against
//! the channel's and the billers' ledgers.

use crate::support;

use kiosk_core::payment::{LineState, RefundStatus};
use kiosk_core::{Fen, Order, State, Utility};
use support::*;
use yizhan::runtime::Quiet;

#[tokio::test]
async fn f9_write_off_reply_lost_but_done_is_found_by_status_query() {
    let kiosk = TestKiosk::start().await;
    let account = kiosk.account(Utility::Power, 12680);
    kiosk.sims().billers.power.sim.faults().inject("write_off", Fault::DropReply, 1);
    let code = wechat_code();
    let payment = kiosk.pay(Utility::Power, &account, code.clone()).await;
    assert_eq!(payment.state, State::Done);
    assert!(payment.refunds.is_empty(), "no refund for a write-off that happened");
    assert_eq!(kiosk.write_offs(Utility::Power, &payment.order.lines[0].biller_ref), 1);
    let (charges, reversals, refunds) = kiosk.channel_money(&code, payment.id());
    assert_eq!((charges, reversals.len(), refunds.len()), (vec![Fen(12680)], 0, 0));
}

#[tokio::test]
async fn lost_write_off_request_is_resent_under_the_same_reference() {
    let kiosk = TestKiosk::start().await;
    let account = kiosk.account(Utility::Water, 3150);
    let faults = kiosk.sims().billers.water.sim.faults();
    faults.inject("write_off", Fault::DropRequest, 1);
    let payment = kiosk.pay(Utility::Water, &account, alipay_code()).await;
    assert_eq!(payment.state, State::Done);
    assert_eq!(kiosk.write_offs(Utility::Water, &payment.order.lines[0].biller_ref), 1);
}

#[tokio::test]
async fn f10_definite_write_off_failure_refunds_once_even_when_the_refund_reply_is_lost() {
    let kiosk = TestKiosk::start().await;
    let account = kiosk.account(Utility::Gas, 3870);
    kiosk.sims().billers.gas.sim.faults().inject(
        "write_off",
        Fault::WriteOffReject { code: "ACCOUNT_CLOSED".into() },
        1,
    );
    let code = wechat_code();
    kiosk.channel(&code).faults().inject("refund", Fault::DropReply, 2);
    let payment = kiosk.pay(Utility::Gas, &account, code.clone()).await;
    assert_eq!(payment.state, State::RefundPending, "WeChat first only accepts a refund");
    let payment = kiosk.until_refund_arrives(&payment).await;
    assert_eq!(payment.state, State::Refunded);
    assert_eq!(payment.refunds.len(), 1);
    assert!(payment.refunds[0].attempts >= 3, "the refund was retried");
    let (charges, _, refunds) = kiosk.channel_money(&code, payment.id());
    assert_eq!(charges, [Fen(3870)]);
    assert_eq!(refunds, [Fen(3870)], "exactly one refund for one refund number");
    assert_eq!(kiosk.write_offs(Utility::Gas, &payment.order.lines[0].biller_ref), 0);
}

#[tokio::test]
async fn f11_joint_bill_water_ok_gas_fails_refunds_only_gas() {
    let kiosk = TestKiosk::start().await;
    let joint = kiosk.household(3150, 12680, 4560);
    let bill = kiosk.runtime().fetch_joint_bill(&joint).await.unwrap();
    assert_eq!(bill.total(), Some(Fen(3150 + 12680 + 4560)));
    kiosk.sims().billers.gas.sim.faults().inject(
        "write_off",
        Fault::WriteOffReject { code: "ACCOUNT_CLOSED".into() },
        1,
    );
    let order =
        Order::for_joint_bill(kiosk.runtime().new_order_ref(), "SH-TEST-0001", yizhan::clock::now(), &bill)
            .unwrap();
    let code = alipay_code();
    let payment = kiosk.runtime().pay_order(order, code.clone(), &Quiet).await.unwrap();
    assert_eq!(payment.state, State::Done);
    let (charges, _, refunds) = kiosk.channel_money(&code, payment.id());
    assert_eq!(charges, [Fen(20390)], "one payment for the three bills");
    assert_eq!(refunds, [Fen(4560)], "a partial refund of the gas part only");
    for line in &payment.order.lines {
        let expected = usize::from(line.utility != Utility::Gas);
        assert_eq!(kiosk.write_offs(line.utility, &line.biller_ref), expected, "{}", line.utility);
    }
    let receipt = kiosk.runtime().receipt(&payment).await.to_text();
    assert!(receipt.contains("已退款 Refunded") && receipt.contains("已销账 Paid"), "{receipt}");
}

#[tokio::test]
async fn f17_bill_changed_between_fetch_and_pay_refunds_the_line() {
    let kiosk = TestKiosk::start().await;
    let account = kiosk.account(Utility::Water, 5820);
    let order = kiosk.order(Utility::Water, &account).await;
    // Someone pays part of the bill at the counter while the customer scans.
    kiosk.sims().billers.water.sim.pay_elsewhere(&account, 2000).unwrap();
    let code = wechat_code();
    let payment = kiosk.runtime().pay_order(order, code.clone(), &Quiet).await.unwrap();
    assert_eq!(payment.state, State::RefundPending, "WeChat first only accepts a refund");
    let payment = kiosk.until_refund_arrives(&payment).await;
    assert_eq!(payment.state, State::Refunded);
    assert!(matches!(&payment.lines[0], LineState::Rejected { code, .. } if code == "BILL_CHANGED"));
    assert_eq!(payment.refunds[0].status, RefundStatus::Refunded);
    let (charges, _, refunds) = kiosk.channel_money(&code, payment.id());
    assert_eq!((charges, refunds), (vec![Fen(5820)], vec![Fen(5820)]));
}

#[tokio::test]
async fn write_off_never_answered_parks_in_suspense_and_is_never_refunded() {
    let kiosk = TestKiosk::start().await;
    let account = kiosk.account(Utility::Power, 8935);
    let faults = kiosk.sims().billers.power.sim.faults();
    faults.inject("write_off", Fault::Status { code: 503 }, 1);
    faults.inject("write_off_status", Fault::Status { code: 503 }, 100);
    let code = unionpay_code();
    let payment = kiosk.pay(Utility::Power, &account, code.clone()).await;
    assert!(matches!(payment.state, State::Suspense { .. }), "{:?}", payment.state);
    assert!(payment.refunds.is_empty());
    assert_eq!(kiosk.channel_money(&code, payment.id()).2, Vec::<Fen>::new());
}

#[tokio::test]
async fn f20_reconciliation_flags_mismatches_and_settles_suspense_from_the_statements() {
    let kiosk = TestKiosk::start().await;
    let runtime = kiosk.runtime();
    // A clean payment.
    let clean = kiosk.pay(Utility::Water, &kiosk.account(Utility::Water, 3150), wechat_code()).await;
    // A payment whose write-off happened but whose every answer was lost: suspense.
    let account = kiosk.account(Utility::Power, 8935);
    let faults = kiosk.sims().billers.power.sim.faults();
    faults.inject("write_off", Fault::DropReply, 1);
    faults.inject("write_off_status", Fault::Status { code: 503 }, 100);
    let doubtful = kiosk.pay(Utility::Power, &account, wechat_code()).await;
    assert!(matches!(doubtful.state, State::Suspense { .. }));
    faults.clear();
    // A charge the kiosk never heard of (渠道多).
    let wechat = &kiosk.sims().channels.wechat;
    wechat.add_ledger_entry(payments::sim::LedgerEntry {
        out_trade_no: "YZELSEWHERE0001".into(),
        channel_txn: "4200000000000000000000000001".into(),
        kind: payments::sim::LedgerKind::Charge,
        amount: Fen(999),
        refund_no: None,
        at: yizhan::clock::now(),
    });
    let now = yizhan::clock::now();
    let day = yizhan::recon::Day::of(now);
    let (files, unread) = yizhan::recon::read_files(runtime, &day.booking_days(), now).await;
    assert!(unread.is_empty(), "{unread:?}");
    // Settle the suspense from the files, through the journal. Today's files are not final, but
    // a charge and a write-off they show are facts.
    let evidence = files.evidence_for(&doubtful);
    assert!(evidence.charged && !evidence.complete, "{evidence:?}");
    let settled = runtime
        .settle_externally(doubtful.clone(), kiosk_core::Event::Reconciled { evidence }, &Quiet)
        .await
        .unwrap();
    assert_eq!(settled.state, State::Done, "external success overrides the local unknown");
    assert_eq!(runtime.load(settled.id()).await.unwrap().state, State::Done, "journaled");
    // Now amend the clean payment's amount in the channel's statement.
    assert!(wechat.amend_charge(clean.id(), Fen(3000)));
    let (files, _) = yizhan::recon::read_files(runtime, &day.booking_days(), now).await;
    let flags = yizhan::recon::match_day(day, &[clean.clone(), settled.clone()], &files);
    use yizhan::recon::{Flag, Source};
    assert!(flags.contains(&Flag::Matched { order: settled.id().to_string() }), "{flags:?}");
    assert!(
        flags.contains(&Flag::ChannelOnly {
            source: Source::WeChatBill,
            order: "YZELSEWHERE0001".into(),
            kind: payments::StatementKind::Payment,
            amount: Fen(999)
        }),
        "{flags:?}"
    );
    assert!(
        flags.contains(&Flag::AmountDiffers {
            key: clean.id().to_string(),
            local: Fen(3150),
            external: Fen(3000)
        }),
        "{flags:?}"
    );
    assert!(!flags.contains(&Flag::Matched { order: clean.id().to_string() }), "{flags:?}");
    kiosk.verify_chain().await;
}

#[tokio::test]
/// F21 itself (a power cut around printing) is in power_cut.rs; this checks that a reprint is stable.
async fn reprinting_gives_the_same_receipt_and_moves_no_money() {
    let kiosk = TestKiosk::start().await;
    let code = wechat_code();
    let payment = kiosk.pay(Utility::Gas, &kiosk.account(Utility::Gas, 4560), code.clone()).await;
    let before = kiosk.channel(&code).ledger().len();
    let reloaded = kiosk.runtime().load(payment.id()).await.unwrap();
    let first = kiosk.runtime().receipt(&reloaded).await.to_text();
    let second = kiosk.runtime().receipt(&kiosk.runtime().load(payment.id()).await.unwrap()).await.to_text();
    let strip_time = |t: &str| t.lines().filter(|l| !l.starts_with("时间")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip_time(&first), strip_time(&second));
    assert!(first.contains("¥45.60") && first.contains(payment.id()));
    assert_eq!(kiosk.channel(&code).ledger().len(), before, "no money action");
}
