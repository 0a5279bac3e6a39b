//! The card acquirer's settlement file and portal: a file as an acquirer writes it (GBK, the
//! Allinpay-style columns, the 合计 line) read row by row; files that disagree with themselves
//! refused; and the simulator's portal serving what the terminals reported, to the signed
//! client only.

use crate::common;

use chrono::NaiveDate;
use kiosk_core::money::MilliFen;
use kiosk_core::{Channel, Fen, Ts};
use payments::card_acquirer::file::{parse, parse_detailed};
use payments::sim::HostTransaction;
use payments::{StatementError, StatementKind};
use proptest::prelude::*;

const MERCHANT: &str = "898310048990001";

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// A day of one terminal: a sale, a sale voided, a refund of part of a third sale's order, and a
/// sale the terminal was given no order number for.
const DAY: &str = "商户号,终端号,交易日期,交易时间,交易类型,批次号,凭证号,参考号,卡号,交易金额,手续费,结算金额,订单号,原订单号\r\n\
898310048990001,10000001,20261204,101502,消费,000001,000012,310000000012,622202******0018,31.50,0.16,31.34,YZ00012612040000001,\r\n\
898310048990001,10000001,20261204,103000,消费,000001,000013,310000000013,622202******0018,20.00,0.10,19.90,YZ00012612040000002,\r\n\
898310048990001,10000001,20261204,103105,消费撤销,000001,000014,310000000014,622202******0018,20.00,-0.10,-19.90,YZ00012612040000002,\r\n\
898310048990001,10000001,20261204,150000,退货,000001,000015,310000000015,622202******0018,5.00,-0.03,-4.97,YZ00012612040000003R1,YZ00012612040000003\r\n\
898310048990001,10000002,20261204,235959,消费,000002,000001,310000000099,621700******1234,8.00,0.04,7.96,,\r\n\
合计,5,84.50,0.17,34.33\r\n";

#[test]
fn a_settlement_file_as_the_acquirer_writes_it_is_read_row_by_row() {
    let rows = parse_detailed(&gbk(DAY), MERCHANT, date()).unwrap();
    assert_eq!(rows.len(), 5);
    let sale = &rows[0];
    assert_eq!(
        (sale.terminal_id.as_str(), sale.batch.as_str(), sale.voucher.as_str(), sale.ref_no.as_str()),
        ("10000001", "000001", "000012", "310000000012")
    );
    assert_eq!(sale.row.out_trade_no, "YZ00012612040000001");
    assert_eq!(sale.row.channel_txn, "310000000012");
    assert_eq!(
        (sale.row.kind, sale.row.amount, sale.row.fee),
        (StatementKind::Payment, Fen(3150), Some(MilliFen(16_000)))
    );
    // 2026-12-04 10:15:02 Beijing is 02:15:02 UTC.
    assert_eq!(sale.row.time, Ts(1_796_350_502_000));
    let void = &rows[2].row;
    assert_eq!(
        (void.kind, void.out_trade_no.as_str(), void.amount),
        (StatementKind::Reversed, "YZ00012612040000002", Fen(2000))
    );
    let refund = &rows[3].row;
    assert_eq!((refund.kind, refund.out_trade_no.as_str()), (StatementKind::Refund, "YZ00012612040000003"));
    assert_eq!(refund.refund_no.as_deref(), Some("YZ00012612040000003R1"));
    // A sale without an order number is named by its reference no.: nobody's order.
    assert_eq!(rows[4].row.out_trade_no, "RRN310000000099");
    // The same reading through the one entry point the hub uses.
    assert_eq!(payments::parse_statement(Channel::BankCard, &gbk(DAY), date(), MERCHANT).unwrap().len(), 5);
}

fn refused(bytes: &[u8]) -> String {
    match parse(bytes, MERCHANT, date()) {
        Err(error @ (StatementError::Malformed { .. } | StatementError::Archive { .. })) => error.to_string(),
        other => panic!("read: {other:?}"),
    }
}

#[test]
fn a_file_that_disagrees_with_itself_or_is_of_another_merchant_is_refused() {
    let cases = [
        ("合计,5,84.50,0.17,34.33", "合计,4,84.50,0.17,34.33", "rows"),
        ("合计,5,84.50,0.17,34.33", "合计,5,84.51,0.17,34.33", "交易金额"),
        ("合计,5,84.50,0.17,34.33", "合计,5,84.50,0.18,34.33", "手续费"),
        ("31.50,0.16,31.34", "31.50,0.16,31.35", "结算金额"),
        ("合计,5,84.50,0.17,34.33\r\n", "", "cut short"),
        ("898310048990001,10000001,20261204,101502", "898310048990009,10000001,20261204,101502", "merchant"),
        ("消费,000001,000012", "预授权,000001,000012", "交易类型"),
        ("31.50,0.16", "31.5,0.16", "交易金额"),
        ("310000000012", "31000000001X", "参考号"),
        ("20261204,101502", "20261209,101502", "in the file of"),
        ("20261204,101502", "20261205,101502", "in the file of"),
        ("5.00,-0.03,-4.97", "5.00,0.03,-5.03", "wrong sign"),
        ("商户号,终端号", "商户编号,终端号", "header"),
        ("YZ00012612040000001,", "YZ0001261204,0000001,", "columns"),
    ];
    for (from, to, says) in cases {
        assert!(DAY.contains(from), "{from}");
        let error = refused(&gbk(&DAY.replacen(from, to, 1)));
        assert!(error.contains(says), "{to:?}: {error}");
    }
    assert!(refused(&gbk(&format!("{DAY}898310048990001,extra\r\n"))).contains("after the totals"));
    assert!(refused(b"\r\n").contains("header"));
    // No bytes at all is no file yet (the client's answer for a day not over): no rows.
    assert_eq!(parse(b"", MERCHANT, date()).unwrap(), []);
    // Bytes that are not GBK.
    assert!(refused(&[0x81, 0x20, 0xff]).contains("GBK"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Whatever the bytes, the reader answers rows or an error.
    #[test]
    fn any_bytes_are_read_or_refused_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse(&bytes, MERCHANT, date());
    }

    /// A good file cut or changed at any byte is read or refused, never a panic.
    #[test]
    fn a_damaged_file_is_read_or_refused(at in 0usize..600, byte in any::<u8>()) {
        let mut bytes = gbk(DAY);
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = parse(&bytes, MERCHANT, date());
        let _ = parse(&bytes[..at], MERCHANT, date());
    }
}

fn reported(trans: &str, reference: &str, original: &str, fen: i64, ref_no: &str, at: Ts) -> HostTransaction {
    HostTransaction {
        trans: trans.into(),
        reference: reference.into(),
        original: original.into(),
        amount: Fen(fen),
        merchant_id: MERCHANT.into(),
        terminal_id: "10000001".into(),
        batch: "000001".into(),
        voucher: ref_no[6..].into(),
        ref_no: ref_no.into(),
        pan: "622202******0018".into(),
        at,
    }
}

#[tokio::test]
async fn the_portal_lists_what_the_terminals_reported_to_the_signed_client_only() {
    let world = common::world().await;
    let now = Ts(chrono::Utc::now().timestamp_millis());
    let line = payments::sim::host_line(&world.sims.card_acquirer.url());
    for txn in [
        reported("sale", "YZCARD0001", "", 3150, "310000000101", now),
        reported("sale", "YZCARD0002", "", 2000, "310000000102", now),
        reported("void", "YZCARD0002", "", 2000, "310000000103", now),
        reported("sale", "YZCARD0003", "", 1200, "310000000104", now),
        // Reversed before it settled (the sale's answer was lost): in no file.
        reported("reversal", "YZCARD0003", "", 1200, "310000000104", now),
        reported("refund", "YZCARD0001R1", "YZCARD0001", 500, "310000000105", now),
    ] {
        line.send(txn).unwrap();
    }
    // Posted in order: once the refund is in, so is everything before it.
    while !world.sims.card_acquirer.ledger().iter().any(|e| e.kind == payments::sim::LedgerKind::Refund) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let today = kiosk_core::recon::Day::of(now).date();
    let rows = world.clients.statement(Channel::BankCard, today).await.unwrap();
    let listed: Vec<(StatementKind, &str, i64)> =
        rows.iter().map(|r| (r.kind, r.out_trade_no.as_str(), r.amount.0)).collect();
    assert_eq!(
        listed,
        [
            (StatementKind::Payment, "YZCARD0001", 3150),
            (StatementKind::Payment, "YZCARD0002", 2000),
            (StatementKind::Reversed, "YZCARD0002", 2000),
            (StatementKind::Refund, "YZCARD0001", 500),
        ]
    );
    // The fee the account agreed (0.50%), to the fen: 15.75 fen rounds to 16.
    assert_eq!(rows[0].fee, Some(MilliFen(16_000)));
    assert_eq!(rows[3].refund_no.as_deref(), Some("YZCARD0001R1"));
    assert_eq!(world.clients.merchants().last(), Some(&(Channel::BankCard, MERCHANT.to_string())));

    // A client with another key is refused; another merchant's file is not served.
    let mut config = world.sims.client_config(&common::keys_dir());
    let acquirer = config.card_acquirer.as_mut().unwrap();
    acquirer.key = payments::Secret::from("not-the-portal-key-at-all");
    let wrong_key = payments::ChannelClients::new(&config).unwrap();
    let error = wrong_key.fetch_statement(Channel::BankCard, today).await.unwrap_err();
    assert!(error.to_string().contains("401"), "{error}");
    let mut config = world.sims.client_config(&common::keys_dir());
    config.card_acquirer.as_mut().unwrap().merchant_id = "898310048990002".into();
    let other = payments::ChannelClients::new(&config).unwrap();
    assert_eq!(other.fetch_statement(Channel::BankCard, today).await.unwrap(), b"", "no file yet today");
    // Tomorrow's file is not there yet: no rows (a copy never final); a past day's absence is
    // an error, never "no rows".
    let tomorrow = world.clients.statement(Channel::BankCard, today.succ_opt().unwrap()).await.unwrap();
    assert!(tomorrow.is_empty());
    let error = other.fetch_statement(Channel::BankCard, today.pred_opt().unwrap()).await.unwrap_err();
    assert!(error.to_string().contains("404"), "{error}");
}
