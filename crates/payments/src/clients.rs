//! One entry point for the runtime: the configured clients, chosen by [`Channel`]. A channel that
//! is not configured (or the bank card, which the card-terminal driver owns) answers "unknown" /
//! "retry", never a failure: the payment machine then parks the order instead of misreporting it.

use crate::alipay::AlipayClient;
use crate::config::{ConfigError, PaymentsConfig};
use crate::request::{PayRequest, RefundRequest};
use crate::statement::{StatementError, StatementRow};
use crate::unionpay::UnionPayClient;
use crate::wechat::WeChatClient;
use chrono::NaiveDate;
use kiosk_core::{Channel, OrderRef, PayReply, QueryReply, RefundReply, ReverseReply, Ts};

/// The configured channel clients.
#[derive(Clone, Debug, Default)]
pub struct ChannelClients {
    pub wechat: Option<WeChatClient>,
    pub alipay: Option<AlipayClient>,
    pub unionpay: Option<UnionPayClient>,
}

fn unavailable(channel: Channel) -> String {
    match channel {
        Channel::BankCard => "bank card terminal not configured".to_string(),
        other => format!("{other} channel not configured"),
    }
}

impl ChannelClients {
    /// Builds a client for every channel present in `config`.
    pub fn new(config: &PaymentsConfig) -> Result<ChannelClients, ConfigError> {
        Ok(ChannelClients {
            wechat: config.wechat.as_ref().map(WeChatClient::new).transpose()?,
            alipay: config.alipay.as_ref().map(AlipayClient::new).transpose()?,
            unionpay: config.unionpay.as_ref().map(UnionPayClient::new).transpose()?,
        })
    }

    /// Pays through the channel of the scanned code.
    pub async fn pay(&self, request: &PayRequest) -> PayReply {
        let channel = request.code.channel();
        match (channel, &self.wechat, &self.alipay, &self.unionpay) {
            (Channel::WeChat, Some(client), _, _) => client.pay(request).await,
            (Channel::Alipay, _, Some(client), _) => client.pay(request).await,
            (Channel::UnionPay, _, _, Some(client)) => client.pay(request).await,
            _ => PayReply::Unknown { detail: unavailable(channel) },
        }
    }

    /// Queries the order. `sent_at` is when its pay was sent ([`PayRequest::sent_at`]): UnionPay
    /// finds a transaction by order number *and* that time; WeChat and Alipay ignore it.
    pub async fn query(&self, channel: Channel, order: &OrderRef, sent_at: Ts) -> QueryReply {
        match (channel, &self.wechat, &self.alipay, &self.unionpay) {
            (Channel::WeChat, Some(client), _, _) => client.query(order).await,
            (Channel::Alipay, _, Some(client), _) => client.query(order).await,
            (Channel::UnionPay, _, _, Some(client)) => client.query(order, sent_at).await,
            _ => QueryReply::Unknown { detail: unavailable(channel) },
        }
    }

    /// Reverse (WeChat), cancel (Alipay) or 消费撤销 (UnionPay). `sent_at` as for [`Self::query`].
    pub async fn reverse(&self, channel: Channel, order: &OrderRef, sent_at: Ts) -> ReverseReply {
        match (channel, &self.wechat, &self.alipay, &self.unionpay) {
            (Channel::WeChat, Some(client), _, _) => client.reverse(order).await,
            (Channel::Alipay, _, Some(client), _) => client.cancel(order).await,
            (Channel::UnionPay, _, _, Some(client)) => client.cancel(order, sent_at).await,
            _ => ReverseReply::Retry { detail: unavailable(channel) },
        }
    }

    pub async fn refund(&self, channel: Channel, request: &RefundRequest) -> RefundReply {
        match (channel, &self.wechat, &self.alipay, &self.unionpay) {
            (Channel::WeChat, Some(client), _, _) => client.refund(request).await,
            (Channel::Alipay, _, Some(client), _) => client.refund(request).await,
            (Channel::UnionPay, _, _, Some(client)) => client.refund(request).await,
            _ => RefundReply::Unknown { detail: unavailable(channel) },
        }
    }

    /// The channel's statement for Beijing day `date` (WeChat and Alipay publish one; the
    /// acquirer's file is not implemented yet).
    pub async fn statement(
        &self,
        channel: Channel,
        date: NaiveDate,
    ) -> Result<Vec<StatementRow>, StatementError> {
        match (channel, &self.wechat, &self.alipay) {
            (Channel::WeChat, Some(client), _) => client.statement(date).await,
            (Channel::Alipay, _, Some(client)) => client.statement(date).await,
            _ => Err(StatementError::NotConfigured { channel: channel.code() }),
        }
    }
}
