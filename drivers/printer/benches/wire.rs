//! Bytes on the wire and seconds on a serial line for a standard receipt, text mode vs the same
//! receipt as a raster image (hardware.md §4.4). Plain `Instant` timing, no harness:
//! `cargo bench -p printer`. Writes the rendered receipts to `target/printer-bench/*.png`.

#[path = "../tests/common/mod.rs"]
mod common;

use printer::layout::{lay_out, PaperWidth};
use printer::sim::parser::Parser;
use printer::sim::render::render;
use printer::sim::state::SimState;
use printer::{job, proof};
use std::time::Instant;

/// 8N1: ten bits on the line per byte.
fn seconds(bytes: usize, baud: u32) -> f64 {
    bytes as f64 * 10.0 / f64::from(baud)
}

fn main() {
    let (sk, _) = common::demo_keys();
    let payload = proof::sign(&common::claim(), &sk).expect("sign");
    let out_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/printer-bench");
    let _ = std::fs::create_dir_all(&out_dir);
    println!("receipt: paid joint water+gas bill, signed QR payload of {} chars", payload.len());
    println!(
        "{:<6} {:>10} {:>10} {:>10} | {:>12} {:>10} {:>10} | {:>10} {:>10}",
        "paper", "text B", "9600 s", "115200 s", "raster B", "9600 s", "115200 s", "build µs", "render ms"
    );
    for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let t0 = Instant::now();
        let mut job = None;
        for _ in 0..200 {
            job = Some(job::build(&lay_out(&common::receipt(), paper, Some(&payload)), paper).expect("job"));
        }
        let build_us = t0.elapsed().as_secs_f64() * 1e6 / 200.0;
        let job = job.expect("built");
        let bytes = job.bytes();

        // What the printer would print, via the simulator's parser and state.
        let mut parser = Parser::new();
        let mut state = SimState::default();
        for p in parser.feed(&bytes) {
            let _ = state.apply(p);
        }
        let transcript = state.receipts().last().cloned().expect("cut");
        let t1 = Instant::now();
        let bmp = render(&transcript, paper);
        let render_ms = t1.elapsed().as_secs_f64() * 1e3;
        // GS v 0 header (8 bytes) + width/8 × height data.
        let raster = 8 + bmp.raster_bytes();
        let name = match paper {
            PaperWidth::Mm58 => "58mm",
            PaperWidth::Mm80 => "80mm",
        };
        let _ = std::fs::write(out_dir.join(format!("receipt-{name}.png")), bmp.to_png());
        println!(
            "{:<6} {:>10} {:>10.2} {:>10.3} | {:>12} {:>10.1} {:>10.2} | {:>10.0} {:>10.1}",
            name,
            bytes.len(),
            seconds(bytes.len(), 9600),
            seconds(bytes.len(), 115_200),
            raster,
            seconds(raster, 9600),
            seconds(raster, 115_200),
            build_us,
            render_ms
        );
        println!("       raster image {}x{} dots", bmp.width, bmp.height);
    }
    println!("PNG renderings in {}", out_dir.display());
}
