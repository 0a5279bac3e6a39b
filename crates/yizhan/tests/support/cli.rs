//! Running the `yizhan` binary as people and scripts do, with a configuration of its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_yizhan");

pub fn yizhan(config: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("YIZHAN_CRASH_AFTER_COMMIT")
        .output()
        .unwrap()
}

/// [`yizhan`] off the async threads, for tests that run a hub on them.
pub async fn yizhan_async(config: &Path, data: &Path, args: &[&str]) -> Output {
    let (config, data) = (config.to_path_buf(), data.to_path_buf());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        yizhan(&config, &data, &args)
    })
    .await
    .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// A copy of the default configuration with `edit` applied, its key paths pointing at the repo.
pub fn config_with(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let default = std::fs::read_to_string(super::repo_config_dir().join("kiosk.toml")).unwrap();
    let keys = super::repo_config_dir().join("sim-keys");
    let keys = keys.display().to_string();
    let body = default
        .replace("sim_keys = \"sim-keys\"", &format!("sim_keys = {keys:?}"))
        .replace("\"sim-keys/", &format!("\"{keys}/"));
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, edit(body)).unwrap();
    path
}
