//! Camera path on generated images: payment codes rendered with `qrcode`, then rotated, skewed,
//! blurred, noised, scaled and unevenly lit (tests/common/synth.rs, shared with the benchmark).

mod common;

use common::synth::{self, Params, Rng};
use scanner::camera::{decode_plain, CameraError, GrayFrame, QrDecoder, Strategy};
use scanner::{Classifier, Scanned};

fn gray(f: &synth::Frame) -> GrayFrame {
    GrayFrame::from_luma(f.width, f.height, f.luma.clone()).unwrap()
}

#[test]
fn easy_frames_decode_exactly_at_both_sizes() {
    let decoder = QrDecoder::default();
    for (w, h) in [(640, 480), (1280, 720)] {
        for f in synth::easy_set(7, w, h, 6) {
            let got = decoder.decode(&gray(&f)).unwrap_or_else(|| panic!("easy {w}x{h} frame not read"));
            assert_eq!(got.data.expose(), f.payload.as_bytes());
            // Clean frames never need the expensive last rungs (the fast, video ladder reads them).
            assert!(!matches!(got.strategy, Strategy::Upscaled | Strategy::Inverted), "{:?}", got.strategy);
            assert!(QrDecoder::fast().decode(&gray(&f)).is_some());
        }
    }
}

#[test]
fn a_decoded_wechat_code_classifies_as_a_payment_code() {
    let mut rng = Rng::new(42);
    let code = synth::wechat_code(&mut rng);
    let f = synth::render(&mut rng, &code, &Params::easy(640, 480));
    let got = QrDecoder::default().decode(&gray(&f)).unwrap();
    match Classifier::default().classify_bytes(got.data.expose()) {
        Scanned::PaymentCode(pc) => assert_eq!(pc.expose(), code),
        other => panic!("{other:?}"),
    }
}

#[test]
fn png_and_jpeg_files_decode() {
    let dir = std::env::temp_dir().join(format!("scanner-camera-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(9);
    let code = synth::payment_code(&mut rng);
    let mut p = Params::easy(640, 480);
    p.rotation_deg = 17.0;
    let f = synth::render(&mut rng, &code, &p);
    let img = image::GrayImage::from_raw(640, 480, f.luma.clone()).unwrap();
    for name in ["code.png", "code.jpg"] {
        let path = dir.join(name);
        img.save(&path).unwrap();
        let frame = GrayFrame::open(&path).unwrap();
        assert_eq!((frame.width(), frame.height()), (640, 480));
        let got = QrDecoder::default().decode(&frame).unwrap_or_else(|| panic!("{name} not read"));
        assert_eq!(got.data.expose(), code.as_bytes(), "{name}");
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(matches!(GrayFrame::open(dir.join("missing.png")), Err(CameraError::Image { .. })));
}

#[test]
fn hard_frames_beat_plain_rqrr_clearly() {
    // 640x480 only here (debug builds are slow); the benchmark runs both sizes in release.
    let set = synth::hard_set(0x5943_414E, 640, 480, 30);
    let decoder = QrDecoder::default();
    let (mut plain, mut ours) = (0, 0);
    for f in &set {
        let frame = gray(f);
        if decode_plain(&frame).is_some_and(|d| d.expose() == f.payload.as_bytes()) {
            plain += 1;
        }
        if let Some(d) = decoder.decode(&frame) {
            assert_eq!(d.data.expose(), f.payload.as_bytes(), "a decode is exact or absent");
            ours += 1;
        }
    }
    eprintln!("hard set 640x480: plain rqrr {plain}/30, ladder {ours}/30");
    assert!(ours >= 18, "ladder read {ours}/30 hard frames (want ≥ 60 %)");
    assert!(ours >= plain + 6, "ladder {ours} vs plain {plain}: want ≥ 20 points better");
}

#[test]
fn junk_frames_read_nothing_and_never_panic() {
    let decoder = QrDecoder::default();
    let mut rng = Rng::new(1);
    let noise: Vec<u8> = (0..320 * 240).map(|_| rng.next_u64() as u8).collect();
    assert!(decoder.decode(&GrayFrame::from_luma(320, 240, noise).unwrap()).is_none());
    assert!(decoder.decode(&GrayFrame::from_luma(64, 64, vec![0; 64 * 64]).unwrap()).is_none());
    assert!(decoder.decode(&GrayFrame::from_luma(5, 5, vec![255; 25]).unwrap()).is_none());
    assert!(decoder.decode(&GrayFrame::from_luma(0, 0, vec![]).unwrap()).is_none());
    let stripes: Vec<u8> = (0..200 * 200).map(|i| if (i / 3) % 2 == 0 { 0 } else { 255 }).collect();
    assert!(decoder.decode(&GrayFrame::from_luma(200, 200, stripes).unwrap()).is_none());
}

#[test]
fn frame_constructors_check_sizes() {
    assert!(matches!(GrayFrame::from_luma(10, 10, vec![0; 99]), Err(CameraError::BadSize { .. })));
    assert!(matches!(GrayFrame::from_luma(usize::MAX, 2, vec![]), Err(CameraError::TooLarge { .. })));
    let yuyv: Vec<u8> = (0..4 * 2 * 2).map(|i| i as u8).collect();
    let f = GrayFrame::from_yuyv(4, 2, &yuyv).unwrap();
    assert_eq!(f.luma(), &[0, 2, 4, 6, 8, 10, 12, 14]);
    assert!(GrayFrame::from_yuyv(4, 2, &yuyv[1..]).is_err());
    assert!(GrayFrame::decode_image(b"not an image").is_err());
}
