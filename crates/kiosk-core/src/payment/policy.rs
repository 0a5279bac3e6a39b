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
    /// From the pay request: past this the customer's payment code has expired, so a pay
    /// request the channel never saw can no longer charge anyone. `None` for the bank card
    /// terminal, which has no such code (its own last-result query settles it).
    pub code_expires_after: Option<Duration>,
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
    /// Gaps between refund queries of an accepted refund; the last one repeats for ever.
    pub refund_checks: Vec<Duration>,
    /// Gaps between online checks of a payment in SUSPENSE (query the channel, the biller, resend
    /// a refund with its same number); the last one repeats until staff or the statements settle it.
    pub suspense_checks: Vec<Duration>,
}

/// The `n`-th gap (0-based) of a backoff schedule; the last one repeats.
pub fn backoff(schedule: &[Duration], n: u32) -> Duration {
    let index = (n as usize).min(schedule.len().saturating_sub(1));
    schedule.get(index).copied().unwrap_or(Duration::from_secs(3600))
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

/// Payment codes are valid for about a minute (payments.md §2.2 [A8]: Alipay's ≈1 min; WeChat's
/// and UnionPay's codes refresh every minute as well). Twice that leaves room for a request
/// delayed in the network and for the kiosk's clock.
const CODE_EXPIRES_AFTER: Option<Duration> = Some(secs(120));

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
                code_expires_after: CODE_EXPIRES_AFTER,
            },
            // Alipay: query every 3–6 s for about 60 s, cancel right after the last query.
            alipay: ChannelTiming {
                first_query_after: secs(3),
                query_intervals: vec![secs(5)],
                pay_deadline: secs(60),
                min_reverse_after: secs(0),
                reverse_retry_after: secs(3),
                reverse_max_attempts: 10,
                code_expires_after: CODE_EXPIRES_AFTER,
            },
            // UnionPay: six queries, at 1, 2, 4, 8, 16 and 32 s after sending, then the cancel
            // (payments.md §3.1, the official demo's schedule).
            unionpay: ChannelTiming {
                first_query_after: secs(1),
                query_intervals: vec![secs(1), secs(2), secs(4), secs(8), secs(16)],
                pay_deadline: secs(32),
                min_reverse_after: secs(0),
                reverse_retry_after: secs(5),
                reverse_max_attempts: 10,
                code_expires_after: CODE_EXPIRES_AFTER,
            },
            // Card terminal: allow about 120 s before treating a result as lost (payments.md §3.2).
            bankcard: ChannelTiming {
                first_query_after: secs(5),
                query_intervals: vec![secs(10)],
                pay_deadline: secs(120),
                min_reverse_after: secs(0),
                reverse_retry_after: secs(5),
                reverse_max_attempts: 10,
                code_expires_after: None,
            },
            write_off: Retry { after: secs(10), max_attempts: 6 },
            refund: Retry { after: secs(10), max_attempts: 6 },
            card_confirm: Retry { after: secs(10), max_attempts: 6 },
            // A refund to the wallet balance arrives in about 20 minutes, to a bank card in days
            // (payments.md §1.8).
            refund_checks: vec![mins(1), mins(5), mins(20), mins(60), mins(180), mins(720)],
            // Suspense is asked again within the hour, then over days until the statements come.
            suspense_checks: vec![mins(2), mins(10), mins(30), mins(120), mins(360), mins(720)],
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
            // Cash is in the box before its payment exists: it is never sent, queried or
            // reversed, so no cash timing is ever read; the terminal's stands in.
            Channel::Cash => &self.bankcard,
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
            code_expires_after: t.code_expires_after.map(|d| d / divisor),
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
            refund_checks: self.refund_checks.iter().map(|d| *d / divisor).collect(),
            suspense_checks: self.suspense_checks.iter().map(|d| *d / divisor).collect(),
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
