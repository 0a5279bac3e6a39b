//! # iccard: the kiosk's IC card slot and the gas-card top-up
//!
//! Architecture rules 3–4: each reader is `frame` → `codec` → `driver` over [`device`]'s
//! transports, with a simulator speaking the same bytes on a pty.
//!
//! | Module | Job |
//! |---|---|
//! | [`crt310`] | the gas-card reader on a Creator CRT-310 (hardware.md §2; frames, commands and the ACK–ENQ exchange are `device::crt310`'s): insert/hold/eject/capture, IC power, SLE4442 pass-through, retries of harmless commands |
//! | [`ccid`] | USB CCID reader: `PC_to_RDR_*` / `RDR_to_PC_*` messages, ACR38 pseudo-APDUs, class descriptor via rusb (hardware.md §3.1) |
//! | [`reader`] | [`ContactReader`], the one interface both implement; [`Psc`] |
//! | [`sle4442`] | read, PSC verify that never spends the last attempt, write with read-back (§3.2) |
//! | [`gas`] | the synthetic gas-card layout and top-up rules (§3.3, payments.md §5) |
//! | [`driver`] | [`IcCardReader`]: `read_gas_card`, `write_purchase`, eject, capture, status |
//! | [`config`] | [`IcCardConfig`], the `kiosk.toml` entry |
//! | [`sim`] | pty simulators of both readers with a real SLE4442 card model and a gas meter model |
//!
//! ```no_run
//! # async fn demo(cfg: iccard::IcCardConfig, data: kiosk_core::CardWriteData) -> Result<(), iccard::CardError> {
//! let mut slot = iccard::IcCardReader::from_config(&cfg)?;
//! let card = slot.read_gas_card().await?;          // card_no, user_no (masked), count, loaded
//! // ... pay; the biller answers with `data` for purchase no. card.purchase_count + 1 ...
//! slot.write_purchase_for(&card.purchase(), &data).await?; // written, read back, verified
//! slot.eject().await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod ccid;
pub mod config;
pub mod crt310;
pub mod driver;
pub mod error;
pub mod gas;
pub mod reader;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sle4442;

pub use config::{IcCardConfig, ReaderKind};
pub use driver::{AnyReader, FixedPsc, IcCardReader, IcSlotDetail, PscSource};
pub use error::{CardError, CardKind, DecodeError, ReaderError};
pub use gas::{GasCard, UserNo};
pub use reader::{CardPresence, ContactReader, Psc, PscAnswer};
