//! Every screen renders headlessly with the software renderer, in every theme and layout and on
//! the mirror, with real pixels (the CJK font is embedded, so no text is tofu).

use kiosk_ui::render_all::render_all;

#[test]
fn every_screen_renders_in_every_theme_and_layout() {
    let dir = tempfile::tempdir().unwrap();
    let files = render_all(dir.path(), kiosk_ui::render_all::PngKind::Rgb).unwrap();
    let screens = kiosk_ui::gallery::shots().len();
    assert_eq!(files.len(), screens * 5, "4 main variants + the mirror per screen");
    for file in &files {
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(file).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let landscape = name.contains("landscape");
        assert_eq!((info.width, info.height), if landscape { (1920, 1080) } else { (1080, 1920) }, "{name}");
        // The header band is the theme's header colour, and there is text (dark and light pixels).
        let px = |x: usize, y: usize| {
            let i = (y * info.width as usize + x) * 3;
            (buf[i], buf[i + 1], buf[i + 2])
        };
        assert_eq!(px(4, 4), (0x0b, 0x3d, 0x91), "{name}: header colour");
        let dark = buf.chunks(3).filter(|p| p.iter().all(|c| *c < 0x40)).count();
        assert!(dark > 2_000, "{name}: some dark text is drawn ({dark} px)");
    }
}
