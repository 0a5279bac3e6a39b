//! The CRT-310 simulator: the driver's own codec on the reader's side of a pty.
//!
//! Protocol: a command frame with a good BCC is answered `ACK` and kept; `ENQ` executes it and
//! sends the reply (through the slot's [`device::FaultPlan`]); a bad BCC is answered `NAK`; `EOT`
//! drops the kept command and is answered `EOT`. A silent reader answers nothing at all.

use super::card::{SimCardKind, UpdateResult};
use super::{SimSlot, SlotState};
use crate::crt310::codec::{decode_host, encode_reply, HostMessage};
use crate::crt310::frame::*;
use crate::error::DecodeError;
use bytes::BytesMut;
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

async fn run(mut pty: Pty, slot: SimSlot) {
    let mut buf = BytesMut::with_capacity(1024);
    let mut pending: Option<Command> = None;
    loop {
        match pty.master().read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            let msg = decode_host(&mut buf);
            let (out, delay) = {
                let mut s = slot.lock();
                if s.silent {
                    buf.clear();
                    break;
                }
                match msg {
                    Ok(None) => break,
                    Ok(Some(HostMessage::Command(cmd))) => {
                        pending = Some(cmd);
                        (vec![ACK], std::time::Duration::ZERO)
                    }
                    Ok(Some(HostMessage::Control(Handshake::Enq))) => match pending.take() {
                        Some(cmd) => {
                            s.commands += 1;
                            let reply = execute(&mut s, cmd);
                            let o = s.faults.apply(encode_reply(&reply));
                            (o.bytes, o.delay)
                        }
                        None => continue,
                    },
                    Ok(Some(HostMessage::Control(Handshake::Eot))) => {
                        pending = None;
                        (vec![EOT], std::time::Duration::ZERO)
                    }
                    Ok(Some(HostMessage::Control(_))) => continue,
                    Err(DecodeError::BadChecksum { .. }) => (vec![NAK], std::time::Duration::ZERO),
                    Err(e) => {
                        tracing::debug!(error = %e, "crt310 sim: bad command");
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

fn ok(cmd: &Command, data: Vec<u8>) -> Reply {
    Reply::Positive { cm: cmd.cm(), pm: cmd.pm(), data }
}

fn op(cmd: &Command, r: OpResult) -> Reply {
    ok(cmd, vec![r.byte()])
}

/// Executes one command on the slot's state.
pub(crate) fn execute(s: &mut SlotState, cmd: Command) -> Reply {
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
            ok(&cmd, FIRMWARE.as_bytes().to_vec())
        }
        Command::CardInControl { front, .. } => {
            s.entry_allowed = *front != FrontEntry::Forbidden;
            op(&cmd, OpResult::Success)
        }
        Command::Status => {
            let front_entry = if s.entry_allowed { 0x4A } else { 0x4E };
            let st = ReaderStatus { position: s.position, front_entry, rear_allowed: false };
            ok(&cmd, st.to_data().to_vec())
        }
        Command::DetectIcType => {
            let t = match (&s.card, s.position) {
                (Some(c), CardPosition::AtContacts | CardPosition::Inside) => match c.kind() {
                    SimCardKind::Sle4442 => IcType::Sle4442,
                    SimCardKind::CpuCard => IcType::CpuT0,
                    SimCardKind::Sle4428 => IcType::Other(b'3', b'1'),
                },
                _ => IcType::NoCard,
            };
            ok(&cmd, t.bytes().to_vec())
        }
        Command::Move(to) => {
            if s.card.is_none() {
                return op(&cmd, OpResult::NoCard);
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
            op(&cmd, OpResult::Success)
        }
        Command::IcPower(on) => {
            if s.card.is_none() {
                return op(&cmd, OpResult::NoCard);
            }
            if s.position != CardPosition::AtContacts {
                return op(&cmd, OpResult::NotInPosition);
            }
            s.powered = *on;
            if *on {
                s.card.iter_mut().for_each(|c| c.power_on());
            }
            op(&cmd, OpResult::Success)
        }
        Command::Sle(sle) => {
            let Some(card) = s.card.as_mut() else { return op(&cmd, OpResult::NoCard) };
            if s.position != CardPosition::AtContacts || !s.powered {
                return op(&cmd, OpResult::NotInPosition);
            }
            if card.kind() != SimCardKind::Sle4442 {
                return op(&cmd, OpResult::Failed);
            }
            let with = |data: &[u8]| {
                let mut v = vec![OpResult::Success.byte()];
                v.extend_from_slice(data);
                v
            };
            match sle {
                SleCommand::Reset => ok(&cmd, with(&card.memory()[..4])),
                SleCommand::ReadMain { addr, len } => match card.read(*addr, usize::from(*len)) {
                    Some(d) => ok(&cmd, with(&d)),
                    None => op(&cmd, OpResult::Failed),
                },
                SleCommand::ReadProtection => ok(&cmd, with(&card.protection())),
                SleCommand::ReadSecurity => ok(&cmd, with(&card.security())),
                SleCommand::VerifyPsc(p) => {
                    op(&cmd, if card.verify(*p) { OpResult::Success } else { OpResult::Failed })
                }
                SleCommand::UpdateMain { addr, data } => match s.update(*addr, data) {
                    Some(UpdateResult::Written) => op(&cmd, OpResult::Success),
                    Some(UpdateResult::NotVerified) => op(&cmd, OpResult::Failed),
                    Some(UpdateResult::Pulled { .. }) | None => op(&cmd, OpResult::NoCard),
                },
            }
        }
    }
}
