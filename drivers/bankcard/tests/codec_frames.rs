//! Literal frames of the ECR link (hardware.md §6.4 record inside our framing) and of the
//! CRT-310 slot (hardware.md §2.1 worked frames). LRC/BCC bytes were computed independently of
//! this crate (by hand with a Python one-liner) and are written here as literals.

use bankcard::codec::{
    decode_frame, encode_frame, Frame, FrameError, RecordError, Request, Response, REQUEST_LEN, RESPONSE_LEN,
    SHORT_RESPONSE_LEN,
};
use bankcard::frame::{IndustryInfo, RespCode, TransType, Verdict};
use bankcard::slot::codec::{CardPosition, ErrorCode, FrontEntry, MoveTo, Reply, ResetMode, SlotCommand};
use bytes::BytesMut;
use device::crt310::{decode_inbound, DecodeError, Inbound};
use kiosk_core::{FailKind, Fen};

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The 159-byte sale record for order YZK1261123000042, ¥79.50.
fn sale_record() -> Vec<u8> {
    cat(&[
        b"00000001",                         // POS no. (8)
        b"01      ",                         // operator (8), space-padded
        b"00",                               // trans type: sale
        b"000000007950",                     // amount, fen, 12 digits
        b"        ",                         // original date (8): none
        b"            ",                     // original reference no. (12): none
        b"      ",                           // original voucher no. (6): none
        b"011",                              // record check: XOR of the 56 bytes above = 0x0B = 11
        b"YZK1261123000042                ", // industry info: our order (32)
        &[b' '; 32],                         // industry info: original reference (32): none
        &[b' '; 36],                         // industry info: reserved (36)
    ])
}

fn sale_request() -> Request {
    Request {
        pos_no: "00000001".into(),
        operator: "01".into(),
        trans: TransType::Sale,
        amount: Fen(7950),
        orig_date: String::new(),
        orig_ref_no: String::new(),
        orig_voucher: String::new(),
        info: IndustryInfo::order("YZK1261123000042"),
    }
}

#[test]
fn sale_request_encodes_to_the_literal_frame() {
    let record = sale_request().encode().unwrap();
    assert_eq!(record.len(), REQUEST_LEN);
    assert_eq!(record, sale_record());
    let frame = encode_frame(&record).unwrap();
    assert_eq!(frame[0], 0x02); // STX
    assert_eq!(&frame[1..3], &[0x01, 0x59]); // LEN 159 in BCD
    assert_eq!(&frame[3..162], &sale_record()[..]); // the record
    assert_eq!(frame[162], 0x03); // ETX
    assert_eq!(frame[163], 0x1A); // LRC: XOR of 01 59 .. 03
    assert_eq!(frame.len(), 164);
    assert_eq!(Request::decode(&record).unwrap(), sale_request());
}

#[test]
fn query_last_request_is_a_bare_record() {
    let req = Request {
        trans: TransType::QueryLast,
        amount: Fen::ZERO,
        info: IndustryInfo::default(),
        ..sale_request()
    };
    let frame = encode_frame(&req.encode().unwrap()).unwrap();
    let expected_record = cat(&[
        b"00000001",     // POS no.
        b"01      ",     // operator
        b"QL",           // trans type: QUERY_LAST (our extension)
        b"000000000000", // amount: none
        &[b' '; 26],     // original date, reference no., voucher no.: none
        b"029",          // record check: 0x1D = 29
        &[b' '; 100],    // industry info: empty
    ]);
    assert_eq!(&frame[..3], &[0x02, 0x01, 0x59]); // STX, LEN 159 BCD
    assert_eq!(&frame[3..162], &expected_record[..]);
    assert_eq!(&frame[162..], &[0x03, 0x7D]); // ETX, LRC
}

/// The approval of the sale above, as the terminal sends it.
fn approval_record() -> Vec<u8> {
    cat(&[
        b"00",                                             // code: approved
        b"0102",                                           // issuer bank
        b"622202******0018    ",                           // masked PAN (20)
        b"000001",                                         // voucher no.
        b"000000007950",                                   // amount
        &[0xBD, 0xBB, 0xD2, 0xD7, 0xB3, 0xC9, 0xB9, 0xA6], // "交易成功" in GBK
        &[b' '; 32],                                       // message padding to 40
        b"898310048990001",                                // merchant id (15)
        b"10000001",                                       // terminal id (8)
        b"000001",                                         // batch
        b"0301",                                           // date MMDD
        b"101530",                                         // time hhmmss
        b"310000000001",                                   // reference no. (12)
        b"A1B2C3",                                         // auth code
        b"0301",                                           // settlement date
        b"034",                                            // record check: 0x22 = 34
        b"00",                                             // reply-to: sale
        b"00",                                             // transaction: sale
        b"YZK1261123000042                ",               // industry info echoed: our order
        &[b' '; 68],                                       // original reference and reserved
    ])
}

#[test]
fn an_approval_frame_decodes_field_by_field() {
    let mut frame = vec![0x02, 0x02, 0x52]; // STX, LEN 252 in BCD
    frame.extend_from_slice(&approval_record());
    frame.extend_from_slice(&[0x03, 0x3C]); // ETX, LRC
    let mut buf = BytesMut::from(&frame[..]);
    let Ok(Some(Frame::Data(rec))) = decode_frame(&mut buf) else { panic!("one frame") };
    assert!(buf.is_empty());
    assert_eq!(rec.len(), RESPONSE_LEN);
    let r = Response::decode(&rec).unwrap();
    assert_eq!(r.code, RespCode::APPROVED);
    assert_eq!(r.code.verdict(), Verdict::Approved);
    assert_eq!(r.pan.as_ref().unwrap().as_receipt_text(), "622202******0018");
    assert_eq!((r.voucher.as_str(), r.amount), ("000001", Fen(7950)));
    assert_eq!(r.message, "交易成功");
    assert_eq!((r.ref_no.as_str(), r.auth_code.as_str()), ("310000000001", "A1B2C3"));
    assert_eq!((r.batch.as_str(), r.date.as_str(), r.time.as_str()), ("000001", "0301", "101530"));
    assert_eq!((r.reply_to, r.trans), (TransType::Sale, Some(TransType::Sale)));
    assert_eq!(r.info.reference, "YZK1261123000042");
    // And the simulator's encoder produces the same bytes.
    assert_eq!(r.encode().unwrap(), approval_record());
}

#[test]
fn the_short_response_record_of_the_spec_answers_the_request_just_sent() {
    // hardware.md §6.4 lists the response as code (2) … settlement date (4) · LRC: 148 bytes,
    // with no type and no echoed references.
    let short = approval_record()[..SHORT_RESPONSE_LEN].to_vec();
    assert_eq!(&short[SHORT_RESPONSE_LEN - 3..], b"034", "ends with the record check");
    let sale = sale_request();
    let r = Response::decode_answer(&short, &sale).unwrap();
    assert_eq!((r.code, r.amount, r.voucher.as_str()), (RespCode::APPROVED, Fen(7950), "000001"));
    assert_eq!((r.reply_to, r.trans), (TransType::Sale, Some(TransType::Sale)));
    assert_eq!(r.info, sale.info);
    // Of a QUERY_LAST it cannot tell which order the last transaction was.
    let query =
        Request { trans: TransType::QueryLast, amount: Fen::ZERO, info: IndustryInfo::default(), ..sale };
    let r = Response::decode_answer(&short, &query).unwrap();
    assert_eq!((r.reply_to, r.trans), (TransType::QueryLast, None));
    // Another amount is the late answer to another request, never this one's.
    let other = Request { amount: Fen(7951), ..sale_request() };
    assert!(Response::decode_answer(&short, &other).is_err());
    // Our own full record still decodes as before, and a damaged short one is refused.
    assert_eq!(Response::decode_answer(&approval_record(), &query).unwrap().trans, Some(TransType::Sale));
    let mut damaged = short.clone();
    damaged[30] ^= 0x01;
    assert!(Response::decode_answer(&damaged, &query).is_err());
}

#[test]
fn a_last_transaction_of_a_type_the_kiosk_never_sends_is_about_none_of_its_orders() {
    // The terminal's last transaction was its daily sign-in (`05`, hardware.md §6.4): the
    // answer to QUERY_LAST still decodes.
    let mut rec = approval_record();
    let at = RESPONSE_LEN - 100 - 2;
    assert_eq!(&rec[at..at + 2], b"00");
    rec[at..at + 2].copy_from_slice(b"05");
    let r = Response::decode(&rec).unwrap();
    assert_eq!(r.trans, None);
    rec[at..at + 2].copy_from_slice(&[0x00, 0xFF]);
    assert!(Response::decode(&rec).is_err(), "bytes that are no type at all are refused");
}

#[test]
fn ack_and_nak_are_single_bytes_between_frames() {
    let mut buf = BytesMut::from(&[0x06, 0x15][..]); // ACK, NAK
    assert_eq!(decode_frame(&mut buf), Ok(Some(Frame::Ack)));
    assert_eq!(decode_frame(&mut buf), Ok(Some(Frame::Nak)));
    assert_eq!(decode_frame(&mut buf), Ok(None));
}

#[test]
fn a_partial_frame_waits_and_consumes_nothing() {
    let frame = encode_frame(&sale_record()).unwrap();
    for cut in [1, 2, 3, 100, 163] {
        let mut buf = BytesMut::from(&frame[..cut]);
        assert_eq!(decode_frame(&mut buf), Ok(None), "cut at {cut}");
        assert_eq!(buf.len(), cut);
    }
}

#[test]
fn garbage_before_a_frame_is_dropped_and_counted() {
    let mut bytes = vec![0x41, 0x00, 0xFF]; // line noise
    bytes.extend_from_slice(&encode_frame(&sale_record()).unwrap());
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(decode_frame(&mut buf), Err(FrameError::Garbage { dropped: 3 }));
    assert!(matches!(decode_frame(&mut buf), Ok(Some(Frame::Data(_)))));
}

#[test]
fn a_bad_lrc_drops_the_whole_frame_and_asks_for_a_nak() {
    let mut frame = encode_frame(&sale_record()).unwrap();
    *frame.last_mut().unwrap() = 0xE5; // LRC 1A flipped
    frame.push(0x06); // an ACK behind it
    let mut buf = BytesMut::from(&frame[..]);
    let e = decode_frame(&mut buf).unwrap_err();
    assert_eq!(e, FrameError::BadLrc { expected: 0x1A, actual: 0xE5 });
    assert!(e.wants_nak());
    assert_eq!(decode_frame(&mut buf), Ok(Some(Frame::Ack)));
}

#[test]
fn a_length_that_is_not_bcd_drops_only_the_stx() {
    // STX, LEN 0x1A 0x00 (nibble A is not a decimal digit), then an ACK.
    let mut buf = BytesMut::from(&[0x02, 0x1A, 0x00, 0x06][..]);
    assert_eq!(decode_frame(&mut buf), Err(FrameError::BadLength));
    assert_eq!(&buf[..], &[0x1A, 0x00, 0x06]);
}

#[test]
fn a_missing_etx_drops_only_the_stx() {
    // STX, LEN 0002, "00", then 0x04 where ETX belongs, LRC.
    let mut buf = BytesMut::from(&[0x02, 0x00, 0x02, 0x30, 0x30, 0x04, 0x00][..]);
    assert_eq!(decode_frame(&mut buf), Err(FrameError::MissingEtx { len: 2 }));
    assert_eq!(buf.len(), 6);
}

#[test]
fn a_wrong_record_check_is_refused() {
    let mut rec = sale_record();
    rec[56..59].copy_from_slice(b"012"); // check should be 011
    assert_eq!(Request::decode(&rec), Err(RecordError::Check { expected: 11, actual: *b"012" }));
}

#[test]
fn an_unmasked_card_number_is_dropped_not_kept() {
    let mut rec = approval_record();
    rec[6..26].copy_from_slice(b"6222020000000018    "); // a full PAN: must never be kept
    let x = rec[..145].iter().fold(0u8, |a, b| a ^ b);
    rec[145..148].copy_from_slice(format!("{x:03}").as_bytes());
    let r = Response::decode(&rec).unwrap();
    assert_eq!(r.pan, None);
    assert!(!format!("{r:?}").contains("6222020000000018"));
}

#[test]
fn decline_codes_are_definite_and_unknown_codes_are_not() {
    assert_eq!(RespCode::INSUFFICIENT_FUNDS.verdict(), Verdict::Declined(FailKind::Customer));
    assert_eq!(RespCode::CANCELLED.verdict(), Verdict::Declined(FailKind::Customer));
    assert_eq!(RespCode::HOST_NO_REPLY.verdict(), Verdict::Unknown);
    assert_eq!(RespCode::IN_PROGRESS.verdict(), Verdict::InProgress);
    assert_eq!(RespCode::NO_TRANSACTION.verdict(), Verdict::NotFound);
}

#[test]
fn a_gbk_message_is_cut_at_a_character_boundary() {
    let mut r = Response::bare(RespCode::DO_NOT_HONOUR, TransType::Sale);
    r.message = "交易拒绝请联系发卡行交易拒绝请联系发卡行交易拒绝".into(); // 24 Hanzi = 48 bytes in GBK
    let rec = r.encode().unwrap();
    let back = Response::decode(&rec).unwrap();
    assert_eq!(back.message, "交易拒绝请联系发卡行交易拒绝请联系发卡行"); // 20 Hanzi = 40 bytes
}

// ---- CRT-310 slot, hardware.md §2.1 worked frames -------------------------------------------

#[test]
fn crt310_commands_match_the_worked_frames() {
    // STX, LEN 00 02, CM PM, ETX, BCC
    assert_eq!(SlotCommand::Reset(ResetMode::Keep).encode(), [0x02, 0x00, 0x02, 0x30, 0x30, 0x03, 0x03]);
    // Reset, card to the rear (captured): BCC 01 = 02^00^02^30^32^03.
    assert_eq!(SlotCommand::Reset(ResetMode::EjectRear).encode(), [0x02, 0x00, 0x02, 0x30, 0x32, 0x03, 0x01]);
    assert_eq!(SlotCommand::Status.encode(), [0x02, 0x00, 0x02, 0x31, 0x30, 0x03, 0x02]);
    assert_eq!(SlotCommand::Move(MoveTo::EjectFront).encode(), [0x02, 0x00, 0x02, 0x32, 0x30, 0x03, 0x01]);
    assert_eq!(SlotCommand::Move(MoveTo::Gate).encode(), [0x02, 0x00, 0x02, 0x32, 0x31, 0x03, 0x00]);
    assert_eq!(SlotCommand::Move(MoveTo::Capture).encode(), [0x02, 0x00, 0x02, 0x32, 0x33, 0x03, 0x02]);
    // Card-in control, front switch mode (33), rear forbidden (31): LEN 00 03, BCC recomputed.
    assert_eq!(
        SlotCommand::CardIn(FrontEntry::Switch).encode(),
        [0x02, 0x00, 0x03, 0x2F, 0x33, 0x31, 0x03, 0x2F]
    );
}

#[test]
fn crt310_status_reply_decodes_the_position() {
    // STX, LEN 00 05, CM 31 PM 30, S1 49 (card held at the gate), S2 4E, S3 4E, ETX, BCC
    let mut buf = BytesMut::from(&[0x02, 0x00, 0x05, 0x31, 0x30, 0x49, 0x4E, 0x4E, 0x03, 0x4C][..]);
    let r = decode_inbound(&mut buf).unwrap().unwrap();
    assert_eq!(r, Inbound::Reply(Reply::Positive { cm: 0x31, pm: 0x30, data: vec![0x49, 0x4E, 0x4E] }));
    assert_eq!(CardPosition::try_from(0x49), Ok(CardPosition::Gate));
}

#[test]
fn crt310_a_p_in_front_of_a_reply_is_not_stripped() {
    let bytes = [
        0x02, // STX
        0x00, 0x06, // LEN 6
        0x50, // 'P': not a CRT-310 reply byte
        0x31, 0x30, // status CM PM, one place late
        0x49, 0x4E, 0x4E, // S1 S2 S3
        0x03, // ETX
        0x1F, // BCC = 02^00^06^50^31^30^49^4E^4E^03
    ];
    let mut buf = BytesMut::from(&bytes[..]);
    let Some(Inbound::Reply(r)) = decode_inbound(&mut buf).unwrap() else { panic!("not a reply") };
    assert_eq!(r, Reply::Positive { cm: 0x50, pm: 0x31, data: vec![0x30, 0x49, 0x4E, 0x4E] });
    assert!(!r.answers(&SlotCommand::Status.text()));
}

#[test]
fn crt310_negative_reply_and_bad_bcc() {
    // STX, LEN 00 03, 'N', CM 32, E 06 (abnormal card inside), ETX, BCC
    let mut buf = BytesMut::from(&[0x02, 0x00, 0x03, 0x4E, 0x32, 0x06, 0x03, 0x78][..]);
    assert_eq!(
        decode_inbound(&mut buf),
        Ok(Some(Inbound::Reply(Reply::Negative { cm: 0x32, error: ErrorCode::AbnormalCard })))
    );
    let mut bad = BytesMut::from(&[0x02, 0x00, 0x02, 0x30, 0x30, 0x03, 0x04][..]); // BCC 03 → 04
    assert_eq!(
        decode_inbound(&mut bad),
        Err(DecodeError::Frame(device::crt310::FrameError::BadBcc { expected: 0x03, actual: 0x04 }))
    );
    assert!(bad.is_empty());
}
