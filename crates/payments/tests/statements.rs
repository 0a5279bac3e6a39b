//! Daily statements built by the simulators from their ledgers and parsed by the clients,
//! including the tampering that reconciliation must catch (channel-only rows, changed amounts).

mod common;

use common::{alipay_code, order, pay_request, refund_request, wechat_code, world};
use kiosk_core::{Channel, Fen};
use payments::sim::{LedgerEntry, LedgerKind};
use payments::{StatementKind, StatementRow};

fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn summary(rows: &[StatementRow]) -> Vec<(String, StatementKind, i64, Option<String>)> {
    let mut out: Vec<_> =
        rows.iter().map(|r| (r.out_trade_no.clone(), r.kind, r.amount.0, r.refund_no.clone())).collect();
    out.sort();
    out
}

async fn scenario(channel: Channel, code: fn() -> kiosk_core::PaymentCode) {
    let w = world().await;
    let sim = match channel {
        Channel::WeChat => &w.sims.wechat,
        _ => &w.sims.alipay,
    };
    let (paid, refunded, reversed) = (order(), order(), order());
    w.clients.pay(&pay_request(&paid, code(), 8650)).await;
    w.clients.pay(&pay_request(&refunded, code(), 1000)).await;
    w.clients.refund(channel, &refund_request(&refunded, 1000, 400)).await;
    w.clients.pay(&pay_request(&reversed, code(), 300)).await;
    w.clients.reverse(channel, &common::call(&reversed, 300), common::later_at()).await;
    // Reconciliation fixtures: a row only the channel has, and a charge it reports differently.
    sim.add_ledger_entry(LedgerEntry {
        out_trade_no: "CHANNELONLY0001".into(),
        channel_txn: "X1".into(),
        kind: LedgerKind::Charge,
        amount: Fen(77),
        refund_no: None,
        at: kiosk_core::Ts(chrono::Utc::now().timestamp_millis()),
    });
    assert!(sim.amend_charge(paid.as_str(), Fen(8600)));

    let rows = w.clients.statement(channel, today()).await.expect("statement");
    let mut expected = vec![
        (paid.to_string(), StatementKind::Payment, 8600, None),
        (refunded.to_string(), StatementKind::Payment, 1000, None),
        (refunded.to_string(), StatementKind::Refund, 400, Some(refunded.whole_refund_no())),
        (reversed.to_string(), StatementKind::Payment, 300, None),
        (reversed.to_string(), StatementKind::Reversed, 300, None),
        ("CHANNELONLY0001".to_string(), StatementKind::Payment, 77, None),
    ];
    expected.sort();
    assert_eq!(summary(&rows), expected);
    assert!(rows.iter().all(|r| !r.channel_txn.is_empty()));
}

#[tokio::test]
async fn wechat_downloadbill_reports_every_movement_of_the_day() {
    scenario(Channel::WeChat, wechat_code).await;
}

#[tokio::test]
async fn alipay_bill_reports_every_movement_of_the_day() {
    scenario(Channel::Alipay, alipay_code).await;
}

#[tokio::test]
async fn a_day_without_trades_is_an_empty_statement() {
    let w = world().await;
    let day = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    assert_eq!(w.clients.statement(Channel::WeChat, day).await.unwrap(), vec![]);
    assert_eq!(w.clients.statement(Channel::Alipay, day).await.unwrap(), vec![]);
    assert!(w.clients.statement(Channel::UnionPay, day).await.is_err(), "no acquirer file yet");
}

#[tokio::test]
async fn the_ledger_is_served_as_json() {
    let w = world().await;
    w.clients.pay(&pay_request(&order(), wechat_code(), 100)).await;
    let url = format!("{}/admin/ledger", w.sims.wechat.url());
    let ledger: Vec<LedgerEntry> = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(ledger, w.sims.wechat.ledger());
    assert_eq!(ledger.len(), 1);
}
