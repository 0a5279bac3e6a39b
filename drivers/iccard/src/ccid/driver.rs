//! A USB CCID contact reader (hardware.md §3.1) running SLE4442 through ACR38-style
//! pseudo-APDUs (§3.2). Over USB the byte stream is [`device::usb::UsbConnector`]'s bulk pipe;
//! in tests and the demo it is the CCID simulator's pty.
//!
//! Each request carries the next `bSeq`; replies with another `bSeq` are stale and dropped (the
//! reference driver gives up after 10), a time-extension status means "keep waiting". A reader
//! without motor cannot eject or capture: the customer pulls the card.

use super::apdu::{self, MemoryApdu, VerifyAnswer};
use super::codec::{decode_rdr_to_pc, encode_pc_to_rdr};
use super::frame::*;
use crate::error::{CardError, CardKind, ReaderError};
use crate::reader::{CardPresence, ContactReader, Psc, PscAnswer};
use device::link::Timing;
use device::reconnect::{BackoffPolicy, Connector, Reconnecting};
use device::sle4442::MemoryOp;
use device::AnyConnector;

/// Most stale replies skipped before giving up (as LudovicRousseau/CCID does).
const MAX_STALE: usize = 10;
/// Undecodable bytes skipped while waiting for one reply before giving up: more than any
/// message is long, so only a reader that sends nothing but noise reaches it.
const MAX_NOISE: usize = 1024;

/// A CCID reader slot.
#[derive(Debug)]
pub struct CcidReader<C: Connector = AnyConnector> {
    port: Reconnecting<C>,
    slot: u8,
    seq: u8,
    timing: Timing,
    /// `bPowerSelect` of the power-on: automatic, as hardware.md §3.1's example
    /// (`62 00 00 00 00 00 00 00 00 00`); the reader picks the class the card answers to (an
    /// SLE4442 is a 5 V card).
    power: PowerSelect,
}

impl<C: Connector> CcidReader<C> {
    /// Slot `slot` of the reader reached through `connector`.
    pub fn new(connector: C, slot: u8, timing: Timing, backoff: BackoffPolicy) -> Self {
        CcidReader {
            port: Reconnecting::new(connector, backoff),
            slot,
            seq: 0,
            timing,
            power: PowerSelect::Auto,
        }
    }

    fn next_seq(&mut self) -> u8 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        s
    }

    /// Sends one message built for the next sequence number and returns the matching reply.
    pub async fn transact(&mut self, build: impl FnOnce(u8, u8) -> PcToRdr) -> Result<RdrToPc, CardError> {
        let seq = self.next_seq();
        let bytes = encode_pc_to_rdr(&build(self.slot, seq));
        let mut reply = self.port.request(&bytes, decode_rdr_to_pc, self.timing).await?;
        // Stale replies (another bSeq) and noise are counted apart: ten stale replies mean the
        // reader is answering something else (hardware.md §3.1, "gives up after 10"), while
        // noise is skipped a byte at a time until a message starts.
        let (mut skipped, mut noise) = (0, 0);
        loop {
            match reply {
                Ok(m) if m.seq() == seq && m.state().command == CommandStatus::TimeExtension => {}
                Ok(m) if m.seq() == seq && m.slot() == self.slot => return Ok(m),
                Ok(_) if skipped >= MAX_STALE => return Err(ReaderError::Mismatch.into()),
                Err(_) if noise >= MAX_NOISE => return Err(ReaderError::Mismatch.into()),
                Ok(m) => {
                    tracing::debug!(got = m.seq(), want = seq, "ccid: stale reply dropped");
                    skipped += 1;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "ccid: undecodable bytes dropped");
                    noise += 1;
                }
            }
            reply = self.port.read_frame(decode_rdr_to_pc, self.timing).await?;
        }
    }

    /// Sends an APDU in an XfrBlock; returns response data and status word.
    pub async fn xfr(&mut self, apdu: &MemoryApdu) -> Result<(Vec<u8>, u16), CardError> {
        let data = apdu.encode();
        let reply =
            self.transact(|slot, seq| PcToRdr::XfrBlock { slot, seq, bwi: 0, level: 0, data }).await?;
        let resp = check(&reply)?;
        let (body, sw) = apdu::split_sw(&resp).ok_or(crate::DecodeError::Malformed("short response"))?;
        Ok((body.to_vec(), sw))
    }
}

/// Checks a reply's status: card gone, command failed. Returns its data.
fn check(reply: &RdrToPc) -> Result<Vec<u8>, CardError> {
    let state = reply.state();
    if state.icc == IccStatus::Absent {
        return Err(CardError::CardRemoved);
    }
    if state.command == CommandStatus::Failed {
        return Err(match reply.error() {
            ERR_ICC_MUTE => CardError::CardRemoved,
            e => ReaderError::Ccid(e).into(),
        });
    }
    match reply {
        RdrToPc::DataBlock { data, .. } | RdrToPc::Other { data, .. } => Ok(data.clone()),
        RdrToPc::SlotStatus { .. } => Ok(Vec::new()),
    }
}

/// True for the ATR PC/SC readers report for SLE4442 (`3B 04 A2 13 10 91`) or the card's raw
/// synchronous ATR (`A2 13 10 91`).
pub fn is_sle4442_atr(atr: &[u8]) -> bool {
    let body = atr.strip_prefix(&[0x3B, 0x04]).unwrap_or(atr);
    body.len() == 4 && body[0] == 0xA2
}

impl<C: Connector> ContactReader for CcidReader<C> {
    fn kind(&self) -> &'static str {
        "ccid"
    }

    async fn presence(&mut self) -> Result<CardPresence, CardError> {
        let r = self.transact(|slot, seq| PcToRdr::GetSlotStatus { slot, seq }).await?;
        Ok(match r.state().icc {
            IccStatus::Absent => CardPresence::Absent,
            _ => CardPresence::Inside,
        })
    }

    async fn open_memory_card(&mut self) -> Result<(), CardError> {
        let power = self.power;
        let r = self.transact(|slot, seq| PcToRdr::IccPowerOn { slot, seq, power }).await?;
        let atr = check(&r).map_err(|e| match e {
            CardError::CardRemoved => CardError::NoCard,
            e => e,
        })?;
        if !is_sle4442_atr(&atr) {
            let found = if atr.len() > 6 { CardKind::CpuCard } else { CardKind::OtherMemoryCard };
            return Err(CardError::WrongCardType { found });
        }
        match self.xfr(&MemoryApdu::SelectSle4442).await? {
            (_, apdu::SW_OK) => Ok(()),
            (_, sw) => Err(ReaderError::StatusWord(sw).into()),
        }
    }

    async fn read_main(&mut self, addr: u8, len: u8) -> Result<Vec<u8>, CardError> {
        match self.xfr(&MemoryOp::ReadMain { addr, len }.into()).await? {
            (data, apdu::SW_OK) if data.len() == usize::from(len) => Ok(data),
            (_, apdu::SW_OK) => Err(crate::DecodeError::Malformed("read length").into()),
            (_, sw) => Err(ReaderError::StatusWord(sw).into()),
        }
    }

    async fn read_security(&mut self) -> Result<[u8; 4], CardError> {
        match self.xfr(&MemoryOp::ReadSecurity.into()).await? {
            (data, apdu::SW_OK) => <[u8; 4]>::try_from(data.as_slice())
                .map_err(|_| crate::DecodeError::Malformed("security").into()),
            (_, sw) => Err(ReaderError::StatusWord(sw).into()),
        }
    }

    async fn present_psc(&mut self, psc: &Psc) -> Result<PscAnswer, CardError> {
        match self.xfr(&MemoryOp::VerifyPsc(psc.bytes()).into()).await {
            Ok((_, sw)) => Ok(match VerifyAnswer::from_sw(sw) {
                VerifyAnswer::Verified => PscAnswer::Accepted,
                VerifyAnswer::Wrong(_) | VerifyAnswer::Locked => PscAnswer::Refused,
                VerifyAnswer::Other(_) => PscAnswer::Unknown,
            }),
            Err(CardError::Reader(ReaderError::Decode(_) | ReaderError::Mismatch))
            | Err(CardError::Transport(device::TransportError::Timeout { .. })) => Ok(PscAnswer::Unknown),
            Err(e) => Err(e),
        }
    }

    async fn update_main(&mut self, addr: u8, data: &[u8]) -> Result<(), CardError> {
        match self.xfr(&MemoryOp::UpdateMain { addr, data: data.to_vec() }.into()).await? {
            (_, apdu::SW_OK) => Ok(()),
            (_, _) => Err(CardError::WriteFailed { addr }),
        }
    }

    async fn close_card(&mut self) -> Result<(), CardError> {
        let r = self.transact(|slot, seq| PcToRdr::IccPowerOff { slot, seq }).await?;
        match check(&r) {
            Ok(_) | Err(CardError::CardRemoved) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn set_entry(&mut self, _allow: bool) -> Result<(), CardError> {
        Ok(())
    }

    async fn eject(&mut self) -> Result<(), CardError> {
        self.close_card().await
    }

    async fn capture(&mut self) -> Result<(), CardError> {
        Err(ReaderError::Unsupported("capture on a CCID slot").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sle4442_atrs() {
        assert!(is_sle4442_atr(&[0x3B, 0x04, 0xA2, 0x13, 0x10, 0x91]));
        assert!(is_sle4442_atr(&[0xA2, 0x13, 0x10, 0x91]));
        // A T=1 CPU card ATR.
        assert!(!is_sle4442_atr(&[0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0]));
        assert!(!is_sle4442_atr(&[]));
    }
}
