//! Rendering without a display: Slint's software renderer into a pixel buffer, for
//! `yizhan screenshot`, the screenshot tests and the frame-time benchmark (specs/slint.md §4).

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{PhysicalSize, Rgb8Pixel, SharedPixelBuffer};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A platform whose windows are software-rendered buffers, one per component created.
pub struct Headless {
    windows: Windows,
    clock: Clock,
}

/// What `animation-tick()` reads: real time (benchmarks), or one instant for every frame, so a
/// still shows each animation at the same moment and golden images stay comparable.
enum Clock {
    Running(Instant),
    Stopped(Duration),
}

/// The moment stills are taken at: the "where" picture's ring at its widest (its pulse is a sine
/// of 0.225° a millisecond, ui/widgets/where_picture.slint: 400 ms is 90°, the peak).
const STILL_AT: Duration = Duration::from_millis(400);

/// The platform's windows, in the order their components were created.
#[derive(Clone, Default)]
pub struct Windows(Rc<RefCell<Vec<Rc<MinimalSoftwareWindow>>>>);

impl Windows {
    /// The window of the `index`th component created (0: the first).
    pub fn get(&self, index: usize) -> Option<Rc<MinimalSoftwareWindow>> {
        self.0.borrow().get(index).cloned()
    }
}

impl Headless {
    /// Installs the headless platform for this process; returns its window list. Fails if
    /// another platform was installed first.
    pub fn install() -> Result<Windows, slint::platform::SetPlatformError> {
        Headless::install_with(Clock::Running(Instant::now()))
    }

    /// As [`Headless::install`], with time stopped: every frame is the same still.
    pub fn install_still() -> Result<Windows, slint::platform::SetPlatformError> {
        Headless::install_with(Clock::Stopped(STILL_AT))
    }

    fn install_with(clock: Clock) -> Result<Windows, slint::platform::SetPlatformError> {
        let windows = Windows::default();
        slint::platform::set_platform(Box::new(Headless { windows: windows.clone(), clock }))?;
        Ok(windows)
    }
}

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        self.windows.0.borrow_mut().push(window.clone());
        Ok(window)
    }

    fn duration_since_start(&self) -> Duration {
        match &self.clock {
            Clock::Running(start) => start.elapsed(),
            Clock::Stopped(at) => *at,
        }
    }
}

/// Renders the whole window at `size` into a new RGB buffer.
pub fn render(window: &MinimalSoftwareWindow, size: PhysicalSize) -> SharedPixelBuffer<Rgb8Pixel> {
    window.set_size(size);
    slint::platform::update_timers_and_animations();
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(size.width, size.height);
    let stride = size.width as usize;
    window.request_redraw();
    window.draw_if_needed(|renderer| {
        renderer.render(buffer.make_mut_slice(), stride);
    });
    buffer
}

/// Writes an RGB buffer as a PNG file.
pub fn write_png(path: &std::path::Path, buffer: &SharedPixelBuffer<Rgb8Pixel>) -> std::io::Result<()> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, buffer.width(), buffer.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
    writer.write_image_data(buffer.as_bytes()).map_err(std::io::Error::other)?;
    Ok(())
}

/// Writes an RGB buffer as an indexed PNG of at most 256 colours: the screens are flat colours
/// plus anti-aliased edges, so the 256 most frequent colours (others mapped to the nearest)
/// look the same at a fifth of the size — small enough to keep every screenshot in git.
pub fn write_png_indexed(
    path: &std::path::Path,
    buffer: &SharedPixelBuffer<Rgb8Pixel>,
) -> std::io::Result<()> {
    use std::collections::HashMap;
    let key = |p: &Rgb8Pixel| (u32::from(p.r) << 16) | (u32::from(p.g) << 8) | u32::from(p.b);
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for p in buffer.as_slice() {
        *counts.entry(key(p)).or_default() += 1;
    }
    let mut by_count: Vec<(u32, usize)> = counts.iter().map(|(k, n)| (*k, *n)).collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let palette: Vec<u32> = by_count.iter().take(256).map(|(k, _)| *k).collect();
    let channels = |k: u32| [(k >> 16) as i32, ((k >> 8) & 0xff) as i32, (k & 0xff) as i32];
    let nearest = |k: u32| -> u8 {
        let c = channels(k);
        let distance = |p: &u32| channels(*p).iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum::<i32>();
        palette.iter().enumerate().min_by_key(|(_, p)| distance(p)).map_or(0, |(i, _)| i as u8)
    };
    let index: HashMap<u32, u8> = counts.keys().map(|k| (*k, nearest(*k))).collect();
    let pixels: Vec<u8> = buffer.as_slice().iter().map(|p| index[&key(p)]).collect();
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut encoder = png::Encoder::new(file, buffer.width(), buffer.height());
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_palette(palette.iter().flat_map(|k| channels(*k).map(|c| c as u8)).collect::<Vec<u8>>());
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
    writer.write_image_data(&pixels).map_err(std::io::Error::other)?;
    Ok(())
}
