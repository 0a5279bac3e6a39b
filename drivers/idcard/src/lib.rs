//! # idcard: the resident ID card reader of the Yizhan kiosk
//!
//! A GA/T 467 SAM module (hardware.md §1) in a motorised CRT-310-family slot (§1.8, §2), with a
//! red "hold 3 seconds to get your card back" button. Three layers (architecture rule 4), the
//! slot and the button, and a simulator:
//!
//! | Module | Job |
//! |---|---|
//! | [`frame`] | typed SAM values: [`Command`], [`Sw3`] (all 20 codes of §1.4), [`SamError`] with zh/en words, [`Reply`] |
//! | [`codec`] | SAM frames: `encode`, `decode(&mut BytesMut) -> Result<Option<Reply>, DecodeError>`, resync |
//! | [`text`] | the 256-byte UCS-2LE block → [`IdCard`]; ISO 7064 MOD 11-2, birth date check; masking; wipe on drop |
//! | [`slot`] | the slot's CRT-310 commands (no capture command), spoken through `device::crt310`; the slot task with pre-emptive forced eject |
//! | [`button`] | the sans-IO debounce/hold [`ButtonMachine`], `BTN 1`/`BTN 0` lines, modem-line input, the button task |
//! | [`driver`] | [`IdCardReader`]: `read_card(deadline)`, `eject()`, `device_status()` |
//! | [`config`] | [`IdReaderConfig`], the `kiosk.toml` entry |
//! | [`event`] | [`IdEvent`]: button pressed, forced eject, card ejected, … |
//! | [`sim`] | [`sim::IdSim`]: SAM + slot + button on three ptys, synthetic identities, faults |
//!
//! ## Using it
//!
//! ```no_run
//! # async fn demo(cfg: idcard::IdReaderConfig) -> Result<(), idcard::IdError> {
//! use std::time::Duration;
//! let mut reader = idcard::IdCardReader::from_config(&cfg)?; // spawns the slot + button tasks
//! let mut events = reader.subscribe().expect("configured with a slot");
//! let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
//! match reader.read_card(deadline).await {
//!     Ok(card) => {
//!         println!("{card}"); // "张* 3101**********1234": Display is masked
//!         // ... use card.name(), card.id_number().expose() for the account lookup ...
//!         reader.eject().await?; // card to the gate, held
//!     } // `card` dropped here: every field overwritten with zeros
//!     Err(e) => println!("{}", e.message().bilingual(" / ")),
//! }
//! # let _ = events.try_recv(); Ok(()) }
//! ```
//!
//! ## Forced eject
//!
//! The button task ([`button`]) and the slot task ([`slot::service`]) are spawned by
//! [`IdCardReader::from_config`] and own their ports, so a busy or hung caller does not stop
//! them. A press held 3000 ms (50 ms debounce) calls [`SlotHandle::force_eject`]: the slot task
//! drops the command it is running, sends EOT, ejects to the gate and holds
//! ([`IdEvent::CardEjected`]); any `read_card` in progress returns [`IdError::ForceEjected`].
//! See [`button`] for the wiring.
//!
//! ## Personal data
//!
//! [`IdCard`] fields and raw SAM payloads are wiped on drop, `Debug`/`Display` are masked, no
//! error or event carries field contents, and logs name commands and counts only. The receive
//! buffers are wiped after decoding. Not covered: copies in the kernel's tty buffers and in
//! whatever the caller makes of `name()` / `expose()`.
//!
//! ## Tests
//!
//! `cargo test -p idcard` runs the literal-frame codec tests, property tests (256 cases each),
//! the text block and checksum tests, the button state machine, and the pty end-to-end tests
//! (read a card, forced eject mid-read after 3 s, a 2.9 s press that does nothing, faults).
//! `cargo test -p idcard --test fuzz -- --ignored` pushes 1,000,000 generated inputs
//! through every decoder.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod button;
pub mod codec;
pub mod config;
pub mod driver;
pub mod event;
pub mod frame;
#[doc(hidden)]
pub mod fuzz;
#[cfg(feature = "sim")]
pub mod sim;
pub mod slot;
pub mod text;

pub use button::{ButtonMachine, ButtonOutput, ButtonTiming};
pub use codec::DecodeError;
pub use config::{ButtonConfig, ButtonKind, IdReaderConfig, SlotConfig};
pub use driver::{IdCardReader, IdError, IdReaderDetail, ReaderTiming};
pub use event::IdEvent;
pub use frame::{Command, Reply, SamError, Sw3};
pub use slot::{SlotError, SlotHandle};
pub use text::{Date, IdCard, IdNumber, Nation, Sex, TextError, ValidTo};
