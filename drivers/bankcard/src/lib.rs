//! # bankcard: bank-card payments of the Yizhan kiosk
//!
//! The kiosk never handles a card number or a PIN: a certified terminal runs EMV and PIN entry
//! (hardware.md §6.1) and the kiosk, the "Sale system", sends amounts and our references over an
//! ECR link and gets results, masked card numbers and references back. The motorised slot moves
//! the card in and out and captures it only when the customer abandons it.
//!
//! | Module | Job |
//! |---|---|
//! | [`frame`] | typed values: [`TransType`], [`RespCode`] → [`Verdict`], [`IndustryInfo`] (our refs), [`MaskedPan`] |
//! | [`codec`] | `STX LEN(BCD) record ETX LRC` frames, ACK/NAK; the §6.4 request/response records field by field (GBK message) |
//! | [`transport`] | [`EcrLink`]: ACK/NAK per frame, retransmit, NAK damaged frames, over `device::Reconnecting` |
//! | [`store`] | what survives a power cut (armed reversal, approved purchases): the [`TerminalMemory`] trait the kiosk's journal implements, and [`InProcessMemory`] |
//! | [`driver`] | [`PaymentTerminal`]: `pay` / `query` (`sale`), `reverse` / `refund` (`undo`), the memory's records (`records`) → `kiosk_core` replies |
//! | [`slot`] | [`CardSlot`]: CRT-310 insert, "take your card", capture only when abandoned |
//! | [`config`] | [`BankCardConfig`], the `kiosk.toml` entry |
//! | [`sim`] | [`sim::TerminalSim`] (ledger, customers, §6.5 faults) and [`sim::SlotSim`] over ptys |
//!
//! ## Where our design fills gaps of the public record
//!
//! The acquirer's wire protocol behind `posinf.dll` is proprietary (hardware.md §6.4, §8). Our
//! framing, the `QL` (QUERY_LAST) and `RV` (reversal by reference) types, the record check and
//! the 4-byte response extension (reply-to, transaction type) are ours, marked [I] where defined.
//! Our order number travels in the industry-info field, which the terminal stores and echoes,
//! so a last-result answer names the order it is about.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod codec;
pub mod config;
pub mod driver;
pub mod frame;
#[cfg(feature = "sim")]
pub mod sim;
pub mod slot;
pub mod store;
pub mod transport;

pub use config::{BankCardConfig, SlotConfig, TerminalConfig};
pub use driver::{CardReceipt, PaymentTerminal, TerminalDetail, TerminalError, TerminalSettings};
pub use frame::{IndustryInfo, MaskedPan, RespCode, TransType, Verdict};
pub use slot::{CardReturn, CardSlot, Insertion, SlotError, SlotTiming};
pub use store::{
    ArmedReversal, CardTxn, InProcessMemory, MemoryError, OpState, RefundRecord, ReversalState,
    TerminalMemory,
};
pub use transport::{EcrLink, LinkError, LinkStats, LinkTiming};
