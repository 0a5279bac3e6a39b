//! The red forced-eject button (hardware.md §1.8): "hold 3 seconds to get the ID card out".
//!
//! ## Wiring
//!
//! The button must work when the software above the driver does not, so it never goes through
//! the UI: it is an input of its own, read by its own task, which holds its own [`SlotHandle`].
//!
//! * **Real kiosk (our choice): a modem-status line of a USB-serial adapter.** The button's
//!   normally-open contact connects the adapter's DTR pin (driven high by the driver when the port
//!   opens, so it is the supply) to CTS; a 10 kΩ resistor pulls CTS to GND. Pressed = CTS
//!   asserted. [`ButtonInput::ModemLine`] opens the port (any FTDI/CH340/CP210x adapter, or a spare
//!   RS-232 port of the IO board) and samples the line every 20 ms (`TIOCMGET` through
//!   `serialport`'s `read_clear_to_send` / `read_data_set_ready` / `read_carrier_detect` /
//!   `read_ring_indicator`). DSR, DCD or RI work the same; `active_low` inverts for a
//!   normally-closed contact (which also makes a cut wire read as "pressed" — prefer
//!   normally-open so a broken cable cannot eject cards). Why not a USB HID key: a keyboard event
//!   lands in the UI's event loop, which is exactly what may be hung; a modem line is read by
//!   this crate alone, needs no extra board, and an unplugged adapter is detected (the port
//!   vanishes) and reported in the logs.
//! * **Simulator and IO boards that speak text: [`ButtonInput::Lines`].** ASCII lines `BTN 1`
//!   (pressed) and `BTN 0` (released) on a serial port; the simulator exposes them on a pty.
//!
//! ## Timing
//!
//! [`ButtonMachine`] is sans-IO: it is fed levels and times and says what happened. A level change
//! counts once it has been stable for 50 ms (debounce); a press counts from its first edge, and
//! when it has lasted 3000 ms [`ButtonOutput::ForceEject`] fires once (the task then calls
//! [`SlotHandle::force_eject`]). Releasing earlier does nothing but [`ButtonOutput::Released`]. It
//! reports [`ButtonMachine::next_deadline`], so the task sleeps exactly until the next decision.

use crate::event::IdEvent;
use crate::slot::SlotHandle;
use bytes::BytesMut;
use device::link::Timing;
use device::reconnect::{BackoffPolicy, Connector, Reconnecting};
use device::{SerialConfig, TransportError};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Debounce and hold times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ButtonTiming {
    /// A level must be stable this long to count (50 ms).
    pub debounce: Duration,
    /// A press this long ejects (3000 ms).
    pub hold: Duration,
}

impl Default for ButtonTiming {
    fn default() -> Self {
        ButtonTiming { debounce: Duration::from_millis(50), hold: Duration::from_millis(3000) }
    }
}

/// What the machine decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ButtonOutput {
    /// A press passed the debounce: give feedback.
    Pressed,
    /// The press ended after `held`.
    Released {
        /// From the press edge to the release edge.
        held: Duration,
    },
    /// The press reached the hold time: eject now.
    ForceEject,
}

/// Debounce + hold detection, with time passed in.
#[derive(Clone, Debug)]
pub struct ButtonMachine {
    timing: ButtonTiming,
    raw: bool,
    raw_since: Option<Instant>,
    stable: bool,
    pressed_at: Option<Instant>,
    fired: bool,
}

impl ButtonMachine {
    /// A released button.
    pub fn new(timing: ButtonTiming) -> Self {
        ButtonMachine { timing, raw: false, raw_since: None, stable: false, pressed_at: None, fired: false }
    }

    /// True while the (debounced) button is down.
    pub fn is_pressed(&self) -> bool {
        self.stable
    }

    /// Feeds a sampled or reported level at `now`, then decides.
    pub fn input(&mut self, pressed: bool, now: Instant) -> Vec<ButtonOutput> {
        if pressed != self.raw {
            self.raw = pressed;
            self.raw_since = Some(now);
        }
        self.poll(now)
    }

    /// Decides what `now` means (call at [`ButtonMachine::next_deadline`] or any time).
    pub fn poll(&mut self, now: Instant) -> Vec<ButtonOutput> {
        let mut out = Vec::new();
        if let Some(since) = self.raw_since {
            if self.raw != self.stable && now >= since + self.timing.debounce {
                self.stable = self.raw;
                if self.stable {
                    self.pressed_at = Some(since);
                    self.fired = false;
                    out.push(ButtonOutput::Pressed);
                } else {
                    let held = self.pressed_at.map_or(Duration::ZERO, |p| since.saturating_duration_since(p));
                    self.pressed_at = None;
                    out.push(ButtonOutput::Released { held });
                }
            }
        }
        if let (true, false, Some(p)) = (self.stable, self.fired, self.pressed_at) {
            // While a release is pending (not yet debounced), the press lasted until that edge.
            let held_until = if self.raw { now } else { self.raw_since.unwrap_or(now) };
            if held_until >= p + self.timing.hold {
                self.fired = true;
                out.push(ButtonOutput::ForceEject);
            }
        }
        out
    }

    /// When to call [`ButtonMachine::poll`] next; `None` when nothing can happen without input.
    pub fn next_deadline(&self) -> Option<Instant> {
        let since = self.raw_since?;
        if self.raw != self.stable {
            return Some(since + self.timing.debounce);
        }
        match (self.stable, self.fired, self.pressed_at) {
            (true, false, Some(p)) => Some(p + self.timing.hold),
            _ => None,
        }
    }
}

/// One line of the text protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ButtonLine {
    /// `BTN 1`.
    Pressed,
    /// `BTN 0`.
    Released,
}

/// A line that is not `BTN 0`/`BTN 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// A whole line that is not a button line (dropped).
    #[error("unrecognised button line")]
    Unrecognised,
    /// No line end within 32 bytes (dropped).
    #[error("button line too long")]
    TooLong,
}

const MAX_LINE: usize = 32;

/// Decodes one `BTN 1` / `BTN 0` line (ended by LF or CR; blank lines skipped).
pub fn decode_line(buf: &mut BytesMut) -> Result<Option<ButtonLine>, LineError> {
    loop {
        let Some(end) = buf.iter().position(|&b| b == b'\n' || b == b'\r') else {
            if buf.len() > MAX_LINE {
                buf.clear();
                return Err(LineError::TooLong);
            }
            return Ok(None);
        };
        let line = buf.split_to(end + 1);
        let text = line[..end].trim_ascii();
        if text.is_empty() {
            continue;
        }
        return match text {
            b"BTN 1" => Ok(Some(ButtonLine::Pressed)),
            b"BTN 0" => Ok(Some(ButtonLine::Released)),
            _ if end > MAX_LINE => Err(LineError::TooLong),
            _ => Err(LineError::Unrecognised),
        };
    }
}

/// A modem-status input line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModemLine {
    /// Clear To Send.
    #[default]
    Cts,
    /// Data Set Ready.
    Dsr,
    /// Data Carrier Detect.
    Dcd,
    /// Ring Indicator.
    Ri,
}

/// Where the button's level comes from.
#[derive(Debug)]
pub enum ButtonInput<C: Connector> {
    /// `BTN 1` / `BTN 0` lines on a byte stream (simulator, text IO boards).
    Lines(C),
    /// A modem-status line of a serial port, sampled every `poll`.
    ModemLine {
        /// The port (its DTR and RTS are asserted on open to power the button).
        serial: SerialConfig,
        /// Which line.
        line: ModemLine,
        /// Pressed when the line is *de*asserted (normally-closed contact).
        active_low: bool,
        /// Sampling period (20 ms).
        poll: Duration,
    },
}

/// The spawned button task; aborted when dropped.
#[derive(Debug)]
pub struct ButtonTask {
    task: JoinHandle<()>,
}

impl Drop for ButtonTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the button task: it runs a [`ButtonMachine`] on `input` and drives `slot`. Must run
/// inside a tokio runtime.
pub fn spawn<C>(
    input: ButtonInput<C>,
    timing: ButtonTiming,
    backoff: BackoffPolicy,
    slot: SlotHandle,
) -> ButtonTask
where
    C: Connector + 'static,
    C::Io: 'static,
{
    let task = match input {
        ButtonInput::Lines(c) => tokio::spawn(run_lines(Reconnecting::new(c, backoff), timing, slot)),
        ButtonInput::ModemLine { serial, line, active_low, poll } => {
            tokio::spawn(run_modem(serial, line, active_low, poll, timing, backoff, slot))
        }
    };
    ButtonTask { task }
}

fn act(outputs: Vec<ButtonOutput>, slot: &SlotHandle) {
    for o in outputs {
        match o {
            ButtonOutput::Pressed => {
                tracing::info!("id slot: eject button pressed");
                slot.publish(IdEvent::ButtonPressed);
            }
            ButtonOutput::Released { held } => {
                tracing::info!(held_ms = held.as_millis() as u64, "id slot: eject button released");
                slot.publish(IdEvent::ButtonReleased { held_ms: held.as_millis() as u64 });
            }
            ButtonOutput::ForceEject => slot.force_eject(),
        }
    }
}

async fn run_lines<C: Connector>(mut port: Reconnecting<C>, timing: ButtonTiming, slot: SlotHandle) {
    let mut m = ButtonMachine::new(timing);
    loop {
        act(m.poll(Instant::now()), &slot);
        let wait = m
            .next_deadline()
            .map_or(Duration::from_secs(1), |d| d.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(1));
        match port.read_frame(decode_line, Timing::new(wait, wait)).await {
            Ok(Ok(line)) => act(m.input(line == ButtonLine::Pressed, Instant::now()), &slot),
            Ok(Err(e)) => tracing::debug!(error = %e, "id slot: button line ignored"),
            Err(TransportError::Timeout { .. } | TransportError::InterByteTimeout { .. }) => {}
            Err(e) => {
                // The input is gone: treat the button as released rather than guess.
                if m.is_pressed() {
                    act(m.input(false, Instant::now() - timing.debounce), &slot);
                }
                m = ButtonMachine::new(timing);
                let pause = match e {
                    TransportError::Offline { retry_in } => retry_in,
                    _ => Duration::from_millis(100),
                };
                tracing::warn!(error = %e, "id slot: button input unavailable");
                tokio::time::sleep(pause.min(Duration::from_secs(1))).await;
            }
        }
    }
}

async fn run_modem(
    serial: SerialConfig,
    line: ModemLine,
    active_low: bool,
    poll: Duration,
    timing: ButtonTiming,
    backoff: BackoffPolicy,
    slot: SlotHandle,
) {
    use tokio_serial::SerialPort;
    let mut delay = backoff.min;
    loop {
        let mut port = match device::serial::open(&serial) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "id slot: button port unavailable");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(backoff.max);
                continue;
            }
        };
        delay = backoff.min;
        // DTR/RTS high: they feed the button contact.
        let _ = port.write_data_terminal_ready(true);
        let _ = port.write_request_to_send(true);
        let mut m = ButtonMachine::new(timing);
        let mut tick = tokio::time::interval(poll.max(Duration::from_millis(5)));
        loop {
            tick.tick().await;
            let level = match line {
                ModemLine::Cts => port.read_clear_to_send(),
                ModemLine::Dsr => port.read_data_set_ready(),
                ModemLine::Dcd => port.read_carrier_detect(),
                ModemLine::Ri => port.read_ring_indicator(),
            };
            match level {
                Ok(l) => act(m.input(l != active_low, Instant::now()), &slot),
                Err(e) => {
                    tracing::warn!(error = %e, "id slot: button line unreadable; reopening");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Feeds (time ms, level) edges and polls every 10 ms up to `end_ms`; returns what happened
    /// with the time it happened.
    fn run(edges: &[(u64, bool)], end_ms: u64) -> Vec<(u64, ButtonOutput)> {
        let t0 = Instant::now();
        let mut m = ButtonMachine::new(ButtonTiming::default());
        let mut out = Vec::new();
        let mut edges = edges.iter().peekable();
        for t in 0..=end_ms {
            while let Some(&&(at, level)) = edges.peek() {
                if at != t {
                    break;
                }
                out.extend(m.input(level, t0 + ms(t)).into_iter().map(|o| (t, o)));
                edges.next();
            }
            if t % 10 == 0 {
                out.extend(m.poll(t0 + ms(t)).into_iter().map(|o| (t, o)));
            }
        }
        out
    }

    #[test]
    fn a_three_second_press_ejects_once_at_three_seconds() {
        let out = run(&[(100, true), (3400, false)], 4000);
        assert_eq!(
            out,
            vec![
                (150, ButtonOutput::Pressed),
                (3100, ButtonOutput::ForceEject),
                (3450, ButtonOutput::Released { held: ms(3300) }),
            ]
        );
    }

    #[test]
    fn a_2_9_second_press_does_nothing() {
        let out = run(&[(0, true), (2900, false)], 5000);
        assert_eq!(out, vec![(50, ButtonOutput::Pressed), (2950, ButtonOutput::Released { held: ms(2900) })]);
    }

    #[test]
    fn bounces_shorter_than_50_ms_are_ignored() {
        // Contact bounce at press, a 20 ms dropout mid-hold: still one press, ejects at 3 s.
        let out = run(&[(0, true), (5, false), (10, true), (1500, false), (1520, true), (3300, false)], 4000);
        assert_eq!(
            out,
            vec![
                (60, ButtonOutput::Pressed),
                (3010, ButtonOutput::ForceEject),
                (3350, ButtonOutput::Released { held: ms(3290) }),
            ]
        );
        // A 30 ms blip alone never counts.
        assert!(run(&[(0, true), (30, false)], 1000).is_empty());
    }

    #[test]
    fn a_release_just_before_three_seconds_does_not_eject_even_if_confirmed_after() {
        // Released at 2990 ms; the release is confirmed at 3040 ms, after the 3 s mark.
        let out = run(&[(0, true), (2990, false)], 4000);
        assert!(!out.iter().any(|(_, o)| *o == ButtonOutput::ForceEject), "{out:?}");
    }

    #[test]
    fn next_deadline_is_the_debounce_then_the_hold() {
        let t0 = Instant::now();
        let mut m = ButtonMachine::new(ButtonTiming::default());
        assert_eq!(m.next_deadline(), None);
        m.input(true, t0);
        assert_eq!(m.next_deadline(), Some(t0 + ms(50)));
        assert_eq!(m.poll(t0 + ms(50)), vec![ButtonOutput::Pressed]);
        assert_eq!(m.next_deadline(), Some(t0 + ms(3000)));
        assert_eq!(m.poll(t0 + ms(3000)), vec![ButtonOutput::ForceEject]);
        assert_eq!(m.next_deadline(), None);
    }

    #[test]
    fn lines_decode() {
        let mut buf = BytesMut::from(&b"BTN 1\r\nnoise\nBTN 0\n BTN 1 \rBTN"[..]);
        assert_eq!(decode_line(&mut buf), Ok(Some(ButtonLine::Pressed)));
        assert_eq!(decode_line(&mut buf), Err(LineError::Unrecognised));
        assert_eq!(decode_line(&mut buf), Ok(Some(ButtonLine::Released)));
        assert_eq!(decode_line(&mut buf), Ok(Some(ButtonLine::Pressed)));
        assert_eq!(decode_line(&mut buf), Ok(None));
        assert_eq!(&buf[..], b"BTN");
        let mut long = BytesMut::from(&[b'x'; 40][..]);
        assert_eq!(decode_line(&mut long), Err(LineError::TooLong));
        assert!(long.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn the_line_decoder_never_panics(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)
        ) {
            crate::fuzz::button_lines(&data);
        }
    }
}
