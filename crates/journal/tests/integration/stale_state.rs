//! Two writers never both move a payment out of the same state: a transition that names the
//! state it expects is refused, and writes nothing, when the journal holds another.

use crate::common;

use journal::JournalError;

#[tokio::test]
async fn a_transition_from_a_state_the_payment_has_left_is_refused_and_writes_nothing() {
    let (_dir, journal) = common::fresh().await;
    journal.create_payment(&common::ordered("P1", 1_000)).await.unwrap();
    let mut first = common::to("P1", 2_000, "PAY_SENT");
    first.expected_from = Some("ORDERED".into());
    journal.record_transition(&first).await.unwrap();
    // A second writer still believes the payment is ORDERED.
    let mut stale = common::to("P1", 3_000, "ABANDONED");
    stale.expected_from = Some("ORDERED".into());
    let error = journal.record_transition(&stale).await.unwrap_err();
    assert!(
        matches!(&error, JournalError::StaleState { expected, stored, .. } if expected == "ORDERED" && stored == "PAY_SENT"),
        "{error:?}"
    );
    let row = journal.get("P1").await.unwrap().unwrap();
    assert_eq!(row.state, "PAY_SENT");
    assert_eq!(journal.transitions("P1").await.unwrap().len(), 2);
    assert!(journal.verify_chain().await.unwrap().first_broken.is_none());
    // The journal goes on working after the refusal.
    let mut next = common::to("P1", 4_000, "PAY_PENDING");
    next.expected_from = Some("PAY_SENT".into());
    journal.record_transition(&next).await.unwrap();
}

/// A writer in another process (`yizhan recon`) whose copy is older than a state label can tell:
/// the payment went SUSPENSE → REVERSING → SUSPENSE meanwhile. Guarded by the seq it read, its
/// write is refused.
#[tokio::test]
async fn a_transition_from_an_older_copy_in_the_same_state_is_refused_by_its_seq() {
    let (_dir, journal) = common::fresh().await;
    journal.create_payment(&common::ordered("P1", 1_000)).await.unwrap();
    journal.record_transition(&common::to("P1", 2_000, "SUSPENSE")).await.unwrap();
    let read_at = journal.get("P1").await.unwrap().unwrap().last_seq;
    journal.record_transition(&common::to("P1", 3_000, "REVERSING")).await.unwrap();
    journal.record_transition(&common::to("P1", 4_000, "SUSPENSE")).await.unwrap();
    let mut stale = common::to("P1", 5_000, "DONE");
    stale.expected_from = Some("SUSPENSE".into());
    stale.expected_seq = Some(read_at);
    let error = journal.record_transition(&stale).await.unwrap_err();
    assert!(matches!(&error, JournalError::StaleState { stored, .. } if stored == "SUSPENSE"), "{error:?}");
    assert_eq!(journal.get("P1").await.unwrap().unwrap().state, "SUSPENSE");
    // Read again, the same write goes through.
    stale.expected_seq = Some(journal.get("P1").await.unwrap().unwrap().last_seq);
    journal.record_transition(&stale).await.unwrap();
    assert!(journal.verify_chain().await.unwrap().is_intact());
}
