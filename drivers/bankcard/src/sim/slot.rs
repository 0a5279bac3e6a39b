//! The motorised bank-card slot, simulated: CRT-310 frames on a pty, with a card that the test
//! (the "customer") inserts and takes.
//!
//! The handshake is the shared reader side ([`device::crt310::sim`]); the slot's mechanics are
//! here. Every reply byte is written with [`wire`] from hardware.md §2.2 (the received CM PM
//! echoed, then the data, or `4E CM E`; status and operation bytes from its own table), so a
//! driver that misread a reply would fail against it instead of agreeing with itself.

use crate::slot::codec::{CardPosition, FrontEntry, MoveTo, ResetMode, SlotCommand};
use device::crt310::sim::{self, wire, Mechanics};
use device::crt310::{Command, ErrorCode};
use device::sim::{lock, Served};
use device::FaultPlan;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Firmware version the simulator reports on reset.
pub const VERSION: &str = wire::FIRMWARE;

#[derive(Debug)]
struct State {
    position: CardPosition,
    entry_open: bool,
    captured: u32,
    plan: FaultPlan,
    commands: Vec<SlotCommand>,
    /// The next capture is carried out but its reply is lost on the line.
    lose_capture_reply: bool,
    /// Main power lost, running on the backup supply: every command is refused with E=`07`.
    on_backup_power: bool,
}

/// A running simulated slot.
#[derive(Debug)]
pub struct SlotSim {
    state: Arc<Mutex<State>>,
    port: Served,
}

impl SlotSim {
    /// Opens a pty and starts answering. Must run inside a tokio runtime.
    pub fn start() -> std::io::Result<SlotSim> {
        let state = Arc::new(Mutex::new(State {
            position: CardPosition::NoCard,
            entry_open: false,
            captured: 0,
            plan: FaultPlan::none(),
            commands: Vec::new(),
            lose_capture_reply: false,
            on_backup_power: false,
        }));
        let port = sim::serve("bank card slot", state.clone())?;
        Ok(SlotSim { state, port })
    }

    /// The port the driver opens.
    pub fn path(&self) -> &Path {
        self.port.path()
    }

    /// The customer pushes a card in; only works while the entry is open and the slot empty.
    pub fn insert_card(&self) -> bool {
        let mut s = lock(&self.state);
        let ok = s.entry_open && s.position == CardPosition::NoCard;
        if ok {
            s.position = CardPosition::Inside;
        }
        ok
    }

    /// Puts a card inside regardless of the entry (a card left in at power-up).
    pub fn place_card_inside(&self) {
        lock(&self.state).position = CardPosition::Inside;
    }

    /// Puts a card at the rear, held (a card left there at power-up).
    pub fn place_card_at_rear(&self) {
        lock(&self.state).position = CardPosition::RearHold;
    }

    /// The reader loses (or gets back) its main power: on the backup supply it refuses every
    /// command with `4E CM 07` (hardware.md §2.2).
    pub fn set_on_backup_power(&self, on: bool) {
        lock(&self.state).on_backup_power = on;
    }

    /// The customer takes the presented card; only works at the gate or the front.
    pub fn take_card(&self) -> bool {
        let mut s = lock(&self.state);
        let ok = matches!(s.position, CardPosition::Gate | CardPosition::FrontNoHold);
        if ok {
            s.position = CardPosition::NoCard;
        }
        ok
    }

    /// Where the card is.
    pub fn position(&self) -> CardPosition {
        lock(&self.state).position
    }

    /// Cards in the capture bin.
    pub fn captured(&self) -> u32 {
        lock(&self.state).captured
    }

    /// Commands executed, in order.
    pub fn commands(&self) -> Vec<SlotCommand> {
        lock(&self.state).commands.clone()
    }

    /// Applies `plan` to the reader's reply frames.
    pub fn set_faults(&self, plan: FaultPlan) {
        lock(&self.state).plan = plan;
    }

    /// The next capture moves the card into the bin, but its reply is lost (the fault plan is
    /// replaced by one that drops that reply).
    pub fn lose_next_capture_reply(&self) {
        lock(&self.state).lose_capture_reply = true;
    }
}

impl Mechanics for State {
    fn execute(&mut self, received: &[u8], _command: Result<Command, ErrorCode>) -> Vec<u8> {
        match SlotCommand::from_text(received) {
            Some(_) if self.on_backup_power => wire::negative(received, 0x07),
            Some(cmd) => execute(self, received, cmd),
            // Negative reply: `N CM 00` (undefined command).
            None => wire::negative(received, 0x00),
        }
    }

    fn faults(&mut self) -> &mut FaultPlan {
        &mut self.plan
    }
}

/// Executes `cmd`, received as `received` (CM PM data); returns the reply's text.
fn execute(s: &mut State, received: &[u8], cmd: SlotCommand) -> Vec<u8> {
    s.commands.push(cmd);
    // A positive reply echoes the received CM and PM.
    let mut reply = wire::positive(received, &[]);
    let op = |ok: bool, card: bool| {
        if !card {
            b'E'
        } else if ok {
            b'Y'
        } else {
            b'N'
        }
    };
    let has_card = !matches!(s.position, CardPosition::NoCard);
    match cmd {
        SlotCommand::Reset(mode) => {
            match mode {
                ResetMode::EjectFront if has_card => s.position = CardPosition::FrontNoHold,
                ResetMode::EjectRear if has_card => {
                    s.position = CardPosition::NoCard;
                    s.captured += 1;
                }
                _ => {}
            }
            reply.extend_from_slice(VERSION.as_bytes());
        }
        SlotCommand::Status => {
            let front = if s.entry_open { 0x4A } else { 0x4E };
            reply.extend_from_slice(&[wire::s1(s.position), front, 0x4E]);
        }
        SlotCommand::CardIn(entry) => {
            s.entry_open = entry == FrontEntry::Switch;
            reply.push(b'Y');
        }
        SlotCommand::Move(to) => {
            let movable = matches!(
                s.position,
                CardPosition::Inside
                    | CardPosition::InsideContacts
                    | CardPosition::Gate
                    | CardPosition::RearHold
            );
            reply.push(op(movable, has_card));
            if movable {
                match to {
                    MoveTo::Gate => s.position = CardPosition::Gate,
                    MoveTo::EjectFront => s.position = CardPosition::FrontNoHold,
                    MoveTo::Capture => {
                        s.position = CardPosition::NoCard;
                        s.captured += 1;
                        if std::mem::take(&mut s.lose_capture_reply) {
                            s.plan = FaultPlan::named("capture reply lost").then(device::Fault::DropReply);
                        }
                    }
                }
            }
        }
    }
    reply
}
