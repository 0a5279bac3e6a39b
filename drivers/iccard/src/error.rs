//! Errors: bytes that do not decode ([`DecodeError`]), a reader that refuses or cannot be
//! understood ([`ReaderError`]), and what the kiosk acts on ([`CardError`]).
//!
//! As in every Yizhan driver, "we could not talk" ([`device::TransportError`]) stays apart from
//! "the device or the card said no". `Display` strings name codes, addresses and counts only;
//! never card numbers, PSCs or memory contents. The words a customer reads are chosen at the UI
//! edge from the variant; [`CardError::needs_staff`] and [`CardError::rewrite_may_help`] say what
//! the kiosk should offer.

use device::TransportError;

/// Why bytes from the line are not a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The check byte (CRT-310 BCC) does not match the frame.
    #[error("bad checksum: expected {expected:#04x}, got {actual:#04x}")]
    BadChecksum {
        /// What the frame's bytes give.
        expected: u8,
        /// What the frame carried.
        actual: u8,
    },
    /// A length field outside what the protocol allows.
    #[error("bad length {0}")]
    BadLength(usize),
    /// The byte where ETX belongs is something else.
    #[error("no ETX where the length says it is")]
    MissingEtx,
    /// A message type or command code this side does not know.
    #[error("unknown code {0:#04x}")]
    UnknownCode(u8),
    /// A frame with valid framing but impossible contents.
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// The reader (not the card) refused, or answered something we cannot use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReaderError {
    /// The reader never acknowledged the command (NAK or silence after every retry).
    #[error("reader did not acknowledge the command after {attempts} attempts")]
    NoAck {
        /// Attempts made.
        attempts: u8,
    },
    /// The reply did not decode.
    #[error("undecodable reply: {0}")]
    Decode(#[from] DecodeError),
    /// A CRT-310 negative reply.
    #[error("reader refused command {cm:#04x}: {code}")]
    Negative {
        /// The command.
        cm: u8,
        /// The reason.
        code: crate::crt310::ErrorCode,
    },
    /// The reply answers another command (or another CCID sequence number).
    #[error("reply does not match the command")]
    Mismatch,
    /// The command was executed but its reply was lost: its effect must be checked by reading.
    #[error("reply lost after the command was executed")]
    ReplyLost,
    /// A CCID command failed with this slot error (`bError`, hardware.md §3.1).
    #[error("ccid slot error {0:#04x}")]
    Ccid(u8),
    /// An ACR38-style pseudo-APDU answered with an unexpected status word.
    #[error("card reader status word {0:04x}")]
    StatusWord(u16),
    /// The card operation failed (the reader's 'N' operation byte on a read).
    #[error("the card operation failed")]
    OperationFailed,
    /// The card is not where the operation needs it (the reader's 'W' operation byte).
    #[error("card not in the position the operation needs")]
    NotInPosition,
    /// A mechanical problem: jam, card stuck, reader on backup power.
    #[error("reader hardware fault: {0}")]
    Hardware(&'static str),
    /// The operation is not available on this kind of reader (capture on a CCID slot).
    #[error("not supported by this reader: {0}")]
    Unsupported(&'static str),
}

/// The kind of card found where a gas user card was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CardKind {
    /// A microprocessor card (bank card, CPU gas card, ID card...).
    CpuCard,
    /// A contactless-only card.
    Contactless,
    /// A memory card other than SLE4442 (SLE4428, 24Cxx...).
    OtherMemoryCard,
    /// An SLE4442 card of the gas system that is not a user card (repair, install, tool card);
    /// carries the type flag.
    GasToolCard(u8),
    /// An SLE4442 card that is not a card of this gas system.
    ForeignSle4442,
    /// The reader could not tell.
    Unknown,
}

/// What went wrong with a card operation, in terms the kiosk can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// No card in the slot.
    #[error("no card in the reader")]
    NoCard,
    /// The card left the reader during the operation (pulled out, power lost). Whatever was
    /// being written may be partly on the card: read it again and rewrite (补写卡).
    #[error("card removed during the operation")]
    CardRemoved,
    /// Not a gas user card of this system.
    #[error("wrong card type: {found:?}")]
    WrongCardType {
        /// What was found.
        found: CardKind,
    },
    /// The PSC error counter is at zero: the card can never be written again. Staff must
    /// replace it at the gas company's counter.
    #[error("card locked (PSC error counter at zero)")]
    Locked,
    /// Only one PSC attempt is left; a wrong try would lock the card, so the kiosk refuses to
    /// try. Staff must handle the card at the counter.
    #[error("only one PSC attempt left; not trying")]
    LastPscAttempt,
    /// The PSC was wrong; `attempts_left` tries remain on the card.
    #[error("wrong PSC, {attempts_left} attempts left")]
    WrongPsc {
        /// Attempts the card still allows.
        attempts_left: u8,
    },
    /// The card or reader refused a write (protected area, card fault).
    #[error("write refused at {addr:#04x}")]
    WriteFailed {
        /// First address of the refused write.
        addr: u8,
    },
    /// A write was accepted but reading it back gave other bytes.
    #[error("read-back verification failed at {addr:#04x}")]
    VerifyFailed {
        /// First address that differs.
        addr: u8,
    },
    /// The previous purchase on the card has not been loaded into the meter yet: a new one
    /// would overwrite it. The customer must insert the card into the meter first.
    #[error("last purchase (no. {on_card}) not yet loaded into the meter")]
    LastPurchaseNotLoaded {
        /// The purchase count on the card.
        on_card: u32,
    },
    /// The purchase sequence is neither the card's next one nor its current one (a stale or
    /// foreign purchase, or a card out of sync with the biller: staff).
    #[error("purchase no. {requested} does not fit the card (card is at no. {on_card})")]
    SequenceMismatch {
        /// The card's purchase count.
        on_card: u32,
        /// The purchase sequence asked for.
        requested: u32,
    },
    /// The card already holds this purchase sequence with other data.
    #[error("card already holds purchase no. {seq} with other data")]
    PurchaseConflict {
        /// The sequence.
        seq: u32,
    },
    /// The card in the reader is not the card the purchase was made for.
    #[error("this is not the card the purchase was made for")]
    WrongCard,
    /// The biller's write data does not fit the card's purchase area, or is not hex.
    #[error("bad write data: {0}")]
    BadWriteData(&'static str),
    /// The card's data areas are damaged (no valid purchase area, bad digits): staff.
    #[error("card data damaged: {0}")]
    Corrupt(&'static str),
    /// The reader refused or answered nonsense.
    #[error(transparent)]
    Reader(#[from] ReaderError),
    /// The reader could not be reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl From<DecodeError> for CardError {
    fn from(e: DecodeError) -> Self {
        CardError::Reader(ReaderError::Decode(e))
    }
}

impl CardError {
    /// True when the card itself needs the gas company's counter (locked, last PSC try,
    /// damaged, out of sync); the kiosk should eject it and say so.
    pub fn needs_staff(&self) -> bool {
        matches!(
            self,
            CardError::Locked
                | CardError::LastPscAttempt
                | CardError::Corrupt(_)
                | CardError::SequenceMismatch { .. }
                | CardError::PurchaseConflict { .. }
                | CardError::Reader(ReaderError::Hardware(_))
        )
    }

    /// True when the same purchase can be written again later (补写卡) and may succeed: the
    /// payment stays "awaiting card write".
    pub fn rewrite_may_help(&self) -> bool {
        matches!(
            self,
            CardError::NoCard
                | CardError::CardRemoved
                | CardError::VerifyFailed { .. }
                | CardError::WriteFailed { .. }
                | CardError::LastPurchaseNotLoaded { .. }
                | CardError::WrongCard
                | CardError::Reader(_)
                | CardError::Transport(_)
        )
    }
}
