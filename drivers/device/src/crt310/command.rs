//! The CRT-310 command set (hardware.md §2.2, §3.2): every command a Yizhan driver sends to the
//! reader, as one type, with its text `CM PM data` and the reading of that text back (what a
//! simulator does with the host's bytes).
//!
//! A slot that must never do something keeps its own smaller command type that converts into
//! [`Command`] (`idcard`'s `SlotCommand` has no capture; `bankcard`'s has no chip commands), so
//! the restriction is a compile error there, not a rule here.

use crate::sle4442::MemoryOp;

/// What `30 PM` (reset) does with a card found inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResetMode {
    /// `30`: leave it where it is.
    Keep,
    /// `31`: eject it to the front.
    EjectFront,
    /// `32`: eject it to the rear (captured).
    EjectRear,
}

/// Where `32 PM` moves the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MoveTo {
    /// `2E`: inside, over the RF antenna.
    Rf,
    /// `2F`: inside, IC contacts engaged.
    IcContacts,
    /// `30`: out of the front, not held.
    FrontNoHold,
    /// `31`: held at the front gate: "take your card".
    Gate,
    /// `32`: held at the rear.
    RearHold,
    /// `33`: out of the rear, not held: captured into the bin.
    Capture,
    /// `34`: clear an abnormal card.
    CleanAbnormal,
}

/// Front entry mode of card-in control (`2F Pm1 Pm2`, Pm1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrontEntry {
    /// `31`: no card may enter.
    Forbidden,
    /// `32`: enter on a magnetic stripe signal.
    Magnetic,
    /// `33`: enter on the front switch (any card).
    Switch,
    /// `34`: enter on a magnetic signal and the switch.
    MagneticSignal,
}

/// SLE4442 pass-through (`38 30` … `38 35`, hardware.md §3.2, CRT-310 column): the reset that
/// opens the card, then the card's own operations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SleCommand {
    /// `38 30`: reset the card; the reply carries the 4-byte ATR.
    Reset,
    /// `38 31 addr len` read (len 1..=[`MAX_READ`]), `38 32` protection, `38 33` security,
    /// `38 34 p1 p2 p3` PSC, `38 35 addr len data` update.
    Memory(MemoryOp),
}

impl From<MemoryOp> for SleCommand {
    fn from(op: MemoryOp) -> Self {
        SleCommand::Memory(op)
    }
}

impl From<MemoryOp> for Command {
    fn from(op: MemoryOp) -> Self {
        Command::Sle(SleCommand::Memory(op))
    }
}

/// Most bytes one `38 31` read asks for.
pub const MAX_READ: u8 = 0x80;

/// A host → reader command; its frame text is `CM PM data`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// `30 PM`: initialise; must be the first command after power-up.
    Reset(ResetMode),
    /// `2F Pm1 Pm2`: which cards may enter, from the front and from the rear.
    CardIn {
        /// Front entry mode.
        front: FrontEntry,
        /// Rear entry allowed (`30`) or forbidden (`31`).
        rear_allowed: bool,
    },
    /// `31 30`: reader status S1 S2 S3.
    Status,
    /// `31 31`: detect the contact IC card type.
    DetectIcType,
    /// `32 PM`: move the card.
    Move(MoveTo),
    /// `33 30` on / `33 31` off: power the IC contacts.
    IcPower(bool),
    /// `38 PM …`: SLE4442 pass-through.
    Sle(SleCommand),
}

/// One table of every (value, byte) pair, read both ways, so a code is written once.
macro_rules! byte_table {
    ($ty:ty, $($v:path => $b:literal),+ $(,)?) => {
        impl $ty {
            /// The PM byte.
            pub const fn pm(self) -> u8 {
                match self { $($v => $b),+ }
            }
            /// From a PM byte.
            pub const fn from_pm(pm: u8) -> Option<Self> {
                match pm { $($b => Some($v),)+ _ => None }
            }
        }
    };
}

byte_table!(ResetMode, ResetMode::Keep => 0x30, ResetMode::EjectFront => 0x31, ResetMode::EjectRear => 0x32);
byte_table!(
    MoveTo,
    MoveTo::Rf => 0x2E,
    MoveTo::IcContacts => 0x2F,
    MoveTo::FrontNoHold => 0x30,
    MoveTo::Gate => 0x31,
    MoveTo::RearHold => 0x32,
    MoveTo::Capture => 0x33,
    MoveTo::CleanAbnormal => 0x34,
);
byte_table!(
    FrontEntry,
    FrontEntry::Forbidden => 0x31,
    FrontEntry::Magnetic => 0x32,
    FrontEntry::Switch => 0x33,
    FrontEntry::MagneticSignal => 0x34,
);

impl SleCommand {
    /// The PM byte.
    pub const fn pm(&self) -> u8 {
        match self {
            SleCommand::Reset => 0x30,
            SleCommand::Memory(MemoryOp::ReadMain { .. }) => 0x31,
            SleCommand::Memory(MemoryOp::ReadProtection) => 0x32,
            SleCommand::Memory(MemoryOp::ReadSecurity) => 0x33,
            SleCommand::Memory(MemoryOp::VerifyPsc(_)) => 0x34,
            SleCommand::Memory(MemoryOp::UpdateMain { .. }) => 0x35,
        }
    }
}

impl Command {
    /// The CM byte.
    pub const fn cm(&self) -> u8 {
        match self {
            Command::Reset(_) => 0x30,
            Command::CardIn { .. } => 0x2F,
            Command::Status | Command::DetectIcType => 0x31,
            Command::Move(_) => 0x32,
            Command::IcPower(_) => 0x33,
            Command::Sle(_) => 0x38,
        }
    }

    /// The PM byte.
    pub const fn pm(&self) -> u8 {
        match self {
            Command::Reset(m) => m.pm(),
            Command::CardIn { front, .. } => front.pm(),
            Command::Status => 0x30,
            Command::DetectIcType => 0x31,
            Command::Move(m) => m.pm(),
            Command::IcPower(true) => 0x30,
            Command::IcPower(false) => 0x31,
            Command::Sle(s) => s.pm(),
        }
    }

    /// The frame text: `CM PM data`. A write longer than 255 bytes is cut there (LEN is one byte).
    pub fn text(&self) -> Vec<u8> {
        let mut t = vec![self.cm(), self.pm()];
        match self {
            Command::CardIn { rear_allowed, .. } => t.push(if *rear_allowed { 0x30 } else { 0x31 }),
            Command::Sle(SleCommand::Memory(MemoryOp::ReadMain { addr, len })) => {
                t.extend_from_slice(&[*addr, *len])
            }
            Command::Sle(SleCommand::Memory(MemoryOp::VerifyPsc(psc))) => t.extend_from_slice(psc),
            Command::Sle(SleCommand::Memory(MemoryOp::UpdateMain { addr, data })) => {
                let data = &data[..data.len().min(255)];
                t.push(*addr);
                t.push(data.len() as u8);
                t.extend_from_slice(data);
            }
            _ => {}
        }
        t
    }

    /// The whole frame: `02 LEN CM PM data 03 BCC`.
    pub fn encode(&self) -> Vec<u8> {
        super::frame::encode(&self.text())
    }

    /// True when running the command twice does no harm, so a lost or garbled reply may be
    /// answered by asking again. Reset, moves, PSC presentation and writes are not: their effect
    /// is checked by reading instead.
    pub fn is_idempotent(&self) -> bool {
        match self {
            Command::Status | Command::DetectIcType | Command::IcPower(_) | Command::CardIn { .. } => true,
            Command::Sle(SleCommand::Reset) => true,
            Command::Sle(SleCommand::Memory(op)) => op.is_read(),
            Command::Reset(_) | Command::Move(_) => false,
        }
    }

    /// Reads a command text (the simulator's side of the line). The error is the E byte the
    /// reader answers such a text with (hardware.md §2.2).
    pub fn from_text(text: &[u8]) -> Result<Command, super::ErrorCode> {
        use super::ErrorCode::{BadCommand, BadData, BadParameter};
        fn pm<T>(p: Option<T>) -> Result<T, super::ErrorCode> {
            p.ok_or(super::ErrorCode::BadParameter)
        }
        Ok(match text {
            [0x30, p] => Command::Reset(pm(ResetMode::from_pm(*p))?),
            [0x2F, p1, p2] => Command::CardIn {
                front: pm(FrontEntry::from_pm(*p1))?,
                rear_allowed: match p2 {
                    0x30 => true,
                    0x31 => false,
                    _ => return Err(BadParameter),
                },
            },
            [0x31, 0x30] => Command::Status,
            [0x31, 0x31] => Command::DetectIcType,
            [0x32, p] => Command::Move(pm(MoveTo::from_pm(*p))?),
            [0x33, 0x30] => Command::IcPower(true),
            [0x33, 0x31] => Command::IcPower(false),
            [0x38, 0x30] => Command::Sle(SleCommand::Reset),
            [0x38, 0x31, addr, len] if (1..=MAX_READ).contains(len) => {
                MemoryOp::ReadMain { addr: *addr, len: *len }.into()
            }
            [0x38, 0x32] => MemoryOp::ReadProtection.into(),
            [0x38, 0x33] => MemoryOp::ReadSecurity.into(),
            [0x38, 0x34, a, b, c] => MemoryOp::VerifyPsc([*a, *b, *c]).into(),
            [0x38, 0x35, addr, len, data @ ..] if *len > 0 && usize::from(*len) == data.len() => {
                MemoryOp::UpdateMain { addr: *addr, data: data.to_vec() }.into()
            }
            [0x38, 0x30..=0x35, ..] => return Err(BadData),
            [0x2F | 0x30 | 0x31 | 0x32 | 0x33 | 0x38, _, ..] => return Err(BadParameter),
            _ => return Err(BadCommand),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::ErrorCode;
    use super::*;

    // Every worked frame of hardware.md §2.1, encoded from the typed command, byte by byte.

    #[test]
    fn reset_keep() {
        // STX, LEN 00 02, CM 30 reset, PM 30 leave the card, ETX, BCC 03.
        assert_eq!(Command::Reset(ResetMode::Keep).encode(), [0x02, 0x00, 0x02, 0x30, 0x30, 0x03, 0x03]);
    }

    #[test]
    fn status() {
        // STX, LEN 00 02, CM 31 PM 30 reader status, ETX, BCC 02.
        assert_eq!(Command::Status.encode(), [0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02]);
    }

    #[test]
    fn moves() {
        // STX, LEN 00 02, CM 32, PM, ETX, BCC: IC 2F→1E, front no-hold 30→01, gate 31→00, capture 33→02.
        for (to, pm, bcc) in [
            (MoveTo::IcContacts, 0x2F, 0x1E),
            (MoveTo::FrontNoHold, 0x30, 0x01),
            (MoveTo::Gate, 0x31, 0x00),
            (MoveTo::Capture, 0x33, 0x02),
        ] {
            assert_eq!(Command::Move(to).encode(), [0x02, 0x00, 0x02, 0x32, pm, 0x03, bcc], "{to:?}");
        }
    }

    #[test]
    fn ic_power_on() {
        // STX, LEN 00 02, CM 33 PM 30 power on, ETX, BCC 00.
        assert_eq!(Command::IcPower(true).encode(), [0x02, 0x00, 0x02, 0x33, 0x30, 0x03, 0x00]);
    }

    #[test]
    fn card_in_control_front_switch_rear_forbidden() {
        let want = [
            0x02, // STX
            0x00, 0x03, // LEN: CM Pm1 Pm2
            0x2F, // CM: card-in control
            0x33, // Pm1: front entry on the switch
            0x31, // Pm2: rear forbidden
            0x03, // ETX
            0x2F, // BCC = 02^00^03^2F^33^31^03
        ];
        assert_eq!(Command::CardIn { front: FrontEntry::Switch, rear_allowed: false }.encode(), want);
    }

    #[test]
    fn ic_power_off_and_detect_ic_type() {
        // STX, LEN 00 02, CM 33, PM 31 power off, ETX, BCC 01 (02^02^33^31^03).
        assert_eq!(Command::IcPower(false).encode(), [0x02, 0x00, 0x02, 0x33, 0x31, 0x03, 0x01]);
        // STX, LEN 00 02, CM 31 PM 31 auto-detect IC type, ETX, BCC 03.
        assert_eq!(Command::DetectIcType.encode(), [0x02, 0x00, 0x02, 0x31, 0x31, 0x03, 0x03]);
    }

    #[test]
    fn sle_read_main() {
        let want = [
            0x02, // STX
            0x00, 0x04, // LEN 4
            0x38, 0x31, // SLE4442 read main
            0x20, // address 0x20
            0x80, // 128 bytes
            0x03, // ETX
            0xAC, // BCC
        ];
        assert_eq!(Command::from(MemoryOp::ReadMain { addr: 0x20, len: 0x80 }).encode(), want);
    }

    #[test]
    fn sle_verify_psc() {
        let want = [
            0x02, // STX
            0x00, 0x05, // LEN 5
            0x38, 0x34, // SLE4442 verify PSC
            0xFF, 0xFF, 0xFF, // transport PSC FF FF FF (hardware.md §3.2)
            0x03, // ETX
            0xF7, // BCC
        ];
        assert_eq!(Command::from(MemoryOp::VerifyPsc([0xFF; 3])).encode(), want);
    }

    #[test]
    fn sle_update_main() {
        let want = [
            0x02, // STX
            0x00, 0x05, // LEN 5
            0x38, 0x35, // SLE4442 update main
            0x40, // address
            0x01, // one byte
            0xA5, // data
            0x03, // ETX
            0xED, // BCC
        ];
        let cmd = Command::from(MemoryOp::UpdateMain { addr: 0x40, data: vec![0xA5] });
        assert_eq!(cmd.encode(), want);
        assert_eq!(Command::from_text(&want[3..8]), Ok(cmd));
    }

    #[test]
    fn sle_texts_carry_their_arguments() {
        assert_eq!(
            Command::from(MemoryOp::ReadMain { addr: 0x20, len: 0x10 }).text(),
            [0x38, 0x31, 0x20, 0x10]
        );
        assert_eq!(Command::from(MemoryOp::VerifyPsc([1, 2, 3])).text(), [0x38, 0x34, 1, 2, 3]);
        assert_eq!(
            Command::from(MemoryOp::UpdateMain { addr: 0x40, data: vec![0xAA, 0xBB] }).text(),
            [0x38, 0x35, 0x40, 0x02, 0xAA, 0xBB]
        );
    }

    #[test]
    fn every_command_reads_back_from_its_text() {
        let all = [
            Command::Reset(ResetMode::Keep),
            Command::Reset(ResetMode::EjectFront),
            Command::Reset(ResetMode::EjectRear),
            Command::CardIn { front: FrontEntry::Forbidden, rear_allowed: false },
            Command::CardIn { front: FrontEntry::MagneticSignal, rear_allowed: true },
            Command::Status,
            Command::DetectIcType,
            Command::Move(MoveTo::Rf),
            Command::Move(MoveTo::CleanAbnormal),
            Command::IcPower(false),
            Command::from(MemoryOp::ReadProtection),
            Command::from(MemoryOp::UpdateMain { addr: 0, data: vec![9] }),
        ];
        for c in all {
            assert_eq!(Command::from_text(&c.text()), Ok(c.clone()), "{c:?}");
        }
    }

    #[test]
    fn unreadable_texts_get_the_error_byte_the_reader_would_send() {
        assert_eq!(Command::from_text(&[0x99, 0x30]), Err(ErrorCode::BadCommand));
        assert_eq!(Command::from_text(&[]), Err(ErrorCode::BadCommand));
        assert_eq!(Command::from_text(&[0x32, 0x39]), Err(ErrorCode::BadParameter));
        assert_eq!(Command::from_text(&[0x2F, 0x33, 0x32]), Err(ErrorCode::BadParameter));
        assert_eq!(
            Command::from_text(&[0x38, 0x31, 0x00, 0x00]),
            Err(ErrorCode::BadData),
            "a read of 0 bytes"
        );
        assert_eq!(
            Command::from_text(&[0x38, 0x35, 0x00, 0x02, 0xAA]),
            Err(ErrorCode::BadData),
            "short write"
        );
    }

    #[test]
    fn the_psc_never_reaches_a_log() {
        let c = Command::from(MemoryOp::VerifyPsc([0x12, 0x34, 0x56]));
        assert!(!format!("{c:?}").contains("18"), "{c:?}");
        assert!(format!("{c:?}").contains("redacted"));
    }
}
