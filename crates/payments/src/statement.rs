//! Daily channel statements (对账单, payments.md §6) reduced to what reconciliation matches on.
//! The row types live in `kiosk_core::recon`, where the pure matching is; the clients here fetch
//! and parse the files into them.

pub use kiosk_core::recon::{StatementKind, StatementRow};
use kiosk_core::Channel;

/// Parses a statement file of `channel` as received ([`crate::ChannelClients::fetch_statement`]):
/// the same reading as the clients' own `statement` calls.
pub fn parse_statement(
    channel: Channel,
    bytes: &[u8],
    date: chrono::NaiveDate,
    merchant: &str,
) -> Result<Vec<StatementRow>, StatementError> {
    match channel {
        Channel::WeChat => crate::wechat::bill::parse_file(bytes),
        Channel::Alipay => crate::alipay::bill::parse_zip(bytes),
        Channel::UnionPay => crate::unionpay::file::parse_received(bytes, date, merchant),
        Channel::BankCard => crate::card_acquirer::file::parse(bytes, merchant, date),
        Channel::Cash => Err(StatementError::NotConfigured { channel: channel.code() }),
    }
}

/// Why a statement could not be fetched or read. Reconciliation retries later; it never guesses.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("{channel} statement: channel not configured")]
    NotConfigured { channel: &'static str },
    #[error("{channel} statement: {detail}")]
    Fetch { channel: &'static str, detail: String },
    /// The downloaded file could not be unpacked or decoded, or its parts disagree.
    #[error("{channel} statement file: {detail}")]
    Archive { channel: &'static str, detail: String },
    #[error("{channel} statement line {line}: {detail}")]
    Malformed { channel: &'static str, line: usize, detail: String },
}
