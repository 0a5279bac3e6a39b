//! The CCID simulator: raw CCID bulk messages over a pty (hardware.md §3.1: responses are
//! self-delimiting, so the real codec and driver run unchanged), answering the ACR38-style
//! SLE4442 pseudo-APDUs of §3.2. A reader without motor: the card is in the slot or not.

use super::card::{SimCardKind, UpdateResult};
use super::{CcidSim, ReaderSim, SimSlot, SlotState as Slot};
use crate::ccid::apdu::MemoryApdu;
use crate::ccid::codec::decode_pc_to_rdr;
use crate::ccid::frame::*;
use crate::crt310::CardPosition;
use bytes::BytesMut;
use device::sim::Served;
use device::sle4442::MemoryOp;
use device::Pty;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// ATR a PC/SC reader reports for an SLE4442 (hardware.md §3.2).
pub const SLE4442_ATR: [u8; 6] = [0x3B, 0x04, 0xA2, 0x13, 0x10, 0x91];
/// A T=0 CPU card ATR.
pub const CPU_ATR: [u8; 11] = [0x3B, 0x6E, 0x00, 0x00, 0x80, 0x31, 0x80, 0x66, 0xB0, 0x84, 0x12];

/// Raw CCID bulk messages, the protocol of a [`CcidSim`].
#[derive(Debug)]
pub struct CcidProtocol;

impl CcidSim {
    /// Opens a pty and starts answering on it. Must run inside a tokio runtime.
    pub fn start() -> std::io::Result<CcidSim> {
        ReaderSim::serving(|slot| Served::start("ccid", |pty| run(pty, slot)))
    }
}

async fn run(mut pty: Pty, slot: SimSlot) {
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        match pty.master().read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            let msg = decode_pc_to_rdr(&mut buf);
            let out = {
                let mut s = slot.lock();
                if s.silent {
                    buf.clear();
                    break;
                }
                match msg {
                    Ok(None) => break,
                    Ok(Some(m)) => {
                        s.commands += 1;
                        let reply = execute(&mut s, m);
                        s.faults.apply(wire::rdr_to_pc(&reply))
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "ccid sim: bad message");
                        continue;
                    }
                }
            };
            if !out.delay.is_zero() {
                tokio::time::sleep(out.delay).await;
            }
            if !out.bytes.is_empty() && pty.master().write_all(&out.bytes).await.is_err() {
                return;
            }
        }
    }
}

fn icc(s: &Slot) -> IccStatus {
    match (&s.card, s.powered) {
        (None, _) => IccStatus::Absent,
        (Some(_), true) => IccStatus::PresentActive,
        (Some(_), false) => IccStatus::PresentInactive,
    }
}

fn status(s: &Slot, slot: u8, seq: u8, failed: Option<u8>) -> RdrToPc {
    let command = if failed.is_some() { CommandStatus::Failed } else { CommandStatus::Ok };
    RdrToPc::SlotStatus {
        slot,
        seq,
        state: SlotState { icc: icc(s), command },
        error: failed.unwrap_or(0),
        clock: 0,
    }
}

fn data_block(s: &Slot, slot: u8, seq: u8, data: Vec<u8>) -> RdrToPc {
    RdrToPc::DataBlock {
        slot,
        seq,
        state: SlotState { icc: icc(s), command: CommandStatus::Ok },
        error: 0,
        chain: 0,
        data,
    }
}

fn failed_block(s: &Slot, slot: u8, seq: u8, error: u8) -> RdrToPc {
    RdrToPc::DataBlock {
        slot,
        seq,
        state: SlotState { icc: icc(s), command: CommandStatus::Failed },
        error,
        chain: 0,
        data: vec![],
    }
}

fn sw(data: &[u8], sw: u16) -> Vec<u8> {
    let mut v = data.to_vec();
    v.extend_from_slice(&sw.to_be_bytes());
    v
}

/// Executes one message on the slot's state.
pub(crate) fn execute(s: &mut Slot, m: PcToRdr) -> RdrToPc {
    let (slot, seq) = (m.slot(), m.seq());
    if slot != 0 {
        return RdrToPc::SlotStatus {
            slot,
            seq,
            state: SlotState { icc: IccStatus::Absent, command: CommandStatus::Failed },
            error: 0x05,
            clock: 0,
        };
    }
    match m {
        PcToRdr::GetSlotStatus { .. } | PcToRdr::Abort { .. } => status(s, slot, seq, None),
        PcToRdr::IccPowerOff { .. } => {
            s.powered = false;
            status(s, slot, seq, None)
        }
        PcToRdr::IccPowerOn { .. } => {
            let Some(card) = s.card.as_mut() else { return failed_block(s, slot, seq, ERR_ICC_MUTE) };
            card.power_on();
            let atr = match card.kind() {
                SimCardKind::Sle4442 => SLE4442_ATR.to_vec(),
                SimCardKind::CpuCard => CPU_ATR.to_vec(),
                SimCardKind::Sle4428 => vec![0x3B, 0x04, 0x92, 0x23, 0x10, 0x91],
            };
            s.powered = true;
            s.position = CardPosition::InsideContacts;
            data_block(s, slot, seq, atr)
        }
        PcToRdr::XfrBlock { data, .. } => {
            if s.card.is_none() || !s.powered {
                return failed_block(s, slot, seq, ERR_ICC_MUTE);
            }
            let resp = match MemoryApdu::decode(&data) {
                None => sw(&[], wire::SW_INS_NOT_SUPPORTED),
                Some(a) => match memory_apdu(s, a) {
                    Some(r) => r,
                    None => return failed_block(s, slot, seq, ERR_ICC_MUTE),
                },
            };
            data_block(s, slot, seq, resp)
        }
    }
}

/// The response to a pseudo-APDU; `None` when the card left during it.
fn memory_apdu(s: &mut Slot, a: MemoryApdu) -> Option<Vec<u8>> {
    let card = s.card.as_mut()?;
    if card.kind() != SimCardKind::Sle4442 {
        return Some(sw(&[], wire::SW_WRONG_PARAMS));
    }
    Some(match a {
        MemoryApdu::SelectSle4442 => sw(&[], wire::SW_OK),
        MemoryApdu::Memory(MemoryOp::ReadMain { addr, len }) => match card.read(addr, usize::from(len)) {
            Some(d) => sw(&d, wire::SW_OK),
            None => sw(&[], wire::SW_WRONG_PARAMS),
        },
        MemoryApdu::Memory(MemoryOp::ReadProtection) => sw(&card.protection(), wire::SW_OK),
        MemoryApdu::Memory(MemoryOp::ReadSecurity) => sw(&card.security(), wire::SW_OK),
        MemoryApdu::Memory(MemoryOp::VerifyPsc(p)) => {
            card.verify(p);
            sw(&[], 0x9000 | u16::from(card.error_counter() & 0x07))
        }
        MemoryApdu::Memory(MemoryOp::UpdateMain { addr, data }) => match s.update(addr, &data)? {
            UpdateResult::Written => sw(&[], wire::SW_OK),
            UpdateResult::NotVerified => sw(&[], wire::SW_SECURITY),
            UpdateResult::Pulled { .. } => return None,
        },
    })
}

/// What the simulated CCID reader sends, written from hardware.md §3.1 and §3.2 (the CCID class
/// specification's message header, ACR38-style status words) and not with the driver's codec,
/// so that a misread header or status bit in the driver cannot be mirrored here.
mod wire {
    use crate::ccid::frame::{CommandStatus, IccStatus, RdrToPc, SlotState};

    pub(super) const SW_OK: u16 = 0x9000;
    pub(super) const SW_WRONG_PARAMS: u16 = 0x6A86;
    pub(super) const SW_SECURITY: u16 = 0x6982;
    pub(super) const SW_INS_NOT_SUPPORTED: u16 = 0x6D00;

    /// The ten-byte header (type, dwLength little-endian, slot, sequence, bStatus, bError, the
    /// message's own byte), then the data.
    pub(super) fn rdr_to_pc(reply: &RdrToPc) -> Vec<u8> {
        let (kind, slot, seq, state, error, last, data): (u8, u8, u8, SlotState, u8, u8, &[u8]) = match reply
        {
            RdrToPc::DataBlock { slot, seq, state, error, chain, data } => {
                (0x80, *slot, *seq, *state, *error, *chain, data)
            }
            RdrToPc::SlotStatus { slot, seq, state, error, clock } => {
                (0x81, *slot, *seq, *state, *error, *clock, &[])
            }
            RdrToPc::Other { kind, slot, seq, state, error, param, data } => {
                (*kind, *slot, *seq, *state, *error, *param, data)
            }
        };
        let length = (data.len() as u32).to_le_bytes();
        let mut out =
            vec![kind, length[0], length[1], length[2], length[3], slot, seq, status(state), error, last];
        out.extend_from_slice(data);
        out
    }

    /// bStatus: bits 0–1 the card (0 present and active, 1 present and inactive, 2 absent),
    /// bits 6–7 the command (0 processed, 1 failed, 2 time extension).
    fn status(state: SlotState) -> u8 {
        let card = match state.icc {
            IccStatus::PresentActive => 0b00,
            IccStatus::PresentInactive => 0b01,
            IccStatus::Absent => 0b10,
            IccStatus::Reserved => 0b11,
        };
        let command = match state.command {
            CommandStatus::Ok => 0b00,
            CommandStatus::Failed => 0b01,
            CommandStatus::TimeExtension => 0b10,
            CommandStatus::Reserved => 0b11,
        };
        command << 6 | card
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_slot_status_of_an_absent_card_and_a_failed_command_is_written_out() {
            let reply = RdrToPc::SlotStatus {
                slot: 0,
                seq: 7,
                state: SlotState { icc: IccStatus::Absent, command: CommandStatus::Failed },
                error: 0xFE,
                clock: 0,
            };
            assert_eq!(rdr_to_pc(&reply), [0x81, 0, 0, 0, 0, 0, 7, 0x42, 0xFE, 0]);
            let block = RdrToPc::DataBlock {
                slot: 0,
                seq: 1,
                state: SlotState { icc: IccStatus::PresentActive, command: CommandStatus::Ok },
                error: 0,
                chain: 0,
                data: vec![0x90, 0x00],
            };
            assert_eq!(rdr_to_pc(&block), [0x80, 2, 0, 0, 0, 0, 1, 0x00, 0, 0, 0x90, 0x00]);
        }
    }
}
