//! The USB side of a CCID reader, through rusb (hardware.md §3.1).
//!
//! The bulk pipes themselves are opened by [`device::usb::UsbConnector`] (interface class
//! `0x0B` preferred), which turns them into a byte stream; CCID messages are self-delimiting, so
//! [`super::CcidReader`] runs unchanged over that stream and over the simulator's pty. This
//! module adds what only CCID needs: the class descriptor (`bDescriptorType 0x21`, 54 bytes in
//! the interface's "extra" bytes), parsed by a pure function, and [`probe`], which reads it from
//! a plugged reader.
//!
//! On Linux `pcscd` usually owns CCID readers: stop it (or mask its socket) on the kiosk, or the
//! claim fails with "busy". The interrupt endpoint (`NotifySlotChange`) is not used: the driver
//! polls `GetSlotStatus`, which every reader answers.

use device::usb::{UsbConfig, CLASS_CCID};
use device::TransportError;
use rusb::UsbContext;

/// `bDescriptorType` of the CCID class descriptor.
pub const CCID_DESCRIPTOR_TYPE: u8 = 0x21;
/// Its length.
pub const CCID_DESCRIPTOR_LEN: usize = 54;

/// `dwFeatures` bit: TPDU level exchanges.
pub const FEATURE_TPDU: u32 = 0x0001_0000;
/// `dwFeatures` bit: short APDU level exchanges.
pub const FEATURE_SHORT_APDU: u32 = 0x0002_0000;
/// `dwFeatures` bit: extended APDU level exchanges.
pub const FEATURE_EXTENDED_APDU: u32 = 0x0004_0000;

/// The fields of the CCID class descriptor the driver uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CcidDescriptor {
    /// `bMaxSlotIndex` (0 = one slot).
    pub max_slot_index: u8,
    /// `bVoltageSupport` bitmap (1 = 5 V, 2 = 3 V, 4 = 1.8 V).
    pub voltage_support: u8,
    /// `dwProtocols`.
    pub protocols: u32,
    /// `dwDefaultClock`, kHz.
    pub default_clock: u32,
    /// `dwMaxIFSD`.
    pub max_ifsd: u32,
    /// `dwFeatures`.
    pub features: u32,
    /// `dwMaxCCIDMessageLength`.
    pub max_message_length: u32,
    /// `bPINSupport`.
    pub pin_support: u8,
    /// `bMaxCCIDBusySlots`.
    pub max_busy_slots: u8,
}

impl CcidDescriptor {
    /// True when the reader can power a 5 V card (SLE4442 memory cards).
    pub fn supports_5v(&self) -> bool {
        self.voltage_support & 0x01 != 0
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Finds and parses the CCID class descriptor in an interface's extra descriptor bytes (which
/// may hold other descriptors before it). `None` when there is none or it is short.
pub fn parse_class_descriptor(extra: &[u8]) -> Option<CcidDescriptor> {
    let mut rest = extra;
    while rest.len() >= 2 {
        let len = usize::from(rest[0]);
        if len < 2 || len > rest.len() {
            return None;
        }
        if rest[1] == CCID_DESCRIPTOR_TYPE && len >= CCID_DESCRIPTOR_LEN {
            let d = &rest[..len];
            return Some(CcidDescriptor {
                max_slot_index: d[4],
                voltage_support: d[5],
                protocols: le32(d, 6),
                default_clock: le32(d, 10),
                max_ifsd: le32(d, 28),
                features: le32(d, 40),
                max_message_length: le32(d, 44),
                pin_support: d[52],
                max_busy_slots: d[53],
            });
        }
        rest = &rest[len..];
    }
    None
}

/// Opens the configured USB device just long enough to read its CCID class descriptor
/// (blocking; run it on a blocking thread). For `yizhan devices` and start-up checks.
pub fn probe(cfg: &UsbConfig) -> Result<CcidDescriptor, TransportError> {
    let ctx = rusb::Context::new()?;
    for dev in ctx.devices()?.iter() {
        let Ok(desc) = dev.device_descriptor() else { continue };
        if desc.vendor_id() != cfg.vendor_id || desc.product_id() != cfg.product_id {
            continue;
        }
        let config = dev.active_config_descriptor()?;
        for iface in config.interfaces() {
            for alt in iface.descriptors() {
                let wanted =
                    cfg.interface.map_or(alt.class_code() == CLASS_CCID || alt.class_code() == 0xFF, |n| {
                        n == alt.interface_number()
                    });
                if wanted {
                    if let Some(d) = parse_class_descriptor(alt.extra()) {
                        return Ok(d);
                    }
                }
            }
        }
        return Err(TransportError::UsbNoEndpoints);
    }
    Err(TransportError::UsbNotFound { vendor_id: cfg.vendor_id, product_id: cfg.product_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-slot short-APDU reader's class descriptor, after a 9-byte vendor descriptor.
    fn extra() -> Vec<u8> {
        let mut v = vec![0x09, 0x24, 0, 0, 0, 0, 0, 0, 0]; // some other class-specific descriptor
        v.extend_from_slice(&[
            0x36, // bLength 54
            0x21, // bDescriptorType: CCID
            0x10, 0x01, // bcdCCID 1.10
            0x00, // [4] bMaxSlotIndex: one slot
            0x07, // [5] bVoltageSupport: 5 V, 3 V, 1.8 V
            0x03, 0x00, 0x00, 0x00, // [6..10] dwProtocols: T=0 and T=1
            0xA0, 0x0F, 0x00, 0x00, // [10..14] dwDefaultClock 4000 kHz
            0xA0, 0x0F, 0x00, 0x00, // dwMaximumClock
            0x00, // bNumClockSupported
            0x00, 0x2A, 0x00, 0x00, // dwDataRate 10752
            0x00, 0x2A, 0x00, 0x00, // dwMaxDataRate
            0x00, // bNumDataRatesSupported
            0xFE, 0x00, 0x00, 0x00, // [28..32] dwMaxIFSD 254
            0x00, 0x00, 0x00, 0x00, // dwSynchProtocols
            0x00, 0x00, 0x00, 0x00, // dwMechanical
            0xBA, 0x04, 0x02, 0x00, // [40..44] dwFeatures: short APDU + auto voltage/clock/...
            0x0F, 0x01, 0x00, 0x00, // [44..48] dwMaxCCIDMessageLength 271
            0x00, // bClassGetResponse
            0x00, // bClassEnvelope
            0x00, 0x00, // [50..52] wLcdLayout: none
            0x00, // [52] bPINSupport: none
            0x01, // [53] bMaxCCIDBusySlots
        ]);
        v
    }

    #[test]
    fn the_class_descriptor_is_found_after_other_descriptors() {
        let d = parse_class_descriptor(&extra()).unwrap();
        assert_eq!(d.max_slot_index, 0);
        assert!(d.supports_5v());
        assert_eq!(d.protocols, 3);
        assert_eq!(d.default_clock, 4000);
        assert_eq!(d.max_ifsd, 254);
        assert_eq!(d.features & FEATURE_SHORT_APDU, FEATURE_SHORT_APDU);
        assert_eq!(d.max_message_length, 271);
        assert_eq!(d.max_busy_slots, 1);
    }

    #[test]
    fn short_or_absent_descriptors_are_none() {
        assert_eq!(parse_class_descriptor(&[]), None);
        assert_eq!(parse_class_descriptor(&extra()[..30]), None);
        assert_eq!(parse_class_descriptor(&[0x00, 0x21]), None);
    }

    #[test]
    fn probing_an_absent_reader_fails_cleanly() {
        let cfg = UsbConfig {
            vendor_id: 0xFFFE,
            product_id: 0xFFFD,
            serial: None,
            interface: None,
            timeout_ms: 10,
        };
        assert!(probe(&cfg).is_err());
    }
}
