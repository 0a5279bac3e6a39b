//! Payment-channel clients of the Yizhan kiosk and the simulators they are tested against.
//!
//! - [`ChannelClients`] holds the configured [`WeChatClient`] (WeChat Pay v2 micropay, XML,
//!   HMAC-SHA256 or MD5), [`AlipayClient`] (当面付 barcode pay, RSA2) and [`UnionPayClient`] (UnionPay
//!   QR codes via an acquirer's ACP-style API, signMethod 11), and dispatches by
//!   [`kiosk_core::Channel`].
//! - Every wire answer becomes exactly one `kiosk_core` reply ([`PayReply`](kiosk_core::PayReply),
//!   [`QueryReply`](kiosk_core::QueryReply), [`ReverseReply`](kiosk_core::ReverseReply),
//!   [`RefundReply`](kiosk_core::RefundReply), [`RefundQueryReply`](kiosk_core::RefundQueryReply))
//!   per the tables of `specs/payments.md` §1–§3. No reply, a timeout, a 5xx, a malformed body, a
//!   bad signature or an unlisted code is "unknown"/"retry", never a failure (rule R3): a false
//!   "failed" invites a double charge.
//! - Every reply is checked against our order: one that names another order number or amount
//!   (the follow-up calls carry both in an [`OrderCall`]) is a `Mismatch`, never "paid"; a
//!   success without the fields the protocol guarantees is "unknown".
//! - Statements ([`StatementRow`]) are parsed from WeChat's downloadbill, Alipay's bill, the
//!   UnionPay acquirer's ZM file and the card acquirer's settlement file ([`card_acquirer`], the
//!   bank-card terminals' sales, fetched from the acquirer's portal); `ChannelClients::fetch_statement` hands one over as received,
//!   for the hub to keep, and [`parse_statement`] reads it.
//! - [`sim`] runs stateful simulators of the three channels on loopback, with fault injection and
//!   a ledger of the money they moved.
//!
//! Payment codes are bearer tokens: they go into the request body and nowhere else; logs carry the
//! order number only.

pub mod alipay;
mod beijing;
pub mod card_acquirer;
mod check;
mod clients;
mod config;
pub mod demo_keys;
mod request;
mod signed_text;
#[cfg(feature = "sim")]
pub mod sim;
mod statement;
mod transport;
pub mod unionpay;
pub mod wechat;

pub use alipay::AlipayClient;
pub use card_acquirer::CardAcquirerClient;
pub use clients::ChannelClients;
pub use config::{
    AlipayConfig, CardAcquirerConfig, ConfigError, PaymentsConfig, Secret, UnionPayConfig, WeChatConfig,
};
pub use request::{OrderCall, PayRequest, RefundRequest};
pub use secrecy::ExposeSecret;
pub use statement::{parse_statement, StatementError, StatementKind, StatementRow};
pub use unionpay::UnionPayClient;
pub use wechat::WeChatClient;

/// Logs a channel outcome by order number only: never the payment code, never the customer.
pub(crate) fn log_reply<T: std::fmt::Debug>(
    channel: &'static str,
    order: &kiosk_core::OrderRef,
    call: &'static str,
    reply: &T,
) {
    tracing::info!(channel, %order, call, reply = ?reply, "channel reply");
}
