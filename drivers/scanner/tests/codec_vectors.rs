//! Literal byte vectors from hardware.md §5.1–§5.2, one test per command and reply shape.

use bytes::BytesMut;
use scanner::codec::{self, decode, decode_host, DecodeError, Decoder, HostFrame};
use scanner::{Command, Persistence, Reply, ScanData, Status, Vendor};

fn buf(bytes: &[u8]) -> BytesMut {
    BytesMut::from(bytes)
}

fn setting(s: &str, persistence: Persistence) -> Command {
    Command::Setting { setting: s.into(), persistence }
}

// ---- host → engine (encode), §5.2 -------------------------------------------------------------

#[test]
fn honeywell_trigger_and_untrigger() {
    #[rustfmt::skip]
    let vectors = [
        (Command::Trigger, [
            0x16, // SYN
            0x54, // 'T' activate
            0x0D, // CR
        ]),
        (Command::Untrigger, [
            0x16, // SYN
            0x55, // 'U' deactivate
            0x0D, // CR
        ]),
    ];
    for (command, want) in vectors {
        assert_eq!(codec::encode(Vendor::Honeywell, &command).unwrap(), want, "{command:?}");
    }
}

#[test]
fn honeywell_menu_saved_and_temporary() {
    let saved = codec::encode(Vendor::Honeywell, &setting("SUFBK2990D", Persistence::Saved)).unwrap();
    let mut want = vec![
        0x16, // SYN
        0x4D, // 'M' menu
        0x0D, // CR
    ];
    want.extend_from_slice(b"SUFBK2990D"); // suffix CR for all symbologies (S4)
    want.push(b'.'); // '.' = save to flash
    assert_eq!(saved, want);

    let temp = codec::encode(Vendor::Honeywell, &setting("TRGMOD0", Persistence::Temporary)).unwrap();
    assert_eq!(temp, b"\x16M\rTRGMOD0!"); // '!' = temporary
}

#[test]
fn newland_legacy_trigger_and_setting() {
    let trig = codec::encode(Vendor::Newland, &Command::Trigger).unwrap();
    assert_eq!(trig, [0x1B /* ESC */, 0x31 /* '1' */]);
    let set = codec::encode(Vendor::Newland, &setting("NLS0006010", Persistence::Temporary)).unwrap();
    assert_eq!(set, b"NLS0006010;"); // enable setup code, ';' terminator
}

#[test]
fn newland_unified_trigger() {
    let bytes = codec::encode(Vendor::NewlandUnified, &Command::Trigger).unwrap();
    #[rustfmt::skip]
    let mut want = vec![
        0x7E, // head
        0x01, // type
        0x30, 0x30, 0x30, 0x30, // "0000"
        0x23, // '#' temporary
    ];
    want.extend_from_slice(b"SCNTRG1"); // start scanning
    want.extend_from_slice(&[
        0x3B, // ';'
        0x03, // ETX
    ]);
    assert_eq!(bytes, want);
    let stop = codec::encode(Vendor::NewlandUnified, &Command::Untrigger).unwrap();
    assert_eq!(stop, b"\x7E\x010000#SCNTRG0;\x03");
    let saved = codec::encode(Vendor::NewlandUnified, &setting("SCNMOD0", Persistence::Saved)).unwrap();
    assert_eq!(saved[6], b'@'); // '@' persistent
}

#[test]
fn passive_and_bad_settings_are_refused() {
    assert_eq!(codec::encode(Vendor::Passive, &Command::Trigger), Err(codec::EncodeError::Passive));
    for bad in ["", "A.B", "TRG!", "X;Y", "\rX", "中文"] {
        assert_eq!(
            codec::encode(Vendor::Honeywell, &setting(bad, Persistence::Temporary)),
            Err(codec::EncodeError::BadSetting),
            "{bad:?}"
        );
    }
}

// ---- engine → host (decode), §5.1–§5.2 ----------------------------------------------------------

#[test]
fn scan_ends_at_cr() {
    let mut b = buf(b"134567890123456789\r");
    assert_eq!(decode(&mut b), Ok(Some(Reply::Scan(ScanData::new(&b"134567890123456789"[..])))));
    assert!(b.is_empty());
}

#[test]
fn scan_with_crlf_strips_lf() {
    #[rustfmt::skip]
    let mut b = buf(&[
        0x31, 0x32, 0x33, // "123"
        0x0D, // CR suffix
        0x0A, // optional LF (SUFBK2990D0A)
        0x34, 0x0D, // next frame "4" CR
    ]);
    assert_eq!(decode(&mut b), Ok(Some(Reply::Scan(ScanData::new(&b"123"[..])))));
    assert_eq!(decode(&mut b), Ok(Some(Reply::Scan(ScanData::new(&b"4"[..])))));
    assert_eq!(decode(&mut b), Ok(None));
}

#[test]
fn partial_scan_waits_and_leaves_the_buffer() {
    let mut b = buf(b"13456789");
    assert_eq!(decode(&mut b), Ok(None));
    assert_eq!(&b[..], b"13456789");
    b.extend_from_slice(b"0123456789\r");
    assert_eq!(decode(&mut b), Ok(Some(Reply::Scan(ScanData::new(&b"134567890123456789"[..])))));
}

#[test]
fn garbage_prefix_is_dropped_and_counted() {
    #[rustfmt::skip]
    let mut b = buf(&[
        0x00, 0x1F, 0x11, // NUL, US, DC1: line noise
        0x31, 0x32, 0x0D, // "12" CR
    ]);
    assert_eq!(decode(&mut b), Err(DecodeError::Garbage { dropped: 3 }));
    assert_eq!(decode(&mut b), Ok(Some(Reply::Scan(ScanData::new(&b"12"[..])))));
}

#[test]
fn control_byte_inside_a_frame_drops_the_torn_frame() {
    let mut b = buf(b"1345\x00678\r");
    assert_eq!(decode(&mut b), Err(DecodeError::Garbage { dropped: 5 }));
    assert_eq!(decode(&mut b), Ok(Some(Reply::Scan(ScanData::new(&b"678"[..])))));
}

#[test]
fn honeywell_menu_reply() {
    // S4: the engine echoes the command and puts ACK before the terminator.
    let mut b = BytesMut::new();
    b.extend_from_slice(b"SUFBK2990D"); // echo
    b.extend_from_slice(&[
        0x06, // ACK
        0x2E, // '.' saved
    ]);
    assert_eq!(
        decode(&mut b),
        Ok(Some(Reply::Menu {
            text: "SUFBK2990D".into(),
            status: Status::Ack,
            persistence: Persistence::Saved
        }))
    );
}

#[test]
fn honeywell_menu_reply_with_enq_and_nak() {
    let mut b = buf(b"TRGMOD9\x15!"); // NAK: value out of range, '!' temporary
    assert!(matches!(decode(&mut b), Ok(Some(Reply::Menu { status: Status::Nak, .. }))));
    let mut b = buf(b"XXXYYY\x05!"); // ENQ: unknown tag
    assert!(matches!(decode(&mut b), Ok(Some(Reply::Menu { status: Status::Enq, .. }))));
    // Two settings in one menu command, the worst status wins.
    let mut b = buf(b"TRGMOD0\x06;SUFBK2990D\x15.");
    assert_eq!(
        decode(&mut b),
        Ok(Some(Reply::Menu {
            text: "TRGMOD0;SUFBK2990D".into(),
            status: Status::Nak,
            persistence: Persistence::Saved
        }))
    );
}

#[test]
fn honeywell_menu_reply_spanning_lines_when_awaited() {
    // REVINF answers several CR LF lines before the ACK; only an awaiting decoder keeps them.
    let mut d = Decoder::new();
    d.expect_menu_reply();
    let mut b = buf(b"REVINFProduct Name: Xenon\r\nBoot Revision: 1\r\n\x06.");
    match d.decode(&mut b) {
        Ok(Some(Reply::Menu { text, status: Status::Ack, .. })) => assert!(text.contains("Boot Revision")),
        other => panic!("{other:?}"),
    }
    assert!(!d.menu_pending());
}

#[test]
fn newland_legacy_ack() {
    let mut b = buf(&[0x06 /* ACK to NLS0006010; */]);
    assert_eq!(decode(&mut b), Ok(Some(Reply::Status(Status::Ack))));
    let mut b = buf(&[0x15 /* NAK */]);
    assert_eq!(decode(&mut b), Ok(Some(Reply::Status(Status::Nak))));
}

#[test]
fn newland_unified_reply() {
    #[rustfmt::skip]
    let mut b = buf(&[
        0x02, // STX
        0x01, // type
        0x30, 0x30, 0x30, 0x30, // "0000"
        0x23, 0x53, 0x43, 0x4E, 0x54, 0x52, 0x47, 0x31, // "#SCNTRG1" echo
        0x06, // ACK
        0x3B, // ';'
        0x03, // ETX
    ]);
    assert_eq!(decode(&mut b), Ok(Some(Reply::Unified { text: "#SCNTRG1".into(), status: Status::Ack })));
    assert!(b.is_empty());
}

#[test]
fn newland_unified_partial_and_bad_header() {
    let mut b = buf(&[0x02, 0x01, 0x30]);
    assert_eq!(decode(&mut b), Ok(None));
    assert_eq!(b.len(), 3);
    let mut b = buf(&[0x02, 0x09, 0x31, 0x0D]); // STX then not the unified header
    assert_eq!(decode(&mut b), Err(DecodeError::Garbage { dropped: 1 }));
}

#[test]
fn idle_flush_ends_a_suffixless_frame() {
    let mut d = Decoder::new();
    let mut b = buf(b"2845678901234567");
    assert_eq!(d.decode(&mut b), Ok(None));
    assert_eq!(d.decode_idle(&mut b), Ok(Some(Reply::Scan(ScanData::new(&b"2845678901234567"[..])))));
    // A half unified reply at idle is garbage, not a scan.
    let mut b = buf(&[0x02, 0x01, 0x30, 0x30]);
    assert_eq!(d.decode_idle(&mut b), Err(DecodeError::Garbage { dropped: 4 }));
}

#[test]
fn overlong_frames_are_dropped() {
    let mut b = BytesMut::from(&vec![b'7'; codec::MAX_FRAME + 10][..]);
    assert_eq!(decode(&mut b), Err(DecodeError::Overlong { dropped: codec::MAX_FRAME + 10 }));
    assert!(b.is_empty());
}

#[test]
fn empty_frames_are_skipped() {
    let mut b = buf(b"\r\r\n\r");
    assert_eq!(decode(&mut b), Ok(None));
    assert!(b.is_empty());
}

#[test]
fn scan_data_debug_never_shows_the_code() {
    let data = ScanData::new(&b"134567890123456789"[..]);
    assert_eq!(format!("{data:?}"), "ScanData(18 bytes)");
}

// ---- engine side (simulator's decoder) -----------------------------------------------------------

#[test]
fn host_frames_decode_for_every_vendor() {
    let mut b =
        buf(b"\x16T\r\x16U\r\x16M\rTRGMOD0;SUFBK2990D!\x1B1\x1B0NLS0006010;\x7E\x010000#SCNTRG1;\x03");
    let mut got = Vec::new();
    while let Some(f) = decode_host(&mut b).unwrap() {
        got.push(f);
    }
    assert_eq!(
        got,
        vec![
            HostFrame::Trigger,
            HostFrame::Untrigger,
            HostFrame::HoneywellMenu {
                settings: vec!["TRGMOD0".into(), "SUFBK2990D".into()],
                persistence: Persistence::Temporary
            },
            HostFrame::Trigger,
            HostFrame::Untrigger,
            HostFrame::NewlandSetting("NLS0006010".into()),
            HostFrame::Trigger,
        ]
    );
}

#[test]
fn encode_then_decode_host_agree() {
    for vendor in [Vendor::Honeywell, Vendor::Newland, Vendor::NewlandUnified] {
        for cmd in [Command::Trigger, Command::Untrigger] {
            let mut b = BytesMut::from(&codec::encode(vendor, &cmd).unwrap()[..]);
            let want = if cmd == Command::Trigger { HostFrame::Trigger } else { HostFrame::Untrigger };
            assert_eq!(decode_host(&mut b), Ok(Some(want)), "{vendor} {cmd:?}");
        }
    }
}
