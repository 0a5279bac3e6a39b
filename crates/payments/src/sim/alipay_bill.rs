//! The Alipay simulator's trade bill, written the way Alipay serves it and independently of the
//! client's parser (a second opinion on the format): a zip, stored entries written by hand, of
//! two GBK CSV files — `<pid>_<yyyyMMdd>_业务明细.csv` (comment lines, the header, one row per
//! movement with each cell padded by a tab, free text quoted when it holds a comma, quote or line
//! break, then the 交易合计/退款合计 lines) and `<pid>_<yyyyMMdd>_业务明细(汇总).csv` (the 合计 row).

use super::book::{LedgerEntry, LedgerKind};
use crate::beijing;
use chrono::NaiveDate;
use kiosk_core::Fen;

/// The merchant's Alipay account (PID) named in the bill.
pub const ACCOUNT: &str = "20880000000000000156";

/// What the simulated kiosk's orders are called (商品名称): free text with a comma and quotes,
/// as a merchant's subject may be.
pub const SUBJECT: &str = "易站缴费 \"水/电/气\", 自助终端";

const DETAIL_COLUMNS: [&str; 25] = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
];

const SUMMARY_COLUMNS: [&str; 12] = [
    "门店编号",
    "门店名称",
    "交易订单总笔数",
    "退款订单总笔数",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "卡消费金额（元）",
    "服务费（元）",
    "分润（元）",
    "实收净额（元）",
];

const RULE: &str = "-----------------------------------------";

/// The two files of day `date`, as text: (detail, summary). `trade_no` gives the order's Alipay
/// trade number (a refund row carries its payment's).
pub fn files(
    ledger: &[LedgerEntry],
    trade_no: impl Fn(&LedgerEntry) -> String,
    fee_of_charge: impl Fn(&LedgerEntry) -> Fen,
    date: NaiveDate,
    exported_at: &str,
) -> (String, String) {
    let mut detail = file_head("业务明细", date, &DETAIL_COLUMNS);
    let (mut trades, mut refunds) = (0usize, 0usize);
    let (mut traded, mut refunded, mut fees) = (Fen::ZERO, Fen::ZERO, Fen::ZERO);
    for entry in ledger {
        if entry.kind == LedgerKind::Closed || beijing::date_of(entry.at) != date {
            continue;
        }
        let at = beijing::from_ts(entry.at).format("%Y-%m-%d %H:%M:%S").to_string();
        let (kind, amount) = if entry.kind == LedgerKind::Charge {
            trades += 1;
            traded = traded + entry.amount;
            ("交易", entry.amount.to_yuan_string())
        } else {
            refunds += 1;
            refunded = refunded + entry.amount;
            ("退款", format!("-{}", entry.amount.to_yuan_string()))
        };
        let remark = if entry.kind == LedgerKind::Reversal { "撤销" } else { "" };
        // The fee is paid out of a trade: written negative, as money leaving the merchant.
        let fee = if entry.kind == LedgerKind::Charge { fee_of_charge(entry) } else { Fen::ZERO };
        fees = fees + fee;
        let fee = if fee == Fen::ZERO { "0.00".to_string() } else { format!("-{}", fee.to_yuan_string()) };
        let cells: [&str; 25] = [
            &trade_no(entry),
            &entry.out_trade_no,
            kind,
            SUBJECT,
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
            entry.refund_no.as_deref().unwrap_or(""),
            &fee,
            "0.00",
            remark,
        ];
        let padded: Vec<String> = cells.iter().map(|c| format!("{}\t", quoted(c))).collect();
        detail.push_str(&padded.join(","));
        detail.push_str("\r\n");
    }
    detail.push_str(&format!("#{RULE}业务明细列表结束{RULE}\r\n"));
    detail.push_str(&format!(
        "#交易合计：{trades}笔，商家实收共{}元，商家优惠共0.00元\r\n",
        traded.to_yuan_string()
    ));
    detail.push_str(&format!(
        "#退款合计：{refunds}笔，商家实收退款共-{}元，商家优惠退款共0.00元\r\n",
        refunded.to_yuan_string()
    ));
    detail.push_str(&format!("#导出时间：[{exported_at}]\r\n"));

    let net = (traded - refunded).to_yuan_string();
    let mut summary = file_head("业务汇总", date, &SUMMARY_COLUMNS);
    let fee_total =
        if fees == Fen::ZERO { "0.00".to_string() } else { format!("-{}", fees.to_yuan_string()) };
    let net_of_fees = (traded - refunded - fees).to_yuan_string();
    summary.push_str(&format!(
        ",合计,{trades},{refunds},{net},{net},0.00,0.00,0.00,{fee_total},0.00,{net_of_fees}\r\n"
    ));
    summary.push_str(&format!("#{RULE}业务汇总列表结束{RULE}\r\n"));
    summary.push_str(&format!("#导出时间：[{exported_at}]\r\n"));
    (detail, summary)
}

/// The head of a file of day `date` whose list is `list` (业务明细, 业务汇总): its title, the
/// account, the day's bounds, the rule opening the list and the column names.
fn file_head(list: &str, date: NaiveDate, columns: &[&str]) -> String {
    let day = date.format("%Y年%m月%d日").to_string();
    let next = date.succ_opt().unwrap_or(date).format("%Y年%m月%d日").to_string();
    let mut head = format!("#支付宝{list}查询\r\n");
    head.push_str(&format!("#账号：[{ACCOUNT}]\r\n"));
    head.push_str(&format!("#起始日期：[{day} 00:00:00]   终止日期：[{next} 00:00:00]\r\n"));
    head.push_str(&format!("#{RULE}{list}列表{RULE}\r\n"));
    head.push_str(&columns.join(","));
    head.push_str("\r\n");
    head
}

/// The names of the two files inside the zip of day `date`.
pub fn file_names(date: NaiveDate) -> (String, String) {
    let day = date.format("%Y%m%d");
    (format!("{ACCOUNT}_{day}_业务明细.csv"), format!("{ACCOUNT}_{day}_业务明细(汇总).csv"))
}

/// The zip of day `date`'s bill: both files GBK-encoded, names too.
pub fn zip(detail: &str, summary: &str, date: NaiveDate) -> Vec<u8> {
    let (detail_name, summary_name) = file_names(date);
    stored_zip(&[(gbk(&detail_name), gbk(detail)), (gbk(&summary_name), gbk(summary))])
}

/// A cell as CSV: quoted (inner quotes doubled) when it holds a comma, a quote or a line break.
fn quoted(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// GBK bytes of `text`. Everything the simulator writes is in GBK's repertoire.
fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// A zip archive of stored (uncompressed) entries: local headers, data, the central directory and
/// its end record (PKWARE APPNOTE 4.3). Names are raw bytes without the UTF-8 flag, as a GBK
/// system writes them.
pub(crate) fn stored_zip(files: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    // 2026-01-01 00:00 in MS-DOS form; the reader does not care.
    let (dos_time, dos_date): (u16, u16) = (0, ((2026 - 1980) << 9) | (1 << 5) | 1);
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let size = data.len() as u32;
        let name_len = name.len() as u16;
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        for field in [20u16, 0, 0, dos_time, dos_date] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        for field in [crc, size, size] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(data);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        for field in [20u16, 20, 0, 0, dos_time, dos_date] {
            central.extend_from_slice(&field.to_le_bytes());
        }
        for field in [crc, size, size] {
            central.extend_from_slice(&field.to_le_bytes());
        }
        for field in [name_len, 0, 0, 0, 0] {
            central.extend_from_slice(&field.to_le_bytes());
        }
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let central_offset = out.len() as u32;
    let central_size = central.len() as u32;
    let count = files.len() as u16;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for field in [0u16, 0, count, count] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// CRC-32 (IEEE 802.3, reflected, as zip uses it).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_of_the_standard_check_string() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn cells_with_commas_or_quotes_are_quoted() {
        assert_eq!(super::quoted("a, \"b\""), "\"a, \"\"b\"\"\"");
        assert_eq!(super::quoted("plain"), "plain");
    }
}
