//! `yizhan journal list|show|verify|export|reprint`.

use crate::backend::Backend;
use crate::cli::JournalCommand;
use crate::clock;
use journal::{PrintKind, PrintRecord};
use kiosk_core::{Fen, Ts};
use std::io::Write;
use std::process::ExitCode;

pub async fn run(backend: &Backend, command: JournalCommand) -> ExitCode {
    match execute(backend, command).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("yizhan: {error}");
            ExitCode::from(1)
        }
    }
}

async fn execute(backend: &Backend, command: JournalCommand) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let journal = &backend.runtime.journal;
    match command {
        JournalCommand::List { limit } => {
            for row in journal.list(limit, 0).await? {
                println!(
                    "{}  {}  {:>10}  {:<9} {}",
                    row.id,
                    clock::format_local(Ts(row.created_at)),
                    Fen(row.total_fen).to_string(),
                    row.channel.as_deref().unwrap_or("-"),
                    row.state
                );
            }
        }
        JournalCommand::Show { id } => {
            let payment = backend.runtime.load(&id).await?;
            println!("{}  {}  {}", payment.id(), payment.state.label(), payment.order.total());
            for (i, line) in payment.order.lines.iter().enumerate() {
                println!(
                    "  line {}: {} {} {} ({})",
                    i + 1,
                    line.utility,
                    line.account,
                    line.amount,
                    line.biller_ref
                );
            }
            for t in journal.transitions(&id).await? {
                println!(
                    "  #{:<5} {}  {} -> {}  [{}]  {}",
                    t.seq,
                    clock::format_local(Ts(t.at)),
                    if t.from_state.is_empty() { "·" } else { &t.from_state },
                    t.to_state,
                    t.event,
                    t.effects
                );
            }
        }
        JournalCommand::Verify => {
            let report = journal.verify_chain().await?;
            return Ok(match report.first_broken {
                None => {
                    println!("chain intact: {} transitions", report.rows);
                    ExitCode::SUCCESS
                }
                Some(broken) => {
                    println!("CHAIN BROKEN at seq {}: {}", broken.seq, broken.reason);
                    ExitCode::from(3)
                }
            });
        }
        JournalCommand::Export { out } => {
            let rows = match out {
                Some(path) => {
                    let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
                    journal.export_csv(file).await?
                }
                None => {
                    let mut buffer = Vec::new();
                    let rows = journal.export_csv(&mut buffer).await?;
                    std::io::stdout().write_all(&buffer)?;
                    rows
                }
            };
            eprintln!("exported {rows} transitions");
        }
        JournalCommand::Reprint { id } => {
            // R6: a reprint reads the journal and prints; it never touches money.
            let payment = backend.runtime.load(&id).await?;
            let outcome = backend.runtime.print_now(&payment, &super::PRINTER).await;
            let record =
                PrintRecord { payment_id: id, at: clock::now().0, kind: PrintKind::Reprint, outcome };
            journal.record_print(&record).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
