//! Where the customer is, with what that screen needs: each state carries its own data, so a
//! screen reads in one place and no screen can see a field that means nothing there (no bill on
//! the find-account screen, no outcome before the payment's end).
//!
//! Attract → FindAccount(Finding) → [TopUpAmount(Order)] → Confirm(Order) → Method(Order) →
//! Paying(Payment) → Result(Ending) → Farewell(Ending). The staff screens are not stages: they
//! open over whichever stage the customer is at ([`StaffScreen`]), which stays as it was.

use super::{CashProgress, Command, Found, MethodChoice, Outcome, PayPhase, ReceiptState, Screen, Service};
use crate::Fen;

/// The customer's screen and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    Attract,
    FindAccount(Finding),
    /// A gas card was read: how much to load.
    TopUpAmount(Order),
    Confirm(Order),
    Method(Order),
    Paying(Payment),
    Result(Ending),
    Farewell(Ending),
    OutOfService,
}

/// The account number as it is being entered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountEntry {
    pub digits: String,
    /// Read from an ID card or a bill's barcode, not typed: shown and spoken masked, and the
    /// next typed digit replaces it rather than extending it.
    pub read: bool,
}

/// The find-account screen: the service chosen and the account so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub service: Service,
    pub account: AccountEntry,
    /// A look-up under way: its buttons are disabled until it answers.
    pub lookup: Option<Lookup>,
}

/// What a look-up under way is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// The biller, for the typed (or scanned) account's bill.
    Biller,
    /// The scanner, for a paper bill's barcode.
    BillScan,
    /// The ID card slot, for the card and then the joint account.
    IdCard,
    /// The IC card slot, for the gas card.
    GasCard,
}

impl Lookup {
    /// The device read that starts this look-up; None for the biller (asked with the number).
    pub fn device_read(self) -> Option<Command> {
        match self {
            Lookup::Biller => None,
            Lookup::BillScan => Some(Command::ScanBill),
            Lookup::IdCard => Some(Command::ReadIdCard),
            Lookup::GasCard => Some(Command::ReadGasCard),
        }
    }
}

/// What the customer is about to pay, from the confirm screen to the payment's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub service: Service,
    /// As entered, so that 返回修改 finds it still typed.
    pub account: AccountEntry,
    pub found: Found,
    /// A gas card's top-up amount, once chosen.
    pub top_up: Option<Fen>,
}

impl Order {
    /// The amount to pay, once known (a gas card's only after the amount is chosen).
    pub fn amount(&self) -> Option<Fen> {
        match &self.found {
            Found::Bill(bill) => Some(bill.amount_due),
            Found::Joint(joint) => joint.total(),
            Found::GasCard(_) => self.top_up,
        }
    }

    /// Cash beyond the amount due is credited to the account as prepayment (预存): some biller
    /// of the order takes it. Otherwise no note larger than what is still due is taken.
    pub fn cash_overpay_prepaid(&self) -> bool {
        match &self.found {
            Found::Bill(bill) => bill.prepayment,
            // Only a bill with something due becomes a line of the order (as the runtime sees it).
            Found::Joint(joint) => joint.bills.iter().any(|b| b.prepayment && b.amount_due.is_positive()),
            Found::GasCard(_) => false,
        }
    }

    /// Notes of at least `smallest` can pay this order: the amount is whole notes, or a biller
    /// takes the rest as prepayment (no change is given).
    pub fn payable_in_notes(&self, smallest: Fen) -> bool {
        let Some(amount) = self.amount() else { return false };
        smallest.is_positive() && (self.cash_overpay_prepaid() || amount.0 % smallest.0 == 0)
    }
}

/// A payment under way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub order: Order,
    pub method: MethodChoice,
    /// None: nothing is under way (a code could not be read; 重新扫码 or 返回).
    pub phase: Option<PayPhase>,
    /// The countdown marks (seconds left) already said while waiting for a code.
    pub(super) countdown_said: Vec<i64>,
    /// Cash: what the acceptor has taken so far (None before the first news).
    pub cash: Option<CashProgress>,
}

impl Payment {
    pub fn new(order: Order, method: MethodChoice, phase: PayPhase) -> Payment {
        Payment { order, method, phase: Some(phase), countdown_said: Vec::new(), cash: None }
    }

    /// The pay request may have reached the channel: from here only the payment's end counts.
    /// Cash counts from its first note, which only the payment's end (Finished) reports.
    pub fn request_sent(&self) -> bool {
        !matches!(
            self.phase,
            None | Some(
                PayPhase::WaitingForCode { .. }
                    | PayPhase::WaitingForCard
                    | PayPhase::CashRule
                    | PayPhase::TakingCash
            )
        )
    }

    /// Cash credited so far.
    pub fn cash_inserted(&self) -> Fen {
        self.cash.as_ref().map_or(Fen::ZERO, |c| c.inserted)
    }
}

/// The end of a payment: the result screen and the farewell after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ending {
    pub order: Order,
    pub method: MethodChoice,
    pub outcome: Outcome,
    pub receipt: ReceiptState,
}

/// A staff screen, open over the customer's stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffScreen {
    SignIn { pin: String },
    Panel,
}

impl Stage {
    /// The screen this stage shows.
    pub fn screen(&self) -> Screen {
        match self {
            Stage::Attract => Screen::Attract,
            Stage::FindAccount(_) => Screen::FindAccount,
            Stage::TopUpAmount(_) => Screen::TopUpAmount,
            Stage::Confirm(_) => Screen::Confirm,
            Stage::Method(_) => Screen::Method,
            Stage::Paying(_) => Screen::Paying,
            Stage::Result(_) => Screen::Result,
            Stage::Farewell(_) => Screen::Farewell,
            Stage::OutOfService => Screen::OutOfService,
        }
    }

    /// The service chosen, once the customer chose one.
    pub fn service(&self) -> Option<Service> {
        match self {
            Stage::FindAccount(finding) => Some(finding.service),
            _ => self.order().map(|order| order.service),
        }
    }

    /// What is being paid, from the moment it was found.
    pub fn order(&self) -> Option<&Order> {
        match self {
            Stage::TopUpAmount(order) | Stage::Confirm(order) | Stage::Method(order) => Some(order),
            Stage::Paying(payment) => Some(&payment.order),
            Stage::Result(ending) | Stage::Farewell(ending) => Some(&ending.order),
            Stage::Attract | Stage::FindAccount(_) | Stage::OutOfService => None,
        }
    }

    /// How the customer pays, once chosen.
    pub fn method(&self) -> Option<MethodChoice> {
        match self {
            Stage::Paying(payment) => Some(payment.method),
            Stage::Result(ending) | Stage::Farewell(ending) => Some(ending.method),
            _ => None,
        }
    }

    /// The payment's end, on the result and the farewell.
    pub fn ending(&self) -> Option<&Ending> {
        match self {
            Stage::Result(ending) | Stage::Farewell(ending) => Some(ending),
            _ => None,
        }
    }
}
