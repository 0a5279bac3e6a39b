//! The words a customer takes home: the receipt of a finished payment and the "take this slip to
//! the counter" slip of one that is not settled. Built from the journaled payment alone, so any
//! receipt can be reprinted (R6). Account numbers are masked; the payment code never appears.

use crate::money::Fen;
use crate::payment::{LineState, Payment, RefundStatus, State};
use serde::{Deserialize, Serialize};

/// What the runtime knows that the pure payment does not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptContext {
    pub kiosk_id: String,
    /// The journal's last committed sequence when printed: paper that outlives the disk shows
    /// how far the journal had reached, so a journal rolled back to an older copy is caught.
    pub journal_seq: Option<i64>,
    /// When the customer paid (the order was sent), local time already formatted
    /// ("2026-11-23 10:42:05").
    pub paid_at: String,
    /// When this paper was printed, local time already formatted.
    pub printed_at: String,
    /// A second (or later) print of the same payment: marked 补打 with its own time, so it is
    /// never taken for a second payment.
    pub reprint: bool,
    pub service_phone: String,
    /// A bank card payment's card, by its last four digits (all the kiosk keeps of it).
    pub card_tail: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Receipt,
    /// For SUSPENSE and AWAIT_CARD_WRITE: the customer must come back or call.
    Slip,
}

/// One printed row: a label in Chinese and English and its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub label: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub kind: ReceiptKind,
    pub title: String,
    pub header: Vec<Row>,
    /// One block per order line: utility, masked account, amount, outcome.
    pub lines: Vec<Vec<Row>>,
    pub totals: Vec<Row>,
    pub outcome: String,
    pub footer: Vec<String>,
}

/// The outcome in words no one can misread, Chinese then English.
pub fn outcome_words(p: &Payment) -> (&'static str, &'static str) {
    let refunded_some = p.refunds.iter().any(|r| r.status == RefundStatus::Refunded);
    match &p.state {
        State::Done if refunded_some => {
            ("部分缴费成功，未成功部分已退款", "Partly paid; the rest was refunded to you")
        }
        State::Done => ("缴费成功", "Paid"),
        State::Refunded => ("缴费未成功，款项已全额退回", "Not paid; your money was refunded in full"),
        State::Reversed { refunded: Some(true) } => {
            ("交易已撤销，款项已退回", "Cancelled; your money was returned")
        }
        State::Reversed { refunded: Some(false) } => {
            ("交易已撤销，未扣款", "Cancelled; you were not charged")
        }
        // The channel closed the order without saying whether it had taken money first: true
        // either way, and never "not charged" when it may have been.
        State::Reversed { refunded: None } => {
            ("交易已撤销，如有扣款已退回", "Cancelled; any amount taken has been returned")
        }
        State::RefundPending if p.lines.iter().any(|l| matches!(l, LineState::WrittenOff { .. })) => (
            "部分缴费成功，未成功部分退款已受理，将原路退回",
            "Partly paid; the refund of the rest is accepted and goes back to your account",
        ),
        State::RefundPending => (
            "缴费未成功，退款已受理，将原路退回",
            "Not paid; the refund is accepted and goes back to your account",
        ),
        State::PayFailed { .. } => ("支付未成功，未扣款", "Payment failed; you were not charged"),
        State::Abandoned => ("已取消，未扣款", "Cancelled; you were not charged"),
        State::Suspense { .. } => (
            "结果待确认：请持此凭条到柜台办理或致电客服",
            "Not yet confirmed: take this slip to the counter or call us",
        ),
        State::AwaitCardWrite { .. } => (
            "已缴费，尚未写卡：请再次插卡补写",
            "Paid; your card is not written yet: insert it again to finish",
        ),
        _ => ("处理中，请稍候", "In progress, please wait"),
    }
}

/// Whether a top-up's gas reached the card, in words.
fn card_written(p: &Payment) -> &'static str {
    match (p.card_verified, &p.state) {
        (true, State::Done) => "已写卡 Written to the card",
        (true, _) => "已写卡，待确认 Written; confirmation pending",
        (false, State::CardWriting { .. }) => "写卡中 Writing",
        // Paid but not on the card (pulled out, or settled by staff or the statements):
        // 补写卡 at any kiosk or counter writes it.
        (false, State::Done | State::AwaitCardWrite { .. }) => {
            "未写卡，请补写卡 Not written: rewrite the card"
        }
        (false, _) => "未写卡 Not written",
    }
}

fn row(label: &str, value: impl Into<String>) -> Row {
    Row { label: label.to_string(), value: value.into() }
}

fn line_outcome(p: &Payment, index: usize) -> String {
    let refund = p.refunds.iter().find(|r| r.lines.contains(&index) || r.lines.is_empty());
    match (&p.lines[index], refund.map(|r| &r.status)) {
        (LineState::WrittenOff { biller_txn, .. }, _) => format!("已销账 Paid ({biller_txn})"),
        (_, Some(RefundStatus::Refunded)) => "已退款 Refunded".into(),
        (_, Some(RefundStatus::Accepted { .. })) => "退款已受理 Refund accepted".into(),
        (_, Some(_)) => "退款待确认 Refund pending".into(),
        (LineState::Unconfirmed, None) => "待确认 Pending".into(),
        (LineState::Rejected { .. }, None) => "未销账 Not paid".into(),
        _ => match p.state {
            State::PayFailed { .. } | State::Reversed { .. } | State::Abandoned => "未缴 Not paid".into(),
            _ => "处理中 In progress".into(),
        },
    }
}

/// Whether a payment as it stands prints a receipt or a slip.
pub fn kind_of(p: &Payment) -> ReceiptKind {
    match p.state {
        State::Suspense { .. } | State::AwaitCardWrite { .. } => ReceiptKind::Slip,
        _ => ReceiptKind::Receipt,
    }
}

/// Builds the receipt (or slip) of a payment as it stands.
pub fn build(p: &Payment, ctx: &ReceiptContext) -> Receipt {
    let kind = kind_of(p);
    let mut title = match kind {
        ReceiptKind::Receipt => "一站缴费 缴费凭条 / Payment receipt".to_string(),
        ReceiptKind::Slip => "请持此凭条到柜台办理 / Take this slip to the counter".to_string(),
    };
    if ctx.reprint {
        title.push_str(" (补打 Reprint)");
    }
    let mut header = vec![row("终端 Kiosk", &ctx.kiosk_id), row("缴费时间 Paid at", &ctx.paid_at)];
    if ctx.reprint {
        header.push(row("补打时间 Reprinted at", &ctx.printed_at));
    }
    header.push(row("订单号 Order", p.order.reference.as_str()));
    if let Some(joint) = &p.order.joint_account {
        header.push(row("合缴户号 Joint account", joint.masked()));
    }
    if let Some(seq) = ctx.journal_seq {
        header.push(row("记录号 Journal no.", seq.to_string()));
    }
    if let Some(channel) = p.channel {
        header.push(row("渠道 Channel", format!("{} {}", channel.name_zh(), channel.code())));
    }
    if let Some(txn) = &p.channel_txn {
        header.push(row("交易号 Txn", txn));
    }
    if let Some(tail) = &ctx.card_tail {
        header.push(row("银行卡 Card", format!("****{tail}")));
    }
    if let Some(staff) = &p.order.staff_id {
        header.push(row("帮办 Staff", staff));
    }
    let lines = p
        .order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut block = vec![
                row(&format!("{} {}", line.utility.name_zh(), line.utility.name_en()), line.account.masked()),
                row("金额 Amount", line.amount.to_string()),
                row("结果 Result", line_outcome(p, i)),
            ];
            match &line.kind {
                crate::order::LineKind::CardTopUp(card) => {
                    // Which card, masked, and whether the gas is on it.
                    block.insert(1, row("燃气卡 Gas card", crate::utility::mask_middle(&card.card_no, 2, 2)));
                    block.push(row("写卡 Card", card_written(p)));
                }
                crate::order::LineKind::Bill { period: Some(period), .. } => {
                    block.insert(1, row("账期 Period", period));
                }
                crate::order::LineKind::Bill { period: None, .. } => {}
            }
            block
        })
        .collect();
    let s = p.settlement();
    let mut totals = vec![row("合计 Total", p.order.total().to_string())];
    if s.delivered > Fen::ZERO {
        totals.push(row("已缴 Paid", s.delivered.to_string()));
    }
    if s.returned > Fen::ZERO {
        totals.push(row("已退 Refunded", s.returned.to_string()));
    }
    if s.returning > Fen::ZERO {
        totals.push(row("退款中 Being refunded", s.returning.to_string()));
    }
    if s.in_suspense > Fen::ZERO {
        totals.push(row("待确认 Pending", s.in_suspense.to_string()));
    }
    let (zh, en) = outcome_words(p);
    let mut footer = Vec::new();
    match &p.state {
        State::Suspense { reason, .. } => {
            footer.push(format!("原因 Reason: {} / {}", reason.describe_zh(), reason.describe_en()));
            footer.push(format!("凭订单号查询 Quote order {}", p.order.reference));
        }
        State::AwaitCardWrite { .. } => {
            footer.push("可在任一自助终端或柜台补写卡 / Any kiosk or counter can finish the card".into());
        }
        State::RefundPending => {
            footer.push("退款到零钱约20分钟，到银行卡1-7个工作日 / To a wallet in about 20 min, to a bank card in 1-7 working days".into());
            footer.push(format!("凭订单号查询 Quote order {}", p.order.reference));
        }
        _ => {}
    }
    footer.push(format!("客服电话 Service phone: {}", ctx.service_phone));
    Receipt { kind, title, header, lines, totals, outcome: format!("{zh} / {en}"), footer }
}

impl Receipt {
    /// Plain text, one row per line: what `yizhan pay` prints and the printer lays out.
    pub fn to_text(&self) -> String {
        let rule = "-".repeat(32);
        let mut out = vec![self.title.clone(), rule.clone()];
        out.extend(self.header.iter().map(|r| format!("{}: {}", r.label, r.value)));
        for block in &self.lines {
            out.push(rule.clone());
            out.extend(block.iter().map(|r| format!("{}: {}", r.label, r.value)));
        }
        out.push(rule.clone());
        out.extend(self.totals.iter().map(|r| format!("{}: {}", r.label, r.value)));
        out.push(rule);
        out.push(self.outcome.clone());
        out.extend(self.footer.iter().cloned());
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::{Bill, JointBill};
    use crate::channel::Channel;
    use crate::order::{Order, OrderRef};
    use crate::outcome::*;
    use crate::payment::{Event, Policy};
    use crate::time::Ts;
    use crate::utility::{AccountNo, Utility};

    fn paid_joint_with_gas_refunded() -> Payment {
        let bill = |utility, account: &str, fen| Bill {
            utility,
            account: AccountNo::from_trusted(account),
            bill_id: "B".into(),
            version: 1,
            amount_due: Fen(fen),
            due_date: "2026-12-15".into(),
            period: Some("2026-11".into()),
            holder_masked: "张*".into(),
            address_masked: String::new(),
            recent_payments: vec![],
        };
        let joint = JointBill {
            joint_account: AccountNo::from_trusted("9000000001"),
            holder_masked: "张*".into(),
            bills: vec![bill(Utility::Water, "310000001", 3150), bill(Utility::Gas, "5100000011", 4800)],
        };
        let order =
            Order::for_joint_bill(OrderRef::new("YZK1261123000042").unwrap(), "K1", Ts(0), &joint).unwrap();
        let mut p = Payment::new(order);
        let policy = Policy::default();
        let now = Ts(0);
        p.step(Event::PayWith { channel: Channel::WeChat, code_digest: "d".into() }, now, &policy);
        p.step(Event::PayReplied { reply: PayReply::Paid { channel_txn: "4200001".into() } }, now, &policy);
        p.step(Event::Proceed, now, &policy);
        let done = WriteOffReply::WrittenOff { biller_txn: "W-9".into(), card: None };
        p.step(Event::WriteOffReplied { line: 0, reply: done }, now, &policy);
        let rejected = WriteOffReply::Rejected { code: "BILL_CHANGED".into(), message: String::new() };
        p.step(Event::WriteOffReplied { line: 1, reply: rejected }, now, &policy);
        p.step(Event::RefundReplied { item: 0, reply: RefundReply::Refunded }, now, &policy);
        p
    }

    /// Kiosk SH-PD-0001 printing at 10:42:05 a payment made at 10:41:52, journal at 1042.
    fn context() -> ReceiptContext {
        ReceiptContext {
            kiosk_id: "SH-PD-0001".into(),
            journal_seq: Some(1042),
            paid_at: "2026-11-23 10:41:52".into(),
            printed_at: "2026-11-23 10:42:05".into(),
            reprint: false,
            service_phone: "021-96000".into(),
            card_tail: None,
        }
    }

    #[test]
    fn a_joint_receipt_shows_each_biller_and_masks_accounts() {
        let p = paid_joint_with_gas_refunded();
        let ctx = context();
        let receipt = build(&p, &ctx);
        assert_eq!(receipt.kind, ReceiptKind::Receipt);
        let text = receipt.to_text();
        for expected in [
            "订单号 Order: YZK1261123000042",
            "合缴户号 Joint account: 90****0001",
            "记录号 Journal no.: 1042",
            "交易号 Txn: 4200001",
            "水费 Water: 31***0001\n账期 Period: 2026-11\n金额 Amount: ¥31.50",
            "结果 Result: 已销账 Paid (W-9)",
            "燃气费 Gas: 51****0011",
            "结果 Result: 已退款 Refunded",
            "合计 Total: ¥79.50",
            "已缴 Paid: ¥31.50",
            "已退 Refunded: ¥48.00",
            "部分缴费成功，未成功部分已退款 / Partly paid; the rest was refunded to you",
            "客服电话 Service phone: 021-96000",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(!text.contains("310000001") && !text.contains("5100000011") && !text.contains("9000000001"));
        assert!(text.contains("缴费时间 Paid at: 2026-11-23 10:41:52") && !text.contains("补打"), "{text}");
    }

    /// Issue 11, item 8: a reprint is marked 补打 with its own time, beside the time of payment
    /// (before, it showed the print time as 时间 and no mark).
    #[test]
    fn a_reprint_is_marked_and_keeps_the_time_of_payment() {
        let p = paid_joint_with_gas_refunded();
        let ctx = ReceiptContext { printed_at: "2026-11-24 09:00:00".into(), reprint: true, ..context() };
        let text = build(&p, &ctx).to_text();
        assert!(text.starts_with("一站缴费 缴费凭条 / Payment receipt (补打 Reprint)"), "{text}");
        assert!(text.contains("缴费时间 Paid at: 2026-11-23 10:41:52"), "{text}");
        assert!(text.contains("补打时间 Reprinted at: 2026-11-24 09:00:00"), "{text}");
    }

    /// Issue 11 item 8: a bank card payment's receipt names the card by its last four digits.
    #[test]
    fn a_bank_card_receipt_names_the_card_by_its_last_digits() {
        let p = paid_joint_with_gas_refunded();
        let ctx = ReceiptContext { journal_seq: None, card_tail: Some("0018".into()), ..context() };
        let text = build(&p, &ctx).to_text();
        assert!(text.contains("交易号 Txn: 4200001\n银行卡 Card: ****0018"), "{text}");
    }

    /// A bill whose biller names no period prints no 账期 row (never an empty one).
    #[test]
    fn a_bill_without_a_period_prints_no_period_row() {
        let mut p = paid_joint_with_gas_refunded();
        for line in &mut p.order.lines {
            if let crate::order::LineKind::Bill { period, .. } = &mut line.kind {
                *period = None;
            }
        }
        let ctx = ReceiptContext { journal_seq: None, ..context() };
        let text = build(&p, &ctx).to_text();
        assert!(!text.contains("账期"), "{text}");
        assert!(text.contains("水费 Water: 31***0001\n金额 Amount: ¥31.50"), "{text}");
    }
}
