//! `yizhan suspense list|retry|resolve`: what staff do with payments the machine could not
//! settle online. Every retry and resolution is a journaled transition, and resolutions are
//! also journaled as staff actions with who and why (payments.md §6: staff and the statements
//! settle suspense).

use super::{report, PRINTER};
use crate::backend::Backend;
use crate::cli::SuspenseCommand;
use crate::clock;
use kiosk_core::{Event, Ts};
use std::process::ExitCode;

pub async fn run(backend: &Backend, command: SuspenseCommand) -> ExitCode {
    let runtime = &backend.runtime;
    match command {
        SuspenseCommand::List => match runtime.journal.load_parked().await {
            Ok(rows) => {
                for row in rows {
                    let next =
                        row.next_deadline.map(|t| clock::format_local(Ts(t))).unwrap_or_else(|| "-".into());
                    println!(
                        "{}  {}  {:>10}  {:<16} next check {}",
                        row.id,
                        clock::format_local(Ts(row.created_at)),
                        kiosk_core::Fen(row.total_fen).to_string(),
                        row.state,
                        next
                    );
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("yizhan: {error}");
                ExitCode::from(1)
            }
        },
        SuspenseCommand::Retry { id } => retry(backend, &id).await,
        SuspenseCommand::Resolve { id, outcome, reason, staff } => {
            if reason.trim().is_empty() || staff.trim().is_empty() {
                eprintln!("yizhan: --reason and --staff must say why and who");
                return ExitCode::from(2);
            }
            let resolved = backend.runtime.resolve_parked(&id, &staff, outcome, &reason, &PRINTER).await;
            print_result(resolved)
        }
    }
}

/// Asks the channel and the billers again about a parked payment.
async fn retry(backend: &Backend, id: &str) -> ExitCode {
    let runtime = &backend.runtime;
    let payment = match runtime.load(id).await {
        Ok(payment) => payment,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(2);
        }
    };
    if !payment.state.is_parked() {
        eprintln!("yizhan: {id} is {}, not waiting for staff", payment.state.label());
        return ExitCode::from(2);
    }
    print_result(runtime.settle_externally(payment, Event::Recheck, &PRINTER).await)
}

fn print_result(settled: Result<kiosk_core::Payment, crate::runtime::RuntimeError>) -> ExitCode {
    match settled {
        Ok(after) => report(&after),
        Err(error) => {
            eprintln!("yizhan: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
