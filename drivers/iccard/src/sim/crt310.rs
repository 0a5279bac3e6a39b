//! The CRT-310 gas-card reader, simulated: the shared reader side of the handshake
//! ([`device::crt310::sim`]: ACK, NAK on a bad BCC, ENQ executes, EOT discontinues) over this
//! slot's mechanics: motor positions, IC power and SLE4442 pass-through on a [`SimCard`].
//!
//! Every reply byte is written here with [`wire`] from hardware.md §2.2 (the received CM PM
//! echoed, then the data, or `4E CM E`; IC type and operation bytes from this file's own table),
//! never with the driver's codec, so a driver that misread a reply would fail against it.
//!
//! [`SimCard`]: super::SimCard

use super::card::{SimCardKind, UpdateResult};
use super::{Crt310Sim, ReaderSim, SlotState};
use device::crt310::sim::{self, wire, Mechanics};
use device::crt310::{CardPosition, Command, ErrorCode, FrontEntry, MoveTo, ResetMode, SleCommand};
use device::sle4442::MemoryOp;
use device::FaultPlan;

/// Firmware string the simulated reader reports on reset.
pub const FIRMWARE: &str = wire::FIRMWARE;

/// The CRT-310's ACK / ENQ framed commands, the protocol of a [`Crt310Sim`].
#[derive(Debug)]
pub struct Crt310Protocol;

impl Crt310Sim {
    /// Opens a pty and starts answering on it. Must run inside a tokio runtime.
    pub fn start() -> std::io::Result<Crt310Sim> {
        ReaderSim::serving(|slot| sim::serve("crt310", slot.shared()))
    }
}

impl Mechanics for SlotState {
    fn execute(&mut self, received: &[u8], command: Result<Command, ErrorCode>) -> Vec<u8> {
        self.commands += 1;
        match command {
            Ok(cmd) => execute(self, received, cmd),
            Err(e) => {
                tracing::debug!(error = %e, "crt310 sim: bad command");
                wire::negative(received, e.byte())
            }
        }
    }

    fn faults(&mut self) -> &mut FaultPlan {
        &mut self.faults
    }

    fn is_silent(&self) -> bool {
        self.silent
    }
}

/// Executes one command on the slot's state; returns the reply's text. `received` is the
/// command's text as it came (its CM PM are echoed).
pub(crate) fn execute(s: &mut SlotState, received: &[u8], cmd: Command) -> Vec<u8> {
    let ok = |data: &[u8]| wire::positive(received, data);
    let op = |p: u8| wire::positive(received, &[p]);
    match &cmd {
        Command::Reset(mode) => {
            s.powered = false;
            if s.card.is_some() {
                match mode {
                    ResetMode::Keep => {}
                    ResetMode::EjectFront => s.position = CardPosition::Gate,
                    ResetMode::EjectRear => {
                        s.captured.extend(s.card.take());
                        s.position = CardPosition::NoCard;
                    }
                }
            }
            ok(FIRMWARE.as_bytes())
        }
        Command::CardIn { front, .. } => {
            s.entry_allowed = *front != FrontEntry::Forbidden;
            op(wire::Y)
        }
        Command::Status => {
            // S2: front entry by switch (4A) or forbidden (4E); S3: rear entry forbidden (4E).
            let front_entry = if s.entry_allowed { 0x4A } else { 0x4E };
            ok(&[wire::s1(s.position), front_entry, 0x4E])
        }
        Command::DetectIcType => {
            let t: [u8; 2] = match (&s.card, s.position) {
                (Some(c), CardPosition::InsideContacts | CardPosition::Inside) => match c.kind() {
                    SimCardKind::Sle4442 => *b"30",
                    SimCardKind::CpuCard => *b"10",
                    SimCardKind::Sle4428 => *b"31",
                },
                _ => *b"N0",
            };
            ok(&t)
        }
        Command::Move(to) => {
            if s.card.is_none() {
                return op(wire::E);
            }
            s.powered = false;
            match to {
                MoveTo::IcContacts => s.position = CardPosition::InsideContacts,
                MoveTo::Rf | MoveTo::CleanAbnormal => s.position = CardPosition::Inside,
                MoveTo::Gate => s.position = CardPosition::Gate,
                MoveTo::RearHold => s.position = CardPosition::RearHold,
                MoveTo::FrontNoHold => {
                    s.outside = s.card.take();
                    s.position = CardPosition::NoCard;
                }
                MoveTo::Capture => {
                    s.captured.extend(s.card.take());
                    s.position = CardPosition::NoCard;
                }
            }
            op(wire::Y)
        }
        Command::IcPower(on) => {
            if s.card.is_none() {
                return op(wire::E);
            }
            if s.position != CardPosition::InsideContacts {
                return op(wire::W);
            }
            s.powered = *on;
            if *on {
                s.card.iter_mut().for_each(|c| c.power_on());
            }
            op(wire::Y)
        }
        Command::Sle(sle) => {
            let Some(card) = s.card.as_mut() else { return op(wire::E) };
            if s.position != CardPosition::InsideContacts || !s.powered {
                return op(wire::W);
            }
            if card.kind() != SimCardKind::Sle4442 {
                return op(wire::N);
            }
            // §3.2 gives a read its data alone; some firmware puts P ('Y') first.
            let p_first = s.sle_operation_byte;
            let with = |data: &[u8]| {
                let mut v = if p_first { vec![wire::Y] } else { Vec::new() };
                v.extend_from_slice(data);
                ok(&v)
            };
            match sle {
                SleCommand::Reset => with(&card.memory()[..4]),
                SleCommand::Memory(MemoryOp::ReadMain { addr, len }) => {
                    match card.read(*addr, usize::from(*len)) {
                        Some(d) => with(&d),
                        None => op(wire::N),
                    }
                }
                // "`38 32` → 32 bytes": one a protection bit, `01` while the byte is writable.
                SleCommand::Memory(MemoryOp::ReadProtection) => {
                    let bits = u32::from_le_bytes(card.protection());
                    with(&(0..32).map(|i| ((bits >> i) & 1) as u8).collect::<Vec<u8>>())
                }
                SleCommand::Memory(MemoryOp::ReadSecurity) => with(&card.security()),
                SleCommand::Memory(MemoryOp::VerifyPsc(p)) => {
                    op(if card.verify(*p) { wire::Y } else { wire::N })
                }
                SleCommand::Memory(MemoryOp::UpdateMain { addr, data }) => match s.update(*addr, data) {
                    Some(UpdateResult::Written) => op(wire::Y),
                    Some(UpdateResult::NotVerified) => op(wire::N),
                    Some(UpdateResult::Pulled { .. }) | None => op(wire::E),
                },
            }
        }
    }
}
