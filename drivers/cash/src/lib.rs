//! # cash: the banknote acceptor of the Yizhan kiosk (JCM ID-003)
//!
//! From 2026 an unattended kiosk must take cash. The acceptor heads kiosks use speak JCM's
//! ID-003 protocol over RS-232 at 9600 8E1 (hardware.md §9); this crate speaks it, in the three
//! layers every driver here has:
//!
//! | Module | Job |
//! |---|---|
//! | [`frame`] | `FC · LNG · CMD · DATA · CRC` frames, CRC-16/Kermit, resync on noise |
//! | [`command`] | [`Command`]: the poll, the operations (STACK, RETURN…), the settings, the requests; [`DenominationMask`] |
//! | [`reply`] | [`Reply`], [`Status`] (escrow, VEND VALID, the faults and power-ups), [`RejectReason`], the currency [`Assignment`] |
//! | [`acceptor`] | [`BillAcceptor`]: poll, operate, set, ACK a VEND VALID; the notes taken as the amount due falls; a status as `kiosk_core::cash::Head`, and a `CashEffect` carried out |
//! | [`config`] | [`CashConfig`], the `[devices.cash]` entry |
//! | [`sim`] | [`sim::AcceptorSim`]: a head on a pty with note faults (jam, power cut, lost ACK, box removed, cheat) |
//!
//! ## Where the money is decided
//!
//! Not here. A note in ESCROW is journaled before STACK is sent; VEND VALID is the credit point,
//! journaled before the ACK; a power-up with a note inside is settled from the journal. Those
//! rules are `kiosk_core::cash` (payments.md §8); this crate reports the statuses that drive
//! them and sends what it is told.
//!
//! ## Where our design fills gaps of the public record
//!
//! JCM's specification is not public; the frames, codes and the currency assignment are as
//! the public drivers agree (hardware.md §9, [C]/[S]). The denomination mask's bit order (escrow
//! code `61` + bit of d1, a set bit refusing) is ours, [I]: the public drivers only send "take
//! everything". A head whose manual says otherwise needs only [`DenominationMask`] changed, and
//! the money rules return a note too large for what is due whatever the mask did.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod acceptor;
pub mod command;
pub mod config;
pub mod frame;
pub mod reply;
#[cfg(feature = "sim")]
pub mod sim;

pub use acceptor::{AcceptorError, BillAcceptor, CashDetail};
pub use command::{Command, DenominationMask};
pub use config::CashConfig;
pub use frame::Frame;
pub use reply::{Assignment, RejectReason, Reply, ReplyError, Status};
