//! An order: what one payment pays for. One order number (`out_trade_no`), one or more lines,
//! each written off at its biller under its own reference. Every idempotency key of a payment is
//! derived here once, from the order number, and journaled with the order (rule R2).

use crate::bill::{Bill, CardPurchase, JointBill};
use crate::money::Fen;
use crate::time::Ts;
use crate::utility::{AccountNo, Utility};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Our order number: the channels' `out_trade_no`. WeChat allows 32 characters, letters and
/// digits; we use only upper-case letters and digits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderRef(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order reference {0:?} must be 8-32 upper-case letters or digits")]
pub struct BadOrderRef(pub String);

impl OrderRef {
    pub fn new(text: impl Into<String>) -> Result<OrderRef, BadOrderRef> {
        let text = text.into();
        let ok = (8..=32).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if ok {
            Ok(OrderRef(text))
        } else {
            Err(BadOrderRef(text))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The write-off reference of line `index` (0-based) at its biller.
    pub fn biller_ref(&self, index: usize) -> String {
        format!("{}-{}", self.0, index + 1)
    }

    /// The refund number (`out_refund_no` / `out_request_no`) of line `index`.
    pub fn line_refund_no(&self, index: usize) -> String {
        format!("{}R{}", self.0, index + 1)
    }

    /// The refund number for the whole order (R7: paid after a reverse was journaled).
    pub fn whole_refund_no(&self) -> String {
        format!("{}R0", self.0)
    }
}

impl fmt::Display for OrderRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a customer buys: a postpaid bill, or gas loaded onto a prepaid card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LineKind {
    /// Pays bill `bill_id` at version `bill_version`, of billing period `period` (for the receipt).
    Bill {
        bill_id: String,
        bill_version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<String>,
        /// The biller takes another amount than the one due as prepayment (预存) or a part
        /// payment ([`Bill::prepayment`]).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        prepayment: bool,
        /// What was due, when the line pays another amount: a cash overpayment credited as
        /// prepayment, or the part a customer paid before walking away ([`Order::for_cash`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<Fen>,
    },
    /// Buys an amount for the prepaid card; the biller answers with data to write.
    CardTopUp(CardPurchase),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub utility: Utility,
    pub account: AccountNo,
    pub amount: Fen,
    pub kind: LineKind,
    /// Our write-off reference at the biller: the biller's idempotency key.
    pub biller_ref: String,
}

impl OrderLine {
    /// Its biller writes off more than is due, as prepayment (预存).
    fn takes_prepayment(&self) -> bool {
        matches!(self.kind, LineKind::Bill { prepayment: true, .. })
    }

    /// Its biller takes less than the line's amount: a prepayment account's part payment, or a
    /// gas purchase of a smaller amount.
    fn takes_a_part(&self) -> bool {
        self.takes_prepayment() || matches!(self.kind, LineKind::CardTopUp(_))
    }

    /// This line pays `amount` instead of what was due (cash): a bill remembers what was due.
    fn set_paid(&mut self, amount: Fen) {
        if let LineKind::Bill { due, .. } = &mut self.kind {
            due.get_or_insert(self.amount);
        }
        self.amount = amount;
    }
}

/// Credited cash split between the order it pays and what no biller line can take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CashSplit {
    /// `None`: no cash at all.
    pub order: Option<Order>,
    /// Held for the customer beyond the whole order, where no biller takes prepayment: staff
    /// pay it out at the counter against the slip.
    pub owed: Fen,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub reference: OrderRef,
    pub kiosk_id: String,
    pub created_at: Ts,
    pub lines: Vec<OrderLine>,
    /// The staff member operating for the customer (帮办), if any.
    pub staff_id: Option<String>,
    /// The household's joint account, for a joint bill: the number the customer typed or read,
    /// printed on the receipt beside each utility's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joint_account: Option<AccountNo>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("there is nothing to pay: the amount due is {0}")]
    NothingDue(Fen),
    #[error("the amounts add up to more than the kiosk can take")]
    Overflow,
    #[error("an order needs at least one line")]
    Empty,
}

impl Order {
    /// An order for one postpaid bill, for the full amount due.
    pub fn for_bill(reference: OrderRef, kiosk_id: &str, now: Ts, bill: &Bill) -> Result<Order, OrderError> {
        Order::for_bills(reference, kiosk_id, now, std::slice::from_ref(bill))
    }

    /// An order for a joint bill: one line per sub-bill with something due.
    pub fn for_joint_bill(
        reference: OrderRef,
        kiosk_id: &str,
        now: Ts,
        joint: &JointBill,
    ) -> Result<Order, OrderError> {
        let due: Vec<Bill> = joint.bills.iter().filter(|b| b.amount_due.is_positive()).cloned().collect();
        if due.is_empty() {
            return Err(OrderError::NothingDue(joint.total().unwrap_or_default()));
        }
        let mut order = Order::for_bills(reference, kiosk_id, now, &due)?;
        order.joint_account = Some(joint.joint_account.clone());
        Ok(order)
    }

    fn for_bills(reference: OrderRef, kiosk_id: &str, now: Ts, bills: &[Bill]) -> Result<Order, OrderError> {
        let mut lines = Vec::with_capacity(bills.len());
        for (index, bill) in bills.iter().enumerate() {
            if !bill.amount_due.is_positive() {
                return Err(OrderError::NothingDue(bill.amount_due));
            }
            lines.push(OrderLine {
                utility: bill.utility,
                account: bill.account.clone(),
                amount: bill.amount_due,
                kind: LineKind::Bill {
                    bill_id: bill.bill_id.clone(),
                    bill_version: bill.version,
                    period: bill.period.clone(),
                    prepayment: bill.prepayment,
                    due: None,
                },
                biller_ref: reference.biller_ref(index),
            });
        }
        Order::from_lines(reference, kiosk_id, now, lines)
    }

    /// An order to load `amount` onto a prepaid gas card.
    pub fn for_card_top_up(
        reference: OrderRef,
        kiosk_id: &str,
        now: Ts,
        account: AccountNo,
        purchase: CardPurchase,
        amount: Fen,
    ) -> Result<Order, OrderError> {
        if !amount.is_positive() {
            return Err(OrderError::NothingDue(amount));
        }
        let line = OrderLine {
            utility: Utility::Gas,
            account,
            amount,
            kind: LineKind::CardTopUp(purchase),
            biller_ref: reference.biller_ref(0),
        };
        Order::from_lines(reference, kiosk_id, now, vec![line])
    }

    fn from_lines(
        reference: OrderRef,
        kiosk_id: &str,
        now: Ts,
        lines: Vec<OrderLine>,
    ) -> Result<Order, OrderError> {
        if lines.is_empty() {
            return Err(OrderError::Empty);
        }
        Fen::sum(lines.iter().map(|l| l.amount)).ok_or(OrderError::Overflow)?;
        Ok(Order {
            reference,
            kiosk_id: kiosk_id.to_string(),
            created_at: now,
            lines,
            staff_id: None,
            joint_account: None,
        })
    }

    pub fn total(&self) -> Fen {
        // Checked when the order was built.
        Fen::sum(self.lines.iter().map(|l| l.amount)).unwrap_or_default()
    }

    /// What `credited` cash pays. Every line its biller takes whole is paid whole, in order;
    /// what is left goes where a biller takes another amount than is due: a part of an unpaid
    /// line (a prepayment account, or a smaller gas purchase), else prepayment (预存) on the last
    /// paid line whose biller takes it. Left over with no such line: a customer who walked away
    /// pays the first unpaid line in part (its biller refuses, and the cash is owed at the
    /// counter through the payment: [`crate::payment::SuspenseReason::CashOwed`]); cash beyond
    /// the whole order (a stuck note credited late) is `owed` beside it, for staff. Idempotency
    /// keys stay those of the confirmed order: each line keeps its reference.
    pub fn for_cash(&self, credited: Fen) -> CashSplit {
        let mut paid: Vec<Fen> = Vec::with_capacity(self.lines.len());
        let mut left = Fen(credited.0.max(0));
        for line in &self.lines {
            let whole = if line.amount <= left { line.amount } else { Fen::ZERO };
            left = left - whole;
            paid.push(whole);
        }
        if left.is_positive() {
            let unpaid = |i: &usize| !paid[*i].is_positive();
            let lines = 0..self.lines.len();
            let place = lines
                .clone()
                .find(|i| unpaid(i) && self.lines[*i].takes_a_part())
                .or_else(|| lines.clone().rev().find(|i| !unpaid(i) && self.lines[*i].takes_prepayment()))
                .or_else(|| lines.clone().find(unpaid));
            if let Some(i) = place {
                paid[i] = paid[i] + left;
                left = Fen::ZERO;
            }
        }
        let mut order = self.clone();
        let mut paid = paid.into_iter();
        order.lines.retain_mut(|line| {
            let amount = paid.next().unwrap_or_default();
            if amount != line.amount && amount.is_positive() {
                line.set_paid(amount);
            }
            amount.is_positive()
        });
        CashSplit { order: (!order.lines.is_empty()).then_some(order), owed: left }
    }

    pub fn is_card_top_up(&self) -> bool {
        self.lines.iter().any(|l| matches!(l.kind, LineKind::CardTopUp(_)))
    }

    /// Every idempotency key this order will ever use, with its purpose: journaled once, with the
    /// order, so that no retry can mint a new one.
    pub fn idempotency_keys(&self) -> Vec<(String, &'static str)> {
        let mut keys = vec![(self.reference.as_str().to_string(), "out_trade_no")];
        keys.push((self.reference.whole_refund_no(), "refund_whole"));
        for (i, line) in self.lines.iter().enumerate() {
            keys.push((line.biller_ref.clone(), "biller_ref"));
            keys.push((self.reference.line_refund_no(i), "refund_line"));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::bill;

    fn joint_of(bills: Vec<Bill>) -> Order {
        let joint =
            JointBill { joint_account: AccountNo::from_trusted("9"), holder_masked: "".into(), bills };
        Order::for_joint_bill(OrderRef::new("YZTEST00000009").unwrap(), "K", Ts(0), &joint).unwrap()
    }

    fn paid_of(order: &Order) -> Vec<(i64, Option<i64>, String)> {
        let due = |l: &OrderLine| match &l.kind {
            LineKind::Bill { due, .. } => due.map(|d| d.0),
            LineKind::CardTopUp(_) => None,
        };
        order.lines.iter().map(|l| (l.amount.0, due(l), l.biller_ref.clone())).collect()
    }

    #[test]
    fn cash_pays_whole_lines_first_and_the_rest_only_where_a_biller_takes_another_amount() {
        let mut power = bill(Utility::Power, 3000);
        power.prepayment = true;
        let order = joint_of(vec![power, bill(Utility::Water, 2000)]);
        let paid = |credited: i64| order.for_cash(Fen(credited)).order.map(|o| paid_of(&o));
        assert_eq!(order.for_cash(Fen(5000)), CashSplit { order: Some(order.clone()), owed: Fen::ZERO });
        assert_eq!(order.for_cash(Fen(0)), CashSplit { order: None, owed: Fen::ZERO });
        // 80 yuan for 50 due: the 30 extra go to the power account, which takes prepayment.
        let over = order.for_cash(Fen(8000));
        assert_eq!(
            paid_of(over.order.as_ref().unwrap()),
            [(6000, Some(3000), "YZTEST00000009-1".into()), (2000, None, "YZTEST00000009-2".into())]
        );
        assert_eq!((over.order.unwrap().total(), over.owed), (Fen(8000), Fen::ZERO));
        // 40 yuan, then the customer left: power paid, and the 10 left cannot be a part of the
        // water bill (exact only), so it is power's prepayment; water is dropped; keys unchanged.
        assert_eq!(paid(4000), Some(vec![(4000, Some(3000), "YZTEST00000009-1".into())]));
        // 20 yuan: the water bill whole; power (30) is not reached.
        assert_eq!(paid(2000), Some(vec![(2000, None, "YZTEST00000009-2".into())]));
        // 10 yuan: a part of the power bill, which takes it.
        assert_eq!(paid(1000), Some(vec![(1000, Some(3000), "YZTEST00000009-1".into())]));
    }

    #[test]
    fn cash_no_biller_takes_is_a_refused_part_or_owed_beside_the_order() {
        let order = joint_of(vec![bill(Utility::Power, 3000), bill(Utility::Water, 2000)]);
        // Walked away with 10 yuan: the first unpaid line in part; its biller will refuse, and
        // the payment owes the cash at the counter.
        let part = order.for_cash(Fen(1000));
        assert_eq!(paid_of(part.order.as_ref().unwrap()), [(1000, Some(3000), "YZTEST00000009-1".into())]);
        assert_eq!(part.owed, Fen::ZERO);
        // 60 yuan for 50, no prepayment anywhere (a jammed note credited late): the bills are
        // paid exactly, and the 10 beyond them are owed, never sent to a biller that refuses.
        let over = order.for_cash(Fen(6000));
        assert_eq!(over.order, Some(order.clone()));
        assert_eq!(over.owed, Fen(1000));
    }

    #[test]
    fn order_refs_are_checked() {
        assert!(OrderRef::new("YZ0001261123000001").is_ok());
        assert!(OrderRef::new("short").is_err());
        assert!(OrderRef::new("yz0001261123000001").is_err());
        assert!(OrderRef::new("Y".repeat(33)).is_err());
    }

    #[test]
    fn joint_bill_skips_lines_with_nothing_due_and_derives_keys() {
        let reference = OrderRef::new("YZTEST00000001").unwrap();
        let joint = JointBill {
            joint_account: AccountNo::from_trusted("9000000001"),
            holder_masked: "王*".into(),
            bills: vec![bill(Utility::Water, 3150), bill(Utility::Power, 0), bill(Utility::Gas, 4800)],
        };
        let order = Order::for_joint_bill(reference, "K1", Ts(0), &joint).unwrap();
        assert_eq!(order.lines.len(), 2);
        assert_eq!(order.total(), Fen(7950));
        assert_eq!(order.lines[1].biller_ref, "YZTEST00000001-2");
        let keys: Vec<String> = order.idempotency_keys().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "YZTEST00000001",
                "YZTEST00000001R0",
                "YZTEST00000001-1",
                "YZTEST00000001R1",
                "YZTEST00000001-2",
                "YZTEST00000001R2"
            ]
        );
    }

    /// Orders journaled before the billing period existed read back without one, and an order
    /// without a period is written exactly as they were (the journal's chain hashes the text).
    #[test]
    fn a_bill_line_without_a_period_reads_and_writes_as_before() {
        let old = r#"{"kind":"bill","bill_id":"W-1","bill_version":3}"#;
        let kind: LineKind = serde_json::from_str(old).unwrap();
        assert_eq!(
            kind,
            LineKind::Bill {
                bill_id: "W-1".into(),
                bill_version: 3,
                period: None,
                prepayment: false,
                due: None
            }
        );
        assert_eq!(serde_json::to_string(&kind).unwrap(), old);
        let with = LineKind::Bill {
            bill_id: "W-1".into(),
            bill_version: 3,
            period: Some("2026-11".into()),
            prepayment: false,
            due: None,
        };
        let text = serde_json::to_string(&with).unwrap();
        assert_eq!(serde_json::from_str::<LineKind>(&text).unwrap(), with);
    }

    #[test]
    fn nothing_due_is_refused() {
        let reference = OrderRef::new("YZTEST00000002").unwrap();
        assert_eq!(
            Order::for_bill(reference, "K1", Ts(0), &bill(Utility::Gas, 0)),
            Err(OrderError::NothingDue(Fen(0)))
        );
    }
}
