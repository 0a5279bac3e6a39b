//! Gas-card top-up end to end over the simulators' ptys: the real drivers (CRT-310 and CCID), the
//! real codecs, a card with real SLE4442 state, and the meter model.

mod common;

use common::*;
use iccard::crt310::CardPosition;
use iccard::sim::{CcidSim, Crt310Sim, MeterModel, MeterOutcome, SimCard, SimSlot};
use iccard::{CardError, CardKind, CardPresence, IcCardReader};

fn crt() -> (Crt310Sim, IcCardReader) {
    let sim = Crt310Sim::start().unwrap();
    let r = crt310_reader(&sim, PSC);
    (sim, r)
}

fn ccid() -> (CcidSim, IcCardReader) {
    let sim = CcidSim::start().unwrap();
    let r = ccid_reader(&sim, PSC);
    (sim, r)
}

/// Runs `$body` (an async block using `slot: &SimSlot` and `reader: &mut IcCardReader`) over
/// both readers, the CRT-310 in both of its SLE4442 reply forms.
macro_rules! on_both_readers {
    ($name:ident, |$slot:ident, $reader:ident| $body:block) => {
        mod $name {
            use super::*;
            async fn scenario($slot: &SimSlot, $reader: &mut IcCardReader) $body

            #[tokio::test]
            async fn crt310() {
                let (sim, mut r) = crt();
                scenario(&sim, &mut r).await;
            }

            /// A CRT-310 whose SLE4442 reads put P before the data (§3.2 shows them bare).
            #[tokio::test]
            async fn crt310_with_operation_byte() {
                let (sim, mut r) = crt();
                sim.answer_sle_reads_with_operation_byte(true);
                scenario(&sim, &mut r).await;
            }

            #[tokio::test]
            async fn ccid() {
                let (sim, mut r) = super::ccid();
                scenario(&sim, &mut r).await;
            }
        }
    };
}

on_both_readers!(a_new_card_reads_count_zero_and_loaded, |slot, reader| {
    slot.insert(user_card()).unwrap();
    assert_eq!(reader.presence().await.unwrap(), CardPresence::Inside);
    let card = reader.read_gas_card().await.unwrap();
    assert_eq!(card.card_no, CARD_NO);
    assert_eq!(card.user_no.digits(), USER_NO);
    assert_eq!(card.user_no.to_string(), "31****11", "masked for screens and logs");
    assert!(!format!("{card:?}").contains(USER_NO));
    assert_eq!(card.purchase_count, 0);
    assert!(card.last_purchase_loaded);
    assert_eq!(card.purchase().purchase_count, 0);
});

on_both_readers!(a_top_up_is_written_verified_and_credited_once, |slot, reader| {
    let mut meter = MeterModel::new();
    slot.insert(user_card()).unwrap();
    let p1 = purchase(1, 5000);
    let card = reader.read_gas_card().await.unwrap();
    reader.write_purchase_for(&card.purchase(), &p1).await.unwrap();
    let after = reader.read_gas_card().await.unwrap();
    assert_eq!((after.purchase_count, after.last_purchase_loaded), (1, false));
    assert_eq!(slot.card().unwrap().pending_purchase().unwrap().seq, 1, "written, not yet in the meter");

    // A second sale before the meter took the first is refused; the card is untouched.
    let before = slot.card().unwrap();
    let err = reader.write_purchase(&purchase(2, 3000)).await.unwrap_err();
    assert!(matches!(err, CardError::LastPurchaseNotLoaded { on_card: 1 }), "{err:?}");
    assert_eq!(slot.card().unwrap().memory(), before.memory());

    // Rewriting the same purchase (补写卡) is allowed and changes nothing.
    reader.write_purchase(&p1).await.unwrap();
    assert_eq!(slot.card().unwrap().memory(), before.memory());

    let mut c = slot.take().unwrap();
    assert_eq!(meter.insert(&mut c), MeterOutcome::Credited { seq: 1 });
    assert_eq!(meter.insert(&mut c), MeterOutcome::Replayed { seq: 1 });
    slot.insert(c).unwrap();
    let card = reader.read_gas_card().await.unwrap();
    assert!(card.last_purchase_loaded);
    reader.write_purchase_for(&card.purchase(), &purchase(2, 3000)).await.unwrap();
    let mut c = slot.take().unwrap();
    assert_eq!(meter.insert(&mut c), MeterOutcome::Credited { seq: 2 });
    assert_eq!(meter.loads().iter().map(|l| l.seq).collect::<Vec<_>>(), [1, 2]);
});

// payments.md F16 / issue 4: pull the card out at every byte offset of a top-up write, then
// rewrite the same purchase (补写卡): the meter credits it exactly once, whether or not the
// customer tried the half-written card in the meter in between.
on_both_readers!(pull_out_at_every_byte_then_rewrite_credits_once, |slot, reader| {
    // A card whose purchase no. 1 is already loaded, so no. 2 goes into slot B.
    let mut meter_template = MeterModel::new();
    slot.insert(user_card()).unwrap();
    reader.write_purchase(&purchase(1, 5000)).await.unwrap();
    let mut template = slot.take().unwrap();
    meter_template.insert(&mut template);

    let p2 = purchase(2, 8800);
    let total = bytes_written(&p2);
    for k in 0..=total + 1 {
        for meter_in_between in [false, true] {
            let mut meter = meter_template.clone();
            slot.insert(template.clone()).unwrap();
            slot.pull_out_after(k);
            let first = reader.write_purchase(&p2).await;
            if k < total {
                let err = first.unwrap_err();
                assert!(matches!(err, CardError::CardRemoved), "offset {k}: {err:?}");
                assert!(err.rewrite_may_help());
            } else {
                first.unwrap_or_else(|e| panic!("offset {k}: {e:?}"));
            }
            slot.no_pull_out();
            let mut card = slot.take().expect("the customer holds the card");
            if meter_in_between {
                let out = meter.insert(&mut card);
                assert!(
                    matches!(out, MeterOutcome::Replayed { seq: 1 } | MeterOutcome::Credited { seq: 2 }),
                    "offset {k}: {out:?}"
                );
            }
            // 补写卡: the same purchase again, at this (or any) kiosk.
            slot.insert(card).unwrap();
            reader.write_purchase(&p2).await.unwrap_or_else(|e| panic!("rewrite after offset {k}: {e:?}"));
            let read = reader.read_gas_card().await.unwrap();
            assert_eq!(read.purchase_count, 2, "offset {k}");
            let mut card = slot.take().unwrap();
            meter.insert(&mut card);
            meter.insert(&mut card);
            let credited: Vec<u32> = meter.loads().iter().map(|l| l.seq).collect();
            assert_eq!(credited, [1, 2], "offset {k}, meter in between {meter_in_between}: credited once");
            assert_eq!(meter.loads()[1].data, hex::decode(&p2.data_hex).unwrap());
        }
    }
    assert!(slot.pulls() >= total as u64 * 2);
});

on_both_readers!(the_psc_counter_never_drops_below_one_because_of_us, |slot, reader| {
    // The kiosk holds the wrong PSC for this card.
    let card = SimCard::gas_user_card(CARD_NO, USER_NO, [0xAA, 0xBB, 0xCC]).unwrap();
    slot.insert(card).unwrap();
    let p = purchase(1, 100);
    let e = reader.write_purchase(&p).await.unwrap_err();
    assert!(matches!(e, CardError::WrongPsc { attempts_left: 2 }), "{e:?}");
    let e = reader.write_purchase(&p).await.unwrap_err();
    assert!(matches!(e, CardError::WrongPsc { attempts_left: 1 }), "{e:?}");
    for _ in 0..5 {
        let e = reader.write_purchase(&p).await.unwrap_err();
        assert!(matches!(e, CardError::LastPscAttempt), "{e:?}");
        assert!(e.needs_staff());
        assert_eq!(slot.card().unwrap().attempts_left(), 1);
    }
    assert_eq!(reader.psc_attempts_left().await.unwrap(), 1);
    assert!(slot.card().unwrap().pending_purchase().is_none(), "nothing written");
});

on_both_readers!(one_attempt_left_is_refused_even_with_the_right_psc, |slot, reader| {
    slot.insert(user_card().with_error_counter(0x04)).unwrap();
    let e = reader.write_purchase(&purchase(1, 100)).await.unwrap_err();
    assert!(matches!(e, CardError::LastPscAttempt), "{e:?}");
    assert_eq!(slot.card().unwrap().error_counter(), 0x04, "not even one more try");
});

on_both_readers!(a_correct_psc_restores_the_counter, |slot, reader| {
    slot.insert(user_card().with_error_counter(0x06)).unwrap();
    reader.write_purchase(&purchase(1, 100)).await.unwrap();
    assert_eq!(slot.card().unwrap().error_counter(), 0x07);
});

on_both_readers!(a_locked_card_is_refused, |slot, reader| {
    slot.insert(user_card().with_error_counter(0x00)).unwrap();
    let card = reader.read_gas_card().await.unwrap();
    assert_eq!(card.purchase_count, 0, "reading is free");
    let e = reader.write_purchase(&purchase(1, 100)).await.unwrap_err();
    assert!(matches!(e, CardError::Locked), "{e:?}");
    assert!(e.needs_staff());
});

on_both_readers!(wrong_card_types_are_refused, |slot, reader| {
    let cases = [
        (SimCard::cpu_card(), CardKind::CpuCard),
        (SimCard::sle4428(), CardKind::OtherMemoryCard),
        (SimCard::gas_tool_card(0x88, PSC), CardKind::GasToolCard(0x88)),
        (SimCard::blank_sle4442(PSC), CardKind::ForeignSle4442),
    ];
    for (card, kind) in cases {
        slot.insert(card).unwrap();
        let e = reader.read_gas_card().await.unwrap_err();
        assert!(matches!(e, CardError::WrongCardType { found } if found == kind), "{kind:?}: {e:?}");
        let e = reader.write_purchase(&purchase(1, 100)).await.unwrap_err();
        assert!(matches!(e, CardError::WrongCardType { .. }), "{kind:?}: {e:?}");
        slot.take().unwrap();
    }
});

on_both_readers!(no_card_other_card_and_out_of_sync_purchases, |slot, reader| {
    let e = reader.read_gas_card().await.unwrap_err();
    assert!(matches!(e, CardError::NoCard), "{e:?}");
    slot.insert(user_card()).unwrap();
    let other = kiosk_core::CardPurchase { card_no: "8800000099".into(), purchase_count: 0 };
    let e = reader.write_purchase_for(&other, &purchase(1, 100)).await.unwrap_err();
    assert!(matches!(e, CardError::WrongCard), "{e:?}");
    let e = reader.write_purchase(&purchase(5, 100)).await.unwrap_err();
    assert!(matches!(e, CardError::SequenceMismatch { on_card: 0, requested: 5 }), "{e:?}");
    let bad = kiosk_core::CardWriteData { purchase_seq: 1, data_hex: "zz".into() };
    assert!(matches!(reader.write_purchase(&bad).await, Err(CardError::BadWriteData(_))));
    reader.write_purchase(&purchase(1, 100)).await.unwrap();
    let e = reader.write_purchase(&purchase(1, 999)).await.unwrap_err();
    assert!(matches!(e, CardError::PurchaseConflict { seq: 1 }), "{e:?}");
});

#[tokio::test]
async fn the_motorised_slot_ejects_to_the_gate_and_captures_abandoned_cards() {
    let (sim, mut r) = crt();
    sim.insert(user_card()).unwrap();
    r.read_gas_card().await.unwrap();
    assert_eq!(sim.position(), CardPosition::InsideContacts);
    r.eject().await.unwrap();
    assert_eq!(sim.position(), CardPosition::Gate);
    assert_eq!(r.presence().await.unwrap(), CardPresence::AtGate);
    let st = r.device_status().await;
    assert_eq!(st.media, device::MediaState::Present);
    let slow = std::time::Duration::from_millis(200);
    assert!(!r.wait_until_taken(slow, std::time::Duration::from_millis(50)).await.unwrap(), "abandoned");
    r.capture().await.unwrap();
    assert_eq!(sim.captured().len(), 1);
    assert_eq!(r.presence().await.unwrap(), CardPresence::Absent);
    assert_eq!(r.device_status().await.media, device::MediaState::NotPresent);
}

#[tokio::test]
async fn a_taken_card_is_noticed_and_closed_entry_refuses_cards() {
    let (sim, mut r) = crt();
    sim.insert(user_card()).unwrap();
    r.eject().await.unwrap();
    assert!(sim.take().is_some());
    let poll = std::time::Duration::from_millis(20);
    assert!(r.wait_until_taken(poll * 10, poll).await.unwrap());
    r.set_entry(false).await.unwrap();
    assert!(sim.insert(user_card()).is_err(), "entry forbidden");
    r.set_entry(true).await.unwrap();
    sim.insert(user_card()).unwrap();
    r.wait_for_card(poll * 10, poll).await.unwrap();
}

#[tokio::test]
async fn a_ccid_slot_cannot_capture() {
    let (sim, mut r) = ccid();
    sim.insert(user_card()).unwrap();
    r.eject().await.unwrap();
    assert!(matches!(r.capture().await, Err(CardError::Reader(iccard::ReaderError::Unsupported(_)))));
}

/// The kiosk runs the reader in a spawned tokio task: every API future must be `Send`.
#[allow(dead_code)]
fn api_futures_are_send(r: &mut IcCardReader, p: &kiosk_core::CardWriteData) {
    fn send<T: Send>(_: T) {}
    send(r.read_gas_card());
    send(r.write_purchase(p));
    send(r.device_status());
    send(r.eject());
}
