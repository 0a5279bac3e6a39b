//! What the ID reader, its slot and its button report without being asked.
//!
//! Published on a `tokio::sync::broadcast` channel ([`crate::SlotHandle::subscribe`]). The
//! runtime shows feedback (a beep and "keep holding…" at [`IdEvent::ButtonPressed`], "please take
//! your card" at [`IdEvent::CardEjected`]) and journals the forced-eject ones with the time and
//! the transaction in progress, so payments can be reconciled (hardware.md §1.8). No event
//! carries personal data.

use catalogue::Text;

/// One event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdEvent {
    /// The red button is down (debounced): feedback "hold 3 seconds to get your card back".
    ButtonPressed,
    /// The red button is up again after `held_ms`.
    ButtonReleased {
        /// How long it was held, in milliseconds.
        held_ms: u64,
    },
    /// Held for 3 s: the forced eject starts; whatever the reader was doing is abandoned.
    ForceEject,
    /// The card is at the gate (held), ready to be taken.
    CardEjected {
        /// True when the button caused it.
        forced: bool,
    },
    /// A forced eject found no card in the slot.
    NothingToEject,
    /// The card could not be ejected (jam, motor, power): the slot is out of service, call staff.
    EjectFailed,
    /// A card went into the slot.
    CardInserted,
    /// The customer took the card from the gate.
    CardTaken,
}

impl IdEvent {
    /// Words for the screen (`None`: nothing to show).
    pub fn message(self) -> Option<Text> {
        Some(match self {
            IdEvent::ButtonPressed => {
                Text::new("Keep holding the red button for 3 seconds to get your ID card back.")
            }
            IdEvent::CardEjected { .. } => Text::new("Please take your ID card."),
            IdEvent::EjectFailed => {
                Text::new("Your ID card could not be returned. Please ask staff; they will retrieve it.")
            }
            IdEvent::NothingToEject => Text::new("There is no card in the slot."),
            _ => return None,
        })
    }
}
