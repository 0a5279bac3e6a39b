//! Taking a card payment back: the reversal by reference (a sale whose answer was never
//! heard), the void by voucher no. (an approval on record, same batch) and the refund (a
//! settled purchase, under our stable refund no.).

use super::{code_detail, memory_unknown, unknown, PaymentTerminal};
use crate::frame::{IndustryInfo, TransType};
use crate::store::{CardTxn, OpState, RefundRecord, ReversalState, TerminalMemory};
use device::reconnect::Connector;
use kiosk_core::card_terminal::{self as rules, AfterReversal, OpAnswer};
use kiosk_core::{Fen, OrderRef, RefundReply, ReverseReply};

impl<M: TerminalMemory, C: Connector> PaymentTerminal<M, C> {
    /// `RV` for `order`. An answer (reversed, or "no such transaction") closes its record; a
    /// decline keeps it as refused and gives `Refused`, for the payment machine to settle.
    async fn reversal(&mut self, order: &OrderRef, amount: Fen) -> ReverseReply {
        let req = self.request(TransType::Reversal, amount, IndustryInfo::order(order.as_str()));
        let wait = self.settings.query_timeout;
        let r = match self.call(&req, wait).await {
            Ok(r) => r,
            Err(e) => return ReverseReply::Retry { detail: unknown(e) },
        };
        let detail = code_detail(&r);
        match rules::after_reversal(r.code.verdict()) {
            AfterReversal::Reversed => {
                match self.memory.txn(order).await {
                    Ok(Some(mut t)) => {
                        t.void = Some(OpState::Done);
                        if let Err(e) = self.memory.put_txn(&t).await {
                            return ReverseReply::Retry { detail: memory_unknown(&e) };
                        }
                    }
                    Ok(None) => {}
                    Err(e) => return ReverseReply::Retry { detail: memory_unknown(&e) },
                }
                match self.disarm(order, ReversalState::Answered, &detail).await {
                    Ok(()) => ReverseReply::Done { refunded: Some(true) },
                    Err(detail) => ReverseReply::Retry { detail },
                }
            }
            AfterReversal::NeverHappened => {
                match self.disarm(order, ReversalState::Answered, &detail).await {
                    Ok(()) => ReverseReply::Done { refunded: Some(false) },
                    Err(detail) => ReverseReply::Retry { detail },
                }
            }
            AfterReversal::Refused => {
                tracing::error!(order = %order, code = %r.code, "terminal refused a reversal; the record is kept");
                match self.disarm(order, ReversalState::Refused, &detail).await {
                    Ok(()) => ReverseReply::Refused { detail },
                    Err(detail) => ReverseReply::Retry { detail },
                }
            }
            AfterReversal::Retry => ReverseReply::Retry { detail },
        }
    }

    /// Undo `order`: void by voucher no. when its approval is on record, otherwise a reversal
    /// by reference (the terminal reverses it if it was approved, answers `25` if it never was).
    /// Only `order`'s own records are touched: another order's armed reversal is never sent here.
    pub async fn reverse(&mut self, order: &OrderRef) -> ReverseReply {
        let txn = match self.memory.txn(order).await {
            Ok(t) => t,
            Err(e) => return ReverseReply::Retry { detail: memory_unknown(&e) },
        };
        let Some(mut t) = txn else {
            let amount = match self.memory.reversal(order).await {
                Ok(record) => record.map_or(Fen::ZERO, |r| r.amount),
                Err(e) => return ReverseReply::Retry { detail: memory_unknown(&e) },
            };
            return self.reversal(order, amount).await;
        };
        match t.void {
            Some(OpState::Done) => return ReverseReply::Done { refunded: Some(true) },
            Some(OpState::InDoubt) => {
                // The last void's answer was lost: ask before sending it again.
                match self.query_last().await {
                    Ok(r) if r.trans == Some(TransType::Void) && r.info.reference == order.as_str() => {
                        match rules::after_void_or_refund(r.code.verdict()) {
                            OpAnswer::Done => return self.void_done(&mut t, true).await,
                            OpAnswer::Refused => return self.void_done(&mut t, false).await,
                            OpAnswer::Unknown => return ReverseReply::Retry { detail: code_detail(&r) },
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return ReverseReply::Retry { detail: unknown(e) },
                }
            }
            Some(OpState::Refused) | None => {}
        }
        t.void = Some(OpState::InDoubt);
        if let Err(e) = self.memory.put_txn(&t).await {
            return ReverseReply::Retry { detail: memory_unknown(&e) };
        }
        let mut req = self.request(TransType::Void, t.amount, IndustryInfo::order(order.as_str()));
        req.orig_voucher = t.voucher.clone();
        let wait = self.settings.query_timeout;
        match self.call(&req, wait).await {
            Ok(r) => match rules::after_void_or_refund(r.code.verdict()) {
                OpAnswer::Done => self.void_done(&mut t, true).await,
                OpAnswer::Refused => {
                    tracing::warn!(order = %order, code = %r.code, "void refused; a refund is needed");
                    self.void_done(&mut t, false).await
                }
                OpAnswer::Unknown => ReverseReply::Retry { detail: code_detail(&r) },
            },
            Err(e) => ReverseReply::Retry { detail: unknown(e) },
        }
    }

    async fn void_done(&mut self, t: &mut CardTxn, approved: bool) -> ReverseReply {
        // A void the terminal refuses (batch already settled) leaves the purchase standing: the
        // kiosk goes on to a refund, so nothing is recorded against it.
        t.void = approved.then_some(OpState::Done);
        if let Err(e) = self.memory.put_txn(t).await {
            return ReverseReply::Retry { detail: memory_unknown(&e) };
        }
        if !approved {
            return ReverseReply::Refused { detail: "terminal refused the void".into() };
        }
        match self.disarm(&t.order, ReversalState::Answered, "voided").await {
            Ok(()) => ReverseReply::Done { refunded: Some(true) },
            Err(detail) => ReverseReply::Retry { detail },
        }
    }

    /// Refund (`02`) `amount` of `order`'s purchase under our stable `refund_no`. When no
    /// approval of `order` was ever heard but its reversal record is still open for the same
    /// amount (the statements showed the charge), the whole amount goes back by that reversal.
    pub async fn refund(&mut self, order: &OrderRef, refund_no: &str, amount: Fen) -> RefundReply {
        if !IndustryInfo::valid_ref(refund_no) || refund_no.is_empty() || !amount.is_positive() {
            return RefundReply::Refused { detail: "bad refund number or amount".into() };
        }
        let mut t = match self.memory.txn(order).await {
            Ok(Some(t)) => t,
            Ok(None) => return self.refund_by_reversal(order, amount).await,
            Err(e) => return RefundReply::Unknown { detail: memory_unknown(&e) },
        };
        if t.void == Some(OpState::Done) {
            return RefundReply::Refused { detail: "the purchase was voided".into() };
        }
        if let Some(prev) = t.refunds.iter().find(|r| r.refund_no == refund_no) {
            match prev.state {
                OpState::Done => return RefundReply::Refunded,
                OpState::Refused => return RefundReply::Refused { detail: "refused earlier".into() },
                OpState::InDoubt => match self.query_last().await {
                    Ok(r) if r.trans == Some(TransType::Refund) && r.info.reference == refund_no => {
                        match rules::after_void_or_refund(r.code.verdict()) {
                            OpAnswer::Done => {
                                return self.refund_done(&mut t, refund_no, OpState::Done).await
                            }
                            OpAnswer::Refused => {
                                return self.refund_done(&mut t, refund_no, OpState::Refused).await
                            }
                            OpAnswer::Unknown => return RefundReply::Unknown { detail: code_detail(&r) },
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return RefundReply::Unknown { detail: unknown(e) },
                },
            }
        } else {
            let others = t.refunded();
            if others.0 + amount.0 > t.amount.0 {
                return RefundReply::Refused { detail: "refunds would exceed the purchase".into() };
            }
            t.refunds.push(RefundRecord { refund_no: refund_no.into(), amount, state: OpState::InDoubt });
        }
        if let Err(e) = self.memory.put_txn(&t).await {
            return RefundReply::Unknown { detail: memory_unknown(&e) };
        }
        let mut req = self.request(
            TransType::Refund,
            amount,
            IndustryInfo { reference: refund_no.into(), original: order.as_str().into() },
        );
        req.orig_date = t.date.clone();
        req.orig_ref_no = t.ref_no.clone();
        let wait = self.settings.query_timeout;
        match self.call(&req, wait).await {
            Ok(r) => match rules::after_void_or_refund(r.code.verdict()) {
                OpAnswer::Done => self.refund_done(&mut t, refund_no, OpState::Done).await,
                OpAnswer::Refused => self.refund_done(&mut t, refund_no, OpState::Refused).await,
                OpAnswer::Unknown => RefundReply::Unknown { detail: code_detail(&r) },
            },
            Err(e) => RefundReply::Unknown { detail: unknown(e) },
        }
    }

    /// The refund of a purchase never heard of: `order`'s own open reversal, for the whole amount.
    async fn refund_by_reversal(&mut self, order: &OrderRef, amount: Fen) -> RefundReply {
        let record = match self.memory.reversal(order).await {
            Ok(record) => record,
            Err(e) => return RefundReply::Unknown { detail: memory_unknown(&e) },
        };
        let open = record.is_some_and(|r| r.state.is_open() && r.amount == amount);
        if !open {
            return RefundReply::Refused {
                detail: "no approved card purchase on record for this order".into(),
            };
        }
        match self.reversal(order, amount).await {
            ReverseReply::Done { refunded: Some(true) } => RefundReply::Refunded,
            ReverseReply::Done { .. } => {
                RefundReply::Refused { detail: "the terminal holds no purchase for this order".into() }
            }
            ReverseReply::Refused { detail } => RefundReply::Refused { detail },
            ReverseReply::Retry { detail } => RefundReply::Unknown { detail },
        }
    }

    async fn refund_done(&mut self, t: &mut CardTxn, refund_no: &str, state: OpState) -> RefundReply {
        if let Some(r) = t.refunds.iter_mut().find(|r| r.refund_no == refund_no) {
            r.state = state;
        }
        if let Err(e) = self.memory.put_txn(t).await {
            return RefundReply::Unknown { detail: memory_unknown(&e) };
        }
        match state {
            OpState::Done => RefundReply::Refunded,
            _ => RefundReply::Refused { detail: "terminal refused the refund".into() },
        }
    }
}
