//! The motorised ID slot: a CRT-310-family reader used for transport only (hardware.md §1.8,
//! §2.1, §2.2). The SAM reads the card over RF while the slot holds it at the RF position.
//!
//! | Module | Job |
//! |---|---|
//! | [`codec`] | the slot's commands, a subset of [`device::crt310::Command`] with no capture command |
//! | [`port`] | [`SlotPort`]: the commands through the shared exchange, the slot's deadlines, typed [`SlotError`] |
//! | [`service`] | the slot task and its [`SlotHandle`]: queued commands, pre-emptive forced eject |
//!
//! The command set is this crate's own and small: the ID slot needs eight commands and must be
//! unable to express capture, which a general card-reader command set must be able to do.
//! Frames, the ACK → ENQ → reply handshake with its EOT abort, and the reading of replies are the
//! ones every CRT-310 driver shares ([`device::crt310`]).

pub mod codec;
pub mod port;
pub mod service;

pub use codec::{CardPosition, Entry, ErrorCode, Operation, Position, Reply, ResetMode, SlotCommand};
pub use port::{SlotError, SlotPort, SlotStatus, SlotTiming};
pub use service::{SlotHandle, SlotTask};
