//! What the terminal's memory holds for an order: read before a sale, written when an approval
//! is heard, closed when a sale or its reversal is answered. A memory that fails gives the
//! detail of an unknown outcome, never a failure.

use super::{channel_txn, memory_unknown, CardReceipt, PaymentTerminal};
use crate::codec::Response;
use crate::frame::MaskedPan;
use crate::store::{CardTxn, MemoryError, ReversalState, TerminalMemory};
use device::reconnect::Connector;
use kiosk_core::card_terminal::{Purchase, SaleRecords};
use kiosk_core::OrderRef;

/// The purchase date in full (`YYYYMMDD`) from the terminal's `MMDD`, in the year that puts it
/// not after today.
fn full_date(mmdd: &str) -> String {
    let now = chrono::Local::now().date_naive();
    let today = now.format("%m%d").to_string();
    let year = if mmdd.len() == 4 && mmdd > today.as_str() {
        // December's purchase seen on 1 January.
        now.format("%Y").to_string().parse::<i32>().unwrap_or(2000) - 1
    } else {
        now.format("%Y").to_string().parse::<i32>().unwrap_or(2000)
    };
    if mmdd.len() == 4 {
        format!("{year:04}{mmdd}")
    } else {
        now.format("%Y%m%d").to_string()
    }
}

impl<M: TerminalMemory, C: Connector> PaymentTerminal<M, C> {
    /// Closes `order`'s reversal record as `state`; `Err` (the detail of an unknown outcome)
    /// when the memory failed.
    pub(super) async fn disarm(
        &self,
        order: &OrderRef,
        state: ReversalState,
        detail: &str,
    ) -> Result<(), String> {
        self.memory.disarm(order, state, detail).await.map_err(|e| memory_unknown(&e))?;
        tracing::info!(order = %order, state = state.as_str(), "reversal record closed");
        Ok(())
    }

    /// Records the approval of `order` (unless already recorded), then disarms its reversal; the
    /// channel transaction id. `Err` when the memory failed: the outcome is then unknown to the
    /// caller, and asking again finds the same approval.
    pub(super) async fn remember_approval(
        &mut self,
        order: &OrderRef,
        r: &Response,
    ) -> Result<String, String> {
        let existing = self.memory.txn(order).await.map_err(|e| memory_unknown(&e))?;
        let txn = match existing {
            Some(t) => t,
            None => {
                let t = CardTxn {
                    order: order.clone(),
                    amount: r.amount,
                    voucher: r.voucher.clone(),
                    ref_no: r.ref_no.clone(),
                    date: full_date(&r.date),
                    batch: r.batch.clone(),
                    auth_code: r.auth_code.clone(),
                    card_tail: r.pan.as_ref().and_then(MaskedPan::tail_digits).map(str::to_string),
                    void: None,
                    refunds: Vec::new(),
                };
                // The purchase is recorded before the reversal is disarmed: a crash in between
                // leaves an armed reversal of a recorded purchase, resolved by asking again.
                self.memory.put_txn(&t).await.map_err(|e| memory_unknown(&e))?;
                t
            }
        };
        self.last_receipt = Some((
            order.clone(),
            CardReceipt {
                pan: r.pan.clone(),
                issuer: r.issuer.clone(),
                voucher: r.voucher.clone(),
                ref_no: r.ref_no.clone(),
                auth_code: r.auth_code.clone(),
                batch: r.batch.clone(),
                terminal_id: r.terminal_id.clone(),
                merchant_id: r.merchant_id.clone(),
            },
        ));
        self.disarm(order, ReversalState::Answered, "sale approved").await?;
        Ok(channel_txn(&txn))
    }

    /// What the memory holds for a sale of `order` ([`SaleRecords`]), its purchase on
    /// record, and another order whose reversal is armed (for the log). Read in the order the
    /// rules look (purchase, this order's reversal, the others'), and no further than the first
    /// record that decides: a later read that fails must not hide an earlier one that found
    /// something.
    pub(super) async fn sale_records(
        &self,
        order: &OrderRef,
    ) -> Result<(Option<CardTxn>, SaleRecords, Option<OrderRef>), MemoryError> {
        let txn = self.memory.txn(order).await?;
        let purchase =
            txn.as_ref().map(|t| if t.void.is_none() { Purchase::Approved } else { Purchase::Voided });
        let mut records = SaleRecords { purchase, reversal: None, another_armed: false };
        if purchase.is_some() {
            return Ok((txn, records, None));
        }
        records.reversal = self.memory.reversal(order).await?.map(|r| r.state);
        if records.reversal.is_some_and(ReversalState::is_open) {
            return Ok((txn, records, None));
        }
        let another = self.memory.armed().await?.into_iter().map(|r| r.order).find(|armed| armed != order);
        records.another_armed = another.is_some();
        Ok((txn, records, another))
    }
}
