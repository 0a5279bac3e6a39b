//! The pure heart of the Yizhan kiosk: money, bills, orders and the payment state machine.
//!
//! Nothing in this crate does I/O, reads a clock or spawns a task. The runtime (`crates/yizhan`)
//! feeds events in, journals the state that comes out, and only then carries out the effects.

pub mod bill;
pub mod card_terminal;
pub mod cash;
pub mod channel;
pub mod money;
pub mod order;
pub mod outcome;
pub mod payment;
pub mod receipt;
pub mod recon;
pub mod scratch_pool;
pub mod session;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod utility;

pub use bill::{Bill, CardPurchase, JointBill, PastPayment};
pub use channel::{route_payment_code, Channel, CodeError, PaymentCode};
pub use money::Fen;
pub use order::{CashSplit, LineKind, Order, OrderLine, OrderRef};
pub use outcome::*;
pub use payment::{Effect, Event, Payment, Policy, Settlement, StaffOutcome, State, Stepped};
pub use time::Ts;
pub use utility::{AccountNo, AccountRule, Utility};
