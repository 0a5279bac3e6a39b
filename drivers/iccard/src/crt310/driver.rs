//! The CRT-310 motorised reader over any byte stream (hardware.md §2.1–2.2, §2.5).
//!
//! One exchange is: command frame → reader `ACK` (or `NAK` on a BCC error: resend; nothing within
//! 300 ms: resend) → host `ENQ` → the reader executes → reply frame. Resending before `ENQ` is
//! always safe (nothing was executed yet). After `ENQ`, a lost or garbled reply is only asked
//! again for commands that do no harm twice ([`Command::is_idempotent`]); for a move, a PSC
//! presentation or a write, the caller checks the effect by reading. When a reply never comes,
//! the driver sends `EOT` ("discontinue") so the reader drops the command.
//!
//! `Reset` must be the first command after power-up: the driver sends it (leaving any card where
//! it is) before the first command and after every reconnect.

use super::IcType;
use crate::error::{CardError, CardKind, DecodeError, ReaderError};
use crate::reader::{CardPresence, ContactReader, Psc, PscAnswer};
use device::crt310::{
    self, CardPosition, Command, Crt310Port, ErrorCode, ExchangeError, ExchangeTiming, FrontEntry, MoveTo,
    Operation, ReaderStatus, ResetMode, SleCommand,
};
use device::reconnect::{BackoffPolicy, Connector};
use device::sle4442::MemoryOp;
use device::AnyConnector;
use std::time::Duration;

/// Deadlines and retries of the CRT-310 exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crt310Timing {
    /// Wait for `ACK` before resending (300 ms, hardware.md §2.1).
    pub ack: Duration,
    /// Deadline of a reply to an ordinary command.
    pub command: Duration,
    /// Deadline of a reply to a move or reset (mechanics take 0.3–2 s; ≥ 5 s).
    pub motion: Duration,
    /// Longest silence inside a reply.
    pub inter_byte: Duration,
    /// Sends of one command frame before giving up on `ACK`.
    pub attempts: u8,
}

impl Default for Crt310Timing {
    fn default() -> Self {
        Crt310Timing {
            ack: Duration::from_millis(300),
            command: Duration::from_secs(2),
            motion: Duration::from_secs(10),
            inter_byte: Duration::from_millis(80),
            attempts: 3,
        }
    }
}

/// A CRT-310 reader.
#[derive(Debug)]
pub struct Crt310Reader<C: Connector = AnyConnector> {
    port: Crt310Port<C>,
    timing: Crt310Timing,
    initialised: bool,
    firmware: Option<String>,
    /// How this reader answers an SLE4442 read, learnt from the card reset's reply.
    sle_form: Option<SleReplyForm>,
}

/// hardware.md §3.2 gives the CRT-310's SLE4442 reads their data alone (`38 30` → the 4-byte
/// ATR, `38 33` → EC + 3 bytes); firmware that answers them like its other commands puts the
/// operation byte P first. A reader keeps to one form, so the first card reset tells which:
/// 4 bytes, or P + 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SleReplyForm {
    /// The data alone; a lone P byte other than `Y` reports a failure.
    Bare,
    /// P, then the data.
    WithOperationByte,
}

/// How many bytes of data an SLE4442 read answers with; `None` for the commands answered by a
/// P byte alone (the PSC, a write).
fn sle_read_len(cmd: &SleCommand) -> Option<usize> {
    match cmd {
        SleCommand::Reset => Some(4),
        SleCommand::Memory(MemoryOp::ReadMain { len, .. }) => Some(usize::from(*len)),
        // 32 protection bits, one byte each (§3.2: "`38 32` → 32 bytes").
        SleCommand::Memory(MemoryOp::ReadProtection) => Some(32),
        SleCommand::Memory(MemoryOp::ReadSecurity) => Some(4),
        SleCommand::Memory(MemoryOp::VerifyPsc(_) | MemoryOp::UpdateMain { .. }) => None,
    }
}

/// Which form `data`, the reply to a read of `len` bytes, is in, when the reader's form is
/// not known yet: the bare form is exactly `len` bytes (a lone byte that could be P counts as P).
fn guess_sle_form(data: &[u8], len: usize) -> SleReplyForm {
    let lone_p = len == 1 && data.first().is_some_and(|&b| Operation::try_from(b).is_ok());
    if data.len() == len && !lone_p {
        SleReplyForm::Bare
    } else {
        SleReplyForm::WithOperationByte
    }
}

/// The data of an SLE4442 read's reply in `form`.
fn sle_read_data(data: &[u8], len: usize, form: SleReplyForm) -> Result<Vec<u8>, CardError> {
    match form {
        SleReplyForm::WithOperationByte => op_result(data, None).map(<[u8]>::to_vec),
        SleReplyForm::Bare if data.len() == len => Ok(data.to_vec()),
        // A bare reader reports a failed read with a lone P byte.
        SleReplyForm::Bare if data.len() == 1 => op_result(data, None)
            .and_then(|_| Err(ReaderError::Decode(DecodeError::Malformed("read length")).into())),
        SleReplyForm::Bare => Err(ReaderError::Decode(DecodeError::Malformed("read length")).into()),
    }
}

fn retryable(e: &CardError) -> bool {
    matches!(e, CardError::Reader(ReaderError::Decode(_) | ReaderError::ReplyLost | ReaderError::Mismatch))
}

/// The shared exchange's errors in this crate's terms.
fn card_error(e: ExchangeError) -> CardError {
    match e {
        ExchangeError::Transport(t) => t.into(),
        ExchangeError::NoAck { attempts } => ReaderError::NoAck { attempts }.into(),
        ExchangeError::ReplyLost => ReaderError::ReplyLost.into(),
        ExchangeError::BadReply(d) => ReaderError::Decode(decode_error(d)).into(),
        ExchangeError::Refused { cm, error } => {
            tracing::warn!(cm, ?error, "crt310: negative reply");
            match error {
                ErrorCode::SupplyVoltage => ReaderError::Hardware("supply voltage out of range"),
                ErrorCode::MainPowerLost => ReaderError::Hardware("main power lost"),
                ErrorCode::AbnormalCard => ReaderError::Hardware("abnormal card inside"),
                code => ReaderError::Negative { cm, code },
            }
            .into()
        }
        _ => ReaderError::Mismatch.into(),
    }
}

fn decode_error(e: crt310::DecodeError) -> DecodeError {
    match e {
        crt310::DecodeError::Frame(crt310::FrameError::BadBcc { expected, actual }) => {
            DecodeError::BadChecksum { expected, actual }
        }
        crt310::DecodeError::Frame(crt310::FrameError::BadLength(len)) => DecodeError::BadLength(len),
        crt310::DecodeError::Frame(_) => DecodeError::MissingEtx,
        crt310::DecodeError::Reply(crt310::ReplyError::TooShort(len)) => DecodeError::BadLength(len),
        _ => DecodeError::Malformed("negative reply"),
    }
}

impl<C: Connector> Crt310Reader<C> {
    /// A reader reached through `connector`; the port opens on the first command.
    pub fn new(connector: C, timing: Crt310Timing, backoff: BackoffPolicy) -> Self {
        let exchange =
            ExchangeTiming { ack: timing.ack, inter_byte: timing.inter_byte, attempts: timing.attempts };
        Crt310Reader {
            port: Crt310Port::new(connector, exchange, backoff),
            timing,
            initialised: false,
            firmware: None,
            sle_form: None,
        }
    }

    /// The firmware string the last reset returned ("CRT 310 V3.0").
    pub fn firmware(&self) -> Option<&str> {
        self.firmware.as_deref()
    }

    fn deadline(&self, cmd: &Command) -> Duration {
        match cmd {
            Command::Move(_) | Command::Reset(_) => self.timing.motion,
            _ => self.timing.command,
        }
    }

    /// Runs one command: handshake, retries as the module docs say, negative replies as errors.
    /// Returns the positive reply's data. Initialises the reader first when needed.
    pub async fn command(&mut self, cmd: &Command) -> Result<Vec<u8>, CardError> {
        if !self.initialised && !matches!(cmd, Command::Reset(_)) {
            self.init(ResetMode::Keep).await?;
        }
        self.raw_command(cmd).await
    }

    async fn raw_command(&mut self, cmd: &Command) -> Result<Vec<u8>, CardError> {
        let tries = if cmd.is_idempotent() { 3 } else { 1 };
        let mut last = None;
        for _ in 0..tries {
            match self.port.exchange(cmd, self.deadline(cmd)).await {
                Ok(data) => return Ok(data),
                Err(e) => {
                    if e.is_link_lost() {
                        // The reader must be reset again once the port is back.
                        self.initialised = false;
                    }
                    let e = card_error(e);
                    if !retryable(&e) {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(CardError::Reader(ReaderError::ReplyLost)))
    }

    /// Resets the reader (the first command after power-up); returns its firmware string.
    pub async fn init(&mut self, mode: ResetMode) -> Result<String, CardError> {
        let data = self.raw_command(&Command::Reset(mode)).await?;
        let fw: String =
            data.iter().filter(|b| b.is_ascii_graphic() || **b == b' ').map(|&b| b as char).collect();
        tracing::info!(firmware = %fw, "crt310: reader initialised");
        self.initialised = true;
        self.firmware = Some(fw.clone());
        Ok(fw)
    }

    /// Reader status S1 S2 S3. `None` when S1 is a position hardware.md §2.2 does not list: the
    /// reader answered, but not with a place a card can be; the kiosk treats it as an abnormal
    /// card (staff), never as "no card here".
    pub async fn status(&mut self) -> Result<Option<ReaderStatus>, CardError> {
        let data = self.command(&Command::Status).await?;
        if data.len() < 3 {
            return Err(ReaderError::Decode(DecodeError::Malformed("status")).into());
        }
        Ok(ReaderStatus::from_data(&data))
    }

    /// The contact IC card's type.
    pub async fn detect_ic_type(&mut self) -> Result<IcType, CardError> {
        match self.command(&Command::DetectIcType).await?.as_slice() {
            [s1, s2, ..] => Ok(IcType::from_bytes(*s1, *s2)),
            _ => Err(ReaderError::Decode(DecodeError::Malformed("ic type")).into()),
        }
    }

    /// Which cards may enter: by the front switch (any card) or none; never from the rear.
    pub async fn accept_cards(&mut self, allow: bool) -> Result<(), CardError> {
        let front = if allow { FrontEntry::Switch } else { FrontEntry::Forbidden };
        self.command(&Command::CardIn { front, rear_allowed: false }).await.map(drop)
    }

    /// Moves the card.
    pub async fn move_card(&mut self, to: MoveTo) -> Result<(), CardError> {
        let data = self.command(&Command::Move(to)).await?;
        op_result(&data, None).map(drop)
    }

    /// An SLE4442 pass-through command; returns the data it read (without a P byte, in
    /// either of the reply forms of [`SleReplyForm`]), or nothing for the PSC and a write.
    pub async fn sle(&mut self, cmd: impl Into<SleCommand>) -> Result<Vec<u8>, CardError> {
        let cmd = cmd.into();
        let write_addr = match &cmd {
            SleCommand::Memory(op) => op.write_addr(),
            SleCommand::Reset => None,
        };
        let read_len = sle_read_len(&cmd);
        let is_reset = cmd == SleCommand::Reset;
        let data = self.command(&Command::Sle(cmd)).await?;
        let Some(len) = read_len else {
            return op_result(&data, write_addr).map(<[u8]>::to_vec);
        };
        let form = match self.sle_form {
            Some(form) if !is_reset => form,
            _ => guess_sle_form(&data, len),
        };
        let read = sle_read_data(&data, len, form);
        if is_reset && read.is_ok() {
            self.sle_form = Some(form);
        }
        read
    }
}

/// Interprets the P byte at the head of `data`; returns what follows it.
fn op_result(data: &[u8], write_addr: Option<u8>) -> Result<&[u8], CardError> {
    let Some((&p, rest)) = data.split_first() else {
        return Err(ReaderError::Decode(DecodeError::Malformed("no operation byte")).into());
    };
    match Operation::try_from(p) {
        Ok(Operation::Success) => Ok(rest),
        Ok(Operation::NoCard) => Err(CardError::CardRemoved),
        Ok(Operation::WrongPosition) => Err(ReaderError::NotInPosition.into()),
        Ok(Operation::Failure) => Err(match write_addr {
            Some(addr) => CardError::WriteFailed { addr },
            None => ReaderError::OperationFailed.into(),
        }),
        Err(_) => Err(ReaderError::Decode(DecodeError::Malformed("operation byte")).into()),
    }
}

impl<C: Connector> ContactReader for Crt310Reader<C> {
    fn kind(&self) -> &'static str {
        "crt310"
    }

    async fn presence(&mut self) -> Result<CardPresence, CardError> {
        let Some(status) = self.status().await? else { return Ok(CardPresence::Abnormal) };
        Ok(match status.position {
            CardPosition::NoCard | CardPosition::FrontNoHold => CardPresence::Absent,
            CardPosition::Gate => CardPresence::AtGate,
            CardPosition::Inside | CardPosition::InsideContacts | CardPosition::RearHold => {
                CardPresence::Inside
            }
            CardPosition::Captured => CardPresence::Captured,
            CardPosition::LongCard | CardPosition::ShortCard => CardPresence::Abnormal,
        })
    }

    async fn open_memory_card(&mut self) -> Result<(), CardError> {
        match self.status().await?.map(|s| s.position) {
            Some(CardPosition::InsideContacts) => {}
            Some(CardPosition::Inside | CardPosition::Gate | CardPosition::RearHold) => {
                self.move_card(MoveTo::IcContacts).await.map_err(removed_is_no_card)?;
            }
            Some(CardPosition::LongCard | CardPosition::ShortCard) | None => {
                return Err(ReaderError::Hardware("abnormal card inside").into())
            }
            Some(CardPosition::NoCard | CardPosition::FrontNoHold | CardPosition::Captured) => {
                return Err(CardError::NoCard)
            }
        }
        match self.detect_ic_type().await? {
            IcType::Sle4442 => {}
            IcType::NoCard => return Err(CardError::NoCard),
            IcType::CpuT0 | IcType::CpuT1 => {
                return Err(CardError::WrongCardType { found: CardKind::CpuCard })
            }
            IcType::Rf => return Err(CardError::WrongCardType { found: CardKind::Contactless }),
            IcType::Other(..) => return Err(CardError::WrongCardType { found: CardKind::OtherMemoryCard }),
        }
        let data = self.command(&Command::IcPower(true)).await?;
        op_result(&data, None).map_err(removed_is_no_card)?;
        let atr = self.sle(SleCommand::Reset).await.map_err(removed_is_no_card)?;
        if atr.first() != Some(&0xA2) {
            return Err(CardError::WrongCardType { found: CardKind::OtherMemoryCard });
        }
        Ok(())
    }

    async fn read_main(&mut self, addr: u8, len: u8) -> Result<Vec<u8>, CardError> {
        // A bare reader's one-byte answer could be a failure's lone P or a byte of data: read
        // two and keep the first, so that a failure stays a failure.
        let widen = len == 1 && addr < 0xFF && self.sle_form == Some(SleReplyForm::Bare);
        let asked = if widen { 2 } else { len };
        let mut data = self.sle(MemoryOp::ReadMain { addr, len: asked }).await?;
        if data.len() != usize::from(asked) {
            return Err(ReaderError::Decode(DecodeError::Malformed("read length")).into());
        }
        data.truncate(usize::from(len));
        Ok(data)
    }

    async fn read_security(&mut self) -> Result<[u8; 4], CardError> {
        let data = self.sle(MemoryOp::ReadSecurity).await?;
        data.get(..4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .ok_or(ReaderError::Decode(DecodeError::Malformed("security memory")).into())
    }

    async fn present_psc(&mut self, psc: &Psc) -> Result<PscAnswer, CardError> {
        match self.sle(MemoryOp::VerifyPsc(psc.bytes())).await {
            Ok(_) => Ok(PscAnswer::Accepted),
            Err(CardError::Reader(ReaderError::OperationFailed)) => Ok(PscAnswer::Refused),
            Err(e) if retryable(&e) => Ok(PscAnswer::Unknown),
            Err(e) => Err(e),
        }
    }

    async fn update_main(&mut self, addr: u8, data: &[u8]) -> Result<(), CardError> {
        self.sle(MemoryOp::UpdateMain { addr, data: data.to_vec() }).await.map(drop)
    }

    async fn close_card(&mut self) -> Result<(), CardError> {
        let data = self.command(&Command::IcPower(false)).await?;
        match op_result(&data, None) {
            Ok(_) | Err(CardError::CardRemoved) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn set_entry(&mut self, allow: bool) -> Result<(), CardError> {
        self.accept_cards(allow).await
    }

    async fn eject(&mut self) -> Result<(), CardError> {
        match self.move_card(MoveTo::Gate).await {
            Err(CardError::CardRemoved) => Ok(()),
            r => r,
        }
    }

    async fn capture(&mut self) -> Result<(), CardError> {
        self.move_card(MoveTo::Capture).await
    }
}

fn removed_is_no_card(e: CardError) -> CardError {
    match e {
        CardError::CardRemoved => CardError::NoCard,
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn malformed(r: Result<Vec<u8>, CardError>) -> bool {
        matches!(r, Err(CardError::Reader(ReaderError::Decode(_))))
    }

    #[test]
    fn a_reset_reply_tells_the_readers_sle_form() {
        // §3.2: "`38 30` reset → 4-byte ATR"; or P first.
        assert_eq!(guess_sle_form(&[0xA2, 0x13, 0x10, 0x91], 4), SleReplyForm::Bare);
        assert_eq!(guess_sle_form(&[0x59, 0xA2, 0x13, 0x10, 0x91], 4), SleReplyForm::WithOperationByte);
        // A lone byte that could be P is P until the form is known.
        assert_eq!(guess_sle_form(&[0x4E], 1), SleReplyForm::WithOperationByte);
        assert_eq!(guess_sle_form(&[0x07], 1), SleReplyForm::Bare);
    }

    #[test]
    fn sle_reads_in_either_form() {
        use SleReplyForm::*;
        // §3.2: "`38 33` → EC + 3 bytes".
        assert_eq!(sle_read_data(&[0x07, 0xFF, 0xFF, 0xFF], 4, Bare).unwrap(), [0x07, 0xFF, 0xFF, 0xFF]);
        let with_p = sle_read_data(&[0x59, 0x07, 0xFF, 0xFF, 0xFF], 4, WithOperationByte).unwrap();
        assert_eq!(with_p, [0x07, 0xFF, 0xFF, 0xFF]);
        // Once the form is known, a one-byte read of 'N' is data, not a failure.
        assert_eq!(sle_read_data(&[0x4E], 1, Bare).unwrap(), [0x4E]);
        // A bare reader's failures are a lone P byte.
        assert!(matches!(sle_read_data(&[0x45], 4, Bare), Err(CardError::CardRemoved)));
        assert!(matches!(
            sle_read_data(&[0x4E], 4, Bare),
            Err(CardError::Reader(ReaderError::OperationFailed))
        ));
        assert!(malformed(sle_read_data(&[0x59], 4, Bare)));
        assert!(malformed(sle_read_data(&[0x07, 0xFF, 0xFF], 4, Bare)));
        assert!(malformed(sle_read_data(&[], 4, WithOperationByte)));
    }
}
