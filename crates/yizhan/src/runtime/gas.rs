//! Prepaid gas: read the customer's IC card, learn its account from the biller, pay, and let the
//! payment machine write the purchase to the card (payments.md §5). A card pulled out mid-write
//! leaves the purchase waiting (AWAIT_CARD_WRITE); 补写卡 writes the same purchase again later,
//! at this or any kiosk, and the meter ignores a replayed sequence, so gas is never doubled.
//! Every gas session ends with [`Runtime::return_gas_card`]: the card goes back to its owner.

use super::{Observer, PayMethod, Runtime, RuntimeError};
use crate::clock;
use iccard::{CardError, GasCard};
use kiosk_core::{ConfirmReply, Event, Fen, LineKind, Order, Payment, State, Utility};

/// What 补写卡 wrote.
#[derive(Debug)]
pub enum Rewritten {
    /// A purchase this kiosk journaled, driven on by its own payment (see its state).
    Journaled(Box<Payment>),
    /// A purchase sold elsewhere (another kiosk, a counter), written from the gas company's list
    /// of the card's purchases waiting for their card write. `confirmed`: the gas company heard
    /// the card was written (if not, the purchase stays on its list and a later 补写卡 confirms it).
    FromBiller { reference: String, amount: Fen, confirmed: bool },
}

#[derive(Debug, thiserror::Error)]
pub enum GasError {
    #[error("this kiosk has no IC card slot")]
    NoReader,
    #[error("{0}")]
    Card(#[from] CardError),
    #[error("the gas meter has not loaded the last purchase yet: insert the card into the meter first")]
    LastPurchaseNotLoaded,
    #[error("a paid purchase is still waiting to be written to this card: rewrite the card first")]
    RewriteFirst,
    #[error("the gas company does not know this card: {0}")]
    UnknownCard(String),
    #[error("{0}")]
    Amount(#[from] billers::AmountError),
    #[error("there is no purchase waiting to be written to this card")]
    NothingToRewrite,
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl GasError {
    /// Refused before any money moved because of what was asked (CLI exit code 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            GasError::Amount(_) => true,
            GasError::Runtime(e) => e.is_bad_input(),
            _ => false,
        }
    }

    /// The CLI's exit code, as [`RuntimeError::exit_code`]; 6 for a card the gas company does
    /// not know.
    pub fn exit_code(&self) -> u8 {
        match self {
            GasError::UnknownCard(_) => 6,
            GasError::Runtime(e) => e.exit_code(),
            e if e.is_bad_input() => 2,
            _ => 1,
        }
    }
}

impl Runtime {
    /// Reads the gas card in the slot.
    pub async fn read_gas_card(&self) -> Result<GasCard, GasError> {
        let device = self.devices.iccard.as_ref().ok_or(GasError::NoReader)?;
        Ok(device.driver.lock().await.read_gas_card().await?)
    }

    /// Gives the gas card back: to the gate, for the customer to take. Call when a gas session
    /// ends, however it ended; a card is never kept for the next customer.
    pub async fn return_gas_card(&self) {
        if let Some(device) = &self.devices.iccard {
            if let Err(error) = device.driver.lock().await.eject().await {
                tracing::warn!(%error, "the gas card could not be ejected; staff must retrieve it");
            }
        }
    }

    /// Buys `amount` of gas for the card in the slot and writes it to the card.
    pub async fn gas_top_up(
        &self,
        amount: Fen,
        method: PayMethod,
        observer: &dyn Observer,
    ) -> Result<Payment, GasError> {
        let order = self.gas_top_up_order(amount).await?;
        Ok(self.pay_order_with(order, method, observer).await?)
    }

    /// The order of a top-up of `amount` onto the card in the slot, once the card, the gas
    /// company and its limits allow it; nothing is journaled. Cash pays it through
    /// [`Runtime::pay_cash`], every other way through [`Runtime::gas_top_up`].
    pub async fn gas_top_up_order(&self, amount: Fen) -> Result<Order, GasError> {
        let card = self.read_gas_card().await?;
        // Refused before any money moves: a new purchase would be refused by the biller anyway.
        if !card.last_purchase_loaded && card.purchase_count > 0 {
            return Err(GasError::LastPurchaseNotLoaded);
        }
        if self.waiting_purchase(&card.card_no).await?.is_some() {
            return Err(GasError::RewriteFirst);
        }
        let gas = self.billers.get(Utility::Gas);
        let known =
            gas.prepaid_card(&card.card_no).await.map_err(|e| GasError::UnknownCard(e.to_string()))?;
        if known.loaded_seq < known.issued_seq {
            return Err(GasError::LastPurchaseNotLoaded);
        }
        // The biller's published limits for this card, before an order is journaled.
        known.check_amount(amount)?;
        let order = Order::for_card_top_up(
            self.new_order_ref(),
            &self.identity.kiosk_id,
            clock::now(),
            known.account,
            card.purchase(),
            amount,
        )
        .map_err(RuntimeError::from)?;
        Ok(order)
    }

    /// 补写卡: writes the purchase waiting for the card in the slot, again. A purchase this kiosk
    /// journaled is driven on by its own payment; otherwise the card may have been bought for at
    /// another kiosk or counter, so the biller's list of the card's purchases waiting for their
    /// card write is asked (its `pending`), and the next one is written.
    pub async fn rewrite_gas_card(&self, observer: &dyn Observer) -> Result<Rewritten, GasError> {
        // Hold the sale first, so that nothing else moves this payment while it is rewritten.
        let _sale = self.sales.try_lock().map_err(|_| RuntimeError::Busy)?;
        let card = self.read_gas_card().await?;
        if let Some(payment) = self.waiting_purchase(&card.card_no).await? {
            return Ok(Rewritten::Journaled(Box::new(
                self.drive(payment, None, Event::RewriteCard, observer).await?,
            )));
        }
        self.rewrite_from_biller(&card).await
    }

    /// Writes the next purchase the gas company still waits to hear written to `card`. Each step
    /// is journaled as a staff action; the card is changed only after its record is committed.
    /// Rewriting the same purchase twice is harmless: the meter ignores a replayed sequence.
    async fn rewrite_from_biller(&self, card: &GasCard) -> Result<Rewritten, GasError> {
        // Gas on a card is value: nothing is written on a journal that cannot be trusted.
        self.verify_whole_journal().await?;
        let gas = self.billers.get(Utility::Gas);
        let known =
            gas.prepaid_card(&card.card_no).await.map_err(|e| GasError::UnknownCard(e.to_string()))?;
        // Purchases the card already carries only wait for their confirmation (it was lost).
        for written in known.pending.iter().filter(|p| p.card.purchase_seq <= card.purchase_count) {
            self.journal_card_rewrite(&written.reference, "already on the card; confirming it again").await?;
            let confirmed = gas.confirm_card_write(&written.reference).await == ConfirmReply::Confirmed;
            tracing::info!(confirmed, "a purchase already on the card was confirmed to the gas company");
        }
        let next = known
            .pending
            .iter()
            .filter(|p| p.card.purchase_seq > card.purchase_count)
            .min_by_key(|p| p.card.purchase_seq)
            .ok_or(GasError::NothingToRewrite)?;
        let writing = format!(
            "writing purchase {} of {} from the gas company's list",
            next.card.purchase_seq, next.amount
        );
        self.journal_card_rewrite(&next.reference, &writing).await?;
        let device = self.devices.iccard.as_ref().ok_or(GasError::NoReader)?;
        let written = device.driver.lock().await.write_purchase_for(&card.purchase(), &next.card).await;
        if let Err(error) = written {
            // The attempt is journaled already; this adds why it failed (best effort).
            let _ = self.journal_card_rewrite(&next.reference, &format!("not written: {error}")).await;
            return Err(error.into());
        }
        let confirmed = gas.confirm_card_write(&next.reference).await == ConfirmReply::Confirmed;
        let outcome =
            if confirmed { "written; gas company told" } else { "written; telling the gas company failed" };
        // The card holds the purchase whatever happens to this record: the gas company's list
        // keeps it until confirmed, so a later 补写卡 confirms it.
        let _ = self.journal_card_rewrite(&next.reference, outcome).await;
        Ok(Rewritten::FromBiller { reference: next.reference.clone(), amount: next.amount, confirmed })
    }

    /// Journals one step of a rewrite from the biller's list.
    async fn journal_card_rewrite(&self, reference: &str, detail: &str) -> Result<(), RuntimeError> {
        // Not a payment of this kiosk: the gas company's reference goes in the detail.
        match self.record_kiosk_action("card-rewrite", None, format!("{reference}: {detail}")).await {
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::error!(%error, "a card rewrite step was not journaled");
                Err(self.journal_failed(error))
            }
        }
    }

    /// The paid purchase waiting to be written to card `card_no`, if any.
    async fn waiting_purchase(&self, card_no: &str) -> Result<Option<Payment>, GasError> {
        for row in self.journal.load_parked().await.map_err(RuntimeError::from)? {
            let payment = super::journaling::restore(&row).map_err(RuntimeError::from)?;
            let for_this_card = payment
                .order
                .lines
                .iter()
                .any(|line| matches!(&line.kind, LineKind::CardTopUp(p) if p.card_no == card_no));
            if for_this_card && matches!(payment.state, State::AwaitCardWrite { .. }) {
                return Ok(Some(payment));
            }
        }
        Ok(None)
    }
}
