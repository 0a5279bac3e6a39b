//! A purchase and the last result that settles it: `pay` arms the reversal before the sale
//! leaves, `query` reads QUERY_LAST for the order and amount asked.

use super::{channel_txn, code_detail, failed, memory_unknown, now_ms, unknown, PaymentTerminal};
use crate::codec::MAX_AMOUNT;
use crate::frame::{IndustryInfo, TransType};
use crate::store::{ArmedReversal, ReversalState, TerminalMemory};
use device::reconnect::Connector;
use kiosk_core::card_terminal::{self as rules, AfterLastResult, AfterSale, BeforeSale, LastKind};
use kiosk_core::{FailKind, Fen, OrderRef, PayReply, QueryReply};

impl<M: TerminalMemory, C: Connector> PaymentTerminal<M, C> {
    /// Purchase (`00`) of `amount` for `order`. Refused with `REVERSAL_PENDING`, before anything
    /// is sent, while another order's reversal is armed.
    pub async fn pay(&mut self, order: &OrderRef, amount: Fen) -> PayReply {
        if !(1..=MAX_AMOUNT).contains(&amount.0) {
            return failed(FailKind::Config, "AMOUNT", "amount out of range for the terminal");
        }
        let (txn, records, another) = match self.sale_records(order).await {
            Ok(found) => found,
            Err(e) => return failed(FailKind::Config, "MEMORY", &e.to_string()),
        };
        match rules::before_sale(records) {
            BeforeSale::AlreadyPaid => {
                return PayReply::Paid { channel_txn: txn.as_ref().map(channel_txn).unwrap_or_default() }
            }
            BeforeSale::AlreadyVoided => return PayReply::AlreadyUsed { code: "VOIDED".into() },
            BeforeSale::AskFirst => {
                return match self.query(order, amount).await {
                    QueryReply::Paid { channel_txn } => PayReply::Paid { channel_txn },
                    _ => PayReply::Unknown { detail: "an earlier attempt for this order is in doubt".into() },
                };
            }
            BeforeSale::InDoubt => {
                return PayReply::Unknown {
                    detail: "an earlier attempt for this order is in doubt: its reversal was refused".into(),
                };
            }
            BeforeSale::AnotherArmed => {
                tracing::warn!(order = %order, armed = ?another, "another order's reversal is armed; sale not sent");
                return failed(
                    FailKind::Config,
                    "REVERSAL_PENDING",
                    "an earlier card transaction is still being reversed; nothing was charged",
                );
            }
            BeforeSale::ArmAndSend => {}
        }
        let armed =
            ArmedReversal { order: order.clone(), amount, armed_at: now_ms(), state: ReversalState::Armed };
        if let Err(e) = self.memory.arm(&armed).await {
            return failed(FailKind::Config, "MEMORY", &e.to_string());
        }
        let req = self.request(TransType::Sale, amount, IndustryInfo::order(order.as_str()));
        let wait = self.settings.transaction_timeout;
        let r = match self.call(&req, wait).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(order = %order, error = %e, "sale outcome unknown; reversal stays armed");
                return PayReply::Unknown { detail: unknown(e) };
            }
        };
        match rules::after_sale(r.code.verdict(), r.amount == amount) {
            AfterSale::Record => match self.remember_approval(order, &r).await {
                Ok(channel_txn) => PayReply::Paid { channel_txn },
                Err(detail) => PayReply::Unknown { detail },
            },
            AfterSale::OtherAmount => {
                tracing::error!(order = %order, "terminal approved a different amount; reversal stays armed");
                PayReply::Unknown { detail: "approved amount differs from the request".into() }
            }
            AfterSale::Declined(kind) => {
                match self.disarm(order, ReversalState::Answered, &code_detail(&r)).await {
                    Ok(()) => PayReply::Failed { kind, code: r.code.as_string(), message: r.message },
                    Err(detail) => PayReply::Unknown { detail },
                }
            }
            AfterSale::KeepArmed => PayReply::Unknown { detail: code_detail(&r) },
        }
    }

    /// Last-result query for `order` of `amount`: a sale approved for this order *and this
    /// amount* → `Paid`; approved for another amount → `Unknown` (the reversal stays armed);
    /// another order or none → `NotFound`; still running → `Waiting`.
    pub async fn query(&mut self, order: &OrderRef, amount: Fen) -> QueryReply {
        let r = match self.query_last().await {
            Ok(r) => r,
            Err(e) => return QueryReply::Unknown { detail: unknown(e) },
        };
        let about_us = match r.trans {
            None => false,
            Some(TransType::Refund) => r.info.original == order.as_str(),
            Some(_) => r.info.reference == order.as_str(),
        };
        let kind = match r.trans {
            Some(TransType::Sale) => LastKind::Sale,
            Some(TransType::Void | TransType::Refund) => LastKind::Undo { reversal: false },
            Some(TransType::Reversal) => LastKind::Undo { reversal: true },
            Some(TransType::QueryLast) | None => LastKind::Other,
        };
        match rules::after_last_result(kind, about_us, r.code.verdict(), r.amount == amount) {
            // The reversal (if armed) stays armed: it is answered `25` when nothing happened.
            AfterLastResult::NotOurs => QueryReply::NotFound,
            AfterLastResult::Waiting => QueryReply::Waiting,
            AfterLastResult::Record => match self.remember_approval(order, &r).await {
                Ok(channel_txn) => QueryReply::Paid { channel_txn },
                Err(detail) => QueryReply::Unknown { detail },
            },
            AfterLastResult::OtherAmount => {
                tracing::error!(
                    order = %order,
                    approved = r.amount.0,
                    expected = amount.0,
                    "last result approved another amount; reversal stays armed"
                );
                QueryReply::Unknown {
                    detail: format!(
                        "the last result approved {} fen for this order, not {} fen",
                        r.amount.0, amount.0
                    ),
                }
            }
            AfterLastResult::Declined | AfterLastResult::NeverHappened => {
                match self.disarm(order, ReversalState::Answered, &code_detail(&r)).await {
                    Ok(()) => QueryReply::Failed { code: r.code.as_string() },
                    Err(detail) => QueryReply::Unknown { detail },
                }
            }
            AfterLastResult::Undone => {
                if let Err(detail) = self.disarm(order, ReversalState::Answered, &code_detail(&r)).await {
                    return QueryReply::Unknown { detail };
                }
                match self.memory.txn(order).await {
                    Ok(t) => QueryReply::PaidThenRefunded {
                        channel_txn: t.map_or_else(|| r.ref_no.clone(), |t| channel_txn(&t)),
                    },
                    Err(e) => QueryReply::Unknown { detail: memory_unknown(&e) },
                }
            }
            AfterLastResult::Unknown => QueryReply::Unknown { detail: code_detail(&r) },
        }
    }
}
