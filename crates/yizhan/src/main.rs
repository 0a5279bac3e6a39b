//! `yizhan`: the kiosk binary. See `yizhan --help` and the README.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = yizhan::cli::Cli::parse();
    // Before the runtime's threads exist: they would each make a malloc arena.
    yizhan::ui::heap::limit_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("yizhan: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(yizhan::commands::run(cli))
}
