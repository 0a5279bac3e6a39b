//! The kiosk's integration tests, one module per subject, built as one test binary: one link instead
//! of one per file keeps a cold build of the suite small and quick (scripts/test.sh). Helpers
//! shared by the modules live beside this folder.
//! The UI flows (`tests/ui_flows.rs`) stay apart: Slint's testing backend is one per process.

#[path = "../../../hub/tests/common/mod.rs"]
mod hubkit;
#[path = "../support/mod.rs"]
mod support;

mod biller_faults;
mod card_reversal;
mod cards;
mod cash;
mod channel_faults;
mod cli;
mod fleet;
mod household;
mod journal_trust;
mod package;
mod power_cut;
mod receipts;
mod recon;
mod rollout;
mod soak;
mod systemd;
mod updates;
