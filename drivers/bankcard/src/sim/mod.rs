//! Simulators over pseudo-terminals (architecture rule 4): the payment terminal
//! ([`TerminalSim`]) and the motorised slot ([`SlotSim`]). Both read the host's bytes with this
//! crate's codecs (the slot writes its own replies, from hardware.md §2.1–§2.2), open a fresh
//! pty and report its path, and are steered by tests and `yizhan sim bankcard` through their
//! handles.

pub mod slot;
pub mod terminal;

pub use slot::SlotSim;
pub use terminal::{Customer, HostLink, HostReport, LedgerEntry, TerminalFault, TerminalSim};
