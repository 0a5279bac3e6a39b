//! Golden images: every screen renders headlessly with the software renderer, in every theme and
//! layout and on the mirror, in Chinese and English (the CJK font is embedded, so no text is
//! tofu), and each image is compared with the one committed in docs/screens. A layout that moves
//! fails here. After a change meant to be seen, rewrite them with
//! `UPDATE_GOLDEN=1 cargo test --workspace --locked --test screenshots` and look at the diff.

use kiosk_ui::render_all::{render_all, PngKind};
use std::path::{Path, PathBuf};

/// A pixel counts as changed when a channel moves by more than this (rounding in the renderer's
/// blending, not a layout change)…
const CHANNEL_TOLERANCE: u8 = 16;
/// …and an image fails when more than 1 pixel in 5,000 changed (0.02%: ~400 px of a screen,
/// less than one moved word).
const CHANGED_PIXELS_PER: usize = 5_000;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screens")
}

/// An image as (width, height, RGB bytes), palettes expanded.
fn decode(path: &Path) -> Result<(u32, u32, Vec<u8>), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or("no size")?];
    let info = reader.next_frame(&mut buf).map_err(|e| format!("{}: {e}", path.display()))?;
    if info.color_type != png::ColorType::Rgb {
        return Err(format!("{}: {:?}, not RGB", path.display(), info.color_type));
    }
    buf.truncate(info.buffer_size());
    Ok((info.width, info.height, buf))
}

/// The pixels that differ by more than the tolerance.
fn changed_pixels(a: &[u8], b: &[u8]) -> usize {
    if a == b {
        return 0;
    }
    a.chunks(3)
        .zip(b.chunks(3))
        .filter(|(p, q)| p.iter().zip(*q).any(|(x, y)| x.abs_diff(*y) > CHANNEL_TOLERANCE))
        .count()
}

#[test]
fn every_screen_matches_its_golden_image_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let files = render_all(dir.path(), PngKind::Indexed).unwrap();
    let screens = kiosk_ui::gallery::shots().len();
    assert_eq!(
        files.len(),
        screens * 6 * 2,
        "4 main variants + the mirror in both themes per screen, zh and en"
    );
    let blanked: Vec<&str> =
        kiosk_ui::gallery::shots().into_iter().filter(|s| s.session.mirror_blanked).map(|s| s.name).collect();
    let golden = golden_dir();
    let update = std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1");
    let mut problems = Vec::new();
    for file in &files {
        let name = file.strip_prefix(dir.path()).unwrap().to_path_buf();
        let shown = name.display().to_string();
        let (width, height, pixels) = decode(file).unwrap();
        let landscape = shown.contains("landscape");
        assert_eq!((width, height), if landscape { (1920, 1080) } else { (1080, 1920) }, "{shown}");
        // The header band is the theme's header colour (a blanked mirror has none), and there is
        // text (dark pixels).
        let blanked_mirror = shown.contains("mirror") && blanked.iter().any(|b| shown.contains(b));
        if !blanked_mirror {
            assert_eq!(&pixels[..3], &[0x0b, 0x3d, 0x91], "{shown}: header colour");
        }
        let dark = pixels.chunks(3).filter(|p| p.iter().all(|c| *c < 0x40)).count();
        assert!(dark > 2_000, "{shown}: some dark text is drawn ({dark} px)");
        let committed = golden.join(&name);
        if update {
            std::fs::create_dir_all(committed.parent().unwrap()).unwrap();
            std::fs::copy(file, &committed).unwrap();
            continue;
        }
        match decode(&committed) {
            Err(e) => problems.push(format!("{shown}: no golden image ({e})")),
            Ok((w, h, _)) if (w, h) != (width, height) => {
                problems.push(format!("{shown}: {width}x{height}, the golden image is {w}x{h}"))
            }
            Ok((_, _, expected)) => {
                let changed = changed_pixels(&pixels, &expected);
                let allowed = pixels.len() / 3 / CHANGED_PIXELS_PER;
                if changed > allowed {
                    problems.push(format!(
                        "{shown}: {changed} pixels differ from the golden image (at most {allowed})"
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} screens differ from docs/screens (UPDATE_GOLDEN=1 rewrites them):\n{}",
        problems.len(),
        files.len(),
        problems.join("\n")
    );
}

/// The comparison itself: the same image passes, a moved button fails.
#[test]
fn the_comparison_tolerates_rounding_but_not_a_moved_box() {
    let (w, h) = (200usize, 100usize);
    let mut a = vec![255u8; w * h * 3];
    let paint = |img: &mut Vec<u8>, x0: usize, value: u8| {
        for y in 10..50 {
            for x in x0..x0 + 40 {
                img[(y * w + x) * 3..(y * w + x) * 3 + 3].fill(value);
            }
        }
    };
    paint(&mut a, 10, 0);
    let mut rounded = a.clone();
    rounded.iter_mut().step_by(7).for_each(|c| *c = c.saturating_sub(CHANNEL_TOLERANCE));
    assert_eq!(changed_pixels(&a, &rounded), 0);
    let mut moved = vec![255u8; w * h * 3];
    paint(&mut moved, 20, 0);
    assert!(changed_pixels(&a, &moved) > w * h / CHANGED_PIXELS_PER, "a box moved by 10 px");
}
