//! Daily statements built by the simulators from their ledgers and parsed by the clients,
//! including the tampering that reconciliation must catch (channel-only rows, changed amounts).

use crate::common;

use common::{alipay_code, code, order, pay_request, refund_request, wechat_code, world};
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

async fn scenario(channel: Channel) {
    let w = world().await;
    let sim = w.sim(channel);
    let (paid, refunded, reversed) = (order(), order(), order());
    w.clients.pay(&pay_request(&paid, code(channel), 8650)).await;
    w.clients.pay(&pay_request(&refunded, code(channel), 1000)).await;
    w.clients.refund(channel, &refund_request(&refunded, 1000, 400)).await;
    w.clients.pay(&pay_request(&reversed, code(channel), 300)).await;
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
    // Every charge carries the fee at the account's rate, as each channel rounds it.
    let (ppm, precision) = match channel {
        Channel::UnionPay => (3_800, 1_000),
        Channel::Alipay => (6_000, 1_000),
        _ => (6_000, 1),
    };
    for row in rows.iter().filter(|r| r.kind == StatementKind::Payment) {
        let exact = row.amount.0 * ppm;
        let rounded = (exact + 500 * precision) / (1_000 * precision) * precision;
        assert_eq!(row.fee, Some(kiosk_core::money::MilliFen(rounded)), "{channel} {}", row.out_trade_no);
    }
}

/// The seeded discrepancies reconciliation must find: a row the channel lost, a fee off by a fen.
#[tokio::test]
async fn seeded_statement_errors_reach_the_parsed_rows() {
    let w = world().await;
    for channel in [Channel::WeChat, Channel::Alipay, Channel::UnionPay] {
        let sim = w.sim(channel);
        let (lost, dear) = (order(), order());
        w.clients.pay(&pay_request(&lost, code(channel), 1000)).await;
        w.clients.pay(&pay_request(&dear, code(channel), 1000)).await;
        assert!(sim.omit_from_statement(lost.as_str(), LedgerKind::Charge));
        sim.misstate_fee(dear.as_str(), 1);
        let rows = w.clients.statement(channel, today()).await.expect("statement");
        assert!(!rows.iter().any(|r| r.out_trade_no == lost.as_str()), "{channel}");
        let fee = rows.iter().find(|r| r.out_trade_no == dear.as_str()).and_then(|r| r.fee);
        // 0.60% (0.38%) of ¥10.00 is 6 (3.8) fen; one fen more.
        let expected = if channel == Channel::UnionPay { 5_000 } else { 7_000 };
        assert_eq!(fee, Some(kiosk_core::money::MilliFen(expected)), "{channel}");
    }
}

#[tokio::test]
async fn wechat_downloadbill_reports_every_movement_of_the_day() {
    scenario(Channel::WeChat).await;
}

#[tokio::test]
async fn alipay_bill_reports_every_movement_of_the_day() {
    scenario(Channel::Alipay).await;
}

#[tokio::test]
async fn unionpay_acquirer_file_reports_every_movement_of_the_day() {
    scenario(Channel::UnionPay).await;
}

#[tokio::test]
async fn a_day_without_trades_is_an_empty_statement() {
    let w = world().await;
    let day = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    assert_eq!(w.clients.statement(Channel::WeChat, day).await.unwrap(), vec![]);
    assert_eq!(w.clients.statement(Channel::Alipay, day).await.unwrap(), vec![]);
    // The acquirer names a day by MMDD: it serves the most recent such day, so a file of 2020
    // comes back as another year's and is refused, never read as that day's.
    let refused = w.clients.statement(Channel::UnionPay, day).await.unwrap_err();
    assert!(refused.to_string().contains("no ZM file of 200101"), "{refused}");
    let quiet = today() - chrono::Duration::days(30);
    assert_eq!(w.clients.statement(Channel::UnionPay, quiet).await.unwrap(), vec![]);
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

/// The Alipay bill as the simulator serves it, checked byte for byte against a file written
/// here from the ledger: a zip of two GBK CSV files with GBK names, every detail cell padded with
/// a tab, the subject (free text with a comma and quotes) quoted, and the summary lines.
#[tokio::test]
async fn alipay_bill_is_a_zip_of_gbk_csv_files_written_as_alipay_writes_them() {
    use std::io::Read;
    let w = world().await;
    let (paid, refunded, reversed) = (order(), order(), order());
    w.clients.pay(&pay_request(&paid, alipay_code(), 8650)).await;
    w.clients.pay(&pay_request(&refunded, alipay_code(), 1000)).await;
    w.clients.refund(Channel::Alipay, &refund_request(&refunded, 1000, 400)).await;
    w.clients.pay(&pay_request(&reversed, alipay_code(), 300)).await;
    w.clients.reverse(Channel::Alipay, &common::call(&reversed, 300), common::later_at()).await;
    let date = today();
    let url = format!("{}/bill/{}", w.sims.alipay.url(), date.format("%Y-%m-%d"));
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap().to_vec();

    let gbk = |text: &str| encoding_rs::GBK.encode(text).0.into_owned();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(archive.len(), 2);
    let mut files = Vec::new();
    for i in 0..2 {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name_raw().to_vec();
        let mut raw = Vec::new();
        entry.read_to_end(&mut raw).unwrap();
        files.push((name, raw));
    }
    let day = date.format("%Y%m%d");
    assert_eq!(files[0].0, gbk(&format!("20880000000000000156_{day}_业务明细.csv")));
    assert_eq!(files[1].0, gbk(&format!("20880000000000000156_{day}_业务明细(汇总).csv")));
    let (detail, _, bad) = encoding_rs::GBK.decode(&files[0].1);
    assert!(!bad);
    assert!(std::str::from_utf8(&files[0].1).is_err(), "GBK, not UTF-8");

    // The file as Alipay writes it, from the simulator's ledger.
    let ledger = w.sims.alipay.ledger();
    let time = |at: kiosk_core::Ts| {
        (chrono::DateTime::from_timestamp_millis(at.0).unwrap() + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let trade_no = |order: &str| {
        ledger
            .iter()
            .find(|e| e.out_trade_no == order && e.kind == LedgerKind::Charge)
            .unwrap()
            .channel_txn
            .clone()
    };
    let subject = "\"易站缴费 \"\"水/电/气\"\", 自助终端\"";
    let cn = |d: chrono::NaiveDate| d.format("%Y年%m月%d日").to_string();
    let rule = "-".repeat(41);
    let mut expected = format!(
        "#支付宝业务明细查询\r\n#账号：[20880000000000000156]\r\n#起始日期：[{} 00:00:00]   终止日期：[{} 00:00:00]\r\n#{rule}业务明细列表{rule}\r\n\
         支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n",
        cn(date),
        cn(date.succ_opt().unwrap())
    );
    let mut movements = 0;
    for entry in ledger.iter().filter(|e| e.kind != LedgerKind::Closed) {
        movements += 1;
        let (kind, amount) = match entry.kind {
            LedgerKind::Charge => ("交易", format!("{}.{:02}", entry.amount.0 / 100, entry.amount.0 % 100)),
            _ => ("退款", format!("-{}.{:02}", entry.amount.0 / 100, entry.amount.0 % 100)),
        };
        let remark = if entry.kind == LedgerKind::Reversal { "撤销" } else { "" };
        let refund_no = entry.refund_no.clone().unwrap_or_default();
        // The simulator's fee, 0.60% of a charge rounded to the fen, written as money paid out.
        let fee = match entry.kind {
            LedgerKind::Charge => format!("-0.{:02}", (entry.amount.0 * 6 + 500) / 1_000),
            _ => "0.00".to_string(),
        };
        let at = time(entry.at);
        let txn = trade_no(&entry.out_trade_no);
        let row = [
            txn.as_str(),
            &entry.out_trade_no,
            kind,
            subject,
            &at,
            &at,
            "",
            "",
            "",
            "SIM-0001",
            "sim***@example.com",
            &amount,
            &amount,
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "",
            "0.00",
            "0.00",
            &refund_no,
            &fee,
            "0.00",
            remark,
        ];
        expected.push_str(&row.map(|c| format!("{c}\t")).join(","));
        expected.push_str("\r\n");
    }
    assert_eq!(movements, 5, "3 charges, a refund, a reverse");
    expected.push_str(&format!("#{rule}业务明细列表结束{rule}\r\n"));
    expected.push_str("#交易合计：3笔，商家实收共99.50元，商家优惠共0.00元\r\n");
    expected.push_str("#退款合计：2笔，商家实收退款共-7.00元，商家优惠退款共0.00元\r\n");
    let exported = detail.lines().last().unwrap().to_string();
    assert!(exported.starts_with("#导出时间：[") && exported.ends_with(']'), "{exported}");
    expected.push_str(&format!("{exported}\r\n"));
    assert_eq!(detail, expected);

    let (summary, _, bad) = encoding_rs::GBK.decode(&files[1].1);
    assert!(!bad);
    let expected_summary = format!(
        "#支付宝业务汇总查询\r\n#账号：[20880000000000000156]\r\n#起始日期：[{} 00:00:00]   终止日期：[{} 00:00:00]\r\n#{rule}业务汇总列表{rule}\r\n\
         门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）\r\n\
         ,合计,3,2,92.50,92.50,0.00,0.00,0.00,-0.60,0.00,91.90\r\n#{rule}业务汇总列表结束{rule}\r\n{exported}\r\n",
        cn(date),
        cn(date.succ_opt().unwrap())
    );
    assert_eq!(summary, expected_summary);

    // And the client reads back what was written, the quoted subject included.
    let rows = w.clients.statement(Channel::Alipay, date).await.unwrap();
    assert_eq!(rows.len(), 5);
}
