//! The ECR link protocol over [`device`]'s reconnecting serial link: one data frame out, ACK/NAK
//! per frame, retransmit on NAK or on no answer, NAK for a damaged frame in.
//!
//! ```text
//! kiosk                         terminal
//!   STX LEN request ETX LRC  →
//!                            ←  ACK            (NAK: bad frame, we send it again)
//!        ... customer inserts card, enters PIN on the terminal ...
//!                            ←  STX LEN response ETX LRC
//!   ACK                      →                 (NAK: the terminal sends it again)
//! ```
//!
//! A request is sent at most [`LinkTiming::max_sends`] times. A retransmission after a lost ACK
//! carries the identical record, and the terminal takes an identical record as a repeat, not a
//! new transaction [I: our framing's rule; the simulator implements it]. A response that arrives
//! while we wait for the ACK counts as the ACK (the ACK was lost on the line).

use crate::codec::{decode_frame, encode_frame, Frame, FrameError, RecordError, ACK, NAK};
use device::reconnect::{Connector, Reconnecting};
use device::{Timing, TransportError};
use std::time::Duration;
use tokio::time::Instant;

/// Timing of the link protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkTiming {
    /// How long to wait for ACK/NAK after sending a frame.
    pub ack_timeout: Duration,
    /// Sends of one frame before giving up (first send included).
    pub max_sends: u8,
    /// NAKs we send for damaged frames of one response before giving up.
    pub max_naks: u8,
    /// Longest silence inside a frame.
    pub inter_byte: Duration,
}

impl Default for LinkTiming {
    /// ACK within 1 s, 3 sends, 3 NAKs, 100 ms between bytes.
    fn default() -> Self {
        LinkTiming {
            ack_timeout: Duration::from_secs(1),
            max_sends: 3,
            max_naks: 3,
            inter_byte: Duration::from_millis(100),
        }
    }
}

/// Why an exchange did not complete. For money, every one of these is "outcome unknown".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The port could not be used (closed, vanished, offline).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// No ACK to any of our sends (terminal silent, or every ACK lost).
    #[error("no acknowledgement after {sends} send(s)")]
    NoAck {
        /// Sends made.
        sends: u8,
    },
    /// The terminal refused every send with NAK.
    #[error("terminal refused the frame {sends} time(s) (NAK)")]
    NakExhausted {
        /// Sends made.
        sends: u8,
    },
    /// The request was acknowledged but no response arrived in time.
    #[error("no response within {waited:?}")]
    NoResponse {
        /// The wait.
        waited: Duration,
    },
    /// The response arrived damaged more often than we NAK.
    #[error("response damaged {naks} time(s)")]
    BadFrames {
        /// NAKs sent.
        naks: u8,
    },
    /// A record could not be built or read.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// Counters for diagnostics (`yizhan devices`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames sent (retransmissions included).
    pub frames_sent: u64,
    /// Retransmissions.
    pub retransmits: u64,
    /// NAKs we sent.
    pub naks_sent: u64,
    /// Garbage bytes dropped.
    pub garbage: u64,
}

/// The link to one terminal.
#[derive(Debug)]
pub struct EcrLink<C: Connector> {
    port: Reconnecting<C>,
    timing: LinkTiming,
    early: Option<Vec<u8>>,
    stats: LinkStats,
}

impl<C: Connector> EcrLink<C> {
    /// A link through `port`.
    pub fn new(port: Reconnecting<C>, timing: LinkTiming) -> Self {
        EcrLink { port, timing, early: None, stats: LinkStats::default() }
    }

    /// Counters.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// True while the port is open.
    pub fn is_connected(&self) -> bool {
        self.port.is_connected()
    }

    fn frame_timing(&self, deadline: Duration) -> Timing {
        Timing::new(deadline, self.timing.inter_byte)
    }

    async fn write_byte(&mut self, b: u8) -> Result<(), TransportError> {
        self.port.send(&[b], self.frame_timing(self.timing.ack_timeout)).await
    }

    /// Sends one record and waits for its ACK, retransmitting on NAK or silence.
    pub async fn send_record(&mut self, record: &[u8]) -> Result<(), LinkError> {
        let frame = encode_frame(record)?;
        self.early = None;
        // A response to an earlier, abandoned exchange must not be taken for this one's.
        let stale = self.port.link().await?.discard_input().await.map_err(|e| self.lost(e))?;
        if stale > 0 {
            tracing::debug!(stale, "dropped stale terminal input");
        }
        let mut naks = 0u8;
        for send in 1..=self.timing.max_sends {
            if send > 1 {
                self.stats.retransmits += 1;
            }
            self.stats.frames_sent += 1;
            self.port.send(&frame, self.frame_timing(self.timing.ack_timeout)).await?;
            let deadline = Instant::now() + self.timing.ack_timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match self.port.read_frame(decode_frame, self.frame_timing(left)).await {
                    Ok(Ok(Frame::Ack)) => return Ok(()),
                    Ok(Ok(Frame::Nak)) => {
                        naks += 1;
                        break;
                    }
                    Ok(Ok(Frame::Data(rec))) => {
                        // Our ACK was lost but the terminal already answers: that is the ACK.
                        self.write_byte(ACK).await?;
                        self.early = Some(rec);
                        return Ok(());
                    }
                    Ok(Err(e)) => self.count(e),
                    Err(TransportError::Timeout { .. } | TransportError::InterByteTimeout { .. }) => break,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let sends = self.timing.max_sends;
        if naks == sends {
            Err(LinkError::NakExhausted { sends })
        } else {
            Err(LinkError::NoAck { sends })
        }
    }

    fn lost(&mut self, e: TransportError) -> TransportError {
        if e.is_link_lost() {
            // Reconnecting closes on errors from its own calls; this one came from the raw link.
            self.port.disconnect(&e);
        }
        e
    }

    fn count(&mut self, e: FrameError) {
        if let FrameError::Garbage { dropped } = e {
            self.stats.garbage += dropped as u64;
        }
    }

    /// Waits up to `wait` for one response record, ACKing it; damaged frames get a NAK.
    pub async fn recv_record(&mut self, wait: Duration) -> Result<Vec<u8>, LinkError> {
        if let Some(rec) = self.early.take() {
            return Ok(rec);
        }
        let deadline = Instant::now() + wait;
        let mut naks = 0u8;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LinkError::NoResponse { waited: wait });
            }
            match self.port.read_frame(decode_frame, self.frame_timing(left)).await {
                Ok(Ok(Frame::Data(rec))) => {
                    self.write_byte(ACK).await?;
                    return Ok(rec);
                }
                Ok(Ok(Frame::Ack | Frame::Nak)) => {}
                Ok(Err(e)) if e.wants_nak() => {
                    naks += 1;
                    self.stats.naks_sent += 1;
                    tracing::debug!(error = %e, naks, "damaged terminal frame; NAK");
                    if naks > self.timing.max_naks {
                        return Err(LinkError::BadFrames { naks });
                    }
                    self.write_byte(NAK).await?;
                }
                Ok(Err(e)) => self.count(e),
                Err(TransportError::InterByteTimeout { .. }) => {
                    // A truncated frame: ask for it again.
                    naks += 1;
                    self.stats.naks_sent += 1;
                    if naks > self.timing.max_naks {
                        return Err(LinkError::BadFrames { naks });
                    }
                    if let Ok(link) = self.port.link().await {
                        // Drop the half frame so the retransmission starts clean.
                        let n = link.buffered().len();
                        link.consume(n);
                    }
                    self.write_byte(NAK).await?;
                }
                Err(TransportError::Timeout { .. }) => return Err(LinkError::NoResponse { waited: wait }),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends `record`, then waits up to `wait` for the response record.
    pub async fn exchange(&mut self, record: &[u8], wait: Duration) -> Result<Vec<u8>, LinkError> {
        self.send_record(record).await?;
        self.recv_record(wait).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode_frame, STX};
    use device::reconnect::Connector;
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    /// Hands out one prepared duplex stream.
    struct One(Mutex<Option<DuplexStream>>);

    impl Connector for One {
        type Io = DuplexStream;
        async fn connect(&self) -> Result<DuplexStream, TransportError> {
            self.0.lock().unwrap().take().ok_or(TransportError::Closed)
        }
        fn describe(&self) -> String {
            "duplex".into()
        }
    }

    fn link() -> (EcrLink<One>, DuplexStream) {
        let (a, b) = tokio::io::duplex(4096);
        let timing = LinkTiming { ack_timeout: Duration::from_millis(100), ..LinkTiming::default() };
        (EcrLink::new(Reconnecting::new(One(Mutex::new(Some(a))), Default::default()), timing), b)
    }

    #[tokio::test]
    async fn a_response_arriving_instead_of_the_ack_counts_as_the_ack() {
        let (mut link, mut far) = link();
        let answer = encode_frame(b"ANSWER").unwrap();
        let device = tokio::spawn(async move {
            let mut req = vec![0u8; encode_frame(b"REQ").unwrap().len()];
            far.read_exact(&mut req).await.unwrap();
            assert_eq!(req[0], STX);
            far.write_all(&answer).await.unwrap(); // no ACK: it was lost on the line
            let mut ack = [0u8; 1];
            far.read_exact(&mut ack).await.unwrap();
            assert_eq!(ack, [ACK], "we acknowledge the response");
        });
        assert_eq!(link.exchange(b"REQ", Duration::from_secs(1)).await.unwrap(), b"ANSWER");
        device.await.unwrap();
    }

    #[tokio::test]
    async fn silence_is_no_ack_after_every_send() {
        let (mut link, mut far) = link();
        let err = link.send_record(b"REQ").await.unwrap_err();
        assert!(matches!(err, LinkError::NoAck { sends: 3 }), "{err:?}");
        assert_eq!(link.stats().retransmits, 2);
        let mut got = vec![0u8; 3 * encode_frame(b"REQ").unwrap().len()];
        far.read_exact(&mut got).await.unwrap(); // three identical frames
        assert_eq!(got[..8], got[8..16]);
    }

    #[tokio::test]
    async fn a_damaged_response_is_nakd_then_the_resend_is_taken() {
        let (mut link, mut far) = link();
        let good = encode_frame(b"OK").unwrap();
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 0xFF;
        far.write_all(&bad).await.unwrap();
        let reader = tokio::spawn(async move {
            let mut nak = [0u8; 1];
            far.read_exact(&mut nak).await.unwrap();
            assert_eq!(nak, [NAK]);
            far.write_all(&good).await.unwrap();
            far.read_exact(&mut nak).await.unwrap();
            assert_eq!(nak, [ACK]);
        });
        assert_eq!(link.recv_record(Duration::from_secs(1)).await.unwrap(), b"OK");
        assert_eq!(link.stats().naks_sent, 1);
        reader.await.unwrap();
    }
}
