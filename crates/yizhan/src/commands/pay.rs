//! `yizhan pay`: fetch the bill, confirm it, pay it with the given code, print the receipt.

use super::{report, Printer, PRINTER};
use crate::backend::Backend;
use crate::cli::{PayArgs, PayWith};
use crate::clock;
use crate::runtime::{PayMethod, ReceiptAvailability, RuntimeError};
use catalogue::bilingual;
use kiosk_core::{route_payment_code, Order, Utility};
use std::process::ExitCode;
use std::time::Duration;

pub async fn run(backend: &Backend, args: &PayArgs) -> ExitCode {
    let runtime = &backend.runtime;
    // Settle whatever a power cut left behind before taking new money (R5).
    if let Err(error) = runtime.recover(&PRINTER).await {
        eprintln!("yizhan: recovery failed, no new payment taken: {error}");
        return ExitCode::from(error.exit_code());
    }
    if let Some(notes) = &args.pay.cash {
        let order = match order_for(backend, args).await {
            Ok(order) => order,
            Err(error) => {
                eprintln!("yizhan: {error}");
                return ExitCode::from(error.exit_code());
            }
        };
        println!("{} {}: {}", order.reference, args.utility, order.total());
        return super::cash::pay(backend, order, notes, &Printer { receipt: !args.pay.no_receipt }).await;
    }
    let method = match pay_method(backend, &args.pay).await {
        Ok(method) => method,
        Err(message) => {
            eprintln!("yizhan: {message}");
            return ExitCode::from(2);
        }
    };
    let order = match order_for(backend, args).await {
        Ok(order) => order,
        Err(error) => {
            eprintln!("yizhan: {error}");
            return ExitCode::from(error.exit_code());
        }
    };
    // Before any money moves: can a receipt be promised? (The customer may pay without one.)
    match runtime.receipt_availability().await {
        ReceiptAvailability::Unavailable(why) if !args.pay.no_receipt => {
            println!("NO RECEIPT AVAILABLE: {why}; the payment can go ahead without a paper receipt");
        }
        ReceiptAvailability::NearEnd => tracing::warn!("printer paper near end: staff should load paper"),
        _ => {}
    }
    println!(
        "{} {}: {} ({} line{})",
        order.reference,
        args.utility,
        order.total(),
        order.lines.len(),
        if order.lines.len() == 1 { "" } else { "s" }
    );
    match runtime.pay_order_with(order, method, &Printer { receipt: !args.pay.no_receipt }).await {
        Ok(payment) => report(&payment),
        Err(error) => {
            eprintln!("yizhan: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// How the customer pays: `--bank-card`, the code from `--code`, or from the scanner with
/// `--scan` (and, with simulated devices, the code `--present` holds to it).
pub(super) async fn pay_method(backend: &Backend, args: &PayWith) -> Result<PayMethod, String> {
    if args.bank_card {
        super::customer::bank_card_customer(backend, true);
        println!("{}", bilingual("Insert your bank card and enter the PIN on the terminal", " / "));
        return Ok(PayMethod::BankCard);
    }
    if let Some(text) = &args.code {
        return route_payment_code(text).map(PayMethod::Code).map_err(|e| e.to_string());
    }
    if !args.scan {
        return Err("say how to pay: --code CODE, --scan, --bank-card or --cash".into());
    }
    if let Some(shown) = &args.present {
        super::customer::present_code(backend, shown)?;
    }
    println!("{}", bilingual("Show your payment code to the scanner", " / "));
    let code = backend.runtime.scan_payment_code(Duration::from_secs(60)).await.map_err(|e| e.to_string())?;
    Ok(PayMethod::Code(code))
}

async fn order_for(backend: &Backend, args: &PayArgs) -> Result<Order, RuntimeError> {
    let runtime = &backend.runtime;
    let now = clock::now();
    let kiosk = &runtime.identity.kiosk_id;
    if args.utility == "joint" {
        let joint = runtime.fetch_joint_bill(&args.account).await?;
        return Ok(Order::for_joint_bill(runtime.new_order_ref(), kiosk, now, &joint)?);
    }
    let utility: Utility = args.utility.parse()?;
    let bill = runtime.fetch_bill(utility, &args.account).await?;
    Ok(Order::for_bill(runtime.new_order_ref(), kiosk, now, &bill)?)
}
