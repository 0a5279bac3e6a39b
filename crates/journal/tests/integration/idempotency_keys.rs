//! Idempotency keys are journaled once (rule R2); a second use is `AlreadyRecorded` and writes nothing.

use crate::common;

use common::{fresh, ordered, to, T0};
use journal::{JournalError, NewKey};

#[tokio::test]
async fn same_key_on_another_payment_is_already_recorded() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();

    let mut second = ordered("P2", T0 + 1);
    second.keys = vec![NewKey::new("P2-pay", "pay"), NewKey::new("P1-pay", "pay")];
    let err = j.create_payment(&second).await.unwrap_err();
    assert!(matches!(err, JournalError::AlreadyRecorded { ref key } if key == "P1-pay"), "{err:?}");

    // Nothing of P2 was written: no payment row, no key, no transition.
    assert!(j.get("P2").await.unwrap().is_none());
    assert!(j.find_key("P2-pay").await.unwrap().is_none());
    let report = j.verify_chain().await.unwrap();
    assert_eq!(report.rows, 1);
    assert!(report.is_intact());

    // The owner of the key can be looked up, so the caller reuses it instead of sending twice.
    let owner = j.find_key("P1-pay").await.unwrap().unwrap();
    assert_eq!((owner.payment_id.as_str(), owner.purpose.as_str()), ("P1", "pay"));
}

#[tokio::test]
async fn key_in_a_transition_is_all_or_nothing() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    j.create_payment(&ordered("P2", T0 + 1)).await.unwrap();

    let mut refund = to("P2", T0 + 10, "REFUNDING");
    refund.keys = vec![NewKey::new("P1-pay", "refund")];
    let err = j.record_transition(&refund).await.unwrap_err();
    assert!(matches!(err, JournalError::AlreadyRecorded { .. }), "{err:?}");
    assert_eq!(j.get("P2").await.unwrap().unwrap().state, "ORDERED", "state unchanged");
    assert_eq!(j.transitions("P2").await.unwrap().len(), 1);

    refund.keys = vec![NewKey::new("P2-refund", "refund")];
    j.record_transition(&refund).await.unwrap();
    let keys: Vec<String> = j.keys("P2").await.unwrap().into_iter().map(|k| k.key).collect();
    assert_eq!(keys, ["P2-pay", "P2-refund"]);
    assert!(j.verify_chain().await.unwrap().is_intact());
}

#[tokio::test]
async fn add_keys_rejects_a_duplicate_and_keeps_none() {
    let (_dir, j) = fresh().await;
    j.create_payment(&ordered("P1", T0)).await.unwrap();
    let err = j
        .add_keys("P1", T0 + 5, &[NewKey::new("biller-1", "writeoff"), NewKey::new("P1-pay", "pay")])
        .await
        .unwrap_err();
    assert!(matches!(err, JournalError::AlreadyRecorded { ref key } if key == "P1-pay"), "{err:?}");
    assert!(j.find_key("biller-1").await.unwrap().is_none());

    j.add_keys("P1", T0 + 5, &[NewKey::new("biller-1", "writeoff")]).await.unwrap();
    assert_eq!(j.find_key("biller-1").await.unwrap().unwrap().created_at, T0 + 5);
}
