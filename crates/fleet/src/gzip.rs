//! Bodies on the wire: JSON, gzip-compressed (`Content-Encoding: gzip`). A day of a kiosk's
//! transitions is mostly repeated JSON keys and state names, which gzip shrinks about tenfold.
//!
//! Decoding stops at a limit on the *decompressed* size, so a small hostile body cannot expand
//! into gigabytes in the hub's memory.

use std::io::{Read, Write};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The most a decompressed body may hold: a batch of 500 transitions with large snapshots is
/// about 2 MiB.
pub const MAX_BODY: u64 = 32 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the body is not valid gzip: {0}")]
    Gzip(std::io::Error),
    #[error("the body is larger than {MAX_BODY} bytes once decompressed")]
    TooLarge,
    #[error("the body is not the expected JSON: {0}")]
    Json(serde_json::Error),
}

/// `value` as gzip'd JSON.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let json = serde_json::to_vec(value).expect("wire types always serialise");
    let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 4 + 64), Compression::fast());
    encoder.write_all(&json).expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

/// The JSON value in `body`; gzip'd when `gzipped`.
pub fn decode<T: DeserializeOwned>(body: &[u8], gzipped: bool) -> Result<T, BodyError> {
    let json = if gzipped {
        let mut out = Vec::new();
        GzDecoder::new(body).take(MAX_BODY + 1).read_to_end(&mut out).map_err(BodyError::Gzip)?;
        if out.len() as u64 > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
        out
    } else {
        if body.len() as u64 > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
        body.to_vec()
    };
    serde_json::from_slice(&json).map_err(BodyError::Json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ShipAck;

    #[test]
    fn a_body_round_trips_and_shrinks() {
        let rows: Vec<String> =
            (0..1000).map(|i| format!("{{\"state\":\"AwaitingChannel\",\"n\":{i}}}")).collect();
        let packed = encode(&rows);
        assert!(packed.len() * 5 < serde_json::to_vec(&rows).unwrap().len(), "gzip pays for itself");
        assert_eq!(decode::<Vec<String>>(&packed, true).unwrap(), rows);
    }

    #[test]
    fn garbage_and_bombs_are_errors_not_panics() {
        assert!(matches!(decode::<ShipAck>(b"\x1f\x8b\x08garbage", true), Err(BodyError::Gzip(_))));
        assert!(matches!(decode::<ShipAck>(b"{\"stored\":1}", false), Err(BodyError::Json(_))));
        // 40 MiB of zeros compress to ~40 KiB: refused after MAX_BODY bytes, not held whole.
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&vec![b' '; 40 * 1024 * 1024]).unwrap();
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 200 * 1024);
        assert!(matches!(decode::<ShipAck>(&bomb, true), Err(BodyError::TooLarge)));
    }
}
