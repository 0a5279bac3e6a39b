//! Reconciliation end to end (payments.md §6): the real `yizhan recon` command beside a running
//! kiosk (which holds the money lock), against the simulators' statements; and the journaling
//! rules of a reconciliation run (it only journals, guarded by the state it read; the kiosk
//! carries out what the new state needs).

use crate::support;

use kiosk_core::recon::Day;
use kiosk_core::{Fen, Order, Payment, PaymentCode, State, Ts, Utility};
use std::path::{Path, PathBuf};
use support::cli::{text, BIN};
use support::*;
use yizhan::runtime::Quiet;

/// A remote-mode configuration whose clients point at the test kiosk's (in-process) simulators,
/// so that a `yizhan` process sees the same ledgers and files as the kiosk.
fn remote_config(kiosk: &TestKiosk) -> PathBuf {
    // What `yizhan sim --write-config` writes, as this test kiosk.
    let out = yizhan::commands::sim::kiosk_config_for(kiosk.sims(), 100)
        .replace("id = \"SIM-0001\"", "id = \"SH-TEST-0001\"")
        .replace("number = \"9001\"", "number = \"0001\"")
        .replace("service_phone = \"021-00000000\"", "service_phone = \"021-12345678\"")
        + "[logging]\nlevel = \"warn\"\n";
    let path = kiosk.dir.path().join("remote.toml");
    std::fs::write(&path, out).unwrap();
    path
}

fn recon(config: &Path, data: &Path, date: &str) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(["recon", "--date", date])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Runs `yizhan recon` for yesterday off the test's runtime (the kiosk's simulators answer it
/// meanwhile) and checks its exit code; returns what it printed.
async fn recon_yesterday_in_the_background(
    kiosk: &TestKiosk,
    config: PathBuf,
    expected_code: i32,
) -> (String, String) {
    let data = kiosk.dir.path().to_path_buf();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || recon(&config, &data, &yesterday())).await.unwrap();
    assert_eq!(code, Some(expected_code), "stdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout, stderr)
}

/// 23:59 yesterday (Beijing): an order of yesterday whose money moves after midnight.
fn late_yesterday() -> Ts {
    Ts(Day::of(yizhan::clock::now()).starts_at().0 - 60_000)
}

fn yesterday() -> String {
    Day::of(yizhan::clock::now()).previous().date().to_string()
}

/// Pays `fen` at `utility` with an order created at `created_at`.
async fn pay_at(kiosk: &TestKiosk, utility: Utility, fen: i64, code: PaymentCode, created_at: Ts) -> Payment {
    let account = kiosk.account(utility, fen);
    let bill = kiosk.runtime().fetch_bill(utility, &account).await.unwrap();
    let order = Order::for_bill(kiosk.runtime().new_order_ref(), "SH-TEST-0001", created_at, &bill).unwrap();
    kiosk.runtime().pay_order(order, code, &Quiet).await.unwrap()
}

/// A payment of 23:59 yesterday whose write-off happened but whose every answer was lost: paid
/// and written off after midnight, so its rows are in today's files only.
async fn written_off_unconfirmed_yesterday(kiosk: &TestKiosk, code: PaymentCode) -> Payment {
    let faults = kiosk.sims().billers.power.sim.faults();
    faults.inject("write_off", Fault::DropReply, 1);
    faults.inject("write_off_status", Fault::Status { code: 503 }, 100);
    let payment = pay_at(kiosk, Utility::Power, 8935, code, late_yesterday()).await;
    faults.clear();
    assert!(matches!(payment.state, State::Suspense { .. }), "{:?}", payment.state);
    payment
}

#[tokio::test(flavor = "multi_thread")]
async fn yizhan_recon_beside_the_running_kiosk_settles_yesterdays_suspense_from_todays_files() {
    let kiosk = TestKiosk::start().await;
    let doubtful = written_off_unconfirmed_yesterday(&kiosk, wechat_code()).await;
    // The same through UnionPay: settled from the acquirer's ZM file.
    let unionpay = written_off_unconfirmed_yesterday(&kiosk, unionpay_code()).await;
    // Today's payment: its rows in today's file (D+1 for yesterday) are not yesterday's business.
    let today = kiosk.pay(Utility::Water, &kiosk.account(Utility::Water, 3150), wechat_code()).await;
    assert_eq!(today.state, State::Done);
    // A charge of today nobody knows: today's own run reports it, not yesterday's.
    kiosk.sims().channels.wechat.add_ledger_entry(payments::sim::LedgerEntry {
        out_trade_no: "YZELSEWHERE0002".into(),
        channel_txn: "4200000000000000000000000002".into(),
        kind: payments::sim::LedgerKind::Charge,
        amount: Fen(500),
        refund_no: None,
        at: yizhan::clock::now(),
    });
    let config = remote_config(&kiosk);
    let prints_before = kiosk.runtime().journal.prints(doubtful.id()).await.unwrap().len();

    // The kiosk holds the money lock all along: recon does not need it.
    let (stdout, stderr) = recon_yesterday_in_the_background(&kiosk, config, 0).await;
    let id = doubtful.id();
    for id in [id, unionpay.id()] {
        assert!(
            stdout.contains(&format!("CORRECTED      {id} SUSPENSE -> DONE (per statements)")),
            "{stdout}"
        );
        assert!(stdout.contains(&format!("MATCHED        {id}")), "{stdout}");
    }
    assert!(!stdout.contains("FEE_DIFFERS"), "every fee at the account's rate: {stdout}");
    assert!(!stdout.contains(today.id()), "today's payment is not yesterday's: {stdout}");
    assert!(!stdout.contains("CHANNEL_ONLY"), "{stdout}");
    assert!(stderr.contains("final only from"), "today's files are not final yet: {stderr}");
    // Journaled, as a transition from SUSPENSE, by the recon process.
    let stored = kiosk.runtime().load(id).await.unwrap();
    assert_eq!(stored.state, State::Done);
    let transitions = kiosk.runtime().journal.transitions(id).await.unwrap();
    let last = transitions.last().unwrap();
    assert_eq!((last.from_state.as_str(), last.to_state.as_str()), ("SUSPENSE", "DONE"));
    assert!(last.event.contains("[recon]"), "{last:?}");
    // It carried out nothing: no print from the recon process.
    assert_eq!(kiosk.runtime().journal.prints(id).await.unwrap().len(), prints_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn yizhan_recon_exits_3_on_a_channel_only_row_a_wrong_fee_and_a_payment_it_cannot_settle() {
    let kiosk = TestKiosk::start().await;
    // A payment of yesterday in suspense whose charge the acquirer's file lost: the file of a
    // day not final yet proves nothing, so it stays in suspense.
    let unionpay = written_off_unconfirmed_yesterday(&kiosk, unionpay_code()).await;
    let acquirer = &kiosk.sims().channels.unionpay;
    assert!(acquirer.omit_from_statement(unionpay.id(), payments::sim::LedgerKind::Charge));
    // A WeChat charge of yesterday whose fee the statement states one fen too high.
    let dear = written_off_unconfirmed_yesterday(&kiosk, wechat_code()).await;
    kiosk.sims().channels.wechat.misstate_fee(dear.id(), 1);
    // The power company's file lists its write-off twice.
    let reference = dear.order.lines[0].biller_ref.clone();
    assert!(kiosk.sims().billers.power.sim.list_write_off_twice(&reference));
    // And WeChat booked a refund of it that the kiosk never asked for.
    kiosk.sims().channels.wechat.add_ledger_entry(payments::sim::LedgerEntry {
        out_trade_no: dear.id().into(),
        channel_txn: "50300000000000000000000000001".into(),
        kind: payments::sim::LedgerKind::Refund,
        amount: Fen(100),
        refund_no: Some("NOT-OURS-R1".into()),
        at: late_yesterday(),
    });
    // A charge of yesterday that no payment of the journal accounts for.
    kiosk.sims().channels.wechat.add_ledger_entry(payments::sim::LedgerEntry {
        out_trade_no: "YZELSEWHERE0001".into(),
        channel_txn: "4200000000000000000000000001".into(),
        kind: payments::sim::LedgerKind::Charge,
        amount: Fen(999),
        refund_no: None,
        at: Ts(late_yesterday().0 - 3_600_000),
    });
    let config = remote_config(&kiosk);
    let (stdout, _) = recon_yesterday_in_the_background(&kiosk, config, 3).await;
    let id = unionpay.id();
    assert!(stdout.contains(&format!("UNSETTLED      {id} stays in SUSPENSE")), "{stdout}");
    assert!(stdout.contains(&format!("IN_SUSPENSE    {id}")), "{stdout}");
    assert!(
        stdout.contains("CHANNEL_ONLY   YZELSEWHERE0001 ¥9.99 payment in the wechat statement"),
        "{stdout}"
    );
    // 0.60% of ¥89.35 is 53.61 fen; stated as 54.61.
    let fee = format!("FEE_DIFFERS    {} fee ¥0.54610, the account's rate makes it ¥0.53610", dear.id());
    assert!(stdout.contains(&fee), "{stdout}");
    let twice = format!("WRITTEN_TWICE  {reference} ¥89.35 credited 2 times in the biller's file");
    assert!(stdout.contains(&twice), "{stdout}");
    let refund = format!("REFUND_CHANNEL {} refund NOT-OURS-R1 ¥1.00", dear.id());
    assert!(stdout.contains(&refund), "{stdout}");
    let stored = kiosk.runtime().load(id).await.unwrap();
    assert!(matches!(stored.state, State::Suspense { .. }), "{:?}", stored.state);
    // A bad date is refused before anything is read.
    let config = kiosk.dir.path().join("remote.toml");
    let (code, _, stderr) = recon(&config, kiosk.dir.path(), "23/11/2026");
    assert_eq!(code, Some(2), "{stderr}");
}

/// The seeded discrepancies of the simulators, each found once the day's files are final: a row
/// the acquirer lost, a refund the kiosk never asked for, a fee off by one fen, a write-off the
/// biller lists twice.
#[tokio::test]
async fn every_seeded_discrepancy_is_found_in_final_files() {
    let kiosk = TestKiosk::start().await;
    let water = |fen| kiosk.account(Utility::Water, fen);
    let lost = kiosk.pay(Utility::Water, &water(3150), unionpay_code()).await;
    let refunded_elsewhere = kiosk.pay(Utility::Water, &water(2000), alipay_code()).await;
    let dear = kiosk.pay(Utility::Water, &water(1000), wechat_code()).await;
    let twice = kiosk.pay(Utility::Water, &water(4200), wechat_code()).await;
    let clean = kiosk.pay(Utility::Water, &water(800), unionpay_code()).await;
    for p in [&lost, &refunded_elsewhere, &dear, &twice, &clean] {
        assert_eq!(p.state, State::Done);
    }
    let channels = &kiosk.sims().channels;
    assert!(channels.unionpay.omit_from_statement(lost.id(), payments::sim::LedgerKind::Charge));
    channels.alipay.add_ledger_entry(payments::sim::LedgerEntry {
        out_trade_no: refunded_elsewhere.id().into(),
        channel_txn: "2026REFUND0001".into(),
        kind: payments::sim::LedgerKind::Refund,
        amount: Fen(2000),
        refund_no: Some("COUNTER-REFUND-1".into()),
        at: yizhan::clock::now(),
    });
    channels.wechat.misstate_fee(dear.id(), 1);
    let reference = twice.order.lines[0].biller_ref.clone();
    assert!(kiosk.sims().billers.water.sim.list_write_off_twice(&reference));

    // Read as after 10:00 the day after tomorrow: today's and tomorrow's files are final.
    let today = Day::of(yizhan::clock::now());
    let later = today.next().final_at();
    let (files, unread) = yizhan::recon::read_files(kiosk.runtime(), &today.booking_days(), later).await;
    assert!(unread.is_empty(), "{unread:?}");
    let journal = yizhan::recon::journal_payments(kiosk.runtime()).await.unwrap();
    let flags = kiosk_core::recon::match_day(today, &journal, &files);
    eprintln!("DEBUG {:?}", files);
    let exceptions: Vec<String> = flags.iter().filter(|f| f.is_exception()).map(|f| f.describe()).collect();
    let expected = [
        format!("LOCAL_ONLY     {} ¥31.50", lost.id()),
        format!("REFUND_CHANNEL {} refund COUNTER-REFUND-1 ¥20.00", refunded_elsewhere.id()),
        format!("FEE_DIFFERS    {} fee ¥0.07000, the account's rate makes it ¥0.06000", dear.id()),
        format!("WRITTEN_TWICE  {reference} ¥42.00 credited 2 times"),
    ];
    for want in &expected {
        assert!(exceptions.iter().any(|e| e.starts_with(want.as_str())), "{want}\nnot in {exceptions:#?}");
    }
    assert_eq!(exceptions.len(), expected.len(), "nothing else: {exceptions:#?}");
    assert!(flags.contains(&kiosk_core::recon::Flag::Matched { order: clean.id().into() }), "{flags:?}");
}

/// R7 through reconciliation: the channel kept the money of an order whose reverse was never
/// confirmed. The run journals the whole-order refund and makes no call; the kiosk, resuming
/// unfinished payments, sends it.
#[tokio::test]
async fn a_refund_the_files_call_for_is_journaled_by_recon_and_sent_by_the_kiosk() {
    let kiosk = TestKiosk::start().await;
    let (payment, code) = kiosk.pay_into_suspense(3150).await;
    assert!(matches!(payment.state, State::Suspense { .. }), "{:?}", payment.state);
    kiosk.channel(&code).faults().clear();
    // The customer entered the PIN after all: the channel took the money.
    assert!(kiosk.channel(&code).enter_pin(payment.id()));

    let now = yizhan::clock::now();
    let (files, unread) = yizhan::recon::read_files(kiosk.runtime(), &Day::of(now).booking_days(), now).await;
    assert!(unread.is_empty(), "{unread:?}");
    let settled = yizhan::recon::settle_suspense(kiosk.runtime(), payment.clone(), &files).await.unwrap();
    let yizhan::recon::Settled::Corrected { payment: after, left_for_kiosk } = &settled else {
        panic!("{settled:?}");
    };
    assert_eq!(after.state, State::Refunding);
    assert_eq!(left_for_kiosk, &["refund 1".to_string()], "{}", settled.describe());
    assert!(settled.describe().contains("left for the running kiosk to carry out: refund 1"));
    assert_eq!(kiosk.runtime().load(payment.id()).await.unwrap().state, State::Refunding, "journaled");
    assert_eq!(kiosk.channel_money(&code, payment.id()).2, Vec::<Fen>::new(), "no refund sent by recon");

    let resumed = kiosk.runtime().recover(&Quiet).await.unwrap();
    let after = resumed.iter().find(|p| p.id() == payment.id()).expect("resumed");
    assert!(matches!(after.state, State::Refunded | State::RefundPending), "{:?}", after.state);
    assert_eq!(kiosk.channel_money(&code, payment.id()).2, [Fen(3150)], "one refund, by the kiosk");
    kiosk.verify_chain().await;
}

/// The journal refuses a reconciliation step from a state the kiosk has left meanwhile; the run
/// reports it and moves on.
#[tokio::test]
async fn a_payment_the_kiosk_moved_meanwhile_is_left_to_it() {
    let kiosk = TestKiosk::start().await;
    let read_by_recon = written_off_unconfirmed_yesterday(&kiosk, wechat_code()).await;
    // Meanwhile staff settle it at the kiosk.
    let event = kiosk_core::Event::StaffResolved {
        staff_id: "S1".into(),
        outcome: kiosk_core::StaffOutcome::Delivered,
        reason: "checked with the biller".into(),
    };
    let moved = kiosk.runtime().settle_externally(read_by_recon.clone(), event, &Quiet).await.unwrap();
    assert_eq!(moved.state, State::Done);
    let before = kiosk.runtime().journal.transitions(read_by_recon.id()).await.unwrap().len();

    let now = yizhan::clock::now();
    let (files, _) =
        yizhan::recon::read_files(kiosk.runtime(), &Day::of(now).previous().booking_days(), now).await;
    let settled =
        yizhan::recon::settle_suspense(kiosk.runtime(), read_by_recon.clone(), &files).await.unwrap();
    let yizhan::recon::Settled::Left { stored, payment } = &settled else {
        panic!("{settled:?}");
    };
    assert_eq!(stored, "DONE");
    assert_eq!(payment.state, State::Done);
    assert!(settled.describe().contains("the kiosk moved it to DONE meanwhile"), "{}", settled.describe());
    let after = kiosk.runtime().journal.transitions(read_by_recon.id()).await.unwrap().len();
    assert_eq!(after, before, "nothing journaled");
    kiosk.verify_chain().await;
}

/// `yizhan recon` runs beside the kiosk and journals its corrections into the same journal; the
/// kiosk verifies the rows chained onto its tip and goes on taking money.
#[tokio::test(flavor = "multi_thread")]
async fn the_kiosk_keeps_taking_money_after_recon_journaled_beside_it() {
    let kiosk = TestKiosk::start().await;
    written_off_unconfirmed_yesterday(&kiosk, wechat_code()).await;
    let config = remote_config(&kiosk);
    let (stdout, _) = recon_yesterday_in_the_background(&kiosk, config, 0).await;
    assert!(stdout.contains("CORRECTED"), "{stdout}");
    let next = kiosk.pay(Utility::Water, &kiosk.account(Utility::Water, 3150), wechat_code()).await;
    assert_eq!(next.state, State::Done);
    assert!(kiosk.runtime().journal_fault().is_none());
    kiosk.verify_chain().await;
}
