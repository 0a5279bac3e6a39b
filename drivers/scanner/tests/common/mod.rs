//! Shared test helpers.
pub mod synth;
