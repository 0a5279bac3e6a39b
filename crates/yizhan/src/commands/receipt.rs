//! `yizhan receipt verify PAYLOAD`: is this receipt genuine, and does the journal agree?

use crate::backend::Backend;
use crate::cli::ReceiptCommand;
use crate::config::KioskConfig;
use crate::proof::{claim_time, verify};
use std::process::ExitCode;

pub async fn run(backend: &Backend, config: &KioskConfig, command: ReceiptCommand) -> ExitCode {
    let ReceiptCommand::Verify { payload } = command;
    let Some(receipts) = &config.receipts else {
        eprintln!("yizhan: [receipts] verifying_key is not configured");
        return ExitCode::from(2);
    };
    let key = match printer::proof::load_verifying_key(&receipts.verifying_key) {
        Ok(key) => key,
        Err(error) => {
            eprintln!("yizhan: receipts.verifying_key: {error}");
            return ExitCode::from(2);
        }
    };
    match verify(&payload, &key, &backend.runtime.journal).await {
        Ok(claim) => {
            println!(
                "GENUINE order {} {:?} {} txn {} kiosk {} at {}",
                claim.order_ref,
                claim.outcome,
                claim.amount,
                if claim.channel_txn.is_empty() { "-" } else { &claim.channel_txn },
                claim.kiosk_id,
                claim_time(&claim)
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!("NOT GENUINE: {error}");
            ExitCode::from(3)
        }
    }
}
