//! A test harness for the payment machine: a consistent model of the channel, the biller and the
//! card (the "world"), dice that decide customer behaviour and lost messages, and a bounded
//! driver that advances simulated time to each deadline, str0m style.

#![allow(dead_code)]

use kiosk_core::payment::{LineState, State};
use kiosk_core::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Reads choices from a byte string; returns 0 when exhausted, so every run ends calmly.
pub struct Dice {
    bytes: Vec<u8>,
    at: usize,
}

impl Dice {
    pub fn new(bytes: Vec<u8>) -> Dice {
        Dice { bytes, at: 0 }
    }
    pub fn roll(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    /// True with probability about `percent`%; always false once the dice are used up, so
    /// that every world calms down in the end.
    pub fn chance(&mut self, percent: u8) -> bool {
        if self.at >= self.bytes.len() {
            return false;
        }
        (u16::from(self.roll()) * 100 / 256) < u16::from(percent)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChannelOrder {
    NotSeen,
    Waiting { pin_at: Option<Ts> },
    Paid,
    Closed,
    ClosedRefunded,
}

/// The other side of every call, kept consistent.
pub struct World {
    pub order: ChannelOrder,
    pub pay_calls: u32,
    pub total: Fen,
    /// Refunds the channel accepted, by number, and whether each has reached the customer.
    pub refunds: BTreeMap<String, (Fen, bool)>,
    /// A pay request that was lost on its way but arrives later, at this time.
    pub late_pay_at: Option<Ts>,
    /// When the pay request was sent: the customer's code is valid for a minute after it.
    pub pay_sent_at: Option<Ts>,
    pub written_off: BTreeMap<usize, Fen>,
    pub biller_saw: BTreeSet<usize>,
    pub biller_rejects: BTreeSet<usize>,
    pub write_off_after_reverse: bool,
    pub reverse_sent: bool,
    pub card_holds_purchase: bool,
    pub loss_percent: u8,
}

impl World {
    pub fn new(total: Fen, biller_rejects: BTreeSet<usize>, loss_percent: u8) -> World {
        World {
            order: ChannelOrder::NotSeen,
            pay_calls: 0,
            total,
            refunds: BTreeMap::new(),
            late_pay_at: None,
            pay_sent_at: None,
            written_off: BTreeMap::new(),
            biller_saw: BTreeSet::new(),
            biller_rejects,
            write_off_after_reverse: false,
            reverse_sent: false,
            card_holds_purchase: false,
            loss_percent,
        }
    }

    fn charged(&self) -> bool {
        matches!(self.order, ChannelOrder::Paid | ChannelOrder::ClosedRefunded)
    }

    /// What the customer has lost to us and not got back (accepted refunds not yet arrived
    /// included: they are still owed).
    pub fn kept(&self) -> Fen {
        let charged = if self.charged() { self.total } else { Fen::ZERO };
        let reversed = if self.order == ChannelOrder::ClosedRefunded { self.total } else { Fen::ZERO };
        charged - reversed - self.refunded(true)
    }

    /// Refunds that reached the customer (`arrived`), or every accepted one.
    pub fn refunded(&self, arrived: bool) -> Fen {
        Fen::sum(self.refunds.values().filter(|(_, a)| *a || !arrived).map(|(fen, _)| *fen)).unwrap()
    }

    /// What the channel's and the biller's daily files would say: the truth when `complete`, and
    /// otherwise a file that may lack rows (a day not published yet), never a false row.
    pub fn statements(&self, lines: usize, dice: &mut Dice) -> kiosk_core::payment::StatementEvidence {
        let complete = !dice.chance(30);
        let shown = |dice: &mut Dice| complete || !dice.chance(50);
        kiosk_core::payment::StatementEvidence {
            charged: self.charged() && shown(dice),
            reversed: self.order == ChannelOrder::ClosedRefunded && shown(dice),
            // A refund row counts once the money has arrived (SUCCESS, not PROCESSING).
            refunds: self
                .refunds
                .iter()
                .filter(|(_, (_, arrived))| *arrived && shown(dice))
                .map(|(no, _)| no.clone())
                .collect(),
            written_off: (0..lines).map(|l| self.written_off.contains_key(&l) && shown(dice)).collect(),
            complete,
            files: Vec::new(),
        }
    }

    /// A pay request lost on its way may still arrive, but only while the code is valid (a
    /// minute): after that the channel refuses it (AUTHCODEEXPIRE).
    fn deliver_late_pay(&mut self, now: Ts) {
        let (Some(at), Some(sent)) = (self.late_pay_at, self.pay_sent_at) else { return };
        if now >= at {
            self.late_pay_at = None;
            let code_valid = at < sent + Duration::from_secs(60);
            if code_valid && self.order == ChannelOrder::NotSeen {
                self.order = ChannelOrder::Paid;
            }
        }
    }

    pub fn delivered(&self) -> Fen {
        Fen::sum(self.written_off.values().copied()).unwrap()
    }

    fn settle_pin(&mut self, now: Ts) {
        if let ChannelOrder::Waiting { pin_at: Some(at) } = self.order {
            if now >= at {
                self.order = ChannelOrder::Paid;
            }
        }
    }

    /// Carries out one effect and says what came back (possibly nothing useful).
    pub fn carry_out(&mut self, p: &Payment, effect: &Effect, now: Ts, dice: &mut Dice) -> Option<Event> {
        let lose_request = dice.chance(self.loss_percent);
        let lose_reply = dice.chance(self.loss_percent);
        self.deliver_late_pay(now);
        match *effect {
            Effect::Pay => {
                self.pay_calls += 1;
                self.pay_sent_at = Some(now);
                if lose_request {
                    if dice.chance(50) {
                        // Not lost after all: it arrives up to 90 s late (the code expires at 60 s).
                        self.late_pay_at = Some(now + Duration::from_secs(u64::from(dice.roll()) * 90 / 255));
                    }
                    return Some(Event::PayReplied { reply: PayReply::Unknown { detail: "lost".into() } });
                }
                let behaviour = dice.roll() % 4;
                self.order = match behaviour {
                    0 => ChannelOrder::Paid,
                    1 => ChannelOrder::Waiting {
                        pin_at: Some(now + Duration::from_secs(u64::from(dice.roll()) / 3)),
                    },
                    2 => ChannelOrder::Waiting { pin_at: None },
                    _ => ChannelOrder::Closed,
                };
                let reply = if lose_reply {
                    PayReply::Unknown { detail: "lost".into() }
                } else {
                    match self.order {
                        ChannelOrder::Paid => PayReply::Paid { channel_txn: "T1".into() },
                        ChannelOrder::Waiting { .. } => PayReply::AwaitingPin,
                        _ => PayReply::Failed {
                            kind: FailKind::Customer,
                            code: "NOTENOUGH".into(),
                            message: "".into(),
                        },
                    }
                };
                Some(Event::PayReplied { reply })
            }
            Effect::Query => {
                self.settle_pin(now);
                let reply = if lose_request || lose_reply {
                    QueryReply::Unknown { detail: "lost".into() }
                } else {
                    match self.order {
                        ChannelOrder::NotSeen => QueryReply::NotFound,
                        ChannelOrder::Waiting { .. } => QueryReply::Waiting,
                        ChannelOrder::Paid => QueryReply::Paid { channel_txn: "T1".into() },
                        ChannelOrder::Closed => QueryReply::Failed { code: "CLOSED".into() },
                        ChannelOrder::ClosedRefunded => {
                            QueryReply::PaidThenRefunded { channel_txn: "T1".into() }
                        }
                    }
                };
                Some(Event::QueryReplied { reply })
            }
            Effect::Reverse => {
                self.reverse_sent = true;
                if lose_request || dice.chance(20) {
                    return Some(Event::ReverseReplied {
                        reply: ReverseReply::Retry { detail: "recall".into() },
                    });
                }
                self.settle_pin(now);
                if self.order == ChannelOrder::NotSeen && dice.chance(50) {
                    // WeChat: ORDERNOTEXIST; the order stays unknown (a late request may still come).
                    return Some(Event::ReverseReplied {
                        reply: ReverseReply::Refused { detail: "ORDERNOTEXIST".into() },
                    });
                }
                self.order = match self.order {
                    ChannelOrder::Paid | ChannelOrder::ClosedRefunded => ChannelOrder::ClosedRefunded,
                    _ => ChannelOrder::Closed,
                };
                let refunded = self.order == ChannelOrder::ClosedRefunded;
                let reply = if lose_reply {
                    ReverseReply::Retry { detail: "lost".into() }
                } else if dice.chance(30) {
                    // A REVOKED reply without time_end: the channel does not say which.
                    ReverseReply::Done { refunded: None }
                } else {
                    ReverseReply::Done { refunded: Some(refunded) }
                };
                Some(Event::ReverseReplied { reply })
            }
            Effect::WriteOff { line } => {
                if self.reverse_sent {
                    self.write_off_after_reverse = true;
                }
                if lose_request {
                    return Some(Event::WriteOffReplied {
                        line,
                        reply: WriteOffReply::Unknown { detail: "lost".into() },
                    });
                }
                self.biller_saw.insert(line);
                let reply = if self.biller_rejects.contains(&line) {
                    WriteOffReply::Rejected { code: "BILL_CHANGED".into(), message: "".into() }
                } else {
                    self.written_off.insert(line, p.order.lines[line].amount);
                    WriteOffReply::WrittenOff { biller_txn: format!("B{line}"), card: card_data(p) }
                };
                let reply = if lose_reply { WriteOffReply::Unknown { detail: "lost".into() } } else { reply };
                Some(Event::WriteOffReplied { line, reply })
            }
            Effect::CheckWriteOff { line } => {
                let reply = if lose_request || lose_reply {
                    WriteOffStatus::Unknown { detail: "lost".into() }
                } else if self.written_off.contains_key(&line) {
                    WriteOffStatus::WrittenOff { biller_txn: format!("B{line}"), card: card_data(p) }
                } else if self.biller_saw.contains(&line) {
                    WriteOffStatus::Rejected { code: "BILL_CHANGED".into(), message: "".into() }
                } else {
                    WriteOffStatus::NotFound
                };
                Some(Event::WriteOffStatusReplied { line, reply })
            }
            Effect::Refund { item } => {
                if lose_request {
                    return Some(Event::RefundReplied {
                        item,
                        reply: RefundReply::Unknown { detail: "lost".into() },
                    });
                }
                let refund = &p.refunds[item];
                // Like Alipay, some channels pay a refund out at once; like WeChat, others
                // accept it and pay it out later.
                let at_once = dice.chance(40);
                let entry = self.refunds.entry(refund.refund_no.clone()).or_insert((refund.amount, at_once));
                let arrived = entry.1;
                let reply = if lose_reply {
                    RefundReply::Unknown { detail: "lost".into() }
                } else if arrived {
                    RefundReply::Refunded
                } else {
                    RefundReply::Accepted
                };
                Some(Event::RefundReplied { item, reply })
            }
            Effect::CheckRefund { item } => {
                let refund_no = &p.refunds[item].refund_no;
                let reply = if lose_request || lose_reply {
                    RefundQueryReply::Unknown { detail: "lost".into() }
                } else {
                    match self.refunds.get_mut(refund_no) {
                        None => RefundQueryReply::NotFound,
                        Some((_, arrived)) => {
                            if !*arrived && dice.chance(60) {
                                *arrived = true;
                            }
                            if *arrived {
                                RefundQueryReply::Refunded
                            } else {
                                RefundQueryReply::Pending
                            }
                        }
                    }
                };
                Some(Event::RefundStatusReplied { item, reply })
            }
            Effect::WriteCard => {
                let result = if dice.chance(40) {
                    CardWriteResult::NotWritten { detail: "card pulled".into() }
                } else {
                    self.card_holds_purchase = true;
                    CardWriteResult::Verified
                };
                Some(Event::CardWritten { result })
            }
            Effect::ConfirmCardWrite => {
                let reply = if lose_request || lose_reply {
                    ConfirmReply::Unknown { detail: "lost".into() }
                } else {
                    ConfirmReply::Confirmed
                };
                Some(Event::CardConfirmReplied { reply })
            }
            Effect::Proceed => Some(Event::Proceed),
            Effect::PrintReceipt | Effect::PrintSlip => None,
        }
    }
}

fn card_data(p: &Payment) -> Option<CardWriteData> {
    p.order.is_card_top_up().then(|| CardWriteData { purchase_seq: 8, data_hex: "0008".into() })
}

/// Drives a payment like the runtime does, with optional crashes (in-flight effects lost, then
/// `Resume`). Returns how many pay effects the machine emitted.
pub struct Drive {
    pub now: Ts,
    pub payment: Payment,
    pub policy: Policy,
    pub pay_effects: u32,
    pub steps: u32,
    pub reverse_effect_seen: bool,
    pub write_off_effect_after_reverse: bool,
    /// Background checks of a parked payment (suspense, refund queries) made so far, and how
    /// many the run allows.
    pub parked_checks: u32,
    pub parked_check_limit: u32,
}

impl Drive {
    pub fn new(payment: Payment) -> Drive {
        Drive {
            now: Ts(1_700_000_000_000),
            payment,
            policy: Policy::default(),
            pay_effects: 0,
            steps: 0,
            reverse_effect_seen: false,
            write_off_effect_after_reverse: false,
            parked_checks: 0,
            parked_check_limit: 6,
        }
    }

    pub fn feed(&mut self, event: Event) -> Vec<Effect> {
        self.steps += 1;
        let stepped = self.payment.step(event, self.now, &self.policy);
        for effect in &stepped.effects {
            match effect {
                Effect::Pay => self.pay_effects += 1,
                Effect::Reverse => self.reverse_effect_seen = true,
                Effect::WriteOff { .. } if self.reverse_effect_seen => {
                    self.write_off_effect_after_reverse = true
                }
                _ => {}
            }
        }
        stepped.effects
    }

    /// One round of a write-off nobody can confirm: the call times out and, if a status query
    /// falls due, the biller cannot answer that either (`status_detail`).
    pub fn write_off_goes_unconfirmed(&mut self, line: usize, status_detail: &str) {
        self.write_off_times_out(line);
        if let Some(at) = self.payment.next_deadline() {
            self.status_unanswered_at(at, line, status_detail);
        }
    }

    /// The write-off of `line` times out and no status query of it is answered ("503") until the
    /// payment is parked.
    pub fn write_off_unknown_until_parked(&mut self, line: usize) {
        self.write_off_times_out(line);
        while !self.payment.state.is_parked() {
            let at = self.payment.next_deadline().expect("a deadline while checking");
            self.status_unanswered_at(at, line, "503");
        }
    }

    fn write_off_times_out(&mut self, line: usize) {
        let reply = WriteOffReply::Unknown { detail: "timeout".into() };
        self.feed(Event::WriteOffReplied { line, reply });
    }

    /// At `at`, the status query of `line`'s write-off that falls due gets no answer (`detail`).
    fn status_unanswered_at(&mut self, at: Ts, line: usize, detail: &str) {
        self.now = at;
        self.feed(Event::Tick);
        let reply = WriteOffStatus::Unknown { detail: detail.into() };
        self.feed(Event::WriteOffStatusReplied { line, reply });
    }

    /// The biller confirms the write-off of `line` as `biller_txn` (no card to write).
    pub fn write_off_confirmed(&mut self, line: usize, biller_txn: &str) -> Vec<Effect> {
        let reply = WriteOffReply::WrittenOff { biller_txn: biller_txn.into(), card: None };
        self.feed(Event::WriteOffReplied { line, reply })
    }

    /// The payment is in `state`, and every fen taken is delivered or returned.
    #[track_caller]
    pub fn assert_settled_as(&self, state: State) {
        assert_eq!(self.payment.state, state);
        let settlement = self.payment.settlement();
        assert!(settlement.balances(), "{settlement:?}");
    }

    /// Runs until the payment is terminal or parked (or the step bound is hit).
    pub fn run(&mut self, first: Vec<Effect>, world: &mut World, dice: &mut Dice, crash_percent: u8) {
        let mut queue: Vec<Effect> = first;
        let mut rewrites = 0;
        while self.steps < 2_000 {
            if let Some(effect) = queue.first().cloned() {
                queue.remove(0);
                if dice.chance(crash_percent) {
                    // Power cut: everything in flight is lost; the journal holds `payment`.
                    queue.clear();
                    let effects = self.feed(Event::Resume);
                    queue.extend(effects);
                    continue;
                }
                if let Some(event) = world.carry_out(&self.payment, &effect, self.now, dice) {
                    if dice.chance(crash_percent) {
                        // Power cut after the other side acted, before its reply was journaled.
                        queue.clear();
                        let effects = self.feed(Event::Resume);
                        queue.extend(effects);
                        continue;
                    }
                    let effects = self.feed(event);
                    queue.extend(effects);
                }
                continue;
            }
            if let State::AwaitCardWrite { .. } = self.payment.state {
                if rewrites < 3 {
                    rewrites += 1;
                    let effects = self.feed(Event::RewriteCard);
                    queue.extend(effects);
                    continue;
                }
            }
            if self.payment.state.is_terminal() {
                return;
            }
            if self.payment.state.is_parked() {
                // The kiosk's background checks (accepted refunds, suspense) run a while too;
                // then the day ends with whatever is still parked.
                match self.payment.next_deadline() {
                    Some(at) if self.parked_checks < self.parked_check_limit => {
                        self.parked_checks += 1;
                        self.now = self.now.max(at);
                        let effects = self.feed(Event::Tick);
                        queue.extend(effects);
                        continue;
                    }
                    _ => return,
                }
            }
            match self.payment.next_deadline() {
                Some(at) => {
                    self.now = self.now.max(at);
                    let effects = self.feed(Event::Tick);
                    queue.extend(effects);
                }
                None => panic!("stuck with nothing to wait for: {:#?}", self.payment),
            }
        }
        panic!("no end after {} steps: {:?}", self.steps, self.payment.state);
    }

    pub fn lines(&self) -> &[LineState] {
        &self.payment.lines
    }
}

pub fn bill(utility: Utility, fen: i64) -> Bill {
    Bill { version: 3, ..kiosk_core::testing::bill(utility, fen) }
}

pub fn order(lines: &[i64]) -> Order {
    let utilities = [Utility::Water, Utility::Power, Utility::Gas];
    let joint = JointBill {
        joint_account: AccountNo::from_trusted("9000000001"),
        holder_masked: "王*".into(),
        bills: lines.iter().zip(utilities).map(|(&fen, u)| bill(u, fen)).collect(),
    };
    Order::for_joint_bill(OrderRef::new("YZTEST0000000001").unwrap(), "K1", Ts(0), &joint).unwrap()
}

pub fn card_order() -> Order {
    Order::for_card_top_up(
        OrderRef::new("YZTEST0000000002").unwrap(),
        "K1",
        Ts(0),
        AccountNo::from_trusted("5100000011"),
        CardPurchase { card_no: "C1".into(), purchase_count: 7 },
        Fen(10_000),
    )
    .unwrap()
}
