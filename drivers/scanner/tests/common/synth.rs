//! Deterministic synthetic camera frames of payment-code QR codes, shared by the tests and by
//! `benches/camera_decode.rs` (included there with `#[path]`), so both measure the same images.
//!
//! A frame is a phone (white screen, quiet zone) holding a QR code, photographed on a cluttered
//! background: the code is rendered through a homography (rotation + perspective skew) with 3×3
//! supersampling, then blurred (Gaussian), lit unevenly (gradient + vignette + reduced contrast) and
//! noised (Gaussian). Everything comes from one seeded SplitMix64, so a seed names a set forever.
#![allow(dead_code)]

use qrcode::{Color, EcLevel, QrCode};

/// The simulations' SplitMix64 (`simkit::rng`: stable across crate versions, unlike `rand`'s
/// algorithms), with the real-valued draws image synthesis needs.
#[derive(Clone, Debug)]
pub struct Rng(simkit::rng::SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(simkit::rng::SplitMix64::new(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A random, well-formed payment code: WeChat (18 digits, 10–15), Alipay (16–24, 25–30) or
/// UnionPay (19, 62). Synthetic: never a real token.
pub fn payment_code(rng: &mut Rng) -> String {
    let (prefix, len) = match rng.below(3) {
        0 => (10 + rng.below(6), 18),
        1 => (25 + rng.below(6), 16 + rng.below(9) as usize),
        _ => (62, 19),
    };
    let mut s = prefix.to_string();
    while s.len() < len {
        s.push(char::from(b'0' + rng.below(10) as u8));
    }
    s
}

/// A WeChat-style code (18 digits, prefix 13).
pub fn wechat_code(rng: &mut Rng) -> String {
    let mut s = String::from("13");
    while s.len() < 18 {
        s.push(char::from(b'0' + rng.below(10) as u8));
    }
    s
}

/// How one frame is made.
#[derive(Clone, Debug)]
pub struct Params {
    pub width: usize,
    pub height: usize,
    /// Module size in pixels (before perspective).
    pub module_px: f64,
    pub rotation_deg: f64,
    /// Perspective: each corner moves by up to this fraction of the code's size.
    pub skew: f64,
    /// Gaussian blur sigma in pixels.
    pub blur: f64,
    /// Gaussian noise sigma in grey levels.
    pub noise: f64,
    /// Lighting: the darkest factor of the gradient/vignette (1 = even light).
    pub light_min: f64,
    /// Ink and paper grey levels.
    pub dark: f64,
    pub light: f64,
    pub ec: EcLevel,
}

impl Params {
    /// A clean, straight, well-lit code with 5-pixel modules.
    pub fn easy(width: usize, height: usize) -> Params {
        Params {
            width,
            height,
            module_px: 5.0,
            rotation_deg: 0.0,
            skew: 0.0,
            blur: 0.0,
            noise: 0.0,
            light_min: 1.0,
            dark: 20.0,
            light: 235.0,
            ec: EcLevel::M,
        }
    }

    /// Random hard conditions: every distortion at once, each drawn from its hard range.
    pub fn hard(rng: &mut Rng, width: usize, height: usize) -> Params {
        let scale = width as f64 / 640.0;
        Params {
            width,
            height,
            module_px: rng.range(2.0, 7.0) * scale.sqrt(),
            rotation_deg: rng.range(0.0, 360.0),
            skew: rng.range(0.0, 0.15),
            blur: rng.range(0.2, 1.3) * scale.sqrt(),
            noise: rng.range(2.0, 24.0),
            light_min: rng.range(0.35, 1.0),
            dark: rng.range(15.0, 80.0),
            light: rng.range(160.0, 245.0),
            ec: [EcLevel::L, EcLevel::M, EcLevel::Q][rng.below(3) as usize],
        }
    }
}

/// One generated frame and what it holds.
#[derive(Clone)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    /// Row-major luma.
    pub luma: Vec<u8>,
    pub payload: String,
    pub params: Params,
}

/// The seeded hard set (rotation, skew, blur, noise, small modules, uneven light).
pub fn hard_set(seed: u64, width: usize, height: usize, n: usize) -> Vec<Frame> {
    let mut rng = Rng::new(seed ^ ((width as u64) << 32 | height as u64));
    (0..n)
        .map(|_| {
            let payload = payment_code(&mut rng);
            let params = Params::hard(&mut rng, width, height);
            render(&mut rng, &payload, &params)
        })
        .collect()
}

/// The seeded easy set: clean codes, random position, 4–7 px modules at 640×480 (the same framing,
/// so proportionally larger modules, at higher resolutions).
pub fn easy_set(seed: u64, width: usize, height: usize, n: usize) -> Vec<Frame> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let payload = payment_code(&mut rng);
            let mut params = Params::easy(width, height);
            params.module_px = rng.range(4.0, 7.0) * width as f64 / 640.0;
            params.rotation_deg = rng.range(-5.0, 5.0);
            render(&mut rng, &payload, &params)
        })
        .collect()
}

/// Renders `payload` as a QR code under `p`.
pub fn render(rng: &mut Rng, payload: &str, p: &Params) -> Frame {
    let code = QrCode::with_error_correction_level(payload, p.ec).expect("payload fits a QR code");
    let n = code.width();
    let colors = code.to_colors();
    let quiet = 4.0;
    let phone_margin = 3.0; // the phone's white screen beyond the quiet zone, in modules
    let total = n as f64 + 2.0 * (quiet + phone_margin);
    let size_px = total * p.module_px;

    // Corners of the phone screen in the frame: a rotated square, each corner jittered (skew).
    let (w, h) = (p.width as f64, p.height as f64);
    let half_diag = size_px * std::f64::consts::FRAC_1_SQRT_2 * (1.0 + p.skew);
    let cx = rng.range(half_diag.min(w / 2.0), (w - half_diag).max(w / 2.0));
    let cy = rng.range(half_diag.min(h / 2.0), (h - half_diag).max(h / 2.0));
    let theta = p.rotation_deg.to_radians();
    let (s, c) = theta.sin_cos();
    let mut corners = [(0.0, 0.0); 4];
    for (i, (u, v)) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)].iter().enumerate() {
        let (du, dv) = ((u - 0.5) * size_px, (v - 0.5) * size_px);
        let jx = rng.range(-p.skew, p.skew) * size_px;
        let jy = rng.range(-p.skew, p.skew) * size_px;
        corners[i] = (cx + du * c - dv * s + jx, cy + du * s + dv * c + jy);
    }
    // Homography from frame pixels to unit-square phone coordinates.
    let inv = homography_to_unit(&corners);

    let bg_rects: Vec<(f64, f64, f64, f64, f64)> = (0..12)
        .map(|_| {
            let x0 = rng.range(0.0, w);
            let y0 = rng.range(0.0, h);
            (x0, y0, x0 + rng.range(20.0, w / 3.0), y0 + rng.range(20.0, h / 3.0), rng.range(40.0, 200.0))
        })
        .collect();
    let sample = |x: f64, y: f64| -> f64 {
        let (u, v) = apply(&inv, x, y);
        if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) {
            let mx = u * total - quiet - phone_margin;
            let my = v * total - quiet - phone_margin;
            if mx >= 0.0 && my >= 0.0 && (mx as usize) < n && (my as usize) < n {
                return if colors[my as usize * n + mx as usize] == Color::Dark { p.dark } else { p.light };
            }
            return p.light;
        }
        let mut g = 110.0 + 30.0 * ((x * 0.05).sin() * (y * 0.03).cos());
        for &(x0, y0, x1, y1, shade) in &bg_rects {
            if x >= x0 && x < x1 && y >= y0 && y < y1 {
                g = shade;
            }
        }
        g
    };

    let (wi, hi) = (p.width, p.height);
    let mut img = vec![0f64; wi * hi];
    const SS: [f64; 3] = [1.0 / 6.0, 0.5, 5.0 / 6.0];
    for y in 0..hi {
        for x in 0..wi {
            let mut acc = 0.0;
            for dy in SS {
                for dx in SS {
                    acc += sample(x as f64 + dx, y as f64 + dy);
                }
            }
            img[y * wi + x] = acc / 9.0;
        }
    }
    if p.blur > 0.05 {
        gaussian_blur(&mut img, wi, hi, p.blur);
    }
    // Uneven light: a linear gradient in a random direction times a vignette around a random point.
    let gdir = rng.range(0.0, std::f64::consts::TAU);
    let (gx, gy) = (gdir.cos(), gdir.sin());
    let (vx, vy) = (rng.range(0.0, w), rng.range(0.0, h));
    let diag = (w * w + h * h).sqrt();
    let mut luma = Vec::with_capacity(wi * hi);
    for y in 0..hi {
        for x in 0..wi {
            let (xf, yf) = (x as f64, y as f64);
            let t = ((xf - w / 2.0) * gx + (yf - h / 2.0) * gy) / diag + 0.5;
            let grad = 1.0 - (1.0 - p.light_min) * t.clamp(0.0, 1.0);
            let r = (((xf - vx).powi(2) + (yf - vy).powi(2)).sqrt() / diag).min(1.0);
            let vignette = 1.0 - 0.5 * (1.0 - p.light_min) * r;
            let g = img[y * wi + x] * grad * vignette + p.noise * rng.normal();
            luma.push(g.round().clamp(0.0, 255.0) as u8);
        }
    }
    Frame { width: wi, height: hi, luma, payload: payload.to_owned(), params: p.clone() }
}

fn gaussian_blur(img: &mut [f64], w: usize, h: usize, sigma: f64) {
    let r = (sigma * 3.0).ceil() as isize;
    let kernel: Vec<f64> = (-r..=r).map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp()).collect();
    let sum: f64 = kernel.iter().sum();
    let kernel: Vec<f64> = kernel.iter().map(|k| k / sum).collect();
    let mut tmp = vec![0f64; w * h];
    blur_pass(img, &mut tmp, w, h, &kernel, Direction::Across);
    blur_pass(&tmp, img, w, h, &kernel, Direction::Down);
}

#[derive(Clone, Copy)]
enum Direction {
    Across,
    Down,
}

/// One pass of a separable blur: each pixel of `dst` is `kernel` applied to `src` along a row
/// (`Across`) or a column (`Down`), the edge pixels repeated beyond the border.
fn blur_pass(src: &[f64], dst: &mut [f64], w: usize, h: usize, kernel: &[f64], direction: Direction) {
    let r = (kernel.len() / 2) as isize;
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (k, i) in kernel.iter().zip(-r..=r) {
                let at = match direction {
                    Direction::Across => y * w + (x as isize + i).clamp(0, w as isize - 1) as usize,
                    Direction::Down => (y as isize + i).clamp(0, h as isize - 1) as usize * w + x,
                };
                acc += k * src[at];
            }
            dst[y * w + x] = acc;
        }
    }
}

/// The 3×3 homography mapping the four `corners` (frame pixels) to the unit square's corners
/// (0,0), (1,0), (1,1), (0,1): the square-to-quad map, inverted.
fn homography_to_unit(corners: &[(f64, f64); 4]) -> [f64; 9] {
    invert3(&unit_to_quad(corners))
}

/// Heckbert's closed form for the unit square → quadrilateral projective map.
fn unit_to_quad(q: &[(f64, f64); 4]) -> [f64; 9] {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = *q;
    let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
    let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (dx3 * dy2 - dx2 * dy3) / den;
    let hh = (dx1 * dy3 - dx3 * dy1) / den;
    [x1 - x0 + g * x1, x3 - x0 + hh * x3, x0, y1 - y0 + g * y1, y3 - y0 + hh * y3, y0, g, hh, 1.0]
}

fn invert3(m: &[f64; 9]) -> [f64; 9] {
    let [a, b, c, d, e, f, g, h, i] = *m;
    let (co_a, co_b, co_c) = (e * i - f * h, -(d * i - f * g), d * h - e * g);
    let det = a * co_a + b * co_b + c * co_c;
    let inv = 1.0 / det;
    [
        co_a * inv,
        -(b * i - c * h) * inv,
        (b * f - c * e) * inv,
        co_b * inv,
        (a * i - c * g) * inv,
        -(a * f - c * d) * inv,
        co_c * inv,
        -(a * h - b * g) * inv,
        (a * e - b * d) * inv,
    ]
}

fn apply(m: &[f64; 9], x: f64, y: f64) -> (f64, f64) {
    let wz = m[6] * x + m[7] * y + m[8];
    ((m[0] * x + m[1] * y + m[2]) / wz, (m[3] * x + m[4] * y + m[5]) / wz)
}
