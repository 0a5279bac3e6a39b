//! SLE4442 memory-card logic over any [`ContactReader`] (hardware.md §3.2).
//!
//! - Reading is free: [`read`] splits a range into reader-sized chunks.
//! - Writing needs the PSC verified in this power session. [`unlock`] reads the error counter
//!   first and **refuses to present the PSC when only one attempt is left** (a wrong last try
//!   would lock the customer's card for good), refuses a locked card, and after presenting reads
//!   the counter again: the counter, not the reader's answer, decides (`07` = verified).
//! - [`write_verified`] writes in chunks and reads every chunk back.

use crate::error::CardError;
use crate::reader::{ContactReader, Psc, PscAnswer};

/// Main memory size.
pub const MAIN_SIZE: usize = 256;
/// The synchronous ATR in bytes 0x00–0x03 of every SLE4442.
pub const ATR: [u8; 4] = [0xA2, 0x13, 0x10, 0x91];
/// Error counter value with all three attempts left.
pub const EC_FULL: u8 = 0x07;

/// Attempts left for an error counter byte (one per set bit of the low three).
pub const fn attempts_left(ec: u8) -> u8 {
    (ec & 0x07).count_ones() as u8
}

/// Reads `len` bytes of main memory from `addr` (the range must stay inside the 256 bytes).
pub async fn read<R: ContactReader>(r: &mut R, addr: u8, len: usize) -> Result<Vec<u8>, CardError> {
    let end = usize::from(addr) + len;
    if end > MAIN_SIZE {
        return Err(CardError::BadWriteData("range outside main memory"));
    }
    let mut out = Vec::with_capacity(len);
    let mut at = usize::from(addr);
    while at < end {
        let n = (end - at).min(R::MAX_CHUNK);
        out.extend(r.read_main(at as u8, n as u8).await?);
        at += n;
    }
    Ok(out)
}

/// Attempts left on the card now.
pub async fn read_attempts_left<R: ContactReader>(r: &mut R) -> Result<u8, CardError> {
    Ok(attempts_left(r.read_security().await?[0]))
}

/// Verifies the PSC, never spending the last attempt: see the module docs.
pub async fn unlock<R: ContactReader>(r: &mut R, psc: &Psc) -> Result<(), CardError> {
    match read_attempts_left(r).await? {
        0 => return Err(CardError::Locked),
        1 => {
            tracing::warn!("iccard: one PSC attempt left; refusing to try");
            return Err(CardError::LastPscAttempt);
        }
        _ => {}
    }
    let answer = r.present_psc(psc).await?;
    let left = read_attempts_left(r).await?;
    match (left, answer) {
        (3, PscAnswer::Accepted | PscAnswer::Unknown) => Ok(()),
        (3, PscAnswer::Refused) => Err(CardError::WrongPsc { attempts_left: 3 }),
        (0, _) => Err(CardError::Locked),
        (n, _) => {
            tracing::warn!(attempts_left = n, "iccard: PSC refused");
            Err(CardError::WrongPsc { attempts_left: n })
        }
    }
}

/// Writes `data` at `addr`, chunk by chunk, reading each chunk back; the first differing byte is
/// reported as [`CardError::VerifyFailed`]. Needs [`unlock`] first.
pub async fn write_verified<R: ContactReader>(r: &mut R, addr: u8, data: &[u8]) -> Result<(), CardError> {
    if usize::from(addr) + data.len() > MAIN_SIZE {
        return Err(CardError::BadWriteData("range outside main memory"));
    }
    for (i, chunk) in data.chunks(R::MAX_CHUNK).enumerate() {
        let at = addr + (i * R::MAX_CHUNK) as u8;
        r.update_main(at, chunk).await?;
        let back = r.read_main(at, chunk.len() as u8).await?;
        if let Some(k) = back.iter().zip(chunk).position(|(a, b)| a != b) {
            tracing::warn!(addr = usize::from(at) + k, "iccard: read-back differs");
            return Err(CardError::VerifyFailed { addr: at + k as u8 });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_counter_bits() {
        // hardware.md §3.2: EC 07/06/04/00 = 0/1/2/3 failures.
        assert_eq!(attempts_left(0x07), 3);
        assert_eq!(attempts_left(0x06), 2);
        assert_eq!(attempts_left(0x03), 2);
        assert_eq!(attempts_left(0x04), 1);
        assert_eq!(attempts_left(0x01), 1);
        assert_eq!(attempts_left(0x00), 0);
        assert_eq!(attempts_left(0xF8), 0, "only the low three bits count");
    }
}
