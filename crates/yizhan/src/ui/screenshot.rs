//! `yizhan screenshot --out DIR`: every screen in every theme and layout, and the mirror, drawn
//! headlessly by Slint's software renderer (no display, no GPU).

use std::path::Path;
use std::process::ExitCode;

pub fn run(out: &Path) -> ExitCode {
    match kiosk_ui::render_all::render_all(out, kiosk_ui::render_all::PngKind::Indexed) {
        Ok(files) => {
            println!("{} screenshots in {}", files.len(), out.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("yizhan: {error}");
            ExitCode::from(1)
        }
    }
}
