//! Real-time status, `DLE EOT n` (`10 04 n`, n = 1..4), decoded per hardware.md §4.2.
//!
//! Every reply is one byte with the fixed pattern `0xx1xx10` (bit 1 and bit 4 set, bits 0 and 7
//! clear); a byte that does not match is not a status reply (line noise, a late byte of something
//! else) and is refused, never guessed at. The kiosk reads all four **before it takes money**
//! (`issues show 3`): a customer is told "no receipt available" up front when paper is out.

use device::{DeviceState, DeviceStatus, MediaState};
use serde::{Deserialize, Serialize};

/// Which status `10 04 n` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusQuery {
    /// n = 1: printer status (offline bit).
    Printer = 1,
    /// n = 2: offline cause (cover, paper end, error).
    OfflineCause = 2,
    /// n = 3: error cause (cutter, unrecoverable).
    ErrorCause = 3,
    /// n = 4: roll paper sensor (near-end, end).
    PaperSensor = 4,
}

impl StatusQuery {
    /// All four, in the order the driver asks them.
    pub const ALL: [StatusQuery; 4] =
        [StatusQuery::Printer, StatusQuery::OfflineCause, StatusQuery::ErrorCause, StatusQuery::PaperSensor];

    /// The bytes to send: `10 04 n` (no trailing NUL, unlike escpos-rs).
    pub fn command(self) -> [u8; 3] {
        [0x10, 0x04, self as u8]
    }
}

/// A byte that is not a `DLE EOT` reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// The byte does not match `0xx1xx10`.
    #[error("status byte {0:#04x} does not match the pattern 0xx1xx10")]
    BadPattern(u8),
}

/// True when `b` has the `DLE EOT` reply pattern `0xx1xx10`.
pub fn is_status_byte(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0010
}

fn checked(b: u8) -> Result<u8, StatusError> {
    if is_status_byte(b) {
        Ok(b)
    } else {
        Err(StatusError::BadPattern(b))
    }
}

const fn bit(b: u8, n: u8) -> bool {
    b & (1 << n) != 0
}

/// Paper supply (XFS4IoT `printer.paper`: full / low / out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Paper {
    /// Enough paper.
    Ok,
    /// Near-end sensor triggered: a few receipts left; tell staff.
    NearEnd,
    /// No paper.
    Out,
}

/// The printer's state from the four `DLE EOT` replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterStatus {
    /// False when the printer did not answer (port gone, powered off): nothing else is known.
    pub reachable: bool,
    /// n=1 bit 3: the printer says it is offline.
    pub offline: bool,
    /// n=2 bit 2.
    pub cover_open: bool,
    /// n=4 bits 2–3 / 5–6 and n=2 bit 5.
    pub paper: Paper,
    /// n=3 bit 3.
    pub cutter_error: bool,
    /// n=3 bit 5: needs a service call.
    pub unrecoverable_error: bool,
    /// n=3 bit 2.
    pub recoverable_error: bool,
    /// n=3 bit 6 (head too hot...): clears by itself.
    pub auto_recoverable_error: bool,
}

impl PrinterStatus {
    /// The status of a printer that did not answer.
    pub fn unreachable() -> Self {
        PrinterStatus {
            reachable: false,
            offline: true,
            cover_open: false,
            paper: Paper::Ok,
            cutter_error: false,
            unrecoverable_error: false,
            recoverable_error: false,
            auto_recoverable_error: false,
        }
    }

    /// Decodes the replies to `10 04 1`, `10 04 2`, `10 04 3`, `10 04 4`, in that order.
    pub fn from_replies(replies: [u8; 4]) -> Result<Self, StatusError> {
        let [p, o, e, s] =
            [checked(replies[0])?, checked(replies[1])?, checked(replies[2])?, checked(replies[3])?];
        let paper_end = (bit(s, 5) || bit(s, 6)) || bit(o, 5);
        let near_end = bit(s, 2) || bit(s, 3);
        Ok(PrinterStatus {
            reachable: true,
            offline: bit(p, 3),
            cover_open: bit(o, 2),
            paper: if paper_end {
                Paper::Out
            } else if near_end {
                Paper::NearEnd
            } else {
                Paper::Ok
            },
            cutter_error: bit(e, 3),
            unrecoverable_error: bit(e, 5),
            recoverable_error: bit(e, 2) || (bit(o, 6) && !bit(e, 3) && !bit(e, 5)),
            auto_recoverable_error: bit(e, 6),
        })
    }

    /// May the kiosk promise a receipt? Asked before taking money.
    pub fn can_print_receipt(&self) -> bool {
        self.reachable
            && self.paper != Paper::Out
            && !self.cover_open
            && !self.cutter_error
            && !self.unrecoverable_error
            // Offline or in error only because the head is hot: it recovers by itself, so
            // still promise. Any other recoverable error waits for someone to clear it.
            && (!self.offline || self.auto_recoverable_error)
            && (!self.recoverable_error || self.auto_recoverable_error)
    }

    /// Paper near its end: still prints, but staff should reload soon.
    pub fn paper_near_end(&self) -> bool {
        self.paper == Paper::NearEnd
    }

    /// The device model view (architecture rule 3). The printer has no presenter sensor, so
    /// `media` is `NotSupported`; the paper supply is in the detail.
    pub fn device_status(&self) -> DeviceStatus<PrinterStatus> {
        let device = if !self.reachable {
            DeviceState::Offline
        } else if self.cutter_error || self.unrecoverable_error {
            DeviceState::HardwareError
        } else if self.paper == Paper::Out || self.cover_open {
            DeviceState::UserError
        } else if self.auto_recoverable_error {
            DeviceState::Busy
        } else if self.offline || self.recoverable_error {
            DeviceState::HardwareError
        } else {
            DeviceState::Online
        };
        let media = if self.reachable { MediaState::NotSupported } else { MediaState::Unknown };
        DeviceStatus { device, media, detail: *self }
    }
}

/// Decodes the reply to the non-real-time `1D 72 01` paper query common on Chinese printers
/// (hardware.md §4.1, [S] P14): `00` paper OK, `0F` paper end; bits 0–1 near-end (Epson
/// semantics, [I]). Other bits set → `None`.
pub fn decode_gs_r_paper(b: u8) -> Option<Paper> {
    if b & 0xF0 != 0 {
        return None;
    }
    Some(if b & 0x0C != 0 {
        Paper::Out
    } else if b & 0x03 != 0 {
        Paper::NearEnd
    } else {
        Paper::Ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OK: [u8; 4] = [0x12, 0x12, 0x12, 0x12]; // §4.2 "All-OK" column for n = 1..4

    #[test]
    fn status_commands_are_dle_eot_n() {
        assert_eq!(StatusQuery::Printer.command(), [0x10, 0x04, 0x01]); // DLE, EOT, n=1
        assert_eq!(StatusQuery::OfflineCause.command(), [0x10, 0x04, 0x02]); // n=2
        assert_eq!(StatusQuery::ErrorCause.command(), [0x10, 0x04, 0x03]); // n=3
        assert_eq!(StatusQuery::PaperSensor.command(), [0x10, 0x04, 0x04]); // n=4
    }

    #[test]
    fn all_ok_bytes_are_ready() {
        let s = PrinterStatus::from_replies(OK).unwrap();
        assert!(s.can_print_receipt() && !s.paper_near_end());
        assert_eq!(s.device_status().device, DeviceState::Online);
    }

    #[test]
    fn n1_offline_1a() {
        // §4.2 n=1: 0x1A = 0001 1010, bit 3 offline.
        let s = PrinterStatus::from_replies([0x1A, 0x12, 0x12, 0x12]).unwrap();
        assert!(s.offline && !s.can_print_receipt());
    }

    #[test]
    fn n2_cover_open_16() {
        // §4.2 n=2: 0x16 = 0001 0110, bit 2 cover open.
        let s = PrinterStatus::from_replies([0x1A, 0x16, 0x12, 0x12]).unwrap();
        assert!(s.cover_open && !s.can_print_receipt());
        assert_eq!(s.device_status().device, DeviceState::UserError);
    }

    #[test]
    fn n2_paper_end_32() {
        // §4.2 n=2: 0x32 = 0011 0010, bit 5 stopped by paper end.
        let s = PrinterStatus::from_replies([0x1A, 0x32, 0x12, 0x12]).unwrap();
        assert_eq!(s.paper, Paper::Out);
    }

    #[test]
    fn n2_error_52() {
        // §4.2 n=2: 0x52 = 0101 0010, bit 6 error occurred.
        let s = PrinterStatus::from_replies([0x1A, 0x52, 0x12, 0x12]).unwrap();
        assert!(s.recoverable_error && !s.can_print_receipt());
    }

    #[test]
    fn an_error_while_online_still_promises_no_receipt() {
        // §4.2: n=2 bit 6 "error occurred", n=3 bit 2 "recoverable error", each with n=1 online.
        for replies in [[0x12, 0x52, 0x12, 0x12], [0x12, 0x12, 0x16, 0x12]] {
            let s = PrinterStatus::from_replies(replies).unwrap();
            assert!(s.recoverable_error && !s.can_print_receipt(), "{replies:02X?}");
        }
        // A hot head (n=3 bit 6) recovers by itself.
        let hot = PrinterStatus::from_replies([0x12, 0x52, 0x52, 0x12]).unwrap();
        assert!(hot.auto_recoverable_error && hot.can_print_receipt());
    }

    #[test]
    fn n3_cutter_1a() {
        // §4.2 n=3: 0x1A = 0001 1010, bit 3 autocutter error.
        let s = PrinterStatus::from_replies([0x1A, 0x52, 0x1A, 0x12]).unwrap();
        assert!(s.cutter_error && !s.can_print_receipt());
        assert_eq!(s.device_status().device, DeviceState::HardwareError);
    }

    #[test]
    fn n4_near_end_1e() {
        // §4.2 n=4: 0x1E = 0001 1110, bits 2+3 near-end: still prints.
        let s = PrinterStatus::from_replies([0x12, 0x12, 0x12, 0x1E]).unwrap();
        assert_eq!(s.paper, Paper::NearEnd);
        assert!(s.paper_near_end() && s.can_print_receipt());
    }

    #[test]
    fn n4_end_72_and_both_7e() {
        // §4.2 n=4: 0x72 = 0111 0010, bits 5+6 paper end; 0x7E adds near-end bits 2+3.
        for b in [0x72, 0x7E] {
            let s = PrinterStatus::from_replies([0x1A, 0x32, 0x12, b]).unwrap();
            assert_eq!(s.paper, Paper::Out);
            assert!(!s.can_print_receipt());
            assert_eq!(s.device_status().device, DeviceState::UserError);
        }
    }

    #[test]
    fn bytes_off_the_pattern_are_refused() {
        // 0x00: bits 1 and 4 clear; 0x13: bit 0 set; 0x92: bit 7 set.
        for b in [0x00, 0x13, 0x92, 0xFF] {
            assert_eq!(PrinterStatus::from_replies([b, 0x12, 0x12, 0x12]), Err(StatusError::BadPattern(b)));
        }
    }

    #[test]
    fn unreachable_is_offline_and_cannot_print() {
        let s = PrinterStatus::unreachable();
        assert!(!s.can_print_receipt());
        assert_eq!(s.device_status().device, DeviceState::Offline);
    }

    #[test]
    fn gs_r_paper_bytes() {
        assert_eq!(decode_gs_r_paper(0x00), Some(Paper::Ok)); // P14: 00 paper OK
        assert_eq!(decode_gs_r_paper(0x0F), Some(Paper::Out)); // P14: 0F paper end
        assert_eq!(decode_gs_r_paper(0x03), Some(Paper::NearEnd)); // [I] bits 0-1 near-end
        assert_eq!(decode_gs_r_paper(0x12), None);
    }

    proptest! {
        #[test]
        fn the_decoder_never_panics_and_accepts_only_the_pattern(r in any::<[u8; 4]>()) {
            let ok = r.iter().all(|&b| is_status_byte(b));
            prop_assert_eq!(PrinterStatus::from_replies(r).is_ok(), ok);
            let _ = decode_gs_r_paper(r[0]);
        }
    }
}
