//! The minimal Slint window of the UI benchmarks (docs/performance.md, "Kiosk UI"), on the real
//! winit back end: `MinimalWindow` at the kiosk's landscape size (the same pixel count as
//! `yizhan`'s touch screen), until the window is closed. `scripts/bench-ui.sh` times it under Xvfb.

use slint::ComponentHandle;

fn main() -> Result<(), slint::PlatformError> {
    let window = kiosk_ui::MinimalWindow::new()?;
    window.window().set_size(kiosk_ui::LANDSCAPE);
    window.show()?;
    slint::run_event_loop()
}
