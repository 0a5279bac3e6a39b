//! The theme tokens against accessibility.md items 1–5, 9–11, 55, computed from the values the
//! running UI reads (the `Theme` global) and the font it embeds; and a lint of the .slint
//! sources: no literal font size or colour outside theme.slint, no elided text, no gestures.

use kiosk_ui::{KioskWindow, Theme};
use slint::{Color, ComponentHandle};
use std::path::Path;

const MM_PER_PX: f64 = 0.248;

fn ui_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/ui"))
}

fn luminance(c: Color) -> f64 {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.red()) + 0.7152 * lin(c.green()) + 0.0722 * lin(c.blue())
}

/// WCAG contrast ratio.
fn contrast(a: Color, b: Color) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn the_contrast_formula_matches_wcag() {
    let black = Color::from_rgb_u8(0, 0, 0);
    let white = Color::from_rgb_u8(255, 255, 255);
    assert!((contrast(black, white) - 21.0).abs() < 1e-9);
    assert!((contrast(Color::from_rgb_u8(0x76, 0x76, 0x76), white) - 4.54).abs() < 0.01);
}

#[test]
fn every_text_colour_is_at_least_7_to_1_and_every_outline_3_to_1() {
    i_slint_backend_testing::init_no_event_loop();
    let ui = KioskWindow::new().unwrap();
    let t = ui.global::<Theme<'_>>();
    let text_pairs = [
        ("text/background", t.get_text(), t.get_background()),
        ("text/surface", t.get_text(), t.get_surface()),
        ("muted/background", t.get_muted_text(), t.get_background()),
        ("muted/surface", t.get_muted_text(), t.get_surface()),
        ("on-primary/primary", t.get_on_primary(), t.get_primary()),
        ("on-secondary/secondary", t.get_on_secondary(), t.get_secondary()),
        ("on-disabled/disabled", t.get_on_disabled(), t.get_disabled()),
        ("on-ok/ok", t.get_on_ok(), t.get_ok()),
        ("on-error/error", t.get_on_error(), t.get_error()),
        ("on-warning/warning", t.get_on_warning(), t.get_warning_bg()),
        ("on-header/header", t.get_on_header(), t.get_header()),
        ("on-staff/staff", t.get_on_staff(), t.get_staff()),
        ("text/warning", t.get_text(), t.get_warning_bg()),
    ];
    let mut report = Vec::new();
    for (name, fg, bg) in text_pairs {
        let ratio = contrast(fg, bg);
        report.push(format!("{name}: {ratio:.2}"));
        assert!(ratio >= 7.0, "{name} is {ratio:.2}:1, under 7:1");
    }
    for (name, fg, bg) in [
        ("outline/background", t.get_outline_color(), t.get_background()),
        ("outline/surface", t.get_outline_color(), t.get_surface()),
        ("disabled outline/disabled", t.get_on_disabled(), t.get_disabled()),
        ("focus/background", t.get_focus(), t.get_background()),
        ("focus/surface (the footer)", t.get_focus(), t.get_surface()),
        ("focus/warning", t.get_focus(), t.get_warning_bg()),
        ("header/background", t.get_header(), t.get_background()),
        ("pointer/background", t.get_pointer(), t.get_background()),
        // The drawn kiosk's panel (assets/pictures/kiosk-face.svg) behind the ring and arrow.
        ("pointer/kiosk face", t.get_pointer(), Color::from_rgb_u8(0xdf, 0xe5, 0xec)),
        // The arrow's outline: against the arrow, and against the drawing's navy screen.
        ("pointer/its outline", t.get_pointer(), t.get_pointer_halo()),
        ("outline/kiosk screen", t.get_pointer_halo(), Color::from_rgb_u8(0x0b, 0x3d, 0x91)),
    ] {
        let ratio = contrast(fg, bg);
        assert!(ratio >= 3.0, "{name} is {ratio:.2}:1, under 3:1");
    }
    println!("{}", report.join("\n"));
}

/// capHeight/unitsPerEm and (ascender − descender + lineGap)/unitsPerEm of the embedded font.
fn font_metrics() -> (f64, f64) {
    let data =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/fonts/wqy-microhei.ttc")).unwrap();
    let face = ttf_parser::Face::parse(&data, 0).unwrap();
    let em = f64::from(face.units_per_em());
    // The Latin digits and capitals are the binding case (accessibility.md §0): measure "H".
    let cap = face
        .capital_height()
        .map(f64::from)
        .or_else(|| {
            face.glyph_index('H').and_then(|g| face.glyph_bounding_box(g)).map(|b| f64::from(b.y_max))
        })
        .unwrap();
    let line = f64::from(face.ascender() - face.descender() + face.line_gap());
    (cap / em, line / em)
}

#[test]
fn text_sizes_meet_the_cap_height_minimums_in_millimetres() {
    i_slint_backend_testing::init_no_event_loop();
    let ui = KioskWindow::new().unwrap();
    let t = ui.global::<Theme<'_>>();
    let (r, line) = font_metrics();
    assert!(r > 0.6 && r < 0.8, "cap height ratio {r}");
    let spaced = line * f64::from(t.get_line_factor());
    assert!(spaced >= 1.3, "wrapped lines are {spaced:.3} em apart, under 1.3 (item 5)");
    let cap_mm = |px: f32| f64::from(px) * MM_PER_PX * r;
    let sizes = |t: &Theme<'_>| (t.get_body(), t.get_key(), t.get_title());
    let every_size = |t: &Theme<'_>| [t.get_body(), t.get_key(), t.get_title(), t.get_keypad_digit()];
    t.set_mirror(false);
    t.set_large(false);
    let (body, key, title) = sizes(&t);
    let default_sizes = every_size(&t);
    assert!(cap_mm(body) >= 4.8, "default body {body}px: cap {:.2} mm < 4.8 mm (item 1)", cap_mm(body));
    assert!(key >= 1.3 * body, "key facts ≥ 1.3x body (item 4)");
    assert!(title >= body);
    t.set_large(true);
    let (large_body, large_key, _) = sizes(&t);
    assert!(
        cap_mm(large_body) >= 7.4,
        "长辈模式 body {large_body}px: cap {:.2} mm < 7.4 mm (item 2)",
        cap_mm(large_body)
    );
    for (default, large) in default_sizes.into_iter().zip(every_size(&t)) {
        assert!(
            large >= 1.5 * default,
            "长辈模式 scales every text ≥ 1.5x (item 3): {default}px → {large}px"
        );
    }
    assert!(f64::from(large_key) * MM_PER_PX >= 9.5, "the largest size reaches 30 dp ≈ 9.5 mm em (item 3)");
    assert!(large_key >= 1.3 * large_body);
    t.set_mirror(true);
    for large in [false, true] {
        t.set_large(large);
        let (mirror_body, mirror_key, _) = sizes(&t);
        assert!(
            cap_mm(mirror_body) >= 8.6,
            "mirror body {mirror_body}px: cap {:.2} mm < 8.6 mm",
            cap_mm(mirror_body)
        );
        assert!(mirror_key >= 1.3 * mirror_body);
        assert!(mirror_body >= 1.5 * body, "the mirror's text is at 1.5x the touch screen's default");
    }
}

#[test]
fn touch_target_tokens_meet_their_millimetres() {
    i_slint_backend_testing::init_no_event_loop();
    let ui = KioskWindow::new().unwrap();
    let t = ui.global::<Theme<'_>>();
    let mm = |px: f32| f64::from(px) * MM_PER_PX;
    for large in [false, true] {
        t.set_large(large);
        let primary_min = if large { 20.0 } else { 16.0 };
        assert!(mm(t.get_primary_height()) >= primary_min, "primary target (item 14)");
        assert!(mm(t.get_key_size()) >= primary_min, "keypad keys are primary targets");
        assert!(mm(t.get_control_height()) >= 10.0, "any target ≥ 10 mm (item 13)");
        assert!(mm(t.get_gap()) >= 4.0, "gaps ≥ 4 mm (item 15)");
    }
}

fn slint_sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![ui_dir().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "slint") {
                let name = path.strip_prefix(ui_dir()).unwrap().to_string_lossy().to_string();
                files.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    assert!(files.len() >= 10, "the .slint sources were found");
    files
}

#[test]
fn the_slint_sources_take_every_size_and_colour_from_the_theme_and_use_no_gestures() {
    let mut problems = Vec::new();
    for (name, text) in slint_sources() {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let at = format!("{name}:{}", n + 1);
            if name != "theme.slint" && name != "minimal.slint" {
                // A button's label size is passed in (label-size), so it is checked where it is set.
                let passed_in = code.contains("font-size: root.label-size");
                let sets_size = code.contains("font-size:") || code.contains("label-size:");
                if sets_size && !passed_in && !code.contains("Theme.") {
                    problems.push(format!("{at}: a literal font size"));
                }
                if code.contains('#') && !code.contains("\"") {
                    problems.push(format!("{at}: a literal colour"));
                }
            }
            if code.contains("wrap: word-wrap") && !code.contains("line-height-factor: Theme.line-factor") {
                problems.push(format!("{at}: wrapped text without the theme's line spacing"));
            }
            for banned in ["overflow: elide", "SwipeGestureHandler", "ScaleRotateGestureHandler", "Flickable"]
            {
                if code.contains(banned) {
                    problems.push(format!("{at}: {banned}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Issue 11 item 6: a character the embedded font lacks is drawn as a blank (three emoji, and ⚠
/// and ℹ, were). Every character of the catalogue (both languages) and of the .slint files must
/// have a glyph in it.
#[test]
fn every_character_of_the_catalogue_and_the_screens_is_in_the_embedded_font() {
    let data =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/fonts/wqy-microhei.ttc")).unwrap();
    let face = ttf_parser::Face::parse(&data, 0).unwrap();
    // Why the signs are icons: ✔ is in the font, ⚠ is not.
    assert!(face.glyph_index('✔').is_some() && face.glyph_index('⚠').is_none());
    let mut texts: Vec<String> =
        catalogue::entries().unwrap().into_iter().flat_map(|(msgid, zh)| [msgid, zh]).collect();
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/ui"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "slint") {
                // The quoted parts of each line: the literals, and little else.
                let source = std::fs::read_to_string(&path).unwrap();
                let code = source.lines().filter(|l| !l.trim_start().starts_with("//"));
                texts.extend(code.flat_map(|l| l.split('"').skip(1).step_by(2).map(String::from)));
            }
        }
    }
    let mut missing: Vec<char> = texts
        .iter()
        .flat_map(|t| t.chars())
        .filter(|c| !c.is_control() && face.glyph_index(*c).is_none())
        .collect();
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "no glyph in the embedded font for {missing:?}");
}
