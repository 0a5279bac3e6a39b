//! Creator CRT-310 motorised card reader (hardware.md §2.1–2.2): typed frames, codec, driver.

pub mod codec;
pub mod driver;
pub mod frame;

pub use driver::{Crt310Reader, Crt310Timing};
pub use frame::{
    CardPosition, Command, ErrorCode, IcType, MoveTo, OpResult, ReaderStatus, Reply, ResetMode, SleCommand,
};
