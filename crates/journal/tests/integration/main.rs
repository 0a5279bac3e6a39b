//! The journal's tests, one module per subject, built as one test binary: one link instead
//! of one per file keeps a cold build of the suite small and quick (scripts/test.sh). Helpers
//! shared by the modules live beside this folder.

#[path = "../common/mod.rs"]
mod common;
#[path = "../crashsim/mod.rs"]
mod crashsim;

mod card_terminal;
mod cash_box;
mod chain_reopen;
mod chain_verify;
mod crash_injection;
mod crash_vfs;
mod create_and_reload;
mod csv_export;
mod durability;
mod full_disk;
mod idempotency_keys;
mod prints_and_staff;
mod recovery_query;
mod second_writer;
mod snapshot_join;
mod stale_state;
