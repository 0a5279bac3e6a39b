//! One module per subcommand. Each returns the process exit code; errors are printed for people.

mod cash;
mod journal_cmd;
mod pay;
mod recon;

pub mod customer;
mod devices;
mod doctor;
mod gas;
mod hub;
mod idcard;
mod receipt;
mod recover;
mod run_kiosk;
/// `yizhan sim`; its `kiosk_config_for` is also the tests' way to point a `yizhan` process at
/// a test kiosk's simulators.
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "sim")]
mod soak;
mod suspense;
mod update;

use crate::backend::{Backend, BackendError, JournalAccess};
use crate::cli::JournalCommand;
use crate::cli::{Cli, Command, StaffCommand};
use crate::config::KioskConfig;
use crate::journal_lock::{JournalLock, LockError};
use std::path::Path;
use std::process::ExitCode;

/// Exit codes: 0 done and the customer is whole; 1 an error stopped the command before money
/// moved; 2 bad configuration, arguments or amounts (refused before anything ran or was
/// journaled); 3 a payment ended in suspense (or a refund is still on its way); 4 a purchase waits
/// for its card write (补写卡); 5 the journal cannot be trusted (missing, emptied, rolled back,
/// replaced, corrupt, chain broken, rows that disagree with the chain), so no money is taken;
/// 6 the biller does not know the account or card.
pub async fn run(cli: Cli) -> ExitCode {
    #[cfg(not(feature = "sim"))]
    if let Some(Command::Sim(_) | Command::Soak(_)) = &cli.command {
        eprintln!("yizhan: the simulators are not in this build (it was built without the `sim` feature)");
        return ExitCode::from(2);
    }
    #[cfg(feature = "sim")]
    if let Some(Command::Sim(args)) = &cli.command {
        // The simulators need no kiosk configuration.
        return sim::run(args, config_dir(&cli.config)).await;
    }
    #[cfg(feature = "sim")]
    if let Some(Command::Soak(args)) = &cli.command {
        // Each seed starts its own embedded kiosk with the demo keys beside the configuration.
        let keys = config_dir(&cli.config).join("sim-keys");
        // Quiet unless asked (RUST_LOG): a thousand kiosks' logs would drown the verdict.
        if std::env::var_os("RUST_LOG").is_some() {
            crate::logging::init(&Default::default());
        }
        return soak::run(args, &std::path::absolute(&keys).unwrap_or(keys)).await;
    }
    if let Some(Command::Update(command)) = &cli.command {
        // The root updater runs whatever state the kiosk's configuration is in, and logs to
        // its unit's journal through standard error.
        if matches!(command, crate::cli::UpdateCommand::Apply(_)) {
            crate::logging::init(&Default::default());
        }
        return update::run(command, &cli.config, &cli.data_dir);
    }
    if let Some(Command::Staff(StaffCommand::HashPin)) = &cli.command {
        // Run while writing the configuration: it needs none.
        return hash_pin();
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
    let command = cli.command.unwrap_or(Command::Run(Default::default()));
    if let Command::Hub(crate::cli::HubCommand::Pair { ticket }) = &command {
        // Pairing needs the hub, not the journal.
        return hub::pair(&config, &cli.config, &cli.data_dir, ticket).await;
    }
    let journal = crate::backend::journal_path(&config, &cli.data_dir);
    if let Command::Journal(JournalCommand::Init(args)) = &command {
        return journal_cmd::init(&config, &cli.data_dir, args).await;
    }
    // Money moves only under the journal's lock, taken before the journal is opened (opening may
    // migrate its schema): two processes on a new data folder never race the migration.
    let access = match command {
        Command::Run(_)
        | Command::Pay(_)
        | Command::Recover
        | Command::Gas(_)
        | Command::Suspense(_)
        | Command::Cash(_)
        | Command::Hub(crate::cli::HubCommand::Sync) => match JournalLock::acquire(&journal) {
            Ok(lock) => JournalAccess::Money(lock),
            Err(error) => {
                eprintln!("yizhan: {error}");
                return ExitCode::from(if matches!(error, LockError::Held(_)) { 1 } else { 2 });
            }
        },
        // These need no journal of their own.
        Command::Devices | Command::Idcard(_) => JournalAccess::Scratch,
        _ => JournalAccess::ReadOnly,
    };
    let config = match &access {
        JournalAccess::Money(_) => take_up_pushed_config(&cli.config, &cli.data_dir, config),
        _ => config,
    };
    let backend = match Backend::start(&config, config_dir(&cli.config), &cli.data_dir, access).await {
        Ok(backend) => backend,
        Err(BackendError::Distrust(distrust)) if matches!(&command, Command::Run(args) if !args.headless) => {
            // The screens still open, out of service and saying so, with the reason on the staff
            // panel: a blank kiosk in an unattended hut tells nobody anything. No journal is
            // opened and no money moves until staff fix the journal and restart.
            eprintln!("yizhan: {distrust}");
            tracing::error!(error = %distrust, "the journal cannot be trusted: the kiosk opens out of service");
            match Backend::start(&config, config_dir(&cli.config), &cli.data_dir, JournalAccess::Scratch)
                .await
            {
                Ok(backend) => {
                    backend.runtime.distrust_journal(distrust.to_string());
                    backend
                }
                Err(error) => {
                    eprintln!("yizhan: {error}");
                    return ExitCode::from(5);
                }
            }
        }
        Err(error) => {
            eprintln!("yizhan: {error}");
            tracing::error!(error = %error, "the kiosk did not start");
            return ExitCode::from(match error {
                BackendError::Distrust(_) => 5,
                BackendError::Simulators(_) => 1,
                _ => 2,
            });
        }
    };
    match command {
        Command::Run(args) if args.headless => {
            let hub = crate::hub_link::HubSettings::from_config(&config, &cli.config, &cli.data_dir);
            let updates = run_kiosk::Updates::new(&config, &cli.data_dir);
            run_kiosk::run(std::sync::Arc::new(backend), hub, updates).await
        }
        Command::Run(_) => {
            let hub = crate::hub_link::HubSettings::from_config(&config, &cli.config, &cli.data_dir);
            let updates = run_kiosk::Updates::new(&config, &cli.data_dir);
            run_kiosk::run_with_screens(backend, &config, hub, updates).await
        }
        Command::Pay(args) => pay::run(&backend, &args).await,
        Command::Recover => recover::run(&backend).await,
        Command::Journal(command) => journal_cmd::run(&backend, command).await,
        Command::Recon(args) => recon::run(&backend, &args).await,
        Command::Devices => devices::run(&backend, &config).await,
        Command::Doctor => doctor::run(&backend, &config, &cli.config, &cli.data_dir).await,
        Command::Receipt(command) => receipt::run(&backend, &config, command).await,
        Command::Gas(command) => gas::run(&backend, command).await,
        Command::Suspense(command) => suspense::run(&backend, command).await,
        Command::Idcard(command) => idcard::run(&backend, command).await,
        Command::Cash(command) => cash::run(&backend, &config, command).await,
        Command::Hub(command) => hub::run(&backend, &config, &cli.config, &cli.data_dir, command).await,
        Command::Sim(_)
        | Command::Screenshot(_)
        | Command::Staff(_)
        | Command::Soak(_)
        | Command::Update(_) => {
            unreachable!("handled above")
        }
    }
}

/// Puts a configuration pushed from the hub in place before the journal opens (this process
/// holds the journal's lock and has no customer yet), and runs it. Should the new file not load
/// after all, the one it replaced goes back and the kiosk runs as before.
fn take_up_pushed_config(file: &Path, data_dir: &Path, config: KioskConfig) -> KioskConfig {
    let place = crate::hub_link::config_push::ConfigPlace::new(file, data_dir);
    match place.apply_staged() {
        Ok(None) => config,
        Ok(Some(version)) => match KioskConfig::load(file) {
            Ok(pushed) => {
                tracing::warn!(version, "running the configuration pushed from the hub");
                pushed
            }
            Err(error) => {
                tracing::error!(%error, version, "the pushed configuration does not load; the previous one goes back");
                if let Err(why) = place.roll_back() {
                    tracing::error!(%why, "the previous configuration could not be put back");
                }
                config
            }
        },
        Err(why) => {
            tracing::error!(%why, "a configuration pushed from the hub was not applied");
            config
        }
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
        println!("{}", crate::runtime::card_kept_note());
    }

    fn print_failed(&self, payment: &kiosk_core::Payment, reason: &str) {
        println!(
            "[{}] receipt not printed: {reason} (reprint: yizhan journal reprint {})",
            payment.id(),
            payment.id()
        );
    }
}

/// Prints the `RESULT` line of a payment that ran (its state and what became of the money), and
/// returns the exit code for its final state.
pub fn report(payment: &kiosk_core::Payment) -> ExitCode {
    println!("RESULT {} {}", payment.state.label(), kiosk_core::receipt::outcome_words(payment));
    exit_for(payment)
}

/// The exit code for a payment's final state.
pub fn exit_for(payment: &kiosk_core::Payment) -> ExitCode {
    use kiosk_core::State;
    match payment.state {
        State::Suspense { .. } | State::RefundPending => ExitCode::from(3),
        State::AwaitCardWrite { .. } => ExitCode::from(4),
        _ if payment.state.is_terminal() && payment.settlement().balances() => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}

/// `yizhan staff hash-pin`: one line from standard input (the PIN, six digits or more) to its hash.
fn hash_pin() -> ExitCode {
    let mut pin = String::new();
    if let Err(error) = std::io::stdin().read_line(&mut pin) {
        eprintln!("yizhan: cannot read the PIN from standard input: {error}");
        return ExitCode::from(1);
    }
    let pin = pin.trim_end_matches(['\r', '\n']);
    if pin.len() < 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        eprintln!("yizhan: a staff PIN is six digits or more (the staff keypad has digits only)");
        return ExitCode::from(2);
    }
    match crate::staff_pin::hash(pin) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("yizhan: the PIN could not be hashed: {error}");
            ExitCode::from(1)
        }
    }
}
