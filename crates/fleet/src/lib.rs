//! The fleet protocol of Yizhan, kiosk side and shared types.
//!
//! - [`wire`]: the JSON bodies kiosk and hub exchange, and the API's paths.
//! - [`gzip`]: how bodies travel (gzip'd JSON, with a decompressed-size limit).
//! - [`identity`]: pairing a kiosk with a hub and the files of its identity (key, certificate,
//!   the hub's CA).
//! - [`client`]: the kiosk's mutual-TLS client.
//! - [`package`]: signed update packages (the operator's Ed25519 signature over name, version
//!   and digest).
//! - [`shipper`]: shipping the journal (the outbox pattern), with a durable high-water mark.
//!
//! The hub (`crates/hub`) uses the same [`wire`] types; the kiosk runtime (`crates/yizhan`) runs
//! the shipper and the heartbeat beside its payments, never in their way.

pub mod client;
pub mod gzip;
pub mod identity;
pub mod package;
pub mod shipper;
#[cfg(feature = "testing")]
pub mod testing;
pub mod wire;

pub use client::{HubClient, HubError};
pub use identity::{pair, IdentityFiles, PairError, PairingTicket};
pub use shipper::{ShipError, ShipRound, Shipper};
