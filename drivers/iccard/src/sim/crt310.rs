//! The CRT-310 simulator on the reader's side of a pty.
//!
//! Protocol: a command frame with a good BCC is answered `ACK` and kept; `ENQ` executes it and
//! sends the reply (through the slot's [`device::FaultPlan`]); a bad BCC is answered `NAK`; `EOT`
//! drops the kept command and is answered `EOT`. A silent reader answers nothing at all.
//!
//! The host's commands are read with the driver's command decoder, but every byte the simulator
//! *sends* is written here (module `wire`) from hardware.md §2.1–§2.2: the received CM PM echoed, then
//! the data, or `4E CM E`; status, IC type and operation bytes from this file's own tables. So a
//! driver that misread a reply would fail against it instead of agreeing with itself.

use super::card::{SimCardKind, UpdateResult};
use super::{SimSlot, SlotState};
use crate::crt310::codec::command_from_text;
use crate::crt310::frame::{CardPosition, Command, FrontEntry, MoveTo, ResetMode, SleCommand, MAX_TEXT};
use crate::error::DecodeError;
use bytes::BytesMut;
use device::crt310::{self, FrameError, Unit};
use device::Pty;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

/// Firmware string the simulated reader reports on reset.
pub const FIRMWARE: &str = "CRT 310 V3.0";

/// A running simulated CRT-310.
#[derive(Debug)]
pub struct Crt310Sim {
    slot: SimSlot,
    path: PathBuf,
    task: JoinHandle<()>,
}

impl Crt310Sim {
    /// Opens a pty and starts answering on it. Must run inside a tokio runtime.
    pub fn start() -> std::io::Result<Crt310Sim> {
        let pty = Pty::open()?;
        let path = pty.slave_path().to_path_buf();
        let slot = SimSlot::default();
        let task = tokio::spawn(run(pty, slot.clone()));
        tracing::info!(path = %path.display(), "crt310 simulator listening");
        Ok(Crt310Sim { slot, path, task })
    }

    /// The port the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for Crt310Sim {
    type Target = SimSlot;
    fn deref(&self) -> &SimSlot {
        &self.slot
    }
}

impl Drop for Crt310Sim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the simulated reader puts on the wire, written from hardware.md §2.1–§2.2 and not with the
/// driver's codec.
pub(crate) mod wire {
    /// Command received (good BCC).
    pub(crate) const ACK: u8 = 0x06;
    /// Command damaged (bad BCC): resend.
    pub(crate) const NAK: u8 = 0x15;
    /// Answer to the host's EOT.
    pub(crate) const EOT: u8 = 0x04;
    /// Operation byte P: 'Y' done.
    pub(crate) const Y: u8 = 0x59;
    /// Operation byte P: 'N' failed.
    pub(crate) const N: u8 = 0x4E;
    /// Operation byte P: 'E' no card.
    pub(crate) const E: u8 = 0x45;
    /// Operation byte P: 'W' card not in an operable position.
    pub(crate) const W: u8 = 0x57;

    /// `02 LENH LENL text 03 BCC`, LEN = text bytes (big-endian), BCC = XOR of 02 … 03.
    pub(crate) fn frame(text: &[u8]) -> Vec<u8> {
        let len = u16::try_from(text.len()).expect("simulator replies are short");
        let [hi, lo] = len.to_be_bytes();
        let mut f = vec![0x02, hi, lo];
        f.extend_from_slice(text);
        f.push(0x03);
        let bcc = f.iter().fold(0u8, |acc, b| acc ^ b);
        f.push(bcc);
        f
    }

    /// A positive reply's text: the received CM and PM echoed, then `data`.
    pub(crate) fn positive(received: &[u8], data: &[u8]) -> Vec<u8> {
        let mut text = received[..2].to_vec();
        text.extend_from_slice(data);
        text
    }

    /// A negative reply's text: `'N'(4E) CM E`.
    pub(crate) fn negative(received: &[u8], e: u8) -> Vec<u8> {
        vec![0x4E, received[0], e]
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn frames_match_the_spec_bytes() {
            // Positive status: STX, LEN 00 05, CM 31 PM 30, S1 4B S2 4A S3 4E, ETX, BCC 4A.
            let status = super::positive(&[0x31, 0x30], &[0x4B, 0x4A, 0x4E]);
            assert_eq!(super::frame(&status), [0x02, 0x00, 0x05, 0x31, 0x30, 0x4B, 0x4A, 0x4E, 0x03, 0x4A]);
            // Negative: STX, LEN 00 03, 'N', CM 32, E 06, ETX, BCC 78.
            let negative = super::negative(&[0x32, 0x31], 0x06);
            assert_eq!(super::frame(&negative), [0x02, 0x00, 0x03, 0x4E, 0x32, 0x06, 0x03, 0x78]);
        }
    }
}

/// S1 of the status reply for a position (hardware.md §2.2), this simulator's own table.
fn s1(p: CardPosition) -> u8 {
    match p {
        CardPosition::LongCard => 0x46,
        CardPosition::ShortCard => 0x47,
        CardPosition::FrontNoHold => 0x48,
        CardPosition::Gate => 0x49,
        CardPosition::Inside => 0x4A,
        CardPosition::AtContacts => 0x4B,
        CardPosition::RearHold => 0x4C,
        CardPosition::Captured => 0x4D,
        CardPosition::NoCard => 0x4E,
        CardPosition::Unknown(b) => b,
    }
}

async fn run(mut pty: Pty, slot: SimSlot) {
    const CONTROLS: [u8; 4] = [wire::ACK, wire::NAK, wire::EOT, 0x05];
    let mut buf = BytesMut::with_capacity(1024);
    // The acknowledged command: its text as received, and what it means (or the error byte E
    // of the negative reply it gets: 00 unknown CM, 01 bad PM or data).
    let mut pending: Option<(Vec<u8>, Result<Command, u8>)> = None;
    loop {
        match pty.master().read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            crt310::resync(&mut buf, &CONTROLS);
            let unit = crt310::take_unit(&mut buf, &CONTROLS, 2..=MAX_TEXT);
            let (out, delay) = {
                let mut s = slot.lock();
                if s.silent {
                    buf.clear();
                    break;
                }
                match unit {
                    Ok(None) => break,
                    Ok(Some(Unit::Text(text))) => {
                        let cmd = command_from_text(&text).map_err(|e| {
                            tracing::debug!(error = %e, "crt310 sim: bad command");
                            match e {
                                DecodeError::UnknownCode(_) => 0x00,
                                _ => 0x01,
                            }
                        });
                        pending = Some((text, cmd));
                        (vec![wire::ACK], std::time::Duration::ZERO)
                    }
                    // ENQ: execute.
                    Ok(Some(Unit::Control(0x05))) => match pending.take() {
                        Some((text, cmd)) => {
                            s.commands += 1;
                            let reply = match cmd {
                                Ok(cmd) => execute(&mut s, &text, cmd),
                                Err(e) => wire::negative(&text, e),
                            };
                            let o = s.faults.apply(wire::frame(&reply));
                            (o.bytes, o.delay)
                        }
                        None => continue,
                    },
                    Ok(Some(Unit::Control(wire::EOT))) => {
                        pending = None;
                        (vec![wire::EOT], std::time::Duration::ZERO)
                    }
                    Ok(Some(Unit::Control(_))) => continue,
                    Err(FrameError::BadBcc { .. }) => (vec![wire::NAK], std::time::Duration::ZERO),
                    Err(e) => {
                        tracing::debug!(error = %e, "crt310 sim: bad frame");
                        continue;
                    }
                }
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if !out.is_empty() && pty.master().write_all(&out).await.is_err() {
                return;
            }
        }
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
                    ResetMode::Stay => {}
                    ResetMode::EjectFront => s.position = CardPosition::Gate,
                    ResetMode::CaptureRear => {
                        s.captured.extend(s.card.take());
                        s.position = CardPosition::NoCard;
                    }
                }
            }
            ok(FIRMWARE.as_bytes())
        }
        Command::CardInControl { front, .. } => {
            s.entry_allowed = *front != FrontEntry::Forbidden;
            op(wire::Y)
        }
        Command::Status => {
            // S2: front entry by switch (4A) or forbidden (4E); S3: rear entry forbidden (4E).
            let front_entry = if s.entry_allowed { 0x4A } else { 0x4E };
            ok(&[s1(s.position), front_entry, 0x4E])
        }
        Command::DetectIcType => {
            let t: [u8; 2] = match (&s.card, s.position) {
                (Some(c), CardPosition::AtContacts | CardPosition::Inside) => match c.kind() {
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
                MoveTo::IcContacts => s.position = CardPosition::AtContacts,
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
            if s.position != CardPosition::AtContacts {
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
            if s.position != CardPosition::AtContacts || !s.powered {
                return op(wire::W);
            }
            if card.kind() != SimCardKind::Sle4442 {
                return op(wire::N);
            }
            let with = |data: &[u8]| {
                let mut v = vec![wire::Y];
                v.extend_from_slice(data);
                ok(&v)
            };
            match sle {
                SleCommand::Reset => with(&card.memory()[..4]),
                SleCommand::ReadMain { addr, len } => match card.read(*addr, usize::from(*len)) {
                    Some(d) => with(&d),
                    None => op(wire::N),
                },
                SleCommand::ReadProtection => with(&card.protection()),
                SleCommand::ReadSecurity => with(&card.security()),
                SleCommand::VerifyPsc(p) => op(if card.verify(*p) { wire::Y } else { wire::N }),
                SleCommand::UpdateMain { addr, data } => match s.update(*addr, data) {
                    Some(UpdateResult::Written) => op(wire::Y),
                    Some(UpdateResult::NotVerified) => op(wire::N),
                    Some(UpdateResult::Pulled { .. }) | None => op(wire::E),
                },
            }
        }
    }
}
