//! Full-frame render time of the kiosk's screens against a minimal Slint window, with Slint's
//! software renderer and no display (docs/performance.md, "Kiosk UI"; aim: a full frame under
//! 4 ms at 1080x1920).
//!
//! Run: `cargo bench -p kiosk-ui --bench render`. Every window is a `MinimalSoftwareWindow` with
//! `RepaintBufferType::NewBuffer`, and every frame is requested with `request_redraw`, so each
//! draw repaints the whole window (checked: the dirty region is the window). Each case renders
//! a few warm-up frames, then `FRAMES` timed ones into the same RGB buffer; the table gives the
//! median and (minimum) in ms.

use kiosk_core::session::Lang;
use kiosk_ui::gallery::{demo_facts, shots};
use kiosk_ui::headless::Headless;
use kiosk_ui::{view, Kiosk, KioskWindow, MinimalWindow, MirrorWindow, Theme, LANDSCAPE, PORTRAIT};
use slint::platform::software_renderer::MinimalSoftwareWindow;
use slint::{ComponentHandle, PhysicalSize, Rgb8Pixel, SharedPixelBuffer};
use std::time::{Duration, Instant};

const FRAMES: usize = 50;
const WARM_UP: usize = 5;

/// The gallery screens timed (the busiest ones, and the plain attract screen).
const SCREENS: [&str; 8] = [
    "01-attract",
    "03-find-account",
    "06-confirm",
    "07-confirm-joint",
    "09-paying-code",
    "11-result-paid",
    "13-result-suspense",
    "17-staff-panel",
];

/// Median and minimum of `FRAMES` full repaints of `window` at `size`.
fn time_frames(window: &MinimalSoftwareWindow, size: PhysicalSize) -> (Duration, Duration) {
    window.set_size(size);
    slint::platform::update_timers_and_animations();
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(size.width, size.height);
    let stride = size.width as usize;
    let mut times = Vec::with_capacity(FRAMES);
    for i in 0..WARM_UP + FRAMES {
        slint::platform::update_timers_and_animations();
        window.request_redraw();
        let started = Instant::now();
        let mut drawn = false;
        window.draw_if_needed(|renderer| {
            let region = renderer.render(buffer.make_mut_slice(), stride);
            let bounds = region.bounding_box_size();
            assert_eq!((bounds.width, bounds.height), (size.width, size.height), "a full repaint");
            drawn = true;
        });
        let took = started.elapsed();
        assert!(drawn, "the frame was drawn");
        if i >= WARM_UP {
            times.push(took);
        }
    }
    times.sort();
    (times[times.len() / 2], times[0])
}

fn cell((median, min): (Duration, Duration)) -> String {
    format!("{:.2} ({:.2})", median.as_secs_f64() * 1e3, min.as_secs_f64() * 1e3)
}

fn main() {
    let windows = Headless::install().expect("the headless platform");
    let kiosk = KioskWindow::new().unwrap();
    let mirror = MirrorWindow::new().unwrap();
    let minimal = MinimalWindow::new().unwrap();
    let (kiosk_window, mirror_window, minimal_window) =
        (windows.get(0).unwrap(), windows.get(1).unwrap(), windows.get(2).unwrap());
    kiosk.show().unwrap();
    mirror.show().unwrap();
    minimal.show().unwrap();
    kiosk_ui::select_language(Lang::Zh);

    let sizes = [("1080x1920", true, PORTRAIT), ("1920x1080", false, LANDSCAPE)];
    println!("Full frames, software renderer, {FRAMES} frames per case after {WARM_UP} warm-up:");
    println!("median (min) in ms.\n");
    println!(
        "| screen | 1080x1920 normal | 1080x1920 长辈 (large) | 1920x1080 normal | 1920x1080 长辈 (large) |"
    );
    println!("|---|---|---|---|---|");
    let mut worst = Duration::ZERO;
    let all = shots();
    for name in SCREENS {
        let shot = all.iter().find(|s| s.name == name).expect("a gallery screen");
        let mut cells = Vec::new();
        for (_, portrait, size) in sizes {
            for large in [false, true] {
                let mut session = shot.session.clone();
                session.large = large;
                view::apply(&kiosk.global::<Kiosk>(), &session, &demo_facts(portrait), shot.now);
                kiosk.global::<Theme>().set_large(large);
                kiosk.global::<Theme>().set_mirror(false);
                let timed = time_frames(&kiosk_window, size);
                worst = worst.max(timed.0);
                cells.push(cell(timed));
            }
        }
        println!("| kiosk {name} | {} |", cells.join(" | "));
    }
    // The mirror: portrait only, the same screens (it is drawn beside the touch screen).
    let mut mirror_worst = Duration::ZERO;
    for name in ["06-confirm", "11-result-paid"] {
        let shot = all.iter().find(|s| s.name == name).unwrap();
        let mut cells = Vec::new();
        for large in [false, true] {
            let mut session = shot.session.clone();
            session.large = large;
            view::apply(&mirror.global::<Kiosk>(), &session, &demo_facts(true), shot.now);
            mirror.global::<Theme>().set_large(large);
            mirror.global::<Theme>().set_mirror(true);
            let timed = time_frames(&mirror_window, PORTRAIT);
            mirror_worst = mirror_worst.max(timed.0);
            cells.push(cell(timed));
        }
        println!("| mirror {name} | {} | — | — |", cells.join(" | "));
    }
    let portrait = cell(time_frames(&minimal_window, PORTRAIT));
    let landscape = cell(time_frames(&minimal_window, LANDSCAPE));
    println!("| **MinimalWindow** | {portrait} | — | {landscape} | — |");
    println!();
    println!(
        "Slowest kiosk median: {:.2} ms (aim: under 4 ms at 1080x1920); slowest mirror median: {:.2} ms.",
        worst.as_secs_f64() * 1e3,
        mirror_worst.as_secs_f64() * 1e3
    );
}
