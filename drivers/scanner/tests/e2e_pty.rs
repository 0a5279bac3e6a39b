//! End to end over a pseudo-terminal: the real driver (device's serial transport on the pty's
//! slave path) against the simulated engine (this crate's codec on the master side).

use device::{Fault, FaultPlan, SerialConfig};
use kiosk_core::Channel;
use scanner::config::Terminator;
use scanner::sim::{SimOptions, SimScanner};
use scanner::{GarbageReason, Persistence, Scan, ScanError, Scanned, Scanner, ScannerConfig, Status, Vendor};
use std::time::Duration;
use tokio::task::JoinHandle;

const WECHAT: &str = "134567890123456789";

fn driver(sim: &SimScanner, vendor: Vendor) -> Scanner<device::SerialConnector> {
    let cfg = ScannerConfig::new(SerialConfig::new(sim.path()), vendor);
    Scanner::open(cfg).unwrap()
}

/// A simulated engine of `vendor`, and the driver on its pty.
fn started(vendor: Vendor) -> (SimScanner, Scanner<device::SerialConnector>) {
    let sim = SimScanner::start(vendor).unwrap();
    let scanner = driver(&sim, vendor);
    (sim, scanner)
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(30)).await;
}

/// The driver's scan (a 5 s window) running in the background, once it has had time to start.
async fn scan_in_background(
    mut scanner: Scanner<device::SerialConnector>,
) -> JoinHandle<Result<Scan, ScanError>> {
    let scan = tokio::spawn(async move { scanner.scan(Duration::from_secs(5)).await });
    settle().await;
    scan
}

#[tokio::test]
async fn trigger_then_wechat_code_is_a_payment_code() {
    let (sim, mut scanner) = started(Vendor::Honeywell);
    sim.present(WECHAT);
    let scan = scanner.scan(Duration::from_secs(5)).await.unwrap();
    match &scan.scanned {
        Scanned::PaymentCode(code) => {
            assert_eq!(code.channel(), Channel::WeChat);
            assert_eq!(code.expose(), WECHAT);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(scan.garbage_bytes, 0);
    settle().await;
    let log = sim.log();
    assert_eq!((log.triggers, log.untriggers, log.codes_sent), (1, 1, 1));
    assert!(scanner.status().is_ready());
}

#[tokio::test]
async fn garbage_scan_is_classified_as_garbage() {
    let (sim, mut scanner) = started(Vendor::Honeywell);
    sim.present("https://example.com/promo");
    let scan = scanner.scan(Duration::from_secs(5)).await.unwrap();
    assert_eq!(scan.scanned, Scanned::Garbage { reason: GarbageReason::Url });
}

#[tokio::test]
async fn partial_frame_then_completion() {
    let (sim, scanner) = started(Vendor::Passive);
    let scan = scan_in_background(scanner).await;
    // Half the code, a 40 ms pause (under the 100 ms inter-byte timeout), then the rest + CR.
    sim.partial(WECHAT, 9, Duration::from_millis(40));
    let scan = scan.await.unwrap().unwrap();
    assert!(matches!(scan.scanned, Scanned::PaymentCode(ref c) if c.expose() == WECHAT));
}

#[tokio::test]
async fn a_stalled_partial_frame_is_dropped_and_the_next_code_read() {
    let (sim, scanner) = started(Vendor::Passive);
    let scan = scan_in_background(scanner).await;
    sim.garbage(b"13456"); // a torn frame: no CR, then silence beyond the inter-byte timeout
    tokio::time::sleep(Duration::from_millis(250)).await;
    sim.present("6212345678901234567");
    let scan = scan.await.unwrap().unwrap();
    assert!(matches!(scan.scanned, Scanned::PaymentCode(ref c) if c.channel() == Channel::UnionPay));
    assert_eq!(scan.garbage_bytes, 5);
}

#[tokio::test]
async fn line_noise_before_a_code_is_dropped() {
    let (sim, scanner) = started(Vendor::Passive);
    let scan = scan_in_background(scanner).await;
    sim.garbage(&[0x00, 0x11, 0x1F, 0x00]);
    sim.present(WECHAT);
    let scan = scan.await.unwrap().unwrap();
    assert!(scan.scanned.is_payment_code());
    assert_eq!(scan.garbage_bytes, 4);
}

#[tokio::test]
async fn a_burst_yields_the_first_code_and_stale_input_is_discarded() {
    let (sim, mut scanner) = started(Vendor::Passive);
    // Scanned before any screen asked: must be discarded, never paid with.
    scanner.ensure_ready().await.unwrap();
    sim.burst(&["2845678901234567", "YZB231000000118"]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    sim.present(WECHAT);
    let scan = scanner.scan(Duration::from_secs(5)).await.unwrap();
    assert!(matches!(scan.scanned, Scanned::PaymentCode(ref c) if c.channel() == Channel::WeChat));
    // A burst during the window: the first code is the scan.
    let scan = scan_in_background(scanner).await;
    sim.burst(&["YZB231000000118", WECHAT]);
    let scan = scan.await.unwrap().unwrap();
    assert!(matches!(scan.scanned, Scanned::BillBarcode { .. }));
}

#[tokio::test]
async fn no_code_in_the_window_times_out_and_untriggers() {
    let (sim, mut scanner) = started(Vendor::Honeywell);
    let err = scanner.scan(Duration::from_millis(300)).await.unwrap_err();
    assert!(matches!(err, ScanError::NoCode { .. }), "{err:?}");
    settle().await;
    assert_eq!(sim.log().untriggers, 1);
}

#[tokio::test]
async fn the_window_is_capped_at_sixty_seconds() {
    let (_sim, scanner) = started(Vendor::Honeywell);
    assert_eq!(scanner.config().max_window(), Duration::from_secs(60));
    let mut cfg = scanner.config().clone();
    cfg.max_window_s = 600;
    assert_eq!(cfg.max_window(), Duration::from_secs(60));
}

#[tokio::test]
async fn honeywell_settings_are_sent_on_connect_and_acknowledged() {
    let sim = SimScanner::start(Vendor::Honeywell).unwrap();
    let mut cfg = ScannerConfig::new(SerialConfig::new(sim.path()), Vendor::Honeywell);
    cfg.settings = vec!["TRGMOD0".into(), "SUFBK2990D".into()];
    let mut scanner = Scanner::open(cfg).unwrap();
    sim.present(WECHAT);
    assert!(scanner.scan(Duration::from_secs(5)).await.unwrap().scanned.is_payment_code());
    assert_eq!(sim.log().settings, vec!["TRGMOD0".to_string(), "SUFBK2990D".to_string()]);
}

#[tokio::test]
async fn a_refused_setting_is_an_error() {
    let mut options = SimOptions::new(Vendor::Honeywell);
    options.refuse = vec!["TRGMOD9".into()];
    let sim = SimScanner::start_with(options).unwrap();
    let mut scanner = driver(&sim, Vendor::Honeywell);
    let err = scanner.apply_setting("TRGMOD9", Persistence::Temporary).await.unwrap_err();
    assert!(matches!(err, ScanError::Refused { status: Status::Nak }), "{err:?}");
}

#[tokio::test]
async fn newland_legacy_and_unified_work_end_to_end() {
    for vendor in [Vendor::Newland, Vendor::NewlandUnified] {
        let (sim, mut scanner) = started(vendor);
        scanner.apply_setting("NLS0006010", Persistence::Temporary).await.unwrap();
        sim.present("2845678901234567");
        let scan = scanner.scan(Duration::from_secs(5)).await.unwrap();
        assert!(
            matches!(scan.scanned, Scanned::PaymentCode(ref c) if c.channel() == Channel::Alipay),
            "{vendor}"
        );
        settle().await;
        assert_eq!(sim.log().triggers, 1, "{vendor}");
    }
}

#[tokio::test]
async fn suffixless_engine_frames_end_on_idle() {
    let mut options = SimOptions::new(Vendor::Honeywell);
    options.suffix = Vec::new();
    let sim = SimScanner::start_with(options).unwrap();
    let mut cfg = ScannerConfig::new(SerialConfig::new(sim.path()), Vendor::Honeywell);
    cfg.terminator = Terminator::Idle;
    let mut scanner = Scanner::open(cfg).unwrap();
    sim.present(WECHAT);
    let scan = scanner.scan(Duration::from_secs(5)).await.unwrap();
    assert!(matches!(scan.scanned, Scanned::PaymentCode(ref c) if c.expose() == WECHAT));
}

#[tokio::test]
async fn an_engine_left_without_its_cr_suffix_still_scans_with_the_default_settings() {
    // hardware.md §5.1: the driver splits on CR and "also accepts an inter-character idle
    // timeout" for scanners configured without suffix.
    let mut options = SimOptions::new(Vendor::Honeywell);
    options.suffix = Vec::new();
    let sim = SimScanner::start_with(options).unwrap();
    let mut scanner = driver(&sim, Vendor::Honeywell);
    sim.present(WECHAT);
    let scan = scanner.scan(Duration::from_secs(5)).await.unwrap();
    assert!(matches!(scan.scanned, Scanned::PaymentCode(ref c) if c.expose() == WECHAT));
    assert_eq!(scan.garbage_bytes, 0);
}

#[tokio::test]
async fn faults_silent_and_delay() {
    let (sim, mut scanner) = started(Vendor::Honeywell);
    // Powered off: the trigger goes out, nothing comes back.
    sim.set_faults(FaultPlan::powered_off());
    sim.present(WECHAT);
    let err = scanner.scan(Duration::from_millis(300)).await.unwrap_err();
    assert!(matches!(err, ScanError::NoCode { .. }), "{err:?}");
    // A slow read (500 ms) still lands inside a 3 s window.
    sim.set_faults(FaultPlan::named("slow").then(Fault::Delay(Duration::from_millis(500))));
    sim.present(WECHAT);
    let scan = scanner.scan(Duration::from_secs(3)).await.unwrap();
    assert!(scan.scanned.is_payment_code());
    assert!(scan.elapsed >= Duration::from_millis(450));
}

#[tokio::test]
async fn an_unplugged_scanner_is_offline() {
    let (sim, mut scanner) = started(Vendor::Honeywell);
    scanner.ensure_ready().await.unwrap();
    sim.shutdown();
    settle().await;
    let err = scanner.scan(Duration::from_millis(300)).await.unwrap_err();
    assert!(err.is_offline(), "{err:?}");
    assert!(!scanner.status().is_ready());
}

#[test]
fn scanner_config_reads_from_toml() {
    let cfg: ScannerConfig = toml::from_str(
        r#"
        vendor = "newland-unified"
        terminator = "idle"
        idle_gap_ms = 60
        settings = ["SCNMOD0"]
        [serial]
        path = "/dev/serial/by-id/usb-scanner"
        baud = 9600
        inter_byte_ms = 100
        [bills]
        bare_accounts = false
        "#,
    )
    .unwrap();
    assert_eq!(cfg.vendor, Vendor::NewlandUnified);
    assert_eq!(cfg.terminator, Terminator::Idle);
    assert_eq!(cfg.serial.baud, 9600);
    assert_eq!(cfg.max_window(), Duration::from_secs(60));
    assert!(cfg.validate().is_ok());
    assert!(toml::from_str::<ScannerConfig>("vendor = \"honeywell\"\nbaudrate = 1\n[serial]\npath = \"/x\"")
        .is_err());
}
