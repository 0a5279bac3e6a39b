//! Personal data is wiped when the card is dropped (architecture rule 7). Own test binary: the
//! wipe observer is process-wide.

mod common;

use common::*;
use idcard::sim::{IdSim, Identity};
use idcard::text::{set_wipe_observer, WipeReport};
use std::sync::Mutex;

static WIPES: Mutex<Vec<WipeReport>> = Mutex::new(Vec::new());

fn record(r: WipeReport) {
    WIPES.lock().unwrap().push(r);
}

#[tokio::test]
async fn a_read_card_is_zeroed_when_dropped() {
    set_wipe_observer(Some(record));
    let sim = IdSim::start().unwrap();
    let id = Identity::synthetic(99);
    let mut reader = ready_reader(&sim).await;
    sim.insert_card_when_allowed(id.clone());
    let card = reader.read_card(deadline(10)).await.unwrap();
    let expected = card.name().len()
        + card.address().len()
        + card.id_number().expose().len()
        + card.authority().len()
        + card.photo().as_bytes().len();
    assert!(WIPES.lock().unwrap().is_empty(), "nothing wiped while the session holds the card");

    drop(card); // the session ends

    let wipes = WIPES.lock().unwrap().clone();
    assert_eq!(wipes, [WipeReport { bytes: expected, all_zero: true }]);
    assert_eq!(expected, id.name.len() + id.address.len() + 18 + id.authority.len() + 1024);
    set_wipe_observer(None);
}
