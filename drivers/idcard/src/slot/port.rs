//! The CRT-310 exchange (hardware.md §2.1): command → ACK (NAK: resend; nothing within 300 ms:
//! resend) → ENQ → the reader executes → reply frame. EOT from the host cancels the pending
//! command and the reader answers EOT.

use super::codec::{
    self, CardPosition, ErrorCode, Operation, Reply, SlotCommand, SlotDecodeError, SlotInbound,
};
use device::link::Timing;
use device::reconnect::{BackoffPolicy, Connector, Reconnecting};
use device::TransportError;
use std::time::Duration;

/// Why a slot command did not do its job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// The slot could not be reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The slot's bytes made no sense (after retries).
    #[error(transparent)]
    Decode(#[from] SlotDecodeError),
    /// No ACK after three tries (or NAK each time).
    #[error("slot did not acknowledge the command")]
    NoAck,
    /// The reply was for another command, or had the wrong shape.
    #[error("slot reply does not match the command")]
    Mismatch,
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

/// The reader status `31 30` gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotStatus {
    /// Where the card is.
    pub position: CardPosition,
    /// S2: front entry mode byte (`4E` = forbidden).
    pub front_entry: u8,
    /// S3: rear entry byte (`4E` = forbidden).
    pub rear_entry: u8,
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
    port: Reconnecting<C>,
    timing: SlotTiming,
}

impl<C: Connector> SlotPort<C> {
    /// A slot reached through `connector`.
    pub fn new(connector: C, timing: SlotTiming, backoff: BackoffPolicy) -> Self {
        SlotPort { port: Reconnecting::new(connector, backoff), timing }
    }

    fn deadline_of(&self, cmd: SlotCommand) -> Duration {
        match cmd {
            SlotCommand::Reset(_) => self.timing.reset,
            SlotCommand::Move(_) => self.timing.moving,
            SlotCommand::Status | SlotCommand::Entry(_) => self.timing.command,
        }
    }

    /// Sends `cmd`, waits for ACK (resending up to 3 times), sends ENQ, reads the reply.
    pub async fn execute(&mut self, cmd: SlotCommand) -> Result<Reply, SlotError> {
        let bytes = codec::encode(cmd);
        let ack_timing = Timing::new(self.timing.ack, self.timing.inter_byte);
        let mut acked = false;
        for _ in 0..3 {
            match self.port.request(&bytes, codec::decode, ack_timing).await {
                Ok(Ok(SlotInbound::Ack)) => {
                    acked = true;
                    break;
                }
                Ok(Ok(_)) | Ok(Err(_)) => continue,
                Err(TransportError::Timeout { .. }) | Err(TransportError::InterByteTimeout { .. }) => {
                    continue
                }
                Err(e) => return Err(e.into()),
            }
        }
        if !acked {
            return Err(SlotError::NoAck);
        }
        let timing = Timing::new(self.deadline_of(cmd), self.timing.inter_byte);
        self.port.send(&[codec::ENQ], timing).await?;
        let reply = loop {
            match self.port.read_frame(codec::decode, timing).await?? {
                SlotInbound::Reply(r) => break r,
                // A late duplicate ACK: keep reading.
                SlotInbound::Ack => continue,
                SlotInbound::Nak | SlotInbound::Eot => return Err(SlotError::Mismatch),
            }
        };
        if !reply.answers(&cmd.text()) {
            return Err(SlotError::Mismatch);
        }
        match reply {
            Reply::Negative { error, .. } => Err(SlotError::Refused(error)),
            positive => Ok(positive),
        }
    }

    /// Executes a command for its effect. A move's reply data is the operation byte P
    /// (hardware.md §2.2), and anything but 'Y' is an error; a reset answers with its version
    /// text and card-in control with a status byte, so for those a positive reply is success.
    pub async fn operate(&mut self, cmd: SlotCommand) -> Result<(), SlotError> {
        let Reply::Positive { data, .. } = self.execute(cmd).await? else {
            return Err(SlotError::Mismatch);
        };
        match cmd {
            SlotCommand::Move(_) => match data.first().map(|b| Operation::try_from(*b)) {
                Some(Ok(Operation::Success)) => Ok(()),
                Some(Ok(op)) => Err(SlotError::Operation(op)),
                _ => Err(SlotError::Mismatch),
            },
            SlotCommand::Reset(_) | SlotCommand::Entry(_) | SlotCommand::Status => Ok(()),
        }
    }

    /// Reads `31 30`.
    pub async fn status(&mut self) -> Result<SlotStatus, SlotError> {
        match self.execute(SlotCommand::Status).await? {
            Reply::Positive { data, .. } if data.len() >= 3 => Ok(SlotStatus {
                position: CardPosition::try_from(data[0]).map_err(|_| SlotError::Mismatch)?,
                front_entry: data[1],
                rear_entry: data[2],
            }),
            _ => Err(SlotError::Mismatch),
        }
    }

    /// Cancels whatever the reader is doing: sends EOT and waits briefly for its EOT. Errors are
    /// logged, not returned: the eject that follows is what matters.
    pub async fn abort(&mut self) {
        let timing = Timing::new(self.timing.ack, self.timing.inter_byte);
        if let Err(e) = self.port.send(&[codec::EOT], timing).await {
            tracing::warn!(error = %e, "id slot: EOT not sent");
            return;
        }
        for _ in 0..4 {
            match self.port.read_frame(codec::decode, timing).await {
                Ok(Ok(SlotInbound::Eot)) => return,
                Ok(_) => continue,
                Err(e) => {
                    tracing::debug!(error = %e, "id slot: no EOT answer");
                    return;
                }
            }
        }
    }
}
