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
        JournalCommand::Verify => return Ok(verify(journal).await?),
        JournalCommand::Init(_) => unreachable!("run before the back end starts"),
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

/// Checks everything a journal can be checked for and reports every problem, not only the
/// first: the hash chain (each break with its row and cause, unreadable rows named), the
/// `payments` rows against their chained transitions, the audit chains of prints and staff
/// actions, and SQLite's own integrity check. Exit 0 when all hold, 3 otherwise.
async fn verify(journal: &journal::Journal) -> Result<ExitCode, journal::JournalError> {
    let (rows, problems) = check(journal).await?;
    for problem in &problems {
        println!("{problem}");
    }
    if problems.is_empty() {
        println!("chain intact: {rows} transitions; payment rows and audit rows agree");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{} problem(s) found in {rows} transitions", problems.len());
        Ok(ExitCode::from(3))
    }
}

/// Every problem the journal has (see [`verify`]), one line each, and how many transitions it
/// holds.
pub(super) async fn check(journal: &journal::Journal) -> Result<(u64, Vec<String>), journal::JournalError> {
    let mut problems = Vec::new();
    let integrity: Vec<String> = journal.integrity_report().await?;
    if integrity != ["ok"] {
        problems.extend(integrity.iter().map(|line| format!("DATABASE: {line}")));
    }
    let report = journal.verify_chain().await?;
    problems.extend(report.breaks.iter().map(|b| format!("CHAIN BROKEN at seq {}: {}", b.seq, b.reason)));
    let rows = journal.check_payment_rows(&crate::runtime::journaling::row_check(), None).await?;
    problems.extend(rows.iter().map(|row| format!("PAYMENT ROW {}: {}", row.id, row.what)));
    let audit = journal.verify_audit().await?;
    problems.extend(audit.iter().map(|b| format!("AUDIT {} row {}: {}", b.table, b.id, b.reason)));
    Ok((report.rows, problems))
}

/// `yizhan journal init --new-kiosk | --adopt`: staff start or re-anchor this kiosk's journal,
/// under the money lock, journaled with who and why.
pub async fn init(
    config: &crate::config::KioskConfig,
    data_dir: &std::path::Path,
    args: &crate::cli::InitArgs,
) -> ExitCode {
    let path = crate::backend::journal_path(config, data_dir);
    let anchor = crate::backend::anchor_path(config, data_dir);
    let _lock = match crate::journal_lock::JournalLock::acquire(&path) {
        Ok(lock) => lock,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(1);
        }
    };
    if args.reason.trim().is_empty() || args.staff.trim().is_empty() {
        eprintln!("yizhan: --reason and --staff must say why and who");
        return ExitCode::from(2);
    }
    let new = journal::NewJournal {
        kiosk_id: config.kiosk.id.clone(),
        staff_id: args.staff.clone(),
        reason: args.reason.clone(),
        at: clock::now().0,
    };
    let result = if args.adopt {
        journal::Journal::adopt(&path, &anchor, &new, &crate::runtime::journaling::row_check())
            .await
            .map(|j| (j, Vec::new()))
    } else {
        journal::Journal::init_new(&path, &anchor, &new).await
    };
    match result {
        Ok((journal, kept)) => {
            for file in kept {
                println!("kept aside: {}", file.display());
            }
            let id = journal.journal_id().await.ok().flatten().unwrap_or_default();
            println!("journal {} ready at {} (anchor {})", id, path.display(), anchor.display());
            journal.close().await;
            ExitCode::SUCCESS
        }
        Err(distrust) => {
            eprintln!("yizhan: {distrust}");
            ExitCode::from(5)
        }
    }
}
