//! `yizhan` with no subcommand. Until the Slint UI lands, the kiosk runs headless: it settles
//! what a power cut left behind, shows where its back end is, and takes commands on standard
//! input — the same runtime the UI will drive.

use super::PRINTER;
use crate::backend::Backend;
use crate::cli::{PayArgs, PayWith};
use std::process::ExitCode;
use tokio::io::{AsyncBufReadExt, BufReader};

pub async fn run(backend: &Backend) -> ExitCode {
    println!("一站 Yizhan kiosk {} (headless)", backend.runtime.identity.kiosk_id);
    match backend.runtime.recover(&PRINTER).await {
        Ok(resumed) if !resumed.is_empty() => println!("settled {} unfinished payment(s)", resumed.len()),
        Ok(_) => {}
        Err(error) => {
            eprintln!("yizhan: recovery failed; not taking money: {error}");
            return ExitCode::from(1);
        }
    }
    if let Some(sims) = &backend.sims {
        println!("embedded back end:");
        for (name, url) in sims.urls() {
            println!("  {name:<9} {url}");
        }
        println!("demo accounts (utility account amount in fen):");
        for (utility, account, amount) in billers::demo_accounts() {
            println!("  {utility:<6} {account:<12} {}", amount.0);
        }
    }
    println!("commands: pay UTILITY ACCOUNT PAYMENT_CODE | list | quit");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut last = ExitCode::SUCCESS;
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Ok(Some(line)) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["pay", utility, account, code] => {
                let pay = PayWith {
                    code: Some(code.to_string()),
                    scan: false,
                    present: None,
                    bank_card: false,
                    no_receipt: false,
                };
                let args = PayArgs { utility: utility.to_string(), account: account.to_string(), pay };
                last = super::pay::run(backend, &args).await;
            }
            ["list"] => {
                if let Ok(rows) = backend.runtime.journal.list(10, 0).await {
                    for row in rows {
                        println!("  {} {}", row.id, row.state);
                    }
                }
            }
            ["quit"] | ["exit"] => break,
            [] => {}
            _ => println!("commands: pay UTILITY ACCOUNT PAYMENT_CODE | list | quit"),
        }
    }
    last
}
