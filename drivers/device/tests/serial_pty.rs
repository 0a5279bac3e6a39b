//! The real serial code (serialport via tokio-serial) against a pty: settings are applied and
//! readable, exchanges work, and a port that vanishes and comes back is reopened.

use device::{Pty, Reconnecting, SerialConfig, SerialConnector, StableLink, Timing, TransportError};
use std::convert::Infallible;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_serial::SerialPort;

/// Answers every 3-byte request `10 04 n` with `12` (hardware.md §4.2, all OK), forever.
fn spawn_echo_status(mut pty: Pty) -> tokio::task::JoinHandle<Pty> {
    tokio::spawn(async move {
        let mut req = [0u8; 3];
        while pty.master().read_exact(&mut req).await.is_ok() {
            if pty.master().write_all(&[0x12]).await.is_err() {
                break;
            }
        }
        pty
    })
}

fn one(buf: &mut bytes::BytesMut) -> Result<Option<u8>, Infallible> {
    Ok(device::take(buf, 1).map(|v| v[0]))
}

fn quick(path: &std::path::Path) -> SerialConfig {
    let mut cfg = device::sim::quick_serial(path, 500);
    cfg.baud = 9600;
    cfg
}

#[tokio::test]
async fn settings_are_applied_to_the_port() {
    let pty = Pty::open().unwrap();
    // Linux's pty driver forces CS8 and no parity whatever is asked, so only baud, data bits
    // and stop bits can be read back here; parity is covered by the config tests.
    let mut cfg = quick(pty.slave_path());
    cfg.stop_bits = 2;
    let port = device::serial::open(&cfg).unwrap();
    assert_eq!(port.baud_rate().unwrap(), 9600);
    assert_eq!(port.data_bits().unwrap(), tokio_serial::DataBits::Eight);
    assert_eq!(port.stop_bits().unwrap(), tokio_serial::StopBits::Two);
}

#[tokio::test]
async fn a_vanished_port_is_reopened_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let by_id = StableLink::new(dir.path().join("usb-Yizhan_Printer-if00"));
    let pty = Pty::open().unwrap();
    by_id.point_to(pty.slave_path()).unwrap();
    let sim = spawn_echo_status(pty);

    let cfg = quick(by_id.path());
    let mut port = Reconnecting::new(SerialConnector::new(cfg.clone()), cfg.backoff());
    let t = cfg.timing();
    assert_eq!(port.request(&[0x10, 0x04, 0x01], one, t).await.unwrap(), Ok(0x12));

    // Unplug: udev removes the by-id link, the tty goes away.
    by_id.remove().unwrap();
    sim.abort();
    let _ = sim.await;
    let mut saw_offline = false;
    for _ in 0..5 {
        match port.request(&[0x10, 0x04, 0x01], one, t).await {
            Err(e) => {
                assert!(e.is_offline() || matches!(e, TransportError::Timeout { .. }), "{e}");
                saw_offline |= e.is_offline();
            }
            Ok(r) => panic!("answered while unplugged: {r:?}"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(saw_offline && !port.is_connected());

    // Replug: a new tty, the same stable path.
    let pty = Pty::open().unwrap();
    by_id.point_to(pty.slave_path()).unwrap();
    let _sim = spawn_echo_status(pty);
    let mut answered = false;
    for _ in 0..50 {
        if let Ok(Ok(0x12)) = port.request(&[0x10, 0x04, 0x01], one, t).await {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(answered && port.is_connected(), "reconnected through the stable path");
}

#[tokio::test]
async fn a_silent_device_times_out_within_the_deadline() {
    let pty = Pty::open().unwrap();
    let cfg = quick(pty.slave_path());
    let mut port = Reconnecting::new(SerialConnector::new(cfg.clone()), cfg.backoff());
    let started = std::time::Instant::now();
    let err = port
        .request(&[0x10, 0x04, 0x01], one, Timing::new(Duration::from_millis(150), Duration::from_millis(50)))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Timeout { received: 0, .. }), "{err}");
    assert!(started.elapsed() < Duration::from_millis(600));
    assert!(port.is_connected(), "a silent device is not a lost port");
    drop(pty);
}
