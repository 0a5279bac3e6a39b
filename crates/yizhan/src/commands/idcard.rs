//! `yizhan idcard read`: reads the card in the ID slot and prints its fields, masked. The card
//! data is wiped when this command ends; nothing of it is logged or journaled.

use super::customer;
use crate::backend::Backend;
use crate::cli::IdcardCommand;
use catalogue::bilingual;
use std::process::ExitCode;
use std::time::Duration;

pub async fn run(backend: &Backend, command: IdcardCommand) -> ExitCode {
    let IdcardCommand::Read = command;
    let Some(device) = &backend.runtime.devices.idcard else {
        eprintln!("yizhan: this kiosk has no ID card reader ([devices.idcard])");
        return ExitCode::from(2);
    };
    customer::insert_id_card_when_allowed(backend);
    println!(
        "{}",
        bilingual("Insert the ID card (hold the red button 3 s to get it back at any time)", " / ")
    );
    let mut reader = device.driver.lock().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let result = reader.read_card(deadline).await;
    let code = match &result {
        Ok(card) => {
            println!("{}: {}", bilingual("Name on the card", " "), card.masked_name());
            println!("{}: {}", bilingual("ID no.", " "), card.id_number().masked());
            println!("{}: {}", bilingual("Address on the card", " "), card.masked_address());
            println!("{}: {}", bilingual("Valid to", " "), card.valid_to());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("yizhan: {}", error.message().bilingual(" / "));
            ExitCode::from(1)
        }
    };
    // An ID card is never kept: it goes back to the customer at once.
    if let Err(error) = reader.eject().await {
        eprintln!("yizhan: the card could not be ejected: {error}; hold the red button or call staff");
    }
    drop(result);
    code
}
