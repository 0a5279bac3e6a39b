//! The simulated customer: with `[devices] simulated = true`, what a person would do at the
//! kiosk — hold up a payment code, insert a gas card or an ID card — done to the simulators, so
//! the headless commands can run whole flows. Never used with real devices.
//!
//! Only the `sim` feature has a simulated customer; in a production build every one of these
//! does nothing (and `--present` is refused), so callers need no feature switches of their own.

/// The demo gas card: on the card, and (in the embedded back end) known to the gas biller.
pub const DEMO_GAS_CARD: &str = "8800000021";
pub const DEMO_GAS_ACCOUNT: &str = "3300000035";
/// The demo card's user number, on the card only.
#[cfg_attr(not(feature = "sim"), allow(dead_code))]
pub const DEMO_GAS_USER: &str = "33000035";

#[cfg(not(feature = "sim"))]
pub use absent::*;
#[cfg(feature = "sim")]
pub use simulated::*;

#[cfg(feature = "sim")]
mod simulated {
    use super::{DEMO_GAS_ACCOUNT, DEMO_GAS_CARD, DEMO_GAS_USER};
    use crate::backend::Backend;
    use std::time::Duration;

    /// Puts the demo gas card in the simulated IC slot, if the slot is simulated and empty, and
    /// makes sure the embedded gas biller knows it. Returns whether a card was inserted.
    pub fn insert_demo_gas_card(backend: &Backend) -> bool {
        let Some(sim) = &backend.runtime.devices.sims.iccard else {
            return false;
        };
        if let Some(embedded) = &backend.sims {
            seed_demo_gas_account(embedded);
        }
        if sim.card().is_some() {
            return false;
        }
        match iccard::sim::SimCard::gas_user_card(DEMO_GAS_CARD, DEMO_GAS_USER, [0xFF; 3]) {
            Some(card) => sim.insert(card).is_ok(),
            None => false,
        }
    }

    /// Makes the gas biller simulator know the demo gas card (a new card: no purchase yet).
    pub fn seed_demo_gas_account(sims: &crate::backend::EmbeddedSims) {
        let gas = &sims.billers.gas.sim;
        if gas.bill(DEMO_GAS_ACCOUNT).is_none() {
            let seed = serde_json::json!({
                "account": DEMO_GAS_ACCOUNT,
                "amount_due_fen": 0,
                "card": { "card_no": DEMO_GAS_CARD, "purchase_count": 0 }
            });
            if let Ok(seed) = serde_json::from_value(seed) {
                gas.put_account(seed);
            }
        }
    }

    /// Has the simulated customer insert a synthetic ID card as soon as the slot lets it in.
    pub fn insert_id_card_when_allowed(backend: &Backend) {
        let Some(sim) = &backend.runtime.devices.sims.idcard else {
            return;
        };
        sim.insert_card_when_allowed(idcard::sim::Identity::synthetic(20261123));
    }

    /// Has the simulated customer put a bank card in the simulated slot as soon as it opens, and —
    /// if `takes_it_back` — take it when the kiosk gives it back (otherwise it is left at the gate).
    pub fn bank_card_customer(backend: &Backend, takes_it_back: bool) {
        let _customer = bank_card_customer_task(backend, takes_it_back);
    }

    /// [`bank_card_customer`], with the customer's task to end when they leave.
    pub fn bank_card_customer_task(
        backend: &Backend,
        takes_it_back: bool,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let slot = std::sync::Arc::clone(backend.runtime.devices.sims.bankcard_slot.as_ref()?);
        Some(tokio::spawn(async move {
            let mut inserted = false;
            // Up to two minutes: a payment can wait on its PIN and its queries that long.
            for _ in 0..4_800 {
                if !inserted {
                    inserted = slot.insert_card();
                } else {
                    let at_gate = slot.position() == bankcard::slot::codec::CardPosition::Gate;
                    if !takes_it_back || (at_gate && slot.take_card()) {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }))
    }

    /// Has the simulated customer hold up a fresh WeChat payment code while the scanner waits (it
    /// is sent at the scanner's next trigger). For the demo with simulated devices only.
    pub fn show_demo_payment_code(backend: &Backend) {
        if let Some(scanner) = &backend.runtime.devices.sims.scanner {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() % 10_000_000_000_000_000);
            scanner.present(&format!("13{nanos:016}"));
        }
    }

    /// The simulated customer's cash: `notes` (in fen) queued at the simulated acceptor, and
    /// the customer, who leaves once every note is dealt with (credited, given back, stuck).
    pub fn cash_customer(
        backend: &Backend,
        notes: &[i64],
    ) -> Result<Box<dyn crate::runtime::CashCustomer>, String> {
        let Some(sim) = &backend.runtime.devices.sims.cash else {
            return Err("--cash with notes needs the simulated acceptor ([devices] simulated = true and [devices.cash])".into());
        };
        for &fen in notes {
            let yuan = u32::try_from(fen / 100)
                .ok()
                .filter(|y| fen % 100 == 0 && cash::config::CNY_NOTES.contains(y));
            let Some(yuan) = yuan else {
                return Err(format!("--cash: {fen} fen is not a note (100, 500, 1000, 2000, 5000 or 10000)"));
            };
            sim.insert(yuan);
        }
        Ok(Box::new(NotesInserted(std::sync::Arc::clone(sim))))
    }

    /// The demo customer at the simulated acceptor: notes that make `amount`, largest first
    /// (a 10-yuan note short of the amount is topped up with the smallest that covers it).
    pub fn insert_demo_notes(backend: &Backend, amount: kiosk_core::Fen) {
        let (Some(sim), Some(device)) = (&backend.runtime.devices.sims.cash, &backend.runtime.devices.cash)
        else {
            return;
        };
        let mut left = amount.0.max(0);
        // Only notes this acceptor is set to take, largest first.
        let mut notes: Vec<u32> =
            device.accepted.iter().rev().filter_map(|f| u32::try_from(f.0 / 100).ok()).collect();
        notes.dedup();
        while left > 0 {
            let yuan = notes
                .iter()
                .copied()
                .find(|y| i64::from(*y) * 100 <= left)
                .or_else(|| notes.last().copied())
                .unwrap_or(1);
            sim.insert(yuan);
            left -= i64::from(yuan) * 100;
        }
    }

    /// A simulated customer who has put in all their notes: gone once the head has dealt with
    /// every one and none is in its hand.
    struct NotesInserted(std::sync::Arc<cash::sim::AcceptorSim>);

    impl crate::runtime::CashCustomer for NotesInserted {
        fn has_left(&self, _intake: &kiosk_core::cash::Intake) -> bool {
            self.0.settled()
        }
    }

    /// Has the simulated customer hold `code` to the simulated scanner (`yizhan pay --present`).
    pub fn present_code(backend: &Backend, code: &str) -> Result<(), String> {
        match &backend.runtime.devices.sims.scanner {
            Some(sim) => {
                sim.present(code);
                Ok(())
            }
            None => Err("--present needs simulated devices ([devices] simulated = true)".into()),
        }
    }
}

/// A production build: nobody but the real customer.
#[cfg(not(feature = "sim"))]
mod absent {
    use crate::backend::Backend;

    pub fn insert_demo_gas_card(_backend: &Backend) -> bool {
        false
    }

    pub fn insert_id_card_when_allowed(_backend: &Backend) {}

    pub fn bank_card_customer(_backend: &Backend, _takes_it_back: bool) {}

    pub fn show_demo_payment_code(_backend: &Backend) {}

    pub fn insert_demo_notes(_backend: &Backend, _amount: kiosk_core::Fen) {}

    pub fn present_code(_backend: &Backend, _code: &str) -> Result<(), String> {
        Err("--present needs the simulated devices, which this build does not have".into())
    }

    pub fn cash_customer(
        _backend: &Backend,
        _notes: &[i64],
    ) -> Result<Box<dyn crate::runtime::CashCustomer>, String> {
        Err("--cash with notes needs the simulated acceptor, which this build does not have".into())
    }
}
