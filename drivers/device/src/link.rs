//! [`Link`]: one request/response exchange over any byte stream, with deadlines.
//!
//! hardware.md, general rules: "Drivers read with an overall deadline per command plus an
//! inter-byte timeout (50–100 ms) so that a truncated frame fails fast." [`Link::request`] does
//! exactly that, after discarding stale input (the tail of an earlier reply that came too late
//! would otherwise be taken as this command's answer — tokio-modbus does the same).
//!
//! Decoders follow the contract of `design/EXAMPLES.md` §"How this maps" item 2:
//! `FnMut(&mut BytesMut) -> Result<Option<Frame>, E>`; `Ok(None)` means "need more bytes" and
//! leaves the buffer alone; on `Err` the decoder has consumed the bad bytes itself. Errors are
//! nested as in tokio-modbus: the outer `Result` is "we could not talk" ([`TransportError`]), the
//! inner one is the decoder's verdict on the bytes.

use crate::error::TransportError;
use bytes::{Buf, BytesMut};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout, timeout_at, Instant};

/// How long an exchange may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Overall deadline from the start of the exchange (write included).
    pub deadline: Duration,
    /// Once a reply has started, the longest silence between two bytes before the reply is
    /// declared truncated. 50–100 ms on serial lines (hardware.md general rules).
    pub inter_byte: Duration,
}

impl Timing {
    /// A timing with the given overall deadline and inter-byte timeout.
    pub const fn new(deadline: Duration, inter_byte: Duration) -> Self {
        Timing { deadline, inter_byte }
    }
}

impl Default for Timing {
    /// 2 s overall, 80 ms between bytes.
    fn default() -> Self {
        Timing::new(Duration::from_secs(2), Duration::from_millis(80))
    }
}

/// A decoder helper for fixed-length replies: takes `n` bytes once they are all there.
pub fn take(buf: &mut BytesMut, n: usize) -> Option<Vec<u8>> {
    (buf.len() >= n).then(|| buf.split_to(n).to_vec())
}

/// A byte stream to a device plus the bytes received but not yet decoded.
#[derive(Debug)]
pub struct Link<T> {
    io: T,
    rx: BytesMut,
}

impl<T: AsyncRead + AsyncWrite + Unpin> Link<T> {
    /// Wraps an open stream (serial port, pty, duplex, USB adapter).
    pub fn new(io: T) -> Self {
        Link { io, rx: BytesMut::with_capacity(512) }
    }

    /// The stream, for settings getters (`serialport::SerialPort::baud_rate`...).
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// Gives the stream back; undecoded bytes are lost.
    pub fn into_inner(self) -> T {
        self.io
    }

    /// Bytes received and not yet consumed by a decoder.
    pub fn buffered(&self) -> &[u8] {
        &self.rx
    }

    /// Drops every byte already received or immediately readable, and returns how many.
    /// Call before a request so a late reply to an earlier command is not taken for this one.
    pub async fn discard_input(&mut self) -> Result<usize, TransportError> {
        let mut dropped = self.rx.len();
        self.rx.clear();
        loop {
            self.rx.reserve(256);
            // A zero timeout still polls the read once: only bytes already there are taken.
            match timeout(Duration::ZERO, self.io.read_buf(&mut self.rx)).await {
                Ok(Ok(0)) => return Err(TransportError::Closed),
                Ok(Ok(n)) => {
                    dropped += n;
                    self.rx.clear();
                }
                Ok(Err(e)) => return Err(TransportError::Io(e)),
                Err(_) => break,
            }
        }
        if dropped > 0 {
            tracing::debug!(dropped, "discarded stale input");
        }
        Ok(dropped)
    }

    /// Writes all of `bytes` and flushes, within `timing.deadline`.
    pub async fn send(&mut self, bytes: &[u8], timing: Timing) -> Result<(), TransportError> {
        let io = &mut self.io;
        match timeout(timing.deadline, async {
            io.write_all(bytes).await?;
            io.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(TransportError::Io(e)),
            Err(_) => Err(TransportError::Timeout { waited: timing.deadline, received: 0 }),
        }
    }

    /// Reads until `decode` yields a frame (or an error), the overall deadline passes, or a
    /// started reply stalls longer than the inter-byte timeout.
    ///
    /// Cancel-safe: bytes read before the future is dropped stay buffered for the next call.
    pub async fn read_frame<F, E>(
        &mut self,
        mut decode: impl FnMut(&mut BytesMut) -> Result<Option<F>, E>,
        timing: Timing,
    ) -> Result<Result<F, E>, TransportError> {
        let deadline = Instant::now() + timing.deadline;
        let mut received = 0usize;
        let mut last_byte = None::<Instant>;
        loop {
            match decode(&mut self.rx) {
                Ok(Some(frame)) => return Ok(Ok(frame)),
                Err(e) => return Ok(Err(e)),
                Ok(None) => {}
            }
            let stall_at = last_byte.map(|t| t + timing.inter_byte).filter(|t| *t < deadline);
            let wait_until = stall_at.unwrap_or(deadline);
            self.rx.reserve(256);
            match timeout_at(wait_until, self.io.read_buf(&mut self.rx)).await {
                Ok(Ok(0)) => return Err(TransportError::Closed),
                Ok(Ok(n)) => {
                    received += n;
                    last_byte = Some(Instant::now());
                }
                Ok(Err(e)) => return Err(TransportError::Io(e)),
                Err(_) if stall_at.is_some() => {
                    return Err(TransportError::InterByteTimeout { gap: timing.inter_byte, received })
                }
                Err(_) => return Err(TransportError::Timeout { waited: timing.deadline, received }),
            }
        }
    }

    /// Discards stale input, sends `bytes`, then reads one reply with `decode`, all within
    /// `timing` (the deadline covers the whole exchange).
    pub async fn request<F, E>(
        &mut self,
        bytes: &[u8],
        decode: impl FnMut(&mut BytesMut) -> Result<Option<F>, E>,
        timing: Timing,
    ) -> Result<Result<F, E>, TransportError> {
        let start = Instant::now();
        self.discard_input().await?;
        self.send(bytes, timing).await?;
        let left = timing.deadline.saturating_sub(start.elapsed());
        self.read_frame(decode, Timing { deadline: left, ..timing }).await
    }

    /// Drops `n` buffered bytes (for decoders driven from outside [`Link::read_frame`]).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.rx.len());
        self.rx.advance(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use tokio::io::duplex;

    fn one_byte(buf: &mut BytesMut) -> Result<Option<u8>, Infallible> {
        Ok(take(buf, 1).map(|v| v[0]))
    }

    #[tokio::test]
    async fn request_discards_stale_bytes_then_reads_the_reply() {
        let (a, mut b) = duplex(64);
        let mut link = Link::new(a);
        // A late reply to an earlier status request is waiting.
        b.write_all(&[0x1A]).await.unwrap();
        tokio::task::yield_now().await;
        let device = tokio::spawn(async move {
            let mut req = [0u8; 3];
            b.read_exact(&mut req).await.unwrap();
            // hardware.md §4.2: DLE EOT 1 → 0x12, printer online.
            assert_eq!(req, [0x10, 0x04, 0x01]);
            b.write_all(&[0x12]).await.unwrap();
            b
        });
        let reply = link.request(&[0x10, 0x04, 0x01], one_byte, Timing::default()).await.unwrap();
        assert_eq!(reply, Ok(0x12));
        device.await.unwrap();
    }

    #[tokio::test]
    async fn silence_is_a_timeout_with_nothing_received() {
        let (a, _b) = duplex(64);
        let mut link = Link::new(a);
        let t = Timing::new(Duration::from_millis(30), Duration::from_millis(10));
        let err = link.read_frame(|b| Ok::<_, Infallible>(take(b, 1)), t).await.unwrap_err();
        assert!(matches!(err, TransportError::Timeout { received: 0, .. }), "{err:?}");
    }

    #[tokio::test]
    async fn a_truncated_reply_fails_on_the_inter_byte_timeout() {
        let (a, mut b) = duplex(64);
        let mut link = Link::new(a);
        b.write_all(&[1, 2, 3]).await.unwrap();
        let t = Timing::new(Duration::from_secs(5), Duration::from_millis(20));
        let started = std::time::Instant::now();
        let err = link.read_frame(|b| Ok::<_, Infallible>(take(b, 10)), t).await.unwrap_err();
        assert!(matches!(err, TransportError::InterByteTimeout { received: 3, .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(1), "fails fast, not at the deadline");
    }

    #[tokio::test]
    async fn the_other_end_closing_is_closed() {
        let (a, b) = duplex(64);
        drop(b);
        let mut link = Link::new(a);
        let err = link.read_frame(|b| Ok::<_, Infallible>(take(b, 1)), Timing::default()).await.unwrap_err();
        assert!(err.is_link_lost());
    }

    #[tokio::test]
    async fn decoder_errors_come_back_inside() {
        let (a, mut b) = duplex(64);
        let mut link = Link::new(a);
        b.write_all(&[0xFF]).await.unwrap();
        let r = link
            .read_frame(
                |buf: &mut BytesMut| {
                    if buf.is_empty() {
                        Ok(None)
                    } else {
                        buf.clear();
                        Err::<Option<u8>, _>("bad")
                    }
                },
                Timing::default(),
            )
            .await
            .unwrap();
        assert_eq!(r, Err("bad"));
    }
}
