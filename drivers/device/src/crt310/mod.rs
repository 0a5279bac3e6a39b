//! The Creator CRT-310 motorised card reader (hardware.md §2.1, §2.2): the one place its protocol
//! is written, for every driver built on it (`idcard`'s slot, `bankcard`'s slot, `iccard`'s
//! gas-card reader) and their simulators.
//!
//! ```text
//! frame      STX(02) LENH LENL CM PM data ETX(03) BCC     LEN ≤ 266 (CM PM + 264 data bytes)
//! exchange   command → ACK (NAK/silence: resend) → ENQ → reply;  EOT discontinues
//! reply      CM PM data…  |  4E CM E
//! ```
//!
//! | Module | Job |
//! |---|---|
//! | [`frame`] | building and finding frames, resynchronisation, the control bytes, the length rule |
//! | [`command`] | [`Command`]: every command sent to the reader, its text, and reading it back |
//! | [`reply`] | [`parse_reply`], [`ErrorCode`], [`CardPosition`], [`ReaderStatus`], [`Operation`] |
//! | [`exchange`] | [`Crt310Port`]: the ACK → ENQ → reply handshake with resends and EOT, typed [`ExchangeError`] |
//! | [`settings`] | its serial settings: 9600 8N1 unless the entry says otherwise |
//! | [`sim`] | the reader's side of the handshake for simulators, with its own [`sim::wire`] bytes |
//!
//! A slot that must never do something (the ID slot never captures) keeps its own smaller command
//! type that converts into [`Command`] (`From`), so the restriction is a compile error in that crate.

pub mod command;
pub mod exchange;
pub mod frame;
pub mod reply;
pub mod settings;
#[cfg(feature = "sim")]
pub mod sim;

pub use command::{Command, FrontEntry, MoveTo, ResetMode, SleCommand, MAX_READ};
pub use exchange::{decode_inbound, Crt310Port, DecodeError, ExchangeError, ExchangeTiming, Inbound};
pub use frame::{
    bcc, encode, resync, take_frame, take_unit, FrameError, Unit, ACK, ENQ, EOT, ETX, MAX_DATA, MAX_TEXT,
    NAK, STX, TEXT_LEN,
};
pub use reply::{parse_reply, CardPosition, ErrorCode, Operation, ReaderStatus, Reply, ReplyError, NEGATIVE};
