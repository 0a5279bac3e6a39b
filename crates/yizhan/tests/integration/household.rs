//! The household from one card: the customer's resident ID card in the simulated ID slot, read by
//! the real driver, the holder digest sent to the joint-bill simulator over signed HTTP, and the
//! card back at the gate every time — found, unknown, unreadable or with the biller down.

use crate::support;

use billers::sim::{DEMO_HOLDER, JOINT_ACCOUNT};
use idcard::sim::{CardPlace, IdSim, Identity};
use idcard::text::WipeReport;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;
use tokio::time::Instant;
use yizhan::commands::customer::insert_id_card_when_allowed;
use yizhan::runtime::{AccountKind, HouseholdAccount, HouseholdError};

/// Wipes of ID card data in this test process, and those that left a non-zero byte.
static WIPES: AtomicUsize = AtomicUsize::new(0);
static DIRTY_WIPES: AtomicUsize = AtomicUsize::new(0);

fn count_wipe(report: WipeReport) {
    WIPES.fetch_add(1, Ordering::SeqCst);
    if !report.all_zero {
        DIRTY_WIPES.fetch_add(1, Ordering::SeqCst);
    }
}

fn id_sim(kiosk: &TestKiosk) -> Arc<IdSim> {
    kiosk.runtime().devices.sims.idcard.clone().expect("a simulated ID reader")
}

fn in_20_s() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

#[tokio::test]
async fn the_synthetic_id_card_finds_the_demo_joint_account_and_is_given_back_wiped() {
    // The demo data is seeded for exactly the card the simulated customer inserts.
    let card = Identity::synthetic(20261123);
    assert_eq!(billers::holder_digest(&card.id_number).as_deref(), Some(DEMO_HOLDER));
    assert!(billers::demo_accounts()
        .iter()
        .any(|(kind, account, _)| kind == "joint" && account == JOINT_ACCOUNT));

    idcard::text::set_wipe_observer(Some(count_wipe));
    let kiosk = TestKiosk::start().await;
    let sim = id_sim(&kiosk);
    let wipes_before = WIPES.load(Ordering::SeqCst);
    insert_id_card_when_allowed(&kiosk.backend);

    let accounts = kiosk.runtime().find_household(in_20_s()).await.unwrap();
    let joint = HouseholdAccount {
        kind: AccountKind::Joint,
        account: kiosk_core::AccountNo::from_trusted(JOINT_ACCOUNT),
    };
    assert_eq!(accounts.first(), Some(&joint), "joint account first: {accounts:?}");
    let kinds: Vec<AccountKind> = accounts.iter().map(|a| a.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == AccountKind::Joint).count(), 1);
    assert_eq!(accounts.len(), 4, "the household's water, power and gas accounts too");

    // The card is at the gate for its owner, never kept, and its data was wiped.
    assert_eq!(sim.card_place(), CardPlace::Gate);
    assert_eq!(sim.capture_attempts(), 0);
    assert!(WIPES.load(Ordering::SeqCst) > wipes_before, "the card data was wiped");
    assert_eq!(DIRTY_WIPES.load(Ordering::SeqCst), 0);
    assert_eq!(sim.take_card(), Some(card));

    // The account found is the one the joint bill answers, without anyone typing it.
    let bill = kiosk.runtime().fetch_joint_bill(accounts[0].account.as_str()).await.unwrap();
    assert_eq!(bill.joint_account.as_str(), JOINT_ACCOUNT);
    assert_eq!(bill.bills.len(), 3);
}

#[tokio::test]
async fn an_unknown_holder_or_a_failing_biller_is_said_so_and_the_card_comes_back() {
    let kiosk = TestKiosk::start().await;
    let sim = id_sim(&kiosk);

    sim.insert_card_when_allowed(Identity::synthetic(1));
    let unknown = kiosk.runtime().find_household(in_20_s()).await.unwrap_err();
    assert_eq!(unknown, HouseholdError::UnknownHousehold);
    assert_eq!(
        unknown.message().in_lang(catalogue::Lang::Zh),
        "未查到与该身份证关联的户号，请输入账单上的户号。"
    );
    assert_eq!(sim.card_place(), CardPlace::Gate);
    assert!(sim.take_card().is_some());

    kiosk.sims().billers.joint.sim.faults().inject("household", Fault::Status { code: 503 }, 1);
    insert_id_card_when_allowed(&kiosk.backend);
    let down = kiosk.runtime().find_household(in_20_s()).await.unwrap_err();
    assert!(matches!(&down, HouseholdError::BillerUnreachable { .. }), "{down:?}");
    assert!(down.message().in_lang(catalogue::Lang::En).contains("try again later"));
    assert_eq!(sim.card_place(), CardPlace::Gate, "the card went back before the biller was asked");
    assert!(sim.take_card().is_some());
    assert_eq!(sim.capture_attempts(), 0);
}

#[tokio::test]
async fn no_card_in_time_is_a_read_failure_the_biller_is_not_asked_and_the_slot_is_closed() {
    let kiosk = TestKiosk::start().await;
    let sim = id_sim(&kiosk);
    // Queued for the next household request: still there at the end if none was made.
    kiosk.sims().billers.joint.sim.faults().inject("household", Fault::Status { code: 503 }, 1);

    let error =
        kiosk.runtime().find_household(Instant::now() + Duration::from_millis(600)).await.unwrap_err();
    let HouseholdError::CardRead { message, .. } = &error else {
        panic!("expected a card read failure, got {error:?}");
    };
    let timed_out = [idcard::IdError::NoCard, idcard::IdError::Timeout];
    assert!(timed_out.iter().any(|e| e.message() == *message), "{error:?}");
    assert_eq!(error.message(), *message);
    assert!(message.in_lang(catalogue::Lang::Zh).contains("身份证"), "{error:?}");
    // A card pushed in after the kiosk gave up is not let in.
    assert!(!sim.insert_card(Identity::synthetic(20261123)));
    assert_eq!(sim.card_place(), CardPlace::Outside);

    let joint = kiosk.runtime().billers.joint().unwrap();
    assert!(matches!(joint.household(DEMO_HOLDER).await, Err(billers::BillerError::Unavailable { .. })));
}

#[tokio::test]
async fn a_kiosk_without_an_id_reader_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let keys = repo_config_dir().join("sim-keys");
    let backend = yizhan::backend::Backend::start_embedded(&keys, dir.path(), 100, false).await.unwrap();
    let error = backend.runtime.find_household(in_20_s()).await.unwrap_err();
    assert_eq!(error, HouseholdError::NoReader);
    assert_eq!(
        error.message().in_lang(catalogue::Lang::En),
        "This kiosk has no ID card reader. Please enter the account number on your bill."
    );
}
