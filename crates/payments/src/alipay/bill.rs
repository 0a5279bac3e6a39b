//! The Alipay trade bill (payments.md §6, [A16]) as `bill_download_url` serves it: a zip holding
//! two GBK-encoded CSV files, the detail (`<pid>_<yyyyMMdd>_业务明细.csv`) and its summary
//! (`<pid>_<yyyyMMdd>_业务明细(汇总).csv`). Each has `#` comment lines around a header row and its
//! records; cells may be padded with tabs, and free text (商品名称, 备注) is quoted CSV when it
//! holds commas, quotes or line breaks. Amounts are yuan; refund rows are negative.
//!
//! Columns are found by name, so columns Alipay adds do not shift what we read. The files are
//! told apart by their header rows, not their names (whose encoding in the zip varies). The
//! summary's 合计 row must agree with the detail (counts of 交易 and 退款 rows, and the sum of
//! 商家实收): a cut or half-written detail file is an error, never a shorter day.

use crate::beijing;
use crate::statement::{StatementError, StatementKind, StatementRow};
use kiosk_core::{money::MilliFen, Fen};
use std::io::Read;

const CHANNEL: &str = "alipay";

/// The most one file inside the zip may hold once unpacked (a day's bill is far smaller).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A column the detail file has, named as in Alipay's header.
const TRADE_NO: &str = "支付宝交易号";
const ORDER: &str = "商户订单号";
const KIND: &str = "业务类型";
const FINISHED: &str = "完成时间";
const AMOUNT: &str = "订单金额（元）";
const RECEIVED: &str = "商家实收（元）";
const REFUND_NO: &str = "退款批次号/请求号";
/// The fee (a column of both files; absent from old bills, which then carry no fees).
const FEE: &str = "服务费（元）";

/// Summary columns.
const TRADE_COUNT: &str = "交易订单总笔数";
const REFUND_COUNT: &str = "退款订单总笔数";
const TOTAL_ROW: &str = "合计";

fn malformed(line: usize, detail: impl Into<String>) -> StatementError {
    StatementError::Malformed { channel: CHANNEL, line, detail: detail.into() }
}

fn archive_error(detail: impl Into<String>) -> StatementError {
    StatementError::Archive { channel: CHANNEL, detail: detail.into() }
}

/// Reads the downloaded bill: unzips it, decodes both CSV files from GBK, parses the detail and
/// checks it against the summary. A bill without its summary is refused: the summary is the only
/// proof the detail is whole, and a whole file is what lets a missing row say "not charged".
pub fn parse_zip(bytes: &[u8]) -> Result<Vec<StatementRow>, StatementError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| archive_error(format!("not a zip: {e}")))?;
    let mut detail: Option<String> = None;
    let mut summary: Option<String> = None;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(|e| archive_error(format!("entry {index}: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.size() > MAX_FILE_BYTES {
            return Err(archive_error(format!("{name}: larger than {MAX_FILE_BYTES} bytes")));
        }
        let mut raw = Vec::new();
        entry
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut raw)
            .map_err(|e| archive_error(format!("{name}: {e}")))?;
        if raw.len() as u64 > MAX_FILE_BYTES {
            return Err(archive_error(format!("{name}: larger than {MAX_FILE_BYTES} bytes")));
        }
        let text = encoding_rs::GBK
            .decode_without_bom_handling_and_without_replacement(&raw)
            .ok_or_else(|| archive_error(format!("{name}: not GBK text")))?
            .into_owned();
        let slot = match header_of(&text)? {
            Some(header) if header.iter().any(|h| h == TRADE_NO) => &mut detail,
            Some(header) if header.iter().any(|h| h == TRADE_COUNT) => &mut summary,
            // Another file (a readme, say): not ours to read.
            _ => continue,
        };
        if slot.replace(text).is_some() {
            return Err(archive_error("two files of the same kind in one bill"));
        }
    }
    let detail = detail.ok_or_else(|| archive_error("no 业务明细 file in the bill"))?;
    let summary = summary.ok_or_else(|| archive_error("no 业务明细(汇总) file in the bill"))?;
    let parsed = parse_detail(&detail)?;
    check_summary(&summary, &parsed)?;
    Ok(parsed.rows)
}

/// What the summary is checked against.
struct Detail {
    rows: Vec<StatementRow>,
    trades: usize,
    refunds: usize,
    received: Fen,
    /// The sum of the 服务费 cells as written (their sign as Alipay gives it).
    fees: MilliFen,
}

/// Parses the detail CSV (already decoded) into statement rows. A `退款` row without a refund
/// number is the refund of a cancelled (reversed) payment.
fn parse_detail(text: &str) -> Result<Detail, StatementError> {
    let mut records = records(text)?.into_iter();
    let Some(header) = records.next() else {
        return Ok(Detail {
            rows: Vec::new(),
            trades: 0,
            refunds: 0,
            received: Fen::ZERO,
            fees: MilliFen::ZERO,
        });
    };
    let column = |name: &str| column_of(&header, name, "");
    let (txn, order, kind, time) = (column(TRADE_NO)?, column(ORDER)?, column(KIND)?, column(FINISHED)?);
    let (amount, received, refund_no) = (column(AMOUNT)?, column(RECEIVED)?, column(REFUND_NO)?);
    let fee_column = column(FEE).ok();

    let mut detail =
        Detail { rows: Vec::new(), trades: 0, refunds: 0, received: Fen::ZERO, fees: MilliFen::ZERO };
    for record in records {
        let number = record.line;
        let cells = &record.cells;
        if cells.len() != header.cells.len() {
            return Err(malformed(
                number,
                format!("{} cells, header has {}", cells.len(), header.cells.len()),
            ));
        }
        let yuan = signed_yuan(&cells[amount]).map_err(|e| malformed(number, e))?;
        let got = signed_yuan(&cells[received]).map_err(|e| malformed(number, e))?;
        let refund = (!cells[refund_no].is_empty()).then(|| cells[refund_no].clone());
        let row_kind = match (cells[kind].as_str(), &refund) {
            ("交易", _) => StatementKind::Payment,
            ("退款", Some(_)) => StatementKind::Refund,
            ("退款", None) => StatementKind::Reversed,
            (other, _) => return Err(malformed(number, format!("unknown 业务类型 {other:?}"))),
        };
        match row_kind {
            StatementKind::Payment if yuan.0 < 0 => {
                return Err(malformed(number, "a 交易 row with a negative amount"))
            }
            StatementKind::Payment => detail.trades += 1,
            StatementKind::Refund | StatementKind::Reversed => detail.refunds += 1,
        }
        detail.received =
            detail.received.checked_add(got).ok_or_else(|| malformed(number, "sum out of range"))?;
        let at = beijing::parse_local(&cells[time])
            .ok_or_else(|| malformed(number, format!("bad 完成时间 {:?}", cells[time])))?;
        let fee = match fee_column.map(|i| cells[i].as_str()) {
            None | Some("") => None,
            Some(cell) => {
                let written =
                    MilliFen::parse_yuan(cell).map_err(|e| malformed(number, format!("服务费: {e}")))?;
                detail.fees =
                    detail.fees.checked_add(written).ok_or_else(|| malformed(number, "sum out of range"))?;
                // Paid on a trade, given back on a refund, whichever sign the file writes.
                let paid = written.0.abs();
                Some(MilliFen(if row_kind == StatementKind::Payment { paid } else { -paid }))
            }
        };
        detail.rows.push(StatementRow {
            out_trade_no: cells[order].clone(),
            channel_txn: cells[txn].clone(),
            amount: Fen(yuan.0.abs()),
            kind: row_kind,
            refund_no: refund,
            time: at,
            fee,
        });
    }
    Ok(detail)
}

/// The summary's 合计 row must count the detail's rows and add up to its 商家实收.
fn check_summary(text: &str, detail: &Detail) -> Result<(), StatementError> {
    let mut records = records(text)?.into_iter();
    let Some(header) = records.next() else {
        return Err(archive_error("the 业务明细(汇总) file is empty"));
    };
    let column = |name: &str| column_of(&header, name, "summary: ");
    let (trades, refunds, received) = (column(TRADE_COUNT)?, column(REFUND_COUNT)?, column(RECEIVED)?);
    let totals: Vec<Record> = records.filter(|r| r.cells.iter().any(|c| c == TOTAL_ROW)).collect();
    let [total] = totals.as_slice() else {
        return Err(archive_error(format!("the summary has {} 合计 rows, not one", totals.len())));
    };
    let line = total.line;
    let cell = |i: usize| total.cells.get(i).map(String::as_str).unwrap_or("");
    let count = |i: usize| {
        cell(i).parse::<usize>().map_err(|_| malformed(line, format!("summary: bad count {:?}", cell(i))))
    };
    let sum = signed_yuan(cell(received)).map_err(|e| malformed(line, format!("summary: {e}")))?;
    if let Ok(fees) = column(FEE) {
        let said =
            MilliFen::parse_yuan(cell(fees)).map_err(|e| malformed(line, format!("summary 服务费: {e}")))?;
        if said != detail.fees {
            return Err(malformed(
                line,
                format!(
                    "summary says 服务费 {}; the detail's add up to {}",
                    said.to_yuan_string(),
                    detail.fees.to_yuan_string()
                ),
            ));
        }
    }
    let (t, r) = (count(trades)?, count(refunds)?);
    if (t, r, sum) != (detail.trades, detail.refunds, detail.received) {
        return Err(malformed(
            line,
            format!(
                "summary says {t} trades, {r} refunds, 商家实收 {}; the detail has {}, {}, {}",
                sum.to_yuan_string(),
                detail.trades,
                detail.refunds,
                detail.received.to_yuan_string()
            ),
        ));
    }
    Ok(())
}

/// The index of column `name` in `header`; the error says `prefix` first ("summary: ").
fn column_of(header: &Record, name: &str, prefix: &str) -> Result<usize, StatementError> {
    header
        .cells
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| malformed(header.line, format!("{prefix}no column {name}")))
}

/// "12.34" or "-12.34".
fn signed_yuan(text: &str) -> Result<Fen, String> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let fen = Fen::parse_yuan(digits).map_err(|e| e.to_string())?;
    Ok(if negative { Fen(-fen.0) } else { fen })
}

/// The first record of a file, if any.
fn header_of(text: &str) -> Result<Option<Vec<String>>, StatementError> {
    Ok(records(text)?.into_iter().next().map(|r| r.cells))
}

/// One CSV record: the line it starts on and its cells, unquoted and trimmed of padding.
struct Record {
    line: usize,
    cells: Vec<String>,
}

/// Splits CSV text into records (RFC 4180 quoting: `"` around a cell, `""` inside it, commas and
/// line breaks allowed inside quotes). Lines starting with `#` and blank lines are skipped. Cells
/// outside quotes are trimmed of spaces and tabs (Alipay pads cells with a tab); after a closing
/// quote only padding may follow.
fn records(text: &str) -> Result<Vec<Record>, StatementError> {
    let mut out = Vec::new();
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        if chars.peek() == Some(&'#') {
            for c in chars.by_ref() {
                if c == '\n' {
                    line += 1;
                    break;
                }
            }
            continue;
        }
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match c {
                '"' if !quoted && cell.trim().is_empty() => {
                    quoted = true;
                    cell.clear();
                    loop {
                        match chars.next() {
                            None => return Err(malformed(start, "a quoted cell is not closed")),
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                cell.push('"');
                            }
                            Some('"') => break,
                            Some(inner) => {
                                if inner == '\n' {
                                    line += 1;
                                }
                                cell.push(inner);
                            }
                        }
                    }
                }
                ',' => {
                    cells.push(finish(std::mem::take(&mut cell), quoted));
                    quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' | '\r' => {
                    line += 1;
                    break;
                }
                other if quoted && !other.is_whitespace() => {
                    return Err(malformed(line, "text after a closing quote"));
                }
                // Padding after the closing quote.
                _ if quoted => {}
                other => cell.push(other),
            }
        }
        cells.push(finish(cell, quoted));
        if cells.len() == 1 && cells[0].is_empty() {
            continue; // a blank line
        }
        out.push(Record { line: start, cells });
    }
    Ok(out)
}

fn finish(cell: String, quoted: bool) -> String {
    if quoted {
        cell
    } else {
        cell.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A detail and a summary file, written here by hand in the layout of Alipay's bill.
    const DETAIL: &str = "#支付宝业务明细查询\r\n\
#账号：[20880000000000000156]\r\n\
#起始日期：[2026年11月23日 00:00:00]   终止日期：[2026年11月24日 00:00:00]\r\n\
#-----------------------------------------业务明细列表----------------------------------------\r\n\
支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n\
2026112322001400000000000001\t,YZ0001261123000001\t,交易\t,\"水费, 10月 \"\"浦东\"\"\"\t,2026-11-23 10:00:00\t,2026-11-23 10:00:05\t,\t,\t,\t,SH-PD-0001\t,abc***@163.com\t,31.50\t,31.50\t,0.00\t,0.00\t,0.00\t,0.00\t,0.00\t,\t,0.00\t,0.00\t,\t,0.00\t,0.00\t,\"第一行\n第二行\"\t\r\n\
2026112322001400000000000001\t,YZ0001261123000001\t,退款\t,水费\t,2026-11-23 10:00:00\t,2026-11-23 11:00:00\t,\t,\t,\t,SH-PD-0001\t,abc***@163.com\t,-10.00\t,-10.00\t,0.00\t,0.00\t,0.00\t,0.00\t,0.00\t,\t,0.00\t,0.00\t,YZ0001261123000001R1\t,0.00\t,0.00\t,\t\r\n\
#-----------------------------------------业务明细列表结束------------------------------------\r\n\
#交易合计：1笔，商家实收共31.50元，商家优惠共0.00元\r\n\
#退款合计：1笔，商家实收退款共-10.00元，商家优惠退款共0.00元\r\n\
#导出时间：[2026年11月24日 09:12:00]\r\n";

    const SUMMARY: &str = "#支付宝业务汇总查询\r\n\
#账号：[20880000000000000156]\r\n\
#-----------------------------------------业务汇总列表----------------------------------------\r\n\
门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）\r\n\
,合计,1,1,21.50,21.50,0.00,0.00,0.00,0.00,0.00,21.50\r\n\
#-----------------------------------------业务汇总列表结束------------------------------------\r\n\
#导出时间：[2026年11月24日 09:12:00]\r\n";

    fn gbk(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    /// A deflated zip, as Alipay sends it (the simulator writes stored entries by hand, so both
    /// methods are read).
    fn deflated_zip(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in files {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn bill(detail: &str, summary: &str) -> Vec<u8> {
        deflated_zip(&[
            ("20880000000000000156_20261123_业务明细.csv", gbk(detail)),
            ("20880000000000000156_20261123_业务明细(汇总).csv", gbk(summary)),
        ])
    }

    #[test]
    fn reads_the_gbk_detail_inside_a_deflated_zip_with_quoted_free_text() {
        let rows = parse_zip(&bill(DETAIL, SUMMARY)).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].out_trade_no, "YZ0001261123000001");
        assert_eq!(rows[0].channel_txn, "2026112322001400000000000001");
        assert_eq!((rows[0].kind, rows[0].amount), (StatementKind::Payment, Fen(3150)));
        assert_eq!((rows[1].kind, rows[1].amount), (StatementKind::Refund, Fen(1000)));
        assert_eq!(rows[1].refund_no.as_deref(), Some("YZ0001261123000001R1"));
        assert_eq!(rows[1].time, beijing::parse_local("2026-11-23 11:00:00").unwrap());
    }

    #[test]
    fn quoted_cells_keep_commas_quotes_and_line_breaks() {
        let records = records(DETAIL).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].cells[3], "水费, 10月 \"浦东\"");
        assert_eq!(records[1].cells[24], "第一行\n第二行");
        assert_eq!(records[2].line, 8, "line numbers count the break inside the quotes");
    }

    #[test]
    fn a_bill_whose_summary_disagrees_with_its_detail_is_refused() {
        let cut: String =
            DETAIL.lines().filter(|l| !l.contains("退款\t")).map(|l| format!("{l}\n")).collect();
        let error = parse_zip(&bill(&cut, SUMMARY)).unwrap_err();
        assert!(error.to_string().contains("summary says 1 trades, 1 refunds"), "{error}");
        // Without its summary nothing proves the detail whole: refused.
        let no_summary = deflated_zip(&[("d.csv", gbk(DETAIL))]);
        assert!(parse_zip(&no_summary).unwrap_err().to_string().contains("汇总"));
        let no_detail = deflated_zip(&[("s.csv", gbk(SUMMARY))]);
        assert!(parse_zip(&no_detail).unwrap_err().to_string().contains("业务明细"));
    }

    #[test]
    fn utf8_or_unzipped_bills_are_refused_not_guessed() {
        let utf8 =
            deflated_zip(&[("d.csv", DETAIL.as_bytes().to_vec()), ("s.csv", SUMMARY.as_bytes().to_vec())]);
        // UTF-8 Chinese is not valid GBK, or decodes to other headers: either way, not read.
        assert!(parse_zip(&utf8).is_err());
        assert!(parse_zip(&gbk(DETAIL)).unwrap_err().to_string().contains("not a zip"));
    }

    #[test]
    fn a_day_without_trades_is_an_empty_bill() {
        let detail: String = DETAIL
            .lines()
            .filter(|l| l.starts_with('#') || l.starts_with("支付宝交易号"))
            .map(|l| format!("{l}\n"))
            .collect();
        let summary = SUMMARY.replace(",合计,1,1,21.50,21.50,", ",合计,0,0,0.00,0.00,");
        assert_eq!(parse_zip(&bill(&detail, &summary)).unwrap(), vec![]);
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3_000, ..ProptestConfig::default() })]

        #[test]
        fn parsing_arbitrary_statements_never_panics(
            text in prop_oneof![any::<String>(), "(#?[a-zA-Z0-9,.:\"\\- \t]{0,40}\n){0,6}"]
        ) {
            let _ = super::parse_detail(&text);
        }

        #[test]
        fn unzipping_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = super::parse_zip(&bytes);
        }
    }
}
