//! A fleet's accounting day through the matcher: a bench binary, not a timed test
//! (`cargo bench -p kiosk-core --bench recon_day`).
//!
//! Builds the day of BENCH_KIOSKS kiosks (10,000) taking BENCH_PAYMENTS payments each (100), paid
//! by WeChat, Alipay and UnionPay in turn, every line written off at the water company; the
//! channels' statements (each charge with its fee at the account's rate) and the biller's file,
//! whole; and one seeded discrepancy of each kind per BENCH_SEED_EVERY payments (1,000): a
//! charge missing from the statement, a refund nobody asked for, a fee one fen off, a write-off
//! listed twice. Then reads the files into `Files` and matches the day, and reports the time of
//! each step, the process's peak memory, the share of payments matched, and that every seeded
//! discrepancy was found (the binary fails otherwise).

use std::time::Instant;

use kiosk_core::bill::Bill;
use kiosk_core::money::MilliFen;
use kiosk_core::order::{Order, OrderRef};
use kiosk_core::payment::LineState;
use kiosk_core::recon::{
    match_day, BillerRow, Day, FeeRate, Files, Flag, Source, StatementKind, StatementRow,
};
use kiosk_core::{Fen, Payment, State, Ts, Utility};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The process's peak resident memory (VmHWM), in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

const RATE: FeeRate = FeeRate { ppm: 6_000 };

fn bill(fen: i64) -> Bill {
    kiosk_core::testing::bill(Utility::Water, fen)
}

struct Day1 {
    journal: Vec<Payment>,
    statements: [Vec<StatementRow>; 3],
    water: Vec<BillerRow>,
    seeded: usize,
}

fn build(kiosks: usize, per_kiosk: usize, seed_every: usize, day: Day) -> Day1 {
    let sources = [Source::WeChatBill, Source::AlipayBill, Source::UnionPayAcquirerFile];
    let mut out = Day1 { journal: Vec::new(), statements: Default::default(), water: Vec::new(), seeded: 0 };
    let mut n = 0usize;
    for kiosk in 0..kiosks {
        for seq in 0..per_kiosk {
            n += 1;
            let fen = 1_000 + (n as i64 * 37) % 50_000;
            // Spread over the hall's opening hours, 07:00 to 23:00.
            let spacing = 16 * 3_600_000 / per_kiosk as i64;
            let at = Ts(day.starts_at().0 + 7 * 3_600_000 + seq as i64 * spacing);
            let reference = OrderRef::new(format!("YZ{kiosk:05}26120100{seq:05}")).expect("order number");
            let order = Order::for_bill(reference, "K", at, &bill(fen)).expect("order");
            let mut p = Payment::new(order);
            let source_index = n % 3;
            p.channel = Some(sources[source_index].channel());
            p.channel_txn = Some(format!("T{n}"));
            p.lines = vec![LineState::WrittenOff { biller_txn: format!("W{n}"), card: None }];
            p.state = State::Done;
            let fee = MilliFen((fen * 6_000 + 500) / 1_000);
            let row = StatementRow {
                out_trade_no: p.id().to_string(),
                channel_txn: format!("T{n}"),
                amount: Fen(fen),
                kind: StatementKind::Payment,
                refund_no: None,
                time: at,
                fee: Some(fee),
            };
            let credit = BillerRow {
                reference: p.order.lines[0].biller_ref.clone(),
                amount: Fen(fen),
                credited: true,
            };
            match (n % seed_every, n % (seed_every * 4)) {
                // Every seed_every-th payment carries one discrepancy, the four kinds in turn.
                (0, 0) => {
                    out.seeded += 1; // a charge missing from the statement
                }
                (0, k) if k == seed_every => {
                    out.seeded += 1; // a refund the kiosk never asked for
                    out.statements[source_index].push(row.clone());
                    let refund_no = Some(format!("ELSEWHERE{n}"));
                    let refund = StatementRow { kind: StatementKind::Refund, refund_no, fee: None, ..row };
                    out.statements[source_index].push(refund);
                }
                (0, k) if k == 2 * seed_every => {
                    out.seeded += 1; // a fee one fen off
                    let fee = Some(MilliFen(fee.0 + 1_000));
                    out.statements[source_index].push(StatementRow { fee, ..row });
                }
                (0, _) => {
                    out.seeded += 1; // a write-off listed twice
                    out.statements[source_index].push(row);
                    out.water.push(credit.clone());
                }
                _ => out.statements[source_index].push(row),
            }
            out.water.push(credit);
            out.journal.push(p);
        }
    }
    out
}

fn main() {
    let kiosks = setting("BENCH_KIOSKS", 10_000);
    let per_kiosk = setting("BENCH_PAYMENTS", 100);
    let seed_every = setting("BENCH_SEED_EVERY", 1_000);
    let day = Day::from_date(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date"));

    let started = Instant::now();
    let d = build(kiosks, per_kiosk, seed_every, day);
    let rows: usize = d.statements.iter().map(Vec::len).sum::<usize>() + d.water.len();
    println!(
        "built {} payments, {rows} file rows, {} seeded discrepancies in {:.1} s",
        d.journal.len(),
        d.seeded,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut files = Files::new();
    let sources = [Source::WeChatBill, Source::AlipayBill, Source::UnionPayAcquirerFile];
    for (source, rows) in sources.into_iter().zip(d.statements) {
        files.set_fee_rate(source, RATE);
        files.add_statement(source, day, rows, true);
        files.add_statement(source, day.next(), Vec::new(), true);
    }
    files.add_biller_file(Utility::Water, day, d.water, true);
    files.add_biller_file(Utility::Water, day.next(), Vec::new(), true);
    for utility in [Utility::Power, Utility::Gas] {
        for on in day.booking_days() {
            files.add_biller_file(utility, on, Vec::new(), true);
        }
    }
    let read = started.elapsed();

    let started = Instant::now();
    let flags = match_day(day, &d.journal, &files);
    let matched_in = started.elapsed();

    let matched = flags.iter().filter(|f| matches!(f, Flag::Matched { .. })).count();
    let found = |kind: fn(&Flag) -> bool| flags.iter().filter(|f| kind(f)).count();
    let missing = found(|f| matches!(f, Flag::LocalOnly { .. }));
    let refunds = found(|f| matches!(f, Flag::RefundChannelOnly { .. }));
    let fees = found(|f| matches!(f, Flag::FeeDiffers { .. }));
    let twice = found(|f| matches!(f, Flag::WrittenOffTwice { .. }));
    let exceptions = flags.iter().filter(|f| f.is_exception()).count();
    println!(
        "indexed the files in {:.2} s; matched the day in {:.2} s",
        read.as_secs_f64(),
        matched_in.as_secs_f64()
    );
    println!(
        "matched automatically: {matched} of {} payments ({:.3}%); {exceptions} exceptions",
        d.journal.len(),
        100.0 * matched as f64 / d.journal.len() as f64
    );
    println!(
        "found: {missing} missing rows, {refunds} extra refunds, {fees} fees off, {twice} write-offs twice"
    );
    println!("peak memory: {:.0} MiB", peak_mib());
    let per_kind = d.seeded / 4;
    let all_found = [missing, refunds, fees, twice].iter().all(|&k| k >= per_kind) && exceptions == d.seeded;
    assert!(all_found, "a seeded discrepancy was not found (or something else was flagged)");
}
