//! `yizhan cash status|collect` (the cash box) and `yizhan pay … --cash` (a customer paying with
//! notes, headless).

use super::{report, Printer};
use crate::backend::Backend;
use crate::cli::CashCommand;
use crate::config::KioskConfig;
use crate::runtime::{CashCustomer, CashNews, IdleCustomer, Observer};
use catalogue::{bilingual, Lang};
use journal::BoxCount;
use kiosk_core::cash::Intake;
use kiosk_core::{Fen, Order};
use std::process::ExitCode;
use std::time::Duration;

pub async fn run(backend: &Backend, config: &KioskConfig, command: CashCommand) -> ExitCode {
    match command {
        CashCommand::Status => match backend.runtime.cash_in_the_box().await {
            Ok(count) => {
                print_count(&count);
                match backend.runtime.cash_available().await {
                    Ok(()) => println!("ACCEPTOR ready"),
                    Err(why) => println!("ACCEPTOR out of service for cash: {why}"),
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("yizhan: {error}");
                ExitCode::from(1)
            }
        },
        CashCommand::Collect => collect(backend, config).await,
    }
}

/// The staff member signs in with their PIN (standard input); the collection is journaled and
/// its slip printed.
async fn collect(backend: &Backend, config: &KioskConfig) -> ExitCode {
    let mut pin = String::new();
    if let Err(error) = std::io::stdin().read_line(&mut pin) {
        eprintln!("yizhan: cannot read the staff PIN from standard input: {error}");
        return ExitCode::from(1);
    }
    let pin = pin.trim_end_matches(['\r', '\n']).to_string();
    let directory = crate::ui::StaffDirectory::new(&config.staff);
    // argon2 per member is slow on purpose: off the async threads.
    let staff = tokio::task::spawn_blocking(move || directory.check(&pin).map(str::to_string)).await;
    let Ok(Some(staff)) = staff else {
        eprintln!("yizhan: that PIN signs in no staff member; nothing was collected");
        return ExitCode::from(2);
    };
    match backend.runtime.collect_cash(&staff).await {
        Ok(collected) => {
            println!("{}", collected.slip.to_text());
            println!(
                "COLLECTED {} notes {} by {} (slip {})",
                collected.collection.count.notes,
                Fen(collected.collection.count.sum_fen),
                staff,
                collected.printed
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("yizhan: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

fn print_count(count: &BoxCount) {
    println!("IN THE BOX {} notes {}", count.notes, Fen(count.sum_fen));
    for (value, notes) in count.by_value.iter().rev() {
        println!("  {} x {notes}", Fen(*value));
    }
    if count.unknown > 0 {
        println!("  unknown value: {}", count.unknown);
    }
    if count.uncertain > 0 {
        println!("  held for staff (stuck or in doubt): {}", count.uncertain);
    }
}

/// `yizhan pay … --cash [NOTES]`: says the no-change rule and the amount, takes the notes, and
/// pays what was credited.
pub async fn pay(backend: &Backend, order: Order, notes: &[i64], printer: &Printer) -> ExitCode {
    let total = order.total();
    println!("{}: {total}", bilingual("No change is given. Insert notes up to the amount due", " / "));
    let customer: Box<dyn CashCustomer> = if notes.is_empty() {
        Box::new(IdleCustomer::new(Duration::from_secs(60)))
    } else {
        match super::customer::cash_customer(backend, notes) {
            Ok(customer) => customer,
            Err(message) => {
                eprintln!("yizhan: {message}");
                return ExitCode::from(2);
            }
        }
    };
    let voice = CashVoice { printer };
    match backend.runtime.pay_cash(order, customer.as_ref(), &voice).await {
        Ok(Some(payment)) => report(&payment),
        Ok(None) => {
            println!("RESULT NO_CASH {}", bilingual("No note was credited; nothing was paid", " / "));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("yizhan: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// The headless kiosk's voice for a cash customer: each note credited or given back, and the
/// amount in and still due.
struct CashVoice<'a> {
    printer: &'a Printer,
}

impl Observer for CashVoice<'_> {
    fn wants_receipt(&self, payment: &kiosk_core::Payment) -> bool {
        self.printer.wants_receipt(payment)
    }
    fn transition(&self, payment: &kiosk_core::Payment, from: &str, event: &str) {
        self.printer.transition(payment, from, event)
    }
    fn receipt(
        &self,
        payment: &kiosk_core::Payment,
        receipt: &kiosk_core::receipt::Receipt,
        qr: Option<&str>,
    ) {
        self.printer.receipt(payment, receipt, qr)
    }
    fn print_failed(&self, payment: &kiosk_core::Payment, reason: &str) {
        self.printer.print_failed(payment, reason)
    }
    fn cash(&self, intake: &Intake, news: CashNews) {
        let so_far = || format!("in {} / due {}", intake.credited(), intake.still_due());
        match news {
            CashNews::Nothing => {}
            CashNews::Credited(note) => println!("CASH credited {note}: {}", so_far()),
            CashNews::Returned(why) => println!("CASH returned: {} ({})", why.in_lang(Lang::Zh), so_far()),
            CashNews::NeedsStaff(why) => println!("CASH needs staff: {}", why.in_lang(Lang::Zh)),
        }
    }
}
