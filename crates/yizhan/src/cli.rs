//! The `yizhan` command line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "yizhan", version, about = "Yizhan (yi zhan): the utility-payment kiosk")]
pub struct Cli {
    /// The kiosk configuration.
    #[arg(long, global = true, default_value = "config/kiosk.toml", env = "YIZHAN_CONFIG")]
    pub config: PathBuf,
    /// Where the journal and other kiosk data live.
    #[arg(long, global = true, default_value = "data", env = "YIZHAN_DATA_DIR")]
    pub data_dir: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the kiosk (the default): resume unfinished payments, then open the touch screen (and
    /// the mirror when configured).
    Run(RunArgs),
    /// Render every screen in every theme and layout (and the mirror) to PNG files, headlessly.
    Screenshot(ScreenshotArgs),
    /// Pay a bill headless, printing every state transition and the receipt.
    Pay(PayArgs),
    /// Resume every payment not settled yet.
    Recover,
    /// Read the journal.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Run the channel and biller simulators standalone and print their URLs.
    Sim(SimArgs),
    /// Match the journal against the channels' and billers' statements of a day (对账).
    Recon(ReconArgs),
    /// Every configured device and its status; fails when a required device is not ready.
    Devices,
    /// On site, with the kiosk stopped: configuration, journal, devices, hub, clock and disk,
    /// each ✔ or ✗ with what to do; fails when anything is wrong.
    Doctor,
    /// Receipts: check the signed QR proof of a receipt.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// Prepaid gas cards: top up, or write a waiting purchase again (补写卡).
    #[command(subcommand)]
    Gas(GasCommand),
    /// Payments in suspense or with a refund on its way: list, check now, settle by hand.
    #[command(subcommand)]
    Suspense(SuspenseCommand),
    /// The resident ID card reader.
    #[command(subcommand)]
    Idcard(IdcardCommand),
    /// Staff sign-in.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The banknote acceptor's cash box: what it holds on record, and collecting it (清机).
    #[command(subcommand)]
    Cash(CashCommand),
    /// The fleet hub: pair this kiosk, see what is shipped, ship and beat now.
    #[command(subcommand)]
    Hub(HubCommand),
    /// Signed software updates: sign a package (operator), stage one from a USB stick, see where
    /// an update stands, and the root updater's run (`yizhan-update.service`).
    #[command(subcommand)]
    Update(UpdateCommand),
    /// Seeded whole-kiosk simulations with faults and power cuts, checked against the
    /// simulators' books (docs/reliability.md).
    Soak(SoakArgs),
}

#[derive(Debug, Args)]
pub struct SoakArgs {
    /// How many seeds to run.
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// The first seed (a failing seed replays with `--from SEED --seeds 1`).
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// At most this many customers a seed.
    #[arg(long, default_value_t = 6)]
    pub customers: u64,
    /// Seeds run at once, each a kiosk of its own. A seed is mostly waiting on timers, so 16
    /// keep two cores busy in a debug build (one at a time, 500 seeds took over ten minutes).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub jobs: u64,
    /// Print each seed's customers, their faults and how long each took.
    #[arg(long)]
    pub verbose: bool,
    /// Play a day written down (a failing seed's `day.json`) instead of seeds.
    #[arg(long, conflicts_with_all = ["seeds", "from"])]
    pub day: Option<std::path::PathBuf>,
    /// Write seed `--from`'s day to this file (to pin it as a regression day) and exit.
    #[arg(long, value_name = "FILE", conflicts_with = "day")]
    pub write_day: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UpdateCommand {
    /// Signs a package with the operator's Ed25519 private key (PKCS#8 PEM, `openssl genpkey
    /// -algorithm ed25519`): writes `<package>.sig` beside it. Run on the operator's machine,
    /// never on a kiosk or the hub.
    Sign {
        #[arg(long)]
        key: PathBuf,
        package: PathBuf,
    },
    /// Stages a signed package (its `.sig` beside it) as the next version, checked with
    /// `[updates] public_key`; the package of the version running comes from the last update,
    /// or `--previous`.
    Stage {
        package: PathBuf,
        #[arg(long)]
        previous: Option<PathBuf>,
    },
    /// Asks for the staged version to be installed now (the kiosk itself asks when it is idle
    /// and the hall closed).
    Request,
    /// Where an update stands on this kiosk.
    Status,
    /// The root updater (run by yizhan-update.service): installs a requested update, waits for
    /// the kiosk to report healthy, and rolls back by itself when it does not.
    Apply(UpdateApplyArgs),
}

#[derive(Debug, Args)]
pub struct UpdateApplyArgs {
    /// The system the package is installed in.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// The operator's public key.
    #[arg(long, default_value = crate::update::OPERATOR_KEY)]
    pub key: PathBuf,
    /// How the kiosk is stopped before dpkg runs.
    #[arg(long, default_value = "systemctl stop yizhan.service")]
    pub stop: String,
    /// How the kiosk is started after (a start limit a broken version ran into cleared first).
    #[arg(long, default_value = "systemctl reset-failed yizhan.service; systemctl restart yizhan.service")]
    pub start: String,
    /// How long the new version has to report healthy, from when it has been started, before
    /// it is rolled back (its start may take minutes: TimeoutStartSec=600).
    #[arg(long, default_value_t = 900)]
    pub health_timeout_s: u64,
}

#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Pair with the hub: the ticket is the text of the QR the operator's console shows
    /// (`yizhan-pair:1;url=…;ca=…;code=…`). Writes the kiosk's key and certificate.
    Pair { ticket: String },
    /// Whether the kiosk is paired and how far the hub has acknowledged its journal.
    Status,
    /// Ship everything not yet shipped, send one heartbeat and carry out the operator's
    /// commands in its answer, now (the running kiosk does this by itself in the background).
    Sync,
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Read a PIN from standard input and print its salted argon2id hash for `[[staff]] pin_hash`.
    HashPin,
}

#[derive(Debug, Default, Args)]
pub struct RunArgs {
    /// No screens: take `pay …` commands on standard input (for servicing over a terminal).
    #[arg(long)]
    pub headless: bool,
}

#[derive(Debug, Args)]
pub struct ScreenshotArgs {
    /// Where to write the PNG files (created if missing).
    #[arg(long, default_value = "docs/screens")]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum GasCommand {
    /// Buy gas for the card in the IC card slot and write it to the card.
    Topup(TopupArgs),
    /// Write a purchase that is waiting for this card again (补写卡).
    Rewrite,
}

#[derive(Debug, Args)]
pub struct TopupArgs {
    /// The amount to load, in fen.
    #[arg(long)]
    pub amount: i64,
    #[command(flatten)]
    pub pay: PayWith,
}

/// How the customer pays: one of a typed code, the scanner, or the bank card terminal.
#[derive(Debug, Args)]
pub struct PayWith {
    /// The customer's payment code (WeChat, Alipay or UnionPay), as the scanner reads it.
    #[arg(long, conflicts_with_all = ["scan", "bank_card"])]
    pub code: Option<String>,
    /// Take the payment code from the configured scanner (waits up to 60 s).
    #[arg(long, conflicts_with = "bank_card")]
    pub scan: bool,
    /// With simulated devices: what the simulated customer holds to the scanner.
    #[arg(long, requires = "scan")]
    pub present: Option<String>,
    /// Pay with a bank card in the payment terminal.
    #[arg(long)]
    pub bank_card: bool,
    /// Pay with cash. With simulated devices, the notes (in fen, e.g. 5000,1000) the simulated
    /// customer inserts, who leaves once they are all dealt with; alone, a real customer
    /// inserts notes until paid or 60 s pass without one. No change is given.
    #[arg(long, value_delimiter = ',', num_args = 0.., conflicts_with_all = ["code", "scan", "bank_card"])]
    pub cash: Option<Vec<i64>>,
    /// The customer does not want a paper receipt (slips for unsettled payments still print).
    #[arg(long)]
    pub no_receipt: bool,
}

#[derive(Debug, Subcommand)]
pub enum CashCommand {
    /// What the journal says the cash box holds since the last collection.
    Status,
    /// Collect the cash box (清机): the staff PIN is read from standard input; the count is
    /// journaled and printed on a collection slip to count the notes against.
    Collect,
}

#[derive(Debug, Subcommand)]
pub enum IdcardCommand {
    /// Read the card in the ID slot and print its fields, masked; the data is wiped at exit.
    Read,
}

#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Check a scanned receipt payload (`YZR1.…`) against the kiosk's public key and the journal.
    Verify { payload: String },
}

#[derive(Debug, Args)]
pub struct PayArgs {
    /// water, power, gas or joint.
    #[arg(long)]
    pub utility: String,
    /// The account number (户号) on the bill.
    #[arg(long)]
    pub account: String,
    #[command(flatten)]
    pub pay: PayWith,
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// The latest payments, newest first.
    List {
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One payment with every transition.
    Show { id: String },
    /// Check the hash chain over every transition.
    Verify,
    /// Write every transition as CSV.
    Export {
        /// The file to write; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a payment's receipt again (or its slip).
    Reprint { id: String },
    /// Start this kiosk's journal (`--new-kiosk`), or re-anchor an intact one whose anchor was
    /// lost (`--adopt`). Staff only; journaled with the reason.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Start a new, empty journal. An existing journal and anchor are renamed aside, never deleted.
    #[arg(long, conflicts_with = "adopt", required_unless_present = "adopt")]
    pub new_kiosk: bool,
    /// Keep the existing journal (after checking all of it) and write it a new anchor.
    #[arg(long)]
    pub adopt: bool,
    /// Why (journaled in the new journal).
    #[arg(long)]
    pub reason: String,
    /// Who (staff number).
    #[arg(long)]
    pub staff: String,
}

#[derive(Debug, Subcommand)]
pub enum SuspenseCommand {
    /// Payments in suspense, awaiting a card write, or with a refund on its way.
    List,
    /// Check one now (query the channel or biller again, resend a refund under its number).
    Retry { id: String },
    /// Settle one by hand after checking the channel's and the billers' books.
    Resolve {
        id: String,
        /// delivered (every bill written off), returned (the money went back), not-charged.
        #[arg(long)]
        outcome: kiosk_core::StaffOutcome,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        staff: String,
    },
}

#[derive(Debug, Args)]
pub struct SimArgs {
    #[command(subcommand)]
    pub what: Option<SimCommand>,
    /// Also write a kiosk configuration whose clients point at these simulators.
    #[arg(long)]
    pub write_config: Option<PathBuf>,
    /// The timing divisor written into that configuration.
    #[arg(long, default_value_t = 1)]
    pub divisor: u32,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// The simulators' demo accounts, one per line: UTILITY ACCOUNT AMOUNT_FEN.
    Accounts,
    /// The receipt printer simulator on a pseudo-terminal: prints its path, then every receipt.
    Printer,
    /// The scan engine simulator on a pseudo-terminal: prints its path; each line typed on
    /// standard input is presented to the scanner at its next trigger.
    Scanner,
    /// The ID card reader simulator (SAM, motorised slot and forced-eject button ptys).
    Idcard,
    /// The IC card slot simulator (CRT-310) with a demo gas card inserted.
    Iccard,
    /// The bank card payment terminal simulator.
    Bankcard,
}

#[derive(Debug, Args)]
pub struct ReconArgs {
    /// The accounting day, YYYY-MM-DD (Shanghai time). When absent: the latest day whose files
    /// and the next day's are final (the channels publish day D's bill after 10:00 on D+1), so
    /// that a missing row can prove something.
    #[arg(long)]
    pub date: Option<String>,
}
