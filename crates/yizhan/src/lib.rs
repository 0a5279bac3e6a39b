//! The Yizhan kiosk runtime and the `yizhan` command line: configuration, the embedded back end,
//! the payment run loop around `kiosk-core`, recovery, reconciliation and logging.

pub mod backend;
pub mod card_memory;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
#[cfg(feature = "sim")]
pub mod device_admin;
pub mod devices;
pub mod hub_link;
pub mod ids;
pub mod journal_lock;
pub mod logging;
pub mod proof;
pub mod recon;
pub mod redact;
pub mod runtime;
pub mod service;
#[cfg(feature = "sim")]
pub mod soak;
pub mod stable_names;
pub mod staff_pin;
pub mod ui;
pub mod update;
