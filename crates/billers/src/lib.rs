//! How the kiosk reaches the water, power and gas billers and the joint-bill service.
//!
//! - [`client`]: one signed HTTP contract of ours (`openapi/biller-api.yaml`), one configured
//!   client per utility; every money call answers a `kiosk_core` reply value, never an error.
//! - [`config`]: the `[billers]` table: base URL, key and timeouts per biller.
//! - [`recon`]: the billers' daily reconciliation file.
//! - [`sim`]: loopback simulators of all four services with fault injection and ledgers, for the
//!   embedded demo and for tests.
//! - [`sign`]: the contract's signing, shared by both sides.
//! - [`wire`]: the client's JSON bodies; the simulators write theirs independently
//!   ([`sim::body`]).

pub mod client;
pub mod config;
pub mod recon;
pub mod sign;
#[cfg(feature = "sim")]
pub mod sim;
pub mod wire;

pub use client::reconciliation_rows;
pub use client::{
    holder_digest, is_holder_digest, AccountKind, AmountError, BillerClient, BillerError, Billers,
    ClientBuildError, HouseholdAccount, JointClient, PendingPurchase, PrepaidCard, PurchaseLimits,
    PurchaseRequest, WriteOffExpectation, WriteOffRequest, MAX_FILE_BYTES, MAX_REPLY_BYTES,
};
pub use config::{BillerEntry, BillersConfig, ConfigError};
pub use recon::{ReconError, ReconFile, ReconKind, ReconRow};
#[cfg(feature = "sim")]
pub use sim::{demo_accounts, start_all, BillerSimsConfig, RunningBillerSims};

/// Shanghai time (UTC+8, no daylight saving): the billers' accounting day.
pub(crate) fn shanghai() -> chrono::FixedOffset {
    kiosk_core::time::beijing()
}
