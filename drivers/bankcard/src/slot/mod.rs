//! The motorised bank-card slot (CRT-310 family, hardware.md §2): take the card in, hold it
//! while the terminal works, present it at the gate ("take your card"), and capture it **only**
//! when it was presented and then abandoned for the whole take timeout.
//!
//! Capture rules (hardware.md §2.5 and the "machines swallow cards"):
//! - Nothing but [`CardSlot::return_card`] ever sends the capture command, and it does so only
//!   after the card sat at the gate for `take_timeout` **and** a fresh status read still shows
//!   it there. A status that cannot be read never leads to a capture: the card stays at the gate
//!   and the error goes to staff.
//! - On start with a card inside ([`CardSlot::init`]) the card is presented at the gate, never
//!   captured.
//! - A capture is reported as [`CardReturn::Captured`] (media `retained`) so the screen and the
//!   receipt can tell the customer where the card is and how to get it back; also when the
//!   capture's reply was lost but a fresh status shows the card gone from the gate.

pub mod codec;

use crate::config::SlotConfig;
use codec::{CardPosition, ErrorCode, FrontEntry, MoveTo, ResetMode, SlotCommand};
use device::crt310::{Command, Crt310Port, ExchangeError, ExchangeTiming, Operation};
use device::reconnect::{BackoffPolicy, Connector};
use device::serial::SerialConnector;
use device::{DeviceState, DeviceStatus, MediaState, TransportError};
use std::time::Duration;
use tokio::time::Instant;

/// Timing of the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotTiming {
    /// Wait for a card to be inserted.
    pub insert_timeout: Duration,
    /// Wait for a presented card to be taken.
    pub take_timeout: Duration,
    /// Status poll interval.
    pub poll: Duration,
    /// Deadline of a command's reply after ENQ (the ACK wait is hardware.md §2.1's 300 ms).
    pub command: Duration,
    /// Inter-byte timeout.
    pub inter_byte: Duration,
}

impl Default for SlotTiming {
    fn default() -> Self {
        SlotTiming {
            insert_timeout: Duration::from_secs(30),
            take_timeout: Duration::from_secs(30),
            poll: Duration::from_millis(200),
            command: Duration::from_secs(5),
            inter_byte: Duration::from_millis(100),
        }
    }
}

/// Why a slot command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// We could not talk to the reader.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The reader never acknowledged the command frame (NAK, garbage or silence, three times).
    /// Nothing was executed.
    #[error("reader did not acknowledge the command frame")]
    NoAck,
    /// The reader acknowledged the command but its reply never came (it was discontinued with
    /// EOT) or came damaged: the move may or may not have happened, so read the position.
    #[error("no readable reply: {0}")]
    NoReply(&'static str),
    /// Negative reply `4E CM E` (`00` bad command … `06` abnormal card, `07` on backup power).
    #[error("reader refused command {cm:#04x}: {error}")]
    Refused {
        /// Command.
        cm: u8,
        /// Error byte.
        error: ErrorCode,
    },
    /// The operation byte was not `Y` (`N` failed, `E` no card, `W` card not in position).
    #[error("operation failed ({0:?})")]
    Operation(Operation),
    /// A reply we cannot read (wrong command echo, unknown position byte).
    #[error("unexpected reply from the reader")]
    Unexpected,
}

impl From<ExchangeError> for SlotError {
    fn from(e: ExchangeError) -> SlotError {
        match e {
            ExchangeError::Transport(t) => SlotError::Transport(t),
            ExchangeError::NoAck { .. } => SlotError::NoAck,
            ExchangeError::ReplyLost => SlotError::NoReply("none came; the command was discontinued"),
            ExchangeError::BadReply(_) => SlotError::NoReply("the reply was damaged"),
            ExchangeError::Refused { cm, error } => SlotError::Refused { cm, error },
            _ => SlotError::Unexpected,
        }
    }
}

/// How an insertion ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insertion {
    /// A card is inside; the entry is closed again.
    Inserted,
    /// No card within the insert timeout; the entry is closed.
    TimedOut,
}

/// How returning the card ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardReturn {
    /// The customer took the card.
    Taken {
        /// How long it sat at the gate.
        after: Duration,
    },
    /// The card was left at the gate for the whole take timeout and was captured into the bin.
    /// Tell the customer (screen and receipt) that the card is kept and how to collect it.
    Captured {
        /// How long it waited at the gate.
        waited: Duration,
    },
    /// There was no card to return.
    NoCard,
}

impl CardReturn {
    /// True when the card was captured.
    pub fn is_captured(self) -> bool {
        matches!(self, CardReturn::Captured { .. })
    }
}

/// The slot's device-model detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotDetail {
    /// Last known card position (`None` while unreachable).
    pub position: Option<CardPosition>,
    /// Cards captured since start.
    pub captured: u32,
}

/// The motorised bank-card slot.
#[derive(Debug)]
pub struct CardSlot<C: Connector = SerialConnector> {
    port: Crt310Port<C>,
    timing: SlotTiming,
    captured: u32,
}

impl CardSlot<SerialConnector> {
    /// The slot of a `kiosk.toml` entry. Does not open the port yet.
    pub fn from_config(cfg: &SlotConfig) -> Result<Self, TransportError> {
        cfg.validate()?;
        let timing = SlotTiming {
            insert_timeout: Duration::from_millis(cfg.insert_timeout_ms),
            take_timeout: Duration::from_millis(cfg.take_timeout_ms),
            poll: Duration::from_millis(cfg.poll_ms),
            command: Duration::from_millis(cfg.move_timeout_ms),
            inter_byte: Duration::from_millis(cfg.serial.inter_byte_ms),
        };
        Ok(CardSlot::new(SerialConnector::new(cfg.serial.clone()), cfg.serial.backoff(), timing))
    }
}

fn position_media(p: CardPosition) -> MediaState {
    match p {
        CardPosition::NoCard | CardPosition::FrontNoHold => MediaState::NotPresent,
        CardPosition::Gate | CardPosition::Inside | CardPosition::InsideContacts | CardPosition::RearHold => {
            MediaState::Present
        }
        CardPosition::Captured => MediaState::Retained,
        CardPosition::LongCard | CardPosition::ShortCard => MediaState::Jammed,
    }
}

impl<C: Connector> CardSlot<C> {
    /// A slot reached through `connector`. The ACK wait is hardware.md §2.1's 300 ms.
    pub fn new(connector: C, backoff: BackoffPolicy, timing: SlotTiming) -> Self {
        let exchange = ExchangeTiming { inter_byte: timing.inter_byte, ..ExchangeTiming::default() };
        CardSlot { port: Crt310Port::new(connector, exchange, backoff), timing, captured: 0 }
    }

    /// One command through the shared CRT-310 exchange; the positive reply's data.
    async fn positive(&mut self, cmd: SlotCommand) -> Result<Vec<u8>, SlotError> {
        Ok(self.port.exchange(&Command::from(cmd), self.timing.command).await?)
    }

    async fn operation(&mut self, cmd: SlotCommand) -> Result<(), SlotError> {
        match self.positive(cmd).await?.first().map(|&p| Operation::try_from(p)) {
            Some(Ok(Operation::Success)) => Ok(()),
            Some(Ok(failed)) => Err(SlotError::Operation(failed)),
            Some(Err(_)) | None => Err(SlotError::Unexpected),
        }
    }

    /// Resets the reader (must be the first command after power-up). A card found inside is
    /// presented at the gate, never captured. Returns the firmware version text.
    pub async fn init(&mut self) -> Result<String, SlotError> {
        let version = self.positive(SlotCommand::Reset(ResetMode::Keep)).await?;
        self.positive(SlotCommand::CardIn(FrontEntry::Forbid)).await?;
        if matches!(
            self.position().await?,
            CardPosition::Inside | CardPosition::InsideContacts | CardPosition::RearHold
        ) {
            tracing::info!("card found inside on start; presenting it at the gate");
            self.operation(SlotCommand::Move(MoveTo::Gate)).await?;
        }
        Ok(String::from_utf8_lossy(&version).into_owned())
    }

    /// The card position (S1).
    pub async fn position(&mut self) -> Result<CardPosition, SlotError> {
        let data = self.positive(SlotCommand::Status).await?;
        let s1 = *data.first().ok_or(SlotError::Unexpected)?;
        CardPosition::try_from(s1).map_err(|_| SlotError::Unexpected)
    }

    /// Opens the entry and waits for a card; closes the entry again either way.
    pub async fn accept_card(&mut self) -> Result<Insertion, SlotError> {
        self.positive(SlotCommand::CardIn(FrontEntry::Switch)).await?;
        let deadline = Instant::now() + self.timing.insert_timeout;
        let outcome = loop {
            match self.position().await {
                Ok(CardPosition::Inside | CardPosition::InsideContacts) => break Ok(Insertion::Inserted),
                Ok(_) => {}
                Err(e) => break Err(e),
            }
            if Instant::now() >= deadline {
                break Ok(Insertion::TimedOut);
            }
            tokio::time::sleep(self.timing.poll).await;
        };
        let closed = self.positive(SlotCommand::CardIn(FrontEntry::Forbid)).await;
        let outcome = outcome?;
        closed?;
        Ok(outcome)
    }

    /// Presents the card at the gate ("take your card") and waits for it to be taken; captures
    /// it only if it is still at the gate after the whole take timeout.
    pub async fn return_card(&mut self) -> Result<CardReturn, SlotError> {
        match self.position().await? {
            CardPosition::NoCard | CardPosition::FrontNoHold => return Ok(CardReturn::NoCard),
            CardPosition::Gate => {}
            _ => self.operation(SlotCommand::Move(MoveTo::Gate)).await?,
        }
        let presented = Instant::now();
        let deadline = presented + self.timing.take_timeout;
        loop {
            match self.position().await {
                Ok(CardPosition::NoCard | CardPosition::FrontNoHold) => {
                    return Ok(CardReturn::Taken { after: presented.elapsed() });
                }
                Ok(_) => {}
                // A missed poll is not evidence of anything: keep waiting.
                Err(e) => tracing::warn!(error = %e, "slot status unreadable while waiting for the customer"),
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(self.timing.poll.min(deadline - Instant::now())).await;
        }
        // The decision is made on a fresh status: only a card still held at the gate is taken in.
        match self.position().await? {
            CardPosition::Gate => {
                self.capture().await?;
                self.captured += 1;
                let waited = presented.elapsed();
                tracing::warn!(?waited, "bank card abandoned at the gate; captured");
                Ok(CardReturn::Captured { waited })
            }
            CardPosition::NoCard | CardPosition::FrontNoHold => {
                Ok(CardReturn::Taken { after: presented.elapsed() })
            }
            _ => Err(SlotError::Unexpected),
        }
    }

    /// Sends the capture. When the reader took it but its answer was lost, the position decides:
    /// a card no longer at the gate went into the bin (the customer is told so and staff can
    /// give it back); one still at the gate was not moved, and the error goes to staff.
    async fn capture(&mut self) -> Result<(), SlotError> {
        match self.operation(SlotCommand::Move(MoveTo::Capture)).await {
            Err(SlotError::NoReply(why)) => match self.position().await {
                Ok(CardPosition::NoCard | CardPosition::Captured) => {
                    tracing::warn!(why, "capture answer lost; the card is no longer at the gate: captured");
                    Ok(())
                }
                _ => Err(SlotError::NoReply(why)),
            },
            other => other,
        }
    }

    /// Ejects the card without holding it (service use).
    pub async fn eject(&mut self) -> Result<(), SlotError> {
        self.operation(SlotCommand::Move(MoveTo::EjectFront)).await
    }

    /// The device-model status.
    pub async fn device_status(&mut self) -> DeviceStatus<SlotDetail> {
        match self.position().await {
            Ok(p) => DeviceStatus {
                device: match p {
                    CardPosition::LongCard | CardPosition::ShortCard => DeviceState::HardwareError,
                    _ => DeviceState::Online,
                },
                media: position_media(p),
                detail: SlotDetail { position: Some(p), captured: self.captured },
            },
            // hardware.md §2.5: supply, power and abnormal-card faults are out of service for
            // staff, not a reader gone away.
            Err(SlotError::Refused { error, .. }) if error.needs_staff() => {
                tracing::warn!(?error, "slot reports a fault");
                DeviceStatus {
                    device: DeviceState::HardwareError,
                    media: MediaState::Unknown,
                    detail: SlotDetail { position: None, captured: self.captured },
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "slot status unavailable");
                DeviceStatus::offline(SlotDetail { position: None, captured: self.captured })
            }
        }
    }
}
