//! `yizhan recon --date D`: fetch the day's statements and files, settle what is in suspense,
//! and print every flag. Exits 0 when everything matches, 3 when a flag needs staff.

use super::PRINTER;
use crate::backend::Backend;
use crate::cli::ReconArgs;
use crate::clock;
use crate::recon::{evidence_for, match_day};
use chrono::NaiveDate;
use kiosk_core::{Channel, Event, Payment, State, Ts, Utility};
use std::process::ExitCode;

pub async fn run(backend: &Backend, args: &ReconArgs) -> ExitCode {
    let date = match &args.date {
        Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => date,
            Err(_) => {
                eprintln!("yizhan: --date {text:?}: expected a date such as 2026-11-23");
                return ExitCode::from(2);
            }
        },
        None => clock::local(clock::now()).date_naive(),
    };
    let runtime = &backend.runtime;
    // A payment of day D can be booked on D+1 (a PIN entered after midnight): read both days.
    let next_day = date.succ_opt().unwrap_or(date);
    let today = clock::local(clock::now()).date_naive();
    let mut complete = next_day < today;
    let mut channel_rows = Vec::new();
    let mut biller_rows = Vec::new();
    for day in [date, next_day] {
        // UnionPay's acquirer file is not implemented: its orders never count as complete.
        for channel in [Channel::WeChat, Channel::Alipay] {
            match runtime.channels.statement(channel, day).await {
                Ok(rows) => channel_rows.extend(rows),
                Err(error) => {
                    complete = false;
                    eprintln!("yizhan: {error} (reconcile again later)");
                }
            }
        }
        for utility in Utility::ALL {
            match runtime.billers.get(utility).reconciliation(&day.to_string()).await {
                Ok(rows) => biller_rows.extend(rows),
                Err(error) => {
                    complete = false;
                    eprintln!("yizhan: {utility} reconciliation file: {error} (reconcile again later)");
                }
            }
        }
    }
    let payments = match payments_of(backend, date).await {
        Ok(payments) => payments,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(1);
        }
    };
    // External outcomes settle what the kiosk could not (payments.md §6), through the machine.
    let mut settled = Vec::with_capacity(payments.len());
    for payment in payments {
        if !matches!(payment.state, State::Suspense { .. }) {
            settled.push(payment);
            continue;
        }
        let covered = complete && payment.channel != Some(Channel::UnionPay);
        let evidence = evidence_for(&payment, &channel_rows, &biller_rows, covered);
        let id = payment.id().to_string();
        match runtime.settle_externally(payment, Event::Reconciled { evidence }, &PRINTER).await {
            Ok(after) => {
                if !matches!(after.state, State::Suspense { .. }) {
                    println!("CORRECTED      {id} SUSPENSE -> {} (per statements)", after.state.label());
                    tracing::warn!(order = %id, to = after.state.label(), "suspense settled by reconciliation");
                }
                settled.push(after);
            }
            Err(error) => {
                eprintln!("yizhan: {id}: {error}");
                return ExitCode::from(1);
            }
        }
    }
    let flags = match_day(&settled, &channel_rows, &biller_rows);
    for flag in &flags {
        println!("{}", flag.describe());
    }
    if flags.iter().all(|f| f.is_match()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

async fn payments_of(backend: &Backend, date: NaiveDate) -> Result<Vec<Payment>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let rows = backend.runtime.journal.list(500, offset).await?;
        if rows.is_empty() {
            break;
        }
        offset += rows.len() as u32;
        for row in rows {
            if clock::local(Ts(row.created_at)).date_naive() == date {
                out.push(crate::runtime::journaling::restore(&row)?);
            }
        }
    }
    Ok(out)
}
