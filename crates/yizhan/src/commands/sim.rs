//! `yizhan sim`: the channel and biller simulators standalone, so that their ledgers outlive any
//! kiosk process (the power-cut tests) and a real kiosk configuration can be pointed at them.

use crate::backend::EmbeddedSims;
use crate::cli::{SimArgs, SimCommand};
use payments::ExposeSecret;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

pub async fn run(args: &SimArgs, config_dir: &Path) -> ExitCode {
    match args.what {
        Some(SimCommand::Accounts) => {
            for (utility, account, amount) in billers::demo_accounts() {
                println!("{utility} {account} {}", amount.0);
            }
            return ExitCode::SUCCESS;
        }
        Some(SimCommand::Printer) => return printer_sim().await,
        Some(SimCommand::Scanner) => return scanner_sim().await,
        Some(SimCommand::Idcard) => return idcard_sim().await,
        Some(SimCommand::Iccard) => return iccard_sim().await,
        Some(SimCommand::Bankcard) => return bankcard_sim().await,
        None => {}
    }
    let sims = match EmbeddedSims::start(&config_dir.join("sim-keys")).await {
        Ok(sims) => sims,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(1);
        }
    };
    super::customer::seed_demo_gas_account(&sims);
    let cards = match CardSims::start().await {
        Ok(cards) => cards,
        Err(error) => {
            eprintln!("yizhan: cannot start the card device simulators: {error}");
            return ExitCode::from(1);
        }
    };
    // Its terminal settles with the acquirer simulator, as a kiosk's own simulated one does.
    crate::devices::report_card_transactions(&cards.bankcard, &sims.channels.card_acquirer.url());
    for (name, url) in sims.urls() {
        println!("{name} {url}");
    }
    println!("iccard {}", cards.iccard.path().display());
    println!("bankcard {}", cards.bankcard.path().display());
    println!("devices {}", cards.admin.url());
    if let Some(path) = &args.write_config {
        let config = kiosk_config_for(&sims, args.divisor) + &cards.config(args.divisor);
        if let Err(error) = std::fs::write(path, config) {
            eprintln!("yizhan: cannot write {}: {error}", path.display());
            return ExitCode::from(1);
        }
        println!("config {}", path.display());
    }
    // Scripts wait for this line before they start kiosks against the simulators.
    println!("ready");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}

/// A remote-mode kiosk configuration whose clients point at `sims`, with their keys.
pub fn kiosk_config_for(sims: &EmbeddedSims, divisor: u32) -> String {
    let payments = sims.payments_config();
    let billers = sims.billers_config();
    let mut out = String::new();
    let _ = writeln!(out, "# Written by `yizhan sim --write-config`: a kiosk pointed at running simulators.");
    let _ =
        writeln!(out, "[kiosk]\nid = \"SIM-0001\"\nnumber = \"9001\"\nservice_phone = \"021-00000000\"\n");
    let _ = writeln!(out, "[backend]\nmode = \"remote\"\n");
    let _ = writeln!(out, "[timing]\ndivisor = {divisor}\n");
    if let Some(w) = &payments.wechat {
        let _ = writeln!(
            out,
            "[payments.wechat]\nbase_url = {:?}\nappid = {:?}\nmch_id = {:?}\napi_key = {:?}\n{}",
            w.base_url,
            w.appid,
            w.mch_id,
            w.api_key.expose_secret(),
            timeouts_and_fee_lines(
                w.connect_timeout_ms,
                w.request_timeout_ms,
                Some(w.pay_timeout_ms),
                w.fee_rate_ppm
            )
        );
    }
    if let Some(a) = &payments.alipay {
        let _ = writeln!(
            out,
            "[payments.alipay]\nbase_url = {:?}\napp_id = {:?}\napp_private_key_path = {:?}\n\
             alipay_public_key_path = {:?}\n{}",
            a.base_url,
            a.app_id,
            absolute(&a.app_private_key_path),
            absolute(&a.alipay_public_key_path),
            timeouts_and_fee_lines(
                a.connect_timeout_ms,
                a.request_timeout_ms,
                Some(a.pay_timeout_ms),
                a.fee_rate_ppm
            )
        );
    }
    if let Some(u) = &payments.unionpay {
        let _ = writeln!(
            out,
            "[payments.unionpay]\nbase_url = {:?}\nmer_id = {:?}\nsecure_key = {:?}\n{}",
            u.base_url,
            u.mer_id,
            u.secure_key.expose_secret(),
            timeouts_and_fee_lines(
                u.connect_timeout_ms,
                u.request_timeout_ms,
                Some(u.pay_timeout_ms),
                u.fee_rate_ppm
            )
        );
    }
    if let Some(c) = &payments.card_acquirer {
        let _ = writeln!(
            out,
            "[payments.card_acquirer]\nbase_url = {:?}\nmerchant_id = {:?}\nkey = {:?}\n{}",
            c.base_url,
            c.merchant_id,
            c.key.expose_secret(),
            timeouts_and_fee_lines(c.connect_timeout_ms, c.request_timeout_ms, None, c.fee_rate_ppm)
        );
    }
    let entries =
        [("water", Some(&billers.water)), ("power", Some(&billers.power)), ("gas", Some(&billers.gas))];
    for (name, entry) in entries.into_iter().chain([("joint", billers.joint.as_ref())]) {
        if let Some(e) = entry {
            let _ = writeln!(
                out,
                "[billers.{name}]\nbase_url = {:?}\nkey = {:?}\n{}",
                e.base_url,
                e.key,
                timeouts_and_fee_lines(e.connect_timeout_ms, e.request_timeout_ms, None, None)
            );
        }
    }
    out
}

/// The lines a client's table ends with: its timeouts (a pay timeout where the client has one),
/// then the merchant account's fee rate when the simulator states one (reconciliation checks it).
fn timeouts_and_fee_lines(
    connect_ms: u64,
    request_ms: u64,
    pay_ms: Option<u64>,
    fee_ppm: Option<u32>,
) -> String {
    let mut lines = format!("connect_timeout_ms = {connect_ms}\nrequest_timeout_ms = {request_ms}\n");
    if let Some(pay_ms) = pay_ms {
        let _ = writeln!(lines, "pay_timeout_ms = {pay_ms}");
    }
    if let Some(ppm) = fee_ppm {
        let _ = writeln!(lines, "fee_rate_ppm = {ppm}");
    }
    lines
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}

/// The printer simulator standalone: point a kiosk's `[devices.printer.serial] path` at the
/// printed pty path; every receipt it prints appears here as text.
async fn printer_sim() -> ExitCode {
    let sim = match printer::sim::PrinterSim::start() {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("yizhan: cannot start the printer simulator: {error}");
            return ExitCode::from(1);
        }
    };
    println!("printer {}", sim.path().display());
    println!("ready");
    let mut shown = 0;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
        }
        let receipts = sim.receipts();
        for receipt in receipts.iter().skip(shown) {
            println!("----- receipt -----\n{}", receipt.text());
            for qr in receipt.qr_payloads() {
                println!("QR {qr}");
            }
        }
        shown = receipts.len();
    }
}

/// The scan engine simulator standalone: point a kiosk's `[devices.scanner.serial] path` at the
/// printed pty path, then type a code and Enter to hold it to the scanner.
async fn scanner_sim() -> ExitCode {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let sim = match scanner::SimScanner::start(scanner::Vendor::Honeywell) {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("yizhan: cannot start the scanner simulator: {error}");
            return ExitCode::from(1);
        }
    };
    println!("scanner {}", sim.path().display());
    println!("ready");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        let line = tokio::select! {
            _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
            line = lines.next_line() => line,
        };
        match line {
            Ok(Some(code)) if !code.trim().is_empty() => {
                sim.present(code.trim());
                println!("presented ({} characters)", code.trim().len());
            }
            Ok(Some(_)) => {}
            // Standard input closed: keep serving until Ctrl-C.
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                return ExitCode::SUCCESS;
            }
        }
    }
}

/// The ID reader simulator standalone: its SAM, slot and button ptys, with a synthetic card
/// waiting to be inserted.
async fn idcard_sim() -> ExitCode {
    let sim = match idcard::sim::IdSim::start() {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("yizhan: cannot start the ID card simulator: {error}");
            return ExitCode::from(1);
        }
    };
    println!("idcard-sam {}", sim.sam_path().display());
    println!("idcard-slot {}", sim.slot_path().display());
    println!("idcard-button {}", sim.button_path().display());
    println!("ready");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                // A customer stands ready with a card whenever the slot lets one in.
                let _ = sim.insert_card(idcard::sim::Identity::synthetic(20261123));
            }
        }
    }
}

/// The IC card slot simulator standalone (CRT-310) with a blank demo gas card inserted.
async fn iccard_sim() -> ExitCode {
    let sim = match iccard::sim::Crt310Sim::start() {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("yizhan: cannot start the IC card simulator: {error}");
            return ExitCode::from(1);
        }
    };
    if let Some(card) = iccard::sim::SimCard::gas_user_card(
        super::customer::DEMO_GAS_CARD,
        super::customer::DEMO_GAS_USER,
        [0xFF; 3],
    ) {
        let _ = sim.insert(card);
    }
    println!("iccard {}", sim.path().display());
    println!("ready");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}

/// The bank card terminal simulator standalone; its customers approve.
async fn bankcard_sim() -> ExitCode {
    let sim = match bankcard::sim::TerminalSim::start() {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("yizhan: cannot start the terminal simulator: {error}");
            return ExitCode::from(1);
        }
    };
    println!("bankcard {}", sim.path().display());
    println!("ready");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}

/// The card devices' simulators, run beside the HTTP ones by `yizhan sim` so that their state
/// outlives any kiosk process, with their admin routes ([`crate::device_admin`]).
struct CardSims {
    iccard: std::sync::Arc<iccard::sim::Crt310Sim>,
    bankcard: std::sync::Arc<bankcard::sim::TerminalSim>,
    admin: simkit::Served,
}

impl CardSims {
    async fn start() -> std::io::Result<CardSims> {
        let iccard = std::sync::Arc::new(iccard::sim::Crt310Sim::start()?);
        if let Some(card) = iccard::sim::SimCard::gas_user_card(
            super::customer::DEMO_GAS_CARD,
            super::customer::DEMO_GAS_USER,
            [0xFF; 3],
        ) {
            let _ = iccard.insert(card);
        }
        let bankcard = std::sync::Arc::new(bankcard::sim::TerminalSim::start()?);
        let router = crate::device_admin::router(iccard.clone(), bankcard.clone());
        let admin = simkit::serve(tokio::net::TcpListener::bind("127.0.0.1:0").await?, router)?;
        Ok(CardSims { iccard, bankcard, admin })
    }

    /// The `[devices]` part of a kiosk configuration pointing at these simulators.
    fn config(&self, divisor: u32) -> String {
        // Timeouts follow the timing divisor so that tests wait milliseconds, not minutes.
        let scale = u64::from(divisor.max(1));
        format!(
            "[devices]\nsimulated = false\n\n\
             [devices.iccard]\nreader = \"crt310\"\n[devices.iccard.serial]\npath = {:?}\n\n\
             [devices.bankcard.terminal]\ntransaction_timeout_ms = {}\nquery_timeout_ms = {}\n\
             [devices.bankcard.terminal.serial]\npath = {:?}\n",
            self.iccard.path().display().to_string(),
            (90_000 / scale).max(1_500),
            (5_000 / scale).max(500),
            self.bankcard.path().display().to_string(),
        )
    }
}
