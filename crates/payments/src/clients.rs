//! One entry point for the runtime: the configured clients, chosen by [`Channel`]. A channel that
//! is not configured (or the bank card, which the card-terminal driver owns) answers "unknown" /
//! "retry", never a failure: the payment machine then parks the order instead of misreporting it.

use crate::alipay::AlipayClient;
use crate::card_acquirer::CardAcquirerClient;
use crate::config::{ConfigError, PaymentsConfig};
use crate::request::{OrderCall, PayRequest, RefundRequest};
use crate::statement::{StatementError, StatementRow};
use crate::unionpay::UnionPayClient;
use crate::wechat::WeChatClient;
use chrono::NaiveDate;
use kiosk_core::{Channel, PayReply, QueryReply, RefundQueryReply, RefundReply, ReverseReply, Ts};

/// The configured channel clients.
#[derive(Clone, Debug, Default)]
pub struct ChannelClients {
    pub wechat: Option<WeChatClient>,
    pub alipay: Option<AlipayClient>,
    pub unionpay: Option<UnionPayClient>,
    /// The card acquirer's portal: statements only (the terminal driver takes card payments).
    pub card_acquirer: Option<CardAcquirerClient>,
}

fn unavailable(channel: Channel) -> String {
    match channel {
        Channel::BankCard => "bank card terminal not configured".to_string(),
        other => format!("{other} channel not configured"),
    }
}

/// `$call` on the configured client of a payment-code channel (the three clients have the same
/// methods but no common type). A channel that is not configured answers `else $absent`, or
/// `$Reply::Unknown` saying so.
macro_rules! on_code_channel {
    ($clients:expr, $channel:expr, |$client:ident| $call:expr, else $absent:expr) => {
        match ($channel, &$clients.wechat, &$clients.alipay, &$clients.unionpay) {
            (Channel::WeChat, Some($client), _, _) => $call,
            (Channel::Alipay, _, Some($client), _) => $call,
            (Channel::UnionPay, _, _, Some($client)) => $call,
            _ => $absent,
        }
    };
    ($clients:expr, $channel:expr, |$client:ident| $call:expr, $Reply:ident) => {
        on_code_channel!($clients, $channel, |$client| $call, else $Reply::Unknown {
            detail: unavailable($channel)
        })
    };
}

impl ChannelClients {
    /// Builds a client for every channel present in `config`.
    pub fn new(config: &PaymentsConfig) -> Result<ChannelClients, ConfigError> {
        Ok(ChannelClients {
            wechat: config.wechat.as_ref().map(WeChatClient::new).transpose()?,
            alipay: config.alipay.as_ref().map(AlipayClient::new).transpose()?,
            unionpay: config.unionpay.as_ref().map(UnionPayClient::new).transpose()?,
            card_acquirer: config.card_acquirer.as_ref().map(CardAcquirerClient::new).transpose()?,
        })
    }

    /// Whether any configured payment-code channel can be reached now; none configured, none
    /// can. When none can, a payment code cannot be paid here and cash is offered first.
    pub async fn any_reachable(&self) -> bool {
        let (wechat, alipay, unionpay) = tokio::join!(
            async { matches!(&self.wechat, Some(c) if c.reaches().await) },
            async { matches!(&self.alipay, Some(c) if c.reaches().await) },
            async { matches!(&self.unionpay, Some(c) if c.reaches().await) },
        );
        wechat || alipay || unionpay
    }

    /// Pays through the channel of the scanned code.
    pub async fn pay(&self, request: &PayRequest) -> PayReply {
        let channel = request.code.channel();
        on_code_channel!(self, channel, |client| client.pay(request).await, PayReply)
    }

    /// Queries the order `call` names. The reply must name our order number and amount; one
    /// about another is [`QueryReply::Mismatch`]. UnionPay finds the consume by order number
    /// *and* `call.sent_at`; WeChat and Alipay ignore the time.
    pub async fn query(&self, channel: Channel, call: &OrderCall) -> QueryReply {
        on_code_channel!(self, channel, |client| client.query(call).await, QueryReply)
    }

    /// Reverse (WeChat), cancel (Alipay) or 消费撤销 (UnionPay) of the order `call` names.
    /// `reverse_sent_at` is when the first attempt of this reverse was sent, journaled and passed
    /// unchanged on every retry: UnionPay's cancel is a transaction of its own, named by its
    /// `orderId` and this `txnTime`, so a retry with the same time is a replay. WeChat and Alipay
    /// reverse by order number and ignore it.
    pub async fn reverse(&self, channel: Channel, call: &OrderCall, reverse_sent_at: Ts) -> ReverseReply {
        match (channel, &self.wechat, &self.alipay, &self.unionpay) {
            (Channel::WeChat, Some(client), _, _) => client.reverse(call).await,
            (Channel::Alipay, _, Some(client), _) => client.cancel(call).await,
            (Channel::UnionPay, _, _, Some(client)) => client.cancel(call, reverse_sent_at).await,
            _ => ReverseReply::Retry { detail: unavailable(channel) },
        }
    }

    /// Refunds with the stable refund number (and, for UnionPay, the refund's own first send
    /// time [`RefundRequest::sent_at`]). WeChat and UnionPay only *accept* a refund
    /// ([`RefundReply::Accepted`]); [`Self::refund_status`] tells when it has arrived.
    pub async fn refund(&self, channel: Channel, request: &RefundRequest) -> RefundReply {
        on_code_channel!(self, channel, |client| client.refund(request).await, RefundReply)
    }

    /// Where the refund `request` names stands: WeChat `refundquery` by `out_refund_no`, UnionPay
    /// query of the 退货's own `orderId` and `txnTime`, Alipay `fastpay.refund.query` by
    /// `out_trade_no` + `out_request_no`.
    pub async fn refund_status(&self, channel: Channel, request: &RefundRequest) -> RefundQueryReply {
        on_code_channel!(self, channel, |client| client.refund_status(request).await, RefundQueryReply)
    }

    /// `channel`'s statement of `date` as received, before anything reads it (the hub keeps it
    /// whole, with its hash, then parses it with [`crate::parse_statement`]); the account it is
    /// of is the channel's in [`ChannelClients::merchants`].
    pub async fn fetch_statement(
        &self,
        channel: Channel,
        date: NaiveDate,
    ) -> Result<Vec<u8>, StatementError> {
        let not_configured = Err(StatementError::NotConfigured { channel: channel.code() });
        match (channel, &self.card_acquirer) {
            (Channel::BankCard, Some(c)) => c.fetch_statement(date).await,
            (Channel::BankCard, None) => not_configured,
            _ => on_code_channel!(self, channel, |c| c.fetch_statement(date).await, else not_configured),
        }
    }

    /// Each configured channel's merchant account (`mch_id`, app id, `merId`, the card
    /// acquirer's 商户号).
    pub fn merchants(&self) -> Vec<(Channel, String)> {
        let mut out = Vec::new();
        if let Some(c) = &self.wechat {
            out.push((Channel::WeChat, c.merchant().to_string()));
        }
        if let Some(c) = &self.alipay {
            out.push((Channel::Alipay, c.merchant().to_string()));
        }
        if let Some(c) = &self.unionpay {
            out.push((Channel::UnionPay, c.merchant().to_string()));
        }
        if let Some(c) = &self.card_acquirer {
            out.push((Channel::BankCard, c.merchant().to_string()));
        }
        out
    }

    /// The fee rate the merchant account of `channel` agreed, if configured.
    pub fn fee_rate(&self, channel: Channel) -> Option<kiosk_core::recon::FeeRate> {
        let ppm = match channel {
            Channel::WeChat => self.wechat.as_ref().and_then(|c| c.fee_rate_ppm()),
            Channel::Alipay => self.alipay.as_ref().and_then(|c| c.fee_rate_ppm()),
            Channel::UnionPay => self.unionpay.as_ref().and_then(|c| c.fee_rate_ppm()),
            Channel::BankCard => self.card_acquirer.as_ref().and_then(|c| c.fee_rate_ppm()),
            Channel::Cash => None,
        };
        ppm.map(|ppm| kiosk_core::recon::FeeRate { ppm })
    }

    /// The channel's statement for Beijing day `date`, parsed (WeChat's bill, Alipay's bill, the
    /// acquirer's ZM file, the card acquirer's settlement file).
    pub async fn statement(
        &self,
        channel: Channel,
        date: NaiveDate,
    ) -> Result<Vec<StatementRow>, StatementError> {
        match (channel, &self.wechat, &self.alipay, &self.unionpay) {
            (Channel::WeChat, Some(client), _, _) => client.statement(date).await,
            (Channel::Alipay, _, Some(client), _) => client.statement(date).await,
            (Channel::UnionPay, _, _, Some(client)) => client.statement(date).await,
            (Channel::BankCard, ..) => match &self.card_acquirer {
                Some(client) => client.statement(date).await,
                None => Err(StatementError::NotConfigured { channel: channel.code() }),
            },
            _ => Err(StatementError::NotConfigured { channel: channel.code() }),
        }
    }
}
