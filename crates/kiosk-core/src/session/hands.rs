//! Which parts of the kiosk's face the customer must use with their hands now: the screen shows a
//! picture of the kiosk with these parts ringed (issue 11, "where" pictures), on both screens.

use super::stage::{Lookup, Stage};
use super::{MethodChoice, PayPhase, ReceiptState, Service, Session};

/// The parts of the kiosk's face a customer touches, each true when it matters now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandsOn {
    /// Where a payment code (or a paper bill's barcode) is held.
    pub scan_window: bool,
    /// The motorised resident ID card slot.
    pub id_slot: bool,
    /// The IC card slot that takes prepaid gas cards.
    pub ic_slot: bool,
    /// The bank card terminal: its card slot and PIN pad.
    pub card_terminal: bool,
    /// Where the receipt or slip comes out.
    pub receipt_exit: bool,
    /// The banknote acceptor's slot.
    pub note_slot: bool,
}

impl HandsOn {
    pub fn any(&self) -> bool {
        self.scan_window
            || self.id_slot
            || self.ic_slot
            || self.card_terminal
            || self.receipt_exit
            || self.note_slot
    }
}

/// What the customer takes away at the end, each card and paper they have (said by the farewell,
/// pointed at by the picture).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TakeAway {
    pub gas_card: bool,
    pub bank_card: bool,
    pub paper: Option<Printout>,
}

/// The paper the kiosk printed for the customer to take (not the printer's paper roll).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Printout {
    /// Printed on its own when the money is not settled yet.
    Slip,
    /// Printed because the customer asked for it.
    Receipt,
}

impl Session {
    /// What the customer has to take: the gas card from the moment it is in, and at the end
    /// the bank card (unless the slot kept it) and the paper printed.
    pub fn take_away(&self) -> TakeAway {
        let gas_card = self.service() == Some(Service::GasCard);
        let Some(ending) = self.stage.ending() else { return TakeAway { gas_card, ..TakeAway::default() } };
        let paper = if ending.outcome.slip_printed {
            Some(Printout::Slip)
        } else if ending.receipt == ReceiptState::Printed {
            Some(Printout::Receipt)
        } else {
            None
        };
        TakeAway {
            gas_card,
            bank_card: ending.method == MethodChoice::BankCard && !ending.outcome.card_kept,
            paper,
        }
    }

    /// The parts to point at on this screen: where to put or hold something, and on the
    /// farewell exactly what to take back (the same list it says).
    pub fn hands_on(&self) -> HandsOn {
        if self.staff_screen.is_some() {
            return HandsOn::default();
        }
        match &self.stage {
            Stage::FindAccount(finding) => HandsOn {
                ic_slot: finding.service == Service::GasCard,
                scan_window: finding.lookup == Some(Lookup::BillScan),
                id_slot: finding.lookup == Some(Lookup::IdCard),
                ..HandsOn::default()
            },
            Stage::Paying(payment) => match payment.phase {
                Some(PayPhase::WaitingForCode { .. }) => HandsOn { scan_window: true, ..HandsOn::default() },
                Some(PayPhase::WaitingForCard | PayPhase::WaitingForCardPin) => {
                    HandsOn { card_terminal: true, ..HandsOn::default() }
                }
                Some(PayPhase::WritingCard) => HandsOn { ic_slot: true, ..HandsOn::default() },
                Some(PayPhase::CashRule | PayPhase::TakingCash) => {
                    HandsOn { note_slot: true, ..HandsOn::default() }
                }
                _ => HandsOn::default(),
            },
            // The result's columns are full (the outcome, what was paid, the receipt offer): the
            // picture of what to take comes with the farewell, the moment they are taken.
            Stage::Farewell(_) => {
                let take = self.take_away();
                HandsOn {
                    ic_slot: take.gas_card,
                    card_terminal: take.bank_card,
                    receipt_exit: take.paper.is_some(),
                    ..HandsOn::default()
                }
            }
            _ => HandsOn::default(),
        }
    }
}
