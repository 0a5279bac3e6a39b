//! A prepaid gas meter, as far as the card is concerned (payments.md §5 item 7, hardware.md §3.3).
//!
//! Inserting a user card: the meter reads the card's current purchase (a committed, intact slot,
//! [`crate::gas`]); a count it has not loaded yet is **credited once**, a count it has loaded is
//! a replay and is ignored. Either way it writes back the flag `AA` and the count, so the card
//! reads "loaded" and the kiosk may sell again.

use super::card::SimCard;
use crate::gas;

/// One credit the meter took.
#[derive(Clone, PartialEq, Eq)]
pub struct MeterLoad {
    /// Purchase count.
    pub seq: u32,
    /// The biller's write data.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for MeterLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MeterLoad {{ seq: {}, len: {} }}", self.seq, self.data.len())
    }
}

/// What inserting a card did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeterOutcome {
    /// A new purchase: credited.
    Credited {
        /// Its count.
        seq: u32,
    },
    /// A purchase already loaded: ignored.
    Replayed {
        /// Its count.
        seq: u32,
    },
    /// No intact purchase on the card.
    NothingToLoad,
    /// Not a gas user card.
    NotAUserCard,
}

/// The meter.
#[derive(Clone, Debug, Default)]
pub struct MeterModel {
    last_loaded: u32,
    loads: Vec<MeterLoad>,
}

impl MeterModel {
    /// A meter that has loaded nothing.
    pub fn new() -> Self {
        MeterModel::default()
    }

    /// The credits taken, oldest first.
    pub fn loads(&self) -> &[MeterLoad] {
        &self.loads
    }

    /// The highest purchase count loaded.
    pub fn last_loaded(&self) -> u32 {
        self.last_loaded
    }

    /// The customer inserts `card` into the meter.
    pub fn insert(&mut self, card: &mut SimCard) -> MeterOutcome {
        let Ok(img) = card.image() else { return MeterOutcome::NotAUserCard };
        let Some(p) = img.current else { return MeterOutcome::NothingToLoad };
        let outcome = if p.seq > self.last_loaded {
            self.last_loaded = p.seq;
            self.loads.push(MeterLoad { seq: p.seq, data: p.data });
            MeterOutcome::Credited { seq: p.seq }
        } else {
            MeterOutcome::Replayed { seq: p.seq }
        };
        card.write_as_issuer(gas::WRITE_BACK_FLAG, &[gas::LOADED]);
        card.write_as_issuer(gas::WRITE_BACK_SEQ, &p.seq.to_be_bytes());
        outcome
    }
}
