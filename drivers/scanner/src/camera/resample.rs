//! Second reading of a located QR grid from the grey frame, not from rqrr's bitmap.
//!
//! rqrr reads each module from one pixel of its binarised image. On a noisy or blurred frame a
//! located grid often fails Reed–Solomon because a few single-pixel samples fell on noise or on a
//! smeared edge. Here we keep rqrr's geometry (the grid's corner quadrilateral) and re-read every
//! module as the mean of nine bilinear samples inside it, then cut each module against the mean of
//! its neighbourhood (which follows uneven light across the code). If that fails, the grid is
//! nudged by a third of a module in each direction: rqrr's corners are integer pixels, which is a
//! sizeable error when modules are two or three pixels wide.

use super::GrayFrame;

/// Projective map from the unit square to a quadrilateral (Heckbert's closed form).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Homography([f64; 9]);

impl Homography {
    /// Maps (0,0), (1,0), (1,1), (0,1) to `q[0..4]`. `None` for a degenerate quadrilateral.
    pub(crate) fn unit_to_quad(q: [(f64, f64); 4]) -> Option<Homography> {
        let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = q;
        let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
        let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
        let den = dx1 * dy2 - dx2 * dy1;
        if den.abs() < 1e-9 {
            return None;
        }
        let g = (dx3 * dy2 - dx2 * dy3) / den;
        let h = (dx1 * dy3 - dx3 * dy1) / den;
        let m = [x1 - x0 + g * x1, x3 - x0 + h * x3, x0, y1 - y0 + g * y1, y3 - y0 + h * y3, y0, g, h, 1.0];
        m.iter().all(|v| v.is_finite()).then_some(Homography(m))
    }

    pub(crate) fn map(&self, u: f64, v: f64) -> (f64, f64) {
        let m = &self.0;
        let w = m[6] * u + m[7] * v + m[8];
        ((m[0] * u + m[1] * v + m[2]) / w, (m[3] * u + m[4] * v + m[5]) / w)
    }
}

/// Bilinear sample; `None` outside the frame.
fn sample(frame: &GrayFrame, x: f64, y: f64) -> Option<f64> {
    let (w, h) = (frame.width as f64, frame.height as f64);
    if !(x >= 0.0 && y >= 0.0 && x < w - 1.0 && y < h - 1.0) {
        return None;
    }
    let (x0, y0) = (x as usize, y as usize);
    let (tx, ty) = (x - x0 as f64, y - y0 as f64);
    let i = y0 * frame.width + x0;
    let d = &frame.data;
    let p = |k: usize| f64::from(d[k]);
    let top = p(i) * (1.0 - tx) + p(i + 1) * tx;
    let bottom = p(i + frame.width) * (1.0 - tx) + p(i + frame.width + 1) * tx;
    Some(top * (1.0 - ty) + bottom * ty)
}

/// Reads the `size`×`size` grid whose corner quadrilateral is `bounds` as rqrr reports it
/// (`[map(0,0), map(s+1,0), map(s+1,s+1), map(0,s+1)]` in module units), shifted by
/// (`du`, `dv`) modules. Returns dark/light per module, row-major, or `None` if the grid leaves
/// the frame.
fn read_modules(
    frame: &GrayFrame,
    bounds: [(f64, f64); 4],
    size: usize,
    du: f64,
    dv: f64,
) -> Option<Vec<bool>> {
    let hmg = Homography::unit_to_quad(bounds)?;
    let span = size as f64 + 1.0;
    const OFF: [f64; 3] = [0.3, 0.5, 0.7];
    let mut values = vec![0f64; size * size];
    for y in 0..size {
        for x in 0..size {
            let mut acc = 0.0;
            for oy in OFF {
                for ox in OFF {
                    let (px, py) = hmg.map((x as f64 + ox + du) / span, (y as f64 + oy + dv) / span);
                    acc += sample(frame, px, py)?;
                }
            }
            values[y * size + x] = acc / 9.0;
        }
    }
    // Local mean over a (2r+1)² module window, by a summed-area table over modules.
    let r = 4usize;
    let stride = size + 1;
    let mut sat = vec![0f64; stride * stride];
    for y in 0..size {
        let mut row = 0.0;
        for x in 0..size {
            row += values[y * size + x];
            sat[(y + 1) * stride + x + 1] = sat[y * stride + x + 1] + row;
        }
    }
    let mut dark = vec![false; size * size];
    for y in 0..size {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(size));
        for x in 0..size {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(size));
            let sum =
                sat[y1 * stride + x1] + sat[y0 * stride + x0] - sat[y0 * stride + x1] - sat[y1 * stride + x0];
            let mean = sum / ((y1 - y0) * (x1 - x0)) as f64;
            dark[y * size + x] = values[y * size + x] < mean;
        }
    }
    Some(dark)
}

/// Tries to decode a located grid by resampling `frame`; the bytes on success.
pub(crate) fn decode_grid(frame: &GrayFrame, bounds: [(f64, f64); 4], size: usize) -> Option<Vec<u8>> {
    if !(21..=177).contains(&size) {
        return None;
    }
    const NUDGES: [(f64, f64); 5] = [(0.0, 0.0), (0.33, 0.0), (-0.33, 0.0), (0.0, 0.33), (0.0, -0.33)];
    for (du, dv) in NUDGES {
        let Some(dark) = read_modules(frame, bounds, size, du, dv) else { continue };
        let grid = rqrr::Grid::new(rqrr::SimpleGrid::from_func(size, |x, y| dark[y * size + x]));
        let mut out = Vec::new();
        if grid.decode_to(&mut out).is_ok() && !out.is_empty() {
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_maps_the_corners() {
        let q = [(10.0, 20.0), (110.0, 25.0), (100.0, 130.0), (5.0, 120.0)];
        let h = Homography::unit_to_quad(q).unwrap();
        for ((u, v), want) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)].into_iter().zip(q) {
            let (x, y) = h.map(u, v);
            assert!((x - want.0).abs() < 1e-6 && (y - want.1).abs() < 1e-6, "{x},{y} vs {want:?}");
        }
        assert!(Homography::unit_to_quad([(0.0, 0.0); 4]).is_none());
    }

    #[test]
    fn grids_off_the_frame_are_refused() {
        let frame = GrayFrame { width: 10, height: 10, data: vec![255; 100] };
        let bounds = [(-50.0, -50.0), (60.0, -50.0), (60.0, 60.0), (-50.0, 60.0)];
        assert!(decode_grid(&frame, bounds, 21).is_none());
    }
}
