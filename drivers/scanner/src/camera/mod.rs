//! The camera path: frames (image files, raw luma, YUYV from a V4L2 camera) decoded with **rqrr**
//! behind a preprocessing ladder that keeps the common frame fast and the hard frame readable.
//!
//! [`QrDecoder::decode`] tries cheap strategies first and stops at the first QR code that decodes
//! (rqrr checks Reed–Solomon, so a decode is a real read, not a guess). The ladder, in order:
//!
//! 1. `Adaptive`: working resolution (longer side ≤ 800 px, box-downscaled), 3×3 blur, local-mean
//!    threshold — handles uneven light, noise, rotation and skew in one pass.
//! 2. `Plain`: rqrr's own row-average threshold at working resolution (differs enough from 1 to
//!    rescue some blurred codes).
//! 3. `Otsu`: a global threshold on the blurred frame, for blur where local windows split modules.
//! 4. `AdaptiveTight`: a smaller window and a lower offset, for small, low-contrast codes.
//! 5. `FullResolution`: if step 1 downscaled, adaptive threshold at the camera's own resolution
//!    (small modules that downscaling merged).
//!
//! [`QrDecoder::fast`] (live video) stops here; the default (a still, or the last frame of a window)
//! goes on:
//!
//! 6. `Upscaled`: 2× bilinear upscale of the working frame then adaptive threshold — modules below
//!    ~2.5 px, where rqrr cannot find finder patterns.
//! 7. `Inverted`: light-on-dark codes (a phone in dark mode).
//!
//! On every rung, a grid that rqrr locates but cannot decode from its own bitmap is re-read from the
//! grey frame with nine samples per module and a local cut (`resample.rs`): most of the gain over
//! plain rqrr on noisy and blurred frames comes from there.
//!
//! Every rqrr call runs under `catch_unwind`: a decoder bug on a strange frame must cost one frame,
//! never the kiosk process.

pub mod preprocess;
mod resample;
#[cfg(feature = "v4l2")]
pub mod v4l2;

use crate::frame::ScanData;
use rqrr::BitGrid;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// One 8-bit luma frame, row-major, `data.len() == width * height`.
#[derive(Clone, PartialEq, Eq)]
pub struct GrayFrame {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) data: Vec<u8>,
}

impl fmt::Debug for GrayFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GrayFrame({}x{})", self.width, self.height)
    }
}

/// The largest frame accepted (a 16-megapixel still); bigger input is refused, not decoded slowly.
pub const MAX_PIXELS: usize = 16 * 1024 * 1024;

/// Why a frame could not be made or captured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CameraError {
    #[error("frame size {width}x{height} does not match {len} bytes")]
    BadSize { width: usize, height: usize, len: usize },
    #[error("frame {width}x{height} is larger than the {MAX_PIXELS}-pixel limit")]
    TooLarge { width: usize, height: usize },
    #[error("could not read image file {path}: {source}")]
    Image { path: String, source: image::ImageError },
    #[error("camera: {0}")]
    Capture(String),
}

impl GrayFrame {
    /// Wraps raw luma bytes.
    pub fn from_luma(width: usize, height: usize, data: Vec<u8>) -> Result<GrayFrame, CameraError> {
        check_size(width, height)?;
        if width.checked_mul(height) != Some(data.len()) {
            return Err(CameraError::BadSize { width, height, len: data.len() });
        }
        Ok(GrayFrame { width, height, data })
    }

    /// Takes the Y (luma) bytes of a packed YUYV 4:2:2 frame, the format most UVC cameras send.
    pub fn from_yuyv(width: usize, height: usize, yuyv: &[u8]) -> Result<GrayFrame, CameraError> {
        check_size(width, height)?;
        if width.checked_mul(height).and_then(|n| n.checked_mul(2)) != Some(yuyv.len()) {
            return Err(CameraError::BadSize { width, height, len: yuyv.len() });
        }
        Ok(GrayFrame { width, height, data: yuyv.iter().step_by(2).copied().collect() })
    }

    /// Converts a decoded image (any colour type) to luma.
    pub fn from_image(img: &image::DynamicImage) -> Result<GrayFrame, CameraError> {
        let (w, h) = (img.width() as usize, img.height() as usize);
        check_size(w, h)?;
        Ok(GrayFrame { width: w, height: h, data: img.to_luma8().into_raw() })
    }

    /// Loads a PNG or JPEG file.
    pub fn open(path: impl AsRef<Path>) -> Result<GrayFrame, CameraError> {
        let path = path.as_ref();
        let img = image::open(path)
            .map_err(|source| CameraError::Image { path: path.display().to_string(), source })?;
        GrayFrame::from_image(&img)
    }

    /// Decodes PNG or JPEG bytes already in memory.
    pub fn decode_image(bytes: &[u8]) -> Result<GrayFrame, CameraError> {
        let img = image::load_from_memory(bytes)
            .map_err(|source| CameraError::Image { path: "<memory>".into(), source })?;
        GrayFrame::from_image(&img)
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn luma(&self) -> &[u8] {
        &self.data
    }
}

fn check_size(width: usize, height: usize) -> Result<(), CameraError> {
    match width.checked_mul(height) {
        Some(n) if n <= MAX_PIXELS => Ok(()),
        _ => Err(CameraError::TooLarge { width, height }),
    }
}

/// Which rung of the ladder read the code (for the benchmark and for tuning on site).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    Adaptive,
    Plain,
    Otsu,
    AdaptiveTight,
    FullResolution,
    Upscaled,
    Inverted,
}

/// A QR code read from a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The code's bytes: hand them to [`crate::classify::Classifier::classify_bytes`].
    pub data: ScanData,
    pub strategy: Strategy,
}

/// Tuning knobs of the ladder. The defaults are what the benchmark measured.
#[derive(Clone, Debug, PartialEq)]
pub struct DecoderOptions {
    /// Frames whose longer side exceeds this are box-downscaled first (integer factor).
    pub working_side: usize,
    /// Local threshold window as a fraction of the working frame's longer side.
    pub window_fraction: f32,
    /// Local threshold offset in percent below the local mean.
    pub offset_percent: u32,
    /// Try the last, most expensive rungs (2× upscale, inverted).
    pub exhaustive: bool,
}

impl Default for DecoderOptions {
    fn default() -> Self {
        DecoderOptions {
            working_side: 800,
            window_fraction: 1.0 / 10.0,
            offset_percent: 12,
            exhaustive: true,
        }
    }
}

/// The preprocessing ladder around rqrr.
#[derive(Clone, Debug, Default)]
pub struct QrDecoder {
    options: DecoderOptions,
}

impl QrDecoder {
    pub fn new(options: DecoderOptions) -> QrDecoder {
        QrDecoder { options }
    }

    /// Without the 2× upscale and inverted rungs: for live video, where the next frame comes in
    /// 30–70 ms and is a better bet than the most expensive rungs on this one.
    pub fn fast() -> QrDecoder {
        QrDecoder { options: DecoderOptions { exhaustive: false, ..DecoderOptions::default() } }
    }

    /// Reads the first QR code in `frame`, trying the ladder's rungs in order.
    pub fn decode(&self, frame: &GrayFrame) -> Option<Decoded> {
        if frame.width < 21 || frame.height < 21 {
            return None;
        }
        let o = &self.options;
        let longer = frame.width.max(frame.height);
        let factor = longer.div_ceil(o.working_side.max(64)).max(1);
        let work = preprocess::downscale(frame, factor);
        let smooth = preprocess::blur3(&work);
        let window = window_for(&work, o.window_fraction);
        let hit = |data: Option<ScanData>, strategy| data.map(|data| Decoded { data, strategy });

        let bits = preprocess::adaptive_threshold(&smooth, window, o.offset_percent);
        if let Some(d) = hit(read(Some(&bits), &smooth), Strategy::Adaptive) {
            return Some(d);
        }
        if let Some(d) = hit(read(None, &work), Strategy::Plain) {
            return Some(d);
        }
        let t = preprocess::otsu(&smooth);
        if let Some(d) = hit(read(Some(&preprocess::threshold(&smooth, t)), &smooth), Strategy::Otsu) {
            return Some(d);
        }
        let tight = preprocess::adaptive_threshold(&smooth, (window / 2).max(9), o.offset_percent / 2);
        if let Some(d) = hit(read(Some(&tight), &smooth), Strategy::AdaptiveTight) {
            return Some(d);
        }
        if factor > 1 {
            // Unblurred bits: at full resolution the 3×3 blur costs sharp, small modules more than
            // it saves on noise; the resampling step still reads modules from the blurred frame.
            let bits = preprocess::adaptive_threshold(frame, window * factor, o.offset_percent);
            let full = preprocess::blur3(frame);
            if let Some(d) = hit(read(Some(&bits), &full), Strategy::FullResolution) {
                return Some(d);
            }
        }
        if !o.exhaustive {
            return None;
        }
        let up = preprocess::resize(&smooth, work.width * 2, work.height * 2);
        let bits = preprocess::adaptive_threshold(&up, window * 2, o.offset_percent);
        if let Some(d) = hit(read(Some(&bits), &up), Strategy::Upscaled) {
            return Some(d);
        }
        let inverted = invert(&smooth);
        let bits = preprocess::adaptive_threshold(&inverted, window, o.offset_percent);
        hit(read(Some(&bits), &inverted), Strategy::Inverted)
    }
}

fn window_for(frame: &GrayFrame, fraction: f32) -> usize {
    let w = (frame.width.max(frame.height) as f32 * fraction) as usize;
    (w | 1).max(15)
}

fn invert(frame: &GrayFrame) -> GrayFrame {
    GrayFrame { width: frame.width, height: frame.height, data: frame.data.iter().map(|v| 255 - v).collect() }
}

/// Plain rqrr, nothing else: grayscale in, rqrr's own threshold, first decodable grid out. The
/// benchmark's baseline.
pub fn decode_plain(frame: &GrayFrame) -> Option<ScanData> {
    let (w, h, data) = (frame.width, frame.height, &frame.data);
    guarded(|| {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| data[y * w + x]);
        img.detect_grids().into_iter().find_map(|grid| {
            let mut out = Vec::new();
            (grid.decode_to(&mut out).is_ok() && !out.is_empty()).then_some(out)
        })
    })
    .map(ScanData::new)
}

/// One rung: locate grids in `bits` (or with rqrr's own threshold on `grey` when `None`), decode
/// them as rqrr reads them, then re-read each from `grey` ([`resample`]).
fn read(bits: Option<&[bool]>, grey: &GrayFrame) -> Option<ScanData> {
    let (w, h) = (grey.width, grey.height);
    if bits.is_some_and(|b| b.len() != w * h) {
        return None;
    }
    guarded(|| {
        let mut img = match bits {
            Some(bits) => rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bits[y * w + x]),
            None => rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey.data[y * w + x]),
        };
        let grids = img.detect_grids();
        for grid in &grids {
            let mut out = Vec::new();
            if grid.decode_to(&mut out).is_ok() && !out.is_empty() {
                return Some(out);
            }
        }
        grids.iter().find_map(|grid| {
            let b = grid.bounds.map(|p| (f64::from(p.x), f64::from(p.y)));
            resample::decode_grid(grey, b, grid.grid.size())
        })
    })
    .map(ScanData::new)
}

/// Runs a decoder call, turning a panic inside rqrr into "nothing read".
fn guarded(f: impl FnOnce() -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        tracing::warn!("rqrr panicked on a frame; frame skipped");
        None
    })
}
