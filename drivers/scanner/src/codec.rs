//! Bytes ⇄ [`Command`]/[`Reply`] for serial scan engines (hardware.md §5.1–§5.2). Pure: no I/O, no
//! clock. The driver, the simulator and the tests all call these functions synchronously.
//!
//! # What comes back on the line
//!
//! | Shape | Bytes | Vendor |
//! |---|---|---|
//! | scan | symbol bytes + `CR` (optional `LF`; a bare `LF` also ends a frame) | all |
//! | menu reply | echo + `06`/`05`/`15` + `.` or `!` (several settings: `;` between them) | Honeywell |
//! | bare status | `06` (or `15`) at a frame boundary | Newland legacy |
//! | unified reply | `02 01 30 30 30 30` + echo + status + `3B 03` | Newland unified |
//!
//! The shapes never overlap, so one decoder reads every vendor: a scanner configured with the wrong
//! `vendor` still delivers scans, and the commands it ignores show up as timeouts, not as corrupt data.
//!
//! # Resynchronisation
//!
//! Any control byte that no shape allows (NUL, line noise, a half frame's tail) makes the decoder
//! drop the bytes up to and including it and return [`DecodeError::Garbage`] with the count; the
//! next call starts clean. A frame longer than [`MAX_FRAME`] without a terminator is dropped whole
//! ([`DecodeError::Overlong`]). Errors therefore always consume bytes, and `Ok(None)` never does,
//! except for empty frames (a lone `CR`/`LF`), which carry nothing and are skipped silently.

use crate::frame::{Command, Persistence, Reply, ScanData, Status, Vendor};
use bytes::{Buf, BytesMut};

pub const CR: u8 = 0x0D;
pub const LF: u8 = 0x0A;
pub const TAB: u8 = 0x09;
pub const SYN: u8 = 0x16;
pub const ESC: u8 = 0x1B;
pub const STX: u8 = 0x02;
pub const ETX: u8 = 0x03;

/// The longest frame we accept. A QR code holds at most 7089 digits (version 40-L, numeric), so a
/// legitimate scan always fits; anything longer is a line stuck in noise.
pub const MAX_FRAME: usize = 8192;

/// Honeywell menu prefix `SYN M CR` [hardware.md §5.2].
pub const HONEYWELL_MENU: [u8; 3] = [SYN, b'M', CR];
/// Newland unified host frame header `7E 01 30 30 30 30`.
pub const NEWLAND_UNIFIED_HOST: [u8; 6] = [0x7E, 0x01, 0x30, 0x30, 0x30, 0x30];
/// Newland unified reply header `02 01 30 30 30 30`.
pub const NEWLAND_UNIFIED_REPLY: [u8; 6] = [STX, 0x01, 0x30, 0x30, 0x30, 0x30];
/// Newland unified trailer `3B 03` (`;` ETX).
pub const NEWLAND_UNIFIED_END: [u8; 2] = [b';', ETX];

/// Why a command cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    #[error("a passive scanner takes no commands")]
    Passive,
    #[error("a setting must be non-empty printable ASCII without `.`, `!`, `;`, `@` or `#` terminators")]
    BadSetting,
}

/// Why bytes were dropped. Every variant means the bytes are gone from the buffer and decoding
/// may simply continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("dropped {dropped} byte(s) of garbage to resynchronise")]
    Garbage { dropped: usize },
    #[error("dropped a {dropped}-byte frame that never ended")]
    Overlong { dropped: usize },
}

impl DecodeError {
    /// How many bytes were dropped.
    pub fn dropped(self) -> usize {
        match self {
            DecodeError::Garbage { dropped } | DecodeError::Overlong { dropped } => dropped,
        }
    }
}

/// The bytes of `cmd` for `vendor` (hardware.md §5.2).
///
/// Newland legacy untrigger is `ESC 0` [I: the pair of the documented `ESC 1`; the engine's own read
/// timeout also ends a scan]. Legacy settings are sent as given plus `;` (pass the whole
/// `NLS0006010`), and ignore [`Persistence`].
pub fn encode(vendor: Vendor, cmd: &Command) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(16);
    match (vendor, cmd) {
        (Vendor::Passive, _) => return Err(EncodeError::Passive),
        (Vendor::Honeywell, Command::Trigger) => out.extend_from_slice(&[SYN, b'T', CR]),
        (Vendor::Honeywell, Command::Untrigger) => out.extend_from_slice(&[SYN, b'U', CR]),
        (Vendor::Honeywell, Command::Setting { setting, persistence }) => {
            check_setting(setting)?;
            out.extend_from_slice(&HONEYWELL_MENU);
            out.extend_from_slice(setting.as_bytes());
            out.push(match persistence {
                Persistence::Saved => b'.',
                Persistence::Temporary => b'!',
            });
        }
        (Vendor::Newland, Command::Trigger) => out.extend_from_slice(&[ESC, b'1']),
        (Vendor::Newland, Command::Untrigger) => out.extend_from_slice(&[ESC, b'0']),
        (Vendor::Newland, Command::Setting { setting, .. }) => {
            check_setting(setting)?;
            out.extend_from_slice(setting.as_bytes());
            out.push(b';');
        }
        (Vendor::NewlandUnified, cmd) => {
            let (flag, setting) = match cmd {
                Command::Trigger => (b'#', "SCNTRG1"),
                Command::Untrigger => (b'#', "SCNTRG0"),
                Command::Setting { setting, persistence } => {
                    check_setting(setting)?;
                    let flag = match persistence {
                        Persistence::Saved => b'@',
                        Persistence::Temporary => b'#',
                    };
                    (flag, setting.as_str())
                }
            };
            out.extend_from_slice(&NEWLAND_UNIFIED_HOST);
            out.push(flag);
            out.extend_from_slice(setting.as_bytes());
            out.extend_from_slice(&NEWLAND_UNIFIED_END);
        }
    }
    Ok(out)
}

fn check_setting(setting: &str) -> Result<(), EncodeError> {
    let ok =
        !setting.is_empty() && setting.bytes().all(|b| (0x20..0x7F).contains(&b) && !b".!;@#".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(EncodeError::BadSetting)
    }
}

/// What the host sent, as the engine (our simulator) reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostFrame {
    Trigger,
    Untrigger,
    /// Honeywell menu: the settings between `SYN M CR` and the terminator, split on `;`.
    HoneywellMenu {
        settings: Vec<String>,
        persistence: Persistence,
    },
    /// Newland legacy `…;` setting (the text before `;`).
    NewlandSetting(String),
    /// Newland unified frame: the setting after `@`/`#`.
    NewlandUnified {
        setting: String,
        persistence: Persistence,
    },
}

/// Decodes one command from the host side of the line (the simulator's half of the codec).
/// Same contract as [`decode`]: `Ok(None)` = need more bytes, errors consume the bytes they name.
pub fn decode_host(buf: &mut BytesMut) -> Result<Option<HostFrame>, DecodeError> {
    let Some(&first) = buf.first() else { return Ok(None) };
    match first {
        SYN => {
            let Some(&second) = buf.get(1) else { return Ok(None) };
            let Some(&third) = buf.get(2) else { return Ok(None) };
            if third != CR || !matches!(second, b'T' | b'U' | b'M') {
                return Err(drop_front(buf, 1));
            }
            match second {
                b'T' => {
                    buf.advance(3);
                    Ok(Some(HostFrame::Trigger))
                }
                b'U' => {
                    buf.advance(3);
                    Ok(Some(HostFrame::Untrigger))
                }
                _ => {
                    let body = &buf[3..];
                    match body.iter().position(|&b| b == b'.' || b == b'!' || b < 0x20) {
                        None if buf.len() > MAX_FRAME => Err(drop_overlong(buf)),
                        None => Ok(None),
                        Some(i) if body[i] < 0x20 => Err(drop_front(buf, 3 + i + 1)),
                        Some(i) => {
                            let persistence =
                                if body[i] == b'.' { Persistence::Saved } else { Persistence::Temporary };
                            let settings =
                                String::from_utf8_lossy(&body[..i]).split(';').map(str::to_owned).collect();
                            buf.advance(3 + i + 1);
                            Ok(Some(HostFrame::HoneywellMenu { settings, persistence }))
                        }
                    }
                }
            }
        }
        ESC => match buf.get(1) {
            None => Ok(None),
            Some(b'1') => {
                buf.advance(2);
                Ok(Some(HostFrame::Trigger))
            }
            Some(b'0') => {
                buf.advance(2);
                Ok(Some(HostFrame::Untrigger))
            }
            Some(_) => Err(drop_front(buf, 1)),
        },
        0x7E => {
            let have = buf.len().min(NEWLAND_UNIFIED_HOST.len());
            if buf[..have] != NEWLAND_UNIFIED_HOST[..have] {
                return Err(drop_front(buf, 1));
            }
            let Some(&flag) = buf.get(6) else { return Ok(None) };
            let persistence = match flag {
                b'@' => Persistence::Saved,
                b'#' => Persistence::Temporary,
                _ => return Err(drop_front(buf, 1)),
            };
            let body = &buf[7..];
            let Some(i) = body.windows(2).position(|w| w == NEWLAND_UNIFIED_END) else {
                return if buf.len() > MAX_FRAME { Err(drop_overlong(buf)) } else { Ok(None) };
            };
            let setting = String::from_utf8_lossy(&body[..i]).into_owned();
            buf.advance(7 + i + 2);
            Ok(Some(if setting == "SCNTRG1" {
                HostFrame::Trigger
            } else if setting == "SCNTRG0" {
                HostFrame::Untrigger
            } else {
                HostFrame::NewlandUnified { setting, persistence }
            }))
        }
        b if b.is_ascii_alphanumeric() => match buf.iter().position(|&b| b == b';' || b < 0x20) {
            None if buf.len() > MAX_FRAME => Err(drop_overlong(buf)),
            None => Ok(None),
            Some(i) if buf[i] < 0x20 => Err(drop_front(buf, i)),
            Some(i) => {
                let setting = String::from_utf8_lossy(&buf[..i]).into_owned();
                buf.advance(i + 1);
                Ok(Some(HostFrame::NewlandSetting(setting)))
            }
        },
        _ => {
            let run =
                buf.iter().take_while(|&&b| !matches!(b, SYN | ESC | 0x7E) && !b.is_ascii_alphanumeric());
            let n = run.count().max(1);
            Err(drop_front(buf, n))
        }
    }
}

/// Decodes one reply from the engine with a fresh [`Decoder`] (scan mode).
pub fn decode(buf: &mut BytesMut) -> Result<Option<Reply>, DecodeError> {
    Decoder::new().decode(buf)
}

/// The engine-side decoder. Its only state is whether a Honeywell menu reply is awaited: while it
/// is, `CR`/`LF` belong to the reply's text (a `REVINF` answer spans lines) instead of ending a scan.
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    menu_pending: bool,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Call after sending a Honeywell menu command; cleared by the next menu reply.
    pub fn expect_menu_reply(&mut self) {
        self.menu_pending = true;
    }

    /// Whether a menu reply is still awaited.
    pub fn menu_pending(&self) -> bool {
        self.menu_pending
    }

    /// Decodes one reply. `Ok(None)`: need more bytes (only empty frames were consumed). An error
    /// reports every byte it consumed, empty frames before the garbage included.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Reply>, DecodeError> {
        let mut blank = 0;
        if !self.menu_pending {
            blank = buf.iter().take_while(|&&b| b == CR || b == LF).count();
            buf.advance(blank);
        }
        self.decode_frame(buf).map_err(|e| match e {
            DecodeError::Garbage { dropped } => DecodeError::Garbage { dropped: dropped + blank },
            DecodeError::Overlong { dropped } => DecodeError::Overlong { dropped: dropped + blank },
        })
    }

    fn decode_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Reply>, DecodeError> {
        let Some(&first) = buf.first() else { return Ok(None) };
        if first == STX {
            return decode_unified(buf);
        }
        if let Some(status) = Status::from_byte(first) {
            buf.advance(1);
            return Ok(Some(Reply::Status(status)));
        }
        if is_garbage(first) {
            let n = buf.iter().take_while(|&&b| is_garbage(b)).count();
            return Err(drop_front(buf, n));
        }
        self.decode_text(buf)
    }

    /// Ends a frame on silence: for engines configured without a suffix, the driver calls this when
    /// no byte arrived for the idle gap. Pending text becomes a scan; a pending half of a command
    /// reply (which has its own end marker) is garbage.
    pub fn decode_idle(&mut self, buf: &mut BytesMut) -> Result<Option<Reply>, DecodeError> {
        if let Some(reply) = self.decode(buf)? {
            return Ok(Some(reply));
        }
        if buf.is_empty() {
            return Ok(None);
        }
        if self.menu_pending || buf[0] == STX || buf.iter().any(|&b| Status::from_byte(b).is_some()) {
            self.menu_pending = false;
            return Err(drop_front(buf, buf.len()));
        }
        let data = buf.split().to_vec();
        Ok(Some(Reply::Scan(ScanData::new(data))))
    }

    /// Text starting at `buf[0]` (printable): a scan up to `CR`/`LF`, or a Honeywell menu reply up
    /// to a status byte and `.`/`!`.
    fn decode_text(&mut self, buf: &mut BytesMut) -> Result<Option<Reply>, DecodeError> {
        let mut worst: Option<Status> = None;
        let mut i = 0;
        while i < buf.len() {
            let b = buf[i];
            if (b == CR || b == LF) && !self.menu_pending {
                let data = buf[..i].to_vec();
                buf.advance(i + 1);
                if b == CR && buf.first() == Some(&LF) {
                    buf.advance(1);
                }
                return Ok(Some(Reply::Scan(ScanData::new(data))));
            }
            if let Some(status) = Status::from_byte(b) {
                let Some(&next) = buf.get(i + 1) else { return Ok(None) };
                worst = Some(worse(worst, status));
                match next {
                    b';' => {
                        i += 2;
                        continue;
                    }
                    b'.' | b'!' => {
                        let text: Vec<u8> =
                            buf[..i].iter().copied().filter(|&b| Status::from_byte(b).is_none()).collect();
                        let persistence =
                            if next == b'.' { Persistence::Saved } else { Persistence::Temporary };
                        buf.advance(i + 2);
                        self.menu_pending = false;
                        let text = String::from_utf8_lossy(&text).into_owned();
                        return Ok(Some(Reply::Menu { text, status: worse(worst, status), persistence }));
                    }
                    _ => return Err(drop_front(buf, i + 1)),
                }
            }
            if b == STX {
                // A unified reply starts inside unterminated text: the text was a torn frame.
                return Err(drop_front(buf, i));
            }
            if is_garbage(b) {
                return Err(drop_front(buf, i + 1));
            }
            i += 1;
            if i > MAX_FRAME {
                return Err(drop_overlong(buf));
            }
        }
        Ok(None)
    }
}

/// `02 01 30 30 30 30` + echo + status + `3B 03`.
fn decode_unified(buf: &mut BytesMut) -> Result<Option<Reply>, DecodeError> {
    let have = buf.len().min(NEWLAND_UNIFIED_REPLY.len());
    if buf[..have] != NEWLAND_UNIFIED_REPLY[..have] {
        return Err(drop_front(buf, 1));
    }
    let head = NEWLAND_UNIFIED_REPLY.len();
    let mut i = head;
    while i < buf.len() {
        let b = buf[i];
        if let Some(status) = Status::from_byte(b) {
            let (Some(&semi), Some(&etx)) = (buf.get(i + 1), buf.get(i + 2)) else { return Ok(None) };
            if [semi, etx] != NEWLAND_UNIFIED_END {
                return Err(drop_front(buf, i + 1));
            }
            let text = String::from_utf8_lossy(&buf[head..i]).into_owned();
            buf.advance(i + 3);
            return Ok(Some(Reply::Unified { text, status }));
        }
        if b < 0x20 {
            return Err(drop_front(buf, i + 1));
        }
        i += 1;
        if i > MAX_FRAME {
            return Err(drop_overlong(buf));
        }
    }
    Ok(None)
}

/// A byte no reply shape allows where a frame starts: control bytes other than TAB, CR, LF, STX and
/// the status bytes. (`DEL` and bytes ≥ 0x80 are allowed: symbols may carry UTF-8 or GB18030 text.)
fn is_garbage(b: u8) -> bool {
    b < 0x20 && !matches!(b, TAB | CR | LF | STX) && Status::from_byte(b).is_none()
}

fn worse(a: Option<Status>, b: Status) -> Status {
    let rank = |s: Status| match s {
        Status::Ack => 0,
        Status::Enq => 1,
        Status::Nak => 2,
    };
    match a {
        Some(a) if rank(a) > rank(b) => a,
        _ => b,
    }
}

fn drop_front(buf: &mut BytesMut, n: usize) -> DecodeError {
    let n = n.clamp(1, buf.len().max(1)).min(buf.len());
    buf.advance(n);
    DecodeError::Garbage { dropped: n }
}

fn drop_overlong(buf: &mut BytesMut) -> DecodeError {
    let dropped = buf.len();
    buf.clear();
    DecodeError::Overlong { dropped }
}
