//! Typed values of the GA/T 467 SAM protocol (hardware.md §1.2–§1.4): commands, status words and
//! replies. No bytes are parsed here; [`crate::codec`] turns these into frames and back.

use catalogue::Text;
use std::fmt;
use zeroize::Zeroizing;

/// The 5-byte start of every frame in both directions: 3 sync bytes + the `96 69` start mark (§1.2).
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];

/// Serial speeds the SAM can be switched to with `60 xx` (§1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Baud {
    /// `60 00`: 115200 (the default).
    B115200,
    /// `60 01`: 57600.
    B57600,
    /// `60 02`: 38400.
    B38400,
    /// `60 03`: 19200.
    B19200,
    /// `60 04`: 9600.
    B9600,
}

impl Baud {
    /// The parameter byte of `60 xx`.
    pub fn code(self) -> u8 {
        match self {
            Baud::B115200 => 0x00,
            Baud::B57600 => 0x01,
            Baud::B38400 => 0x02,
            Baud::B19200 => 0x03,
            Baud::B9600 => 0x04,
        }
    }

    /// Bits per second.
    pub fn bits_per_second(self) -> u32 {
        match self {
            Baud::B115200 => 115_200,
            Baud::B57600 => 57_600,
            Baud::B38400 => 38_400,
            Baud::B19200 => 19_200,
            Baud::B9600 => 9_600,
        }
    }

    /// The speed of a `60 xx` parameter byte.
    pub fn from_code(code: u8) -> Option<Baud> {
        Some(match code {
            0x00 => Baud::B115200,
            0x01 => Baud::B57600,
            0x02 => Baud::B38400,
            0x03 => Baud::B19200,
            0x04 => Baud::B9600,
            _ => return None,
        })
    }
}

/// A request from the host to the SAM: every command of hardware.md §1.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// `10 FF`: reset the SAM.
    ResetSam,
    /// `11 FF`: SAM self-test status (90 ok, 60 self-test failed).
    SamStatus,
    /// `12 FF`: read the SAM's 16-byte management id.
    ReadSamId,
    /// `20 01`: find a card in the RF field (寻卡); success is SW3 `9F`.
    FindCard,
    /// `20 02`: select the found card (选卡).
    SelectCard,
    /// `30 01`: read the 256-byte text block and the 1024-byte photo.
    ReadTextPhoto,
    /// `30 10`: read text, photo and fingerprint data.
    ReadTextPhotoFingerprint,
    /// `30 03`: read the appended address (追加住址); SW3 `91` when the card has none.
    ReadAppendedAddress,
    /// `60 0x`: switch the SAM's serial speed.
    SetBaud(Baud),
    /// `61 FF` + 1 byte: largest RF frame the SAM uses.
    SetMaxRfBytes(u8),
}

impl Command {
    /// The CMD and Para bytes.
    pub fn cmd_para(self) -> (u8, u8) {
        match self {
            Command::ResetSam => (0x10, 0xFF),
            Command::SamStatus => (0x11, 0xFF),
            Command::ReadSamId => (0x12, 0xFF),
            Command::FindCard => (0x20, 0x01),
            Command::SelectCard => (0x20, 0x02),
            Command::ReadTextPhoto => (0x30, 0x01),
            Command::ReadTextPhotoFingerprint => (0x30, 0x10),
            Command::ReadAppendedAddress => (0x30, 0x03),
            Command::SetBaud(b) => (0x60, b.code()),
            Command::SetMaxRfBytes(_) => (0x61, 0xFF),
        }
    }

    /// The data bytes after Para (empty for all but `61 FF`).
    pub fn data(self) -> Option<u8> {
        match self {
            Command::SetMaxRfBytes(n) => Some(n),
            _ => None,
        }
    }

    /// The command of a CMD/Para/Data triple, as the SAM (simulator) sees it; `None` for anything
    /// the SAM answers with `21` (bad command).
    pub fn from_parts(cmd: u8, para: u8, data: &[u8]) -> Option<Command> {
        let c = match (cmd, para, data) {
            (0x10, 0xFF, []) => Command::ResetSam,
            (0x11, 0xFF, []) => Command::SamStatus,
            (0x12, 0xFF, []) => Command::ReadSamId,
            (0x20, 0x01, []) => Command::FindCard,
            (0x20, 0x02, []) => Command::SelectCard,
            (0x30, 0x01, []) => Command::ReadTextPhoto,
            (0x30, 0x10, []) => Command::ReadTextPhotoFingerprint,
            (0x30, 0x03, []) => Command::ReadAppendedAddress,
            (0x60, p, []) => Command::SetBaud(Baud::from_code(p)?),
            (0x61, 0xFF, [n]) => Command::SetMaxRfBytes(*n),
            _ => return None,
        };
        Some(c)
    }

    /// The SW3 that means "done" for this command: `9F` for find, `90` for the rest.
    pub fn success(self) -> Sw3 {
        match self {
            Command::FindCard => Sw3::FindOk,
            _ => Sw3::Success,
        }
    }
}

/// SW3, the SAM's own status byte (hardware.md §1.4): every code the SAM sends.
///
/// Converted with an exhaustive `match` in [`TryFrom<u8>`]: a code listed twice would not compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sw3 {
    /// `90`: success.
    Success,
    /// `91`: the card has no such item (no appended address, no fingerprint).
    NoContent,
    /// `9F`: card found.
    FindOk,
    /// `10`: the SAM received a frame with a bad XOR from us.
    HostChecksum,
    /// `11`: the SAM received a frame with a bad length from us.
    HostLength,
    /// `21`: unknown command or bad parameter.
    BadCommand,
    /// `23`: unauthorised operation.
    Unauthorised,
    /// `24`: unrecognised error.
    Unrecognised,
    /// `31`: the card failed to authenticate the SAM.
    CardAuthFailed,
    /// `32`: the SAM failed to authenticate the card.
    SamAuthFailed,
    /// `33`: information verification failed.
    InfoVerifyFailed,
    /// `37`: fingerprint verification error.
    FingerprintError,
    /// `3F`: information length error.
    InfoLength,
    /// `40`: unrecognised card type.
    UnknownCardType,
    /// `41`: reading the card failed (card removed mid-read, RF error).
    ReadFailed,
    /// `47`: getting a random number failed.
    RandomFailed,
    /// `60`: SAM self-test failed.
    SelfTestFailed,
    /// `66`: SAM not authorised for use.
    SamNotAuthorised,
    /// `80`: no card found in the field.
    FindFailed,
    /// `81`: selecting the card failed.
    SelectFailed,
}

impl TryFrom<u8> for Sw3 {
    type Error = u8;

    fn try_from(b: u8) -> Result<Sw3, u8> {
        Ok(match b {
            0x90 => Sw3::Success,
            0x91 => Sw3::NoContent,
            0x9F => Sw3::FindOk,
            0x10 => Sw3::HostChecksum,
            0x11 => Sw3::HostLength,
            0x21 => Sw3::BadCommand,
            0x23 => Sw3::Unauthorised,
            0x24 => Sw3::Unrecognised,
            0x31 => Sw3::CardAuthFailed,
            0x32 => Sw3::SamAuthFailed,
            0x33 => Sw3::InfoVerifyFailed,
            0x37 => Sw3::FingerprintError,
            0x3F => Sw3::InfoLength,
            0x40 => Sw3::UnknownCardType,
            0x41 => Sw3::ReadFailed,
            0x47 => Sw3::RandomFailed,
            0x60 => Sw3::SelfTestFailed,
            0x66 => Sw3::SamNotAuthorised,
            0x80 => Sw3::FindFailed,
            0x81 => Sw3::SelectFailed,
            other => return Err(other),
        })
    }
}

impl Sw3 {
    /// Every code, for tests and the simulator.
    pub const ALL: [Sw3; 20] = [
        Sw3::Success,
        Sw3::NoContent,
        Sw3::FindOk,
        Sw3::HostChecksum,
        Sw3::HostLength,
        Sw3::BadCommand,
        Sw3::Unauthorised,
        Sw3::Unrecognised,
        Sw3::CardAuthFailed,
        Sw3::SamAuthFailed,
        Sw3::InfoVerifyFailed,
        Sw3::FingerprintError,
        Sw3::InfoLength,
        Sw3::UnknownCardType,
        Sw3::ReadFailed,
        Sw3::RandomFailed,
        Sw3::SelfTestFailed,
        Sw3::SamNotAuthorised,
        Sw3::FindFailed,
        Sw3::SelectFailed,
    ];

    /// The byte on the wire.
    pub fn code(self) -> u8 {
        match self {
            Sw3::Success => 0x90,
            Sw3::NoContent => 0x91,
            Sw3::FindOk => 0x9F,
            Sw3::HostChecksum => 0x10,
            Sw3::HostLength => 0x11,
            Sw3::BadCommand => 0x21,
            Sw3::Unauthorised => 0x23,
            Sw3::Unrecognised => 0x24,
            Sw3::CardAuthFailed => 0x31,
            Sw3::SamAuthFailed => 0x32,
            Sw3::InfoVerifyFailed => 0x33,
            Sw3::FingerprintError => 0x37,
            Sw3::InfoLength => 0x3F,
            Sw3::UnknownCardType => 0x40,
            Sw3::ReadFailed => 0x41,
            Sw3::RandomFailed => 0x47,
            Sw3::SelfTestFailed => 0x60,
            Sw3::SamNotAuthorised => 0x66,
            Sw3::FindFailed => 0x80,
            Sw3::SelectFailed => 0x81,
        }
    }

    /// The status as a result: the three "good" codes (`90`, `9F`, `91`) are `Ok`, every other
    /// code is the [`SamError`] a person can be told about.
    pub fn check(self) -> Result<Sw3, SamError> {
        let e = match self {
            Sw3::Success | Sw3::FindOk | Sw3::NoContent => return Ok(self),
            Sw3::HostChecksum => SamError::HostChecksum,
            Sw3::HostLength => SamError::HostLength,
            Sw3::BadCommand => SamError::BadCommand,
            Sw3::Unauthorised => SamError::Unauthorised,
            Sw3::Unrecognised => SamError::Unrecognised,
            Sw3::CardAuthFailed => SamError::CardAuthFailed,
            Sw3::SamAuthFailed => SamError::SamAuthFailed,
            Sw3::InfoVerifyFailed => SamError::InfoVerifyFailed,
            Sw3::FingerprintError => SamError::FingerprintError,
            Sw3::InfoLength => SamError::InfoLength,
            Sw3::UnknownCardType => SamError::UnknownCardType,
            Sw3::ReadFailed => SamError::ReadFailed,
            Sw3::RandomFailed => SamError::RandomFailed,
            Sw3::SelfTestFailed => SamError::SelfTestFailed,
            Sw3::SamNotAuthorised => SamError::SamNotAuthorised,
            Sw3::FindFailed => SamError::NoCard,
            Sw3::SelectFailed => SamError::SelectFailed,
        };
        Err(e)
    }
}

/// "The SAM answered no": every failing SW3 of §1.4, with words for the person at the kiosk.
///
/// `Display` is the English staff line with the code; [`SamError::message`] is
/// what the screen says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SamError {
    /// `10`: our frame arrived with a bad checksum (line noise).
    #[error("SAM status 10: it received a frame with a bad checksum from the kiosk")]
    HostChecksum,
    /// `11`: our frame arrived with a bad length.
    #[error("SAM status 11: it received a frame with a bad length from the kiosk")]
    HostLength,
    /// `21`: the SAM does not know the command.
    #[error("SAM status 21: unknown command or parameter")]
    BadCommand,
    /// `23`: unauthorised operation.
    #[error("SAM status 23: unauthorised operation")]
    Unauthorised,
    /// `24`: unrecognised error.
    #[error("SAM status 24: unrecognised error")]
    Unrecognised,
    /// `31`: card → SAM authentication failed.
    #[error("SAM status 31: the card did not authenticate the SAM")]
    CardAuthFailed,
    /// `32`: SAM → card authentication failed (not a genuine card, or damaged).
    #[error("SAM status 32: the SAM did not authenticate the card")]
    SamAuthFailed,
    /// `33`: information verification failed.
    #[error("SAM status 33: card information failed verification")]
    InfoVerifyFailed,
    /// `37`: fingerprint verification error.
    #[error("SAM status 37: fingerprint data failed verification")]
    FingerprintError,
    /// `3F`: information length error.
    #[error("SAM status 3F: card information has a bad length")]
    InfoLength,
    /// `40`: not a resident ID card the SAM knows.
    #[error("SAM status 40: unrecognised card type")]
    UnknownCardType,
    /// `41`: the read failed, usually because the card moved or left the field.
    #[error("SAM status 41: reading the card failed")]
    ReadFailed,
    /// `47`: getting a random number from the card failed.
    #[error("SAM status 47: the card gave no random number")]
    RandomFailed,
    /// `60`: the SAM failed its self-test and takes no commands.
    #[error("SAM status 60: self-test failed")]
    SelfTestFailed,
    /// `66`: the SAM is not authorised for use.
    #[error("SAM status 66: the SAM is not authorised")]
    SamNotAuthorised,
    /// `80`: no card in the field.
    #[error("SAM status 80: no card found")]
    NoCard,
    /// `81`: selecting the card failed.
    #[error("SAM status 81: selecting the card failed")]
    SelectFailed,
}

impl SamError {
    /// What the person at the kiosk reads.
    pub fn message(self) -> Text {
        match self {
            SamError::HostChecksum | SamError::HostLength => {
                Text::new("The card reader's connection was disturbed. Please wait and try again.")
            }
            SamError::BadCommand | SamError::Unauthorised | SamError::Unrecognised => {
                Text::new("The ID card reader has a fault. Please ask a member of staff.")
            }
            SamError::CardAuthFailed | SamError::SamAuthFailed | SamError::InfoVerifyFailed => {
                Text::new("This ID card could not be verified. Please use your own valid resident ID card.")
            }
            SamError::FingerprintError => Text::new(
                "The fingerprint data on the card could not be verified. Please ask a member of staff.",
            ),
            SamError::InfoLength | SamError::ReadFailed | SamError::RandomFailed => Text::new(
                "Reading the ID card failed. Please keep the card still, insert it again and retry.",
            ),
            SamError::UnknownCardType => {
                Text::new("This card is not recognised. Please insert a second-generation resident ID card.")
            }
            SamError::SelfTestFailed | SamError::SamNotAuthorised => {
                Text::new("The ID card reader is out of service. Please ask a member of staff.")
            }
            SamError::NoCard => Text::new("No ID card found. Please insert your ID card into the slot."),
            SamError::SelectFailed => {
                Text::new("The card could not be read steadily. Please take it out and insert it again.")
            }
        }
    }

    /// True for line noise on our side (`10`, `11`): sending the same command again may work.
    pub fn is_retryable(self) -> bool {
        matches!(self, SamError::HostChecksum | SamError::HostLength)
    }

    /// True when the reader itself is out of service (staff needed), not the card.
    pub fn is_reader_fault(self) -> bool {
        matches!(
            self,
            SamError::BadCommand
                | SamError::Unauthorised
                | SamError::Unrecognised
                | SamError::SelfTestFailed
                | SamError::SamNotAuthorised
        )
    }
}

/// Bytes that may hold personal data (a text block, a photo): wiped when dropped, and printed
/// in `Debug` as a length only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Payload(Zeroizing<Vec<u8>>);

impl Payload {
    /// Wraps (and takes ownership of) `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Payload(Zeroizing::new(bytes))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({} bytes)", self.0.len())
    }
}

/// A decoded reply from the SAM (§1.2): SW1 SW2 (the card's APDU status, normally `00 00`),
/// SW3 (the SAM's status) and the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Card status byte 1 as relayed by the SAM.
    pub sw1: u8,
    /// Card status byte 2.
    pub sw2: u8,
    /// The SAM's status: what drivers branch on.
    pub sw3: Sw3,
    /// Data after SW3 (may hold personal data: wiped on drop, never printed).
    pub data: Payload,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sw3_round_trips_and_unknown_codes_are_refused() {
        for s in Sw3::ALL {
            assert_eq!(Sw3::try_from(s.code()), Ok(s));
        }
        let known: Vec<u8> = Sw3::ALL.iter().map(|s| s.code()).collect();
        for b in 0..=255u8 {
            assert_eq!(Sw3::try_from(b).is_ok(), known.contains(&b), "{b:#04x}");
        }
    }

    #[test]
    fn every_failing_sw3_has_words_in_both_languages() {
        for s in Sw3::ALL {
            if let Err(e) = s.check() {
                assert!(
                    !e.message().in_lang(catalogue::Lang::Zh).is_empty()
                        && !e.message().in_lang(catalogue::Lang::En).is_empty()
                );
                assert!(e.to_string().contains(&format!("{:02X}", s.code())), "{e}");
            }
        }
        assert_eq!(Sw3::FindFailed.check(), Err(SamError::NoCard));
        assert_eq!(Sw3::FindOk.check(), Ok(Sw3::FindOk));
    }

    #[test]
    fn commands_round_trip_through_their_parts() {
        let all = [
            Command::ResetSam,
            Command::SamStatus,
            Command::ReadSamId,
            Command::FindCard,
            Command::SelectCard,
            Command::ReadTextPhoto,
            Command::ReadTextPhotoFingerprint,
            Command::ReadAppendedAddress,
            Command::SetBaud(Baud::B9600),
            Command::SetMaxRfBytes(0x50),
        ];
        for c in all {
            let (cmd, para) = c.cmd_para();
            let data: Vec<u8> = c.data().into_iter().collect();
            assert_eq!(Command::from_parts(cmd, para, &data), Some(c));
        }
        // hardware.md §1.3 note: `01 FF` is not reset; the SAM answers 21.
        assert_eq!(Command::from_parts(0x01, 0xFF, &[]), None);
    }

    #[test]
    fn payload_debug_shows_only_the_length() {
        let p = Payload::new("张三".as_bytes().to_vec());
        assert_eq!(format!("{p:?}"), "Payload(6 bytes)");
    }
}
