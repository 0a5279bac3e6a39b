//! The words a customer takes home: the receipt of a finished payment and the "take this slip to
//! the counter" slip of one that is not settled. Built from the journaled payment alone, so any
//! receipt can be reprinted (R6). Account numbers are masked; the payment code never appears.

use crate::money::Fen;
use crate::payment::{LineState, Payment, RefundStatus, State};
use catalogue::{bilingual, Lang, Text};
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

/// The outcome in words no one can misread.
pub fn outcome_words(p: &Payment) -> Text {
    let refunded_some = p.refunds.iter().any(|r| r.status == RefundStatus::Refunded);
    match &p.state {
        State::Done if refunded_some => Text::new("Partly paid; the rest was refunded to you"),
        State::Done => Text::new("Paid"),
        State::Refunded => Text::new("Not paid; your money was refunded in full"),
        State::Reversed { refunded: Some(true) } => Text::new("Cancelled; your money was returned"),
        State::Reversed { refunded: Some(false) } => Text::new("Cancelled; you were not charged"),
        // The channel closed the order without saying whether it had taken money first: true
        // either way, and never "not charged" when it may have been.
        State::Reversed { refunded: None } => Text::new("Cancelled; any amount taken has been returned"),
        State::RefundPending if p.lines.iter().any(|l| matches!(l, LineState::WrittenOff { .. })) => {
            Text::new("Partly paid; the refund of the rest is accepted and goes back to your account")
        }
        State::RefundPending => Text::new("Not paid; the refund is accepted and goes back to your account"),
        State::PayFailed { .. } => Text::new("Payment failed; you were not charged"),
        State::Abandoned => Text::new("Cancelled before paying; you were not charged"),
        State::Suspense { .. } => Text::new("Not yet confirmed: take this slip to the counter or call us"),
        State::AwaitCardWrite { .. } => {
            Text::new("Paid; your card is not written yet: insert it again to finish")
        }
        _ => Text::new("In progress, please wait"),
    }
}

/// Whether a top-up's gas reached the card, in words.
fn card_written(p: &Payment) -> String {
    match (p.card_verified, &p.state) {
        (true, State::Done) => bilingual("Written to the card", " "),
        (true, _) => bilingual("Written; confirmation pending", " "),
        (false, State::CardWriting { .. }) => bilingual("Writing", " "),
        // Paid but not on the card (pulled out, or settled by staff or the statements):
        // 补写卡 at any kiosk or counter writes it.
        (false, State::Done | State::AwaitCardWrite { .. }) => {
            bilingual("Not written: rewrite the card", " ")
        }
        (false, _) => bilingual("Not written", " "),
    }
}

fn row(label: String, value: impl Into<String>) -> Row {
    Row { label, value: value.into() }
}

fn line_outcome(p: &Payment, index: usize) -> String {
    let refund = p.refunds.iter().find(|r| r.lines.contains(&index) || r.lines.is_empty());
    match (&p.lines[index], refund.map(|r| &r.status)) {
        (LineState::WrittenOff { biller_txn, .. }, _) => {
            format!("{} ({biller_txn})", bilingual("Paid to the biller", " "))
        }
        (_, Some(RefundStatus::Refunded)) => bilingual("Refunded", " "),
        (_, Some(RefundStatus::Accepted { .. })) => bilingual("Refund accepted", " "),
        (_, Some(_)) => bilingual("Refund pending", " "),
        (LineState::Unconfirmed, None) => bilingual("Pending", " "),
        (LineState::Rejected { .. }, None) => bilingual("Not accepted by the biller", " "),
        _ => match p.state {
            State::PayFailed { .. } | State::Reversed { .. } | State::Abandoned => bilingual("Not paid", " "),
            _ => bilingual("In progress", " "),
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
        ReceiptKind::Receipt => bilingual("Payment receipt", " / "),
        ReceiptKind::Slip => bilingual("Take this slip to the counter", " / "),
    };
    if ctx.reprint {
        title.push_str(&format!(" ({})", bilingual("Reprint", " ")));
    }
    let mut header =
        vec![row(bilingual("Kiosk", " "), &ctx.kiosk_id), row(bilingual("Paid at", " "), &ctx.paid_at)];
    if ctx.reprint {
        header.push(row(bilingual("Reprinted at", " "), &ctx.printed_at));
    }
    header.push(row(bilingual("Order", " "), p.order.reference.as_str()));
    if let Some(joint) = &p.order.joint_account {
        header.push(row(bilingual("Joint account", " "), joint.masked()));
    }
    if let Some(seq) = ctx.journal_seq {
        header.push(row(bilingual("Journal no.", " "), seq.to_string()));
    }
    if let Some(channel) = p.channel {
        header.push(row(
            bilingual("Channel", " "),
            format!("{} {}", channel.name().in_lang(Lang::Zh), channel.code()),
        ));
    }
    if let Some(txn) = &p.channel_txn {
        header.push(row(bilingual("Txn", " "), txn));
    }
    if let Some(tail) = &ctx.card_tail {
        header.push(row(bilingual("Card no.", " "), format!("****{tail}")));
    }
    if let Some(staff) = &p.order.staff_id {
        header.push(row(bilingual("Assisted by", " "), staff));
    }
    let lines = p
        .order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut block = vec![
                row(line.utility.name().bilingual(" "), line.account.masked()),
                row(bilingual("Amount", " "), line.amount.to_string()),
                row(bilingual("Result", " "), line_outcome(p, i)),
            ];
            match &line.kind {
                crate::order::LineKind::CardTopUp(card) => {
                    // Which card, masked, and whether the gas is on it.
                    block.insert(
                        1,
                        row(bilingual("Gas card", " "), crate::utility::mask_middle(&card.card_no, 2, 2)),
                    );
                    block.push(row(bilingual("Card written", " "), card_written(p)));
                }
                crate::order::LineKind::Bill { period, due, .. } => {
                    if let Some(period) = period {
                        block.insert(1, row(bilingual("Period", " "), period));
                    }
                    // Cash that paid another amount than was due: say where the difference is.
                    match due {
                        Some(due) if line.amount > *due => {
                            block.push(row(bilingual("Amount due", " "), due.to_string()));
                            block.push(row(
                                bilingual("Prepaid to the account", " "),
                                (line.amount - *due).to_string(),
                            ));
                        }
                        Some(due) if line.amount < *due => {
                            block.push(row(bilingual("Amount due", " "), due.to_string()));
                            block.push(row(bilingual("Still due", " "), (*due - line.amount).to_string()));
                        }
                        _ => {}
                    }
                }
            }
            block
        })
        .collect();
    let s = p.settlement();
    let mut totals = vec![row(bilingual("Total", " "), p.order.total().to_string())];
    if s.delivered > Fen::ZERO {
        totals.push(row(bilingual("Amount paid", " "), s.delivered.to_string()));
    }
    if s.returned > Fen::ZERO {
        totals.push(row(bilingual("Amount refunded", " "), s.returned.to_string()));
    }
    if s.returning > Fen::ZERO {
        totals.push(row(bilingual("Being refunded", " "), s.returning.to_string()));
    }
    if s.in_suspense > Fen::ZERO {
        totals.push(row(bilingual("Pending", " "), s.in_suspense.to_string()));
    }
    let mut footer = Vec::new();
    match &p.state {
        State::Suspense { reason, .. } => {
            footer.push(format!("{}: {}", bilingual("Reason", " "), reason.describe().bilingual(" / ")));
            footer.push(format!("{} {}", bilingual("Quote order", " "), p.order.reference));
        }
        State::AwaitCardWrite { .. } => {
            footer.push(bilingual("Any kiosk or counter can finish the card", " / "));
        }
        State::RefundPending => {
            footer.push(bilingual("To a wallet in about 20 min, to a bank card in 1-7 working days", " / "));
            footer.push(format!("{} {}", bilingual("Quote order", " "), p.order.reference));
        }
        _ => {}
    }
    footer.push(format!("{}: {}", bilingual("Service phone", " "), ctx.service_phone));
    Receipt { kind, title, header, lines, totals, outcome: outcome_words(p).bilingual(" / "), footer }
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
            prepayment: false,
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
            "结果 Result: 已销账 Paid to the biller (W-9)",
            "燃气费 Gas: 51****0011",
            "结果 Result: 已退款 Refunded",
            "合计 Total: ¥79.50",
            "已缴 Amount paid: ¥31.50",
            "已退 Amount refunded: ¥48.00",
            "部分缴费成功，未成功部分已退款 / Partly paid; the rest was refunded to you",
            "服务电话 Service phone: 021-96000",
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
        assert!(text.contains("交易号 Txn: 4200001\n银行卡号 Card no.: ****0018"), "{text}");
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
