//! The customer's session at the screen: which screen shows, what the customer has entered, when
//! the screen gives up, and what the runtime must do next. Pure like the payment machine: taps,
//! device news and clock ticks come in as [`Input`]s with the time; [`Command`]s go out.
//!
//! The payment machine decides money; this machine decides only the conversation around it. Once
//! a payment method is chosen, nothing here times out until the runtime reports the payment's end.

mod allowed;
mod flow;
mod focus;
mod hands;
pub mod speech;
mod stage;
mod types;
pub mod words;

pub use flow::{Session, SessionTiming, QUIET_BEFORE_RESTART_MS, TOP_UP_AMOUNTS};
pub use focus::choice_label;
pub use hands::{HandsOn, Printout, TakeAway};
pub use stage::{AccountEntry, Ending, Finding, Lookup, Order, Payment, StaffScreen, Stage};
pub use types::*;

#[cfg(test)]
mod tests;
