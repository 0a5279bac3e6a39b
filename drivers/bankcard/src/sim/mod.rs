//! Simulators over pseudo-terminals (architecture rule 4): the payment terminal
//! ([`TerminalSim`]) and the motorised slot ([`SlotSim`]). Both reuse this crate's codecs, open a
//! fresh pty and report its path, and are steered by tests and `yizhan sim bankcard` through
//! their handles.

pub mod slot;
pub mod terminal;

pub use slot::SlotSim;
pub use terminal::{Customer, LedgerEntry, TerminalFault, TerminalSim};
