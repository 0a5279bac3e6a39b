//! [`BillAcceptor`]: the acceptor on its serial line, command by command.
//!
//! The driver only speaks: it polls, sends STACK, RETURN, ACK and the settings, and tells what
//! came back. What a status means for money — journal the escrow before STACK, credit at VEND
//! VALID before the ACK, decide a power-up with a note inside from the journal — is the payment
//! machine's (payments.md §8, kiosk-core), never decided here.
//!
//! A status request, a setting or a request whose answer is lost or damaged is sent again (at
//! most [`ATTEMPTS`] times): asking twice changes nothing on the head. An operation command
//! (STACK, RETURN…) is sent once; when its answer is lost the outcome is unknown
//! ([`AcceptorError::is_indeterminate`]) and the next status poll tells whether the head took
//! it. Any command the head answers with COMMUNICATION ERROR (`4A`: it got our frame damaged, so
//! it did nothing) is sent again.
//!
//! The settings sent (notes taken, inhibit) are remembered and sent again after every RESET or
//! power-up, once a poll shows the head ready for them (INITIALIZE, DISABLE or ENABLE): a head
//! comes out of a reset with its defaults, which would take notes the kiosk cannot. The mask
//! goes first and the inhibit last, so the head is never open to notes it should refuse.

use crate::command::{Answer, Command, DenominationMask};
use crate::config::CashConfig;
use crate::frame::take_frame;
use crate::reply::{parse, Assignment, Reply, ReplyError, Status};
use device::reconnect::{BackoffPolicy, Connector, Reconnecting};
use device::serial::SerialConnector;
use device::{DeviceState, DeviceStatus, MediaState, Timing, TransportError};
use kiosk_core::cash::{BillInside, CashEffect, Head, Limit};
use kiosk_core::Fen;
use std::convert::Infallible;
use tokio::time::Instant;

/// How often a harmless exchange is tried before its failure is reported.
pub const ATTEMPTS: usize = 3;

/// Why an exchange with the acceptor failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptorError {
    /// The line: port gone, nothing or half a frame within the deadline.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A frame that cannot be read.
    #[error("unreadable reply: {0}")]
    Reply(#[from] ReplyError),
    /// INVALID COMMAND: the command does not fit the head's state (STACK with no note in escrow).
    #[error("the acceptor refused {0:?} in its present state")]
    Refused(Command),
    /// An answer of the wrong kind (an echo that differs from the setting sent, a status to an
    /// operation).
    #[error("the acceptor answered {got:?} to {sent:?}")]
    Unexpected {
        /// The command sent.
        sent: Command,
        /// What came back.
        got: Reply,
    },
}

/// What the acceptor knows beyond online/offline, for `yizhan devices` and the staff panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CashDetail {
    /// The last status polled.
    pub status: Option<Status>,
    /// The notes the head reports (from its currency assignment) that the kiosk takes.
    pub taken: Vec<Fen>,
}

/// A JCM ID-003 banknote acceptor.
#[derive(Debug)]
pub struct BillAcceptor<C: Connector = SerialConnector> {
    port: Reconnecting<C>,
    timing: Timing,
    accepted: Vec<Fen>,
    assignments: Vec<Assignment>,
    /// The last status polled, and when.
    last: Option<(Status, Instant)>,
    /// The status before `last`: a FAILURE right after ACCEPTING caught a note on its way in.
    before: Option<Status>,
    /// The settings last sent, one per command code, to send again after a RESET.
    settings: Vec<Command>,
    /// A RESET was sent or a power-up seen: the settings are due at the next ready poll.
    settings_due: bool,
}

/// How long a polled status may stand for a fresh one in [`BillAcceptor::device_status`].
const FRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// The order settings are sent in: the inhibit (`C3`) last.
fn setting_order(cmd: &Command) -> u8 {
    match cmd {
        Command::Inhibit(_) => u8::MAX,
        other => other.code(),
    }
}

impl AcceptorError {
    /// Whether the command may or may not have been carried out (no answer, or an answer that
    /// cannot be read): poll the status before acting on it. `false` when the head answered
    /// and refused, so nothing was done.
    pub fn is_indeterminate(&self) -> bool {
        matches!(self, AcceptorError::Transport(_) | AcceptorError::Reply(_))
    }
}

impl BillAcceptor<SerialConnector> {
    /// The acceptor of a `kiosk.toml` entry. Does not open the port yet.
    pub fn from_config(cfg: &CashConfig) -> Result<Self, AcceptorError> {
        cfg.validate()?;
        let accepted = cfg.accepted_yuan.iter().map(|&yuan| Fen(i64::from(yuan) * 100)).collect();
        Ok(BillAcceptor::new(SerialConnector::new(cfg.serial.clone()), cfg.backoff(), cfg.timing(), accepted))
    }
}

impl<C: Connector> BillAcceptor<C> {
    /// An acceptor reached through `connector`, taking the notes `accepted`.
    pub fn new(connector: C, backoff: BackoffPolicy, timing: Timing, accepted: Vec<Fen>) -> Self {
        BillAcceptor {
            port: Reconnecting::new(connector, backoff),
            timing,
            accepted,
            assignments: Vec::new(),
            last: None,
            before: None,
            settings: Vec::new(),
            settings_due: false,
        }
    }

    /// One command and its answer: again when the head got it damaged, and for a harmless
    /// command also when the answer is lost or damaged.
    async fn exchange(&mut self, cmd: Command) -> Result<Reply, AcceptorError> {
        let bytes = cmd.encode();
        if cmd.answer() == Answer::Nothing {
            self.port.send(&bytes, self.timing).await?;
            return Ok(Reply::Ack);
        }
        let harmless = cmd.answer() != Answer::Ack;
        let decode = |buf: &mut bytes::BytesMut| Ok::<_, Infallible>(take_frame(buf));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.port.request(&bytes, decode, self.timing).await {
                Ok(Ok(frame)) => match parse(&frame)? {
                    Reply::Status(Status::CommunicationError) if attempt < ATTEMPTS => {
                        tracing::debug!(attempt, "the acceptor got our frame damaged; sent again");
                        continue;
                    }
                    reply => return Ok(reply),
                },
                Ok(Err(never)) => match never {},
                Err(e) => e,
            };
            tracing::debug!(attempt, error = %error, "no acceptor reply");
            if !harmless || attempt >= ATTEMPTS {
                return Err(error.into());
            }
        }
    }

    /// The last status polled.
    pub fn last_status(&self) -> Option<Status> {
        self.last.map(|(status, _)| status)
    }

    /// Polls the status.
    pub async fn status(&mut self) -> Result<Status, AcceptorError> {
        let status = match self.exchange(Command::StatusRequest).await? {
            Reply::Status(status) => status,
            got => return Err(AcceptorError::Unexpected { sent: Command::StatusRequest, got }),
        };
        if self.last_status() != Some(status) {
            tracing::debug!(?status, "acceptor status");
        }
        self.before = self.last_status();
        self.last = Some((status, Instant::now()));
        if status.is_power_up() {
            self.settings_due = true;
        }
        if self.settings_due && matches!(status, Status::Initialize | Status::Disable | Status::Enable) {
            // Cleared only once every setting went through: a failure is tried at the next poll.
            for setting in self.settings.clone() {
                self.send_setting(setting).await?;
            }
            self.settings_due = false;
        }
        Ok(status)
    }

    /// Sends an operation command (RESET, STACK-1, STACK-2, RETURN, HOLD, WAIT) and waits for
    /// its ACK.
    pub async fn operate(&mut self, cmd: Command) -> Result<(), AcceptorError> {
        debug_assert_eq!(cmd.answer(), Answer::Ack, "{cmd:?} is not an operation command");
        if cmd == Command::Reset {
            // Even if its ACK is lost the head may have reset: the settings go again either way.
            self.settings_due = true;
        }
        match self.exchange(cmd).await? {
            Reply::Ack => Ok(()),
            Reply::InvalidCommand => Err(AcceptorError::Refused(cmd)),
            got => Err(AcceptorError::Unexpected { sent: cmd, got }),
        }
    }

    /// ACKs a VEND VALID: only after the credit is journaled. Unanswered; if it is lost the head
    /// repeats VEND VALID and it is sent again.
    pub async fn acknowledge_vend_valid(&mut self) -> Result<(), AcceptorError> {
        self.exchange(Command::Ack).await.map(drop)
    }

    /// Sends a setting, checks that the head echoes it, and remembers it for after a RESET.
    pub async fn set(&mut self, cmd: Command) -> Result<(), AcceptorError> {
        debug_assert_eq!(cmd.answer(), Answer::Echo, "{cmd:?} is not a setting");
        self.settings.retain(|kept| kept.code() != cmd.code());
        self.settings.push(cmd);
        self.settings.sort_by_key(setting_order);
        self.send_setting(cmd).await
    }

    /// A setting is taken when the head echoes it, as ID-003 heads do, or acknowledges it
    /// (hardware.md §9 does not say which). An echo with other data is taken with a warning:
    /// the kiosk never relies on the mask alone (a note it does not take goes back, `head`).
    async fn send_setting(&mut self, cmd: Command) -> Result<(), AcceptorError> {
        match self.exchange(cmd).await? {
            // Inhibit echoed otherwise: the head may be taking notes when we said stop.
            Reply::Echo { cmd: code, data }
                if code == cmd.code() && matches!(cmd, Command::Inhibit(_)) && data != cmd.data() =>
            {
                Err(AcceptorError::Unexpected { sent: cmd, got: Reply::Echo { cmd: code, data } })
            }
            Reply::Echo { cmd: code, data } if code == cmd.code() => {
                if data != cmd.data() {
                    tracing::warn!(?cmd, ?data, "the acceptor echoed a setting with other data");
                }
                Ok(())
            }
            Reply::Ack => Ok(()),
            Reply::InvalidCommand => Err(AcceptorError::Refused(cmd)),
            got => Err(AcceptorError::Unexpected { sent: cmd, got }),
        }
    }

    /// The head's software version.
    pub async fn version(&mut self) -> Result<String, AcceptorError> {
        match self.exchange(Command::VersionRequest).await? {
            Reply::Version(v) => Ok(v),
            got => Err(AcceptorError::Unexpected { sent: Command::VersionRequest, got }),
        }
    }

    /// Reads which escrow code means which note, and keeps it for [`BillAcceptor::value_of`].
    pub async fn read_currency_assignment(&mut self) -> Result<&[Assignment], AcceptorError> {
        match self.exchange(Command::CurrencyAssignmentRequest).await? {
            Reply::Currency(lines) => {
                self.assignments = lines;
                Ok(&self.assignments)
            }
            got => Err(AcceptorError::Unexpected { sent: Command::CurrencyAssignmentRequest, got }),
        }
    }

    /// The value of the note of `escrow_code`, from the assignment read; `None` for a code the
    /// head did not list (such a note is returned, never credited).
    pub fn value_of(&self, escrow_code: u8) -> Option<Fen> {
        self.assignments.iter().find(|a| a.escrow_code == escrow_code).map(|a| a.value)
    }

    /// The mask that takes the configured notes of at most `most` fen each (`None`: no limit),
    /// from the assignment read: as the amount still due falls, the larger notes are refused,
    /// because the kiosk gives no change.
    pub fn mask_up_to(&self, most: Option<Fen>) -> DenominationMask {
        DenominationMask::only(
            self.assignments
                .iter()
                .filter(|a| self.accepted.contains(&a.value) && most.is_none_or(|most| a.value <= most))
                .map(|a| a.escrow_code),
        )
    }

    /// What `status` means for the money rules (`kiosk_core::cash`), with the value of a note in
    /// escrow from the currency assignment read.
    pub fn head(&self, status: Status) -> Head {
        match status {
            Status::Enable | Status::Disable => Head::Idle,
            Status::Stacked => Head::Stacked,
            Status::Accepting | Status::Stacking | Status::Holding | Status::Pause | Status::Initialize => {
                Head::Busy
            }
            // A note the kiosk does not take is "of no known value", so it goes back, even if
            // the head escrowed it against the mask we sent.
            Status::Escrow(code) => Head::Escrow(self.value_of(code).filter(|v| self.accepted.contains(v))),
            Status::VendValid => Head::VendValid,
            Status::Rejecting(_) | Status::Returning => Head::Returned,
            Status::PowerUp => Head::PowerUp(BillInside::None),
            Status::PowerUpBillInAcceptor => Head::PowerUp(BillInside::Acceptor),
            Status::PowerUpBillInStacker => Head::PowerUp(BillInside::Stacker),
            Status::AcceptorJam => Head::Jam,
            // A failure while a note was being drawn in has caught it, value unknown.
            Status::Failure(_) if self.before == Some(Status::Accepting) => Head::Jam,
            Status::StackerJam | Status::Failure(_) => Head::Fault,
            Status::Cheated => Head::Cheated,
            Status::StackerFull | Status::StackerOpen => Head::BoxUnavailable,
            // The head got our last frame damaged: nothing happened to a note.
            Status::CommunicationError => Head::Busy,
        }
    }

    /// Carries out one effect of the money rules, after the runtime has journaled the intake.
    /// `Paid` is the payment's, not the head's: nothing is sent for it.
    pub async fn carry_out(&mut self, effect: CashEffect) -> Result<(), AcceptorError> {
        match effect {
            CashEffect::Stack => self.operate(Command::Stack1).await,
            CashEffect::Return => self.operate(Command::Return).await,
            CashEffect::AckVendValid => self.acknowledge_vend_valid().await,
            CashEffect::Reset => self.operate(Command::Reset).await,
            CashEffect::TakeNotes(Limit::Stop) => self.set(Command::Inhibit(true)).await,
            CashEffect::TakeNotes(limit) => {
                let most = match limit {
                    Limit::UpTo(most) => Some(most),
                    _ => None,
                };
                self.set(Command::Denominations(self.mask_up_to(most))).await?;
                self.set(Command::Inhibit(false)).await
            }
            CashEffect::Paid => Ok(()),
        }
    }

    /// The notes the head lists that the kiosk takes, smallest first.
    pub fn notes_taken(&self) -> Vec<Fen> {
        let mut notes: Vec<Fen> =
            self.assignments.iter().map(|a| a.value).filter(|v| self.accepted.contains(v)).collect();
        notes.sort();
        notes.dedup();
        notes
    }

    /// The status for the device model: online when idle or inhibited, a person needed for a
    /// full or open box, a jam or a cheat, a fault for a failure. While a note is in hand the
    /// last polled status, if fresh, is reported without a poll of its own: the payment's poll
    /// must see every step of the note (a STACKED or REJECTING is shown once). A status older
    /// than two seconds is polled again, so a box pulled after the last payment is noticed.
    pub async fn device_status(&mut self) -> DeviceStatus<CashDetail> {
        let status = match self.last {
            Some((status, at)) if status.note_in_hand() && at.elapsed() < FRESH => Ok(status),
            _ => self.status().await,
        };
        let detail = CashDetail { status: self.last_status(), taken: self.notes_taken() };
        let status = match status {
            Ok(status) => status,
            Err(AcceptorError::Transport(_)) => return DeviceStatus::offline(detail),
            Err(_) => {
                return DeviceStatus {
                    device: DeviceState::HardwareError,
                    media: MediaState::Unknown,
                    detail,
                }
            }
        };
        let (device, media) = match status {
            Status::Enable | Status::Disable | Status::Stacked => {
                (DeviceState::Online, MediaState::NotPresent)
            }
            Status::Accepting | Status::Escrow(_) | Status::Holding => {
                (DeviceState::Busy, MediaState::Present)
            }
            Status::Stacking | Status::VendValid => (DeviceState::Busy, MediaState::Entering),
            Status::Rejecting(_) | Status::Returning => (DeviceState::Busy, MediaState::Present),
            Status::Initialize | Status::Pause => (DeviceState::Busy, MediaState::Unknown),
            Status::PowerUp => (DeviceState::Busy, MediaState::NotPresent),
            Status::PowerUpBillInAcceptor | Status::PowerUpBillInStacker => {
                (DeviceState::Busy, MediaState::Present)
            }
            Status::AcceptorJam | Status::StackerJam => (DeviceState::UserError, MediaState::Jammed),
            Status::StackerFull | Status::StackerOpen | Status::Cheated => {
                (DeviceState::UserError, MediaState::Unknown)
            }
            Status::Failure(_) | Status::CommunicationError => {
                (DeviceState::HardwareError, MediaState::Unknown)
            }
        };
        DeviceStatus { device, media, detail }
    }
}
