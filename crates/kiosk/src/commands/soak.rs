//! `yizhan soak --seeds N [--from S]`: seeded whole-kiosk simulations (see `crate::soak`).
//! Exits 1 on the first violated invariant, printing its seed and the command that replays it.

use crate::cli::SoakArgs;
use crate::soak::{self, Totals};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub async fn run(args: &SoakArgs, keys_dir: &Path) -> ExitCode {
    let started = Instant::now();
    let work = soak::work_dir();
    let mut totals = Totals::default();
    for seed in args.from..args.from.saturating_add(args.seeds) {
        let report = match soak::run_seed(seed, keys_dir, &work, args.customers).await {
            Ok(report) => report,
            Err(error) => {
                eprintln!("yizhan soak: seed {seed} could not run: {error}");
                eprintln!("replay: yizhan soak --from {seed} --seeds 1 --customers {}", args.customers);
                return ExitCode::from(1);
            }
        };
        totals.add(&report);
        if !report.violations.is_empty() {
            for v in &report.violations {
                println!("VIOLATION seed {seed} {}: {}", v.order, v.what);
            }
            println!("replay: yizhan soak --from {seed} --seeds 1 --customers {}", args.customers);
            println!("{}", totals.line());
            let _ = std::fs::remove_dir_all(&work);
            return ExitCode::from(1);
        }
        if (seed - args.from + 1).is_multiple_of(50) {
            eprintln!("… {} ({:.0} s)", totals.line(), started.elapsed().as_secs_f64());
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("{} in {:.0} s", totals.line(), started.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}
