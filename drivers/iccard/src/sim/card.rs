//! A simulated card with the state of a real SLE4442: 256 bytes of main memory, the 32
//! write-protection bits, the error counter and PSC, and the "PSC verified in this power
//! session" latch. Writes go byte by byte so a card pulled out mid-write keeps exactly the bytes
//! that reached it.

use crate::gas;
use crate::sle4442::{attempts_left, ATR, EC_FULL, MAIN_SIZE};

/// What kind of card is simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimCardKind {
    /// An SLE4442 memory card.
    Sle4442,
    /// A microprocessor card (a bank card inserted by mistake).
    CpuCard,
    /// Another memory card (SLE4428).
    Sle4428,
}

/// How an update ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateResult {
    /// Every byte was written (protected bytes are silently left alone, as on the chip).
    Written,
    /// No verified PSC in this power session: nothing was written.
    NotVerified,
    /// The card left the reader after `written` bytes.
    Pulled {
        /// Bytes that reached the card.
        written: usize,
    },
}

/// A simulated contact card.
#[derive(Clone, PartialEq, Eq)]
pub struct SimCard {
    kind: SimCardKind,
    main: Vec<u8>,
    /// Bit i set = byte i (0..32) may still be written.
    writable: u32,
    ec: u8,
    psc: [u8; 3],
    verified: bool,
}

impl std::fmt::Debug for SimCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCard").field("kind", &self.kind).field("ec", &self.ec).finish_non_exhaustive()
    }
}

impl SimCard {
    /// A blank SLE4442: ATR in bytes 0–3 and 0x00–0x1F protected, the rest `FF`, PSC `psc`, all
    /// three attempts left.
    pub fn blank_sle4442(psc: [u8; 3]) -> SimCard {
        let mut main = vec![0xFF; MAIN_SIZE];
        main[..4].copy_from_slice(&ATR);
        main[4..0x20].fill(0x00);
        SimCard { kind: SimCardKind::Sle4442, main, writable: 0, ec: EC_FULL, psc, verified: false }
    }

    /// A gas user card as the gas company issues it (layout of [`crate::gas`]): type `DD`, card
    /// and user numbers, no purchase yet, write-back flag set. `None` for malformed numbers
    /// (card number 1–16 digits, user number 8 digits).
    pub fn gas_user_card(card_no: &str, user_no: &str, psc: [u8; 3]) -> Option<SimCard> {
        let mut c = SimCard::blank_sle4442(psc);
        let at = usize::from;
        c.main[at(gas::TYPE_FLAG)] = gas::USER_CARD;
        c.main[at(gas::CARD_NO)..at(gas::CARD_NO) + gas::CARD_NO_LEN]
            .copy_from_slice(&gas::encode_card_no(card_no)?);
        c.main[at(gas::USER_NO)..at(gas::USER_NO) + 4].copy_from_slice(&gas::encode_user_no(user_no)?);
        c.main[0x2D..0x30].fill(0x00);
        c.main[at(gas::WRITE_BACK_FLAG)] = gas::LOADED;
        c.main[at(gas::WRITE_BACK_SEQ)..at(gas::WRITE_BACK_SEQ) + 4].fill(0);
        c.main[0x35..0x40].fill(0x00);
        for s in gas::SLOTS {
            c.main[at(s)..at(s) + gas::SLOT_LEN].fill(0x00);
        }
        Some(c)
    }

    /// A gas-system tool card (repair `88`, install `CC`...).
    pub fn gas_tool_card(flag: u8, psc: [u8; 3]) -> SimCard {
        let mut c =
            SimCard::gas_user_card("1", "00000000", psc).unwrap_or_else(|| SimCard::blank_sle4442(psc));
        c.main[usize::from(gas::TYPE_FLAG)] = flag;
        c
    }

    /// A microprocessor card.
    pub fn cpu_card() -> SimCard {
        SimCard { kind: SimCardKind::CpuCard, ..SimCard::blank_sle4442([0; 3]) }
    }

    /// An SLE4428.
    pub fn sle4428() -> SimCard {
        SimCard { kind: SimCardKind::Sle4428, ..SimCard::blank_sle4442([0; 3]) }
    }

    /// The same card with its error counter at `ec` (`00` = locked, `04` = one attempt left).
    pub fn with_error_counter(mut self, ec: u8) -> SimCard {
        self.ec = ec & 0x07;
        self
    }

    /// The kind.
    pub fn kind(&self) -> SimCardKind {
        self.kind
    }

    /// Main memory.
    pub fn memory(&self) -> &[u8] {
        &self.main
    }

    /// The error counter.
    pub fn error_counter(&self) -> u8 {
        self.ec
    }

    /// PSC attempts left.
    pub fn attempts_left(&self) -> u8 {
        attempts_left(self.ec)
    }

    /// The card as the kiosk would read it.
    pub fn image(&self) -> Result<gas::CardImage, crate::CardError> {
        gas::parse_image(
            &self.main[usize::from(gas::IMAGE_START)..usize::from(gas::IMAGE_START) + gas::IMAGE_LEN],
        )
    }

    /// The purchase written to the card but not yet loaded into a meter ("written but
    /// unconfirmed"), if any.
    pub fn pending_purchase(&self) -> Option<gas::Purchase> {
        let img = self.image().ok()?;
        (!img.card.last_purchase_loaded).then_some(img.current).flatten()
    }

    /// Contacts powered: the PSC latch resets.
    pub fn power_on(&mut self) {
        self.verified = false;
    }

    /// Reads main memory; `None` past the end.
    pub fn read(&self, addr: u8, len: usize) -> Option<Vec<u8>> {
        self.main.get(usize::from(addr)..usize::from(addr) + len).map(<[u8]>::to_vec)
    }

    /// The 4-byte security memory: EC, then the PSC once verified (zeros before).
    pub fn security(&self) -> [u8; 4] {
        let p = if self.verified { self.psc } else { [0; 3] };
        [self.ec, p[0], p[1], p[2]]
    }

    /// The protection memory as a 4-byte bitmap (bit set = writable).
    pub fn protection(&self) -> [u8; 4] {
        self.writable.to_le_bytes()
    }

    /// The chip's PSC procedure: clear one EC bit, compare, and on a match restore EC to `07`.
    /// A card with EC `00` never verifies.
    pub fn verify(&mut self, psc: [u8; 3]) -> bool {
        if self.ec & 0x07 == 0 {
            return false;
        }
        self.ec &= self.ec - 1;
        let ok = psc == self.psc;
        if ok {
            self.ec = EC_FULL;
            self.verified = true;
        }
        ok
    }

    /// Writes `data` at `addr`, one byte at a time; `budget` counts the bytes the card can still
    /// take before it leaves the reader (`None` = no limit).
    pub fn update(&mut self, addr: u8, data: &[u8], budget: &mut Option<usize>) -> UpdateResult {
        if !self.verified {
            return UpdateResult::NotVerified;
        }
        for (i, &b) in data.iter().enumerate() {
            if *budget == Some(0) {
                return UpdateResult::Pulled { written: i };
            }
            let a = usize::from(addr) + i;
            if a >= MAIN_SIZE {
                break;
            }
            let protected = a < 32 && self.writable & (1 << a) == 0;
            if !protected {
                self.main[a] = b;
            }
            if let Some(n) = budget.as_mut() {
                *n -= 1;
            }
        }
        UpdateResult::Written
    }

    /// Writes without a PSC: what a meter (which knows the PSC) or the issuer does.
    pub fn write_as_issuer(&mut self, addr: u8, data: &[u8]) {
        let a = usize::from(addr);
        let end = (a + data.len()).min(MAIN_SIZE);
        self.main[a..end].copy_from_slice(&data[..end - a]);
    }
}
