//! The reader's side of the CRT-310 line, for every simulator of a slot built on it (the ID slot,
//! the bank-card slot, the gas-card reader). This module speaks the handshake; each simulator
//! brings its card mechanics as a [`Mechanics`]:
//!
//! ```text
//! command frame, good BCC  → ACK; the command is kept           ([`Mechanics::acknowledged`])
//! command frame, bad BCC   → NAK
//! ENQ                      → after [`Mechanics::duration`], the reply to the kept command,
//!                            through the fault plan               ([`Mechanics::execute`])
//! EOT                      → the kept or running command is dropped; EOT back
//! ```
//!
//! The host's bytes are read with this crate's decoders, but every byte the simulator *sends* is
//! written in [`wire`] from hardware.md §2.1–§2.2, not with [`super::encode`] or the driver's
//! tables, so a misread spec on the driver's side fails a test instead of agreeing with itself.

use super::command::Command;
use super::frame::{self, FrameError, Unit};
use super::reply::{CardPosition, ErrorCode};
use crate::sim::{lock, Served};
use crate::{FaultPlan, Pty};
use bytes::BytesMut;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// What a simulated slot does with the commands the reader acknowledged.
pub trait Mechanics: Send + 'static {
    /// Runs one command and returns the reply's text (build it with [`wire`]). `received` is
    /// the text as it came (a positive reply echoes its CM PM); `command` is its reading, or the
    /// error byte E a real reader answers an unreadable text with.
    fn execute(&mut self, received: &[u8], command: Result<Command, ErrorCode>) -> Vec<u8>;

    /// The fault plan applied to reply frames (never to the one-byte handshake).
    fn faults(&mut self) -> &mut FaultPlan;

    /// How long the mechanics take before the reply (a move, a reset).
    fn duration(&mut self, _received: &[u8]) -> Duration {
        Duration::ZERO
    }

    /// A command frame was acknowledged (for a simulator's log).
    fn acknowledged(&mut self, _received: &[u8]) {}

    /// The host sent EOT.
    fn discontinued(&mut self) {}

    /// True while the reader is powered off: every byte is swallowed and nothing answered.
    fn is_silent(&self) -> bool {
        false
    }
}

/// A simulated CRT-310 on a new pty (`name` for the log), answering with `mechanics` until the
/// returned port is dropped. Must run inside a tokio runtime.
pub fn serve<M: Mechanics>(name: &str, mechanics: Arc<Mutex<M>>) -> std::io::Result<Served> {
    Served::start(name, |pty| answer(pty, mechanics))
}

async fn answer<M: Mechanics>(mut pty: Pty, mechanics: Arc<Mutex<M>>) {
    const CONTROLS: [u8; 4] = [wire::ACK, wire::NAK, wire::EOT, wire::ENQ];
    let mut buf = BytesMut::with_capacity(512);
    // The acknowledged command text, then (after ENQ) the one running and when it is done.
    let mut acked: Option<Vec<u8>> = None;
    let mut running: Option<(Instant, Vec<u8>)> = None;
    loop {
        let due = running.as_ref().map(|(at, _)| *at);
        tokio::select! {
            r = pty.master().read_buf(&mut buf) => {
                if matches!(r, Ok(0) | Err(_)) {
                    return;
                }
                loop {
                    if lock(&mechanics).is_silent() {
                        buf.clear();
                        break;
                    }
                    frame::resync(&mut buf, &CONTROLS);
                    let answer: &[u8] = match frame::take_unit(&mut buf, &CONTROLS) {
                        Ok(None) => break,
                        Ok(Some(Unit::Text(text))) => {
                            lock(&mechanics).acknowledged(&text);
                            acked = Some(text);
                            &[wire::ACK]
                        }
                        Ok(Some(Unit::Control(wire::ENQ))) => {
                            if let Some(text) = acked.take() {
                                let takes = lock(&mechanics).duration(&text);
                                running = Some((Instant::now() + takes, text));
                            }
                            &[]
                        }
                        Ok(Some(Unit::Control(wire::EOT))) => {
                            acked = None;
                            running = None;
                            lock(&mechanics).discontinued();
                            &[wire::EOT]
                        }
                        Ok(Some(Unit::Control(_))) => &[],
                        Err(FrameError::BadBcc { .. }) => &[wire::NAK],
                        Err(e) => {
                            tracing::debug!(error = %e, "crt310 sim: bad frame");
                            &[]
                        }
                    };
                    if !answer.is_empty() && pty.master().write_all(answer).await.is_err() {
                        return;
                    }
                }
            }
            _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                let Some((_, text)) = running.take() else { continue };
                let out = {
                    let mut m = lock(&mechanics);
                    let reply = m.execute(&text, Command::from_text(&text));
                    m.faults().apply(wire::frame(&reply))
                };
                if !out.delay.is_zero() {
                    tokio::time::sleep(out.delay).await;
                }
                if !out.bytes.is_empty() && pty.master().write_all(&out.bytes).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// What a simulated reader puts on the wire, written from hardware.md §2.1–§2.2 on their own.
pub mod wire {
    use super::CardPosition;

    /// Command received (good BCC).
    pub const ACK: u8 = 0x06;
    /// Command damaged (bad BCC): resend.
    pub const NAK: u8 = 0x15;
    /// Answer to the host's EOT.
    pub const EOT: u8 = 0x04;
    /// The host's "execute".
    pub const ENQ: u8 = 0x05;
    /// Operation byte P: 'Y' done.
    pub const Y: u8 = 0x59;
    /// Operation byte P: 'N' failed.
    pub const N: u8 = 0x4E;
    /// Operation byte P: 'E' no card.
    pub const E: u8 = 0x45;
    /// Operation byte P: 'W' card not in an operable position.
    pub const W: u8 = 0x57;
    /// Firmware text the simulated reader gives on reset.
    pub const FIRMWARE: &str = "CRT 310 V3.0";

    /// `02 LENH LENL text 03 BCC`, LEN = text bytes (big-endian), BCC = XOR of 02 … 03.
    pub fn frame(text: &[u8]) -> Vec<u8> {
        let [hi, lo] = (text.len() as u16).to_be_bytes();
        let mut f = vec![0x02, hi, lo];
        f.extend_from_slice(text);
        f.push(0x03);
        let bcc = f.iter().fold(0u8, |acc, b| acc ^ b);
        f.push(bcc);
        f
    }

    /// A positive reply's text: the received CM PM echoed, then `data`.
    pub fn positive(received: &[u8], data: &[u8]) -> Vec<u8> {
        let mut t: Vec<u8> = received.iter().copied().chain([0, 0]).take(2).collect();
        t.extend_from_slice(data);
        t
    }

    /// A negative reply's text: `4E CM E`.
    pub fn negative(received: &[u8], e: u8) -> Vec<u8> {
        vec![0x4E, received.first().copied().unwrap_or(0), e]
    }

    /// S1 of the status reply (hardware.md §2.2), this module's own table.
    pub fn s1(p: CardPosition) -> u8 {
        match p {
            CardPosition::LongCard => 0x46,
            CardPosition::ShortCard => 0x47,
            CardPosition::FrontNoHold => 0x48,
            CardPosition::Gate => 0x49,
            CardPosition::Inside => 0x4A,
            CardPosition::InsideContacts => 0x4B,
            CardPosition::RearHold => 0x4C,
            CardPosition::Captured => 0x4D,
            CardPosition::NoCard => 0x4E,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn frames_match_the_spec_bytes() {
            // Positive status: STX, LEN 00 05, CM 31 PM 30, S1 49 S2 4E S3 4E, ETX, BCC 4C.
            assert_eq!(
                frame(&positive(&[0x31, 0x30], &[s1(CardPosition::Gate), 0x4E, 0x4E])),
                [0x02, 0x00, 0x05, 0x31, 0x30, 0x49, 0x4E, 0x4E, 0x03, 0x4C]
            );
            // Negative: STX, LEN 00 03, 'N', CM 32, E 06, ETX, BCC 78.
            assert_eq!(
                frame(&negative(&[0x32, 0x31], 0x06)),
                [0x02, 0x00, 0x03, 0x4E, 0x32, 0x06, 0x03, 0x78]
            );
        }
    }
}
