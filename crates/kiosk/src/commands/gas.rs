//! `yizhan gas topup --amount FEN` and `yizhan gas rewrite` (补写卡), through the configured IC
//! card slot.

use super::{customer, exit_for, pay::pay_method, Printer};
use crate::backend::Backend;
use crate::cli::{GasCommand, TopupArgs};
use kiosk_core::Fen;
use std::process::ExitCode;

pub async fn run(backend: &Backend, command: GasCommand) -> ExitCode {
    // Whatever a power cut left behind is settled before new money (R5).
    if let Err(error) = backend.runtime.recover(&super::PRINTER).await {
        eprintln!("yizhan: recovery failed, no new payment taken: {error}");
        return ExitCode::from(1);
    }
    if customer::insert_demo_gas_card(backend) {
        println!("(simulated customer inserts gas card {})", customer::DEMO_GAS_CARD);
    }
    let result = match command {
        GasCommand::Topup(args) => top_up(backend, &args).await,
        GasCommand::Rewrite => backend.runtime.rewrite_gas_card(&super::PRINTER).await.map_err(Refusal::from),
    };
    // However it ended, the card goes back to the customer.
    backend.runtime.return_gas_card().await;
    println!("请取回您的燃气卡 / Please take your gas card");
    match result {
        Ok(payment) => {
            println!("RESULT {} {}", payment.state.label(), kiosk_core::receipt::outcome_words(&payment).1);
            exit_for(&payment)
        }
        Err(refusal) => {
            eprintln!("yizhan: {}", refusal.message);
            ExitCode::from(if refusal.bad_input { 2 } else { 1 })
        }
    }
}

/// Why no top-up happened; `bad_input` when the request itself was refused (exit code 2).
struct Refusal {
    message: String,
    bad_input: bool,
}

impl From<crate::runtime::GasError> for Refusal {
    fn from(e: crate::runtime::GasError) -> Self {
        Refusal { bad_input: e.is_bad_input(), message: e.to_string() }
    }
}

fn bad_input(message: String) -> Refusal {
    Refusal { message, bad_input: true }
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
