//! CCID messages ⇄ bytes (hardware.md §3.1). Pure functions with literal-vector tests; the same
//! code runs over USB bulk pipes (rusb) and over the simulator's pty, since every message is
//! self-delimiting (`10 + dwLength` bytes).

use super::frame::*;
use crate::error::DecodeError;
use bytes::{Buf, BytesMut};

/// The 10-byte header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// `bMessageType`.
    pub kind: u8,
    /// `dwLength`: bytes of `abData` that follow.
    pub length: u32,
    /// `bSlot`.
    pub slot: u8,
    /// `bSeq`.
    pub seq: u8,
    /// Bytes 7–9 (message specific; `bStatus bError bChainParameter` in replies).
    pub params: [u8; 3],
}

impl Header {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let l = self.length.to_le_bytes();
        [
            self.kind,
            l[0],
            l[1],
            l[2],
            l[3],
            self.slot,
            self.seq,
            self.params[0],
            self.params[1],
            self.params[2],
        ]
    }

    /// Reads a header from the first 10 bytes, or `None` when fewer are there.
    pub fn decode(bytes: &[u8]) -> Option<Header> {
        let h: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
        Some(Header {
            kind: h[0],
            length: u32::from_le_bytes([h[1], h[2], h[3], h[4]]),
            slot: h[5],
            seq: h[6],
            params: [h[7], h[8], h[9]],
        })
    }
}

fn message(kind: u8, slot: u8, seq: u8, params: [u8; 3], data: &[u8]) -> Vec<u8> {
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let mut out = Header { kind, length, slot, seq, params }.encode().to_vec();
    out.extend_from_slice(data);
    out
}

/// Encodes a host → reader message.
pub fn encode_pc_to_rdr(m: &PcToRdr) -> Vec<u8> {
    match m {
        PcToRdr::IccPowerOn { slot, seq, power } => {
            message(PC_TO_RDR_ICC_POWER_ON, *slot, *seq, [power.byte(), 0, 0], &[])
        }
        PcToRdr::IccPowerOff { slot, seq } => message(PC_TO_RDR_ICC_POWER_OFF, *slot, *seq, [0; 3], &[]),
        PcToRdr::GetSlotStatus { slot, seq } => message(PC_TO_RDR_GET_SLOT_STATUS, *slot, *seq, [0; 3], &[]),
        PcToRdr::XfrBlock { slot, seq, bwi, level, data } => {
            let l = level.to_le_bytes();
            message(PC_TO_RDR_XFR_BLOCK, *slot, *seq, [*bwi, l[0], l[1]], data)
        }
        PcToRdr::Abort { slot, seq } => message(PC_TO_RDR_ABORT, *slot, *seq, [0; 3], &[]),
    }
}

/// Encodes a reader → host message (the simulator's side).
pub fn encode_rdr_to_pc(m: &RdrToPc) -> Vec<u8> {
    match m {
        RdrToPc::DataBlock { slot, seq, state, error, chain, data } => {
            message(RDR_TO_PC_DATA_BLOCK, *slot, *seq, [state.byte(), *error, *chain], data)
        }
        RdrToPc::SlotStatus { slot, seq, state, error, clock } => {
            message(RDR_TO_PC_SLOT_STATUS, *slot, *seq, [state.byte(), *error, *clock], &[])
        }
        RdrToPc::Other { kind, slot, seq, state, error, param, data } => {
            message(*kind, *slot, *seq, [state.byte(), *error, *param], data)
        }
    }
}

fn is_rdr_to_pc(kind: u8) -> bool {
    matches!(kind, RDR_TO_PC_DATA_BLOCK..=RDR_TO_PC_DATA_RATE)
}

fn is_pc_to_rdr(kind: u8) -> bool {
    matches!(kind, 0x61..=0x63 | 0x65 | 0x69..=0x6F | 0x71..=0x73)
}

/// Splits one whole message off `buf` if its type passes `known`: `Ok(None)` = need more.
fn split_message(
    buf: &mut BytesMut,
    known: impl Fn(u8) -> bool,
) -> Result<Option<(Header, Vec<u8>)>, DecodeError> {
    let Some(&kind) = buf.first() else { return Ok(None) };
    if !known(kind) {
        buf.advance(1);
        return Err(DecodeError::UnknownCode(kind));
    }
    let Some(h) = Header::decode(buf) else { return Ok(None) };
    let len = usize::try_from(h.length).unwrap_or(usize::MAX);
    if len > MAX_DATA {
        buf.advance(1);
        return Err(DecodeError::BadLength(len));
    }
    if buf.len() < HEADER_LEN + len {
        return Ok(None);
    }
    buf.advance(HEADER_LEN);
    let data = buf.split_to(len).to_vec();
    Ok(Some((h, data)))
}

/// Decodes one reader → host bulk message.
pub fn decode_rdr_to_pc(buf: &mut BytesMut) -> Result<Option<RdrToPc>, DecodeError> {
    let Some((h, data)) = split_message(buf, is_rdr_to_pc)? else { return Ok(None) };
    let state = SlotState::from_byte(h.params[0]);
    let [_, error, p] = h.params;
    Ok(Some(match h.kind {
        RDR_TO_PC_DATA_BLOCK => RdrToPc::DataBlock { slot: h.slot, seq: h.seq, state, error, chain: p, data },
        RDR_TO_PC_SLOT_STATUS => {
            if !data.is_empty() {
                return Err(DecodeError::Malformed("slot status with data"));
            }
            RdrToPc::SlotStatus { slot: h.slot, seq: h.seq, state, error, clock: p }
        }
        kind => RdrToPc::Other { kind, slot: h.slot, seq: h.seq, state, error, param: p, data },
    }))
}

/// Decodes one host → reader message (the simulator's side). Valid messages this driver never
/// sends are consumed whole and reported as [`DecodeError::UnknownCode`].
pub fn decode_pc_to_rdr(buf: &mut BytesMut) -> Result<Option<PcToRdr>, DecodeError> {
    let Some((h, data)) = split_message(buf, is_pc_to_rdr)? else { return Ok(None) };
    let (slot, seq) = (h.slot, h.seq);
    let no_data = |m: PcToRdr| if data.is_empty() { Ok(m) } else { Err(DecodeError::Malformed("data")) };
    let m = match h.kind {
        PC_TO_RDR_ICC_POWER_ON => {
            let power = PowerSelect::from_byte(h.params[0]).ok_or(DecodeError::Malformed("bPowerSelect"))?;
            no_data(PcToRdr::IccPowerOn { slot, seq, power })?
        }
        PC_TO_RDR_ICC_POWER_OFF => no_data(PcToRdr::IccPowerOff { slot, seq })?,
        PC_TO_RDR_GET_SLOT_STATUS => no_data(PcToRdr::GetSlotStatus { slot, seq })?,
        PC_TO_RDR_XFR_BLOCK => PcToRdr::XfrBlock {
            slot,
            seq,
            bwi: h.params[0],
            level: u16::from_le_bytes([h.params[1], h.params[2]]),
            data,
        },
        PC_TO_RDR_ABORT => no_data(PcToRdr::Abort { slot, seq })?,
        other => return Err(DecodeError::UnknownCode(other)),
    };
    Ok(Some(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icc_power_on_slot0_seq0() {
        // hardware.md §3.1 example.
        let want = [
            0x62, // PC_to_RDR_IccPowerOn
            0x00, 0x00, 0x00, 0x00, // dwLength 0 (LE)
            0x00, // bSlot 0
            0x00, // bSeq 0
            0x00, // bPowerSelect: automatic
            0x00, 0x00, // RFU
        ];
        let m = PcToRdr::IccPowerOn { slot: 0, seq: 0, power: PowerSelect::Auto };
        assert_eq!(encode_pc_to_rdr(&m), want);
        assert_eq!(decode_pc_to_rdr(&mut BytesMut::from(&want[..])), Ok(Some(m)));
    }

    #[test]
    fn xfr_block_select_by_name() {
        // hardware.md §3.1 example: SELECT-by-name header 00 A4 04 00, slot 0, seq 1.
        let want = [
            0x6F, // PC_to_RDR_XfrBlock
            0x04, 0x00, 0x00, 0x00, // dwLength 4 (LE)
            0x00, // bSlot
            0x01, // bSeq
            0x00, // bBWI
            0x00, 0x00, // wLevelParameter
            0x00, 0xA4, 0x04, 0x00, // abData: the APDU
        ];
        let m = PcToRdr::XfrBlock { slot: 0, seq: 1, bwi: 0, level: 0, data: vec![0x00, 0xA4, 0x04, 0x00] };
        assert_eq!(encode_pc_to_rdr(&m), want);
    }

    #[test]
    fn header_fields_are_little_endian() {
        let h = Header { kind: 0x80, length: 0x0102_0304, slot: 1, seq: 0xFE, params: [0x40, 0xFE, 0x00] };
        assert_eq!(
            h.encode(),
            [
                0x80, // RDR_to_PC_DataBlock
                0x04, 0x03, 0x02, 0x01, // dwLength 0x01020304, least significant byte first
                0x01, // bSlot
                0xFE, // bSeq
                0x40, // bStatus: command failed, card present+active
                0xFE, // bError: ICC mute
                0x00, // bChainParameter
            ]
        );
        assert_eq!(Header::decode(&h.encode()), Some(h));
        assert_eq!(Header::decode(&h.encode()[..9]), None);
    }

    #[test]
    fn get_slot_status_and_power_off() {
        // 65 = GetSlotStatus, dwLength 0, slot 0, seq 7, RFU x3.
        let want = [0x65, 0, 0, 0, 0, 0x00, 0x07, 0, 0, 0];
        assert_eq!(encode_pc_to_rdr(&PcToRdr::GetSlotStatus { slot: 0, seq: 7 }), want);
        // 63 = IccPowerOff, dwLength 0, slot 0, seq 8, RFU x3.
        let want = [0x63, 0, 0, 0, 0, 0x00, 0x08, 0, 0, 0];
        assert_eq!(encode_pc_to_rdr(&PcToRdr::IccPowerOff { slot: 0, seq: 8 }), want);
    }

    #[test]
    fn data_block_with_sle4442_atr() {
        let bytes = [
            0x80, // RDR_to_PC_DataBlock
            0x06, 0x00, 0x00, 0x00, // dwLength 6
            0x00, // bSlot
            0x00, // bSeq (echo of the power-on)
            0x00, // bStatus: ok, card present and active
            0x00, // bError
            0x00, // bChainParameter: whole message
            0x3B, 0x04, 0xA2, 0x13, 0x10, 0x91, // ATR as PC/SC readers report SLE4442 (§3.2)
        ];
        let m = decode_rdr_to_pc(&mut BytesMut::from(&bytes[..])).unwrap().unwrap();
        let RdrToPc::DataBlock { seq: 0, state, error: 0, chain: 0, data, .. } = &m else { panic!("{m:?}") };
        assert_eq!(state.icc, IccStatus::PresentActive);
        assert_eq!(state.command, CommandStatus::Ok);
        assert_eq!(data, &[0x3B, 0x04, 0xA2, 0x13, 0x10, 0x91]);
        assert_eq!(encode_rdr_to_pc(&m), bytes);
    }

    #[test]
    fn slot_status_card_absent_failed_mute() {
        let bytes = [
            0x81, // RDR_to_PC_SlotStatus
            0x00, 0x00, 0x00, 0x00, // dwLength 0
            0x00, // bSlot
            0x05, // bSeq
            0x42, // bStatus: 01 command failed (bits 6-7), 10 no card (bits 0-1)
            0xFE, // bError: ICC mute
            0x00, // bClockStatus
        ];
        let m = decode_rdr_to_pc(&mut BytesMut::from(&bytes[..])).unwrap().unwrap();
        assert_eq!(m.state(), SlotState { icc: IccStatus::Absent, command: CommandStatus::Failed });
        assert_eq!(m.error(), ERR_ICC_MUTE);
        assert_eq!(m.seq(), 5);
    }

    #[test]
    fn time_extension_status() {
        // bStatus 0x80: bits 6-7 = 2 (time extension), card present and active.
        assert_eq!(SlotState::from_byte(0x80).command, CommandStatus::TimeExtension);
        assert_eq!(SlotState::from_byte(0x01).icc, IccStatus::PresentInactive);
    }

    #[test]
    fn partial_messages_wait_and_unknown_types_are_dropped() {
        let full = encode_rdr_to_pc(&RdrToPc::DataBlock {
            slot: 0,
            seq: 3,
            state: SlotState::from_byte(0),
            error: 0,
            chain: 0,
            data: vec![0x90, 0x00],
        });
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            assert_eq!(decode_rdr_to_pc(&mut buf), Ok(None));
            assert_eq!(buf.len(), cut);
        }
        let mut buf = BytesMut::from(&[0x13][..]);
        assert_eq!(decode_rdr_to_pc(&mut buf), Err(DecodeError::UnknownCode(0x13)));
        assert!(buf.is_empty());
    }

    #[test]
    fn an_absurd_length_is_refused() {
        let mut buf = BytesMut::from(&[0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0][..]);
        assert!(matches!(decode_rdr_to_pc(&mut buf), Err(DecodeError::BadLength(_))));
    }
}
