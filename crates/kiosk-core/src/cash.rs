//! Cash money rules: one customer's notes, from the first to the last, journal first. Pure and
//! exhaustive like the payment machine; `drivers/cash` speaks the acceptor's bytes and the
//! runtime journals the [`Intake`] after each step **before** it carries out the effects —
//! so a note is on record in escrow before STACK is sent, and credited before its VEND VALID is
//! ACKed (payments.md §8, hardware.md §9).
//!
//! ```text
//! head says            intake                                   → effects
//! escrow, value fits   note on record as escrowed                → Stack
//!   (again)            the same note: STACK may have been lost   → Stack
//!   too big ¹ | unknown value | intake closed                    → Return (never credited)
//! VEND VALID           the escrowed note credited (once)         → AckVendValid, TakeNotes, Paid if paid
//!   (again, ACK lost)  already credited: nothing more            → AckVendValid
//!   (no note escrowed) an unknown note in the box, for staff     → AckVendValid
//! idle | stacked       a credited note is in the box; a note still escrowed went unseen:
//!                      in doubt (staff)                          → TakeNotes if it changed
//! busy (accepting, stacking, holding, pause, initialize)        → —
//! returned | rejected  the escrowed note went back               → —
//! power up, bill in acceptor   the escrowed note goes back       → Reset, TakeNotes
//! power up, bill in stacker    the escrowed note credited once ² → Reset, TakeNotes, Paid if paid
//! power up, no bill    an escrowed note is in doubt ³            → Reset, TakeNotes
//! jam                  the escrowed note is stuck (staff); if a VEND VALID or a power-up in
//!                      the stacker follows, it is credited then  → —
//! cheated              the escrowed note was pulled back         → —
//! box full or out      no more cash now; a note being stacked is stuck → TakeNotes(Stop)
//!   escrow after the customer left (walk_away)                  → Return
//! ```
//!
//! ¹ The kiosk gives no change: unless the biller takes an overpayment as prepayment (预存), a
//! note larger than what is still due is returned, and [`Limit`] tells the driver to refuse the
//! larger notes as the amount due falls. ² A note escrowed on record whose power-up says "in the
//! stacker" is in the box: credited exactly once, however often the head says so. A note in the
//! stacker with nothing on record (STACK is only sent after the escrow is on record, so the head
//! stacked it by itself) is not credited blindly: it is an anomaly for staff, and the cash-box
//! count at collection settles it. ³ The head lost track of it: returned or boxed, only the
//! box count can tell; it is held for staff, never credited or dropped silently.

use crate::money::Fen;
use serde::{Deserialize, Serialize};

/// What the acceptor reported, reduced to what money depends on (the driver maps its statuses
/// here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    /// ENABLE or DISABLE: no note in hand. A note still on record as escrowed went somewhere
    /// unseen (returned or boxed): it is held in doubt for staff.
    Idle,
    /// STACKED: the note in hand is in the box ("STACKED closes the note", hardware.md §9). A
    /// note still on record as escrowed is credited: its VEND VALID was missed between two
    /// polls, but the money is in the box. Otherwise as [`Head::Idle`].
    Stacked,
    /// ACCEPTING, STACKING, HOLDING, PAUSE, INITIALIZE: the head is busy; nothing to decide.
    Busy,
    /// A note is in escrow; `None` when its escrow code is not in the head's currency table.
    Escrow(Option<Fen>),
    /// VEND VALID: the note is past the point of return.
    VendValid,
    /// REJECTING or RETURNING: the note in hand goes back to the customer.
    Returned,
    /// Powered up; where a note was when the power went.
    PowerUp(BillInside),
    /// JAM IN ACCEPTOR: a note is stuck on its way in (one the head may never have valued).
    Jam,
    /// JAM IN STACKER or FAILURE: the head is out of order. A note in escrow is stuck; with
    /// none, no new note is involved (a stacker jam after VEND VALID is of a note already
    /// credited).
    Fault,
    /// The head saw a note pulled back.
    Cheated,
    /// The cash box is full, open or removed; a note being stacked is stuck (staff).
    BoxUnavailable,
}

impl Head {
    /// No note is moving: the intake may end here.
    pub fn at_rest(self) -> bool {
        matches!(
            self,
            Head::Idle | Head::Stacked | Head::Jam | Head::Fault | Head::BoxUnavailable | Head::Cheated
        )
    }
}

/// Where a power-up status says a note is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillInside {
    /// POWER UP: none.
    None,
    /// WITH BILL IN ACCEPTOR: not yet in the box; RESET gives it back.
    Acceptor,
    /// WITH BILL IN STACKER: on its way into the box.
    Stacker,
}

/// What the runtime does after journaling the intake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CashEffect {
    /// STACK-1 the note in escrow.
    Stack,
    /// RETURN the note in escrow.
    Return,
    /// ACK the VEND VALID (the credit is on record).
    AckVendValid,
    /// RESET the head after a power-up.
    Reset,
    /// Which notes the head may take from now on (the driver's denomination mask and inhibit).
    TakeNotes(Limit),
    /// The amount due is covered: the payment goes on to its write-offs.
    Paid,
}

/// Which notes the head may take next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Limit {
    /// Any note the kiosk takes (an overpayment becomes prepayment).
    Any,
    /// Notes of at most this value (no change is given).
    UpTo(Fen),
    /// None: inhibit.
    Stop,
}

/// What the biller does with money beyond the amount due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Overpay {
    /// Credits it to the account as prepayment (预存).
    Prepayment,
    /// Takes no more than is due: larger notes are refused.
    Refused,
}

impl Overpay {
    /// What the billers of `order` do with more than is due: prepayment when the line the
    /// excess would go to ([`crate::Order::for_cash`]) is a bill whose biller takes it.
    pub fn of(order: &crate::Order) -> Overpay {
        let takes = |l: &crate::OrderLine| matches!(l.kind, crate::LineKind::Bill { prepayment: true, .. });
        if order.lines.iter().any(takes) {
            Overpay::Prepayment
        } else {
            Overpay::Refused
        }
    }
}

/// Where one note stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoteState {
    /// In escrow, on record; STACK is (being) sent.
    Escrowed,
    /// VEND VALID seen and on record: the customer's money. Stays so in the box.
    Credited,
    /// Given back (returned, rejected, reset in the acceptor, pulled back).
    Returned,
    /// Stuck in a jam: neither the customer's credit nor given back; for staff.
    Stuck,
    /// The head lost track of it at a power cut: returned or boxed; for staff.
    InDoubt,
}

impl NoteState {
    /// Held for staff: stuck in a jam, or in doubt.
    pub fn is_held(self) -> bool {
        matches!(self, NoteState::Stuck | NoteState::InDoubt)
    }
}

/// One note of the intake: the custody record (value, fate) the cash-box count is checked
/// against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Its value; `None` for a note whose escrow code the head did not list, or one found in
    /// the box with nothing on record.
    pub value: Option<Fen>,
    /// Where it stands.
    pub state: NoteState,
}

/// One customer's cash: the amount due, the notes so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intake {
    /// What the payment needs.
    pub due: Fen,
    /// What the biller does with more.
    pub overpay: Overpay,
    /// Every note seen, in order.
    pub notes: Vec<Note>,
    /// The customer left before paying in full ([`Intake::walk_away`]).
    pub walked_away: bool,
    /// Notes found in the box with nothing on record (VEND VALID or a power-up in the stacker
    /// without an escrowed note): for staff and the collection count.
    pub anomalies: u32,
    /// `Paid` was given (once).
    pub paid: bool,
    /// The limit last given to the driver, so a change is sent when the head is idle again.
    pub limit_sent: Option<Limit>,
    /// The head's jam is on record: a jam lasts through RESET and power-ups until staff clear
    /// it, and is said again each time; its note is held once. Cleared when the head works.
    #[serde(default)]
    pub jam_on_record: bool,
}

/// How an intake ended, for the payment and the receipt or slip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CashTotals {
    /// Credited to the customer.
    pub credited: Fen,
    /// Beyond the amount due (prepayment).
    pub overpaid: Fen,
    /// Stuck in a jam or in doubt: held for staff, printed on the slip.
    pub held: Fen,
    /// Held notes whose value was never read (caught in the reader): not in `held`.
    pub held_unknown: u32,
}

impl CashTotals {
    /// Whether any note is held for staff, of known value or not.
    pub fn holds_any(&self) -> bool {
        self.held.is_positive() || self.held_unknown > 0
    }
}

impl Intake {
    /// A new intake of `due`.
    pub fn new(due: Fen, overpay: Overpay) -> Intake {
        Intake {
            due,
            overpay,
            notes: Vec::new(),
            walked_away: false,
            anomalies: 0,
            paid: false,
            limit_sent: None,
            jam_on_record: false,
        }
    }

    /// The sum of the notes in `state`.
    fn sum(&self, state: NoteState) -> Fen {
        Fen(self.notes.iter().filter(|n| n.state == state).filter_map(|n| n.value).map(|v| v.0).sum())
    }

    /// No more notes: paid, or the customer left.
    pub fn closed(&self) -> bool {
        self.paid || self.walked_away
    }

    /// Credited so far.
    pub fn credited(&self) -> Fen {
        self.sum(NoteState::Credited)
    }

    /// Still due, counting a note in escrow as paid (it is being stacked).
    pub fn still_due(&self) -> Fen {
        let covered = self.credited() + self.sum(NoteState::Escrowed);
        Fen((self.due.0 - covered.0).max(0))
    }

    /// Which notes the head may take now.
    pub fn limit(&self) -> Limit {
        let left = self.still_due();
        if self.closed() || left.0 == 0 {
            Limit::Stop
        } else if self.overpay == Overpay::Prepayment {
            Limit::Any
        } else {
            Limit::UpTo(left)
        }
    }

    fn has_escrowed(&self) -> bool {
        self.notes.iter().any(|n| n.state == NoteState::Escrowed)
    }

    fn escrowed(&mut self) -> Option<&mut Note> {
        self.notes.iter_mut().rev().find(|n| n.state == NoteState::Escrowed)
    }

    /// The note a VEND VALID or a power-up in the stacker credits: the escrowed one, or the
    /// last one if a jam, a box pulled or an unseen move left it held for staff (it reached the
    /// box after all).
    fn note_to_credit(&mut self) -> Option<&mut Note> {
        if self.has_escrowed() {
            return self.escrowed();
        }
        // A note stuck before its value was read never reached the box.
        self.notes.last_mut().filter(|n| n.state.is_held() && n.value.is_some())
    }

    /// Credits the note [`Intake::note_to_credit`] names; whether there was one. Otherwise a note in
    /// the box that is not the last credited one is an anomaly (a repeated VEND VALID after a
    /// lost ACK is not).
    fn credit(&mut self) -> bool {
        if let Some(note) = self.note_to_credit() {
            note.state = NoteState::Credited;
            return true;
        }
        if !self.notes.last().is_some_and(|n| n.state == NoteState::Credited) {
            self.anomalies += 1;
        }
        false
    }

    /// The limit now, remembered as sent.
    fn take_notes(&mut self) -> CashEffect {
        let limit = self.limit();
        self.limit_sent = Some(limit);
        CashEffect::TakeNotes(limit)
    }

    /// One status from the head.
    pub fn step(&mut self, head: Head) -> Vec<CashEffect> {
        if matches!(head, Head::Idle | Head::Stacked | Head::Escrow(_)) {
            // The head takes notes again: a later jam is a new one.
            self.jam_on_record = false;
        }
        match head {
            Head::Escrow(value) => self.escrow(value),
            Head::VendValid => self.vend_valid(),
            Head::Busy => vec![],
            Head::Stacked if self.has_escrowed() => {
                self.credit();
                let mut effects = vec![self.take_notes()];
                effects.extend(self.paid());
                effects
            }
            Head::Idle | Head::Stacked => {
                self.settle_escrowed(NoteState::InDoubt);
                if self.limit_sent == Some(self.limit()) {
                    vec![]
                } else {
                    vec![self.take_notes()]
                }
            }
            Head::Returned | Head::Cheated => {
                self.settle_escrowed(NoteState::Returned);
                vec![]
            }
            Head::PowerUp(inside) => {
                match inside {
                    BillInside::Acceptor => {
                        self.settle_escrowed(NoteState::Returned);
                    }
                    BillInside::Stacker => {
                        self.credit();
                    }
                    BillInside::None => {
                        self.settle_escrowed(NoteState::InDoubt);
                    }
                }
                let mut effects = vec![CashEffect::Reset, self.take_notes()];
                effects.extend(self.paid());
                effects
            }
            Head::Jam => {
                // A jam with no note in escrow caught one on its way in, before the head could
                // say its value: on record as stuck, so the customer's slip and the staff count
                // know of it. Once per jam, however often the head says it (after a RESET or a
                // power-up, whatever became of the note in between).
                if !std::mem::replace(&mut self.jam_on_record, true)
                    && !self.settle_escrowed(NoteState::Stuck)
                {
                    self.notes.push(Note { value: None, state: NoteState::Stuck });
                }
                vec![]
            }
            Head::Fault => {
                self.settle_escrowed(NoteState::Stuck);
                vec![]
            }
            Head::BoxUnavailable => {
                self.settle_escrowed(NoteState::Stuck);
                self.limit_sent = Some(Limit::Stop);
                vec![CashEffect::TakeNotes(Limit::Stop)]
            }
        }
    }

    fn escrow(&mut self, value: Option<Fen>) -> Vec<CashEffect> {
        let closed = self.closed();
        if let Some(note) = self.escrowed() {
            // The same note, still in escrow: the STACK may not have reached the head. After
            // the customer left, it goes back (the RETURN may not have).
            let again = note.value == value && !closed;
            return if again { vec![CashEffect::Stack] } else { vec![CashEffect::Return] };
        }
        let fits = match (value, self.limit()) {
            (Some(v), Limit::Any) => v.is_positive(),
            (Some(v), Limit::UpTo(most)) => v.is_positive() && v <= most,
            (_, Limit::Stop) | (None, _) => false,
        };
        if !fits {
            self.notes.push(Note { value, state: NoteState::Returned });
            return vec![CashEffect::Return];
        }
        self.notes.push(Note { value, state: NoteState::Escrowed });
        vec![CashEffect::Stack]
    }

    fn vend_valid(&mut self) -> Vec<CashEffect> {
        if !self.credit() {
            return vec![CashEffect::AckVendValid];
        }
        let mut effects = vec![CashEffect::AckVendValid, self.take_notes()];
        effects.extend(self.paid());
        effects
    }

    /// Moves the escrowed note (if any) to `to`; whether there was one.
    fn settle_escrowed(&mut self, to: NoteState) -> bool {
        match self.escrowed() {
            Some(note) => {
                note.state = to;
                true
            }
            None => false,
        }
    }

    /// `Paid` once the amount due is credited (even by a note that went in after the customer
    /// left), closing the intake.
    fn paid(&mut self) -> Option<CashEffect> {
        (!self.paid && self.credited() >= self.due).then(|| {
            self.paid = true;
            CashEffect::Paid
        })
    }

    /// The customer left before paying in full: no more notes; a note in escrow goes back (it
    /// was never credited). What was credited is written off as a partial payment.
    pub fn walk_away(&mut self) -> Vec<CashEffect> {
        self.walked_away = true;
        let mut effects = vec![self.take_notes()];
        if self.escrowed().is_some() {
            effects.push(CashEffect::Return);
        }
        effects
    }

    /// The head is gone or never came to rest: nothing more can be asked of it. A note still
    /// on record as escrowed is held in doubt for staff (never credited, never forgotten), and
    /// an intake still open ends as if the customer left. Nothing is sent.
    pub fn give_up(&mut self) {
        self.settle_escrowed(NoteState::InDoubt);
        if !self.closed() {
            self.walked_away = true;
        }
    }

    /// The totals so far.
    pub fn totals(&self) -> CashTotals {
        let credited = self.credited();
        CashTotals {
            credited,
            overpaid: Fen((credited.0 - self.due.0).max(0)),
            held: self.sum(NoteState::Stuck) + self.sum(NoteState::InDoubt),
            held_unknown: self.notes.iter().filter(|n| n.state.is_held() && n.value.is_none()).count() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CashEffect::*;

    const Y10: Fen = Fen(1000);
    const Y20: Fen = Fen(2000);
    const Y50: Fen = Fen(5000);
    const Y100: Fen = Fen(10_000);

    #[test]
    fn an_exact_payment_in_two_notes() {
        let mut intake = Intake::new(Fen(7000), Overpay::Refused);
        assert_eq!(intake.limit(), Limit::UpTo(Fen(7000)));
        assert_eq!(intake.step(Head::Escrow(Some(Y50))), [Stack]);
        assert_eq!(intake.step(Head::VendValid), [AckVendValid, TakeNotes(Limit::UpTo(Y20))]);
        assert_eq!(intake.step(Head::Idle), []);
        assert_eq!(intake.step(Head::Escrow(Some(Y20))), [Stack]);
        assert_eq!(intake.step(Head::VendValid), [AckVendValid, TakeNotes(Limit::Stop), Paid]);
        assert_eq!(
            intake.totals(),
            CashTotals { credited: Fen(7000), overpaid: Fen(0), held: Fen(0), held_unknown: 0 }
        );
    }

    #[test]
    fn without_prepayment_a_note_larger_than_what_is_due_goes_back_uncredited() {
        let mut intake = Intake::new(Fen(3000), Overpay::Refused);
        assert_eq!(intake.step(Head::Escrow(Some(Y50))), [Return]);
        assert_eq!(intake.step(Head::Returned), []);
        assert_eq!(intake.credited(), Fen(0));
        assert_eq!(intake.notes[0].state, NoteState::Returned);
    }

    #[test]
    fn with_prepayment_the_rest_of_a_large_note_is_prepaid() {
        let mut intake = Intake::new(Fen(7000), Overpay::Prepayment);
        assert_eq!(intake.limit(), Limit::Any);
        intake.step(Head::Escrow(Some(Y100)));
        assert_eq!(intake.step(Head::VendValid), [AckVendValid, TakeNotes(Limit::Stop), Paid]);
        assert_eq!(intake.totals().overpaid, Fen(3000));
    }

    #[test]
    fn a_lost_ack_brings_vend_valid_again_and_credits_nothing_more() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y10)));
        intake.step(Head::VendValid);
        assert_eq!(intake.step(Head::VendValid), [AckVendValid]);
        assert_eq!((intake.credited(), intake.anomalies), (Y10, 0));
    }

    #[test]
    fn a_repeated_escrow_sends_stack_again_for_the_same_note() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        assert_eq!(intake.step(Head::Escrow(Some(Y20))), [Stack]);
        assert_eq!(intake.notes.len(), 1);
    }

    #[test]
    fn a_power_cut_decides_by_where_the_note_was() {
        // In the acceptor: RESET gives it back, never credited.
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y50)));
        assert_eq!(
            intake.step(Head::PowerUp(BillInside::Acceptor)),
            [Reset, TakeNotes(Limit::UpTo(Fen(10_000)))]
        );
        assert_eq!(intake.credited(), Fen(0));
        // In the stacker, escrow on record: credited once, however often the head says so.
        let mut intake = Intake::new(Fen(5000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y50)));
        assert_eq!(intake.step(Head::PowerUp(BillInside::Stacker)), [Reset, TakeNotes(Limit::Stop), Paid]);
        assert_eq!(intake.step(Head::PowerUp(BillInside::Stacker)), [Reset, TakeNotes(Limit::Stop)]);
        assert_eq!((intake.credited(), intake.anomalies), (Y50, 0));
        // In the stacker with nothing on record: not credited blindly, counted for staff.
        let mut intake = Intake::new(Fen(5000), Overpay::Refused);
        intake.step(Head::PowerUp(BillInside::Stacker));
        assert_eq!((intake.credited(), intake.anomalies), (Fen(0), 1));
        // No bill, yet one was escrowed: in doubt, held for staff.
        let mut intake = Intake::new(Fen(5000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.step(Head::PowerUp(BillInside::None));
        assert_eq!(
            intake.totals(),
            CashTotals { credited: Fen(0), overpaid: Fen(0), held: Y20, held_unknown: 0 }
        );
    }

    #[test]
    fn a_jam_holds_the_note_for_staff_and_a_cheat_credits_nothing() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.step(Head::Jam);
        assert_eq!(intake.totals().held, Y20);
        intake.step(Head::Escrow(Some(Y10)));
        intake.step(Head::Cheated);
        assert_eq!(intake.credited(), Fen(0));
        assert_eq!(intake.notes[1].state, NoteState::Returned);
    }

    #[test]
    fn a_note_jammed_in_the_reader_before_its_value_is_on_record_once_and_never_credited() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.step(Head::VendValid);
        // ACCEPTOR JAM while the next note is drawn in: no escrow, no value.
        intake.step(Head::Jam);
        intake.step(Head::Jam);
        let stuck = Note { value: None, state: NoteState::Stuck };
        assert_eq!(intake.notes[1..], [stuck], "one note, however often the head says so");
        assert_eq!((intake.totals().held, intake.totals().held_unknown), (Fen(0), 1));
        assert!(intake.totals().holds_any());
        // Cleared and powered up with nothing in the stacker: nothing more is credited.
        intake.step(Head::PowerUp(BillInside::Stacker));
        assert_eq!((intake.credited(), intake.anomalies), (Y20, 1));
        assert_eq!(intake.notes[1].state, NoteState::Stuck);
    }

    #[test]
    fn a_stacker_jam_after_vend_valid_or_a_failure_adds_no_note() {
        // The credited note jams in the stacker: it is in the box's path and already counted;
        // no second, unknown note goes on hold.
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.step(Head::VendValid);
        intake.step(Head::Fault);
        assert_eq!(intake.notes.len(), 1, "{:?}", intake.notes);
        assert_eq!((intake.credited(), intake.totals().holds_any()), (Y20, false));
        // A failure while a note waits in escrow: that note is stuck for staff.
        intake.step(Head::Escrow(Some(Y10)));
        intake.step(Head::Fault);
        assert_eq!((intake.notes[1].state, intake.totals().held), (NoteState::Stuck, Y10));
        assert!(Head::Fault.at_rest());
    }

    #[test]
    fn stacked_credits_a_note_whose_vend_valid_was_missed_and_only_once() {
        let mut intake = Intake::new(Fen(2000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        // VEND VALID came and went between two polls; STACKED says the note is in the box.
        let effects = intake.step(Head::Stacked);
        assert_eq!(intake.credited(), Y20);
        assert!(effects.contains(&CashEffect::Paid), "{effects:?}");
        assert!(!effects.contains(&CashEffect::AckVendValid), "nothing to ACK: {effects:?}");
        // Said again, or after a VEND VALID that was seen: nothing more.
        intake.step(Head::Stacked);
        assert_eq!((intake.credited(), intake.anomalies), (Y20, 0));
        let mut seen = Intake::new(Fen(2000), Overpay::Refused);
        seen.step(Head::Escrow(Some(Y20)));
        seen.step(Head::VendValid);
        seen.step(Head::Stacked);
        assert_eq!((seen.credited(), seen.notes.len()), (Y20, 1));
        // ENABLE with a note on record as escrowed: still in doubt, not credited.
        let mut unseen = Intake::new(Fen(2000), Overpay::Refused);
        unseen.step(Head::Escrow(Some(Y20)));
        unseen.step(Head::Idle);
        assert_eq!((unseen.credited(), unseen.totals().held), (Fen(0), Y20));
    }

    /// From the review: a jam said again after a power-up that settled its note (credited from
    /// the stacker) must not put a second, unknown note on hold beside the credited one.
    #[test]
    fn a_jam_said_again_after_a_power_up_holds_no_second_note() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.step(Head::Jam);
        intake.step(Head::PowerUp(BillInside::Stacker));
        intake.step(Head::Jam);
        assert_eq!(intake.notes.len(), 1, "{:?}", intake.notes);
        let totals = intake.totals();
        assert_eq!(totals.credited + totals.held, Y20, "{totals:?}");
        assert_eq!(totals.held_unknown, 0);
        // Once the head takes notes again, a new jam is a new note.
        intake.step(Head::Idle);
        intake.step(Head::Jam);
        assert_eq!(intake.totals().held_unknown, 1);
    }

    #[test]
    fn a_customer_who_walks_away_gets_the_note_in_escrow_back_and_keeps_the_credit() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.step(Head::VendValid);
        intake.step(Head::Escrow(Some(Y50)));
        assert_eq!(intake.walk_away(), [TakeNotes(Limit::Stop), Return]);
        intake.step(Head::Returned);
        assert_eq!(intake.totals().credited, Y20);
        // Closed: a note pushed in now goes back.
        assert_eq!(intake.step(Head::Escrow(Some(Y10))), [Return]);
    }

    #[test]
    fn an_unknown_note_or_a_box_out_takes_no_money() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Prepayment);
        assert_eq!(intake.step(Head::Escrow(None)), [Return]);
        assert_eq!(intake.step(Head::BoxUnavailable), [TakeNotes(Limit::Stop)]);
        assert_eq!(intake.step(Head::VendValid), [AckVendValid]);
        assert_eq!((intake.credited(), intake.anomalies), (Fen(0), 1));
    }

    #[test]
    fn after_the_customer_left_the_note_in_escrow_goes_back_even_if_asked_again() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.walk_away();
        // The RETURN has not reached the head yet: it still says escrow.
        assert_eq!(intake.step(Head::Escrow(Some(Y20))), [Return]);
        assert_eq!(intake.notes.len(), 1);
    }

    #[test]
    fn a_box_pulled_mid_stack_holds_the_note_and_cash_opens_again_when_the_box_is_back() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        assert_eq!(intake.step(Head::BoxUnavailable), [TakeNotes(Limit::Stop)]);
        assert_eq!(intake.notes[0].state, NoteState::Stuck);
        assert_eq!(intake.still_due(), Fen(10_000), "a held note does not pay");
        assert_eq!(intake.step(Head::Idle), [TakeNotes(Limit::UpTo(Fen(10_000)))]);
        assert_eq!(intake.step(Head::Idle), [], "sent once");
    }

    #[test]
    fn a_jammed_note_that_reaches_the_box_after_all_is_credited_once() {
        let mut intake = Intake::new(Fen(2000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.step(Head::Jam);
        assert_eq!(intake.step(Head::VendValid), [AckVendValid, TakeNotes(Limit::Stop), Paid]);
        assert_eq!(intake.step(Head::VendValid), [AckVendValid]);
        assert_eq!((intake.credited(), intake.anomalies, intake.totals().held), (Y20, 0, Fen(0)));
    }

    #[test]
    fn a_note_that_goes_in_after_the_customer_left_still_pays() {
        let mut intake = Intake::new(Fen(2000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.walk_away();
        // The STACK got there before the RETURN.
        assert_eq!(intake.step(Head::VendValid), [AckVendValid, TakeNotes(Limit::Stop), Paid]);
    }

    #[test]
    fn a_note_the_head_went_idle_with_is_held_in_doubt() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y50)));
        assert_eq!(intake.step(Head::Busy), []);
        intake.step(Head::Idle);
        assert_eq!(intake.totals().held, Y50);
        assert_eq!(intake.credited(), Fen(0));
    }

    #[test]
    fn giving_up_on_a_head_holds_the_note_in_hand_in_doubt_and_ends_the_intake() {
        let mut intake = Intake::new(Fen(10_000), Overpay::Refused);
        intake.step(Head::Escrow(Some(Y20)));
        intake.step(Head::VendValid);
        intake.step(Head::Escrow(Some(Y50)));
        intake.give_up();
        assert!(intake.closed() && intake.walked_away);
        assert_eq!(
            intake.totals(),
            CashTotals { credited: Y20, overpaid: Fen(0), held: Y50, held_unknown: 0 }
        );
        assert!(intake.notes.iter().all(|n| n.state != NoteState::Escrowed), "{:?}", intake.notes);
    }
}
