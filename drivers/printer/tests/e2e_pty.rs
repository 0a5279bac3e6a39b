//! The real driver against the simulator over a pty (`issues show 3`, "What it must show").

mod common;

use common::*;
use device::{DeviceState, StableLink};
use printer::layout::width;
use printer::proof;
use printer::sim::PrinterSim;
use printer::{Paper, PaperWidth, PrintError};
use std::time::Duration;

#[tokio::test]
async fn a_printed_receipt_holds_amount_masked_account_and_a_verifiable_qr() {
    let sim = PrinterSim::start().unwrap();
    let mut printer = printer_on(sim.path(), PaperWidth::Mm80);
    let status = printer.status().await;
    assert!(status.can_print_receipt(), "{status:?}");

    let (sk, vk) = demo_keys();
    let payload = proof::sign(&claim(), &sk).unwrap();
    let report = printer.print_receipt(&receipt(), Some(&payload)).await.unwrap();
    assert!(report.bytes <= 2048, "a receipt is at most 2 KB, was {}", report.bytes);

    let t = sim.last_receipt().expect("a receipt was cut");
    let text = t.text();
    for expected in ["缴费凭条", "合计 Total", "￥79.50", "31***0001", "51****0011", "YZK1261123000042"]
    {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("310000001"), "the full account number never prints");
    assert!(t.items.iter().all(|i| match i {
        printer::sim::Item::Line { text, .. } => width(text) <= 48,
        _ => true,
    }));
    let qr = t.qr_payloads();
    assert_eq!(qr.len(), 1);
    assert_eq!(proof::verify(qr[0], &vk).unwrap(), claim());
}

#[tokio::test]
async fn a_58mm_receipt_keeps_every_line_within_32_columns() {
    let sim = PrinterSim::start().unwrap();
    let mut printer = printer_on(sim.path(), PaperWidth::Mm58);
    printer.print_receipt(&receipt(), Some("YZR1.demo")).await.unwrap();
    let t = sim.last_receipt().unwrap();
    for item in &t.items {
        if let printer::sim::Item::Line { text, .. } = item {
            assert!(width(text) <= 32, "{text:?} is {} columns", width(text));
        }
    }
    assert!(t.text().contains("￥79.50"));
}

#[tokio::test]
async fn paper_out_before_printing_is_known_before_money_is_taken() {
    let sim = PrinterSim::start().unwrap();
    sim.set_paper(Paper::Out);
    let mut printer = printer_on(sim.path(), PaperWidth::Mm80);
    let status = printer.status().await;
    assert!(!status.can_print_receipt());
    assert_eq!(status.paper, Paper::Out);
    assert_eq!(status.device_status().device, DeviceState::UserError);
    let err = printer.print_receipt(&receipt(), None).await.unwrap_err();
    assert!(matches!(err, PrintError::NotReady(s) if s.paper == Paper::Out), "{err}");
    assert!(sim.receipts().is_empty(), "nothing was printed");
}

#[tokio::test]
async fn paper_out_during_print_is_an_error_and_a_reprint_works_after_loading() {
    let sim = PrinterSim::start().unwrap();
    let mut printer = printer_on(sim.path(), PaperWidth::Mm80);
    sim.run_out_of_paper_after(300);
    let err = printer.print_receipt(&receipt(), Some("YZR1.x")).await.unwrap_err();
    assert!(matches!(err, PrintError::PaperOutDuringPrint { .. }), "{err}");
    assert!(err.reprint_may_help());
    assert!(!printer.status().await.can_print_receipt());

    sim.set_paper(Paper::Ok); // staff load paper
    printer.print_receipt(&receipt(), Some("YZR1.x")).await.unwrap();
    let receipts = sim.receipts();
    assert!(receipts[0].torn, "the first one is torn");
    let last = sim.last_receipt().unwrap();
    assert!(last.text().contains("￥79.50") && last.cut && !last.torn);
}

#[tokio::test]
async fn near_end_still_prints_and_is_reported() {
    let sim = PrinterSim::start().unwrap();
    sim.set_paper(Paper::NearEnd);
    let mut printer = printer_on(sim.path(), PaperWidth::Mm80);
    let status = printer.status().await;
    assert!(status.can_print_receipt() && status.paper_near_end());
    let report = printer.print_receipt(&receipt(), None).await.unwrap();
    assert!(report.status_after.paper_near_end());
}

#[tokio::test]
async fn cover_open_and_silent_printers_cannot_print() {
    let sim = PrinterSim::start().unwrap();
    let mut printer = printer_on(sim.path(), PaperWidth::Mm80);
    sim.set_cover_open(true);
    let s = printer.status().await;
    assert!(s.cover_open && !s.can_print_receipt());
    sim.set_cover_open(false);
    sim.set_silent(true);
    let s = printer.status().await;
    assert!(!s.reachable);
    assert_eq!(s.device_status().device, DeviceState::Offline);
    sim.set_silent(false);
    assert!(printer.status().await.can_print_receipt());
}

#[tokio::test]
async fn the_port_disappears_and_comes_back_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let by_id = StableLink::new(dir.path().join("usb-Yizhan_Receipt_Printer-if00-port0"));
    let sim = PrinterSim::start().unwrap();
    by_id.point_to(sim.path()).unwrap();
    let mut printer = printer_on(by_id.path(), PaperWidth::Mm80);
    assert!(printer.status().await.can_print_receipt());

    // Unplugged.
    by_id.remove().unwrap();
    drop(sim);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let s = printer.status().await;
    assert!(!s.reachable, "{s:?}");

    // Plugged back: a new tty behind the same stable path.
    let sim = PrinterSim::start().unwrap();
    by_id.point_to(sim.path()).unwrap();
    let mut back = false;
    for _ in 0..40 {
        if printer.status().await.can_print_receipt() {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(back, "the driver reconnected");
    printer.print_receipt(&receipt(), None).await.unwrap();
    assert!(sim.last_receipt().unwrap().text().contains("￥79.50"));
}
