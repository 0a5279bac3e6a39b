//! V4L2 capture (feature `v4l2`, Linux), through the pure-Rust `linuxvideo` crate: no bindgen,
//! no libclang, no libv4l. Negotiates 8-bit greyscale if the camera offers it, else packed YUYV
//! (what nearly every UVC camera sends), and hands out [`GrayFrame`]s. Blocking: run it on a
//! blocking thread (`tokio::task::spawn_blocking`) and feed frames to [`super::QrDecoder`].

use super::{CameraError, GrayFrame};
use linuxvideo::format::{PixFormat, PixelFormat};
use linuxvideo::stream::ReadStream;
use linuxvideo::{BufType, Device};
use std::path::Path;

/// V4L2 `GREY`: 8-bit luma, one byte per pixel (not named by linuxvideo).
const GREY: PixelFormat = PixelFormat::from_fourcc(*b"GREY");

/// An open capture stream.
pub struct Camera {
    stream: ReadStream,
    width: usize,
    height: usize,
    stride: usize,
    format: PixelFormat,
}

impl std::fmt::Debug for Camera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Camera({}x{} {:?})", self.width, self.height, self.format)
    }
}

fn err(e: impl std::fmt::Display) -> CameraError {
    CameraError::Capture(e.to_string())
}

impl Camera {
    /// Opens `path` (`/dev/video0` or a stable `/dev/v4l/by-id/...` link) asking for
    /// `width`×`height`; the driver may pick the nearest size it supports.
    pub fn open(path: impl AsRef<Path>, width: u32, height: u32) -> Result<Camera, CameraError> {
        let device = Device::open(path.as_ref()).map_err(err)?;
        let formats: Vec<PixelFormat> =
            device.formats(BufType::VIDEO_CAPTURE).filter_map(|f| f.ok().map(|f| f.pixel_format())).collect();
        let format = [GREY, PixelFormat::YUYV]
            .into_iter()
            .find(|f| formats.contains(f))
            .ok_or_else(|| err(format!("camera offers neither GREY nor YUYV ({formats:?})")))?;
        let capture = device.video_capture(PixFormat::new(width, height, format)).map_err(err)?;
        let got = capture.format();
        let (w, h) = (got.width() as usize, got.height() as usize);
        let stride = got.bytes_per_line() as usize;
        let stream = capture.into_stream().map_err(err)?;
        Ok(Camera { stream, width: w, height: h, stride, format })
    }

    /// Waits for the next frame and converts it to luma.
    pub fn capture(&mut self) -> Result<GrayFrame, CameraError> {
        let (w, h, stride, format) = (self.width, self.height, self.stride, self.format);
        let bpp = if format == PixelFormat::YUYV { 2 } else { 1 };
        let data = self
            .stream
            .dequeue(|buf| {
                let mut luma = Vec::with_capacity(w * h);
                for y in 0..h {
                    let Some(row) = buf.get(y * stride..y * stride + w * bpp) else {
                        return Err(std::io::Error::other("short frame"));
                    };
                    luma.extend(row.iter().step_by(bpp));
                }
                Ok(luma)
            })
            .map_err(err)?;
        GrayFrame::from_luma(w, h, data)
    }
}
