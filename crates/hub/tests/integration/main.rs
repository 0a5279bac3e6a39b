//! The hub's tests, one module per subject, built as one test binary: one link instead
//! of one per file keeps a cold build of the suite small and quick (scripts/test.sh). Helpers
//! shared by the modules live beside this folder.

#[path = "../browser/mod.rs"]
mod browser;
#[path = "../common/mod.rs"]
mod common;

mod console;
mod identity;
mod recon;
mod rollouts;
mod shipping;
mod statements;
mod status;
