//! What one seed plays: its customers, the faults waiting for each, and where the power fails.
//! Everything comes from the seed through one small generator, so a seed is a replay.

use crate::runtime::crash_point::Cut;
use kiosk_core::{Channel, Utility};
use payments::sim::RefundEnding;
use serde::{Deserialize, Serialize};
use simkit::rng::SplitMix64;
use simkit::Fault;

/// The seed's generator ([`simkit::rng::SplitMix64`]), with what the schedule asks of it.
#[derive(Clone, Debug)]
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed ^ 0x9E37_79B9_7F4A_7C15))
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.0.chance(percent, 100)
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        self.0.pick(items)
    }
}

/// What a customer pays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Bill {
    One {
        utility: Utility,
        due_fen: i64,
    },
    /// The joint bill of a household: water, power, gas.
    Joint {
        water: i64,
        power: i64,
        gas: i64,
    },
    /// Gas bought for the household's prepaid card and written to it (payments.md §5).
    GasTopUp {
        amount_fen: i64,
    },
}

/// A fault waiting at one endpoint of one simulator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedFault {
    /// `wechat`, `alipay`, `unionpay`, or a utility's biller (`water`, `power`, `gas`).
    pub sim: String,
    pub endpoint: String,
    pub fault: Fault,
    pub times: u32,
}

/// What goes wrong at the bank card terminal (payments.md F15), for a bank-card customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TerminalTrouble {
    /// Approved, the answer never sent.
    AnswerLost,
    /// The sale never reached the terminal.
    RequestLost,
    /// Still in progress for this many last-result polls.
    Slow(u32),
}

/// What a customer paying in notes does at the banknote acceptor (channel `Cash`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CashVisit {
    /// The notes put in, in yuan, in order. Less than the bill is a customer who walks away
    /// once they are dealt with; more is prepayment, or a note given back.
    pub notes: Vec<u32>,
    /// The bill's accounts take another amount than the one due (more as 预存, less in part).
    #[serde(default)]
    pub prepayment: bool,
    /// What the acceptor does to one of the notes.
    #[serde(default)]
    pub trouble: Option<NoteTrouble>,
}

/// What goes wrong at the banknote acceptor (hardware.md §9), for a customer paying in notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoteTrouble {
    /// A note jams on its way into the box (STACKER JAM): held for staff, never credited.
    JamInStacker,
    /// A note jams in the reader (ACCEPTOR JAM).
    JamInAcceptor,
    /// The kiosk's ACK of VEND VALID is lost on the line: the head says it again.
    AckLost,
    /// A note pulled back on a string (CHEATED).
    Cheat,
    /// A note the head refuses with this reason code (`71`…`7E`), among the genuine ones.
    Suspect(u8),
}

/// One customer of the day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub bill: Bill,
    /// `Channel::BankCard` pays at the terminal, `Channel::Cash` in notes ([`Customer::cash`]),
    /// the others with a payment code.
    pub channel: Channel,
    /// The notes of a customer who pays in cash.
    #[serde(default)]
    pub cash: Option<CashVisit>,
    #[serde(default)]
    pub terminal: Option<TerminalTrouble>,
    #[serde(default)]
    pub faults: Vec<PlannedFault>,
    /// Someone pays part of the bill at the counter after it was shown (F17).
    #[serde(default)]
    pub paid_elsewhere_fen: Option<i64>,
    /// The power fails while this customer pays.
    #[serde(default)]
    pub cut: Option<Cut>,
    /// Gas top-up: the card is pulled out of the slot after this many bytes of its write (F16).
    #[serde(default)]
    pub card_pulled_after: Option<usize>,
    /// Gas top-up: after a failed card write the customer asks for 补写卡 at once (else at the
    /// end of the day, or before their next top-up).
    #[serde(default)]
    pub rewrites_at_once: bool,
    /// The disk fills up while this customer pays (the journal's next new page fails); staff
    /// free space afterwards.
    #[serde(default)]
    pub disk_full: bool,
    /// The power fails again during the recovery after this customer.
    #[serde(default)]
    pub recovery_cut: Option<Cut>,
    /// The kiosk's clock is stepped while this customer pays.
    #[serde(default)]
    pub clock_jump: Option<ClockJump>,
    /// A loose serial cable to the device this customer uses (the bank card terminal, the IC
    /// slot for a top-up, the banknote acceptor): garbage bursts, truncated, duplicated
    /// replies, bad checksums, seeded.
    #[serde(default)]
    pub line_noise: Option<u64>,
    /// The next refund the channel takes on fails for good (WeChat CHANGE / REFUNDCLOSE, the
    /// acquirer's failed 退货) instead of paying out.
    #[serde(default)]
    pub refund_fails: Option<RefundEnding>,
}

/// A step of the kiosk's clock (NTP correcting it, a real-time clock reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockJump {
    /// Real time after the customer starts paying.
    pub after_ms: u64,
    /// Forward (positive) or back.
    pub by_ms: i64,
}

impl Customer {
    /// Whether where a timer fires decides this customer's outcome: a PIN entered after a set
    /// time, a reply late around the client's timeout, a clock step, polls counted against a
    /// deadline. Timing is real (scaled
    /// down), so such a day may end differently between runs — within the invariants.
    pub fn races_a_timer(&self) -> bool {
        // How many polls fit before a deadline decides which of them a noisy line or "every
        // query lost until the kiosk gives up" hits, and so where a cut after n calls falls.
        let polls_race =
            self.line_noise.is_some() || self.faults.iter().any(|f| f.endpoint == "query" && f.times > 2);
        let timed =
            |f: &PlannedFault| matches!(f.fault, Fault::UserPaying { ms: Some(_) } | Fault::Delay { .. });
        polls_race || self.clock_jump.is_some() || self.faults.iter().any(timed)
    }
}

/// The day of one seed.
pub fn customers(seed: u64, max_customers: u64) -> Vec<Customer> {
    let mut rng = Rng::new(seed);
    let count = 1 + rng.below(max_customers.max(1));
    (0..count).map(|_| customer(&mut rng)).collect()
}

fn amount(rng: &mut Rng) -> i64 {
    // 1.00 to 300.00 yuan, in fen.
    100 + rng.below(29_900) as i64
}

fn customer(rng: &mut Rng) -> Customer {
    let mut bill = if rng.chance(20) {
        Bill::Joint { water: amount(rng), power: amount(rng), gas: amount(rng) }
    } else if rng.chance(20) {
        // Whole yuan, 10 to 300: inside the demo gas card's limits.
        Bill::GasTopUp { amount_fen: 100 * (10 + rng.below(291) as i64) }
    } else {
        Bill::One { utility: rng.pick(&[Utility::Water, Utility::Power, Utility::Gas]), due_fen: amount(rng) }
    };
    let channel =
        rng.pick(&[Channel::WeChat, Channel::Alipay, Channel::UnionPay, Channel::BankCard, Channel::Cash]);
    let cash = (channel == Channel::Cash).then(|| cash_visit(rng, &mut bill));
    let terminal = (channel == Channel::BankCard && rng.chance(40)).then(|| match rng.below(3) {
        0 => TerminalTrouble::AnswerLost,
        1 => TerminalTrouble::RequestLost,
        _ => TerminalTrouble::Slow(1 + rng.below(3) as u32),
    });
    let mut faults = Vec::new();
    for _ in 0..rng.below(3) {
        faults.extend(fault(rng, channel, &bill));
    }
    // The terminal's and the acceptor's troubles are their own; neither has an HTTP simulator.
    faults.retain(|f| f.sim != Channel::BankCard.code() && f.sim != Channel::Cash.code());
    let paid_elsewhere_fen =
        (matches!(bill, Bill::One { .. }) && rng.chance(8)).then(|| 50 + rng.below(40) as i64);
    let cut = if rng.chance(35) {
        let n = 1 + rng.below(8) as u32;
        Some(if rng.chance(60) { Cut::AfterCommit(n) } else { Cut::AfterCall(n.min(5)) })
    } else {
        None
    };
    let is_top_up = matches!(bill, Bill::GasTopUp { .. });
    // Offsets across the card write (its header, data and commit bytes).
    let card_pulled_after = (is_top_up && rng.chance(30)).then(|| rng.below(40) as usize);
    let rewrites_at_once = rng.chance(50);
    let disk_full = rng.chance(10);
    let recovery_cut = rng.chance(15).then(|| {
        let n = 1 + rng.below(4) as u32;
        if rng.chance(50) {
            Cut::AfterCommit(n)
        } else {
            Cut::AfterCall(n)
        }
    });
    let refund_fails = (matches!(channel, Channel::WeChat | Channel::UnionPay) && rng.chance(10))
        .then(|| rng.pick(&[RefundEnding::Change, RefundEnding::RefundClose]));
    let uses_a_serial_device = matches!(channel, Channel::BankCard | Channel::Cash) || is_top_up;
    let line_noise = (uses_a_serial_device && rng.chance(15)).then(|| rng.below(u64::MAX));
    let clock_jump = rng.chance(10).then(|| ClockJump {
        after_ms: rng.below(300),
        // Forward up to ten minutes, or back up to two seconds (a kiosk waits out a step back).
        by_ms: if rng.chance(70) {
            1_000 + rng.below(600_000) as i64
        } else {
            -(1 + rng.below(2_000) as i64)
        },
    });
    Customer {
        bill,
        channel,
        cash,
        terminal,
        faults,
        paid_elsewhere_fen,
        cut,
        card_pulled_after,
        rewrites_at_once,
        disk_full,
        recovery_cut,
        clock_jump,
        line_noise,
        refund_fails,
    }
}

/// The test kiosk's acceptor takes these notes (yuan), largest first.
const NOTES: [u32; 4] = [100, 50, 20, 10];

/// A cash customer's notes for `bill`. Without prepayment the bill is made payable in notes
/// (whole tens of yuan) but for one customer in ten, whom the kiosk must refuse before the first
/// note; then the notes make the amount exactly, or fall short (a customer who walks away), or
/// go over (prepayment, or a note given back), with one in three meeting trouble at the head.
fn cash_visit(rng: &mut Rng, bill: &mut Bill) -> CashVisit {
    // A top-up is a purchase of another amount only when the customer chooses it: whole notes.
    let prepayment = !matches!(bill, Bill::GasTopUp { .. }) && rng.chance(50);
    if !prepayment && !rng.chance(10) {
        let tens = |fen: &mut i64| *fen = (*fen / 1_000).max(1) * 1_000;
        match bill {
            Bill::One { due_fen, .. } => tens(due_fen),
            Bill::Joint { water, power, gas } => [water, power, gas].into_iter().for_each(tens),
            Bill::GasTopUp { amount_fen } => tens(amount_fen),
        }
    }
    let due = match bill {
        Bill::One { due_fen, .. } => *due_fen,
        Bill::Joint { water, power, gas } => *water + *power + *gas,
        Bill::GasTopUp { amount_fen } => *amount_fen,
    };
    let mut notes = Vec::new();
    let mut left = due;
    while left > 0 {
        let yuan = NOTES.iter().copied().find(|y| i64::from(*y) * 100 <= left).unwrap_or(10);
        notes.push(yuan);
        left -= i64::from(yuan) * 100;
    }
    match rng.below(10) {
        // Walks away with notes still in the purse.
        0..=1 => notes.truncate(rng.below(notes.len() as u64) as usize),
        // One note more than needed.
        2..=3 => notes.push(rng.pick(&NOTES)),
        _ => {}
    }
    let trouble = rng.chance(35).then(|| match rng.below(5) {
        0 => NoteTrouble::JamInStacker,
        1 => NoteTrouble::JamInAcceptor,
        2 => NoteTrouble::AckLost,
        3 => NoteTrouble::Cheat,
        _ => NoteTrouble::Suspect(rng.pick(&[0x71, 0x72, 0x74, 0x77, 0x7E])),
    });
    CashVisit { notes, prepayment, trouble }
}

/// The channel's "system error" code, whatever happened behind it.
fn system_error(channel: Channel) -> &'static str {
    match channel {
        Channel::WeChat => "SYSTEMERROR",
        Channel::Alipay => "20000",
        _ => "03",
    }
}

/// One fault (or one scene of several) from the lists of payments.md §10 a simulator can play.
fn fault(rng: &mut Rng, channel: Channel, bill: &Bill) -> Vec<PlannedFault> {
    let channel_sim = channel.code().to_string();
    let biller = match bill {
        Bill::One { utility, .. } => *utility,
        Bill::Joint { .. } => rng.pick(&[Utility::Water, Utility::Power, Utility::Gas]),
        Bill::GasTopUp { .. } => Utility::Gas,
    };
    // A top-up's "write-off" is the gas company's purchase, then its card-written confirmation.
    let write_off = match bill {
        Bill::GasTopUp { .. } => rng.pick(&["purchase", "purchase", "card_written"]),
        _ => "write_off",
    };
    let times = 1 + rng.below(2) as u32;
    let at_channel = |endpoint: &str, fault| PlannedFault {
        sim: channel_sim.clone(),
        endpoint: endpoint.into(),
        fault,
        times,
    };
    let one = match rng.below(17) {
        // The channel took the money but answered a system error (F14): the query finds it.
        13 => at_channel("pay", Fault::ErrorAfterCommit { code: system_error(channel).into() }),
        // A reverse answered "try again" without acting (recall=Y, retry_flag=Y).
        14 => at_channel("reverse", Fault::RecallRetry),
        // A late reply: before or after the client's 3 s timeout (the work is done either way).
        15 => at_channel(rng.pick(&["pay", "query"]), Fault::Delay { ms: 500 + rng.below(3_500) }),
        // A reply signed with the wrong key (F18): treated as no reply.
        16 => at_channel(rng.pick(&["pay", "query", "reverse"]), Fault::BadSignature),
        // The channel took the money, then every answer is lost until the kiosk gives up and
        // reverses a paid order (F1 then F5): the reverse must return the money, once.
        12 => {
            return vec![
                at_channel("pay", Fault::DropReply),
                PlannedFault { times: 8, ..at_channel("query", Fault::DropReply) },
            ]
        }
        0 => at_channel("pay", Fault::DropReply),
        1 => at_channel("pay", Fault::DropRequest),
        // The PIN entered before, around or after the kiosk gives up (45 s / divisor).
        2 => at_channel("pay", Fault::UserPaying { ms: Some(rng.below(400)) }),
        3 => at_channel("pay", Fault::UserPaying { ms: None }),
        4 => at_channel("pay", Fault::Status { code: 503 }),
        5 => at_channel("query", Fault::DropReply),
        6 => at_channel("reverse", Fault::DropReply),
        7 => at_channel("refund", Fault::DropReply),
        8 => at_channel("pay", Fault::UserCancels),
        _ => {
            let fault = match rng.below(4) {
                0 => Fault::DropRequest,
                1 => Fault::DropReply,
                2 => Fault::Status { code: 503 },
                _ => Fault::WriteOffReject { code: "ACCOUNT_CLOSED".into() },
            };
            PlannedFault { sim: biller.to_string(), endpoint: write_off.into(), fault, times }
        }
    };
    vec![one]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_a_replay_and_seeds_differ() {
        assert_eq!(customers(7, 6), customers(7, 6));
        let days: Vec<_> = (0..20).map(|seed| customers(seed, 6)).collect();
        assert!(days.windows(2).any(|w| w[0] != w[1]));
        assert!(days.iter().flatten().any(|c| c.cut.is_some()));
        assert!(days.iter().flatten().any(|c| !c.faults.is_empty()));
        assert!(days.iter().flatten().any(|c| c.channel == Channel::BankCard));
    }
}
