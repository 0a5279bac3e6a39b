//! One module per subcommand. Each returns the process exit code; errors are printed for people.

mod journal_cmd;
mod pay;
mod recon;

pub mod customer;
mod devices;
mod gas;
mod idcard;
mod receipt;
mod recover;
mod run_kiosk;
mod sim;

use crate::backend::Backend;
use crate::cli::{Cli, Command};
use crate::config::KioskConfig;
use std::path::Path;
use std::process::ExitCode;

/// Exit codes: 0 done and the customer is whole; 1 an error stopped the command before money
/// moved; 2 bad configuration or arguments; 3 a payment ended in suspense; 4 a purchase waits for
/// its card write (补写卡).
pub async fn run(cli: Cli) -> ExitCode {
    if let Some(Command::Sim(args)) = &cli.command {
        // The simulators need no kiosk configuration.
        return sim::run(args, config_dir(&cli.config)).await;
    }
    if let Some(Command::Screenshot(args)) = &cli.command {
        // Demo screens only: no configuration, no back end.
        return tokio::task::block_in_place(|| crate::ui::screenshot::run(&args.out));
    }
    let config = match KioskConfig::load(&cli.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(2);
        }
    };
    crate::logging::init(&config.logging);
    let mut backend = match Backend::start(&config, config_dir(&cli.config), &cli.data_dir).await {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(1);
        }
    };
    let command = cli.command.unwrap_or(Command::Run(Default::default()));
    let moves_money = matches!(
        command,
        Command::Run(_) | Command::Pay(_) | Command::Recover | Command::Recon(_) | Command::Gas(_)
    );
    if moves_money {
        if let Err(error) = backend.claim_journal() {
            eprintln!("yizhan: {error}");
            return ExitCode::from(1);
        }
    }
    match command {
        Command::Run(args) if args.headless => run_kiosk::run(&backend).await,
        Command::Run(_) => run_kiosk::run_with_screens(backend, &config).await,
        Command::Pay(args) => pay::run(&backend, &args).await,
        Command::Recover => recover::run(&backend).await,
        Command::Journal(command) => journal_cmd::run(&backend, command).await,
        Command::Recon(args) => recon::run(&backend, &args).await,
        Command::Devices => devices::run(&backend).await,
        Command::Receipt(command) => receipt::run(&backend, &config, command).await,
        Command::Gas(command) => gas::run(&backend, command).await,
        Command::Idcard(command) => idcard::run(&backend, command).await,
        Command::Sim(_) | Command::Screenshot(_) => unreachable!("handled above"),
    }
}

fn config_dir(config: &Path) -> &Path {
    config.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Prints transitions and receipts as they happen: the voice of the headless kiosk.
pub struct Printer {
    pub receipt: bool,
}

pub const PRINTER: Printer = Printer { receipt: true };

impl crate::runtime::Observer for Printer {
    fn wants_receipt(&self, _payment: &kiosk_core::Payment) -> bool {
        self.receipt
    }

    fn transition(&self, payment: &kiosk_core::Payment, from: &str, event: &str) {
        let from = if from.is_empty() { "·" } else { from };
        println!("[{}] {from} -> {}  ({event})", payment.id(), payment.state.label());
    }

    fn receipt(
        &self,
        _payment: &kiosk_core::Payment,
        receipt: &kiosk_core::receipt::Receipt,
        qr: Option<&str>,
    ) {
        println!("\n{}", receipt.to_text());
        if let Some(qr) = qr {
            println!("QR {qr}");
        }
        println!();
    }

    fn bank_card_kept(&self, _payment: Option<&kiosk_core::Payment>) {
        println!("{}", crate::runtime::CARD_KEPT);
    }

    fn print_failed(&self, payment: &kiosk_core::Payment, reason: &str) {
        println!(
            "[{}] receipt not printed: {reason} (reprint: yizhan journal reprint {})",
            payment.id(),
            payment.id()
        );
    }
}

/// The exit code for a payment's final state.
pub fn exit_for(payment: &kiosk_core::Payment) -> ExitCode {
    use kiosk_core::State;
    match payment.state {
        State::Suspense { .. } => ExitCode::from(3),
        State::AwaitCardWrite { .. } => ExitCode::from(4),
        _ if payment.state.is_terminal() && payment.settlement().balances() => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}
