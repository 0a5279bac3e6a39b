//! Alerts: the rules that turn heartbeats into conditions with hysteresis ([`rules`]), their
//! storage with de-duplication ([`store`]) and delivery to a webhook ([`webhook`]).

pub mod rules;
pub mod store;
pub mod webhook;

pub use rules::{kind, Rules};
pub use store::Alert;
