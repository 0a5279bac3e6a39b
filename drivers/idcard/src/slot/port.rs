//! The ID slot's port: its commands through the shared CRT-310 exchange
//! ([`device::crt310::Crt310Port`]: command → ACK → ENQ → reply, EOT to discontinue), with the
//! slot's deadlines and its typed [`SlotError`].

use super::codec::{ErrorCode, Operation, SlotCommand};
use device::crt310::{self, Command, Crt310Port, ExchangeError, ExchangeTiming, ReaderStatus};
use device::reconnect::{BackoffPolicy, Connector};
use device::TransportError;
use std::time::Duration;

/// Why a slot command did not do its job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// The slot could not be reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The slot's bytes made no sense.
    #[error(transparent)]
    Decode(#[from] crt310::DecodeError),
    /// No ACK after three tries (or NAK each time).
    #[error("slot did not acknowledge the command")]
    NoAck,
    /// The reply was for another command, or had the wrong shape.
    #[error("slot reply does not match the command")]
    Mismatch,
    /// No reply came after the slot acknowledged the command; it was discontinued (EOT). The
    /// move may or may not have happened: read the status.
    #[error("slot reply lost; command discontinued")]
    ReplyLost,
    /// The slot refused (negative reply `4E CM E`).
    #[error("slot refused the command: {0}")]
    Refused(ErrorCode),
    /// The operation byte said it failed ('N', 'E' no card, 'W' wrong position).
    #[error("slot operation failed: {0:?}")]
    Operation(Operation),
    /// The force-eject button pre-empted this command.
    #[error("pre-empted by the forced-eject button")]
    PreEmpted,
    /// The slot task is gone (kiosk shutting down).
    #[error("slot task stopped")]
    Stopped,
    /// The slot is disabled after an eject failure; staff must clear it.
    #[error("slot out of service after an eject failure")]
    OutOfService,
}

impl SlotError {
    /// True when a card is (probably) stuck: jam or abnormal card.
    pub fn is_jam(&self) -> bool {
        matches!(self, SlotError::Refused(ErrorCode::AbnormalCard) | SlotError::Operation(Operation::Failure))
    }
}

/// The reader status `31 30` gives: the shared CRT-310 one.
pub type SlotStatus = ReaderStatus;

impl From<ExchangeError> for SlotError {
    fn from(e: ExchangeError) -> SlotError {
        match e {
            ExchangeError::Transport(t) => SlotError::Transport(t),
            ExchangeError::NoAck { .. } => SlotError::NoAck,
            ExchangeError::ReplyLost => SlotError::ReplyLost,
            ExchangeError::BadReply(d) => SlotError::Decode(d),
            ExchangeError::Refused { error, .. } => SlotError::Refused(error),
            _ => SlotError::Mismatch,
        }
    }
}

/// Timings of the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotTiming {
    /// Wait for ACK (§2.1: resend after 300 ms).
    pub ack: Duration,
    /// Deadline of a status or entry command.
    pub command: Duration,
    /// Deadline of a move (≥ 5 s).
    pub moving: Duration,
    /// Deadline of a reset that may eject (≥ 10 s).
    pub reset: Duration,
    /// Inter-byte timeout.
    pub inter_byte: Duration,
}

impl Default for SlotTiming {
    fn default() -> Self {
        SlotTiming {
            ack: Duration::from_millis(300),
            command: Duration::from_secs(2),
            moving: Duration::from_secs(5),
            reset: Duration::from_secs(10),
            inter_byte: Duration::from_millis(80),
        }
    }
}

/// The slot's serial port and its handshake.
#[derive(Debug)]
pub struct SlotPort<C: Connector> {
    port: Crt310Port<C>,
    timing: SlotTiming,
}

impl<C: Connector> SlotPort<C> {
    /// A slot reached through `connector`.
    pub fn new(connector: C, timing: SlotTiming, backoff: BackoffPolicy) -> Self {
        let exchange = ExchangeTiming { ack: timing.ack, inter_byte: timing.inter_byte, attempts: 3 };
        SlotPort { port: Crt310Port::new(connector, exchange, backoff), timing }
    }

    fn deadline_of(&self, cmd: SlotCommand) -> Duration {
        match cmd {
            SlotCommand::Reset(_) => self.timing.reset,
            SlotCommand::Move(_) => self.timing.moving,
            SlotCommand::Status | SlotCommand::Entry(_) => self.timing.command,
        }
    }

    /// Runs `cmd` through the shared exchange; returns the positive reply's data.
    pub async fn execute(&mut self, cmd: SlotCommand) -> Result<Vec<u8>, SlotError> {
        let deadline = self.deadline_of(cmd);
        Ok(self.port.exchange(&Command::from(cmd), deadline).await?)
    }

    /// Executes a command for its effect. A move's reply data is the operation byte P
    /// (hardware.md §2.2), and anything but 'Y' is an error; a reset answers with its version
    /// text and card-in control with a status byte, so for those a positive reply is success.
    pub async fn operate(&mut self, cmd: SlotCommand) -> Result<(), SlotError> {
        let data = self.execute(cmd).await?;
        match cmd {
            SlotCommand::Move(_) => match data.first().map(|b| Operation::try_from(*b)) {
                Some(Ok(Operation::Success)) => Ok(()),
                Some(Ok(op)) => Err(SlotError::Operation(op)),
                _ => Err(SlotError::Mismatch),
            },
            SlotCommand::Reset(_) | SlotCommand::Entry(_) | SlotCommand::Status => Ok(()),
        }
    }

    /// Reads `31 30`. A reply lost or damaged on the line is asked for again (twice): reading
    /// the status changes nothing, unlike a move, whose outcome is read instead.
    pub async fn status(&mut self) -> Result<SlotStatus, SlotError> {
        let mut again = 2;
        loop {
            let read = match self.execute(SlotCommand::Status).await {
                Ok(data) => ReaderStatus::from_data(&data).ok_or(SlotError::Mismatch),
                Err(e) => Err(e),
            };
            match read {
                Err(SlotError::Decode(_) | SlotError::ReplyLost) if again > 0 => {
                    again -= 1;
                    tracing::debug!("id slot: status reply damaged or lost; asking again");
                }
                read => return read,
            }
        }
    }

    /// Cancels whatever the reader is doing: EOT, and a brief wait for its EOT.
    pub async fn abort(&mut self) {
        self.port.abort().await
    }
}
