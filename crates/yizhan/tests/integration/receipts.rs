//! Receipts end to end: the runtime prints through the real ESC/POS driver to the printer
//! simulator on a pty; the transcript is what a customer would hold.

use crate::support;

use kiosk_core::{Fen, State, Utility};
use printer::Paper;
use std::time::Duration;
use support::*;
use yizhan::runtime::{Observer, Quiet, ReceiptAvailability};

fn printer_sim(kiosk: &TestKiosk) -> &printer::sim::PrinterSim {
    kiosk.runtime().devices.sims.printer.as_ref().expect("a simulated printer")
}

fn verifying_key() -> printer::proof::VerifyingKey {
    printer::proof::load_verifying_key(&repo_config_dir().join("sim-keys/receipt-ed25519-demo-public.pem"))
        .unwrap()
}

#[tokio::test]
async fn a_paid_bill_prints_a_receipt_whose_qr_proves_it() {
    let kiosk = TestKiosk::start().await;
    let account = kiosk.account(Utility::Power, 12680);
    let payment = kiosk.pay(Utility::Power, &account, wechat_code()).await;
    assert_eq!(payment.state, State::Done);
    let transcript = printer_sim(&kiosk).last_receipt().expect("a receipt was printed");
    let text = transcript.text();
    assert!(text.contains("126.80"), "{text}");
    assert!(text.contains(payment.id()), "{text}");
    assert!(!text.contains(&account), "the account number is masked: {text}");
    let qr = transcript.qr_payloads();
    assert_eq!(qr.len(), 1, "{qr:?}");
    let claim = yizhan::proof::verify(qr[0], &verifying_key(), &kiosk.runtime().journal).await.unwrap();
    assert_eq!((claim.order_ref.as_str(), claim.amount), (payment.id(), Fen(12680)));
    let prints = kiosk.runtime().journal.prints(payment.id()).await.unwrap();
    assert_eq!(prints.len(), 1);
    assert_eq!(prints[0].outcome, "printed");
}

#[tokio::test]
async fn a_tampered_or_foreign_receipt_is_refused() {
    let kiosk = TestKiosk::start().await;
    let payment = kiosk.pay(Utility::Water, &kiosk.account(Utility::Water, 3150), alipay_code()).await;
    let qr = printer_sim(&kiosk).last_receipt().unwrap().qr_payloads().remove(0).to_string();
    let journal = &kiosk.runtime().journal;
    // One character changed anywhere in the payload breaks the signature.
    let mut tampered = qr.clone().into_bytes();
    let at = tampered.len() - 10;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert!(yizhan::proof::verify(&tampered, &verifying_key(), journal).await.is_err());
    // A genuine payload checked against another kiosk's journal names an unknown order.
    let other = TestKiosk::start().await;
    let err = yizhan::proof::verify(&qr, &verifying_key(), &other.runtime().journal).await.unwrap_err();
    assert!(err.to_string().contains(payment.id()), "{err}");
}

#[tokio::test]
async fn paper_out_before_paying_is_said_up_front_and_the_customer_may_pay_without_a_receipt() {
    let kiosk = TestKiosk::start().await;
    printer_sim(&kiosk).set_paper(Paper::Out);
    let availability = kiosk.runtime().receipt_availability().await;
    assert!(
        matches!(&availability, ReceiptAvailability::Unavailable(why) if why.contains("out of paper")),
        "{availability:?}"
    );
    let payment = kiosk.pay(Utility::Gas, &kiosk.account(Utility::Gas, 4560), wechat_code()).await;
    assert_eq!(payment.state, State::Done, "the money path does not depend on paper");
    assert!(printer_sim(&kiosk).receipts().is_empty());
    let prints = kiosk.runtime().journal.prints(payment.id()).await.unwrap();
    assert!(prints[0].outcome.starts_with("failed"), "{prints:?}");
}

#[tokio::test]
async fn paper_near_end_is_reported_and_still_prints() {
    let kiosk = TestKiosk::start().await;
    printer_sim(&kiosk).set_paper(Paper::NearEnd);
    assert_eq!(kiosk.runtime().receipt_availability().await, ReceiptAvailability::NearEnd);
    let payment = kiosk.pay(Utility::Water, &kiosk.account(Utility::Water, 2740), wechat_code()).await;
    let receipt = printer_sim(&kiosk).last_receipt().expect("near end still prints");
    assert!(receipt.text().contains("27.40") && receipt.text().contains(payment.id()), "{}", receipt.text());
}

struct Failures(std::sync::Mutex<Vec<String>>);

impl Observer for Failures {
    fn print_failed(&self, _payment: &kiosk_core::Payment, reason: &str) {
        self.0.lock().unwrap().push(reason.to_string());
    }
}

#[tokio::test]
async fn paper_running_out_mid_print_is_reported_and_a_reprint_works_after_loading_paper() {
    let kiosk = TestKiosk::start().await;
    let sim = printer_sim(&kiosk);
    sim.run_out_of_paper_after(200);
    let order = kiosk.order_for(Utility::Water, 5820).await;
    let failures = Failures(Default::default());
    let payment = kiosk.runtime().pay_order(order, wechat_code(), &failures).await.unwrap();
    assert_eq!(payment.state, State::Done);
    assert_eq!(failures.0.lock().unwrap().len(), 1, "the failure is reported");
    let ledger_before = kiosk.channel(&wechat_code()).ledger().len();
    // Staff load paper; the reprint comes from the journal.
    sim.set_paper(Paper::Ok);
    let reloaded = kiosk.runtime().load(payment.id()).await.unwrap();
    assert_eq!(kiosk.runtime().print_now(&reloaded, &Quiet).await, "printed");
    let reprinted = sim.last_receipt().unwrap();
    assert!(reprinted.text().contains("58.20") && reprinted.text().contains(payment.id()));
    // The billing period came back from the journal with the order (issue 11 item 8).
    assert!(
        reprinted.text().contains("账期") && reprinted.text().contains("2026-11"),
        "{}",
        reprinted.text()
    );
    assert_eq!(kiosk.channel(&wechat_code()).ledger().len(), ledger_before, "no money moved");
}

#[tokio::test]
async fn a_payment_in_suspense_prints_a_slip_for_the_counter() {
    let kiosk = TestKiosk::start().await;
    let (payment, _) = kiosk.pay_into_suspense(3150).await;
    assert!(matches!(payment.state, State::Suspense { .. }));
    let slip = printer_sim(&kiosk).last_receipt().unwrap().text();
    assert!(slip.contains(payment.id()) && slip.contains("021-12345678"), "{slip}");
    let qr = printer_sim(&kiosk).last_receipt().unwrap().qr_payloads().remove(0).to_string();
    let claim = yizhan::proof::verify(&qr, &verifying_key(), &kiosk.runtime().journal).await.unwrap();
    assert_eq!(claim.outcome, printer::ClaimOutcome::Pending);
}

#[tokio::test]
async fn a_code_shown_to_the_scanner_pays_and_prints_a_verifiable_receipt() {
    let kiosk = TestKiosk::start().await;
    let runtime = kiosk.runtime();
    let account = kiosk.account(Utility::Gas, 3870);
    let code = alipay_code();
    runtime.devices.sims.scanner.as_ref().expect("a simulated scanner").present(code.expose());
    let scanned = runtime.scan_payment_code(std::time::Duration::from_secs(5)).await.unwrap();
    assert_eq!(scanned, code);
    let payment = kiosk.pay(Utility::Gas, &account, scanned).await;
    assert_eq!(payment.state, State::Done);
    let transcript = printer_sim(&kiosk).last_receipt().unwrap();
    assert!(transcript.text().contains("38.70"), "{}", transcript.text());
    // The journal's reach is on paper (issue 9, item 2): a journal rolled back behind a receipt
    // in a customer's hand is caught.
    let head = runtime.journal.chain_head().await.unwrap().seq;
    assert!(
        transcript.text().contains(&format!("{head}")) && transcript.text().contains("记录号"),
        "{}",
        transcript.text()
    );
    let qr = transcript.qr_payloads().remove(0).to_string();
    let claim = yizhan::proof::verify(&qr, &verifying_key(), &runtime.journal).await.unwrap();
    assert_eq!((claim.amount, claim.outcome), (Fen(3870), printer::ClaimOutcome::Paid));
}

#[tokio::test]
async fn garbage_at_the_scanner_is_explained_and_never_pays() {
    let kiosk = TestKiosk::start().await;
    let runtime = kiosk.runtime();
    let sim = runtime.devices.sims.scanner.as_ref().unwrap();
    sim.present("https://qr.alipay.com/fkx12345");
    let error = runtime.scan_payment_code(std::time::Duration::from_secs(5)).await.unwrap_err();
    let words = error.words().in_lang(catalogue::Lang::Zh);
    assert!(words.contains("收款码"), "{words}");
    sim.present("YZB231000000118");
    let error = runtime.scan_payment_code(std::time::Duration::from_secs(5)).await.unwrap_err();
    assert!(matches!(error, yizhan::runtime::ScanProblem::BillInsteadOfCode), "{error}");
    assert!(runtime.journal.list(10, 0).await.unwrap().is_empty(), "nothing was journaled");
}

/// A scan the customer abandons (stop pressed, the session timed out) is a dropped future: it
/// never reaches its own untrigger, so the engine must be turned off for it.
#[tokio::test]
async fn an_abandoned_scan_turns_the_scanner_off() {
    let kiosk = TestKiosk::start().await;
    let runtime = kiosk.runtime();
    let sim = kiosk.scanner_sim();
    let before = sim.log();
    let abandoned =
        tokio::time::timeout(Duration::from_millis(300), runtime.scan_payment_code(Duration::from_secs(30)))
            .await;
    assert!(abandoned.is_err(), "nothing was shown: the scan was still waiting when dropped");
    let mut log = sim.log();
    for _ in 0..100 {
        if log.untriggers > before.untriggers {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        log = sim.log();
    }
    assert_eq!(log.triggers, before.triggers + 1, "{log:?}");
    assert_eq!(log.untriggers, before.untriggers + 1, "the engine was turned off: {log:?}");
    // A code shown after that is not read until a scan asks for it, and then it pays.
    let code = wechat_code();
    sim.present(code.expose());
    let scanned = runtime.scan_payment_code(Duration::from_secs(5)).await.unwrap();
    assert_eq!(scanned.expose(), code.expose());
}

/// Issue 11, item 8: paper printed again for a payment is marked 补打 with its own time, and
/// keeps the time the customer paid; the first print is not marked.
#[tokio::test]
async fn a_reprint_is_marked_and_keeps_the_time_of_payment() {
    let kiosk = TestKiosk::start().await;
    let payment = kiosk.pay(Utility::Water, &kiosk.account(Utility::Water, 2210), wechat_code()).await;
    let first = printer_sim(&kiosk).last_receipt().unwrap().text();
    assert!(first.contains("缴费时间 Paid at") && !first.contains("补打"), "{first}");
    let printed =
        kiosk.runtime().print_and_record(&payment, journal::PrintKind::Reprint, &Quiet).await.unwrap();
    assert!(printed);
    let again = printer_sim(&kiosk).last_receipt().unwrap().text();
    assert!(again.contains("补打 Reprint") && again.contains("补打时间 Reprinted at"), "{again}");
    let paid_at = |text: &str| text.lines().find(|l| l.contains("缴费时间")).map(str::to_string);
    assert_eq!(paid_at(&first), paid_at(&again), "the time of payment, not of printing");
}
