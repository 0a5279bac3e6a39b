//! `yizhan devices`: every configured device and its status, in the XFS4IoT words staff know.
//! Exits 3 when a device the configuration marks required is not ready. A port under
//! /dev/yizhan/ that is missing is explained: the udev rule that should make it, what it expected,
//! and what is plugged in instead.

use crate::backend::Backend;
use crate::config::KioskConfig;
use crate::runtime::describe_printer;
use crate::stable_names;
use std::process::ExitCode;

pub async fn run(backend: &Backend, config: &KioskConfig) -> ExitCode {
    let devices = &backend.runtime.devices;
    let mut required_missing = false;
    match &devices.printer {
        Some(printer) => {
            let status = printer.driver.lock().await.status().await;
            let device = status.device_status();
            let ready = status.can_print_receipt();
            let paper = format!("{:?}", status.paper).to_lowercase();
            println!(
                "printer   {:<10} paper {:<8} {}{}  ({}{})",
                device.device.xfs_name(),
                paper,
                if ready { "ready" } else { "NOT READY: " },
                if ready { String::new() } else { describe_printer(&status).to_string() },
                printer.description,
                if printer.required { ", required" } else { "" },
            );
            if status.paper_near_end() {
                println!("          paper near end: load a new roll soon");
            }
            required_missing |= printer.required && !ready;
        }
        None => println!("printer   not configured"),
    }
    match &devices.scanner {
        Some(scanner) => {
            let mut driver = scanner.driver.lock().await;
            let ready = driver.ensure_ready().await;
            let status = driver.status();
            match ready {
                Ok(()) => {
                    println!("scanner   {:<10} ready  ({})", status.device.xfs_name(), scanner.description)
                }
                Err(error) => println!(
                    "scanner   {:<10} NOT READY: {error}  ({})",
                    status.device.xfs_name(),
                    scanner.description
                ),
            }
        }
        None => println!("scanner   not configured"),
    }
    if let Some(idcard) = &devices.idcard {
        let status = idcard.driver.lock().await.device_status().await;
        required_missing |= print_card_reader("idcard", &status, idcard.required);
    } else {
        println!("idcard    not configured");
    }
    if let Some(iccard) = &devices.iccard {
        let status = iccard.driver.lock().await.device_status().await;
        required_missing |= print_card_reader("iccard", &status, iccard.required);
    } else {
        println!("iccard    not configured");
    }
    if let Some(bankcard) = &devices.bankcard {
        let status = bankcard.terminal.lock().await.device_status().await;
        println!("bankcard  {:<10}", status.device.xfs_name());
        if let Some(order) = &status.detail.armed_reversal {
            println!("          reversal of order {order} armed: no card sale until it is settled");
        }
        if let Some(error) = &status.detail.memory_error {
            println!("          its records in the journal cannot be read: {error}");
            required_missing |= bankcard.required;
        }
        required_missing |= bankcard.required && !status.is_ready();
    } else {
        println!("bankcard  not configured");
    }
    if let Some(cash) = &devices.cash {
        // The same check a cash customer meets, which also raises the box-removed alarm.
        let available = backend.runtime.cash_available().await;
        match &available {
            Ok(()) => println!("cash      ready"),
            Err(why) => println!("cash      NOT READY: {why}"),
        }
        match backend.runtime.cash_in_the_box().await {
            Ok(count) => println!(
                "          box: {} notes, {} since the last collection",
                count.notes,
                kiosk_core::Fen(count.sum_fen)
            ),
            Err(error) => println!("          box count unreadable: {error}"),
        }
        required_missing |= cash.required && available.is_err();
    } else {
        println!("cash      not configured");
    }
    for (device, why) in missing_stable_names(config) {
        println!("{device:<9} {why}");
    }
    if required_missing {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints an ID or IC card reader's line (its state and the card in it); returns whether it is
/// required but not ready.
fn print_card_reader<D>(name: &str, status: &device::DeviceStatus<D>, required: bool) -> bool {
    println!("{name:<9} {:<10} media {:?}", status.device.xfs_name(), status.media);
    required && !status.is_ready()
}

/// The configured ports under /dev/yizhan/ that are missing, each explained (none with simulated
/// devices, whose ports are the simulators' own).
pub fn missing_stable_names(config: &KioskConfig) -> Vec<(&'static str, String)> {
    if config.devices.simulated {
        return Vec::new();
    }
    stable_names::explain_all_missing(&config.devices.serial_paths(), std::path::Path::new("/sys"))
}
