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
    if let Some(file) = &args.day {
        return play_pinned(file, keys_dir, &work).await;
    }
    if let Some(file) = &args.write_day {
        let day = soak::PinnedDay::drawn(args.from, args.customers);
        let written = serde_json::to_string_pretty(&day).map_err(|e| e.to_string());
        return match written.and_then(|text| std::fs::write(file, text + "\n").map_err(|e| e.to_string())) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("yizhan soak: {}: {error}", file.display());
                ExitCode::from(1)
            }
        };
    }
    let mut totals = Totals::default();
    let mut failed = false;
    let seeds = args.from..args.from.saturating_add(args.seeds);
    soak::run_many(seeds, args.jobs as usize, keys_dir, &work, args.customers, |seed, outcome| {
        if let (true, Ok(report)) = (args.verbose, &outcome) {
            eprintln!("seed {seed}: {:.1} s", report.took.as_secs_f64());
            report.story.iter().for_each(|line| eprintln!("  {line}"));
        }
        let replay = format!(
            "replay: yizhan soak --from {seed} --seeds 1 --customers {} --verbose (the day as played: {})",
            args.customers,
            work.join(format!("seed-{seed}")).join("day.json").display()
        );
        failed |= !count(seed, outcome, &replay, &mut totals);
        if !failed && totals.seeds.is_multiple_of(50) {
            eprintln!("… {} ({:.0} s)", totals.line(), started.elapsed().as_secs_f64());
        }
        !failed
    })
    .await;
    if failed {
        println!("{}", totals.line());
        println!("the failing seed's folder (journal, day.json) is kept under {}", work.display());
        return ExitCode::from(1);
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("{} in {:.0} s", totals.line(), started.elapsed().as_secs_f64());
    if let Some((seed, took)) = totals.slowest {
        println!("slowest: seed {seed}, {:.1} s", took.as_secs_f64());
    }
    ExitCode::SUCCESS
}

/// `--day FILE`: one day written down, played and checked.
async fn play_pinned(file: &Path, keys_dir: &Path, work: &Path) -> ExitCode {
    let day = match soak::PinnedDay::read(file) {
        Ok(day) => day,
        Err(error) => {
            eprintln!("yizhan soak: {error}");
            return ExitCode::from(2);
        }
    };
    let mut totals = Totals::default();
    let replay = format!("replay: yizhan soak --day {}", file.display());
    let passed = count(day.seed, soak::run_day(&day, keys_dir, work).await, &replay, &mut totals);
    println!("{}", totals.line());
    if passed {
        let _ = std::fs::remove_dir_all(work);
        return ExitCode::SUCCESS;
    }
    ExitCode::from(1)
}

/// Counts one seed's outcome; prints its violations and replay command. False when it failed.
fn count(seed: u64, outcome: Result<SeedReport, String>, replay: &str, totals: &mut Totals) -> bool {
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
