//! `yizhan recon [--date D]`: read the statements and biller files of day D and D+1, settle what
//! of day D is in SUSPENSE as far as the files prove, and print every flag. Exits 0 when every
//! payment of D matches (or is of a channel whose file the kiosk does not read), 3 when a flag
//! needs staff or a later run, 1 on an error, 2 on a bad date.
//!
//! It runs beside the kiosk, without its money lock: it only *journals* the `Reconciled`
//! transition, guarded by the state it read (the journal refuses if the kiosk moved the payment
//! meanwhile, and that payment is left to the kiosk), and carries out no effect itself — no refund,
//! no query, no print. A payment the files move to a state that needs calls (R7's whole-order
//! refund, a write-off to check, a card confirmation to send) is resumed by the running kiosk,
//! which picks up unfinished payments between customers and at start-up.

use crate::backend::Backend;
use crate::cli::ReconArgs;
use crate::clock;
use crate::recon::{self, Day};
use chrono::NaiveDate;
use kiosk_core::State;
use std::process::ExitCode;

pub async fn run(backend: &Backend, args: &ReconArgs) -> ExitCode {
    let runtime = &backend.runtime;
    let now = clock::now();
    let day = match &args.date {
        Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => Day::from_date(date),
            Err(_) => {
                eprintln!("yizhan: --date {text:?}: expected a date such as 2026-11-23");
                return ExitCode::from(2);
            }
        },
        None => Day::latest_complete(now),
    };
    // A payment of day D can be booked on D+1 (a PIN entered after midnight): read both days.
    let (files, unread) = recon::read_files(runtime, &day.booking_days(), now).await;
    for recon::Unread(what) in &unread {
        eprintln!("yizhan: {what} (reconcile again later)");
    }
    if day.next().final_at() > now {
        eprintln!(
            "yizhan: the files of {} are final only from {}: a missing row proves nothing before then",
            day.next().date(),
            clock::format_local(day.next().final_at())
        );
    }
    let mut journal = match recon::journal_payments(runtime).await {
        Ok(payments) => payments,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(1);
        }
    };
    println!("RECON          {} (files of {} and {})", day.date(), day.date(), day.next().date());
    // External outcomes settle what the kiosk could not (payments.md §6), through the machine.
    for payment in journal.iter_mut() {
        if Day::of(payment.order.created_at) != day || !matches!(payment.state, State::Suspense { .. }) {
            continue;
        }
        match recon::settle_suspense(runtime, payment.clone(), &files).await {
            Ok(settled) => {
                println!("{}", settled.describe());
                *payment = settled.payment().clone();
            }
            Err(error) => {
                eprintln!("yizhan: {}: {error}", payment.id());
                return ExitCode::from(1);
            }
        }
    }
    let flags = recon::match_day(day, &journal, &files);
    for flag in &flags {
        println!("{}", flag.describe());
    }
    if flags.iter().any(recon::Flag::is_exception) {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
