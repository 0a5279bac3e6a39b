//! The biller client's tests, one module per subject, built as one test binary: one link instead
//! of one per file keeps a cold build of the suite small and quick (scripts/test.sh). Helpers
//! shared by the modules live beside this folder.

#[path = "../common/mod.rs"]
mod common;

mod card_contract;
mod http_contract;
mod offline;
mod reply_binding;
mod reply_size;
