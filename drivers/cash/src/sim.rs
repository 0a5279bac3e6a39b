//! A JCM ID-003 acceptor on a pseudo-terminal (the `sim` feature), for the tests, the demo and
//! `yizhan soak`. The real driver opens [`AcceptorSim::path`] with its real serial code.
//!
//! A second opinion, not a mirror: the bytes it sends come from its own table of status codes
//! and its own bit-by-bit CRC below, and it reads the host's frames with its own parser, so a
//! misreading of hardware.md §9 in the driver's codec fails a test instead of being echoed.
//!
//! The head moves one step each time it is polled, as a real one does over a few hundred
//! milliseconds: a note pushed in ([`AcceptorSim::insert`]) is ACCEPTING, then ESCROW (or
//! REJECTING), waits there for STACK or RETURN, then STACKING, VEND VALID (repeated until the
//! host's ACK), STACKED, and idle again. The note goes into the box at VEND VALID.
//!
//! Faults: a jam in the stacker or the acceptor ([`AcceptorSim::jam_next_stack`],
//! [`AcceptorSim::jam_next_read`]; it outlives RESET and power cuts until
//! [`AcceptorSim::clear_jam`]), a power cut at any moment
//! ([`AcceptorSim::power_cut`]: the head comes back with POWER UP, or WITH BILL IN ACCEPTOR /
//! STACKER as the note's place says), the host's ACK lost ([`AcceptorSim::lose_next_ack`]), the box
//! removed ([`AcceptorSim::remove_stacker`]) and collected ([`AcceptorSim::collect`]), a cheat ([`AcceptorSim::cheat_next`]), a suspect note
//! ([`AcceptorSim::insert_suspect`]), and a seeded [`FaultPlan`] on every reply (lost, cut short,
//! damaged CRC, late, noise).

use device::sim::{lock, Served};
use device::{FaultPlan, Pty};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// The head's bytes, written out here from hardware.md §9 (not taken from the driver's codec).
const SYNC: u8 = 0xFC;
const ENABLE: u8 = 0x11;
const ACCEPTING: u8 = 0x12;
const ESCROW: u8 = 0x13;
const STACKING: u8 = 0x14;
const VEND_VALID: u8 = 0x15;
const STACKED: u8 = 0x16;
const REJECTING: u8 = 0x17;
const RETURNING: u8 = 0x18;
const HOLDING: u8 = 0x19;
const DISABLE: u8 = 0x1A;
const INITIALIZE: u8 = 0x1B;
const POWER_UP: u8 = 0x40;
const POWER_UP_BILL_IN_ACCEPTOR: u8 = 0x41;
const POWER_UP_BILL_IN_STACKER: u8 = 0x42;
const STACKER_FULL: u8 = 0x43;
const STACKER_OPEN: u8 = 0x44;
const ACCEPTOR_JAM: u8 = 0x45;
const STACKER_JAM: u8 = 0x46;
const CHEATED: u8 = 0x48;
const COMMUNICATION_ERROR: u8 = 0x4A;
const INVALID_COMMAND: u8 = 0x4B;
const ACK: u8 = 0x50;
const REJECT_INHIBITED: u8 = 0x79;

/// The sim's notes: escrow code, the value in yuan, and its currency assignment line
/// (escrow code, country byte, integer, power of ten).
const NOTES: [(u8, u32, [u8; 4]); 6] = [
    (0x61, 1, [0x61, 0xA0, 0x01, 0x00]),
    (0x62, 5, [0x62, 0xA0, 0x05, 0x00]),
    (0x63, 10, [0x63, 0xA0, 0x01, 0x01]),
    (0x64, 20, [0x64, 0xA0, 0x02, 0x01]),
    (0x65, 50, [0x65, 0xA0, 0x05, 0x01]),
    (0x66, 100, [0x66, 0xA0, 0x0A, 0x01]),
];

/// CRC-16/Kermit, bit by bit (the driver uses the `crc` crate's table).
fn kermit(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x8408 } else { crc >> 1 };
        }
    }
    crc
}

fn frame(cmd: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![SYNC, (5 + data.len()) as u8, cmd];
    out.extend_from_slice(data);
    let crc = kermit(&out);
    out.push((crc & 0xFF) as u8);
    out.push((crc >> 8) as u8);
    out
}

/// What a pushed-in note is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Note {
    Genuine {
        code: u8,
        yuan: u32,
    },
    /// The head refuses it with this reason byte.
    Suspect {
        reason: u8,
    },
}

/// Where the head is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    PowerUp(u8),
    Initialize,
    Idle,
    Accepting(Note),
    Escrow(u8, u32),
    Holding(u8, u32),
    Stacking(u32),
    VendValid(u32),
    Stacked,
    Rejecting(u8),
    Returning,
    /// A jam stays until staff take the note out ([`AcceptorSim::clear_jam`]): neither RESET
    /// nor a power cut moves a jammed note. A cheat stays until RESET; an open box until it is
    /// back.
    Fault(u8),
}

/// What the simulated head has done, for tests to compare with the journal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimLog {
    /// The notes in the box now, in yuan, in the order they went in.
    pub stacker: Vec<u32>,
    /// What each collection took out of the box.
    pub collections: Vec<Vec<u32>>,
    /// Notes given back to the customer (rejected, returned, returned by a reset, pulled back).
    pub returned: usize,
    /// Notes stuck in a jam (not in the box, not given back).
    pub jammed: usize,
    /// VEND VALID statuses sent.
    pub vend_valid_sent: usize,
    /// Host ACKs of VEND VALID heard.
    pub acks: usize,
    /// Host frames with a bad CRC.
    pub damaged_from_host: usize,
    /// Status requests answered (a retried poll shows here).
    pub status_requests: usize,
}

#[derive(Debug)]
struct Head {
    phase: Phase,
    queue: VecDeque<Note>,
    inhibited: bool,
    /// `C0` d1: a set bit refuses the note of escrow code 61 + bit.
    refused: u8,
    /// The head escrows every note whatever the mask says (a head that reads `C0` its own way).
    ignores_mask: bool,
    /// The head answers a setting with ACK instead of echoing it (hardware.md §9 does not say).
    acks_settings: bool,
    jam_next_stack: bool,
    jam_next_read: bool,
    cheat_next: bool,
    lose_next_ack: bool,
    stacker_present: bool,
    capacity: usize,
    faults: FaultPlan,
    log: SimLog,
}

impl Head {
    fn new() -> Head {
        Head {
            phase: Phase::PowerUp(POWER_UP),
            queue: VecDeque::new(),
            inhibited: true,
            refused: 0,
            ignores_mask: false,
            acks_settings: false,
            jam_next_stack: false,
            jam_next_read: false,
            cheat_next: false,
            lose_next_ack: false,
            stacker_present: true,
            capacity: 1000,
            faults: FaultPlan::none(),
            log: SimLog::default(),
        }
    }

    /// Answers a status request with where the head is, then moves it one step on.
    fn poll(&mut self) -> Vec<u8> {
        let box_full = self.log.stacker.len() >= self.capacity;
        match self.phase {
            Phase::Fault(STACKER_OPEN | STACKER_FULL) | Phase::Idle if !self.stacker_present => {
                self.phase = Phase::Fault(STACKER_OPEN);
            }
            Phase::Fault(STACKER_OPEN) | Phase::Idle if box_full => self.phase = Phase::Fault(STACKER_FULL),
            Phase::Fault(STACKER_OPEN | STACKER_FULL) if !box_full => self.phase = Phase::Idle,
            _ => {}
        }
        let reply = match self.phase {
            Phase::PowerUp(code) | Phase::Fault(code) => frame(code, &[]),
            Phase::Initialize => frame(INITIALIZE, &[]),
            Phase::Idle if self.inhibited => frame(DISABLE, &[]),
            Phase::Idle => frame(ENABLE, &[]),
            Phase::Accepting(_) => frame(ACCEPTING, &[]),
            Phase::Escrow(code, _) => frame(ESCROW, &[code]),
            Phase::Holding(..) => frame(HOLDING, &[]),
            Phase::Stacking(_) => frame(STACKING, &[]),
            Phase::VendValid(_) => {
                self.log.vend_valid_sent += 1;
                frame(VEND_VALID, &[])
            }
            Phase::Stacked => frame(STACKED, &[]),
            Phase::Rejecting(reason) => frame(REJECTING, &[reason]),
            Phase::Returning => frame(RETURNING, &[]),
        };
        self.phase = match self.phase {
            Phase::Initialize | Phase::Stacked => Phase::Idle,
            Phase::Rejecting(_) | Phase::Returning => {
                self.log.returned += 1;
                Phase::Idle
            }
            Phase::Idle if !self.inhibited => self.queue.pop_front().map_or(Phase::Idle, Phase::Accepting),
            Phase::Accepting(note) => self.read(note),
            Phase::Stacking(_) if std::mem::take(&mut self.jam_next_stack) => {
                self.log.jammed += 1;
                Phase::Fault(STACKER_JAM)
            }
            Phase::Stacking(_) if !self.stacker_present => {
                // No box to stack into: the note stays stuck in the transport.
                self.log.jammed += 1;
                Phase::Fault(STACKER_OPEN)
            }
            Phase::Stacking(yuan) => {
                // Past the point of return: the note is the box's from here.
                self.log.stacker.push(yuan);
                Phase::VendValid(yuan)
            }
            other => other,
        };
        reply
    }

    /// The head has read a note: escrow, or refuse it.
    fn read(&mut self, note: Note) -> Phase {
        if std::mem::take(&mut self.jam_next_read) {
            self.log.jammed += 1;
            return Phase::Fault(ACCEPTOR_JAM);
        }
        if std::mem::take(&mut self.cheat_next) {
            self.log.returned += 1;
            return Phase::Fault(CHEATED);
        }
        match note {
            Note::Suspect { reason } => Phase::Rejecting(reason),
            Note::Genuine { code, yuan } => {
                let bit = code - 0x61;
                if self.inhibited || (self.refused & (1 << bit) != 0 && !self.ignores_mask) {
                    Phase::Rejecting(REJECT_INHIBITED)
                } else {
                    Phase::Escrow(code, yuan)
                }
            }
        }
    }

    /// Answers one host frame (`None`: no answer, as for the host's ACK).
    fn answer(&mut self, cmd: u8, data: &[u8]) -> Option<Vec<u8>> {
        let ack = || Some(frame(ACK, &[]));
        let invalid = || Some(frame(INVALID_COMMAND, &[]));
        match (cmd, data) {
            (0x11, _) => {
                self.log.status_requests += 1;
                Some(self.poll())
            }
            (0x40, _) => {
                match self.phase {
                    // A note not yet past the point of return comes back out.
                    Phase::Accepting(_)
                    | Phase::Escrow(..)
                    | Phase::Holding(..)
                    | Phase::Rejecting(_)
                    | Phase::Returning
                    | Phase::PowerUp(POWER_UP_BILL_IN_ACCEPTOR) => self.log.returned += 1,
                    // One on its way in finishes into the box, with no VEND VALID.
                    Phase::Stacking(yuan) => self.log.stacker.push(yuan),
                    _ => {}
                }
                self.reset_settings();
                self.phase = match self.phase {
                    jam @ Phase::Fault(ACCEPTOR_JAM | STACKER_JAM) => jam,
                    _ => Phase::Initialize,
                };
                ack()
            }
            (0x41 | 0x42, _) => match self.phase {
                Phase::Escrow(_, yuan) | Phase::Holding(_, yuan) => {
                    self.phase = Phase::Stacking(yuan);
                    ack()
                }
                _ => invalid(),
            },
            (0x43, _) => match self.phase {
                Phase::Escrow(..) | Phase::Holding(..) => {
                    self.phase = Phase::Returning;
                    ack()
                }
                _ => invalid(),
            },
            (0x44, _) => match self.phase {
                Phase::Escrow(code, yuan) => {
                    self.phase = Phase::Holding(code, yuan);
                    ack()
                }
                _ => invalid(),
            },
            (0x45, _) => ack(),
            (0x50, _) => {
                if matches!(self.phase, Phase::VendValid(_)) {
                    if std::mem::take(&mut self.lose_next_ack) {
                        return None;
                    }
                    self.log.acks += 1;
                    self.phase = Phase::Stacked;
                }
                None
            }
            // A head takes no settings until the host has RESET it after a power-up.
            (0xC0 | 0xC1 | 0xC3 | 0xC4 | 0xC5, _) if matches!(self.phase, Phase::PowerUp(_)) => invalid(),
            (0xC0, [d1, _]) => {
                self.refused = *d1;
                if self.acks_settings {
                    ack()
                } else {
                    Some(frame(cmd, data))
                }
            }
            (0xC3, [d]) => {
                self.inhibited = *d == 0x01;
                if self.acks_settings {
                    ack()
                } else {
                    Some(frame(cmd, data))
                }
            }
            (0xC1 | 0xC4 | 0xC5, _) if self.acks_settings => ack(),
            (0xC1 | 0xC4 | 0xC5, _) => Some(frame(cmd, data)),
            (0x88, _) => Some(frame(0x88, b"YZ-ID003-SIM V1.00")),
            (0x8A, _) => Some(frame(0x8A, &NOTES.iter().flat_map(|(_, _, line)| *line).collect::<Vec<_>>())),
            _ => invalid(),
        }
    }

    /// The power is cut and comes back: where the note was decides the power-up status.
    fn power_cut(&mut self) {
        self.phase = match self.phase {
            // Cut again before the host's RESET: the note is where it was.
            Phase::PowerUp(code) => Phase::PowerUp(code),
            // The jammed note is still there when the power comes back: the jam is what it says.
            jam @ Phase::Fault(ACCEPTOR_JAM | STACKER_JAM) => jam,
            Phase::Accepting(_)
            | Phase::Escrow(..)
            | Phase::Holding(..)
            | Phase::Rejecting(_)
            | Phase::Returning => Phase::PowerUp(POWER_UP_BILL_IN_ACCEPTOR),
            Phase::Stacking(yuan) => {
                // The note finishes its way into the box as the head powers down.
                self.log.stacker.push(yuan);
                Phase::PowerUp(POWER_UP_BILL_IN_STACKER)
            }
            Phase::VendValid(_) => Phase::PowerUp(POWER_UP_BILL_IN_STACKER),
            _ => Phase::PowerUp(POWER_UP),
        };
        self.reset_settings();
        self.lose_next_ack = false;
    }

    /// A head comes out of a reset or a power cut with its defaults: inhibited, every note
    /// enabled. The host must send its settings again.
    fn reset_settings(&mut self) {
        self.inhibited = true;
        self.refused = 0;
    }
}

/// A running simulated acceptor. Dropping it closes the pty (the driver sees the port vanish).
#[derive(Debug)]
pub struct AcceptorSim {
    port: Served,
    head: Arc<Mutex<Head>>,
}

impl AcceptorSim {
    /// Starts a simulated acceptor, just powered up (it waits for RESET). Must run in a tokio
    /// runtime.
    pub fn start() -> std::io::Result<AcceptorSim> {
        let head = Arc::new(Mutex::new(Head::new()));
        let shared = head.clone();
        let port = Served::start("banknote acceptor", |pty| serve(pty, shared))?;
        Ok(AcceptorSim { port, head })
    }

    /// The pty path to configure the driver with.
    pub fn path(&self) -> &Path {
        self.port.path()
    }

    /// A customer pushes in a genuine note of `yuan` (1, 5, 10, 20, 50 or 100); it is read at the
    /// next polls while the head takes notes.
    pub fn insert(&self, yuan: u32) {
        let code = NOTES.iter().find(|(_, y, _)| *y == yuan).map(|(code, ..)| *code);
        let code = code.unwrap_or_else(|| panic!("{yuan} yuan is not a note the simulator knows"));
        lock(&self.head).queue.push_back(Note::Genuine { code, yuan });
    }

    /// A customer pushes in a note the head refuses with `reason` (hardware.md §9, `71`…`7E`).
    pub fn insert_suspect(&self, reason: u8) {
        lock(&self.head).queue.push_back(Note::Suspect { reason });
    }

    /// The customer takes back the notes they queued but the head has not drawn in yet (they
    /// walked away, or the power failed); returns how many.
    pub fn take_back_queued(&self) -> usize {
        std::mem::take(&mut lock(&self.head).queue).len()
    }

    /// From now on the head answers every setting with ACK instead of echoing it.
    pub fn acknowledge_settings(&self) {
        lock(&self.head).acks_settings = true;
    }

    /// From now on the head escrows every note the `C0` mask refuses (its bit order is not
    /// ours, say): the host must still never credit a note it does not take.
    pub fn ignore_denomination_mask(&self) {
        lock(&self.head).ignores_mask = true;
    }

    /// The next note stacked jams in the stacker (STACKER JAM until staff clear it; not in the box).
    pub fn jam_next_stack(&self) {
        lock(&self.head).jam_next_stack = true;
    }

    /// The next note read jams in the acceptor (ACCEPTOR JAM until staff clear it; not in the box).
    pub fn jam_next_read(&self) {
        lock(&self.head).jam_next_read = true;
    }

    /// The next note read is pulled back on a string (CHEATED until RESET).
    pub fn cheat_next(&self) {
        lock(&self.head).cheat_next = true;
    }

    /// The host's next ACK of VEND VALID is lost on the line.
    pub fn lose_next_ack(&self) {
        lock(&self.head).lose_next_ack = true;
    }

    /// The power is cut and comes back.
    pub fn power_cut(&self) {
        lock(&self.head).power_cut();
    }

    /// Staff open the head and take out a jammed note (not into the box), then close it: the
    /// head powers up empty.
    pub fn clear_jam(&self) {
        let mut head = lock(&self.head);
        if matches!(head.phase, Phase::Fault(ACCEPTOR_JAM | STACKER_JAM)) {
            head.phase = Phase::PowerUp(POWER_UP);
            head.reset_settings();
        }
    }

    /// The cash box is pulled out (STACKER OPEN until it is back).
    pub fn remove_stacker(&self) {
        lock(&self.head).stacker_present = false;
    }

    /// The cash box is put back, as it is.
    pub fn replace_stacker(&self) {
        lock(&self.head).stacker_present = true;
    }

    /// Staff empty the box (清机): its notes, which the collection slip must match.
    pub fn collect(&self) -> Vec<u32> {
        let mut head = lock(&self.head);
        let notes = std::mem::take(&mut head.log.stacker);
        head.log.collections.push(notes.clone());
        notes
    }

    /// The box holds `notes` at most (STACKER FULL once it does).
    pub fn set_capacity(&self, notes: usize) {
        lock(&self.head).capacity = notes;
    }

    /// Faults on every reply from now on.
    pub fn set_faults(&self, plan: FaultPlan) {
        lock(&self.head).faults = plan;
    }

    /// Whether the customer is done: every note dealt with (none queued, none in the head's
    /// hand), or the head has stopped (a jam, a cheat, an open box), when the customer can do
    /// nothing more and keeps the notes not yet pushed in.
    pub fn settled(&self) -> bool {
        let head = lock(&self.head);
        matches!(head.phase, Phase::Fault(_))
            || (head.queue.is_empty()
                && matches!(head.phase, Phase::Idle | Phase::Stacked | Phase::PowerUp(_)))
    }

    /// What the head has done so far.
    pub fn log(&self) -> SimLog {
        lock(&self.head).log.clone()
    }
}

/// Reads host frames with the sim's own parser and answers each.
async fn serve(mut pty: Pty, head: Arc<Mutex<Head>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    while let Ok(n @ 1..) = pty.master().read(&mut chunk).await {
        buf.extend_from_slice(&chunk[..n]);
        while let Some((cmd, data, intact)) = next_host_frame(&mut buf) {
            let outgoing = {
                let mut head = lock(&head);
                let reply = if intact {
                    head.answer(cmd, &data)
                } else {
                    head.log.damaged_from_host += 1;
                    Some(frame(COMMUNICATION_ERROR, &[]))
                };
                reply.map(|bytes| head.faults.apply(bytes))
            };
            let Some(out) = outgoing else { continue };
            if !out.delay.is_zero() {
                tokio::time::sleep(out.delay).await;
            }
            if pty.master().write_all(&out.bytes).await.is_err() {
                return;
            }
        }
    }
}

/// The next whole host frame in `buf` (CMD, DATA, whether its CRC holds), noise before it
/// dropped; `None` until one is whole.
fn next_host_frame(buf: &mut Vec<u8>) -> Option<(u8, Vec<u8>, bool)> {
    loop {
        let start = buf.iter().position(|&b| b == SYNC)?;
        buf.drain(..start);
        let len = usize::from(*buf.get(1)?);
        if len < 5 {
            buf.remove(0);
            continue;
        }
        if buf.len() < len {
            return None;
        }
        let crc = kermit(&buf[..len - 2]);
        let intact = buf[len - 2] == (crc & 0xFF) as u8 && buf[len - 1] == (crc >> 8) as u8;
        let found = (buf[2], buf[3..len - 2].to_vec(), intact);
        buf.drain(..len);
        return Some(found);
    }
}
