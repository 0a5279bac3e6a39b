//! Reconciliation (对账) across the fleet, in the hub (issue 15): every payment of the central
//! journal against its channel's statement and its billers' files, per accounting day.
//!
//! - [`accounts`]: the merchant accounts whose files are read, and fetching them (stored as
//!   received, with their hash, before anything parses them: [`crate::statements`]).
//! - [`files`]: the stored files of some days, parsed into the pure matcher's `Files`.
//! - `journal_view`: each payment as its kiosk last journaled it.
//! - [`run_day`]: one run: `kiosk_core::recon::match_day`, the scratch pool, the desk, and
//!   settling suspense by a command to the kiosk (which journals `Reconciled` with the files'
//!   hashes).
//! - [`desk`]: the exception desk's store.
//!
//! The matching itself is `kiosk_core::recon`'s, the same code a kiosk's `yizhan recon` runs.

pub mod accounts;
pub mod desk;
pub mod files;
mod journal_view;
mod run;

pub use run::{run_day, RunSummary};

/// The actor of what reconciliation does by itself (its commands, in the audit log).
pub const OPERATOR: &str = "recon";
