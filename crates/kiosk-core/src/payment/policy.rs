//! Timers and retry limits of the payment machine. Defaults are the channels' official values
//! (payments.md §1.6, §2.3, §3.1); tests run the same machine with every duration scaled down.

use crate::channel::Channel;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How one channel is polled and reversed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelTiming {
    /// Wait after an unknown or "enter your PIN" reply before the first query.
    pub first_query_after: Duration,
    /// Gaps between queries; the last one repeats.
    pub query_intervals: Vec<Duration>,
    /// From the pay request: past this, an unpaid order is reversed.
    pub pay_deadline: Duration,
    /// From the pay request: never reverse earlier (WeChat asks for ≥ 15 s, payments.md §1.6).
    pub min_reverse_after: Duration,
    pub reverse_retry_after: Duration,
    /// Reverse attempts before the order is parked in SUSPENSE.
    pub reverse_max_attempts: u32,
}

/// Retries of a call whose outcome stayed unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retry {
    pub after: Duration,
    pub max_attempts: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub wechat: ChannelTiming,
    pub alipay: ChannelTiming,
    pub unionpay: ChannelTiming,
    pub bankcard: ChannelTiming,
    /// Write-off status queries and resends.
    pub write_off: Retry,
    /// Refunds with the same refund number.
    pub refund: Retry,
    /// Confirmations of a card write to the biller.
    pub card_confirm: Retry,
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            // WeChat: wait 5 s, query every 10 s up to 45 s, reverse no sooner than 15 s after
            // paying, retry reverse on error or recall=Y (the official demo: up to 10 times).
            wechat: ChannelTiming {
                first_query_after: secs(5),
                query_intervals: vec![secs(10)],
                pay_deadline: secs(45),
                min_reverse_after: secs(15),
                reverse_retry_after: secs(5),
                reverse_max_attempts: 10,
            },
            // Alipay: query every 3–6 s for about 60 s, cancel right after the last query.
            alipay: ChannelTiming {
                first_query_after: secs(3),
                query_intervals: vec![secs(5)],
                pay_deadline: secs(60),
                min_reverse_after: secs(0),
                reverse_retry_after: secs(3),
                reverse_max_attempts: 10,
            },
            // UnionPay: queries at 1, 2, 4, 8, 16, 32 s after sending.
            unionpay: ChannelTiming {
                first_query_after: secs(1),
                query_intervals: vec![secs(1), secs(2), secs(4), secs(8), secs(16)],
                pay_deadline: secs(63),
                min_reverse_after: secs(0),
                reverse_retry_after: secs(5),
                reverse_max_attempts: 10,
            },
            // Card terminal: allow about 120 s before treating a result as lost (payments.md §3.2).
            bankcard: ChannelTiming {
                first_query_after: secs(5),
                query_intervals: vec![secs(10)],
                pay_deadline: secs(120),
                min_reverse_after: secs(0),
                reverse_retry_after: secs(5),
                reverse_max_attempts: 10,
            },
            write_off: Retry { after: secs(10), max_attempts: 6 },
            refund: Retry { after: secs(10), max_attempts: 6 },
            card_confirm: Retry { after: secs(10), max_attempts: 6 },
        }
    }
}

impl Policy {
    pub fn timing(&self, channel: Channel) -> &ChannelTiming {
        match channel {
            Channel::WeChat => &self.wechat,
            Channel::Alipay => &self.alipay,
            Channel::UnionPay => &self.unionpay,
            Channel::BankCard => &self.bankcard,
        }
    }

    /// The same policy with every duration divided by `divisor` (tests run minutes in ms).
    pub fn scaled_down(&self, divisor: u32) -> Policy {
        let divisor = divisor.max(1);
        let channel = |t: &ChannelTiming| ChannelTiming {
            first_query_after: t.first_query_after / divisor,
            query_intervals: t.query_intervals.iter().map(|d| *d / divisor).collect(),
            pay_deadline: t.pay_deadline / divisor,
            min_reverse_after: t.min_reverse_after / divisor,
            reverse_retry_after: t.reverse_retry_after / divisor,
            reverse_max_attempts: t.reverse_max_attempts,
        };
        let retry = |r: &Retry| Retry { after: r.after / divisor, max_attempts: r.max_attempts };
        Policy {
            wechat: channel(&self.wechat),
            alipay: channel(&self.alipay),
            unionpay: channel(&self.unionpay),
            bankcard: channel(&self.bankcard),
            write_off: retry(&self.write_off),
            refund: retry(&self.refund),
            card_confirm: retry(&self.card_confirm),
        }
    }
}

impl ChannelTiming {
    /// The gap after the `queries`-th query (1-based); the schedule's last gap repeats.
    pub fn interval_after(&self, queries: u32) -> Duration {
        let index = (queries.max(1) as usize - 1).min(self.query_intervals.len().saturating_sub(1));
        self.query_intervals.get(index).copied().unwrap_or(Duration::from_secs(5))
    }
}
