//! The ID reader simulator: the SAM, the motorised slot and the red button, each on its own
//! pseudo-terminal, sharing one physical world (where the card is).
//!
//! [`IdSim::start`] opens three ptys and spawns their tasks. The driver opens the slave paths
//! with its real serial code ([`IdSim::sam_path`], [`IdSim::slot_path`], [`IdSim::button_path`]).
//! Tests and `yizhan sim idcard` steer the world through the handle:
//!
//! * the card: [`IdSim::insert_card`] (a synthetic [`Identity`]), [`IdSim::take_card`] from the
//!   gate, [`IdSim::pull_card_out`] (yanked mid-read), [`IdSim::card_place`];
//! * the SAM (hardware.md §1.7 faults): [`IdSim::script_sam`] answers the next matching command
//!   with a given SW3 (80, 41, 66, …); frames with a bad XOR or length from the driver are
//!   answered `10` / `11` for real; [`IdSim::set_sam_faults`] takes a [`FaultPlan`] (truncated
//!   reply, corrupted CHK, silence, garbage); [`IdSim::set_read_delay`] makes `30 01` slow;
//! * the slot (CRT-310): ACK / ENQ / EOT handshake, moves with [`IdSim::set_move_delay`], jams
//!   ([`IdSim::set_jammed`]); every command is logged and capture attempts are counted
//!   ([`IdSim::capture_attempts`]: must stay 0);
//! * the button: [`IdSim::press_button`] / [`IdSim::release_button`] write `BTN 1` / `BTN 0`.
//!
//! Dropping the handle stops the tasks and closes the ptys.

pub mod identity;
mod wire;

pub use identity::Identity;

use crate::codec::{self, RequestError};
use crate::frame::{Command, Sw3};
use bytes::BytesMut;
use device::crt310::{self, sim::Mechanics};
use device::sim::{lock, Served};
use device::{FaultPlan, Pty};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// Where the simulated card is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardPlace {
    /// No card in the machine (the customer has it, or none was inserted).
    Outside,
    /// Inside the slot, over the antenna: the SAM can read it.
    Inside,
    /// At the gate, held; the customer can take it.
    Gate,
    /// Pushed out of the front, not held.
    FrontNoHold,
    /// Captured to the rear. Must never happen to an ID card.
    Captured,
}

#[derive(Debug)]
struct World {
    card: Option<Identity>,
    place: CardPlace,
    entry_allowed: bool,
    found: bool,
    selected: bool,
    read_done: bool,
    sam_script: VecDeque<(Command, Sw3)>,
    sam_faults: FaultPlan,
    read_delay: Duration,
    sam_log: Vec<Command>,
    slot_faults: FaultPlan,
    /// The slot's reader is powered off: it swallows every byte and answers nothing, not even ACK.
    slot_off: bool,
    move_delay: Duration,
    next_move_delay: Option<Duration>,
    jammed: bool,
    slot_log: Vec<Vec<u8>>,
    captures: u32,
    eots: u32,
}

impl World {
    fn new() -> World {
        World {
            card: None,
            place: CardPlace::Outside,
            // Closed until the host lets a card in: a customer cannot push one in while the
            // kiosk starts or does not ask for it.
            entry_allowed: false,
            found: false,
            selected: false,
            read_done: false,
            sam_script: VecDeque::new(),
            sam_faults: FaultPlan::none(),
            read_delay: Duration::from_millis(50),
            sam_log: Vec::new(),
            slot_faults: FaultPlan::none(),
            slot_off: false,
            move_delay: Duration::from_millis(30),
            next_move_delay: None,
            jammed: false,
            slot_log: Vec::new(),
            captures: 0,
            eots: 0,
        }
    }

    fn in_field(&self) -> bool {
        self.card.is_some() && self.place == CardPlace::Inside
    }

    /// A card pushed in by the customer: only through an open, empty slot.
    fn insert(&mut self, id: Identity) -> bool {
        let open = self.place == CardPlace::Outside && self.entry_allowed;
        if open {
            self.put_inside(id);
        }
        open
    }

    fn put_inside(&mut self, id: Identity) {
        self.card = Some(id);
        self.place = CardPlace::Inside;
        self.left_field();
    }

    fn left_field(&mut self) {
        self.found = false;
        self.selected = false;
        self.read_done = false;
    }

    /// The SAM's answer to `cmd` (hardware.md §1.3–§1.5, §1.7).
    fn sam(&mut self, cmd: Command) -> Vec<u8> {
        if let Some(i) = self.sam_script.iter().position(|(c, _)| *c == cmd) {
            let (_, sw3) = self.sam_script.remove(i).unwrap_or((cmd, Sw3::Success));
            if cmd == Command::FindCard && sw3 == Sw3::FindOk {
                self.found = true;
            }
            return wire::reply(sw3, &[]);
        }
        let reply = wire::reply;
        match cmd {
            Command::ResetSam => {
                self.left_field();
                reply(Sw3::Success, &[])
            }
            Command::SamStatus | Command::SetBaud(_) | Command::SetMaxRfBytes(_) => reply(Sw3::Success, &[]),
            Command::ReadSamId => {
                reply(Sw3::Success, &[0x05, 0x01, 0x20, 0x26, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3])
            }
            Command::FindCard => {
                self.found = self.in_field() && !self.read_done;
                if self.found {
                    reply(Sw3::FindOk, &[0; 4])
                } else {
                    reply(Sw3::FindFailed, &[])
                }
            }
            Command::SelectCard => {
                self.selected = self.found && self.in_field();
                if self.selected {
                    reply(Sw3::Success, &[0; 8])
                } else {
                    reply(Sw3::SelectFailed, &[])
                }
            }
            Command::ReadTextPhoto | Command::ReadTextPhotoFingerprint => {
                let ok = self.selected && self.in_field();
                self.found = false;
                self.selected = false;
                match (&self.card, ok) {
                    (Some(id), true) => {
                        self.read_done = true;
                        let mut data = Vec::with_capacity(1300);
                        data.extend_from_slice(&[0x01, 0x00, 0x04, 0x00]);
                        if cmd == Command::ReadTextPhotoFingerprint {
                            data.extend_from_slice(&[0x00, 0x00]); // no fingerprint on this card
                        }
                        data.extend_from_slice(&id.text_block());
                        data.extend_from_slice(&id.photo);
                        reply(Sw3::Success, &data)
                    }
                    _ => reply(Sw3::ReadFailed, &[]),
                }
            }
            Command::ReadAppendedAddress => {
                if self.selected && self.in_field() {
                    reply(Sw3::NoContent, &[])
                } else {
                    reply(Sw3::ReadFailed, &[])
                }
            }
        }
    }

    /// S1 of the status reply (hardware.md §2.2), from this simulator's own table.
    fn s1(&self) -> u8 {
        match self.place {
            CardPlace::Outside => 0x4E,     // no card
            CardPlace::Inside => 0x4A,      // inside
            CardPlace::Gate => 0x49,        // at the front, held
            CardPlace::FrontNoHold => 0x48, // at the front, not held
            CardPlace::Captured => 0x4D,    // at the rear, not held
        }
    }

    /// The slot's answer to an acknowledged command text (hardware.md §2.2): the reply's text.
    fn slot(&mut self, text: &[u8]) -> Vec<u8> {
        const Y: u8 = 0x59;
        const E: u8 = 0x45;
        // Reply texts, written from hardware.md §2.2: CM PM echoed then data, or 'N'(4E) CM E.
        let pos = |cm: u8, pm: u8, data: &[u8]| [&[cm, pm][..], data].concat();
        let neg = |cm: u8, e: u8| vec![0x4E, cm, e];
        let has_card = self.card.is_some() && self.place != CardPlace::Outside;
        match *text {
            [0x30, pm @ (0x30..=0x32)] => {
                if self.jammed && has_card {
                    return neg(0x30, 0x06);
                }
                match pm {
                    0x31 if has_card && self.place != CardPlace::Captured => {
                        self.place = CardPlace::Gate;
                        self.left_field();
                    }
                    0x32 => {
                        self.captures += 1;
                        if has_card {
                            self.place = CardPlace::Captured;
                        }
                    }
                    _ => {}
                }
                pos(0x30, pm, b"CRT-310 V3.0")
            }
            [0x31, 0x30] => {
                let front = if self.entry_allowed { 0x4A } else { 0x4E };
                pos(0x31, 0x30, &[self.s1(), front, 0x4E])
            }
            [0x2F, pm1, _pm2] => {
                self.entry_allowed = pm1 != 0x31;
                pos(0x2F, pm1, &[Y])
            }
            [0x32, pm] => {
                if matches!(pm, 0x32 | 0x33) {
                    self.captures += 1;
                }
                if !has_card {
                    return pos(0x32, pm, &[E]);
                }
                if self.jammed {
                    return neg(0x32, 0x06);
                }
                match pm {
                    0x2E | 0x2F => {
                        if self.place != CardPlace::Inside {
                            self.left_field();
                        }
                        self.place = CardPlace::Inside;
                    }
                    0x30 => {
                        self.place = CardPlace::FrontNoHold;
                        self.left_field();
                    }
                    0x31 => {
                        self.place = CardPlace::Gate;
                        self.left_field();
                    }
                    0x32 | 0x33 => {
                        self.place = CardPlace::Captured;
                        self.left_field();
                    }
                    _ => return neg(0x32, 0x01),
                }
                pos(0x32, pm, &[Y])
            }
            [cm, ..] => neg(cm, 0x00),
            [] => neg(0x00, 0x04),
        }
    }
}

/// The slot's side of the CRT-310 handshake is the shared one ([`device::crt310::sim`]); what
/// the slot does with a command is this world's. The command texts are matched here byte by
/// byte, not with the driver's command type, and the reply texts written here too.
impl Mechanics for World {
    fn execute(&mut self, received: &[u8], _command: Result<crt310::Command, crt310::ErrorCode>) -> Vec<u8> {
        self.slot(received)
    }

    fn faults(&mut self) -> &mut FaultPlan {
        &mut self.slot_faults
    }

    fn duration(&mut self, received: &[u8]) -> Duration {
        // Reset (30) and move (32) run the motor.
        if matches!(received.first(), Some(0x30 | 0x32)) {
            self.next_move_delay.take().unwrap_or(self.move_delay)
        } else {
            Duration::from_millis(5)
        }
    }

    fn acknowledged(&mut self, received: &[u8]) {
        self.slot_log.push(received.to_vec());
    }

    fn is_silent(&self) -> bool {
        self.slot_off
    }

    fn discontinued(&mut self) {
        self.eots += 1;
    }
}

/// A running simulated ID reader (SAM + slot + button).
#[derive(Debug)]
pub struct IdSim {
    world: Arc<Mutex<World>>,
    sam: Served,
    slot: Served,
    button_port: Served,
    button: mpsc::UnboundedSender<&'static [u8]>,
}

impl IdSim {
    /// Opens three ptys and starts answering. Must run inside a tokio runtime.
    pub fn start() -> std::io::Result<IdSim> {
        let world = Arc::new(Mutex::new(World::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = world.clone();
        let sam = Served::start("id reader SAM", |pty| run_sam(pty, shared))?;
        let slot = crt310::sim::serve("id reader slot", world.clone())?;
        let button_port = Served::start("id reader button", |pty| run_button(pty, rx))?;
        Ok(IdSim { world, sam, slot, button_port, button: tx })
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    /// The SAM's port.
    pub fn sam_path(&self) -> &Path {
        self.sam.path()
    }

    /// The slot's port.
    pub fn slot_path(&self) -> &Path {
        self.slot.path()
    }

    /// The button's port.
    pub fn button_path(&self) -> &Path {
        self.button_port.path()
    }

    /// The customer pushes a card into the slot. False when entry is forbidden or a card is
    /// already in the machine.
    pub fn insert_card(&self, id: Identity) -> bool {
        self.lock().insert(id)
    }

    /// The customer inserts `id` as soon as the slot lets a card in (within 10 s), as a person
    /// does when the kiosk asks for the card. Must run inside a tokio runtime.
    pub fn insert_card_when_allowed(&self, id: Identity) {
        let world = self.world.clone();
        tokio::spawn(async move {
            for _ in 0..200 {
                if lock(&world).insert(id.clone()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }

    /// A card left inside the machine from before (a power cut mid-read): what the reader finds
    /// when the kiosk starts.
    pub fn leave_card_inside(&self, id: Identity) {
        self.lock().put_inside(id);
    }

    /// The customer takes the card from the gate (or the front). `None` if it is not there.
    pub fn take_card(&self) -> Option<Identity> {
        let mut w = self.lock();
        if !matches!(w.place, CardPlace::Gate | CardPlace::FrontNoHold) {
            return None;
        }
        w.place = CardPlace::Outside;
        w.left_field();
        w.card.take()
    }

    /// The card is yanked out from wherever it is (mid-read removal).
    pub fn pull_card_out(&self) -> Option<Identity> {
        let mut w = self.lock();
        w.place = CardPlace::Outside;
        w.left_field();
        w.card.take()
    }

    /// Where the card is.
    pub fn card_place(&self) -> CardPlace {
        self.lock().place
    }

    /// Answers the next `cmd` with `sw3` (and no data) instead of the normal answer.
    pub fn script_sam(&self, cmd: Command, sw3: Sw3) {
        self.lock().sam_script.push_back((cmd, sw3));
    }

    /// Applies `plan` to the SAM's replies.
    pub fn set_sam_faults(&self, plan: FaultPlan) {
        self.lock().sam_faults = plan;
    }

    /// Applies `plan` to the slot's replies (not to its ACKs).
    pub fn set_slot_faults(&self, plan: FaultPlan) {
        self.lock().slot_faults = plan;
    }

    /// Switches the slot's reader off (no byte at all, not even ACK) or on again.
    pub fn set_slot_powered(&self, on: bool) {
        self.lock().slot_off = !on;
    }

    /// How long `30 01` takes (RF + crypto); the card must still be in the field at the end.
    pub fn set_read_delay(&self, d: Duration) {
        self.lock().read_delay = d;
    }

    /// How long a card move takes.
    pub fn set_move_delay(&self, d: Duration) {
        self.lock().move_delay = d;
    }

    /// The next move (only) takes `d`: a slow command for a forced eject to pre-empt.
    pub fn set_next_move_delay(&self, d: Duration) {
        self.lock().next_move_delay = Some(d);
    }

    /// Jams the card: moves and resets fail with "abnormal card" (E=06).
    pub fn set_jammed(&self, jammed: bool) {
        self.lock().jammed = jammed;
    }

    /// Commands the SAM received, in order.
    pub fn sam_log(&self) -> Vec<Command> {
        self.lock().sam_log.clone()
    }

    /// Command texts (CM PM data) the slot acknowledged, in order.
    pub fn slot_log(&self) -> Vec<Vec<u8>> {
        self.lock().slot_log.clone()
    }

    /// Capture commands (`32 32`, `32 33`, `30 32`) received. Must stay 0.
    pub fn capture_attempts(&self) -> u32 {
        self.lock().captures
    }

    /// EOT (abort) bytes the slot received.
    pub fn eots(&self) -> u32 {
        self.lock().eots
    }

    /// The red button goes down (`BTN 1`).
    pub fn press_button(&self) {
        let _ = self.button.send(b"BTN 1\r\n");
    }

    /// The red button comes up (`BTN 0`).
    pub fn release_button(&self) {
        let _ = self.button.send(b"BTN 0\r\n");
    }
}

async fn run_sam(mut pty: Pty, world: Arc<Mutex<World>>) {
    let mut buf = BytesMut::with_capacity(256);
    let mut tmp = [0u8; 512];
    while let Ok(n @ 1..) = pty.master().read(&mut tmp).await {
        buf.extend_from_slice(&tmp[..n]);
        loop {
            let cmd = match codec::decode_request(&mut buf) {
                Ok(None) => break,
                Ok(Some(c)) => Ok(c),
                Err(e) => Err(e),
            };
            let bytes = match cmd {
                Ok(c) => {
                    let delay = {
                        let mut w = lock(&world);
                        w.sam_log.push(c);
                        matches!(c, Command::ReadTextPhoto | Command::ReadTextPhotoFingerprint)
                            .then_some(w.read_delay)
                    };
                    if let Some(d) = delay {
                        // RF + crypto; the card must still be there at the end (else 41).
                        tokio::time::sleep(d).await;
                    }
                    lock(&world).sam(c)
                }
                // §1.4: 10 for a bad XOR from the host, 11 for a bad length.
                Err(RequestError::BadChecksum { .. }) => wire::reply(Sw3::HostChecksum, &[]),
                Err(RequestError::BadLength(_)) => wire::reply(Sw3::HostLength, &[]),
                Err(e) => wire::reply(e.sw3(), &[]),
            };
            let out = lock(&world).sam_faults.apply(bytes);
            if !out.delay.is_zero() {
                tokio::time::sleep(out.delay).await;
            }
            if !out.bytes.is_empty() && pty.master().write_all(&out.bytes).await.is_err() {
                return;
            }
        }
    }
}

async fn run_button(mut pty: Pty, mut rx: mpsc::UnboundedReceiver<&'static [u8]>) {
    let mut sink = [0u8; 64];
    loop {
        tokio::select! {
            line = rx.recv() => match line {
                Some(l) => {
                    if pty.master().write_all(l).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            r = pty.master().read(&mut sink) => if matches!(r, Ok(0) | Err(_)) { return },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_world_follows_find_select_read_and_refuses_a_second_read() {
        let mut w = World::new();
        w.card = Some(Identity::synthetic(1));
        w.place = CardPlace::Inside;
        let sw3 = |b: Vec<u8>| Sw3::try_from(b[9]).unwrap();
        assert_eq!(sw3(w.sam(Command::SelectCard)), Sw3::SelectFailed);
        assert_eq!(sw3(w.sam(Command::FindCard)), Sw3::FindOk);
        assert_eq!(sw3(w.sam(Command::SelectCard)), Sw3::Success);
        let read = w.sam(Command::ReadTextPhoto);
        assert_eq!(read.len(), 1295);
        // §1.7.4: the same card answers 80 until it leaves the field.
        assert_eq!(sw3(w.sam(Command::FindCard)), Sw3::FindFailed);
        w.slot(&[0x32, 0x31]);
        w.slot(&[0x32, 0x2E]);
        assert_eq!(sw3(w.sam(Command::FindCard)), Sw3::FindOk);
    }

    #[test]
    fn the_slot_counts_capture_attempts() {
        let mut w = World::new();
        w.card = Some(Identity::synthetic(2));
        w.place = CardPlace::Inside;
        w.slot(&[0x32, 0x33]);
        assert_eq!((w.captures, w.place), (1, CardPlace::Captured));
    }
}
