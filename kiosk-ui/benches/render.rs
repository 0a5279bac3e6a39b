//! Full-frame render time of the kiosk's screens against a minimal Slint window, with Slint's
//! software renderer and no display (docs/performance.md, "Kiosk UI"; aim: a full frame under
//! 4 ms at 1080x1920).
//!
//! Run: `cargo bench -p kiosk-ui --bench render`. Every window is a `MinimalSoftwareWindow` with
//! `RepaintBufferType::NewBuffer`, and every frame is requested with `request_redraw`, so each
//! draw repaints the whole window (checked: the dirty region is the window). Every case (screen ×
//! size × theme, and the minimal window) is timed in several round-robin passes, each a few
//! warm-up frames and then timed ones into one RGB buffer; the table gives the median and
//! (minimum) in ms over all of a case's timed frames.

use kiosk_core::session::Lang;
use kiosk_ui::gallery::{demo_facts, shots};
use kiosk_ui::headless::Headless;
use kiosk_ui::{view, KioskWindow, MinimalWindow, MirrorWindow, Theme, LANDSCAPE, PORTRAIT};
use slint::platform::software_renderer::MinimalSoftwareWindow;
use slint::{ComponentHandle, PhysicalSize, Rgb8Pixel, SharedPixelBuffer};
use std::time::{Duration, Instant};

/// Timed frames per case, spread over `ROUNDS` round-robin passes over every case, so that a
/// burst of noise on this shared virtual machine hits every case alike.
const ROUNDS: usize = 5;
const FRAMES_PER_ROUND: usize = 20;
const FRAMES: usize = ROUNDS * FRAMES_PER_ROUND;
const WARM_UP: usize = 3;

/// The gallery screens timed (the busiest ones, the plain attract screen, and those with the
/// animated "where" picture: its frames include the animation, the clock running).
const SCREENS: [&str; 10] = [
    "01-attract",
    "03-find-account",
    "06-confirm",
    "07-confirm-joint",
    "09-paying-code",
    "11-result-paid",
    "13-result-suspense",
    "14-farewell",
    "17-staff-panel",
    "04-find-account-gas-card",
];

/// Which window a case draws.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    Kiosk,
    Mirror,
    Minimal,
}

/// One row cell: a window in one state at one size.
struct Case {
    target: Target,
    /// Index into `shots()`; unused for the minimal window.
    shot: usize,
    portrait: bool,
    large: bool,
    times: Vec<Duration>,
}

/// Times `count` full repaints of `window` at `size` (after `WARM_UP` untimed ones).
fn time_frames(window: &MinimalSoftwareWindow, size: PhysicalSize, count: usize, times: &mut Vec<Duration>) {
    window.set_size(size);
    slint::platform::update_timers_and_animations();
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(size.width, size.height);
    let stride = size.width as usize;
    for i in 0..WARM_UP + count {
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
}

/// (median, minimum)
fn stats(times: &[Duration]) -> (Duration, Duration) {
    let mut sorted = times.to_vec();
    sorted.sort();
    (sorted[sorted.len() / 2], sorted[0])
}

fn cell(case: &Case) -> String {
    let (median, min) = stats(&case.times);
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

    let all = shots();
    let index = |name: &str| all.iter().position(|s| s.name == name).expect("a gallery screen");
    let case = |target, shot, portrait, large| Case { target, shot, portrait, large, times: Vec::new() };
    let mut cases = Vec::new();
    for name in SCREENS {
        for portrait in [true, false] {
            for large in [false, true] {
                cases.push(case(Target::Kiosk, index(name), portrait, large));
            }
        }
    }
    for name in ["06-confirm", "11-result-paid"] {
        for large in [false, true] {
            cases.push(case(Target::Mirror, index(name), true, large));
        }
    }
    for portrait in [true, false] {
        cases.push(case(Target::Minimal, 0, portrait, false));
    }

    for _ in 0..ROUNDS {
        for case in &mut cases {
            let size = if case.portrait { PORTRAIT } else { LANDSCAPE };
            let shot = &all[case.shot];
            let mut session = shot.session.clone();
            session.large = case.large;
            let window = match case.target {
                Target::Kiosk => {
                    view::apply(&kiosk, &session, &demo_facts(case.portrait), shot.now);
                    kiosk.global::<Theme<'_>>().set_large(case.large);
                    kiosk.global::<Theme<'_>>().set_mirror(false);
                    &kiosk_window
                }
                Target::Mirror => {
                    view::apply(&mirror, &session, &demo_facts(true), shot.now);
                    mirror.global::<Theme<'_>>().set_large(case.large);
                    mirror.global::<Theme<'_>>().set_mirror(true);
                    &mirror_window
                }
                Target::Minimal => &minimal_window,
            };
            time_frames(window, size, FRAMES_PER_ROUND, &mut case.times);
        }
    }

    println!("Full frames, software renderer: {FRAMES} per case ({ROUNDS} round-robin passes over all");
    println!("cases, {FRAMES_PER_ROUND} frames each after {WARM_UP} warm-up). Median (min) in ms.\n");
    println!("| screen | 1080x1920 normal | 1080x1920 large | 1920x1080 normal | 1920x1080 large |");
    println!("|---|---|---|---|---|");
    let find = |target: Target, shot: usize, portrait: bool, large: bool| {
        cases
            .iter()
            .find(|c| c.target == target && c.shot == shot && c.portrait == portrait && c.large == large)
    };
    let row = |target: Target, shot: usize| -> String {
        let mut cells = Vec::new();
        for portrait in [true, false] {
            for large in [false, true] {
                cells.push(find(target, shot, portrait, large).map_or("—".to_string(), cell));
            }
        }
        cells.join(" | ")
    };
    for name in SCREENS {
        println!("| kiosk {name} | {} |", row(Target::Kiosk, index(name)));
    }
    for name in ["06-confirm", "11-result-paid"] {
        println!("| mirror {name} | {} |", row(Target::Mirror, index(name)));
    }
    println!("| **MinimalWindow** | {} |", row(Target::Minimal, 0));
    println!();
    let worst = |pick: &dyn Fn(&Case) -> bool| {
        cases.iter().filter(|c| pick(c)).map(|c| stats(&c.times).0).max().unwrap_or_default()
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let minimal_portrait = ms(worst(&|c| c.target == Target::Minimal && c.portrait));
    let kiosk_portrait = ms(worst(&|c| c.target == Target::Kiosk && c.portrait));
    println!(
        "Slowest kiosk median at 1080x1920: {kiosk_portrait:.2} ms (aim: under 4 ms), {:.1}x the minimal \
         window's {minimal_portrait:.2} ms; at either size {:.2} ms; slowest mirror median {:.2} ms.",
        kiosk_portrait / minimal_portrait,
        ms(worst(&|c| c.target == Target::Kiosk)),
        ms(worst(&|c| c.target == Target::Mirror)),
    );
}
