//! USB devices through `rusb` (libusb, built from source by the `vendored` feature so the kiosk
//! image and CI need no libusb package).
//!
//! Three layers, so most of it is testable without hardware:
//! - [`select_bulk_pair`]: a pure function over plain descriptor values ([`InterfaceInfo`]) that
//!   picks the interface and its bulk IN/OUT endpoints;
//! - [`UsbDevice`]: finds the device by vendor/product id (and serial number), detaches a kernel
//!   driver, claims the interface, does blocking bulk transfers; a device that left the bus gives
//!   `rusb::Error::NoDevice`, which [`crate::TransportError::is_link_lost`] treats as hot-unplug;
//! - [`UsbConnector`]: adapts a bulk pipe to an `AsyncRead + AsyncWrite` byte stream (ESC/POS
//!   printers and CDC-like devices are byte streams), so [`crate::Reconnecting`] and every
//!   stream-based driver work over USB unchanged. The blocking libusb calls run on tokio's
//!   blocking pool; unplugging ends the stream, which the driver sees as a lost link.
//!
//! Configuration (`kiosk.toml`, hex numbers are valid TOML):
//!
//! ```toml
//! [devices.printer.usb]
//! vendor_id = 0x0416
//! product_id = 0x5011
//! # serial = "A1B2C3"     # when two identical devices are attached
//! # interface = 0         # default: first printer-class (7) interface with bulk in+out
//! timeout_ms = 2000
//! ```

use crate::error::TransportError;
use crate::reconnect::Connector;
use rusb::{Context, DeviceHandle, UsbContext};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// USB interface class of printers.
pub const CLASS_PRINTER: u8 = 0x07;
/// USB interface class of smart-card readers (CCID, hardware.md §3.1).
pub const CLASS_CCID: u8 = 0x0B;
/// USB interface class of CDC data interfaces (USB-serial scanners).
pub const CLASS_CDC_DATA: u8 = 0x0A;

/// Settings of one USB device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsbConfig {
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// iSerialNumber, to tell identical devices apart.
    #[serde(default)]
    pub serial: Option<String>,
    /// Interface number to claim; default: chosen by [`select_bulk_pair`].
    #[serde(default)]
    pub interface: Option<u8>,
    /// Timeout of one bulk transfer, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    2_000
}

/// Transfer type of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferKind {
    /// Control.
    Control,
    /// Isochronous.
    Isochronous,
    /// Bulk.
    Bulk,
    /// Interrupt.
    Interrupt,
}

/// One endpoint descriptor, as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointInfo {
    /// bEndpointAddress; bit 7 set = IN (device to host).
    pub address: u8,
    /// Transfer type.
    pub kind: TransferKind,
    /// wMaxPacketSize.
    pub max_packet: u16,
}

/// One interface alternate setting, as plain values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// bInterfaceNumber.
    pub number: u8,
    /// bAlternateSetting.
    pub alt_setting: u8,
    /// bInterfaceClass.
    pub class: u8,
    /// Its endpoints.
    pub endpoints: Vec<EndpointInfo>,
}

/// The interface and endpoints a transport uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkPair {
    /// Interface to claim.
    pub interface: u8,
    /// Alternate setting to select.
    pub alt_setting: u8,
    /// Bulk IN endpoint address.
    pub ep_in: u8,
    /// Bulk OUT endpoint address.
    pub ep_out: u8,
    /// Max packet size of the IN endpoint (read buffers are multiples of it).
    pub in_packet: u16,
}

/// Picks the interface to use: the one numbered `want` if given; else the first of class
/// `prefer_class` with a bulk IN and a bulk OUT endpoint; else the first interface with both
/// (what escpos-rs's `UsbDriver` does). `None` when no interface qualifies.
pub fn select_bulk_pair(
    ifaces: &[InterfaceInfo],
    want: Option<u8>,
    prefer_class: Option<u8>,
) -> Option<BulkPair> {
    let pair_of = |i: &InterfaceInfo| {
        let bulk = |inbound: bool| {
            i.endpoints.iter().find(|e| e.kind == TransferKind::Bulk && (e.address & 0x80 != 0) == inbound)
        };
        Some(BulkPair {
            interface: i.number,
            alt_setting: i.alt_setting,
            ep_in: bulk(true)?.address,
            ep_out: bulk(false)?.address,
            in_packet: bulk(true)?.max_packet,
        })
    };
    if let Some(n) = want {
        return ifaces.iter().filter(|i| i.number == n).find_map(pair_of);
    }
    prefer_class
        .and_then(|c| ifaces.iter().filter(|i| i.class == c).find_map(pair_of))
        .or_else(|| ifaces.iter().find_map(pair_of))
}

/// An open, claimed USB device.
#[derive(Debug)]
pub struct UsbDevice {
    handle: DeviceHandle<Context>,
    pair: BulkPair,
    timeout: Duration,
}

impl UsbDevice {
    /// Finds, opens and claims the device (blocking: call from a blocking thread).
    pub fn open(cfg: &UsbConfig, prefer_class: Option<u8>) -> Result<UsbDevice, TransportError> {
        let ctx = Context::new()?;
        let not_found =
            || TransportError::UsbNotFound { vendor_id: cfg.vendor_id, product_id: cfg.product_id };
        for dev in ctx.devices()?.iter() {
            let Ok(desc) = dev.device_descriptor() else { continue };
            if desc.vendor_id() != cfg.vendor_id || desc.product_id() != cfg.product_id {
                continue;
            }
            let handle = dev.open()?;
            if let Some(want) = &cfg.serial {
                let serial = handle.read_serial_number_string_ascii(&desc).unwrap_or_default();
                if &serial != want {
                    continue;
                }
            }
            let config = dev.active_config_descriptor()?;
            let ifaces: Vec<InterfaceInfo> = config
                .interfaces()
                .flat_map(|i| i.descriptors().collect::<Vec<_>>())
                .map(|d| InterfaceInfo {
                    number: d.interface_number(),
                    alt_setting: d.setting_number(),
                    class: d.class_code(),
                    endpoints: d
                        .endpoint_descriptors()
                        .map(|e| EndpointInfo {
                            address: e.address(),
                            kind: match e.transfer_type() {
                                rusb::TransferType::Control => TransferKind::Control,
                                rusb::TransferType::Isochronous => TransferKind::Isochronous,
                                rusb::TransferType::Bulk => TransferKind::Bulk,
                                rusb::TransferType::Interrupt => TransferKind::Interrupt,
                            },
                            max_packet: e.max_packet_size(),
                        })
                        .collect(),
                })
                .collect();
            let pair = select_bulk_pair(&ifaces, cfg.interface, prefer_class)
                .ok_or(TransportError::UsbNoEndpoints)?;
            // Linux binds usblp/cdc_acm to such devices; libusb must detach it to claim.
            match handle.set_auto_detach_kernel_driver(true) {
                Ok(()) | Err(rusb::Error::NotSupported) => {}
                Err(e) => return Err(e.into()),
            }
            handle.claim_interface(pair.interface)?;
            if pair.alt_setting != 0 {
                handle.set_alternate_setting(pair.interface, pair.alt_setting)?;
            }
            return Ok(UsbDevice { handle, pair, timeout: Duration::from_millis(cfg.timeout_ms) });
        }
        Err(not_found())
    }

    /// The endpoints in use.
    pub fn endpoints(&self) -> BulkPair {
        self.pair
    }

    /// Writes all of `data` to the bulk OUT endpoint (blocking).
    pub fn write_all(&self, mut data: &[u8]) -> Result<(), TransportError> {
        while !data.is_empty() {
            let n = self.handle.write_bulk(self.pair.ep_out, data, self.timeout)?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Reads one bulk IN transfer into `buf`; `Ok(0)` when nothing came within `timeout`.
    pub fn read(&self, buf: &mut [u8], timeout: Duration) -> Result<usize, TransportError> {
        match self.handle.read_bulk(self.pair.ep_in, buf, timeout) {
            Ok(n) => Ok(n),
            Err(rusb::Error::Timeout) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }
}

/// A [`Connector`] giving a USB device's bulk pipe as a byte stream.
#[derive(Clone, Debug)]
pub struct UsbConnector {
    cfg: UsbConfig,
    prefer_class: Option<u8>,
}

impl UsbConnector {
    /// A connector for `cfg`, preferring interfaces of `prefer_class` (e.g. [`CLASS_PRINTER`]).
    pub fn new(cfg: UsbConfig, prefer_class: Option<u8>) -> Self {
        UsbConnector { cfg, prefer_class }
    }
}

impl Connector for UsbConnector {
    type Io = DuplexStream;

    async fn connect(&self) -> Result<DuplexStream, TransportError> {
        let (cfg, class) = (self.cfg.clone(), self.prefer_class);
        let dev = tokio::task::spawn_blocking(move || UsbDevice::open(&cfg, class))
            .await
            .map_err(|e| TransportError::Io(std::io::Error::other(e)))??;
        Ok(pump(Arc::new(dev)))
    }

    fn describe(&self) -> String {
        format!("usb {:04x}:{:04x}", self.cfg.vendor_id, self.cfg.product_id)
    }
}

/// Spawns the two pumps between the device and a duplex stream; returns the driver's end.
fn pump(dev: Arc<UsbDevice>) -> DuplexStream {
    let (ours, theirs) = tokio::io::duplex(8192);
    let (mut from_driver, mut to_driver) = tokio::io::split(theirs);
    let closed = Arc::new(AtomicBool::new(false));
    let (d, c) = (dev.clone(), closed.clone());
    tokio::spawn(async move {
        // IN: device → driver, polling in short transfers so a closed stream is noticed.
        let packet = usize::from(d.pair.in_packet.max(64));
        while !c.load(Ordering::Relaxed) {
            let d2 = d.clone();
            let r = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; packet * 8];
                d2.read(&mut buf, Duration::from_millis(100)).map(|n| {
                    buf.truncate(n);
                    buf
                })
            })
            .await;
            match r {
                Ok(Ok(bytes)) if bytes.is_empty() => continue,
                Ok(Ok(bytes)) => {
                    if to_driver.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                _ => break, // unplugged or broken: dropping `to_driver` ends the stream
            }
        }
        c.store(true, Ordering::Relaxed);
    });
    tokio::spawn(async move {
        // OUT: driver → device.
        let mut buf = vec![0u8; 4096];
        loop {
            let n = match from_driver.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let (d2, chunk) = (dev.clone(), buf[..n].to_vec());
            match tokio::task::spawn_blocking(move || d2.write_all(&chunk)).await {
                Ok(Ok(())) => {}
                _ => break,
            }
        }
        closed.store(true, Ordering::Relaxed);
    });
    ours
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(address: u8, kind: TransferKind) -> EndpointInfo {
        EndpointInfo { address, kind, max_packet: 64 }
    }

    /// A composite device: a HID interface (interrupt IN only), then a vendor interface with
    /// bulk pipes, then a printer-class interface with bulk 0x81/0x02.
    fn composite() -> Vec<InterfaceInfo> {
        vec![
            InterfaceInfo {
                number: 0,
                alt_setting: 0,
                class: 0x03,
                endpoints: vec![ep(0x83, TransferKind::Interrupt)],
            },
            InterfaceInfo {
                number: 1,
                alt_setting: 0,
                class: 0xFF,
                endpoints: vec![ep(0x84, TransferKind::Bulk), ep(0x05, TransferKind::Bulk)],
            },
            InterfaceInfo {
                number: 2,
                alt_setting: 0,
                class: CLASS_PRINTER,
                endpoints: vec![ep(0x02, TransferKind::Bulk), ep(0x81, TransferKind::Bulk)],
            },
        ]
    }

    #[test]
    fn the_preferred_class_wins() {
        let p = select_bulk_pair(&composite(), None, Some(CLASS_PRINTER)).unwrap();
        assert_eq!((p.interface, p.ep_in, p.ep_out), (2, 0x81, 0x02));
    }

    #[test]
    fn without_a_class_the_first_bulk_pair_is_used() {
        let p = select_bulk_pair(&composite(), None, None).unwrap();
        assert_eq!((p.interface, p.ep_in, p.ep_out), (1, 0x84, 0x05));
        let p = select_bulk_pair(&composite(), None, Some(CLASS_CCID)).unwrap();
        assert_eq!(p.interface, 1, "falls back when no interface has the class");
    }

    #[test]
    fn an_explicit_interface_is_honoured_or_refused() {
        assert_eq!(select_bulk_pair(&composite(), Some(2), None).unwrap().ep_in, 0x81);
        assert_eq!(select_bulk_pair(&composite(), Some(0), None), None, "HID has no bulk pair");
    }

    #[test]
    fn a_device_with_only_interrupt_endpoints_has_no_pair() {
        let hid = &composite()[..1];
        assert_eq!(select_bulk_pair(hid, None, None), None);
    }

    #[test]
    fn hex_ids_parse_from_toml() {
        let cfg: UsbConfig = toml::from_str("vendor_id = 0x0416\nproduct_id = 0x5011").unwrap();
        assert_eq!((cfg.vendor_id, cfg.product_id, cfg.timeout_ms), (0x0416, 0x5011, 2000));
        assert!(toml::from_str::<UsbConfig>("vendor_id = 1\nproduct_id = 2\npid = 3").is_err());
    }

    #[test]
    fn an_absent_device_is_not_found_or_usb_unavailable() {
        let cfg = UsbConfig {
            vendor_id: 0xFFFE,
            product_id: 0xFFFE,
            serial: None,
            interface: None,
            timeout_ms: 10,
        };
        match UsbDevice::open(&cfg, None) {
            Err(e) => assert!(e.is_offline() || matches!(e, TransportError::Usb(_)), "{e}"),
            Ok(_) => panic!("no such device"),
        }
    }
}
