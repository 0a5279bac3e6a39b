//! CRT-310 typed frames (hardware.md §2.2): the command set of the IC slot plus small value types;
//! replies are read by the shared [`device::crt310::parse_reply`].
//!
//! Codes convert with exhaustive `match`es in both directions, so a duplicated code is a
//! compile error. Unknown codes from the reader are kept as `Unknown(u8)` instead of failing
//! the whole frame: the reader's answer still tells us "it worked" or "it did not".

/// The reply reading every CRT-310 driver shares (hardware.md §2.2): a positive reply's text is
/// `CM PM data` (CM and PM echoed), a negative one's `4E CM E`; [`NEGATIVE`] is its first byte and
/// [`ErrorCode`] its E byte.
pub use device::crt310::{ErrorCode, Reply, NEGATIVE};
/// Start of text, end of text, EOT (the host cancels, "discontinue"; the reader answers with
/// EOT), ENQ (execute the acknowledged command), ACK, NAK (BCC error: the host resends): the
/// shared CRT-310 bytes of [`device::crt310`].
pub use device::crt310::{ACK, ENQ, EOT, ETX, NAK, STX};
/// Most data bytes a frame's text carries (hardware.md §2.1: 264) plus CM, PM and the P byte.
pub const MAX_TEXT: usize = device::crt310::MAX_DATA + 3;
/// Most bytes one SLE4442 read may ask for (`38 31 addr len`, len 1..=0x80).
pub const MAX_READ: u8 = 0x80;

/// Reset (`30 xx`): what to do with a card left inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResetMode {
    /// `30`: leave it where it is.
    Stay,
    /// `31`: eject it at the front.
    EjectFront,
    /// `32`: eject it at the rear (into the bin).
    CaptureRear,
}

impl ResetMode {
    /// The PM byte.
    pub const fn pm(self) -> u8 {
        match self {
            ResetMode::Stay => 0x30,
            ResetMode::EjectFront => 0x31,
            ResetMode::CaptureRear => 0x32,
        }
    }

    /// From a PM byte.
    pub const fn from_pm(pm: u8) -> Option<Self> {
        match pm {
            0x30 => Some(ResetMode::Stay),
            0x31 => Some(ResetMode::EjectFront),
            0x32 => Some(ResetMode::CaptureRear),
            _ => None,
        }
    }
}

/// Where a card can be moved (`32 xx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MoveTo {
    /// `2E`: RF (contactless) position.
    Rf,
    /// `2F`: IC contact position.
    IcContacts,
    /// `30`: out at the front, not held (the customer can take it, or it drops).
    FrontNoHold,
    /// `31`: at the front gate, held (the usual "take your card").
    Gate,
    /// `32`: at the rear, held.
    RearHold,
    /// `33`: out at the rear, not held: captured into the bin.
    Capture,
    /// `34`: clean an abnormal card out.
    CleanAbnormal,
}

impl MoveTo {
    /// The PM byte.
    pub const fn pm(self) -> u8 {
        match self {
            MoveTo::Rf => 0x2E,
            MoveTo::IcContacts => 0x2F,
            MoveTo::FrontNoHold => 0x30,
            MoveTo::Gate => 0x31,
            MoveTo::RearHold => 0x32,
            MoveTo::Capture => 0x33,
            MoveTo::CleanAbnormal => 0x34,
        }
    }

    /// From a PM byte.
    pub const fn from_pm(pm: u8) -> Option<Self> {
        match pm {
            0x2E => Some(MoveTo::Rf),
            0x2F => Some(MoveTo::IcContacts),
            0x30 => Some(MoveTo::FrontNoHold),
            0x31 => Some(MoveTo::Gate),
            0x32 => Some(MoveTo::RearHold),
            0x33 => Some(MoveTo::Capture),
            0x34 => Some(MoveTo::CleanAbnormal),
            _ => None,
        }
    }
}

/// Front entry mode of card-in control (`2F Pm1 Pm2`, Pm1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrontEntry {
    /// `31`: no card may enter.
    Forbidden,
    /// `32`: enter on a magnetic stripe signal.
    Magnetic,
    /// `33`: enter on the front switch (any card: our IC cards have no stripe).
    Switch,
    /// `34`: enter on a magnetic signal and the switch.
    MagneticSignal,
}

impl FrontEntry {
    /// The Pm1 byte.
    pub const fn pm(self) -> u8 {
        match self {
            FrontEntry::Forbidden => 0x31,
            FrontEntry::Magnetic => 0x32,
            FrontEntry::Switch => 0x33,
            FrontEntry::MagneticSignal => 0x34,
        }
    }

    /// From a Pm1 byte.
    pub const fn from_pm(pm: u8) -> Option<Self> {
        match pm {
            0x31 => Some(FrontEntry::Forbidden),
            0x32 => Some(FrontEntry::Magnetic),
            0x33 => Some(FrontEntry::Switch),
            0x34 => Some(FrontEntry::MagneticSignal),
            _ => None,
        }
    }
}

/// SLE4442 pass-through operations (`38 30` … `38 35`, hardware.md §3.2, CRT-310 column).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum SleCommand {
    /// `38 30`: reset the card; the reply carries the 4-byte ATR.
    Reset,
    /// `38 31 addr len`: read `len` (1..=0x80) bytes of main memory from `addr`.
    ReadMain {
        /// First address.
        addr: u8,
        /// Bytes to read.
        len: u8,
    },
    /// `38 32`: read the protection memory.
    ReadProtection,
    /// `38 33`: read the security memory (error counter + 3 hidden PSC bytes).
    ReadSecurity,
    /// `38 34 p1 p2 p3`: present the PSC.
    VerifyPsc([u8; 3]),
    /// `38 35 addr len data`: update main memory (needs a verified PSC).
    UpdateMain {
        /// First address.
        addr: u8,
        /// Bytes to write (1..=255; the driver sends at most 64 at a time).
        data: Vec<u8>,
    },
}

impl std::fmt::Debug for SleCommand {
    // The PSC and the card's data never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SleCommand::Reset => f.write_str("Reset"),
            SleCommand::ReadMain { addr, len } => write!(f, "ReadMain {{ addr: {addr:#04x}, len: {len} }}"),
            SleCommand::ReadProtection => f.write_str("ReadProtection"),
            SleCommand::ReadSecurity => f.write_str("ReadSecurity"),
            SleCommand::VerifyPsc(_) => f.write_str("VerifyPsc(<redacted>)"),
            SleCommand::UpdateMain { addr, data } => {
                write!(f, "UpdateMain {{ addr: {addr:#04x}, len: {} }}", data.len())
            }
        }
    }
}

impl SleCommand {
    /// The PM byte.
    pub const fn pm(&self) -> u8 {
        match self {
            SleCommand::Reset => 0x30,
            SleCommand::ReadMain { .. } => 0x31,
            SleCommand::ReadProtection => 0x32,
            SleCommand::ReadSecurity => 0x33,
            SleCommand::VerifyPsc(_) => 0x34,
            SleCommand::UpdateMain { .. } => 0x35,
        }
    }
}

/// A host → reader command (the frame text is `CM PM data`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// `30 PM`: initialise; must be the first command after power-up.
    Reset(ResetMode),
    /// `2F Pm1 Pm2`: which cards may enter, from the front and from the rear.
    CardInControl {
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

impl Command {
    /// The CM byte.
    pub const fn cm(&self) -> u8 {
        match self {
            Command::Reset(_) => 0x30,
            Command::CardInControl { .. } => 0x2F,
            Command::Status | Command::DetectIcType => 0x31,
            Command::Move(_) => 0x32,
            Command::IcPower(_) => 0x33,
            Command::Sle(_) => 0x38,
        }
    }

    /// The PM byte.
    pub fn pm(&self) -> u8 {
        match self {
            Command::Reset(m) => m.pm(),
            Command::CardInControl { front, .. } => front.pm(),
            Command::Status => 0x30,
            Command::DetectIcType => 0x31,
            Command::Move(m) => m.pm(),
            Command::IcPower(on) => {
                if *on {
                    0x30
                } else {
                    0x31
                }
            }
            Command::Sle(s) => s.pm(),
        }
    }

    /// True when running the command twice does no harm, so a lost or garbled reply may be
    /// answered by asking again. Moves, PSC presentation and writes are not: their effect is
    /// checked by reading instead.
    pub fn is_idempotent(&self) -> bool {
        match self {
            Command::Status | Command::DetectIcType | Command::IcPower(_) | Command::CardInControl { .. } => {
                true
            }
            Command::Sle(s) => matches!(
                s,
                SleCommand::Reset
                    | SleCommand::ReadMain { .. }
                    | SleCommand::ReadProtection
                    | SleCommand::ReadSecurity
            ),
            Command::Reset(_) | Command::Move(_) => false,
        }
    }
}

/// A one-byte handshake control character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Handshake {
    /// `06`.
    Ack,
    /// `15`.
    Nak,
    /// `04`.
    Eot,
    /// `05` (host → reader only).
    Enq,
}

impl Handshake {
    /// From a byte, if it is one of the four.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            ACK => Some(Handshake::Ack),
            NAK => Some(Handshake::Nak),
            EOT => Some(Handshake::Eot),
            ENQ => Some(Handshake::Enq),
            _ => None,
        }
    }

    /// The byte.
    pub const fn byte(self) -> u8 {
        match self {
            Handshake::Ack => ACK,
            Handshake::Nak => NAK,
            Handshake::Eot => EOT,
            Handshake::Enq => ENQ,
        }
    }
}

/// The operation byte P of move, power and SLE4442 replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpResult {
    /// `59` 'Y': done.
    Success,
    /// `4E` 'N': failed.
    Failed,
    /// `45` 'E': no card.
    NoCard,
    /// `57` 'W': the card is not where the operation needs it.
    NotInPosition,
    /// Any other byte.
    Unknown(u8),
}

impl OpResult {
    /// From the P byte.
    pub const fn from_byte(b: u8) -> Self {
        match b {
            0x59 => OpResult::Success,
            0x4E => OpResult::Failed,
            0x45 => OpResult::NoCard,
            0x57 => OpResult::NotInPosition,
            other => OpResult::Unknown(other),
        }
    }

    /// The P byte.
    pub const fn byte(self) -> u8 {
        match self {
            OpResult::Success => 0x59,
            OpResult::Failed => 0x4E,
            OpResult::NoCard => 0x45,
            OpResult::NotInPosition => 0x57,
            OpResult::Unknown(b) => b,
        }
    }
}

/// Card position S1 of the reader status (`31 30`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CardPosition {
    /// `46`: a too-long card.
    LongCard,
    /// `47`: a too-short card.
    ShortCard,
    /// `48`: at the front, not held (ejected).
    FrontNoHold,
    /// `49`: at the front gate, held.
    Gate,
    /// `4A`: inside.
    Inside,
    /// `4B`: inside, IC contacts engaged.
    AtContacts,
    /// `4C`: at the rear, held.
    RearHold,
    /// `4D`: out at the rear (captured).
    Captured,
    /// `4E`: no card.
    NoCard,
    /// Any other byte.
    Unknown(u8),
}

impl CardPosition {
    /// From S1.
    pub const fn from_byte(b: u8) -> Self {
        match b {
            0x46 => CardPosition::LongCard,
            0x47 => CardPosition::ShortCard,
            0x48 => CardPosition::FrontNoHold,
            0x49 => CardPosition::Gate,
            0x4A => CardPosition::Inside,
            0x4B => CardPosition::AtContacts,
            0x4C => CardPosition::RearHold,
            0x4D => CardPosition::Captured,
            0x4E => CardPosition::NoCard,
            other => CardPosition::Unknown(other),
        }
    }

    /// S1.
    pub const fn byte(self) -> u8 {
        match self {
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
}

/// The reader status reply (`31 30` → S1 S2 S3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReaderStatus {
    /// S1.
    pub position: CardPosition,
    /// S2: front entry mode (`49` mag, `4A` switch, `4B` mag-signal, `4E` forbidden), raw.
    pub front_entry: u8,
    /// S3: rear entry allowed (`4A`) or forbidden (`4E`).
    pub rear_allowed: bool,
}

impl ReaderStatus {
    /// From the reply data; `None` when fewer than 3 bytes came.
    pub fn from_data(data: &[u8]) -> Option<Self> {
        match data {
            [s1, s2, s3, ..] => Some(ReaderStatus {
                position: CardPosition::from_byte(*s1),
                front_entry: *s2,
                rear_allowed: *s3 == 0x4A,
            }),
            _ => None,
        }
    }

    /// The three status bytes.
    pub fn to_data(self) -> [u8; 3] {
        [self.position.byte(), self.front_entry, if self.rear_allowed { 0x4A } else { 0x4E }]
    }
}

/// The contact IC type (`31 31` → S1 S2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IcType {
    /// `'0' '0'`: a contactless card.
    Rf,
    /// `'1' '0'`: T=0 CPU card.
    CpuT0,
    /// `'1' '1'`: T=1 CPU card.
    CpuT1,
    /// `'3' '0'`: SLE4442 memory card.
    Sle4442,
    /// `'N' '0'`: no card (or none recognised).
    NoCard,
    /// Any other pair (SLE4428, 24Cxx...).
    Other(u8, u8),
}

impl IcType {
    /// From S1 S2.
    pub const fn from_bytes(s1: u8, s2: u8) -> Self {
        match (s1, s2) {
            (b'0', b'0') => IcType::Rf,
            (b'1', b'0') => IcType::CpuT0,
            (b'1', b'1') => IcType::CpuT1,
            (b'3', b'0') => IcType::Sle4442,
            (b'N', b'0') => IcType::NoCard,
            (a, b) => IcType::Other(a, b),
        }
    }

    /// S1 S2.
    pub const fn bytes(self) -> [u8; 2] {
        match self {
            IcType::Rf => [b'0', b'0'],
            IcType::CpuT0 => [b'1', b'0'],
            IcType::CpuT1 => [b'1', b'1'],
            IcType::Sle4442 => [b'3', b'0'],
            IcType::NoCard => [b'N', b'0'],
            IcType::Other(a, b) => [a, b],
        }
    }
}
