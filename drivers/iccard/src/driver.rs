//! [`IcCardReader`]: the gas-card API the kiosk uses, over any [`ContactReader`].
//!
//! Top-up, as payments.md §5 and hardware.md §3.3 describe it:
//! 1. [`IcCardReader::read_gas_card`] → card number, user number, purchase count, write-back flag;
//!    kiosk-core refuses to sell when `last_purchase_loaded` is false.
//! 2. The kiosk pays; the biller returns [`CardWriteData`] (next sequence + opaque data).
//! 3. [`IcCardReader::write_purchase_for`] writes it into the spare slot with read-back after
//!    every write, then reads the card again and checks the purchase is there.
//! 4. `Ok` → confirm to the biller. [`CardError::CardRemoved`] and other
//!    [`CardError::rewrite_may_help`] errors → the payment stays "awaiting card write"; calling
//!    the same method later with the same data (补写卡, at any kiosk) completes it, and is a
//!    no-op when the purchase had in fact reached the card.

use crate::ccid::CcidReader;
use crate::config::{IcCardConfig, ReaderKind};
use crate::crt310::{Crt310Reader, Crt310Timing};
use crate::error::CardError;
use crate::gas::{self, GasCard, WritePlan};
use crate::reader::{CardPresence, ContactReader, Psc, PscAnswer};
use crate::sle4442;
use device::{DeviceState, DeviceStatus, MediaState, TransportError};
use kiosk_core::{CardPurchase, CardWriteData};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Gives the PSC of a card. The synthetic layout uses one fixed PSC ([`FixedPsc`]); a real gas
/// company derives it from the card number and a key batch, which plugs in here.
pub trait PscSource: Send + Sync {
    /// The PSC of the card with this number; `None` if this kiosk cannot write it.
    fn psc_for(&self, card_no: &str) -> Option<Psc>;
}

/// One PSC for every card.
#[derive(Clone, Debug)]
pub struct FixedPsc(pub Psc);

impl PscSource for FixedPsc {
    fn psc_for(&self, _card_no: &str) -> Option<Psc> {
        Some(self.0.clone())
    }
}

/// Either reader, chosen by the configuration.
#[derive(Debug)]
pub enum AnyReader {
    /// A CRT-310 motorised reader.
    Crt310(Crt310Reader),
    /// A CCID contact reader.
    Ccid(CcidReader),
}

macro_rules! each {
    ($self:ident, $r:ident => $e:expr) => {
        match $self {
            AnyReader::Crt310($r) => $e,
            AnyReader::Ccid($r) => $e,
        }
    };
}

impl ContactReader for AnyReader {
    fn kind(&self) -> &'static str {
        each!(self, r => r.kind())
    }
    async fn presence(&mut self) -> Result<CardPresence, CardError> {
        each!(self, r => r.presence().await)
    }
    async fn open_memory_card(&mut self) -> Result<(), CardError> {
        each!(self, r => r.open_memory_card().await)
    }
    async fn read_main(&mut self, addr: u8, len: u8) -> Result<Vec<u8>, CardError> {
        each!(self, r => r.read_main(addr, len).await)
    }
    async fn read_security(&mut self) -> Result<[u8; 4], CardError> {
        each!(self, r => r.read_security().await)
    }
    async fn present_psc(&mut self, psc: &Psc) -> Result<PscAnswer, CardError> {
        each!(self, r => r.present_psc(psc).await)
    }
    async fn update_main(&mut self, addr: u8, data: &[u8]) -> Result<(), CardError> {
        each!(self, r => r.update_main(addr, data).await)
    }
    async fn close_card(&mut self) -> Result<(), CardError> {
        each!(self, r => r.close_card().await)
    }
    async fn set_entry(&mut self, allow: bool) -> Result<(), CardError> {
        each!(self, r => r.set_entry(allow).await)
    }
    async fn eject(&mut self) -> Result<(), CardError> {
        each!(self, r => r.eject().await)
    }
    async fn capture(&mut self) -> Result<(), CardError> {
        each!(self, r => r.capture().await)
    }
}

impl AnyReader {
    /// The reader of a `kiosk.toml` entry. Does not open the port yet.
    pub fn from_config(cfg: &IcCardConfig) -> Result<Self, TransportError> {
        cfg.validate()?;
        let port = cfg.port();
        let connector = port.connector(Some(device::usb::CLASS_CCID))?;
        Ok(match cfg.kind() {
            ReaderKind::Crt310 => {
                let t = port.timing();
                let timing = Crt310Timing {
                    command: t.deadline,
                    inter_byte: t.inter_byte,
                    motion: Duration::from_millis(cfg.motion_timeout_ms),
                    ..Crt310Timing::default()
                };
                AnyReader::Crt310(Crt310Reader::new(connector, timing, port.backoff()))
            }
            ReaderKind::Ccid => {
                AnyReader::Ccid(CcidReader::new(connector, cfg.slot, port.timing(), port.backoff()))
            }
        })
    }
}

/// The device-specific part of the IC slot's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcSlotDetail {
    /// Where the card is (`None` while the reader cannot be reached).
    pub presence: Option<CardPresence>,
}

/// The IC card slot with the gas-card logic on top.
pub struct IcCardReader<R: ContactReader = AnyReader> {
    reader: R,
    psc: Box<dyn PscSource>,
}

impl<R: ContactReader + std::fmt::Debug> std::fmt::Debug for IcCardReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IcCardReader").field("reader", &self.reader).finish_non_exhaustive()
    }
}

impl IcCardReader<AnyReader> {
    /// The reader of a `kiosk.toml` entry, with its configured PSC.
    pub fn from_config(cfg: &IcCardConfig) -> Result<Self, TransportError> {
        let reader = AnyReader::from_config(cfg)?;
        let psc = cfg.psc.psc().ok_or_else(|| TransportError::Config("bad iccard psc".into()))?;
        Ok(IcCardReader::new(reader, FixedPsc(psc)))
    }
}

impl<R: ContactReader> IcCardReader<R> {
    /// Gas-card logic over `reader`, with PSCs from `psc`.
    pub fn new(reader: R, psc: impl PscSource + 'static) -> Self {
        IcCardReader { reader, psc: Box::new(psc) }
    }

    /// The reader, for its own commands (CRT-310 card-in control, firmware...).
    pub fn reader_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Where the card is.
    pub async fn presence(&mut self) -> Result<CardPresence, CardError> {
        self.reader.presence().await
    }

    /// The device-model status (architecture rule 3).
    pub async fn device_status(&mut self) -> DeviceStatus<IcSlotDetail> {
        match self.reader.presence().await {
            Ok(p) => DeviceStatus {
                device: if p == CardPresence::Abnormal {
                    DeviceState::HardwareError
                } else {
                    DeviceState::Online
                },
                media: match p {
                    CardPresence::Absent => MediaState::NotPresent,
                    CardPresence::Inside | CardPresence::AtGate => MediaState::Present,
                    CardPresence::Captured => MediaState::Retained,
                    CardPresence::Abnormal => MediaState::Jammed,
                },
                detail: IcSlotDetail { presence: Some(p) },
            },
            Err(e) => {
                tracing::warn!(error = %e, "iccard: status unavailable");
                let device = match &e {
                    CardError::Transport(t) if !t.is_offline() => DeviceState::HardwareError,
                    CardError::Reader(crate::ReaderError::Hardware(_)) => DeviceState::HardwareError,
                    _ => DeviceState::Offline,
                };
                DeviceStatus { device, media: MediaState::Unknown, detail: IcSlotDetail { presence: None } }
            }
        }
    }

    /// Polls until a card is inside (or at the gate), every `poll`, for at most `timeout`.
    pub async fn wait_for_card(&mut self, timeout: Duration, poll: Duration) -> Result<(), CardError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if matches!(self.reader.presence().await?, CardPresence::Inside | CardPresence::AtGate) {
                return Ok(());
            }
            if tokio::time::Instant::now() + poll > deadline {
                return Err(CardError::NoCard);
            }
            tokio::time::sleep(poll).await;
        }
    }

    async fn read_image(&mut self) -> Result<gas::CardImage, CardError> {
        let bytes = sle4442::read(&mut self.reader, gas::IMAGE_START, gas::IMAGE_LEN).await?;
        gas::parse_image(&bytes)
    }

    async fn close(&mut self) {
        if let Err(e) = self.reader.close_card().await {
            tracing::debug!(error = %e, "iccard: power off failed");
        }
    }

    /// Reads the gas user card in the slot.
    pub async fn read_gas_card(&mut self) -> Result<GasCard, CardError> {
        self.reader.open_memory_card().await?;
        let r = self.read_image().await.map(|i| i.card);
        self.close().await;
        r
    }

    /// PSC attempts left on the card (3 = none failed; 0 = locked).
    pub async fn psc_attempts_left(&mut self) -> Result<u8, CardError> {
        self.reader.open_memory_card().await?;
        let r = sle4442::read_attempts_left(&mut self.reader).await;
        self.close().await;
        r
    }

    /// Writes a purchase to the card in the slot (rules in [`crate::gas`]). Idempotent for the
    /// purchase already on the card: a rewrite (补写卡) of it returns `Ok` without writing.
    pub async fn write_purchase(&mut self, data: &CardWriteData) -> Result<(), CardError> {
        self.write(None, data).await
    }

    /// [`IcCardReader::write_purchase`], refusing with [`CardError::WrongCard`] when the card in
    /// the slot is not the one the purchase was made for.
    pub async fn write_purchase_for(
        &mut self,
        expected: &CardPurchase,
        data: &CardWriteData,
    ) -> Result<(), CardError> {
        self.write(Some(&expected.card_no), data).await
    }

    async fn write(&mut self, card_no: Option<&str>, data: &CardWriteData) -> Result<(), CardError> {
        let bytes = hex::decode(data.data_hex.trim()).map_err(|_| CardError::BadWriteData("not hex"))?;
        self.reader.open_memory_card().await?;
        let r = self.write_open(card_no, data.purchase_seq, &bytes).await;
        self.close().await;
        r
    }

    async fn write_open(&mut self, card_no: Option<&str>, seq: u32, bytes: &[u8]) -> Result<(), CardError> {
        let image = self.read_image().await?;
        if card_no.is_some_and(|c| c != image.card.card_no) {
            return Err(CardError::WrongCard);
        }
        let slot = match gas::plan_write(&image, seq, bytes)? {
            WritePlan::AlreadyOnCard => {
                tracing::info!(seq, "iccard: purchase already on the card; nothing written");
                return Ok(());
            }
            WritePlan::Write { slot } => slot,
        };
        let psc = self
            .psc
            .psc_for(&image.card.card_no)
            .ok_or(CardError::WrongCardType { found: crate::CardKind::ForeignSle4442 })?;
        sle4442::unlock(&mut self.reader, &psc).await?;
        let at = gas::SLOTS[slot];
        let body = gas::encode_slot_body(seq, bytes).ok_or(CardError::BadWriteData("too long"))?;
        tracing::info!(seq, slot, len = bytes.len(), "iccard: writing purchase");
        sle4442::write_verified(&mut self.reader, at, &[0x00]).await?;
        sle4442::write_verified(&mut self.reader, at + 1, &body).await?;
        sle4442::write_verified(&mut self.reader, at, &[gas::COMMITTED]).await?;
        let after = self.read_image().await?;
        match &after.current {
            Some(p) if p.seq == seq && p.data == bytes => Ok(()),
            _ => Err(CardError::VerifyFailed { addr: at }),
        }
    }

    /// Opens the slot for a card ("insert your gas card") or closes it.
    pub async fn set_entry(&mut self, allow: bool) -> Result<(), CardError> {
        self.reader.set_entry(allow).await
    }

    /// After [`IcCardReader::eject`]: polls until the customer has taken the card (`true`) or
    /// `timeout` passed with the card still at the gate (`false`: the caller may
    /// [`IcCardReader::capture`] it, and must say so on screen and receipt).
    pub async fn wait_until_taken(&mut self, timeout: Duration, poll: Duration) -> Result<bool, CardError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if matches!(self.reader.presence().await?, CardPresence::Absent) {
                return Ok(true);
            }
            if tokio::time::Instant::now() + poll > deadline {
                return Ok(false);
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// Gives the card back (held at the gate on a motorised reader).
    pub async fn eject(&mut self) -> Result<(), CardError> {
        self.reader.eject().await
    }

    /// Keeps a card the customer abandoned at the gate (motorised reader only). Say so on screen
    /// and on the receipt.
    pub async fn capture(&mut self) -> Result<(), CardError> {
        self.reader.capture().await
    }
}
