//! USB CCID contact reader (hardware.md §3.1) with ACR38-style SLE4442 pseudo-APDUs (§3.2).

pub mod apdu;
pub mod codec;
pub mod driver;
pub mod frame;
pub mod usb;

pub use driver::CcidReader;
pub use frame::{PcToRdr, RdrToPc};
