//! `yizhan recover`: resume every unsettled payment now and report what became of each.

use super::PRINTER;
use crate::backend::Backend;
use std::process::ExitCode;

pub async fn run(backend: &Backend) -> ExitCode {
    match backend.runtime.recover(&PRINTER).await {
        Ok(payments) => {
            for payment in &payments {
                println!("RECOVERED {} {}", payment.id(), payment.state.label());
            }
            if payments.is_empty() {
                println!("nothing to recover");
            }
            match backend.runtime.journal.load_parked().await {
                Ok(parked) => {
                    for row in parked {
                        let why = match row.state.as_str() {
                            "REFUND_PENDING" => "a refund accepted, checked again on its schedule",
                            "AWAIT_CARD_WRITE" => "needs a card rewrite (yizhan gas rewrite)",
                            _ => "checked again online on its schedule; staff: yizhan suspense",
                        };
                        println!("PARKED {} {} ({why})", row.id, row.state);
                    }
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("yizhan: {error}");
                    ExitCode::from(1)
                }
            }
        }
        Err(error) => {
            eprintln!("yizhan: recovery failed: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
