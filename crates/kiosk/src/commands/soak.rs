//! `yizhan soak --seeds N [--from S] [--jobs J] [--verbose]`: seeded whole-kiosk simulations
//! (see `crate::soak`). Exits 1 on the first violated invariant, printing its seed and the
//! command that replays it. With `--jobs`, J seeds run at once, each its own kiosk in its own
//! folder; a seed's outcome does not depend on what runs beside it.

use crate::cli::SoakArgs;
use crate::soak::{self, SeedReport, Totals};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub async fn run(args: &SoakArgs, keys_dir: &Path) -> ExitCode {
    let started = Instant::now();
    let work = soak::work_dir();
    let mut totals = Totals::default();
    let mut failed = false;
    let seeds = args.from..args.from.saturating_add(args.seeds);
    soak::run_many(seeds, args.jobs as usize, keys_dir, &work, args.customers, |seed, outcome| {
        if let (true, Ok(report)) = (args.verbose, &outcome) {
            eprintln!("seed {seed}: {:.1} s", report.took.as_secs_f64());
            report.story.iter().for_each(|line| eprintln!("  {line}"));
        }
        failed |= !count(seed, outcome, args.customers, &mut totals);
        if !failed && totals.seeds.is_multiple_of(50) {
            eprintln!("… {} ({:.0} s)", totals.line(), started.elapsed().as_secs_f64());
        }
        !failed
    })
    .await;
    if failed {
        println!("{}", totals.line());
        println!("the failing seed's data folder is kept under {}", work.display());
        return ExitCode::from(1);
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("{} in {:.0} s", totals.line(), started.elapsed().as_secs_f64());
    if let Some((seed, took)) = totals.slowest {
        println!("slowest: seed {seed}, {:.1} s", took.as_secs_f64());
    }
    ExitCode::SUCCESS
}

/// Counts one seed's outcome; prints its violations and replay command. False when it failed.
fn count(seed: u64, outcome: Result<SeedReport, String>, customers: u64, totals: &mut Totals) -> bool {
    let replay = format!("replay: yizhan soak --from {seed} --seeds 1 --customers {customers} --verbose");
    match outcome {
        Err(error) => {
            eprintln!("yizhan soak: seed {seed} could not run: {error}");
            eprintln!("{replay}");
            false
        }
        Ok(report) => {
            totals.add(&report);
            for v in &report.violations {
                println!("VIOLATION seed {seed} {}: {}", v.order, v.what);
            }
            if report.violations.is_empty() {
                return true;
            }
            println!("{replay}");
            false
        }
    }
}
