//! `yizhan suspense list|retry|resolve`: what staff do with payments the machine could not
//! settle online. Every retry and resolution is a journaled transition, and resolutions are
//! also journaled as staff actions with who and why (payments.md §6: staff and the statements
//! settle suspense).

use super::{exit_for, PRINTER};
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
        SuspenseCommand::Retry { id } => settle(backend, &id, Event::Recheck, None).await,
        SuspenseCommand::Resolve { id, outcome, reason, staff } => {
            if reason.trim().is_empty() || staff.trim().is_empty() {
                eprintln!("yizhan: --reason and --staff must say why and who");
                return ExitCode::from(2);
            }
            let event = Event::StaffResolved { staff_id: staff.clone(), outcome, reason: reason.clone() };
            settle(backend, &id, event, Some((staff, format!("{}: {reason}", outcome.code())))).await
        }
    }
}

async fn settle(backend: &Backend, id: &str, event: Event, staff: Option<(String, String)>) -> ExitCode {
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
    let before = payment.state.label();
    match runtime.settle_externally(payment, event, &PRINTER).await {
        Ok(after) => {
            if let Some((staff_id, detail)) = staff {
                if after.state.label() == before {
                    eprintln!(
                        "yizhan: refused: it contradicts what the kiosk itself saw for {id}; nothing changed"
                    );
                    return ExitCode::from(2);
                }
                let action = journal::StaffAction {
                    at: clock::now().0,
                    staff_id,
                    action: "resolve_suspense".into(),
                    payment_id: Some(id.to_string()),
                    detail,
                };
                if let Err(error) = runtime.journal.record_staff_action(&action).await {
                    eprintln!("yizhan: the resolution is journaled, the staff record failed: {error}");
                    return ExitCode::from(1);
                }
            }
            println!("RESULT {} {}", after.state.label(), kiosk_core::receipt::outcome_words(&after).1);
            exit_for(&after)
        }
        Err(error) => {
            eprintln!("yizhan: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
