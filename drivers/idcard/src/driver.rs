//! [`IdCardReader`]: the async API the kiosk uses (hardware.md §1.7).
//!
//! `read_card(deadline)`: with a slot, wait for a card to be inserted and hold it over the
//! antenna; then `11 FF` once per connection (a `60` self-test failure gets one `10 FF` reset),
//! poll `20 01` until `9F`, `20 02`, `30 01`, parse and validate the text block. Line noise
//! (bad checksums, truncated replies, SW3 `10`/`11`) is retried; a `41` (card moved mid-read)
//! restarts the find/select/read sequence up to twice. A forced eject (the red button) ends the
//! call at once with [`IdError::ForceEjected`], whatever step it was in: the pending SAM request
//! future is dropped (the next request discards its late reply) and the slot task ejects.
//!
//! After a read the card stays in the slot; end the session with [`IdCardReader::eject`] (and
//! drop the [`IdCard`], which wipes it).

use crate::button::{self, ButtonInput, ButtonTask};
use crate::codec::{self, DecodeError};
use crate::config::{ButtonKind, IdReaderConfig};
use crate::event::IdEvent;
use crate::frame::{Command, Reply, SamError, Sw3};
use crate::slot::{self, SlotError, SlotHandle, SlotPort, SlotStatus, SlotTask};
use crate::text::{IdCard, TextError, TEXT_LEN};
use catalogue::Text;
use device::link::Timing;
use device::reconnect::{BackoffPolicy, Connector, Reconnecting};
use device::serial::SerialConnector;
use device::{AnyConnector, DeviceState, DeviceStatus, MediaState, TransportError};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// Why no card data came back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The SAM answered with a failing status.
    #[error(transparent)]
    Sam(#[from] SamError),
    /// The SAM's reply was garbled (after retries).
    #[error("garbled reply from the ID reader: {0}")]
    Decode(#[from] DecodeError),
    /// The reply was well-formed but not what the command returns.
    #[error("unexpected reply from the ID reader: {0}")]
    Malformed(&'static str),
    /// The card's text block is not a valid ID card.
    #[error("ID card data invalid: {0}")]
    Text(#[from] TextError),
    /// The SAM could not be reached.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The slot failed.
    #[error("ID slot: {0}")]
    Slot(SlotError),
    /// No card was presented before the deadline.
    #[error("no ID card presented")]
    NoCard,
    /// The deadline passed during the read.
    #[error("ID card read did not finish before its deadline")]
    Timeout,
    /// The forced-eject button was held: the read was abandoned and the card ejected.
    #[error("read abandoned: forced eject")]
    ForceEjected,
}

impl From<SlotError> for IdError {
    fn from(e: SlotError) -> Self {
        match e {
            SlotError::PreEmpted => IdError::ForceEjected,
            SlotError::Operation(slot::Operation::NoCard) => IdError::NoCard,
            other => IdError::Slot(other),
        }
    }
}

impl IdError {
    /// What the person at the kiosk reads.
    pub fn message(&self) -> Text {
        match self {
            IdError::Sam(e) => e.message(),
            IdError::Decode(_) | IdError::Malformed(_) => {
                Text::new("A communication error occurred while reading the ID card. Please insert it again.")
            }
            IdError::Text(_) => Text::new(
                "The ID card data could not be checked. Please use your own valid ID card, or ask staff.",
            ),
            IdError::Transport(_) => {
                Text::new("The ID card reader cannot be reached. Please ask a member of staff.")
            }
            IdError::Slot(e) if e.is_jam() => {
                Text::new("The card is stuck in the slot. Please ask staff to retrieve it.")
            }
            IdError::Slot(_) => Text::new("The ID card slot has a fault. Please ask a member of staff."),
            IdError::NoCard => Text::new("No ID card found. Please insert your ID card into the slot."),
            IdError::Timeout => {
                Text::new("Reading the ID card took too long. Please take your card and try again.")
            }
            IdError::ForceEjected => {
                Text::new("Your ID card has been returned as you asked. Please take it.")
            }
        }
    }

    /// True for failures a fresh find/select/read of the same card may cure.
    fn read_may_succeed_again(&self) -> bool {
        matches!(
            self,
            IdError::Sam(SamError::ReadFailed | SamError::SelectFailed | SamError::InfoLength)
                | IdError::Decode(_)
                | IdError::Malformed(_)
                | IdError::Transport(
                    TransportError::Timeout { .. } | TransportError::InterByteTimeout { .. }
                )
        )
    }

    /// The device state this error implies.
    pub fn device_state(&self) -> DeviceState {
        match self {
            IdError::Transport(e) if e.is_offline() => DeviceState::Offline,
            // A SAM that never answers is as good as powered off.
            IdError::Transport(TransportError::Timeout { .. }) => DeviceState::Offline,
            IdError::Sam(e) if e.is_reader_fault() => DeviceState::HardwareError,
            IdError::Slot(SlotError::OutOfService) => DeviceState::HardwareError,
            IdError::Slot(e) if e.is_jam() => DeviceState::HardwareError,
            // hardware.md §2.5: motor, supply and power faults put the slot out of service.
            IdError::Slot(SlotError::Refused(code)) if code.needs_staff() => DeviceState::HardwareError,
            _ => DeviceState::Online,
        }
    }
}

/// Timings of the SAM side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReaderTiming {
    /// Ordinary commands.
    pub command: Timing,
    /// `30 01` / `30 10`.
    pub read: Timing,
    /// Between find polls.
    pub find_interval: Duration,
    /// Slot polling while waiting for a card.
    pub insert_poll: Duration,
}

impl Default for ReaderTiming {
    fn default() -> Self {
        ReaderTiming {
            command: Timing::default(),
            read: Timing::new(Duration::from_secs(5), Duration::from_millis(80)),
            find_interval: Duration::from_millis(500),
            insert_poll: Duration::from_millis(200),
        }
    }
}

/// What only the ID reader reports in its [`DeviceStatus`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdReaderDetail {
    /// The SAM answered its self-test with `90`.
    pub sam_ok: bool,
    /// The slot's status, when there is a slot and it answered.
    pub slot: Option<SlotStatus>,
}

/// A resident ID card reader: a GA/T 467 SAM, optionally in a motorised slot with a forced-eject
/// button.
#[derive(Debug)]
pub struct IdCardReader<C: Connector = AnyConnector> {
    sam: Reconnecting<C>,
    timing: ReaderTiming,
    slot: Option<SlotHandle>,
    ready: bool,
    slot_task: Option<SlotTask>,
    button_task: Option<ButtonTask>,
}

impl IdCardReader<AnyConnector> {
    /// The reader of a `kiosk.toml` entry. Spawns the slot task and the button task (each owns
    /// its port), so this must run inside a tokio runtime. Opens no port yet.
    pub fn from_config(cfg: &IdReaderConfig) -> Result<Self, IdError> {
        cfg.validate()?;
        let timing = ReaderTiming {
            command: cfg.command_timing(),
            read: cfg.read_timing(),
            find_interval: Duration::from_millis(cfg.find_interval_ms),
            insert_poll: Duration::from_millis(cfg.insert_poll_ms),
        };
        let mut reader = IdCardReader::new(cfg.port().connector(None)?, timing, cfg.backoff());
        if let Some(s) = &cfg.slot {
            let port = SlotPort::new(SerialConnector::new(s.serial.clone()), s.timing(), s.serial.backoff());
            let (handle, task) = slot::service::spawn(port);
            if let Some(b) = &cfg.button {
                let input = match b.input {
                    ButtonKind::Lines => ButtonInput::Lines(SerialConnector::new(b.serial.clone())),
                    ButtonKind::Modem => ButtonInput::ModemLine {
                        serial: b.serial.clone(),
                        line: b.line,
                        active_low: b.active_low,
                        poll: Duration::from_millis(b.poll_ms),
                    },
                };
                let bt = button::spawn(input, b.timing(), b.serial.backoff(), handle.clone());
                reader.button_task = Some(bt);
            }
            reader.slot = Some(handle);
            reader.slot_task = Some(task);
        }
        Ok(reader)
    }
}

impl<C: Connector> IdCardReader<C> {
    /// A SAM reached through `connector`, without a slot.
    pub fn new(connector: C, timing: ReaderTiming, backoff: BackoffPolicy) -> Self {
        IdCardReader {
            sam: Reconnecting::new(connector, backoff),
            timing,
            slot: None,
            ready: false,
            slot_task: None,
            button_task: None,
        }
    }

    /// Adds a slot (already spawned with [`slot::service::spawn`]).
    pub fn with_slot(mut self, slot: SlotHandle) -> Self {
        self.slot = Some(slot);
        self
    }

    /// The slot, to hand to the session (eject at its end) or to another button.
    pub fn slot(&self) -> Option<&SlotHandle> {
        self.slot.as_ref()
    }

    /// Slot and button events (`None` without a slot).
    pub fn subscribe(&self) -> Option<broadcast::Receiver<IdEvent>> {
        self.slot.as_ref().map(SlotHandle::subscribe)
    }

    /// True while the SAM's port is open.
    pub fn is_connected(&self) -> bool {
        self.sam.is_connected()
    }

    /// Sends one command and returns its reply, retrying line noise (bad checksum either way,
    /// truncated or missing replies) up to 3 attempts. A failing SW3 is an error.
    pub async fn command(&mut self, cmd: Command) -> Result<Reply, IdError> {
        let is_read = matches!(cmd, Command::ReadTextPhoto | Command::ReadTextPhotoFingerprint);
        let timing = if is_read { self.timing.read } else { self.timing.command };
        let frame = codec::encode(cmd);
        let mut last = IdError::Malformed("no attempt");
        for attempt in 0..3 {
            if attempt > 0 {
                tracing::debug!(?cmd, attempt, error = %last, "id reader: retrying");
            }
            let noise = match self.sam.request(&frame, codec::decode, timing).await {
                Ok(Ok(reply)) => match reply.sw3.check() {
                    Ok(sw3) if sw3 == cmd.success() => return Ok(reply),
                    // hardware.md §1.4: 91 "no such item" answers only the reads of an
                    // optional item (the appended address, the fingerprint).
                    Ok(Sw3::NoContent)
                        if matches!(
                            cmd,
                            Command::ReadAppendedAddress | Command::ReadTextPhotoFingerprint
                        ) =>
                    {
                        return Ok(reply)
                    }
                    Ok(_) => return Err(IdError::Malformed("success status of another command")),
                    // The SAM saw a damaged frame and did nothing: always safe to resend.
                    Err(e) if e.is_retryable() => {
                        last = e.into();
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                },
                Ok(Err(e)) => IdError::from(e),
                Err(e @ (TransportError::Timeout { .. } | TransportError::InterByteTimeout { .. })) => {
                    e.into()
                }
                Err(e) => return Err(e.into()),
            };
            // A damaged reply to a read: the SAM did read, and will not read the same card again
            // until it leaves the field; the caller re-seats the card instead of resending.
            if is_read {
                return Err(noise);
            }
            last = noise;
        }
        Err(last)
    }

    /// Makes sure the SAM passed its self-test on this connection (`11 FF`; one `10 FF` reset
    /// if it answers `60`).
    pub async fn open(&mut self) -> Result<(), IdError> {
        if self.ready && self.sam.is_connected() {
            return Ok(());
        }
        match self.command(Command::SamStatus).await {
            Ok(_) => {}
            Err(IdError::Sam(SamError::SelfTestFailed)) => {
                tracing::warn!("id reader: SAM self-test failed; resetting once");
                self.command(Command::ResetSam).await?;
                self.command(Command::SamStatus).await?;
            }
            Err(e) => return Err(e),
        }
        self.ready = true;
        Ok(())
    }

    /// The SAM's 16-byte management id (`12 FF`).
    pub async fn sam_id(&mut self) -> Result<[u8; 16], IdError> {
        let r = self.command(Command::ReadSamId).await?;
        r.data.as_bytes().try_into().map_err(|_| IdError::Malformed("SAM id is not 16 bytes"))
    }

    /// Reads the card in the slot (or on the reader), following §1.7, until `deadline`.
    ///
    /// Ends early with [`IdError::ForceEjected`] when the red button is held 3 s.
    pub async fn read_card(&mut self, deadline: Instant) -> Result<IdCard, IdError> {
        let mut forced: Option<watch::Receiver<u64>> = self.slot.as_ref().map(SlotHandle::forced);
        if let Some(f) = forced.as_mut() {
            f.borrow_and_update();
        }
        let work = tokio::time::timeout_at(deadline, self.read_steps(deadline));
        let r = match forced {
            Some(mut f) => tokio::select! {
                biased;
                Ok(()) = f.changed() => Err(IdError::ForceEjected),
                r = work => r.unwrap_or(Err(IdError::Timeout)),
            },
            None => work.await.unwrap_or(Err(IdError::Timeout)),
        };
        if let Err(e) = &r {
            tracing::info!(error = %e, "id reader: no card data");
            self.close_entry().await;
        }
        r
    }

    /// Closes the slot's entry after a read that ended without a card's data. The deadline or a
    /// forced eject can cut the read off while it waits with the entry open; left open, a card
    /// pushed in later would be pulled in with nobody reading it, and an ejected card could be
    /// pushed back in.
    async fn close_entry(&self) {
        let Some(slot) = &self.slot else { return };
        if let Err(e) = slot.forbid_entry().await {
            tracing::warn!(error = %e, "id slot: closing the entry after the read failed");
        }
    }

    async fn read_steps(&mut self, deadline: Instant) -> Result<IdCard, IdError> {
        self.open().await?;
        if let Some(slot) = self.slot.clone() {
            if slot.status().await?.position.is_inside() {
                slot.hold_for_reading().await?;
            } else if !slot.accept_card(self.timing.insert_poll, deadline).await? {
                return Err(IdError::NoCard);
            }
        }
        let mut tries = 0;
        loop {
            match self.read_once(deadline).await {
                Err(e) if tries < 2 && e.read_may_succeed_again() => {
                    tries += 1;
                    tracing::info!(error = %e, tries, "id reader: read failed; presenting the card again");
                    self.reseat().await?;
                }
                r => return r,
            }
        }
    }

    /// Moves the card out of the RF field and back (gate, then antenna), so the SAM sees it
    /// presented anew (§1.7.4). Without a slot the customer must present it again.
    async fn reseat(&mut self) -> Result<(), IdError> {
        if let Some(slot) = &self.slot {
            slot.reseat().await?;
        }
        Ok(())
    }

    async fn read_once(&mut self, deadline: Instant) -> Result<IdCard, IdError> {
        let mut misses = 0u32;
        loop {
            match self.command(Command::FindCard).await {
                Ok(_) => break,
                Err(IdError::Sam(SamError::NoCard)) => {
                    misses += 1;
                    // A card already read answers 80 while it stays in the field (§1.7.4).
                    if misses == 3 && self.slot.is_some() {
                        self.reseat().await?;
                    }
                    if Instant::now() + self.timing.find_interval >= deadline {
                        return Err(IdError::NoCard);
                    }
                    tokio::time::sleep(self.timing.find_interval).await;
                }
                Err(e) => return Err(e),
            }
        }
        self.command(Command::SelectCard).await?;
        let reply = self.command(Command::ReadTextPhoto).await?;
        let d = reply.data.as_bytes();
        if d.len() < 4 {
            return Err(IdError::Malformed("read reply shorter than its length fields"));
        }
        let text_len = usize::from(u16::from_be_bytes([d[0], d[1]]));
        let photo_len = usize::from(u16::from_be_bytes([d[2], d[3]]));
        if text_len != TEXT_LEN || d.len() != 4 + text_len + photo_len {
            return Err(IdError::Malformed("read reply lengths do not add up"));
        }
        let card = IdCard::from_block(&d[4..4 + TEXT_LEN], d[4 + TEXT_LEN..].to_vec())?;
        tracing::info!("id reader: card read");
        Ok(card)
    }

    /// Presents the card at the gate (held) for the customer to take.
    pub async fn eject(&mut self) -> Result<(), IdError> {
        match &self.slot {
            Some(s) => Ok(s.eject().await?),
            None => Ok(()),
        }
    }

    /// The device-model status: SAM self-test and slot position.
    pub async fn device_status(&mut self) -> DeviceStatus<IdReaderDetail> {
        let sam = self.command(Command::SamStatus).await;
        let slot = match &self.slot {
            Some(s) => Some(s.status().await),
            None => None,
        };
        let sam_ok = sam.is_ok();
        let slot_status = slot.as_ref().and_then(|r| r.as_ref().ok().copied());
        let detail = IdReaderDetail { sam_ok, slot: slot_status };
        let device = match (&sam, &slot) {
            (Err(e), _) => e.device_state(),
            (_, Some(Err(SlotError::Transport(t)))) if t.is_offline() => DeviceState::Offline,
            (_, Some(Err(_))) => DeviceState::HardwareError,
            _ => DeviceState::Online,
        };
        let media = match slot_status.map(|s| s.position) {
            None if self.slot.is_none() => MediaState::NotSupported,
            None => MediaState::Unknown,
            Some(p) if p.is_inside() => MediaState::Present,
            Some(slot::CardPosition::Gate | slot::CardPosition::FrontNoHold) => MediaState::Present,
            Some(slot::CardPosition::NoCard) => MediaState::NotPresent,
            Some(slot::CardPosition::Captured | slot::CardPosition::RearHold) => MediaState::Retained,
            Some(_) => MediaState::Jammed,
        };
        DeviceStatus { device, media, detail }
    }
}
