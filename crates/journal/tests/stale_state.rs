//! Two writers never both move a payment out of the same state: a transition that names the
//! state it expects is refused, and writes nothing, when the journal holds another.

mod common;

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
