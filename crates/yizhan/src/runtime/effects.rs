//! Carrying out one effect: one call to a channel, a biller or a device, whose reply becomes the
//! next event. Calls never fail here: the clients turn every failure into an "unknown" reply.

use super::{Observer, Runtime, RuntimeError};
use crate::clock;
use billers::{PurchaseRequest, WriteOffExpectation, WriteOffRequest};
use catalogue::Lang;
use journal::{PrintKind, PrintRecord};
use kiosk_core::payment::LineState;
use kiosk_core::{
    CardWriteResult, Channel, Effect, Event, Fen, LineKind, OrderRef, PayReply, Payment, PaymentCode,
    QueryReply, RefundQueryReply, RefundReply, ReverseReply, Ts, WriteOffReply, WriteOffStatus,
};
use payments::{OrderCall, PayRequest, RefundRequest};

impl Runtime {
    pub(super) async fn carry_out(
        &self,
        p: &Payment,
        effect: &Effect,
        code: &mut Option<PaymentCode>,
        observer: &dyn Observer,
    ) -> Result<Option<Event>, RuntimeError> {
        let channel = p.channel.unwrap_or(Channel::WeChat);
        let order = &p.order.reference;
        // When the pay was sent: UnionPay names the consume by it (txnTime) in every later call.
        let sent_at = p.pay_sent_at.unwrap_or(p.order.created_at);
        let call = OrderCall { order: order.clone(), total: p.order.total(), sent_at };
        let event = match *effect {
            Effect::Pay if channel == Channel::BankCard => {
                Event::PayReplied { reply: self.bank_card_pay(order, p.order.total()).await }
            }
            Effect::Pay => {
                // The code is used once and dropped: it never outlives the request.
                let reply = match code.take() {
                    Some(code) => {
                        let request = PayRequest {
                            order: order.clone(),
                            total: p.order.total(),
                            code,
                            description: description(p),
                            kiosk_id: self.identity.kiosk_id.clone(),
                            sent_at,
                        };
                        self.channels.pay(&request).await
                    }
                    None => PayReply::Unknown { detail: "the payment code was not available to send".into() },
                };
                Event::PayReplied { reply }
            }
            // The terminal's last-result query: first after a power cut (payments.md F15). An
            // approval counts only for this order's amount.
            Effect::Query if channel == Channel::BankCard => Event::QueryReplied {
                reply: match self.terminal().await {
                    Some(mut terminal) => terminal.query(order, p.order.total()).await,
                    None => QueryReply::Unknown { detail: NO_TERMINAL.into() },
                },
            },
            Effect::Query => Event::QueryReplied { reply: self.channels.query(channel, &call).await },
            Effect::Reverse if channel == Channel::BankCard => Event::ReverseReplied {
                reply: match self.terminal().await {
                    Some(mut terminal) => terminal.reverse(order).await,
                    None => ReverseReply::Retry { detail: NO_TERMINAL.into() },
                },
            },
            Effect::Reverse => {
                // The first reverse's time names every retry of it (UnionPay txnTime), journaled
                // with the state that asked for it.
                let reverse_sent_at = p.reverse_sent_at.unwrap_or(sent_at);
                Event::ReverseReplied { reply: self.channels.reverse(channel, &call, reverse_sent_at).await }
            }
            Effect::WriteOff { line } => {
                Event::WriteOffReplied { line, reply: self.write_off(p, line, channel).await }
            }
            Effect::CheckWriteOff { line } => {
                let order_line = &p.order.lines[line];
                let client = self.billers.get(order_line.utility);
                // A purchase only counts as written off with the data to write to the card.
                // The biller's answer must name our account and amount, or it is not ours.
                let expected = WriteOffExpectation::for_line(order_line);
                let reply: WriteOffStatus = match order_line.kind {
                    LineKind::Bill { .. } => client.write_off_status(&expected).await,
                    LineKind::CardTopUp(_) => client.purchase_status(&expected).await,
                };
                Event::WriteOffStatusReplied { line, reply }
            }
            Effect::Refund { item } => {
                let refund = &p.refunds[item];
                let reply = if channel == Channel::BankCard {
                    match self.terminal().await {
                        Some(mut terminal) => terminal.refund(order, &refund.refund_no, refund.amount).await,
                        None => RefundReply::Unknown { detail: NO_TERMINAL.into() },
                    }
                } else {
                    self.channels.refund(channel, &refund_request(p, item, sent_at)).await
                };
                Event::RefundReplied { item, reply }
            }
            Effect::CheckRefund { item } => {
                let reply = if channel == Channel::BankCard {
                    // The terminal books a refund at once; it never answers "accepted".
                    RefundQueryReply::Refunded
                } else {
                    self.channels.refund_status(channel, &refund_request(p, item, sent_at)).await
                };
                Event::RefundStatusReplied { item, reply }
            }
            Effect::WriteCard => Event::CardWritten { result: self.write_card(p).await },
            Effect::ConfirmCardWrite => {
                let line = &p.order.lines[0];
                Event::CardConfirmReplied {
                    reply: self.billers.get(line.utility).confirm_card_write(&line.biller_ref).await,
                }
            }
            Effect::Proceed => return Ok(Some(Event::Proceed)),
            Effect::PrintReceipt | Effect::PrintSlip => {
                self.print(p, effect, observer).await?;
                return Ok(None);
            }
        };
        // Every event built above is the answer of an external call.
        super::crash_point::after_call();
        self.cut_if_due(false)?;
        Ok(Some(event))
    }

    pub(super) async fn write_off(&self, p: &Payment, line: usize, channel: Channel) -> WriteOffReply {
        let order_line = &p.order.lines[line];
        let client = self.billers.get(order_line.utility);
        let txn = p.channel_txn.as_deref().unwrap_or_default();
        let paid_at = p.pay_sent_at.unwrap_or(p.order.created_at);
        match order_line.kind {
            LineKind::Bill { .. } => match WriteOffRequest::for_line(order_line, channel, txn, paid_at) {
                Some(request) => client.write_off(&request).await,
                None => WriteOffReply::Unknown { detail: "line is not a bill".into() },
            },
            LineKind::CardTopUp(_) => match PurchaseRequest::for_line(order_line, channel, txn, paid_at) {
                Some(request) => client.prepaid_purchase(&request).await,
                None => WriteOffReply::Unknown { detail: "line is not a card purchase".into() },
            },
        }
    }

    /// Offers the receipt or slip and journals what became of it (R6: repeatable, never a
    /// trigger for money; a failed print changes nothing about the payment).
    async fn print(&self, p: &Payment, effect: &Effect, observer: &dyn Observer) -> Result<(), RuntimeError> {
        let kind = if *effect == Effect::PrintSlip { PrintKind::Slip } else { PrintKind::Receipt };
        if !observer.someone_to_print_for() || (kind == PrintKind::Receipt && !observer.wants_receipt(p)) {
            return Ok(());
        }
        // The money is settled (R6): a print that could not be journaled is logged for staff,
        // never turned into "not settled" for the customer.
        if let Err(error) = self.print_and_record(p, kind, observer).await {
            tracing::warn!(order = %p.id(), %error, "the print could not be journaled");
        }
        Ok(())
    }

    /// Prints a payment's receipt or slip now (the customer tapped 打印凭条, or staff reprint)
    /// and journals what became of it; returns whether paper came out.
    pub async fn print_and_record(
        &self,
        p: &Payment,
        kind: PrintKind,
        observer: &dyn Observer,
    ) -> Result<bool, RuntimeError> {
        let reprint = kind == PrintKind::Reprint || self.already_printed(p).await;
        let outcome = self.print_paper(p, None, reprint, observer).await;
        let printed = outcome == "printed";
        let record = PrintRecord { payment_id: p.id().to_string(), at: clock::now().0, kind, outcome };
        self.journal.record_print(&record).await?;
        Ok(printed)
    }

    /// Builds, signs and prints a payment's receipt or slip; returns what happened, in words for
    /// the journal. Used by reprints too.
    pub async fn print_now(&self, p: &Payment, observer: &dyn Observer) -> String {
        self.print_with_note(p, None, observer).await
    }

    /// [`Runtime::print_now`] with one more line at the foot (a kept bank card, say).
    pub async fn print_with_note(&self, p: &Payment, note: Option<&str>, observer: &dyn Observer) -> String {
        let reprint = self.already_printed(p).await;
        self.print_paper(p, note, reprint, observer).await
    }

    /// Whether paper of the kind `p` prints now (a receipt, or a slip) already came out: then
    /// the next is marked 补打. A slip before the receipt does not make the receipt a reprint.
    async fn already_printed(&self, p: &Payment) -> bool {
        let slip = kiosk_core::receipt::kind_of(p) == kiosk_core::receipt::ReceiptKind::Slip;
        let same_kind =
            |kind: &str| if slip { kind == "slip" } else { kind == "receipt" || kind == "reprint" };
        self.journal
            .prints(p.id())
            .await
            .is_ok_and(|rows| rows.iter().any(|r| r.outcome == "printed" && same_kind(&r.kind)))
    }

    async fn print_paper(
        &self,
        p: &Payment,
        note: Option<&str>,
        reprint: bool,
        observer: &dyn Observer,
    ) -> String {
        let mut receipt = self.receipt_printed(p, reprint).await;
        if let Some(note) = note {
            receipt.footer.insert(0, note.to_string());
        }
        let qr = self.receipt_payload(p);
        observer.receipt(p, &receipt, qr.as_deref());
        let Some(printer) = &self.devices.printer else {
            return "no printer".into();
        };
        let result = printer.driver.lock().await.print_receipt(&receipt, qr.as_deref()).await;
        match result {
            Ok(_) => "printed".into(),
            Err(error) => {
                tracing::warn!(order = %p.id(), %error, "receipt not printed");
                observer.print_failed(p, &error.to_string());
                format!("failed: {error}")
            }
        }
    }
}

/// Refund `item` of the payment, with the send time journaled when it was first sent: a retry
/// names the same refund (UnionPay's orderId + txnTime), never a second one.
fn refund_request(p: &Payment, item: usize, order_sent_at: Ts) -> RefundRequest {
    let refund = &p.refunds[item];
    RefundRequest {
        order: p.order.reference.clone(),
        refund_no: refund.refund_no.clone(),
        order_total: p.order.total(),
        amount: refund.amount,
        order_sent_at,
        sent_at: refund.sent_at.unwrap_or(order_sent_at),
    }
}

/// What the customer sees in their wallet: the utilities, never a name or full account number.
fn description(p: &Payment) -> String {
    let names: Vec<String> = p.order.lines.iter().map(|l| l.utility.name().in_lang(Lang::Zh)).collect();
    catalogue::trf(Lang::Zh, "Yizhan bill payment-{}", &[&names.join("+")])
}

type Terminal = bankcard::PaymentTerminal<crate::card_memory::JournalMemory, device::serial::SerialConnector>;

const NO_TERMINAL: &str = "no bank card terminal is configured";

impl Runtime {
    /// The bank card terminal, one request at a time; `None` when the kiosk has none.
    async fn terminal(&self) -> Option<tokio::sync::MutexGuard<'_, Terminal>> {
        Some(self.devices.bankcard.as_ref()?.terminal.lock().await)
    }

    async fn bank_card_pay(&self, order: &OrderRef, amount: Fen) -> PayReply {
        match self.terminal().await {
            Some(mut terminal) => terminal.pay(order, amount).await,
            None => PayReply::Failed {
                kind: kiosk_core::FailKind::Config,
                code: "NO_TERMINAL".into(),
                message: NO_TERMINAL.into(),
            },
        }
    }

    /// Writes a purchase the biller issued to the customer's gas card and reads it back. Anything
    /// short of a verified card leaves the purchase waiting for 补写卡, never refunded (payments.md §5).
    async fn write_card(&self, p: &Payment) -> CardWriteResult {
        let line = &p.order.lines[0];
        let (LineKind::CardTopUp(purchase), LineState::WrittenOff { card: Some(data), .. }) =
            (&line.kind, &p.lines[0])
        else {
            return CardWriteResult::NotWritten { detail: "no purchase data to write".into() };
        };
        let Some(device) = &self.devices.iccard else {
            return CardWriteResult::NotWritten { detail: "no IC card reader is configured".into() };
        };
        let mut reader = device.driver.lock().await;
        match reader.write_purchase_for(purchase, data).await {
            Ok(()) => CardWriteResult::Verified,
            Err(error) => {
                tracing::warn!(order = %p.id(), %error, "card not written; the purchase waits for a card rewrite");
                CardWriteResult::NotWritten { detail: error.to_string() }
            }
        }
    }
}
