//! Simulators: the real reader bytes over a pseudo-terminal (architecture rule 4), with a card
//! that has the state of a real SLE4442 and a gas meter model.
//!
//! - [`Crt310Sim`]: the CRT-310 protocol (ACK / ENQ handshake, EOT, NAK on a bad BCC), motor
//!   positions, IC power, SLE4442 pass-through.
//! - [`CcidSim`]: raw CCID messages (hardware.md §3.1 allows carrying them over a pty), ACR38
//!   pseudo-APDUs.
//!
//! Both share a [`SimSlot`], the steering handle tests and `yizhan sim iccard` use: insert and
//! take a [`SimCard`], **pull the card out after N more written bytes** (the bytes before stay on
//! the card), replies through a [`device::FaultPlan`] (bad checksum, truncated reply, silence),
//! or the reader powered off. [`MeterModel`] is where the customer takes the card afterwards.

pub mod card;
pub mod ccid;
pub mod crt310;
pub mod meter;

pub use card::{SimCard, SimCardKind, UpdateResult};
pub use meter::{MeterLoad, MeterModel, MeterOutcome};

use crate::crt310::CardPosition;
use device::sim::Served;
use device::FaultPlan;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// A running simulated CRT-310.
pub type Crt310Sim = ReaderSim<crt310::Crt310Protocol>;
/// A running simulated CCID reader.
pub type CcidSim = ReaderSim<ccid::CcidProtocol>;

/// A running simulated reader ([`Crt310Sim`], [`CcidSim`]): its [`SimSlot`], answered on a pty in
/// the bytes of protocol `P`. It derefs to the slot.
#[derive(Debug)]
pub struct ReaderSim<P> {
    slot: SimSlot,
    port: Served,
    protocol: PhantomData<P>,
}

impl<P> ReaderSim<P> {
    /// A new empty slot, answered on the pty that `serve` opens for the slot's handle.
    fn serving(serve: impl FnOnce(SimSlot) -> std::io::Result<Served>) -> std::io::Result<Self> {
        let slot = SimSlot::default();
        let port = serve(slot.clone())?;
        Ok(ReaderSim { slot, port, protocol: PhantomData })
    }

    /// The port the driver opens.
    pub fn path(&self) -> &Path {
        self.port.path()
    }
}

impl<P> std::ops::Deref for ReaderSim<P> {
    type Target = SimSlot;
    fn deref(&self) -> &SimSlot {
        &self.slot
    }
}

/// Everything a simulated slot holds.
#[derive(Debug)]
pub(crate) struct SlotState {
    pub(crate) card: Option<SimCard>,
    pub(crate) position: CardPosition,
    pub(crate) powered: bool,
    pub(crate) pull_after: Option<usize>,
    pub(crate) outside: Option<SimCard>,
    pub(crate) captured: Vec<SimCard>,
    pub(crate) faults: FaultPlan,
    pub(crate) silent: bool,
    pub(crate) entry_allowed: bool,
    pub(crate) commands: u64,
    pub(crate) pulls: u64,
    /// A CRT-310 whose SLE4442 reads put the operation byte P before the data (hardware.md
    /// §3.2 shows the data alone).
    pub(crate) sle_operation_byte: bool,
}

impl Default for SlotState {
    fn default() -> Self {
        SlotState {
            card: None,
            position: CardPosition::NoCard,
            powered: false,
            pull_after: None,
            outside: None,
            captured: Vec::new(),
            faults: FaultPlan::none(),
            silent: false,
            entry_allowed: true,
            commands: 0,
            pulls: 0,
            sle_operation_byte: false,
        }
    }
}

impl SlotState {
    /// Writes to the card with the pull-out budget; a pulled card leaves the slot.
    pub(crate) fn update(&mut self, addr: u8, data: &[u8]) -> Option<UpdateResult> {
        let card = self.card.as_mut()?;
        let r = card.update(addr, data, &mut self.pull_after);
        if let UpdateResult::Pulled { written } = r {
            tracing::info!(written, "iccard sim: card pulled out during a write");
            self.pull_after = None;
            self.pulls += 1;
            self.outside = self.card.take();
            self.position = CardPosition::NoCard;
            self.powered = false;
        }
        Some(r)
    }
}

/// The steering handle of a simulated slot (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct SimSlot {
    state: Arc<Mutex<SlotState>>,
}

impl SimSlot {
    /// The state the simulated reader's task shares with this handle.
    pub(crate) fn shared(&self) -> Arc<Mutex<SlotState>> {
        self.state.clone()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SlotState> {
        device::sim::lock(&self.state)
    }

    /// The customer inserts `card`; the reader draws it in. Refused (the card comes back) when a
    /// card is already inside or entry is forbidden.
    pub fn insert(&self, card: SimCard) -> Result<(), SimCard> {
        let mut s = self.lock();
        if s.card.is_some() || !s.entry_allowed {
            return Err(card);
        }
        s.card = Some(card);
        s.position = CardPosition::Inside;
        s.powered = false;
        Ok(())
    }

    /// The customer takes the card: from their hand (ejected or pulled earlier), or pulls it out
    /// of the slot now.
    pub fn take(&self) -> Option<SimCard> {
        let mut s = self.lock();
        if let Some(c) = s.outside.take() {
            return Some(c);
        }
        let c = s.card.take();
        s.position = CardPosition::NoCard;
        s.powered = false;
        c
    }

    /// The card leaves the reader after `bytes` more bytes have been written to it.
    pub fn pull_out_after(&self, bytes: usize) {
        self.lock().pull_after = Some(bytes);
    }

    /// Cancels a pending pull-out.
    pub fn no_pull_out(&self) {
        self.lock().pull_after = None;
    }

    /// Times the card was pulled mid-write.
    pub fn pulls(&self) -> u64 {
        self.lock().pulls
    }

    /// A copy of the card in the slot.
    pub fn card(&self) -> Option<SimCard> {
        self.lock().card.clone()
    }

    /// Changes the card in the slot.
    pub fn with_card<T>(&self, f: impl FnOnce(&mut SimCard) -> T) -> Option<T> {
        self.lock().card.as_mut().map(f)
    }

    /// The reader's idea of where the card is.
    pub fn position(&self) -> CardPosition {
        self.lock().position
    }

    /// Cards captured into the bin.
    pub fn captured(&self) -> Vec<SimCard> {
        self.lock().captured.clone()
    }

    /// Applies `plan` to the replies.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.lock().faults = plan;
    }

    /// Powers the reader off (no byte at all, not even ACK) or on.
    pub fn set_silent(&self, silent: bool) {
        self.lock().silent = silent;
    }

    /// The CRT-310's SLE4442 reads answer P + data, like its other commands, instead of the
    /// data alone (both forms exist in the field).
    pub fn answer_sle_reads_with_operation_byte(&self, on: bool) {
        self.lock().sle_operation_byte = on;
    }

    /// Commands executed so far.
    pub fn commands(&self) -> u64 {
        self.lock().commands
    }
}
