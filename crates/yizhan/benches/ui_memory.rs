//! Memory of the kiosk's screens during a whole payment, against a minimal Slint window
//! (docs/performance.md, "Kiosk UI"; aim: under 40 MiB PSS idle).
//!
//! Run: `cargo bench -p yizhan --bench ui_memory` (release build). The kiosk half is the real
//! controller (`yizhan::ui::KioskUi`, touch screen and mirror) on the embedded back end (channel
//! and biller simulators on loopback, simulated devices on pseudo-terminals, the journal in a
//! temp dir), rendered by Slint's software renderer without a display. It renders the first
//! frame, idles 2 s and samples PSS/RSS; then it pays a water bill by WeChat payment code
//! through the screens (taps by name, the code shown to the simulated scanner, a receipt
//! printed), rendering both windows after every step, and samples the peak RSS (VmHWM). The
//! comparison is this same binary re-run as a child that only shows `MinimalWindow` headlessly
//! at the same size, in the same run.

use kiosk_core::session::SessionTiming;
use kiosk_core::{Ts, Utility};
use kiosk_ui::headless::{Headless, Windows};
use kiosk_ui::Action;
use slint::platform::software_renderer::MinimalSoftwareWindow;
use slint::platform::WindowAdapter;
use slint::{ComponentHandle, Rgb8Pixel, SharedPixelBuffer};
use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};
use yizhan::backend::Backend;
use yizhan::ui::{KioskUi, StaffDirectory, UiOptions};

const CHILD_ARG: &str = "minimal-window-child";
const IDLE: Duration = Duration::from_secs(2);
const WAIT: Duration = Duration::from_secs(30);

/// Memory of this process, in KiB.
#[derive(Clone, Copy, Debug, Default)]
struct Memory {
    pss: u64,
    pss_anon: u64,
    pss_file: u64,
    rss: u64,
    hwm: u64,
    /// Of `pss_file`, the program's own code (r-x) and read-only data (r--: tables, strings,
    /// the embedded font) — the kernel maps a file's pages around each one touched.
    own_code: u64,
    own_rodata: u64,
}

fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn memory() -> Memory {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let (own_code, own_rodata) = own_mappings();
    Memory {
        pss: field(&rollup, "Pss:"),
        pss_anon: field(&rollup, "Pss_Anon:"),
        pss_file: field(&rollup, "Pss_File:"),
        rss: field(&status, "VmRSS:"),
        hwm: field(&status, "VmHWM:"),
        own_code,
        own_rodata,
    }
}

/// PSS (KiB) of this program's executable and read-only mappings, from /proc/self/smaps.
fn own_mappings() -> (u64, u64) {
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let (mut code, mut rodata, mut into) = (0, 0, None);
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first().is_some_and(|range| range.contains('-') && !range.ends_with(':')) {
            // A mapping's header: range, permissions, offset, device, inode, path.
            into = match (fields.get(1), fields.get(5)) {
                (Some(&"r-xp"), Some(path)) if *path == exe => Some(true),
                (Some(&"r--p"), Some(path)) if *path == exe => Some(false),
                _ => None,
            };
        } else if let (Some(is_code), Some(&"Pss:")) = (into, fields.first()) {
            let kib: u64 = fields.get(1).and_then(|n| n.parse().ok()).unwrap_or(0);
            *(if is_code { &mut code } else { &mut rodata }) += kib;
        }
    }
    (code, rodata)
}

/// A window's frame buffer, kept like a real back end keeps its surface.
struct Frame {
    window: Rc<MinimalSoftwareWindow>,
    buffer: SharedPixelBuffer<Rgb8Pixel>,
}

impl Frame {
    fn new(windows: &Windows, index: usize) -> Frame {
        Frame { window: windows.get(index).expect("a window"), buffer: SharedPixelBuffer::new(1, 1) }
    }

    /// Repaints the whole window at its current size.
    fn draw(&mut self) {
        slint::platform::update_timers_and_animations();
        let size = self.window.size();
        if (self.buffer.width(), self.buffer.height()) != (size.width, size.height) {
            self.buffer = SharedPixelBuffer::new(size.width, size.height);
        }
        let stride = size.width as usize;
        self.window.request_redraw();
        let buffer = &mut self.buffer;
        self.window.draw_if_needed(|renderer| {
            renderer.render(buffer.make_mut_slice(), stride);
        });
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == CHILD_ARG) {
        minimal_child();
        return;
    }
    let (idle, peak, screens, took) = kiosk();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg(CHILD_ARG)
        .output()
        .expect("the minimal-window child runs");
    assert!(child.status.success(), "the child failed: {}", String::from_utf8_lossy(&child.stderr));
    let numbers: Vec<u64> =
        String::from_utf8_lossy(&child.stdout).split_whitespace().filter_map(|n| n.parse().ok()).collect();
    let [pss, pss_anon, pss_file, rss, hwm, own_code, own_rodata] = numbers[..] else {
        panic!("child said {numbers:?}")
    };
    let minimal = Memory { pss, pss_anon, pss_file, rss, hwm, own_code, own_rodata };

    println!("Headless (software renderer), release build; MiB.");
    println!(
        "Kiosk: touch screen 1920x1080 + mirror 1080x1920, embedded back end; minimal: one 1920x1080 window."
    );
    println!("Payment: {} screens in {:.1} s: {}\n", screens.len(), took.as_secs_f64(), screens.join(" → "));
    println!("| figure | kiosk (yizhan::ui) | MinimalWindow |");
    println!("|---|---|---|");
    println!("| PSS idle (2 s after the first frame) | {} | {} |", mib(idle.pss), mib(minimal.pss));
    println!(
        "| – of it anonymous / file-backed | {} / {} | {} / {} |",
        mib(idle.pss_anon),
        mib(idle.pss_file),
        mib(minimal.pss_anon),
        mib(minimal.pss_file)
    );
    println!(
        "| – of file-backed, the program's code / read-only data | {} / {} | {} / {} |",
        mib(idle.own_code),
        mib(idle.own_rodata),
        mib(minimal.own_code),
        mib(minimal.own_rodata)
    );
    println!("| RSS idle | {} | {} |", mib(idle.rss), mib(minimal.rss));
    println!("| peak RSS (VmHWM) idle | {} | {} |", mib(idle.hwm), mib(minimal.hwm));
    println!("| peak RSS (VmHWM) after a whole payment | {} | — |", mib(peak.hwm));
    println!("| PSS after the payment | {} | — |", mib(peak.pss));
    println!("| – of it anonymous / file-backed | {} / {} | — |", mib(peak.pss_anon), mib(peak.pss_file));
    let verdict = |m: &Memory| if m.pss < 40 * 1024 { "met" } else { "NOT met" };
    println!(
        "\nAim: PSS idle under 40 MiB: {}; back at idle after the payment: {}",
        verdict(&idle),
        verdict(&peak)
    );
}

/// The real controller on the embedded back end: idle memory, then a whole payment.
fn kiosk() -> (Memory, Memory, Vec<String>, Duration) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sim-keys");
    let dir = tempfile::tempdir().unwrap();
    let backend = rt.block_on(Backend::start_embedded(&keys, dir.path(), 1, true)).unwrap();
    let backend = std::sync::Arc::new(backend);
    let windows = Headless::install().expect("the headless platform");

    // Wall clock plus a hand-moved offset, so that taps land a second apart (never a repeat).
    let started = Instant::now();
    let offset = Rc::new(Cell::new(0i64));
    let clock = offset.clone();
    let options = UiOptions {
        portrait: false,
        mirror: true,
        staff: StaffDirectory::default(),
        timing: SessionTiming::default(),
        speaker: Box::new(kiosk_ui::speech::Silent),
        headset: None,
        clock: Box::new(move || Ts(started.elapsed().as_millis() as i64 + clock.get())),
        // The bench plays the customer itself.
        demo_customer: false,
        hub: None,
    };
    let ui = KioskUi::new(backend.clone(), rt.handle().clone(), options).unwrap();
    ui.borrow().show().unwrap();
    let mut frames = [Frame::new(&windows, 0), Frame::new(&windows, 1)];
    let draw = |frames: &mut [Frame; 2]| frames.iter_mut().for_each(Frame::draw);
    draw(&mut frames);
    assert!(ui.borrow_mut().pump_until(WAIT, |ui| ui.devices_known()), "the devices answered");
    draw(&mut frames);
    let idle_until = Instant::now() + IDLE;
    while Instant::now() < idle_until {
        ui.borrow_mut().pump_until(Duration::from_millis(50), |_| false);
    }
    let idle = memory();

    // A water bill, seeded at the simulated biller.
    let body = "70012345";
    let account = format!("{body}{}", kiosk_core::utility::luhn_check_digit(body).unwrap());
    let seed: billers::sim::AccountSeed =
        serde_json::from_value(serde_json::json!({ "account": account, "amount_due_fen": 8640 })).unwrap();
    backend.sims.as_ref().unwrap().billers.get(Utility::Water).sim.put_account(seed);

    let screens = RefCell::new(Vec::<String>::new());
    let note = || {
        let screen = ui.borrow().session().screen().code().to_string();
        let mut screens = screens.borrow_mut();
        if screens.last() != Some(&screen) {
            screens.push(screen);
        }
    };
    let tap = |frames: &mut [Frame; 2], action: Action, arg: i32| {
        offset.set(offset.get() + 1_000);
        ui.borrow_mut().tap(action, arg);
        draw(frames);
        note();
    };
    // Pumps (as the kiosk's 50 ms timer does) and redraws until the screen is `screen`.
    let wait_for = |frames: &mut [Frame; 2], screen: &str| {
        let until = Instant::now() + WAIT;
        loop {
            let there = ui
                .borrow_mut()
                .pump_until(Duration::from_millis(50), |ui| ui.session().screen().code() == screen);
            draw(frames);
            note();
            if there {
                return;
            }
            assert!(Instant::now() < until, "timed out waiting for {screen} on {:?}", screens.borrow());
        }
    };
    let paying = Instant::now();
    note();
    tap(&mut frames, Action::Start, 0);
    for d in account.bytes() {
        tap(&mut frames, Action::Digit, i32::from(d - b'0'));
    }
    tap(&mut frames, Action::Submit, 0);
    wait_for(&mut frames, "confirm");
    tap(&mut frames, Action::Confirm, 0);
    let code = format!("13{:016}", 4_242_424_242u64);
    backend.runtime.devices.sims.scanner.as_ref().expect("a simulated scanner").present(&code);
    tap(&mut frames, Action::Method, 0);
    wait_for(&mut frames, "result");
    let outcome = ui.borrow().session().outcome().cloned().expect("an outcome");
    assert_eq!(outcome.kind, kiosk_core::session::OutcomeKind::Paid, "the bill was paid");
    tap(&mut frames, Action::Receipt, 1);
    let printed = |ui: &KioskUi| ui.session().receipt() == Some(&kiosk_core::session::ReceiptState::Printed);
    assert!(ui.borrow_mut().pump_until(WAIT, printed), "the receipt was printed");
    draw(&mut frames);
    tap(&mut frames, Action::Done, 0);
    tap(&mut frames, Action::Done, 0);
    let took = paying.elapsed();
    ui.borrow_mut().pump_until(Duration::from_millis(500), |_| false);
    draw(&mut frames);
    let peak = memory();
    drop(ui);
    drop(frames);
    (idle, peak, screens.into_inner(), took)
}

/// The comparison: only `MinimalWindow`, headless, the same size and the same sampling.
fn minimal_child() {
    let windows = Headless::install().expect("the headless platform");
    let window = kiosk_ui::MinimalWindow::new().unwrap();
    window.window().set_size(kiosk_ui::LANDSCAPE);
    window.show().unwrap();
    let mut frame = Frame::new(&windows, 0);
    frame.draw();
    let idle_until = Instant::now() + IDLE;
    while Instant::now() < idle_until {
        std::thread::sleep(Duration::from_millis(50));
        slint::platform::update_timers_and_animations();
    }
    let m = memory();
    println!("{} {} {} {} {} {} {}", m.pss, m.pss_anon, m.pss_file, m.rss, m.hwm, m.own_code, m.own_rodata);
}
