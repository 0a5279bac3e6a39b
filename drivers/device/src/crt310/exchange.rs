//! The CRT-310 exchange (hardware.md §2.1), written once for every driver built on the reader:
//!
//! ```text
//! host → reader   command frame          resend on NAK 15, on garbage, or after 300 ms of silence
//! reader → host   ACK 06
//! host → reader   ENQ 05                 "execute the command you acknowledged"
//! reader → host   reply frame            CM PM data… or 4E CM E
//! host → reader   EOT 04                 only when no reply came: the reader drops the command
//! reader → host   EOT 04
//! ```
//!
//! Resending before ENQ is always safe: nothing was executed yet. After ENQ a reply that is lost
//! or garbled is reported, never asked for again here: whether a second run is harmless is the
//! caller's decision ([`Command::is_idempotent`]).

use super::command::Command;
use super::frame::{self, FrameError, Unit, ACK, ENQ, EOT, NAK};
use super::reply::{parse_reply, ErrorCode, Reply, ReplyError};
use crate::link::Timing;
use crate::reconnect::{BackoffPolicy, Connector, Reconnecting};
use crate::TransportError;
use bytes::BytesMut;
use std::time::Duration;

/// One thing the reader sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// `06`: the command frame arrived intact.
    Ack,
    /// `15`: the command frame was damaged; resend it.
    Nak,
    /// `04`: the pending command was dropped.
    Eot,
    /// A reply frame, read.
    Reply(Reply),
}

/// Why bytes from the reader are not something it may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame itself is bad (length, ETX, BCC).
    #[error("reader frame: {0}")]
    Frame(#[from] FrameError),
    /// A good frame whose text is not a reply.
    #[error("reader reply: {0}")]
    Reply(#[from] ReplyError),
}

/// Decodes one thing the reader sent; bytes other than ACK/NAK/EOT/STX in front are dropped.
pub fn decode_inbound(buf: &mut BytesMut) -> Result<Option<Inbound>, DecodeError> {
    const CONTROLS: [u8; 3] = [ACK, NAK, EOT];
    let dropped = frame::resync(buf, &CONTROLS);
    if dropped > 0 {
        tracing::debug!(dropped, "crt310: dropped stray bytes");
    }
    Ok(match frame::take_unit(buf, &CONTROLS)? {
        None => None,
        Some(Unit::Control(ACK)) => Some(Inbound::Ack),
        Some(Unit::Control(NAK)) => Some(Inbound::Nak),
        Some(Unit::Control(_)) => Some(Inbound::Eot),
        Some(Unit::Text(text)) => Some(Inbound::Reply(parse_reply(&text)?)),
    })
}

/// Why one exchange did not bring back a positive reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// The port could not be reached, or the link broke.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// No ACK after every send (NAK, garbage or silence each time). Nothing was executed.
    #[error("reader did not acknowledge the command ({attempts} sends)")]
    NoAck {
        /// Sends made.
        attempts: u8,
    },
    /// No reply after ENQ within the command's deadline; EOT was sent so the reader drops it.
    /// The command may or may not have run.
    #[error("no reply from the reader; command discontinued")]
    ReplyLost,
    /// A reply came but its bytes are bad. The command may or may not have run.
    #[error(transparent)]
    BadReply(#[from] DecodeError),
    /// A reply to another command.
    #[error("reader reply does not answer the command")]
    Mismatch,
    /// The reader refused: negative reply `4E CM E`.
    #[error("reader refused command {cm:#04x}: {error}")]
    Refused {
        /// The echoed command byte.
        cm: u8,
        /// Why.
        error: ErrorCode,
    },
}

impl ExchangeError {
    /// True when the port itself was lost (the reader must be reset once it is back).
    pub fn is_link_lost(&self) -> bool {
        matches!(self, ExchangeError::Transport(e) if e.is_link_lost())
    }
}

/// How long to wait for what, and how often to resend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExchangeTiming {
    /// Wait for ACK before resending (hardware.md §2.1: 300 ms).
    pub ack: Duration,
    /// Longest silence inside a frame.
    pub inter_byte: Duration,
    /// Sends of one command frame before giving up on ACK.
    pub attempts: u8,
}

impl Default for ExchangeTiming {
    fn default() -> Self {
        ExchangeTiming { ack: Duration::from_millis(300), inter_byte: Duration::from_millis(80), attempts: 3 }
    }
}

/// A CRT-310 on a (re)connecting port: the one place its handshake is spoken.
#[derive(Debug)]
pub struct Crt310Port<C: Connector> {
    port: Reconnecting<C>,
    timing: ExchangeTiming,
}

impl<C: Connector> Crt310Port<C> {
    /// A reader reached through `connector`; the port opens on the first exchange.
    pub fn new(connector: C, timing: ExchangeTiming, backoff: BackoffPolicy) -> Self {
        Crt310Port { port: Reconnecting::new(connector, backoff), timing }
    }

    /// The (re)connecting port underneath.
    pub fn port(&self) -> &Reconnecting<C> {
        &self.port
    }

    fn short(&self) -> Timing {
        Timing::new(self.timing.ack, self.timing.inter_byte)
    }

    /// Runs `command`: frame → ACK (resending) → ENQ → reply, which must answer it and be
    /// positive; returns the reply's data. `deadline` bounds the wait for the reply after ENQ
    /// (the reader's mechanics: ≥ 5 s for a move, ≥ 10 s for a reset that may eject).
    pub async fn exchange(
        &mut self,
        command: &Command,
        deadline: Duration,
    ) -> Result<Vec<u8>, ExchangeError> {
        let frame = command.encode();
        let attempts = self.timing.attempts.max(1);
        let mut acked = false;
        for _ in 0..attempts {
            match self.port.request(&frame, decode_inbound, self.short()).await {
                Ok(Ok(Inbound::Ack)) => {
                    acked = true;
                    break;
                }
                Ok(Ok(other)) => {
                    tracing::debug!(answer = ?other, cm = command.cm(), "crt310: not acknowledged")
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "crt310: damaged handshake; resending"),
                Err(TransportError::Timeout { .. } | TransportError::InterByteTimeout { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if !acked {
            return Err(ExchangeError::NoAck { attempts });
        }
        self.port.send(&[ENQ], self.short()).await?;
        let timing = Timing::new(deadline, self.timing.inter_byte);
        let reply = loop {
            match self.port.read_frame(decode_inbound, timing).await {
                Ok(Ok(Inbound::Reply(r))) => break r,
                // A late duplicate ACK, or a stray NAK/EOT (the reader sends neither after ENQ
                // unasked; on a noisy line one byte must not fail a move that is running): the
                // reply is still to come, or the deadline ends the wait.
                Ok(Ok(other @ (Inbound::Ack | Inbound::Nak | Inbound::Eot))) => {
                    tracing::debug!(byte = ?other, cm = command.cm(), "crt310: control byte while waiting for the reply");
                    continue;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, cm = command.cm(), "crt310: undecodable reply");
                    return Err(e.into());
                }
                Err(TransportError::Timeout { .. } | TransportError::InterByteTimeout { .. }) => {
                    self.abort().await;
                    return Err(ExchangeError::ReplyLost);
                }
                Err(e) => return Err(e.into()),
            }
        };
        if !reply.answers(&command.text()) {
            return Err(ExchangeError::Mismatch);
        }
        match reply {
            Reply::Positive { data, .. } => Ok(data),
            Reply::Negative { cm, error } => Err(ExchangeError::Refused { cm, error }),
        }
    }

    /// Discontinues whatever the reader is doing: sends EOT and waits briefly for its EOT.
    /// Errors are logged, not returned: what the caller does next (an eject, a status read)
    /// tells whether the reader listened.
    pub async fn abort(&mut self) {
        let timing = self.short();
        if let Err(e) = self.port.send(&[EOT], timing).await {
            tracing::warn!(error = %e, "crt310: EOT not sent");
            return;
        }
        for _ in 0..4 {
            match self.port.read_frame(decode_inbound, timing).await {
                Ok(Ok(Inbound::Eot)) => return,
                Ok(_) => continue,
                Err(e) => {
                    tracing::debug!(error = %e, "crt310: no EOT answer");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    /// Hands out one end of a duplex pipe; the test holds the other end as the reader.
    struct Pipe(std::sync::Mutex<Option<DuplexStream>>);

    impl Connector for Pipe {
        type Io = DuplexStream;
        fn connect(&self) -> impl Future<Output = Result<DuplexStream, TransportError>> + Send {
            let io = self.0.lock().unwrap().take();
            async move { io.ok_or(TransportError::Closed) }
        }
        fn describe(&self) -> String {
            "pipe".into()
        }
    }

    fn port() -> (Crt310Port<Pipe>, DuplexStream) {
        let (host, reader) = tokio::io::duplex(1024);
        let timing = ExchangeTiming {
            ack: Duration::from_millis(300),
            inter_byte: Duration::from_millis(80),
            attempts: 3,
        };
        (Crt310Port::new(Pipe(std::sync::Mutex::new(Some(host))), timing, BackoffPolicy::default()), reader)
    }

    async fn expect(reader: &mut DuplexStream, want: &[u8]) {
        let mut got = vec![0u8; want.len()];
        reader.read_exact(&mut got).await.unwrap();
        assert_eq!(got, want);
    }

    /// The reader's side up to the reply: the command `frame` arrives, ACK, the host's ENQ.
    async fn acknowledge(reader: &mut DuplexStream, frame: &[u8]) {
        expect(reader, frame).await;
        reader.write_all(&[0x06]).await.unwrap(); // ACK
        expect(reader, &[0x05]).await; // ENQ
    }

    // Move to the gate, held: STX, LEN 00 02, CM 32 PM 31, ETX, BCC 00.
    const GATE: [u8; 7] = [0x02, 0x00, 0x02, 0x32, 0x31, 0x03, 0x00];

    const STATUS: [u8; 7] = [0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02];
    // Positive status reply: STX, LEN 00 05, CM 31 PM 30, S1 4A S2 4E S3 4E, ETX, BCC 4F.
    const STATUS_REPLY: [u8; 10] = [0x02, 0x00, 0x05, 0x31, 0x30, 0x4A, 0x4E, 0x4E, 0x03, 0x4F];

    #[tokio::test(start_paused = true)]
    async fn a_nak_makes_the_host_resend_then_ack_enq_reply() {
        let (mut port, mut reader) = port();
        let host = tokio::spawn(async move { port.exchange(&Command::Status, Duration::from_secs(2)).await });
        expect(&mut reader, &STATUS).await;
        reader.write_all(&[0x15]).await.unwrap(); // NAK: bad BCC, resend
        expect(&mut reader, &STATUS).await;
        reader.write_all(&[0x06]).await.unwrap(); // ACK
        expect(&mut reader, &[0x05]).await; // ENQ
        reader.write_all(&[0x06]).await.unwrap(); // a late duplicate ACK is skipped
        reader.write_all(&[0x15, 0x04]).await.unwrap(); // and so is line noise that looks like NAK, EOT
        reader.write_all(&STATUS_REPLY).await.unwrap();
        assert_eq!(host.await.unwrap().unwrap(), [0x4A, 0x4E, 0x4E]);
    }

    #[tokio::test(start_paused = true)]
    async fn three_silent_sends_are_no_ack_and_nothing_is_executed() {
        let (mut port, mut reader) = port();
        let host = tokio::spawn(async move { port.exchange(&Command::Status, Duration::from_secs(2)).await });
        for _ in 0..3 {
            expect(&mut reader, &STATUS).await;
        }
        assert!(matches!(host.await.unwrap(), Err(ExchangeError::NoAck { attempts: 3 })));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reply_that_never_comes_is_discontinued_with_eot() {
        let (mut port, mut reader) = port();
        let host = tokio::spawn(async move {
            port.exchange(&Command::Move(super::super::MoveTo::Gate), Duration::from_secs(5)).await
        });
        acknowledge(&mut reader, &GATE).await;
        expect(&mut reader, &[0x04]).await; // EOT after the 5 s deadline
        reader.write_all(&[0x04]).await.unwrap();
        assert!(matches!(host.await.unwrap(), Err(ExchangeError::ReplyLost)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_negative_reply_is_refused_with_its_error_byte() {
        let (mut port, mut reader) = port();
        let host = tokio::spawn(async move {
            port.exchange(&Command::Move(super::super::MoveTo::Gate), Duration::from_secs(5)).await
        });
        acknowledge(&mut reader, &GATE).await;
        // STX, LEN 00 03, 'N', CM 32, E 06 abnormal card, ETX, BCC 78.
        reader.write_all(&[0x02, 0x00, 0x03, 0x4E, 0x32, 0x06, 0x03, 0x78]).await.unwrap();
        assert!(matches!(
            host.await.unwrap(),
            Err(ExchangeError::Refused { cm: 0x32, error: ErrorCode::AbnormalCard })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reply_to_another_command_is_a_mismatch() {
        let (mut port, mut reader) = port();
        let host =
            tokio::spawn(async move { port.exchange(&Command::DetectIcType, Duration::from_secs(2)).await });
        // Detect IC type: STX, LEN 00 02, CM 31 PM 31, ETX, BCC 03.
        acknowledge(&mut reader, &[0x02, 0x00, 0x02, 0x31, 0x31, 0x03, 0x03]).await;
        reader.write_all(&STATUS_REPLY).await.unwrap(); // answers 31 30, not 31 31
        assert!(matches!(host.await.unwrap(), Err(ExchangeError::Mismatch)));
    }

    #[test]
    fn inbound_reads_controls_and_frames() {
        let mut buf = BytesMut::from(&[0x00, 0x06, 0x15, 0x04][..]);
        assert_eq!(decode_inbound(&mut buf), Ok(Some(Inbound::Ack)));
        assert_eq!(decode_inbound(&mut buf), Ok(Some(Inbound::Nak)));
        assert_eq!(decode_inbound(&mut buf), Ok(Some(Inbound::Eot)));
        assert_eq!(decode_inbound(&mut buf), Ok(None));
        let mut buf = BytesMut::from(&STATUS_REPLY[..]);
        assert!(matches!(
            decode_inbound(&mut buf),
            Ok(Some(Inbound::Reply(Reply::Positive { cm: 0x31, .. })))
        ));
    }
}
