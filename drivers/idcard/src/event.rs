//! What the ID reader, its slot and its button report without being asked.
//!
//! Published on a `tokio::sync::broadcast` channel ([`crate::SlotHandle::subscribe`]). The
//! runtime shows feedback (a beep and "keep holding…" at [`IdEvent::ButtonPressed`], "please take
//! your card" at [`IdEvent::CardEjected`]) and journals the forced-eject ones with the time and
//! the transaction in progress, so payments can be reconciled (hardware.md §1.8). No event
//! carries personal data.

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
    /// Words for the screen, in Chinese (`None`: nothing to show).
    pub fn message_zh(self) -> Option<&'static str> {
        Some(match self {
            IdEvent::ButtonPressed => "请继续按住红色按钮 3 秒，身份证将退出。",
            IdEvent::CardEjected { .. } => "请取回您的身份证。",
            IdEvent::EjectFailed => "身份证未能退出，请联系工作人员，我们会帮您取回证件。",
            IdEvent::NothingToEject => "读卡口内没有证件。",
            _ => return None,
        })
    }

    /// Words for the screen, in English (`None`: nothing to show).
    pub fn message_en(self) -> Option<&'static str> {
        Some(match self {
            IdEvent::ButtonPressed => "Keep holding the red button for 3 seconds to get your ID card back.",
            IdEvent::CardEjected { .. } => "Please take your ID card.",
            IdEvent::EjectFailed => {
                "Your ID card could not be returned. Please ask staff; they will retrieve it."
            }
            IdEvent::NothingToEject => "There is no card in the slot.",
            _ => return None,
        })
    }
}
