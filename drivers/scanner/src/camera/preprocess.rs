//! Image preprocessing for QR decoding: pure functions over 8-bit luma, no allocation beyond
//! their outputs, no panics on any size (empty frames included).
//!
//! Why each step exists:
//! - **Downscale** (box average): a 1280×720 frame with 6-px modules decodes as well at half size,
//!   in a quarter of the time, and averaging also removes sensor noise.
//! - **Blur** (3×3 box): speckle noise breaks rqrr's flood-filled finder regions into pieces.
//! - **Adaptive (local mean) threshold**, Bradley–Roth on an integral image: uneven light (a shadow
//!   across the phone, a bright lamp) defeats any single global threshold, and rqrr's own one-row
//!   running average smears along rows; a square window follows the light in both directions.
//! - **Otsu** global threshold: the best cut for evenly lit but blurred codes, where a local
//!   window inside a large dark module would otherwise split it.
//! - **Upscale** (bilinear): rqrr needs about 3 px per module to find finder patterns; small codes
//!   (far from the window) get there at 2×.

use super::GrayFrame;

/// Box-average downscale by an integer factor (≥ 1). Edge pixels that do not fill a block are
/// dropped, like a camera's binning.
pub fn downscale(src: &GrayFrame, factor: usize) -> GrayFrame {
    let f = factor.max(1);
    if f == 1 {
        return src.clone();
    }
    let (w, h) = (src.width / f, src.height / f);
    let mut out = vec![0u8; w * h];
    let area = (f * f) as u32;
    let mut row_acc = vec![0u32; w];
    for oy in 0..h {
        row_acc.fill(0);
        for dy in 0..f {
            let row = &src.data[(oy * f + dy) * src.width..][..w * f];
            for (ox, acc) in row_acc.iter_mut().enumerate() {
                *acc += row[ox * f..ox * f + f].iter().map(|&v| u32::from(v)).sum::<u32>();
            }
        }
        for (o, acc) in out[oy * w..(oy + 1) * w].iter_mut().zip(&row_acc) {
            *o = ((acc + area / 2) / area) as u8;
        }
    }
    GrayFrame { width: w, height: h, data: out }
}

/// Bilinear resize to `w`×`h` (either direction). An empty source gives an all-zero frame.
pub fn resize(src: &GrayFrame, w: usize, h: usize) -> GrayFrame {
    let mut out = vec![0u8; w * h];
    if src.width == 0 || src.height == 0 || w == 0 || h == 0 {
        return GrayFrame { width: w, height: h, data: out };
    }
    let sx = src.width as f32 / w as f32;
    let sy = src.height as f32 / h as f32;
    let max_x = (src.width - 1) as f32;
    let max_y = (src.height - 1) as f32;
    for y in 0..h {
        let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, max_y);
        let y0 = fy as usize;
        let y1 = (y0 + 1).min(src.height - 1);
        let ty = fy - y0 as f32;
        for x in 0..w {
            let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, max_x);
            let x0 = fx as usize;
            let x1 = (x0 + 1).min(src.width - 1);
            let tx = fx - x0 as f32;
            let p = |xx: usize, yy: usize| f32::from(src.data[yy * src.width + xx]);
            let top = p(x0, y0) * (1.0 - tx) + p(x1, y0) * tx;
            let bottom = p(x0, y1) * (1.0 - tx) + p(x1, y1) * tx;
            out[y * w + x] = (top * (1.0 - ty) + bottom * ty + 0.5) as u8;
        }
    }
    GrayFrame { width: w, height: h, data: out }
}

/// 3×3 box blur (edges clamp).
pub fn blur3(src: &GrayFrame) -> GrayFrame {
    let (w, h) = (src.width, src.height);
    if w == 0 || h == 0 {
        return src.clone();
    }
    let mut tmp = vec![0u16; w * h];
    for y in 0..h {
        let row = &src.data[y * w..(y + 1) * w];
        for x in 0..w {
            let l = row[x.saturating_sub(1)];
            let r = row[(x + 1).min(w - 1)];
            tmp[y * w + x] = u16::from(l) + u16::from(row[x]) + u16::from(r);
        }
    }
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        let up = y.saturating_sub(1) * w;
        let down = (y + 1).min(h - 1) * w;
        for x in 0..w {
            let s = tmp[up + x] + tmp[y * w + x] + tmp[down + x];
            out[y * w + x] = ((s + 4) / 9) as u8;
        }
    }
    GrayFrame { width: w, height: h, data: out }
}

/// Summed-area table with one extra zero row and column: `sat[(y+1)*(w+1) + x+1]` is the sum of
/// `src[0..=y][0..=x]`. `u32` holds 255 × 16.8 M pixels, far beyond any camera frame we accept.
fn integral(src: &GrayFrame) -> Vec<u32> {
    let (w, h) = (src.width, src.height);
    let stride = w + 1;
    let mut sat = vec![0u32; stride * (h + 1)];
    for y in 0..h {
        let mut row_sum = 0u32;
        for x in 0..w {
            row_sum += u32::from(src.data[y * w + x]);
            sat[(y + 1) * stride + x + 1] = sat[y * stride + x + 1] + row_sum;
        }
    }
    sat
}

/// Bradley–Roth local threshold: a pixel is dark when it is more than `percent` % below the mean
/// of the `window`×`window` square around it. Returns `true` for dark (rqrr's "black").
pub fn adaptive_threshold(src: &GrayFrame, window: usize, percent: u32) -> Vec<bool> {
    let (w, h) = (src.width, src.height);
    let sat = integral(src);
    let stride = w + 1;
    let r = (window / 2).max(1);
    let keep = 100 - percent.min(99);
    let mut out = vec![false; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let count = ((y1 - y0) * (x1 - x0)) as u64;
            let sum = u64::from(sat[y1 * stride + x1]) + u64::from(sat[y0 * stride + x0])
                - u64::from(sat[y0 * stride + x1])
                - u64::from(sat[y1 * stride + x0]);
            out[y * w + x] = u64::from(src.data[y * w + x]) * count * 100 < sum * u64::from(keep);
        }
    }
    out
}

/// Otsu's threshold: the grey level that maximises the between-class variance.
pub fn otsu(src: &GrayFrame) -> u8 {
    let mut hist = [0u64; 256];
    for &v in &src.data {
        hist[usize::from(v)] += 1;
    }
    let total = src.data.len() as f64;
    if total == 0.0 {
        return 128;
    }
    let sum_all: f64 = hist.iter().enumerate().map(|(i, &c)| i as f64 * c as f64).sum();
    let (mut w_b, mut sum_b, mut best, mut best_t) = (0.0, 0.0, -1.0, 128u8);
    for (t, &count) in hist.iter().enumerate() {
        w_b += count as f64;
        if w_b == 0.0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0.0 {
            break;
        }
        sum_b += t as f64 * count as f64;
        let (m_b, m_f) = (sum_b / w_b, (sum_all - sum_b) / w_f);
        let between = w_b * w_f * (m_b - m_f) * (m_b - m_f);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

/// Global threshold: dark where `v <= t`.
pub fn threshold(src: &GrayFrame, t: u8) -> Vec<bool> {
    src.data.iter().map(|&v| v <= t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> GrayFrame {
        let data = (0..w * h).map(|i| f(i % w, i / w)).collect();
        GrayFrame { width: w, height: h, data }
    }

    #[test]
    fn downscale_averages_blocks() {
        let src = frame(4, 2, |x, _| if x < 2 { 0 } else { 200 });
        let out = downscale(&src, 2);
        assert_eq!((out.width, out.height), (2, 1));
        assert_eq!(out.data, vec![0, 200]);
    }

    #[test]
    fn otsu_splits_two_levels() {
        let src = frame(10, 10, |x, _| if x < 5 { 30 } else { 220 });
        let t = otsu(&src);
        assert!((30..220).contains(&t), "{t}");
    }

    #[test]
    fn adaptive_threshold_follows_a_gradient() {
        // A dark dot on a background whose brightness ramps from 60 to 250: any global cut
        // misses either the dot or the dark side; a local window finds only the dot.
        let src = frame(64, 16, |x, y| {
            let bg = 60 + (x * 3) as u8;
            if (30..34).contains(&x) && (6..10).contains(&y) {
                bg / 3
            } else {
                bg
            }
        });
        let bits = adaptive_threshold(&src, 15, 15);
        let dark: Vec<(usize, usize)> = (0..64 * 16).filter(|&i| bits[i]).map(|i| (i % 64, i / 64)).collect();
        assert!(!dark.is_empty());
        assert!(dark.iter().all(|&(x, y)| (30..34).contains(&x) && (6..10).contains(&y)), "{dark:?}");
    }

    #[test]
    fn empty_frames_are_harmless() {
        let empty = GrayFrame { width: 0, height: 0, data: vec![] };
        assert_eq!(downscale(&empty, 2).data.len(), 0);
        assert_eq!(resize(&empty, 4, 4).data.len(), 16);
        assert_eq!(blur3(&empty).data.len(), 0);
        assert!(adaptive_threshold(&empty, 9, 10).is_empty());
        assert_eq!(otsu(&empty), 128);
    }
}
