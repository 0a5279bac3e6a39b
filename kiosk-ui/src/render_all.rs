//! Renders every gallery screen in every theme and layout, plus the mirror, in Chinese and in
//! English, into PNG files — what `yizhan screenshot --out DIR` does, what docs/screens/ holds,
//! and what the golden-image test (tests/screenshots.rs) compares against it.

use crate::gallery::{demo_facts, shots};
use crate::headless::{render, write_png, write_png_indexed, Headless};
use crate::{select_language, view, KioskWindow, MirrorWindow, Theme, LANDSCAPE, PORTRAIT};
use kiosk_core::session::Lang;
use slint::ComponentHandle;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ScreenshotError {
    #[error("the headless renderer could not start: {0}")]
    Platform(String),
    #[error("{path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// How the PNG files are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PngKind {
    /// Exact RGB (for tests that read pixels back).
    Rgb,
    /// 256-colour palette, five times smaller (for docs/screens in git).
    Indexed,
}

/// Writes `<screen>-<layout>-<theme>.png` for every screen and `<screen>-mirror[-large].png`, in Chinese
/// into `out` and in English into `out/en`; returns the files written. Must be the first thing
/// to use Slint in the process. Time stands still, so every animation is caught at one moment.
pub fn render_all(out: &Path, kind: PngKind) -> Result<Vec<PathBuf>, ScreenshotError> {
    let write = |path: &Path, buffer: &slint::SharedPixelBuffer<slint::Rgb8Pixel>| {
        match kind {
            PngKind::Rgb => write_png(path, buffer),
            PngKind::Indexed => write_png_indexed(path, buffer),
        }
        .map_err(|source| ScreenshotError::Write { path: path.into(), source })
    };
    let platform = |e: &dyn std::fmt::Display| ScreenshotError::Platform(e.to_string());
    let windows = Headless::install_still().map_err(|e| platform(&e))?;
    let main = KioskWindow::new().map_err(|e| platform(&e))?;
    let mirror = MirrorWindow::new().map_err(|e| platform(&e))?;
    let (main_window, mirror_window) = match (windows.get(0), windows.get(1)) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(platform(&"the windows were not created")),
    };
    main.show().map_err(|e| platform(&e))?;
    mirror.show().map_err(|e| platform(&e))?;
    let mut written = Vec::new();
    for (lang, dir) in [(Lang::Zh, out.to_path_buf()), (Lang::En, out.join("en"))] {
        std::fs::create_dir_all(&dir)
            .map_err(|source| ScreenshotError::Write { path: dir.clone(), source })?;
        select_language(lang);
        for shot in shots() {
            let mut session = shot.session.clone();
            session.lang = lang;
            for (layout, portrait, size) in [("landscape", false, LANDSCAPE), ("portrait", true, PORTRAIT)] {
                for (theme, large) in [("normal", false), ("large", true)] {
                    session.large = large;
                    view::apply(&main, &session, &demo_facts(portrait), shot.now);
                    main.global::<Theme<'_>>().set_large(large);
                    main.global::<Theme<'_>>().set_mirror(false);
                    let path = dir.join(format!("{}-{layout}-{theme}.png", shot.name));
                    write(&path, &render(&main_window, size))?;
                    written.push(path);
                }
            }
            // The mirror follows the session's 长辈模式 (larger still: it is read from 700 mm).
            for (suffix, large) in [("", false), ("-large", true)] {
                session.large = large;
                view::apply(&mirror, &session, &demo_facts(true), shot.now);
                mirror.global::<Theme<'_>>().set_mirror(true);
                mirror.global::<Theme<'_>>().set_large(large);
                let path = dir.join(format!("{}-mirror{suffix}.png", shot.name));
                write(&path, &render(&mirror_window, PORTRAIT))?;
                written.push(path);
            }
        }
    }
    Ok(written)
}
