//! The Yizhan kiosk's screens (Slint): two themes (normal / 长辈模式) and two layouts
//! (landscape / portrait) from one theme file, the portrait mirror window, the view model that
//! renders a [`kiosk_core::session::Session`], speech, and headless rendering.
//!
//! The runtime side — turning taps into session inputs and session commands into device and
//! payment calls — lives in `crates/yizhan/src/ui`.

/// The code Slint generates from ui/*.slint (its own style: it may hold todo!() and elided
/// lifetimes, which the workspace lints refuse in our code).
#[allow(clippy::todo, elided_lifetimes_in_paths, clippy::undocumented_unsafe_blocks)]
mod generated {
    slint::include_modules!();
}
pub use generated::*;

pub mod gallery;
pub mod headless;
pub mod render_all;
pub mod speech;
pub mod taps;
pub mod view;

use kiosk_core::session::Lang;

/// Switches every @tr text of every window to `lang` (zh-CN is the bundled catalogue; English
/// is the source text).
pub fn select_language(lang: Lang) {
    let name = match lang {
        Lang::Zh => "zh_CN",
        Lang::En => "",
    };
    if let Err(error) = slint::select_bundled_translation(name) {
        tracing::warn!(%error, "could not switch the screen language");
    }
}

/// Panels the kiosk is drawn for (logical px = physical px on the kiosk's panels).
pub const LANDSCAPE: slint::PhysicalSize = slint::PhysicalSize { width: 1920, height: 1080 };
pub const PORTRAIT: slint::PhysicalSize = slint::PhysicalSize { width: 1080, height: 1920 };
