//! Reconciliation in the hub over the central journal: real kiosk journals shipped over mutual
//! TLS, the channels' statements fetched from the simulators (over HTTP, stored as received),
//! a biller's file as the biller writes it, the seeded discrepancies each found, the scratch
//! pool holding what a later file may explain, and suspense settled by a command to the kiosk
//! that names the files' hashes.

use crate::common;

use std::path::PathBuf;

use chrono::NaiveDate;
use common::{scalar, TestHub};
use fleet::wire::CommandAction;
use journal::NewPayment;
use kiosk_core::bill::Bill;
use kiosk_core::order::{Order, OrderRef};
use kiosk_core::payment::{LineState, State, SuspenseReason};
use kiosk_core::recon::Day;
use kiosk_core::{Channel, Fen, Payment, Ts, Utility};
use payments::sim::{LedgerEntry, LedgerKind};

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/sim-keys")
}

/// Three days ago (Beijing): its files and the next day's are final by now.
fn day() -> Day {
    Day(Day::of(Ts(chrono::Utc::now().timestamp_millis())).0 - 3)
}

fn at(hour: i64) -> Ts {
    Ts(day().starts_at().0 + hour * 3_600_000)
}

/// A payment of `day()` at `hour`, as its kiosk would have journaled it.
fn payment(number: u32, channel: Channel, fen: i64, hour: i64, state: State) -> Payment {
    let bill = Bill { bill_id: format!("B-{number}"), ..kiosk_core::testing::bill(Utility::Water, fen) };
    let reference = OrderRef::new(format!("YZ00012612010000{number:02}")).unwrap();
    let order = Order::for_bill(reference, "SH-RECON-01", at(hour), &bill).unwrap();
    let mut p = Payment::new(order);
    p.channel = Some(channel);
    // A finished payment was paid and written off; one in suspense never heard either.
    if state == State::Done {
        p.channel_txn = Some(format!("TXN{number}"));
        p.lines = vec![LineState::WrittenOff { biller_txn: format!("W{number}"), card: None }];
    }
    p.state = state;
    p
}

fn suspense(reason: SuspenseReason) -> State {
    State::Suspense { reason, next_check_at: None }
}

async fn journal(kiosk: &common::TestKiosk, p: &Payment) {
    kiosk
        .journal
        .journal
        .create_payment(&NewPayment {
            id: p.id().to_string(),
            kiosk_id: "SH-RECON-01".into(),
            created_at: p.order.created_at.0,
            total_fen: p.order.total().0,
            channel: p.channel.map(|c| c.code().to_string()),
            state: p.state.label().to_string(),
            terminal: p.state.is_terminal(),
            parked: p.state.is_parked(),
            next_deadline: None,
            snapshot: serde_json::to_string(p).unwrap(),
            event: "as journaled".into(),
            effects: String::new(),
            keys: vec![],
        })
        .await
        .unwrap();
}

fn charge(p: &Payment, hour: i64) -> LedgerEntry {
    LedgerEntry {
        out_trade_no: p.id().into(),
        channel_txn: format!("CH-{}", p.id()),
        kind: LedgerKind::Charge,
        amount: p.order.total(),
        refund_no: None,
        at: at(hour),
    }
}

/// The water company's file of `date` crediting each reference once, `twice` two times.
fn water_file(date: NaiveDate, credited: &[&Payment], twice: &Payment) -> Vec<u8> {
    let mut rows = Vec::new();
    let listed: Vec<&Payment> = credited.iter().copied().chain([twice, twice]).collect();
    for (serial, p) in listed.iter().enumerate() {
        let line = &p.order.lines[0];
        rows.push(format!(
            "{date}|{:06}|{}|3100000011|{}|wechat|pay",
            serial + 1,
            line.biller_ref,
            line.amount.0
        ));
    }
    let total: i64 = listed.iter().map(|p| p.order.total().0).sum();
    format!("{}|{total}\n{}\n", rows.len(), rows.join("\n")).into_bytes()
}

#[tokio::test]
async fn a_fleet_day_is_reconciled_its_discrepancies_found_and_its_suspense_settled_from_the_files() {
    let hub = TestHub::start().await;
    let kiosk = hub.kiosk("SH-RECON-01").await;
    let sims = payments::sim::start_all(&payments::sim::ChannelSimsConfig::demo(&keys_dir())).await.unwrap();

    let matched = payment(1, Channel::WeChat, 3150, 10, State::Done);
    let reverse_unconfirmed =
        payment(2, Channel::WeChat, 2000, 11, suspense(SuspenseReason::ReverseUnconfirmed));
    let unionpay_doubt =
        payment(3, Channel::UnionPay, 8935, 12, suspense(SuspenseReason::WriteOffUnconfirmed));
    let lost_row = payment(4, Channel::Alipay, 1200, 13, State::Done);
    let dear = payment(5, Channel::WeChat, 1000, 14, State::Done);
    let twice = payment(6, Channel::WeChat, 4200, 15, State::Done);
    let all = [&matched, &reverse_unconfirmed, &unionpay_doubt, &lost_row, &dear, &twice];
    for p in all {
        journal(&kiosk, p).await;
    }
    kiosk.shipper().await.ship_pending().await.unwrap();

    // The channels' books: every charge but the lost one and the reversed one; a fee one fen
    // off; a refund nobody asked for.
    sims.wechat.add_ledger_entry(charge(&matched, 10));
    sims.wechat.add_ledger_entry(charge(&dear, 14));
    sims.wechat.add_ledger_entry(charge(&twice, 15));
    sims.wechat.misstate_fee(dear.id(), 1);
    sims.wechat.add_ledger_entry(LedgerEntry {
        kind: LedgerKind::Refund,
        amount: Fen(500),
        refund_no: Some("COUNTER-R1".into()),
        channel_txn: "REFUND-ELSEWHERE".into(),
        ..charge(&matched, 16)
    });
    sims.unionpay.add_ledger_entry(charge(&unionpay_doubt, 12));
    // The water company credits every line paid for, `twice`'s twice.
    let credited: Vec<&Payment> =
        all.iter().copied().filter(|p| ![twice.id(), reverse_unconfirmed.id()].contains(&p.id())).collect();
    let date = day().date();
    let water = hub::recon::accounts::Account {
        source: "biller:water".into(),
        merchant: "water".into(),
        fee_ppm: None,
    };
    hub::recon::accounts::register(hub.pool(), &water).await.unwrap();
    let file = water_file(date, &credited, &twice);
    hub::statements::store(hub.pool(), "water", "biller:water", date, &file).await.unwrap();
    let next = day().next().date();
    hub::statements::store(hub.pool(), "water", "biller:water", next, b"0|0\n").await.unwrap();

    // Fetch the channels' files of the day and the next, stored as received.
    let accounts =
        hub::recon::accounts::AccountsFile { payments: sims.client_config(&keys_dir()), billers: None };
    let fetched = accounts.clients().unwrap().fetch(hub.pool(), &day().booking_days()).await.unwrap();
    assert!(fetched.failed.is_empty(), "{:?}", fetched.failed);
    assert_eq!(fetched.stored.len(), 8, "four statements, two days: {:?}", fetched.stored);
    let wechat_file = hub::statements::latest(hub.pool(), "10000100", "wechat", date).await.unwrap().unwrap();
    assert_eq!(wechat_file.sha256, fleet::package::sha256_hex(&wechat_file.body));
    // As WeChat sent it: gzip'd; parsed again from those bytes whenever needed.
    assert!(wechat_file.body.starts_with(&[0x1f, 0x8b]), "kept gzip'd, as received");
    let again = payments::parse_statement(Channel::WeChat, &wechat_file.body, date, "10000100").unwrap();
    assert!(again.iter().any(|r| r.refund_no.as_deref() == Some("COUNTER-R1")));

    let now = Ts(chrono::Utc::now().timestamp_millis());
    // Until the kiosk says which merchant accounts it takes money into, only a charge in the
    // files settles a payment: complete files of *some* account prove nothing of its absence.
    let before = hub::recon::run_day(hub.pool(), date, now).await.unwrap();
    assert_eq!(before.settled, 1, "the UnionPay payment, charged per its file: {before:?}");
    let mut beat = common::healthy_beat();
    beat.merchants =
        [("wechat", "10000100"), ("alipay", "2021000000000001"), ("unionpay-acquirer", "777290058110048")]
            .map(|(source, merchant)| fleet::wire::MerchantAccount {
                source: source.into(),
                merchant: merchant.into(),
            })
            .to_vec();
    kiosk.client.heartbeat(&beat).await.unwrap();
    let summary = hub::recon::run_day(hub.pool(), date, now).await.unwrap();
    assert!(summary.unreadable.is_empty(), "{:?}", summary.unreadable);
    // The one payment whose three books agree (another fee or a write-off credited twice is an
    // exception, not a match; a payment in suspense is neither).
    assert_eq!(summary.matched, 1, "{summary:?}");
    let open = hub::recon::desk::open(hub.pool(), 100).await.unwrap();
    let details: Vec<&str> = open.iter().map(|e| e.detail.as_str()).collect();
    let has = |prefix: String| details.iter().any(|d| d.starts_with(&prefix));
    // Reported at once: another fee, a write-off credited twice, both payments in suspense.
    assert!(has(format!("FEE_DIFFERS    {}", dear.id())), "{details:#?}");
    assert!(has(format!("WRITTEN_TWICE  {}", twice.order.lines[0].biller_ref)), "{details:#?}");
    assert!(has(format!("IN_SUSPENSE    {}", reverse_unconfirmed.id())), "{details:#?}");
    assert_eq!(summary.exceptions, open.len());
    assert_eq!(open.len(), 4, "{details:#?}");
    // Held for a later day's files: the lost row (LOCAL_ONLY) and the stranger's refund.
    assert_eq!(summary.held, 2, "{summary:?}");
    assert_eq!(summary.line(), "reconciled: 1 matched, 4 exceptions");

    // The day's result per statement and biller.
    let figures = hub::recon::desk::by_source(hub.pool(), date).await.unwrap();
    let of = |source: &str| figures.iter().find(|f| f.source == source).cloned().unwrap();
    let wechat = of("wechat");
    assert_eq!((wechat.matched, wechat.open, wechat.merchants.clone()), (1, 2, vec!["10000100".to_string()]));
    assert_eq!((of("unionpay-acquirer").open, of("biller:water").open), (1, 1), "{figures:?}");
    // Each exception names the files it was read from, by hash, and the journal's transition.
    let fee = open.iter().find(|e| e.kind == "FEE_DIFFERS").unwrap();
    assert_eq!(fee.kiosk_id.as_deref(), Some("SH-RECON-01"));
    assert_eq!(fee.order_ref.as_deref(), Some(dear.id()));
    let hashes: Vec<&str> =
        fee.evidence["files"].as_array().unwrap().iter().map(|f| f["sha256"].as_str().unwrap()).collect();
    assert!(hashes.contains(&wechat_file.sha256.as_str()), "{:?}", fee.evidence);
    assert_eq!(fee.evidence["journal"]["seq"], 5);

    // Both payments in suspense settle from their files: a command to the kiosk with the
    // evidence and the hashes of the files it comes from (the UnionPay one sent by the run before).
    assert_eq!(summary.settled, 1, "{summary:?}");
    let commands = hub::commands::list(hub.pool(), "SH-RECON-01", 10).await.unwrap();
    let settle_of = |order: &str| {
        commands.iter().find_map(|c| {
            match serde_json::from_value::<CommandAction>(c.action.clone()).unwrap() {
                CommandAction::ReconcileSuspense { order_ref, evidence } if order_ref == order => {
                    let files = evidence.files.clone();
                    Some((evidence, files))
                }
                _ => None,
            }
        })
    };
    let (evidence, files) = settle_of(reverse_unconfirmed.id()).expect("the reverse is settled");
    assert!(evidence.complete && !evidence.charged, "complete WeChat files without the charge: {evidence:?}");
    assert!(files.contains(&wechat_file.sha256), "{files:?}");
    let (evidence, files) = settle_of(unionpay_doubt.id()).expect("the UnionPay payment is settled");
    assert!(evidence.charged && evidence.written_off == [true], "{evidence:?}");
    let zm = hub::statements::latest(hub.pool(), "777290058110048", "unionpay-acquirer", date)
        .await
        .unwrap()
        .unwrap();
    assert!(files.contains(&zm.sha256), "the acquirer's ZM file is named: {files:?}");

    // Run again: nothing is filed twice, nothing sent twice.
    let again = hub::recon::run_day(hub.pool(), date, now).await.unwrap();
    assert_eq!(again.settled, 0);
    assert_eq!(hub::recon::desk::open(hub.pool(), 100).await.unwrap().len(), 4);

    // Two days on, with the later files read and still no row: what was held is reported.
    let mut days = day();
    for _ in 0..2 {
        days = days.next();
        let accounts_clients = accounts.clients().unwrap();
        accounts_clients.fetch(hub.pool(), &days.booking_days()).await.unwrap();
        for d in days.booking_days() {
            hub::statements::store(hub.pool(), "water", "biller:water", d.date(), b"0|0\n").await.unwrap();
        }
        hub::recon::run_day(hub.pool(), days.date(), now).await.unwrap();
    }
    let open = hub::recon::desk::open(hub.pool(), 100).await.unwrap();
    let details: Vec<&str> = open.iter().map(|e| e.detail.as_str()).collect();
    let lost = open.iter().find(|e| e.detail.starts_with(&format!("LOCAL_ONLY     {}", lost_row.id())));
    assert_eq!(lost.map(|e| e.day), Some(date), "first seen on the day itself: {details:#?}");
    assert!(details
        .iter()
        .any(|d| d.starts_with(&format!("REFUND_CHANNEL {} refund COUNTER-R1", matched.id()))));

    // Finance resolves one, with a reason; it leaves the desk and the audit log has it.
    assert!(hub::recon::desk::resolve(hub.pool(), fee.id, "fin", "fee refunded by WeChat, ticket 42")
        .await
        .unwrap());
    assert!(!hub::recon::desk::resolve(hub.pool(), fee.id, "fin", "twice").await.unwrap(), "once");
    let resolved = hub::recon::desk::get(hub.pool(), fee.id).await.unwrap().unwrap();
    assert_eq!((resolved.status.as_str(), resolved.resolved_by.as_deref()), ("resolved", Some("fin")));
    let audited = scalar(hub.pool(), "SELECT count(*) FROM audit_log WHERE action = 'recon.resolve'").await;
    assert_eq!(audited, 1);
}

/// The schedule: the newest day whose files are final is fetched and reconciled once; a later
/// turn finds it done. Turns of two instances at once: one does the work.
#[tokio::test]
async fn the_scheduled_turn_reconciles_the_newest_final_day_once() {
    let hub = TestHub::start().await;
    let sims = payments::sim::start_all(&payments::sim::ChannelSimsConfig::demo(&keys_dir())).await.unwrap();
    let accounts =
        hub::recon::accounts::AccountsFile { payments: sims.client_config(&keys_dir()), billers: None };
    let clients = accounts.clients().unwrap();
    let now = Ts(chrono::Utc::now().timestamp_millis());
    let due = Day::latest_complete(now);
    sims.wechat.add_ledger_entry(LedgerEntry {
        out_trade_no: "YZELSEWHERE0001".into(),
        channel_txn: "CH-ELSEWHERE".into(),
        kind: LedgerKind::Charge,
        amount: Fen(999),
        refund_no: None,
        at: Ts(due.starts_at().0 + 12 * 3_600_000),
    });

    let (first, second) = tokio::join!(
        hub::recon::scheduled_turn(hub.pool(), &clients, now),
        hub::recon::scheduled_turn(hub.pool(), &clients, now)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert!(first.is_empty() || second.is_empty(), "one instance takes the turn");
    let runs: Vec<_> = first.into_iter().chain(second).collect();
    // The backlog: every one of the last seven days, oldest first, each complete.
    let days: Vec<_> = runs.iter().map(|r| r.day).collect();
    let expected: Vec<_> = (0..hub::recon::BACKLOG_DAYS).rev().map(|back| Day(due.0 - back).date()).collect();
    assert_eq!(days, expected);
    assert!(runs.iter().all(|r| r.unreadable.is_empty()), "{runs:?}");
    // The stranger's charge waits in the pool for a late journal.
    let newest = runs.last().unwrap();
    assert_eq!(newest.held, 1, "{newest:?}");
    // Files, not versions: a day's file fetched again a second later may be new bytes (Alipay's
    // bill says when it was exported), kept as a newer version of the same file.
    let stored = scalar(hub.pool(), "SELECT count(DISTINCT (merchant, source, day)) FROM statements").await;
    assert_eq!(stored, 4 * 8, "four statements, eight days (the seven and the day after): {runs:?}");
    let complete = scalar(hub.pool(), "SELECT count(*) FROM recon_runs WHERE complete").await;
    assert_eq!(complete, 7);
    assert!(hub::recon::scheduled_turn(hub.pool(), &clients, now).await.unwrap().is_empty(), "done already");
}

fn collected(id: i64, hour: i64, notes: u32, sum_fen: i64) -> fleet::wire::CashCollectionReport {
    fleet::wire::CashCollectionReport {
        id,
        at_ms: at(hour).0,
        staff_id: "S001".into(),
        notes,
        sum_fen,
        unknown: 0,
        uncertain: 0,
    }
}

/// The cash boxes' collections reach the hub in the heartbeats (each kept once, however often a
/// heartbeat repeats it); finance enters what was counted out of each cassette, once and audited;
/// the run of the collection's day matches the count that agrees and puts the one short of the
/// journal on the desk, with both sides.
#[tokio::test]
async fn a_cash_count_short_of_the_journal_is_put_on_the_desk() {
    let hub = TestHub::start().await;
    let kiosk = hub.kiosk("SH-CASH-01").await;
    let mut beat = common::healthy_beat();
    beat.cash_collections = vec![collected(2, 18, 3, 30_000), collected(1, 9, 5, 25_000)];
    kiosk.client.heartbeat(&beat).await.unwrap();
    kiosk.client.heartbeat(&beat).await.unwrap();
    let kept = hub::recon::cash::of_day(hub.pool(), day().date()).await.unwrap();
    assert_eq!(
        kept.iter().map(|c| (c.collection_id, c.journaled_fen)).collect::<Vec<_>>(),
        [(1, 25_000), (2, 30_000)]
    );

    let pool = hub.pool();
    let count = |id: i64, fen: i64| hub::recon::cash::record_count(pool, "SH-CASH-01", id, Fen(fen), "fin");
    assert_eq!(count(1, 25_000).await.unwrap(), Some(day().date()));
    assert_eq!(count(2, 29_000).await.unwrap(), Some(day().date()), "a 10-yuan note short");
    assert_eq!(count(2, 30_000).await.unwrap(), None, "counted once: a recount is a resolution");
    assert_eq!(count(9, 100).await.unwrap(), None, "no such collection");
    let audited = scalar(pool, "SELECT count(*) FROM audit_log WHERE action = 'recon.cash_count'").await;
    assert_eq!(audited, 2);

    let now = Ts(chrono::Utc::now().timestamp_millis());
    let summary = hub::recon::run_day(pool, day().date(), now).await.unwrap();
    assert_eq!(summary.exceptions, 1, "{summary:?}");
    let open = hub::recon::desk::open(pool, 10).await.unwrap();
    assert_eq!(open.len(), 1);
    let short = &open[0];
    assert_eq!(short.kind, "CASH_DIFFERS");
    assert_eq!(short.kiosk_id.as_deref(), Some("SH-CASH-01"));
    assert!(short.detail.starts_with("CASH_DIFFERS   SH-CASH-01/cash/2 journaled"), "{}", short.detail);
    assert_eq!(short.evidence["cash"]["journaled_fen"], 30_000);
    assert_eq!(short.evidence["cash"]["counted_fen"], 29_000);
    let figures = hub::recon::desk::by_source(pool, day().date()).await.unwrap();
    let cash = figures.iter().find(|f| f.source == "cash-collection").expect("the cash boxes' figures");
    assert_eq!((cash.matched, cash.open), (1, 1));
    // Run again: filed once.
    let again = hub::recon::run_day(pool, day().date(), now).await.unwrap();
    assert_eq!(again.exceptions, 1);
    assert_eq!(hub::recon::desk::open(pool, 10).await.unwrap().len(), 1);
}
