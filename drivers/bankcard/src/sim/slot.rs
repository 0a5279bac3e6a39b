//! The motorised bank-card slot, simulated: CRT-310 frames on a pty, with a card that the test
//! (the "customer") inserts and takes.
//!
//! The host's commands are read with [`crate::slot::codec`], but every byte the simulator *sends*
//! is written here (module `wire`) from hardware.md §2.1–§2.2: the received CM PM echoed, then the
//! data, or `4E CM E`; status and operation bytes from this file's own table. So a driver that
//! misread a reply would fail against it instead of agreeing with itself.

use crate::slot::codec::{decode_host, CardPosition, FrontEntry, HostUnit, MoveTo, ResetMode, SlotCommand};
use bytes::BytesMut;
use device::{FaultPlan, Pty};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

/// Firmware version the simulator reports on reset.
pub const VERSION: &str = "CRT 310 V3.0";

#[derive(Debug)]
struct State {
    position: CardPosition,
    entry_open: bool,
    captured: u32,
    plan: FaultPlan,
    commands: Vec<SlotCommand>,
}

/// A running simulated slot.
#[derive(Debug)]
pub struct SlotSim {
    state: Arc<Mutex<State>>,
    path: PathBuf,
    task: JoinHandle<()>,
}

fn lock(s: &Mutex<State>) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

impl SlotSim {
    /// Opens a pty and starts answering. Must run inside a tokio runtime.
    pub fn start() -> std::io::Result<SlotSim> {
        let pty = Pty::open()?;
        let path = pty.slave_path().to_path_buf();
        let state = Arc::new(Mutex::new(State {
            position: CardPosition::NoCard,
            entry_open: false,
            captured: 0,
            plan: FaultPlan::none(),
            commands: Vec::new(),
        }));
        let task = tokio::spawn(run(pty, state.clone()));
        Ok(SlotSim { state, path, task })
    }

    /// The port the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
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
}

impl Drop for SlotSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the simulated slot puts on the wire, written from hardware.md §2.1–§2.2 and not with the
/// driver's codec.
mod wire {
    /// Command received (good BCC).
    pub(super) const ACK: u8 = 0x06;
    /// Command damaged (bad BCC): resend.
    pub(super) const NAK: u8 = 0x15;

    /// `02 LENH LENL text 03 BCC`, LEN = text bytes (big-endian), BCC = XOR of 02 … 03.
    pub(super) fn frame(text: &[u8]) -> Vec<u8> {
        let len = u16::try_from(text.len()).expect("simulator replies are short");
        let [hi, lo] = len.to_be_bytes();
        let mut f = vec![0x02, hi, lo];
        f.extend_from_slice(text);
        f.push(0x03);
        let bcc = f.iter().fold(0u8, |acc, b| acc ^ b);
        f.push(bcc);
        f
    }

    /// S1 of the status reply (hardware.md §2.2).
    pub(super) fn s1(p: super::CardPosition) -> u8 {
        use super::CardPosition as P;
        match p {
            P::LongCard => 0x46,
            P::ShortCard => 0x47,
            P::FrontNoHold => 0x48,
            P::Gate => 0x49,
            P::Inside => 0x4A,
            P::InsideContacts => 0x4B,
            P::RearHold => 0x4C,
            P::Captured => 0x4D,
            P::NoCard => 0x4E,
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn frames_match_the_spec_bytes() {
            // Positive status: STX, LEN 00 05, CM 31 PM 30, S1 49 S2 4E S3 4E, ETX, BCC 4C.
            assert_eq!(
                super::frame(&[0x31, 0x30, 0x49, 0x4E, 0x4E]),
                [0x02, 0x00, 0x05, 0x31, 0x30, 0x49, 0x4E, 0x4E, 0x03, 0x4C]
            );
            // Negative: STX, LEN 00 03, 'N', CM 32, E 06, ETX, BCC 78.
            assert_eq!(super::frame(&[0x4E, 0x32, 0x06]), [0x02, 0x00, 0x03, 0x4E, 0x32, 0x06, 0x03, 0x78]);
        }
    }
}

/// Executes `cmd`, received as `received` (CM PM data); returns the reply's text.
fn execute(s: &mut State, received: &[u8], cmd: SlotCommand) -> Vec<u8> {
    s.commands.push(cmd);
    // A positive reply echoes the received CM and PM.
    let mut reply = received[..2].to_vec();
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
            if mode == ResetMode::EjectFront && has_card {
                s.position = CardPosition::FrontNoHold;
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
                CardPosition::Inside | CardPosition::InsideContacts | CardPosition::Gate
            );
            reply.push(op(movable, has_card));
            if movable {
                match to {
                    MoveTo::Gate => s.position = CardPosition::Gate,
                    MoveTo::EjectFront => s.position = CardPosition::FrontNoHold,
                    MoveTo::Capture => {
                        s.position = CardPosition::NoCard;
                        s.captured += 1;
                    }
                }
            }
        }
    }
    reply
}

async fn run(mut pty: Pty, state: Arc<Mutex<State>>) {
    let mut rx = BytesMut::with_capacity(512);
    let mut pending: Option<Vec<u8>> = None;
    let mut buf = vec![0u8; 512];
    loop {
        let n = match pty.master().read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        rx.extend_from_slice(&buf[..n]);
        loop {
            let out: Vec<u8> = match decode_host(&mut rx) {
                Ok(None) => break,
                Ok(Some(HostUnit::Command(text))) => {
                    pending = Some(text);
                    vec![wire::ACK]
                }
                Ok(Some(HostUnit::Enq)) => {
                    let Some(text) = pending.take() else { continue };
                    let reply = match SlotCommand::from_text(&text) {
                        Some(cmd) => execute(&mut lock(&state), &text, cmd),
                        // Negative reply: `N CM 00` (undefined command).
                        None => vec![0x4E, text.first().copied().unwrap_or(0), 0x00],
                    };
                    let o = lock(&state).plan.apply(wire::frame(&reply));
                    tokio::time::sleep(o.delay).await;
                    o.bytes
                }
                Ok(Some(HostUnit::Ack)) => continue,
                Err(crate::slot::codec::SlotDecodeError::BadBcc { .. }) => vec![wire::NAK],
                Err(_) => continue,
            };
            if !out.is_empty() && pty.master().write_all(&out).await.is_err() {
                return;
            }
        }
    }
}
