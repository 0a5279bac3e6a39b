//! `yizhan gas topup --amount FEN` and `yizhan gas rewrite` (补写卡), through the configured IC
//! card slot.

use super::{customer, pay::pay_method, report, Printer};
use crate::backend::Backend;
use crate::cli::{GasCommand, TopupArgs};
use crate::runtime::Rewritten;
use catalogue::bilingual;
use kiosk_core::Fen;
use std::process::ExitCode;

pub async fn run(backend: &Backend, command: GasCommand) -> ExitCode {
    // Whatever a power cut left behind is settled before new money (R5).
    if let Err(error) = backend.runtime.recover(&super::PRINTER).await {
        eprintln!("yizhan: recovery failed, no new payment taken: {error}");
        return ExitCode::from(error.exit_code());
    }
    if customer::insert_demo_gas_card(backend) {
        println!("(simulated customer inserts gas card {})", customer::DEMO_GAS_CARD);
    }
    let result = match command {
        GasCommand::Topup(args) => {
            top_up(backend, &args).await.map(|payment| Rewritten::Journaled(Box::new(payment)))
        }
        GasCommand::Rewrite => backend.runtime.rewrite_gas_card(&super::PRINTER).await.map_err(Refusal::from),
    };
    // However it ended, the card goes back to the customer.
    backend.runtime.return_gas_card().await;
    println!("{}", bilingual("Please take your gas card", " / "));
    match result {
        Ok(Rewritten::Journaled(payment)) => report(&payment),
        Ok(Rewritten::FromBiller { reference, amount, confirmed }) => {
            println!(
                "RESULT REWRITTEN {reference} {amount} bought elsewhere{}",
                if confirmed {
                    ""
                } else {
                    " (the gas company was not told yet: run `yizhan gas rewrite` again later)"
                }
            );
            ExitCode::SUCCESS
        }
        Err(refusal) => {
            eprintln!("yizhan: {}", refusal.message);
            ExitCode::from(refusal.exit_code)
        }
    }
}

/// Why no top-up happened, and the exit code that says so.
struct Refusal {
    message: String,
    exit_code: u8,
}

impl From<crate::runtime::GasError> for Refusal {
    fn from(e: crate::runtime::GasError) -> Self {
        Refusal { exit_code: e.exit_code(), message: e.to_string() }
    }
}

fn bad_input(message: String) -> Refusal {
    Refusal { message, exit_code: 2 }
}

async fn top_up(backend: &Backend, args: &TopupArgs) -> Result<kiosk_core::Payment, Refusal> {
    if args.amount <= 0 {
        return Err(bad_input(format!("--amount {}: a positive number of fen is needed", args.amount)));
    }
    let card = backend.runtime.read_gas_card().await?;
    println!(
        "gas card {} ({}), purchase {}, {}",
        iccard::gas::mask(&card.card_no),
        card.user_no,
        card.purchase_count,
        if card.last_purchase_loaded || card.purchase_count == 0 {
            "loaded in the meter"
        } else {
            "NOT loaded yet"
        }
    );
    let method = pay_method(backend, &args.pay).await.map_err(bad_input)?;
    let observer = Printer { receipt: !args.pay.no_receipt };
    Ok(backend.runtime.gas_top_up(Fen(args.amount), method, &observer).await?)
}
