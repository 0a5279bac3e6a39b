//! Shared plumbing of the HTTP simulators (payment channels and billers).
//!
//! - [`serve`] runs an axum router on a loopback listener with one power the real network has and
//!   axum lacks: a handler can make the connection close with **no reply at all**, after or before
//!   it changed its state (see [`drop_connection`]). That is how "reply lost" is simulated.
//! - [`FaultPlan`] holds the faults queued for the next requests of each endpoint, settable through
//!   the admin router ([`admin_router`]) or per request with the `x-sim-fault` header.
//! - [`rng::SplitMix64`], the seeded generator of the seeded simulations.

mod fault;
pub mod rng;
mod server;

pub use fault::{admin_router, Fault, FaultPlan, FaultRule, FAULT_HEADER};
pub use server::{drop_connection, serve, DropConnection, Served};
