//! Renders a [`Transcript`] to a PNG, as the printer's head would put it on paper, for the docs.
//!
//! Choice: GNU Unifont through the `unifont` crate (8×16 and 16×16 bitmaps for the whole BMP,
//! CJK included, embedded; no system font needed) scaled to the printer's 12×24 font-A cell with
//! nearest-neighbour sampling, QR symbols drawn from the `qrcode` crate's module matrix. The
//! bitmap is exactly as wide as the head (384 or 576 dots), so its size is also what the same
//! receipt costs as a raster image (`GS v 0`: width/8 × height bytes), used by the bench.

use super::transcript::{Item, Transcript};
use crate::layout::{Align, PaperWidth};

const CELL_W: usize = 12;
const CELL_H: usize = 24;
const LINE_H: usize = 30; // ESC/POS default line spacing, 1/6 inch ≈ 30 dots at 180 dpi
const BARCODE_H: usize = 60;

/// A 1-bit image, one `bool` per dot (true = black).
#[derive(Clone, Debug)]
pub struct Bitmap {
    /// Width in dots.
    pub width: usize,
    /// Height in dots.
    pub height: usize,
    dots: Vec<bool>,
}

impl Bitmap {
    fn new(width: usize, height: usize) -> Self {
        Bitmap { width, height, dots: vec![false; width * height] }
    }

    fn set(&mut self, x: usize, y: usize) {
        if x < self.width && y < self.height {
            self.dots[y * self.width + x] = true;
        }
    }

    /// Bytes of the same picture as an ESC/POS raster image (`GS v 0` data).
    pub fn raster_bytes(&self) -> usize {
        self.width.div_ceil(8) * self.height
    }

    /// PNG encoding (8-bit grey).
    pub fn to_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let data: Vec<u8> = self.dots.iter().map(|&d| if d { 0 } else { 255 }).collect();
            if let Ok(mut w) = enc.write_header() {
                let _ = w.write_image_data(&data);
            }
        }
        out
    }
}

fn glyph_cells(c: char) -> usize {
    if c.is_ascii() {
        1
    } else {
        2
    }
}

fn draw_text(bmp: &mut Bitmap, y0: usize, text: &str, align: Align, bold: bool) {
    let cols: usize = text.chars().map(glyph_cells).sum();
    let width = cols * CELL_W;
    let x0 = match align {
        Align::Left => 0,
        Align::Center => bmp.width.saturating_sub(width) / 2,
        Align::Right => bmp.width.saturating_sub(width),
    };
    let mut x = x0;
    for c in text.chars() {
        let cells = glyph_cells(c);
        let (w, h) = (cells * CELL_W, CELL_H);
        if let Some(g) = unifont::get_glyph(c) {
            let gw = g.get_width();
            for dy in 0..h {
                for dx in 0..w {
                    if g.get_pixel(dx * gw / w, dy * 16 / h) {
                        bmp.set(x + dx, y0 + dy);
                        if bold {
                            bmp.set(x + dx + 1, y0 + dy);
                        }
                    }
                }
            }
        }
        x += w;
    }
}

fn qr_matrix(data: &str) -> Option<(usize, Vec<bool>)> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M).ok()?;
    let w = code.width();
    Some((w, code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect()))
}

/// Lays the transcript out on a head of `paper`'s width.
pub fn render(t: &Transcript, paper: PaperWidth) -> Bitmap {
    let module = usize::from(paper.qr_module());
    // First pass: height.
    let mut height = 0;
    for item in &t.items {
        height += match item {
            Item::Line { .. } => LINE_H,
            Item::Qr(d) => qr_matrix(d).map_or(0, |(w, _)| (w + 8) * module),
            Item::Barcode(_) => BARCODE_H + LINE_H,
            Item::Raster { height, .. } => *height as usize,
        };
    }
    let mut bmp = Bitmap::new(paper.dots(), height.max(1));
    let mut y = 0;
    for item in &t.items {
        match item {
            Item::Line { text, align, bold } => {
                draw_text(&mut bmp, y + (LINE_H - CELL_H) / 2, text, *align, *bold);
                y += LINE_H;
            }
            Item::Qr(d) => {
                if let Some((w, m)) = qr_matrix(d) {
                    let x0 = bmp.width.saturating_sub(w * module) / 2;
                    let y0 = y + 4 * module;
                    for (i, dark) in m.iter().enumerate() {
                        if *dark {
                            let (mx, my) = (i % w, i / w);
                            for dy in 0..module {
                                for dx in 0..module {
                                    bmp.set(x0 + mx * module + dx, y0 + my * module + dy);
                                }
                            }
                        }
                    }
                    y += (w + 8) * module;
                }
            }
            Item::Barcode(d) => {
                // Bars from the data's bits: a picture of a barcode, not a scannable one.
                let bits: Vec<bool> =
                    d.bytes().flat_map(|b| (0..8).map(move |i| b >> (7 - i) & 1 == 1)).collect();
                let w = bits.len() * 2;
                let x0 = bmp.width.saturating_sub(w) / 2;
                for (i, bit) in bits.iter().enumerate() {
                    if *bit {
                        for dy in 0..BARCODE_H {
                            bmp.set(x0 + 2 * i, y + dy);
                            bmp.set(x0 + 2 * i + 1, y + dy);
                        }
                    }
                }
                y += BARCODE_H;
                draw_text(&mut bmp, y + 3, d, Align::Center, false);
                y += LINE_H;
            }
            Item::Raster { height, .. } => y += *height as usize,
        }
    }
    bmp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_renders_at_head_width_with_cjk() {
        let t = Transcript {
            items: vec![
                Item::Line { text: "缴费成功 Paid".into(), align: Align::Center, bold: true },
                Item::Qr("YZR1.test".into()),
            ],
            cut: true,
            torn: false,
        };
        let bmp = render(&t, PaperWidth::Mm80);
        assert_eq!(bmp.width, 576);
        assert!(bmp.dots.iter().any(|&d| d), "something is drawn");
        assert_eq!(bmp.raster_bytes(), 72 * bmp.height);
        let png = bmp.to_png();
        assert_eq!(&png[1..4], b"PNG");
    }
}
